//! Pictures of numbers: value grids turned into textures (kept until their data changes), the
//! colour bar that says what the colours mean, and where the pointer is on such a picture.

use egui::{Color32, ColorImage, Pos2, Rect, TextureHandle, TextureOptions, Ui, Vec2};

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
    pub fn get(
        &mut self,
        ui: &Ui,
        key: K,
        options: TextureOptions,
        make: impl FnOnce() -> ColorImage,
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

/// Draws a vertical colour bar with its top, middle and bottom values, `height` tall.
pub fn color_bar(ui: &mut Ui, scale: Scale, height: f32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::new(62.0, height), egui::Sense::hover());
    let bar = Rect::from_min_size(
        rect.min + Vec2::new(0.0, 6.0),
        Vec2::new(12.0, height - 12.0),
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
    let font = egui::FontId::proportional(12.0);
    for (t, value) in [(0.0, high), (0.5, (high + low) / 2.0), (1.0, low)] {
        painter.text(
            Pos2::new(bar.right() + 4.0, bar.top() + bar.height() * t),
            egui::Align2::LEFT_CENTER,
            format_value(value),
            font.clone(),
            text,
        );
    }
}

/// A number short enough for a colour bar or a tooltip.
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
