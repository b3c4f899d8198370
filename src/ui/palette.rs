//! The one source of colours for every view.

use egui::Color32;

/// Training loss, smoothed.
pub const TRAIN: Color32 = Color32::from_rgb(66, 133, 244);
/// Test loss and accuracy.
pub const TEST: Color32 = Color32::from_rgb(244, 160, 0);
/// Setting-change markers on the curves.
pub const MARKER: Color32 = Color32::from_rgb(156, 106, 222);
/// Alerts: divergence, crashes, refused changes.
pub const ALERT: Color32 = Color32::from_rgb(217, 48, 37);
pub const ALERT_BACKGROUND: Color32 = Color32::from_rgba_premultiplied(80, 16, 12, 230);
/// Changes that wait for a reset.
pub const PENDING: Color32 = Color32::from_rgb(230, 170, 40);

/// Pinned runs on the curves, one colour each (none is the live run's blue or orange).
pub const PINS: [Color32; 8] = [
    Color32::from_rgb(52, 168, 83),
    Color32::from_rgb(214, 72, 160),
    Color32::from_rgb(0, 160, 170),
    Color32::from_rgb(160, 110, 60),
    Color32::from_rgb(150, 150, 150),
    Color32::from_rgb(190, 190, 30),
    Color32::from_rgb(230, 90, 80),
    Color32::from_rgb(120, 120, 230),
];

/// The raw curve behind a smoothed one.
pub fn faint(color: Color32) -> Color32 {
    color.gamma_multiply(0.25)
}

/// Positive values (weights, activations, class 1 of a binary set): blue, as TensorFlow
/// Playground draws them...
pub const POSITIVE: Color32 = Color32::from_rgb(33, 102, 172);
/// ...and negative ones orange.
pub const NEGATIVE: Color32 = Color32::from_rgb(230, 120, 20);
/// Right and wrong predictions.
pub const CORRECT: Color32 = Color32::from_rgb(52, 168, 83);
pub const WRONG: Color32 = Color32::from_rgb(217, 48, 37);

/// Entries in each colormap's lookup table.
const LEVELS: usize = 256;

fn lookup(gradient: colorous::Gradient) -> [Color32; LEVELS] {
    std::array::from_fn(|i| {
        let c = gradient.eval_rational(i, LEVELS);
        Color32::from_rgb(c.r, c.g, c.b)
    })
}

fn level(t: f32) -> usize {
    if t.is_nan() {
        return LEVELS / 2;
    }
    ((t.clamp(0.0, 1.0) * (LEVELS - 1) as f32).round()) as usize
}

/// The diverging colormap (ColorBrewer red-blue): `t` in [-1, 1], negative orange-red, zero
/// white, positive blue. Out-of-range values are clamped.
pub fn diverging(t: f32) -> Color32 {
    static TABLE: std::sync::OnceLock<[Color32; LEVELS]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| lookup(colorous::RED_BLUE))[level((t + 1.0) / 2.0)]
}

/// The sequential colormap (viridis) for values that are never negative: `t` in [0, 1].
pub fn sequential(t: f32) -> Color32 {
    static TABLE: std::sync::OnceLock<[Color32; LEVELS]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| lookup(colorous::VIRIDIS))[level(t)]
}

/// One colour per class (Tableau 10), for points and multi-class decision regions. Binary sets
/// use NEGATIVE for class 0 and POSITIVE for class 1, as the boundary view does.
pub fn class_color(class: usize, classes: usize) -> Color32 {
    if classes <= 2 {
        return if class == 0 { NEGATIVE } else { POSITIVE };
    }
    let c = colorous::TABLEAU10[class % colorous::TABLEAU10.len()];
    Color32::from_rgb(c.r, c.g, c.b)
}

fn emphasis_id() -> egui::Id {
    egui::Id::unique("backprop-lab-emphasis")
}

/// How much thicker lines and larger points are drawn: 1 at a desk, 2 with high contrast (for
/// a projector). The app sets it with its preferences; every plot and view multiplies by it.
pub fn emphasis(ctx: &egui::Context) -> f32 {
    ctx.data(|d| d.get_temp::<f32>(emphasis_id()))
        .unwrap_or(1.0)
}

pub fn set_emphasis(ctx: &egui::Context, factor: f32) {
    ctx.data_mut(|d| d.insert_temp(emphasis_id(), factor));
}

/// How much larger high contrast draws text.
pub const HIGH_CONTRAST_TEXT: f32 = 1.25;

/// The font of a label a view paints itself (axis ticks, a colour bar) at `size` points: larger
/// with high contrast, as the rest of the text.
pub fn label_font(ctx: &egui::Context, size: f32) -> egui::FontId {
    let larger = if emphasis(ctx) > 1.0 {
        HIGH_CONTRAST_TEXT
    } else {
        1.0
    };
    egui::FontId::proportional(size * larger)
}
