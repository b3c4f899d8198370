//! Pictures of numbers: value grids turned into textures (kept until their data changes), the
//! colour bar that says what the colours mean, and where the pointer is on such a picture.

use egui::{Color32, ColorImage, ImageData, Pos2, Rect, TextureHandle, TextureOptions, Ui, Vec2};

use crate::ui::palette;

/// A texture rebuilt only when its key changes (a new snapshot, another mode).
pub struct CachedTexture<K> {
    name: &'static str,
    entry: Option<(K, TextureHandle)>,
}

impl<K: PartialEq> CachedTexture<K> {
    pub const fn new(name: &'static str) -> Self {
        Self { name, entry: None }
    }

    /// The texture for `key`, made by `make` if the key changed.
    pub fn get<I: Into<ImageData>>(
        &mut self,
        ui: &Ui,
        key: K,
        options: TextureOptions,
        make: impl FnOnce() -> I,
    ) -> &TextureHandle {
        match &mut self.entry {
            Some((cached, _)) if *cached == key => {}
            Some((cached, handle)) => {
                handle.set(make(), options);
                *cached = key;
            }
            None => {
                let handle = ui.ctx().load_texture(self.name, make(), options);
                self.entry = Some((key, handle));
            }
        }
        &self.entry.as_ref().expect("filled just above").1
    }
}

/// The largest |value|, the half-width of a symmetric colour scale (never 0).
pub fn symmetric_range<'a>(values: impl IntoIterator<Item = &'a f32>) -> f32 {
    let max = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 { max } else { 1.0 }
}

/// The 99.5th percentile of |value|: a colour range that one outlier cannot wash out (values
/// beyond it take the end colours). Never 0.
pub fn robust_range<'a>(values: impl IntoIterator<Item = &'a f32>) -> f32 {
    let mut magnitudes: Vec<f32> = values
        .into_iter()
        .filter(|v| v.is_finite())
        .map(|v| v.abs())
        .collect();
    if magnitudes.is_empty() {
        return 1.0;
    }
    let rank = ((magnitudes.len() - 1) as f32 * 0.995).round() as usize;
    let (_, &mut at, _) = magnitudes.select_nth_unstable_by(rank, f32::total_cmp);
    if at > 0.0 {
        at
    } else {
        symmetric_range(&magnitudes)
    }
}

/// How values map to colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// Diverging, centred on zero, from -max to +max.
    Symmetric(f32),
    /// Sequential, from 0 to max.
    Positive(f32),
}

impl Scale {
    /// Symmetric if any value is negative, else positive; the range is the largest |value|.
    pub fn fitting<'a>(values: impl IntoIterator<Item = &'a f32> + Clone) -> Self {
        let max = symmetric_range(values.clone());
        if values.into_iter().any(|&v| v < 0.0) {
            Scale::Symmetric(max)
        } else {
            Scale::Positive(max)
        }
    }

    pub fn color(self, value: f32) -> Color32 {
        match self {
            Scale::Symmetric(max) => palette::diverging(value / max),
            Scale::Positive(max) => palette::sequential(value / max),
        }
    }

    fn range(self) -> (f32, f32) {
        match self {
            Scale::Symmetric(max) => (-max, max),
            Scale::Positive(max) => (0.0, max),
        }
    }
}

/// A `width` x `height` picture of `values` (row-major).
pub fn image(values: &[f32], width: usize, height: usize, scale: Scale) -> ColorImage {
    let pixels = values.iter().map(|&v| scale.color(v)).collect();
    ColorImage::new([width, height], pixels)
}

/// The width a colour bar takes: the bar and its labels.
pub const COLOR_BAR_WIDTH: f32 = 62.0;
/// The bar's own width inside it, and the space between the bar and its labels.
const BAR_WIDTH: f32 = 12.0;
const BAR_LABEL_GAP: f32 = 4.0;

