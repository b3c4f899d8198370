//! Picture -> MNIST-style 28x28 input: position, size and colours do not matter.

use backprop_lab::data::DataError;
use backprop_lab::data::digit_image::{self, GreyImage, SIDE};

/// A "7" with a crossbar, drawn as thick strokes: unit coordinates scaled into a box of
/// `size` pixels at (`left`, `top`) on a `canvas` x `canvas` picture; ink is 1, paper 0.
fn seven(canvas: usize, left: f32, top: f32, size: f32) -> GreyImage {
    let strokes = [
        ((0.1, 0.1), (0.9, 0.1)),
        ((0.9, 0.1), (0.35, 0.95)),
        ((0.4, 0.5), (0.8, 0.5)),
    ];
    let radius = size * 0.06;
    let mut pixels = vec![0.0; canvas * canvas];
    for y in 0..canvas {
        for x in 0..canvas {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            for &((x0, y0), (x1, y1)) in &strokes {
                let (ax, ay) = (left + x0 * size, top + y0 * size);
                let (bx, by) = (left + x1 * size, top + y1 * size);
                let (dx, dy) = (bx - ax, by - ay);
                let t = (((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                let distance = ((px - ax - t * dx).powi(2) + (py - ay - t * dy).powi(2)).sqrt();
                if distance <= radius {
                    pixels[y * canvas + x] = 1.0;
                }
            }
        }
    }
    GreyImage {
        width: canvas,
        height: canvas,
        pixels,
    }
}

fn inverted(image: &GreyImage) -> GreyImage {
    GreyImage {
        pixels: image.pixels.iter().map(|v| 1.0 - v).collect(),
        ..image.clone()
    }
}

fn mean_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(a, b)| (a - b).abs()).sum::<f32>() / a.len() as f32
}

fn centre_of_mass(input: &[f32]) -> (f32, f32) {
    let mass: f32 = input.iter().sum();
    let (mut cx, mut cy) = (0.0, 0.0);
    for (i, v) in input.iter().enumerate() {
        cx += v * ((i % SIDE) as f32 + 0.5);
        cy += v * ((i / SIDE) as f32 + 0.5);
    }
    (cx / mass, cy / mass)
}

#[test]
fn small_in_a_corner_and_large_in_the_middle_give_nearly_the_same_input() {
    let small = digit_image::from_picture(&seven(300, 10.0, 12.0, 60.0)).unwrap();
    let large = digit_image::from_picture(&seven(300, 40.0, 30.0, 220.0)).unwrap();
    assert_eq!(small.len(), SIDE * SIDE);
    let difference = mean_abs_difference(&small, &large);
    assert!(difference < 0.03, "mean difference {difference}");
    // both are centred by mass and fill the 20-pixel box
    for input in [&small, &large] {
        let (cx, cy) = centre_of_mass(input);
        assert!(
            (cx - 14.0).abs() <= 0.75 && (cy - 14.0).abs() <= 0.75,
            "centre ({cx}, {cy})"
        );
        let rows: Vec<usize> = (0..SIDE)
            .filter(|y| (0..SIDE).any(|x| input[y * SIDE + x] > 0.05))
            .collect();
        assert!(
            rows.len() >= 19 && rows.len() <= 21,
            "{} inked rows",
            rows.len()
        );
        assert!(input.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

#[test]
fn dark_on_light_and_light_on_dark_give_the_same_input() {
    let light_on_dark = seven(120, 20.0, 15.0, 80.0);
    let dark_on_light = inverted(&light_on_dark);
    let a = digit_image::from_picture(&light_on_dark).unwrap();
    let b = digit_image::from_picture(&dark_on_light).unwrap();
    assert!(mean_abs_difference(&a, &b) < 1e-6);
}

#[test]
fn grey_paper_and_grey_ink_are_stretched_to_the_full_range() {
    let mut photo = inverted(&seven(120, 20.0, 15.0, 80.0));
    // ink at 0.3, paper at 0.8, as a phone photo of pencil on paper
    photo.pixels.iter_mut().for_each(|v| *v = 0.3 + 0.5 * *v);
    let input = digit_image::from_picture(&photo).unwrap();
    let clean = digit_image::from_picture(&seven(120, 20.0, 15.0, 80.0)).unwrap();
    assert!(mean_abs_difference(&input, &clean) < 1e-5);
}

#[test]
fn a_blank_picture_is_an_error_not_a_guess() {
    let blank = GreyImage {
        width: 50,
        height: 40,
        pixels: vec![0.93; 2000],
    };
    assert!(matches!(
        digit_image::from_picture(&blank),
        Err(DataError::Blank)
    ));
}

#[test]
fn png_and_jpeg_files_load_and_a_corrupt_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let picture = inverted(&seven(64, 8.0, 6.0, 48.0));
    let bytes: Vec<u8> = picture
        .pixels
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect();
    let grey = image::GrayImage::from_raw(64, 64, bytes).unwrap();
    let expected = digit_image::from_picture(&picture).unwrap();
    for name in ["seven.png", "seven.jpg"] {
        let path = dir.path().join(name);
        grey.save(&path).unwrap();
        let input = digit_image::from_file(&path).unwrap();
        let difference = mean_abs_difference(&input, &expected);
        assert!(difference < 0.02, "{name}: {difference}");
    }
    let corrupt = dir.path().join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let error = digit_image::from_file(&corrupt).unwrap_err().to_string();
    assert!(error.contains("corrupt.png"), "{error}");
}
