//! Any picture of a digit -> the 28x28 input MNIST was made of: crop to the ink, scale to fit
//! 20x20 keeping the aspect ratio (area-averaged, so anti-aliased), and place in 28x28 with the
//! centre of mass in the middle. The drawing canvas and `backprop-lab classify` both use it.

use std::path::Path;

use super::DataError;

/// Side of the network input.
pub const SIDE: usize = 28;
/// Side of the box the digit is scaled to fit.
pub const BOX: usize = 20;
/// Ink below this (after background removal) does not count for the crop: it is anti-aliasing,
/// paper texture or compression noise.
const CROP_THRESHOLD: f32 = 0.15;

/// A grey picture, row-major, [height * width], values in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct GreyImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<f32>,
}

impl GreyImage {
    fn pixel(&self, x: usize, y: usize) -> f32 {
        self.pixels[y * self.width + x]
    }
}

/// The widest or tallest picture read, in pixels: a 48-megapixel phone photo is 8000 wide.
/// Larger ones are refused from their header, before their pixels are decoded.
pub const MAX_SIDE: u32 = 10_000;
/// The most pixels a picture may have (a 48-megapixel photo fits).
pub const MAX_PIXELS: usize = 50_000_000;
/// The most memory decoding a picture may take: 50 megapixels of RGB, 8 bits a channel, fit.
const MAX_DECODED_BYTES: u64 = 256 << 20;

/// Reads a PNG or JPEG file (any size up to [`MAX_SIDE`], colour or grey) as luminance in [0, 1].
pub fn load(path: &Path) -> Result<GreyImage, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::Image {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    decode(&bytes, path)
}

/// Decodes PNG or JPEG `bytes` (named `path` in messages) as luminance in [0, 1]. Transparent
/// pixels are seen over paper that contrasts with the opaque ones: white behind dark strokes,
/// black behind light strokes (a drawing exported from a dark theme has its digit only in alpha).
pub fn decode(bytes: &[u8], path: &Path) -> Result<GreyImage, DataError> {
    let refuse = |reason: String| DataError::Image {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| refuse(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => refuse(format!(
            "the picture is too large to read as a digit (at most {MAX_SIDE} pixels on a side \
             and {} megapixels)",
            MAX_PIXELS / 1_000_000
        )),
        e => refuse(e.to_string()),
    })?;
    let (width, height) = (image.width() as usize, image.height() as usize);
    if width * height > MAX_PIXELS {
        return Err(refuse(format!(
            "the picture has {:.0} megapixels, more than the {} a digit is read from",
            (width * height) as f64 / 1e6,
            MAX_PIXELS / 1_000_000
        )));
    }
    // 16-bit pictures as 16 bits, the rest as 8
    let pixels = if image.color().bytes_per_pixel() / image.color().channel_count() == 1 {
        over_paper(image.to_rgba8().as_raw(), 255.0)
    } else {
        over_paper(image.to_rgba16().as_raw(), 65535.0)
    };
    Ok(GreyImage {
        width,
        height,
        pixels,
    })
}

/// Luminance in [0, 1] of RGBA `samples` (each at most `max`), over paper that contrasts with
/// the opaque pixels.
fn over_paper<T: Copy + Into<f32>>(samples: &[T], max: f32) -> Vec<f32> {
    let pixel = |p: &[T]| {
        let [r, g, b, a] = [0, 1, 2, 3].map(|i| p[i].into() / max);
        (0.299 * r + 0.587 * g + 0.114 * b, a)
    };
    let (weighted, opacity) = samples
        .chunks_exact(4)
        .fold((0.0f64, 0.0f64), |(sum, alpha), p| {
            let (luminance, a) = pixel(p);
            let a = f64::from(a);
            (sum + a * f64::from(luminance), alpha + a)
        });
    let paper = if opacity > 0.0 && weighted / opacity > 0.5 {
        0.0
    } else {
        1.0
    };
    samples
        .chunks_exact(4)
        .map(|p| {
            let (luminance, a) = pixel(p);
            a * luminance + (1.0 - a) * paper
        })
        .collect()
}

/// How much ink each pixel holds, in [0, 1], whatever the colours: the background is the median
/// of the border pixels; when it is light the picture is dark ink on light paper and is inverted;
/// then the background level maps to 0 and the strongest ink to 1.
pub fn ink(image: &GreyImage) -> Result<GreyImage, DataError> {
    if image.width == 0 || image.height == 0 || image.pixels.len() != image.width * image.height {
        return Err(DataError::Invalid(format!(
            "an image of {}x{} with {} pixels",
            image.width,
            image.height,
            image.pixels.len()
        )));
    }
    let (w, h) = (image.width, image.height);
    let mut border: Vec<f32> = (0..w)
        .flat_map(|x| [image.pixel(x, 0), image.pixel(x, h - 1)])
        .chain((0..h).flat_map(|y| [image.pixel(0, y), image.pixel(w - 1, y)]))
        .collect();
    border.sort_by(f32::total_cmp);
    let background = border[border.len() / 2];
    let light_paper = background > 0.5;
    let raw = |v: f32| if light_paper { 1.0 - v } else { v };
    let floor = raw(background);
    let peak = image.pixels.iter().map(|&v| raw(v)).fold(0.0f32, f32::max);
    let contrast = peak - floor;
    if contrast.is_nan() || contrast <= 0.1 {
        return Err(DataError::Blank);
    }
    Ok(GreyImage {
        width: w,
        height: h,
        pixels: image
            .pixels
            .iter()
            .map(|&v| ((raw(v) - floor) / (peak - floor)).clamp(0.0, 1.0))
            .collect(),
    })
}