/// Draws a vertical colour bar with its top, middle and bottom values, `height` tall and
/// [`COLOR_BAR_WIDTH`] wide; its labels stay inside that rect.
pub fn color_bar(ui: &mut Ui, scale: Scale, height: f32) {
    let height = height.max(0.0);
    let (rect, _) =
        ui.allocate_exact_size(Vec2::new(COLOR_BAR_WIDTH, height), egui::Sense::hover());
    let bar = Rect::from_min_size(
        rect.min + Vec2::new(0.0, 6.0),
        Vec2::new(BAR_WIDTH, (height - 12.0).max(0.0)),
    );
    let painter = ui.painter_at(rect);
    let steps = 64;
    let (low, high) = scale.range();
    for i in 0..steps {
        let t0 = i as f32 / steps as f32;
        let t1 = (i + 1) as f32 / steps as f32;
        let value = high - (high - low) * (t0 + t1) / 2.0;
        let slice = Rect::from_x_y_ranges(
            bar.x_range(),
            bar.top() + bar.height() * t0..=bar.top() + bar.height() * t1,
        );
        painter.rect_filled(slice, 0.0, scale.color(value));
    }
    let text = ui.visuals().text_color();
    let font = palette::label_font(ui.ctx(), 12.0);
    let galleys = [high, (high + low) / 2.0, low]
        .map(|value| painter.layout_no_wrap(short_value(value), font.clone(), text));
    let sizes = [0, 1, 2].map(|k| galleys[k].size());
    for (galley, place) in galleys.into_iter().zip(bar_label_rects(rect, bar, sizes)) {
        if let Some(place) = place {
            painter.galley(place.min, galley, text);
        }
    }
}

/// Where a colour bar's three labels (top, middle and bottom values, of `sizes`) go: beside
/// `bar` at its top, middle and bottom, each moved inside `rect`; the bottom label is left out
/// when it would overlap the top one, and the middle one when it would overlap either.
pub fn bar_label_rects(rect: Rect, bar: Rect, sizes: [Vec2; 3]) -> [Option<Rect>; 3] {
    let [top, middle, bottom] = [
        (bar.top(), sizes[0]),
        (bar.center().y, sizes[1]),
        (bar.bottom(), sizes[2]),
    ]
    .map(|(y, size)| {
        let x = (bar.right() + BAR_LABEL_GAP)
            .min(rect.right() - size.x)
            .max(rect.left());
        let y = (y - size.y / 2.0)
            .min(rect.bottom() - size.y)
            .max(rect.top());
        Rect::from_min_size(Pos2::new(x, y), size)
    });
    let bottom = (!bottom.intersects(top)).then_some(bottom);
    let middle =
        (!middle.intersects(top) && bottom.is_none_or(|b| !middle.intersects(b))).then_some(middle);
    [Some(top), middle, bottom]
}

/// The size of `text` in `font`, as `painter` would draw it on one line.
pub fn text_size(painter: &egui::Painter, text: &str, font: &egui::FontId) -> Vec2 {
    painter
        .layout_no_wrap(text.to_owned(), font.clone(), Color32::PLACEHOLDER)
        .size()
}

/// A number exactly enough for a tooltip or a readout.
pub fn format_value(value: f32) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&magnitude) {
        format!("{value:.2e}")
    } else {
        format!("{value:.4}")
    }
}

/// A number in three significant digits at most, for labels with little room: 253, -0.5,
/// 0.0123, 1.2e-5, 4.6e4.
pub fn short_value(value: f32) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let value = f64::from(value);
    // decimals that keep three significant digits
    let decimals = 2 - value.abs().log10().floor() as i32;
    let scale = 10f64.powi(decimals);
    let rounded = (value * scale).round() / scale;
    if (1e-2..1e4).contains(&rounded.abs()) {
        let places = decimals.max(0) as usize;
        let fixed = format!("{rounded:.places$}");
        without_trailing_zeros(&fixed).to_string()
    } else {
        let scientific = format!("{value:.1e}");
        match scientific.split_once('e') {
            Some((mantissa, exponent)) => {
                format!("{}e{exponent}", without_trailing_zeros(mantissa))
            }
            None => scientific,
        }
    }
}

/// "1.50" -> "1.5", "2.00" -> "2"; a number without a decimal point stays as it is.
fn without_trailing_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

