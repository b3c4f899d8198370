//! The measured check of the drawing pipeline: every test-split MNIST digit is enlarged (3.5x to
//! 5.5x), pasted off-centre onto a 200x200 picture, once as light ink on dark and once as dark
//! ink on light paper, and classified through `digit_image::from_picture`, the pipeline that
//! `backprop-lab classify` and the drawing canvas use. Prints the accuracy on the plain 28x28
//! test images next to the accuracy on the pasted pictures.
//!
//! cargo run --release --example pasted_digits -- MODEL.json [SAMPLES_DIR]
//! (SAMPLES_DIR, if given, receives the first five pasted pictures of each kind as PNG files.)

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use backprop_lab::data::digit_image::{self, GreyImage, SIDE};
use backprop_lab::data::mnist;
use backprop_lab::io::ModelFile;
use backprop_lab::nn::{predicted_class, seeded_rng};
use ndarray::{Array1, Axis};
use rand::Rng;

const CANVAS: usize = 200;

/// The 28x28 digit (ink in [0, 1]) scaled by `scale` (bilinear) at (`left`, `top`) of a canvas.
fn paste(digit: &[f32], scale: f32, left: usize, top: usize, dark_on_light: bool) -> GreyImage {
    let size = (SIDE as f32 * scale).round() as usize;
    let sample = |x: f32, y: f32| {
        let (x, y) = (
            x.clamp(0.0, (SIDE - 1) as f32),
            y.clamp(0.0, (SIDE - 1) as f32),
        );
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(SIDE - 1), (y0 + 1).min(SIDE - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let at = |x: usize, y: usize| digit[y * SIDE + x];
        (at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx) * (1.0 - fy)
            + (at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx) * fy
    };
    let mut ink = vec![0.0f32; CANVAS * CANVAS];
    for y in 0..size {
        for x in 0..size {
            let value = sample(
                (x as f32 + 0.5) / scale - 0.5,
                (y as f32 + 0.5) / scale - 0.5,
            );
            ink[(top + y) * CANVAS + left + x] = value;
        }
    }
    let pixels = ink
        .iter()
        .map(|&v| {
            if dark_on_light {
                0.92 - 0.8 * v // grey-white paper, dark ink
            } else {
                0.08 + 0.85 * v // dark board, light chalk
            }
        })
        .collect();
    GreyImage {
        width: CANVAS,
        height: CANVAS,
        pixels,
    }
}

fn save(image: &GreyImage, path: &std::path::Path) -> Result<()> {
    let bytes: Vec<u8> = image
        .pixels
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect();
    image::GrayImage::from_raw(image.width as u32, image.height as u32, bytes)
        .context("picture size")?
        .save(path)
        .with_context(|| format!("writing {}", path.display()))
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(model) = args.next().map(PathBuf::from) else {
        bail!("usage: pasted_digits MODEL.json [SAMPLES_DIR]");
    };
    let samples = args.next().map(PathBuf::from);
    let (mut network, _) = ModelFile::load(&model)?;
    let test = mnist::embedded_subset()?.test;
    let plain = network.predict(test.inputs.view())?;
    let plain_right = plain
        .rows()
        .into_iter()
        .zip(&test.labels)
        .filter(|(row, label)| predicted_class(*row) == **label)
        .count();

    let mut rng = seeded_rng(7);
    let mut right = [0usize; 2];
    for (i, (row, &label)) in test.inputs.rows().into_iter().zip(&test.labels).enumerate() {
        let digit = row.to_vec();
        for (k, dark_on_light) in [false, true].into_iter().enumerate() {
            let scale = rng.random_range(3.5..5.5f32);
            let size = (SIDE as f32 * scale).round() as usize;
            let left = rng.random_range(0..=CANVAS - size);
            let top = rng.random_range(0..=CANVAS - size);
            let picture = paste(&digit, scale, left, top, dark_on_light);
            if let Some(dir) = &samples
                && i < 5
            {
                std::fs::create_dir_all(dir)?;
                let scheme = if dark_on_light {
                    "dark-on-light"
                } else {
                    "light-on-dark"
                };
                save(
                    &picture,
                    &dir.join(format!("{i}-{scheme}-label{label}.png")),
                )?;
            }
            let input = digit_image::from_picture(&picture)?;
            let x = Array1::from(input).insert_axis(Axis(0));
            let output = network.predict(x.view())?;
            if predicted_class(output.row(0)) == label {
                right[k] += 1;
            }
        }
    }
    let n = test.len() as f64;
    let percent = |r: usize| 100.0 * r as f64 / n;
    println!("model: {}", model.display());
    println!(
        "plain 28x28 test images:          {:.2}% ({plain_right}/{})",
        percent(plain_right),
        test.len()
    );
    println!(
        "pasted, light ink on dark:        {:.2}% ({}/{})",
        percent(right[0]),
        right[0],
        test.len()
    );
    println!(
        "pasted, dark ink on light paper:  {:.2}% ({}/{})",
        percent(right[1]),
        right[1],
        test.len()
    );
    Ok(())
}