/// Resamples `src` ([src_len] per line) to `dst_len` values by averaging the area each output
/// value covers: an exact box filter, anti-aliased when shrinking.
fn resample_line(src: &[f32], dst_len: usize) -> Vec<f32> {
    let scale = src.len() as f32 / dst_len as f32;
    (0..dst_len)
        .map(|o| {
            let (start, end) = (o as f32 * scale, (o + 1) as f32 * scale);
            let mut sum = 0.0;
            let mut i = start.floor() as usize;
            while (i as f32) < end && i < src.len() {
                let overlap = (end.min(i as f32 + 1.0) - start.max(i as f32)).max(0.0);
                sum += src[i] * overlap;
                i += 1;
            }
            sum / scale
        })
        .collect()
}

/// Area resampling of a [h * w] image to [new_h * new_w], rows then columns.
fn resample(pixels: &[f32], w: usize, h: usize, new_w: usize, new_h: usize) -> Vec<f32> {
    let rows: Vec<f32> = pixels
        .chunks_exact(w)
        .flat_map(|row| resample_line(row, new_w))
        .collect();
    let mut out = vec![0.0; new_w * new_h];
    for x in 0..new_w {
        let column: Vec<f32> = (0..h).map(|y| rows[y * new_w + x]).collect();
        for (y, v) in resample_line(&column, new_h).into_iter().enumerate() {
            out[y * new_w + x] = v;
        }
    }
    out
}

/// Ink map (light on dark, [0, 1]) -> the MNIST-style input [28 * 28], row-major, in [0, 1].
pub fn mnist_input(ink: &GreyImage) -> Result<Vec<f32>, DataError> {
    let (w, h) = (ink.width, ink.height);
    let inked = |x: usize, y: usize| ink.pixel(x, y) > CROP_THRESHOLD;
    let columns: Vec<usize> = (0..w).filter(|&x| (0..h).any(|y| inked(x, y))).collect();
    let rows: Vec<usize> = (0..h).filter(|&y| (0..w).any(|x| inked(x, y))).collect();
    let (Some(&x0), Some(&x1), Some(&y0), Some(&y1)) =
        (columns.first(), columns.last(), rows.first(), rows.last())
    else {
        return Err(DataError::Blank);
    };
    let (crop_w, crop_h) = (x1 - x0 + 1, y1 - y0 + 1);
    let cropped: Vec<f32> = (y0..=y1)
        .flat_map(|y| (x0..=x1).map(move |x| ink.pixel(x, y)))
        .collect();

    let longest = crop_w.max(crop_h) as f32;
    let box_w = ((crop_w as f32 * BOX as f32 / longest).round() as usize).clamp(1, BOX);
    let box_h = ((crop_h as f32 * BOX as f32 / longest).round() as usize).clamp(1, BOX);
    let mut digit = resample(&cropped, crop_w, crop_h, box_w, box_h);
    let peak = digit.iter().copied().fold(0.0f32, f32::max);
    if peak <= 0.0 {
        return Err(DataError::Blank);
    }
    digit.iter_mut().for_each(|v| *v /= peak);

    // Centre of mass (pixel centres), then the integer shift that puts it at the middle.
    let mass: f32 = digit.iter().sum();
    let (mut cx, mut cy) = (0.0, 0.0);
    for (i, &v) in digit.iter().enumerate() {
        cx += v * ((i % box_w) as f32 + 0.5);
        cy += v * ((i / box_w) as f32 + 0.5);
    }
    let half = SIDE as f32 / 2.0;
    let left = ((half - cx / mass).round() as isize).clamp(0, (SIDE - box_w) as isize) as usize;
    let top = ((half - cy / mass).round() as isize).clamp(0, (SIDE - box_h) as isize) as usize;

    let mut out = vec![0.0; SIDE * SIDE];
    for y in 0..box_h {
        let start = (top + y) * SIDE + left;
        out[start..start + box_w].copy_from_slice(&digit[y * box_w..(y + 1) * box_w]);
    }
    Ok(out)
}

/// The whole pipeline for a picture: ink detection, then [`mnist_input`].
pub fn from_picture(image: &GreyImage) -> Result<Vec<f32>, DataError> {
    mnist_input(&ink(image)?)
}

/// Reads an image file and turns it into the MNIST-style input [28 * 28].
pub fn from_file(path: &Path) -> Result<Vec<f32>, DataError> {
    from_picture(&load(path)?)
}