/// `n` with its noun in the right number: "1 unit", "4 units", "0 units".
pub fn counted(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The (column, row) of a `columns` x `rows` grid drawn in `rect` under `position`.
pub fn cell_at(rect: Rect, columns: usize, rows: usize, position: Pos2) -> Option<(usize, usize)> {
    if !rect.contains(position) || columns == 0 || rows == 0 {
        return None;
    }
    let x = ((position.x - rect.left()) / rect.width() * columns as f32) as usize;
    let y = ((position.y - rect.top()) / rect.height() * rows as f32) as usize;
    Some((x.min(columns - 1), y.min(rows - 1)))
}

/// The largest rect of aspect `width / height` that fits in `space`, centred in it.
pub fn fit(space: Rect, width: f32, height: f32) -> Rect {
    let scale = (space.width() / width)
        .min(space.height() / height)
        .max(0.0);
    Rect::from_center_size(space.center(), Vec2::new(width, height) * scale)
}

/// egui's own fonts for tests of where labels go.
#[cfg(test)]
pub(crate) mod test_fonts {
    use egui::Vec2;

    /// Runs `check` with `measure(text, size)`: the size of `text` on one line in egui's default
    /// proportional font of `size` points.
    pub fn with_fonts<R>(check: impl FnOnce(&dyn Fn(&str, f32) -> Vec2) -> R) -> R {
        let ctx = egui::Context::default();
        ctx.begin_pass(egui::RawInput::default());
        let measure = |text: &str, size: f32| {
            ctx.fonts_mut(|f| {
                f.layout_no_wrap(
                    text.to_owned(),
                    egui::FontId::proportional(size),
                    egui::Color32::WHITE,
                )
                .size()
            })
        };
        let result = check(&measure);
        ctx.end_pass().textures_delta.clear();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::test_fonts::with_fonts;
    use super::*;

    #[test]
    fn short_values_keep_three_significant_digits() {
        for (value, text) in [
            (253.129, "253"),
            (-253.129, "-253"),
            (0.0123, "0.0123"),
            (0.012345, "0.0123"),
            (1.2e-5, "1.2e-5"),
            (-1e-5, "-1e-5"),
            (45678.0, "4.6e4"),
            (9999.7, "1e4"),
            (999.7, "1000"),
            (1.0, "1"),
            (-0.5, "-0.5"),
            (1.256, "1.26"),
            (0.0, "0"),
        ] {
            assert_eq!(short_value(value), text, "{value}");
        }
    }

    /// Values of every magnitude from 1e-9 to 1e9, both signs.
    fn magnitudes() -> Vec<f32> {
        (-90..=90)
            .map(|k| 10f32.powf(k as f32 / 10.0) * 1.234)
            .flat_map(|v| [v, -v])
            .collect()
    }

    #[test]
    fn short_values_are_short_and_read_back_close() {
        for value in magnitudes() {
            let text = short_value(value);
            assert!(text.chars().count() <= 7, "{value} -> {text}");
            let read: f32 = text.parse().expect("a number");
            assert!(
                (read - value).abs() <= value.abs() * 0.05,
                "{value} -> {text}"
            );
        }
    }

    #[test]
    fn color_bar_labels_stay_inside_beside_the_bar_and_apart() {
        with_fonts(|measure| {
            for height in [24.0, 40.0, 60.0, 80.0, 150.0, 400.0] {
                let rect =
                    Rect::from_min_size(Pos2::new(300.0, 50.0), Vec2::new(COLOR_BAR_WIDTH, height));
                let bar = Rect::from_min_size(
                    rect.min + Vec2::new(0.0, 6.0),
                    Vec2::new(BAR_WIDTH, height - 12.0),
                );
                for high in magnitudes() {
                    for scale in [Scale::Symmetric(high.abs()), Scale::Positive(high.abs())] {
                        let (low, high) = scale.range();
                        let sizes = [high, (high + low) / 2.0, low]
                            .map(|value| measure(short_value(value).as_str(), 12.0));
                        let placed = bar_label_rects(rect, bar, sizes);
                        let shown: Vec<Rect> = placed.iter().flatten().copied().collect();
                        for (k, label) in shown.iter().enumerate() {
                            let inside = rect.expand(1e-3).contains_rect(*label);
                            assert!(inside, "{label:?} outside {rect:?}");
                            assert!(label.left() >= bar.right(), "{high}: over the bar");
                            for other in &shown[k + 1..] {
                                assert!(!label.intersects(*other), "{high} at {height}");
                            }
                        }
                        // all three show when there is room for them
                        if height >= 4.0 * sizes[0].y {
                            assert!(placed.iter().all(Option::is_some), "{high} at {height}");
                        }
                    }
                }
            }
        });
    }

    #[test]
    fn counts_take_the_noun_in_the_right_number() {
        assert_eq!(counted(1, "unit", "units"), "1 unit");
        assert_eq!(counted(4, "input", "inputs"), "4 inputs");
        assert_eq!(counted(0, "class", "classes"), "0 classes");
    }
}
