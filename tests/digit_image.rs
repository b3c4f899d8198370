//! Picture -> MNIST-style 28x28 input: position, size and colours do not matter; shape, side and
//! orientation do.

use std::path::Path;

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

fn max_abs_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
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

/// An axis-aligned rectangle: (left, top, width, height) in pixels.
type Rect = (usize, usize, usize, usize);

/// A `width` x `height` picture of `paper` with the rectangles filled with `ink`.
fn rectangles(width: usize, height: usize, paper: f32, ink: f32, rects: &[Rect]) -> GreyImage {
    let mut pixels = vec![paper; width * height];
    for &(left, top, w, h) in rects {
        for y in top..top + h {
            pixels[y * width + left..y * width + left + w].fill(ink);
        }
    }
    GreyImage {
        width,
        height,
        pixels,
    }
}

/// A 28x28 input that is exactly 1 inside the rectangles and 0 elsewhere.
fn expected_input(rects: &[Rect]) -> Vec<f32> {
    rectangles(SIDE, SIDE, 0.0, 1.0, rects).pixels
}

/// A 28x28 input as text, a line per row: `#` above 0.5, `+` fainter ink, `.` none.
fn show(input: &[f32]) -> String {
    input
        .chunks(SIDE)
        .map(|row| {
            row.iter()
                .map(|&v| match v {
                    v if v > 0.5 => '#',
                    v if v > 0.0 => '+',
                    _ => '.',
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_same_input(actual: &[f32], expected: &[f32], what: &str) {
    assert_eq!(actual.len(), SIDE * SIDE, "{what}");
    assert!(
        actual == expected,
        "{what}: got\n{}\nexpected\n{}",
        show(actual),
        show(expected)
    );
}

/// The smallest rectangle holding every value above `threshold`.
fn ink_box(input: &[f32], threshold: f32) -> Rect {
    let inked: Vec<(usize, usize)> = input
        .iter()
        .enumerate()
        .filter(|&(_, &v)| v > threshold)
        .map(|(i, _)| (i % SIDE, i / SIDE))
        .collect();
    assert!(!inked.is_empty(), "no value above {threshold}");
    let left = inked.iter().map(|p| p.0).min().unwrap();
    let right = inked.iter().map(|p| p.0).max().unwrap();
    let top = inked.iter().map(|p| p.1).min().unwrap();
    let bottom = inked.iter().map(|p| p.1).max().unwrap();
    (left, top, right - left + 1, bottom - top + 1)
}

/// The integer shift that centres the mass leaves it at most half a pixel from (14, 14).
fn assert_centred_by_mass(input: &[f32], what: &str) {
    let (cx, cy) = centre_of_mass(input);
    assert!(
        (cx - 14.0).abs() <= 0.501 && (cy - 14.0).abs() <= 0.501,
        "{what}: centre of mass ({cx}, {cy})\n{}",
        show(input)
    );
}

fn save_grey_png(picture: &GreyImage, path: &Path) {
    let bytes = picture
        .pixels
        .iter()
        .map(|v| (v * 255.0).round() as u8)
        .collect();
    image::GrayImage::from_raw(picture.width as u32, picture.height as u32, bytes)
        .unwrap()
        .save(path)
        .unwrap();
}

#[test]
fn a_wide_bar_with_a_mark_on_its_right_end_lands_exactly_where_computed() {
    // 300 wide and 80 high, light ink on black: a 200x20 bar and a 20x20 mark standing on its
    // right end. The ink spans 200x40, so it shrinks by exactly 10 to a 20x4 box whose rows 0-1
    // hold the mark (columns 18-19) and rows 2-3 the bar (all 20 columns). Mass 44, centre of
    // mass in the box (476/44, 124/44) = (10.82, 2.82): the box goes at
    // (round(14 - 10.82), round(14 - 2.82)) = (3, 11).
    let picture = rectangles(300, 80, 0.0, 1.0, &[(50, 40, 200, 20), (230, 20, 20, 20)]);
    let expected = expected_input(&[(21, 11, 2, 2), (3, 13, 20, 2)]);
    let input = digit_image::from_picture(&picture).unwrap();
    // shape, side and centre first, for a clear failure; then every pixel
    let (left, top, width, height) = ink_box(&input, 0.5);
    assert_eq!(
        (width, height),
        (20, 4),
        "wide stays wide\n{}",
        show(&input)
    );
    for y in top..top + 2 {
        let inked: Vec<usize> = (0..SIDE).filter(|&x| input[y * SIDE + x] > 0.5).collect();
        assert_eq!(
            inked,
            vec![left + 18, left + 19],
            "row {y}: the mark stays on top at the right end\n{}",
            show(&input)
        );
    }
    assert_centred_by_mass(&input, "300x80 picture");
    assert_same_input(&input, &expected, "300x80 picture");

    // the same through a PNG file: width and height must not be mixed up in loading
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.png");
    save_grey_png(&picture, &path);
    assert_same_input(
        &digit_image::from_file(&path).unwrap(),
        &expected,
        "wide.png",
    );
}

#[test]
fn a_tall_l_on_white_paper_lands_exactly_where_computed() {
    // 100 wide and 300 high, black ink on white: a 20x200 stem with a 20x20 foot to the right of
    // its bottom. The ink spans 40x200, so it shrinks by exactly 10 to a 4x20 box: columns 0-1
    // inked in all 20 rows, columns 2-3 in rows 18-19. Mass 44, centre of mass in the box
    // (52/44, 476/44) = (1.18, 10.82): the box goes at (round(12.82), round(3.18)) = (13, 3).
    let picture = rectangles(100, 300, 1.0, 0.0, &[(30, 50, 20, 200), (50, 230, 20, 20)]);
    let expected = expected_input(&[(13, 3, 2, 20), (15, 21, 2, 2)]);
    let input = digit_image::from_picture(&picture).unwrap();
    let (left, top, width, height) = ink_box(&input, 0.5);
    assert_eq!(
        (width, height),
        (4, 20),
        "tall stays tall\n{}",
        show(&input)
    );
    for y in top..top + height {
        let inked: Vec<usize> = (0..SIDE).filter(|&x| input[y * SIDE + x] > 0.5).collect();
        let expected_row = if y >= top + 18 {
            vec![left, left + 1, left + 2, left + 3]
        } else {
            vec![left, left + 1]
        };
        assert_eq!(
            inked,
            expected_row,
            "row {y}: the stem on the left, the foot at the bottom right\n{}",
            show(&input)
        );
    }
    assert_centred_by_mass(&input, "100x300 picture");
    assert_same_input(&input, &expected, "100x300 picture");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tall.png");
    save_grey_png(&picture, &path);
    assert_same_input(
        &digit_image::from_file(&path).unwrap(),
        &expected,
        "tall.png",
    );
}

#[test]
fn solid_rectangles_keep_their_aspect_ratio() {
    // (ink width, ink height) -> the box it fills: the longer side becomes 20, the other
    // round(20 * shorter / longer), at least 1
    let cases = [
        ((200, 50), (20, 5)),
        ((50, 200), (5, 20)),
        ((90, 30), (20, 7)),
        ((30, 90), (7, 20)),
        ((160, 96), (20, 12)),
        ((96, 160), (12, 20)),
        ((13, 130), (2, 20)),
        ((130, 13), (20, 2)),
        ((7, 150), (1, 20)),
        ((150, 7), (20, 1)),
    ];
    for ((w, h), (box_w, box_h)) in cases {
        let picture = rectangles(w + 40, h + 30, 0.0, 1.0, &[(17, 9, w, h)]);
        let input = digit_image::from_picture(&picture).unwrap();
        let what = format!("{w}x{h} rectangle");
        let (left, top, width, height) = ink_box(&input, 0.0);
        assert_eq!((width, height), (box_w, box_h), "{what}\n{}", show(&input));
        // solid: every pixel of the box is fully inked (area averages of pure ink)
        for y in top..top + height {
            for x in left..left + width {
                let v = input[y * SIDE + x];
                assert!((0.999..=1.0).contains(&v), "{what}: ({x}, {y}) = {v}");
            }
        }
        assert_centred_by_mass(&input, &what);
    }
}

/// How much of each pixel of a `width` x `height` picture an anti-aliased "7" covers, 0..=255:
/// thick strokes with a soft edge one pixel wide.
fn seven_coverage(width: usize, height: usize, left: f32, top: f32, size: f32) -> Vec<u8> {
    let strokes = [
        ((0.1, 0.1), (0.9, 0.1)),
        ((0.9, 0.1), (0.35, 0.95)),
        ((0.4, 0.5), (0.8, 0.5)),
    ];
    let radius = size * 0.07;
    let mut coverage = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let distance = strokes
                .iter()
                .map(|&((x0, y0), (x1, y1))| {
                    let (ax, ay) = (left + x0 * size, top + y0 * size);
                    let (bx, by) = (left + x1 * size, top + y1 * size);
                    let (dx, dy) = (bx - ax, by - ay);
                    let t =
                        (((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
                    ((px - ax - t * dx).powi(2) + (py - ay - t * dy).powi(2)).sqrt()
                })
                .fold(f32::INFINITY, f32::min);
            let covered = (radius + 0.5 - distance).clamp(0.0, 1.0);
            coverage.push((covered * 255.0).round() as u8);
        }
    }
    coverage
}

/// Size of the pictures `seven_coverage` is drawn on in the colour tests (not square).
const COLOUR_W: u32 = 72;
const COLOUR_H: u32 = 56;

fn colour_test_seven() -> Vec<u8> {
    let coverage = seven_coverage(COLOUR_W as usize, COLOUR_H as usize, 14.0, 6.0, 44.0);
    assert!(
        coverage.iter().any(|&a| a > 0 && a < 255) && coverage.contains(&255),
        "the strokes have a solid core and anti-aliased edges"
    );
    coverage
}

/// The input from a greyscale PNG of black ink (the coverage) on white paper.
fn grey_png_input(coverage: &[u8], dir: &Path) -> Vec<f32> {
    let path = dir.join("grey.png");
    image::GrayImage::from_raw(
        COLOUR_W,
        COLOUR_H,
        coverage.iter().map(|&a| 255 - a).collect(),
    )
    .unwrap()
    .save(&path)
    .unwrap();
    digit_image::from_file(&path).unwrap()
}

#[test]
fn grey_rgb_and_rgba_pngs_of_the_same_digit_give_the_same_input() {
    let coverage = colour_test_seven();
    let dir = tempfile::tempdir().unwrap();
    let expected = grey_png_input(&coverage, dir.path());
    // the same greys stored as RGB
    let rgb = dir.path().join("rgb.png");
    image::RgbImage::from_raw(
        COLOUR_W,
        COLOUR_H,
        coverage.iter().flat_map(|&a| [255 - a; 3]).collect(),
    )
    .unwrap()
    .save(&rgb)
    .unwrap();
    // black ink whose alpha is the coverage over transparent black, as drawing apps export: the
    // transparent pixels are paper (seen over white), not black ink
    let rgba = dir.path().join("rgba.png");
    image::RgbaImage::from_raw(
        COLOUR_W,
        COLOUR_H,
        coverage.iter().flat_map(|&a| [0, 0, 0, a]).collect(),
    )
    .unwrap()
    .save(&rgba)
    .unwrap();
    // The files hold the same bytes of grey; only rounding in the colour arithmetic (~1e-7 per
    // pixel) may differ.
    for path in [rgb, rgba] {
        let input =
            digit_image::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let difference = max_abs_difference(&input, &expected);
        assert!(
            difference <= 1e-4,
            "{}: max difference {difference}\n{}\nexpected\n{}",
            path.display(),
            show(&input),
            show(&expected)
        );
    }
}

#[test]
fn dark_blue_ink_on_cream_paper_reads_exactly_like_black_on_white() {
    // without anti-aliasing every ink pixel has the same colour, so after background removal and
    // stretching both pictures are exactly 0 and 1
    let solid: Vec<u8> = colour_test_seven()
        .iter()
        .map(|&a| if a >= 128 { 255 } else { 0 })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let expected = grey_png_input(&solid, dir.path());
    let (ink, paper) = ([20, 40, 140], [250, 240, 215]);
    let path = dir.path().join("blue-on-cream.png");
    image::RgbImage::from_raw(
        COLOUR_W,
        COLOUR_H,
        solid
            .iter()
            .flat_map(|&a| if a == 255 { ink } else { paper })
            .collect(),
    )
    .unwrap()
    .save(&path)
    .unwrap();
    let input = digit_image::from_file(&path).unwrap();
    assert_same_input(&input, &expected, "blue ink on cream paper");
}

/// Dark-themed drawing apps export white strokes over a transparent background: the digit is
/// only in the alpha channel, and seen over white paper it would vanish.
#[test]
fn white_ink_on_a_transparent_background_is_read_as_ink() {
    let coverage = colour_test_seven();
    let dir = tempfile::tempdir().unwrap();
    let expected = grey_png_input(&coverage, dir.path());
    let path = dir.path().join("white-on-transparent.png");
    image::RgbaImage::from_raw(
        COLOUR_W,
        COLOUR_H,
        coverage.iter().flat_map(|&a| [255, 255, 255, a]).collect(),
    )
    .unwrap()
    .save(&path)
    .unwrap();
    let input = digit_image::from_file(&path)
        .unwrap_or_else(|e| panic!("white strokes over transparency: {e}"));
    let difference = max_abs_difference(&input, &expected);
    assert!(
        difference <= 1e-4,
        "max difference {difference}\n{}\nexpected\n{}",
        show(&input),
        show(&expected)
    );
}

/// The start of a PNG declaring a `width` x `height` grey picture, with no pixels after it.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut chunk = b"IHDR".to_vec();
    chunk.extend(width.to_be_bytes());
    chunk.extend(height.to_be_bytes());
    chunk.extend([8, 0, 0, 0, 0]); // 8 bits, grey, deflate, no filter, no interlace
    let mut crc = flate2::Crc::new();
    crc.update(&chunk);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(13u32.to_be_bytes());
    png.extend(&chunk);
    png.extend(crc.sum().to_be_bytes());
    png
}

#[test]
fn a_picture_too_large_is_refused_from_its_header_with_the_limit() {
    let error = digit_image::decode(&png_header(20_000, 300), Path::new("wide.png"))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(
            "wide.png: cannot read the image: the picture is too large to read as a digit (at \
             most 10000 pixels on a side"
        ),
        "{error}"
    );
    // found by the fuzzer: a JPEG declaring 8220 x 8732 pixels asked for 1.1 GB
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz/picture-72-megapixel-jpeg.bin");
    let jpeg = std::fs::read(&path).expect("the fixture");
    let error = digit_image::decode(&jpeg, Path::new("big.jpg"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "big.jpg: cannot read the image: the picture has 72 megapixels, more than the 50 a digit \
         is read from"
    );
}
