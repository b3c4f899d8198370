//! Draw a digit and have it classified while the network trains: a canvas with smooth strokes,
//! the 28x28 input the network sees (made by the same pipeline as `backprop-lab classify`), ten
//! probability bars from the latest published weights, and "Use as probe".

use std::path::PathBuf;
use std::sync::Arc;

use egui::scroll_area::ScrollSource;
use egui::{
    Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, TextureOptions, Ui, Vec2,
};
use ndarray::{Array1, Axis};

use super::graph::digit_picture;
use super::heat::{self, CachedTexture};
use super::predictions;
use super::{View, ViewAction, ViewContext};
use crate::data::DataError;
use crate::data::digit_image::{self, GreyImage, SIDE};
use crate::nn::{LayerSpec, Network, Shape, predicted_class};
use crate::train::protocol::{Probe, RunInfo, Snapshot};
use crate::ui::background::Background;
use crate::ui::fault::contain;
use crate::ui::{file_dialog, palette};

/// Side of the picture the strokes are drawn into before the pipeline.
pub const RASTER_SIDE: usize = 140;
/// Brush radius as a fraction of the canvas side: a digit drawn across most of the canvas gets
/// MNIST's stroke thickness (about 1/8 of the digit's height).
pub const BRUSH: f32 = 0.045;
/// The smallest canvas side: room enough to draw a digit with the mouse.
const MIN_CANVAS: f32 = 120.0;
/// The narrowest the preview and the bars go beside the canvas; narrower, they go under it.
const MIN_PANEL: f32 = 150.0;
/// The widest the bar chart gets.
const MAX_CHART_WIDTH: f32 = 420.0;
/// Text sizes of the probabilities over the bars and of the class names under them.
const PROBABILITY_FONT_SIZE: f32 = 10.0;
const CLASS_FONT_SIZE: f32 = 13.0;
/// Space kept between two labels side by side.
const LABEL_GAP: f32 = 2.0;

/// What the panel classifies.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Drawing,
    File(PathBuf),
}

/// A stroke's points, in canvas units ([0, 1] both ways, y down).
pub type Stroke2 = Vec<Pos2>;

pub struct DrawView {
    pub strokes: Vec<Stroke2>,
    pub source: Source,
    /// The picture the strokes make: light ink on black, [RASTER_SIDE²].
    raster: GreyImage,
    /// The network input, [28 * 28], once there is ink.
    pub input: Option<Vec<f32>>,
    /// Class probabilities for `input` from the latest weights.
    pub probabilities: Option<Vec<f32>>,
    pub message: Option<String>,
    pub path_text: String,
    revision: u64,
    /// Class probabilities (or why there are none) for a (snapshot, drawing revision).
    classification: Background<(u64, u64), Result<Vec<f32>, String>>,
    preview: CachedTexture<u64>,
    /// Where the last frame drew the canvas.
    pub canvas_rect: Option<Rect>,
}

impl Default for DrawView {
    fn default() -> Self {
        Self {
            strokes: Vec::new(),
            source: Source::Drawing,
            raster: blank_raster(),
            input: None,
            probabilities: None,
            message: None,
            path_text: String::new(),
            revision: 0,
            classification: Background::new("drawing classifier"),
            preview: CachedTexture::new("what the network sees"),
            canvas_rect: None,
        }
    }
}

/// Class probabilities of a 28x28 `input` [784] through a snapshot's network.
fn classify(
    snapshot: &Snapshot,
    specs: &[LayerSpec],
    shape: Shape,
    input: Vec<f32>,
) -> Result<Vec<f32>, String> {
    let params = snapshot
        .layers
        .iter()
        .filter_map(|l| Some((l.weight.clone()?, l.bias.clone()?)));
    let mut network = Network::with_params(shape, specs, params).map_err(|e| e.to_string())?;
    let x = Array1::from(input).insert_axis(Axis(0));
    let output = contain(|| network.predict(x.view()))
        .map_err(|panic| format!("an internal error: {panic}"))?
        .map_err(|e| e.to_string())?;
    Ok(predictions::probabilities(output.row(0)))
}

fn blank_raster() -> GreyImage {
    GreyImage {
        width: RASTER_SIDE,
        height: RASTER_SIDE,
        pixels: vec![0.0; RASTER_SIDE * RASTER_SIDE],
    }
}

/// Adds the segment a-b (canvas units) to `raster` as an anti-aliased round-capped line.
fn stamp(raster: &mut GreyImage, a: Pos2, b: Pos2) {
    let side = raster.width as f32;
    let (a, b) = (a.to_vec2() * side, b.to_vec2() * side);
    let radius = BRUSH * side;
    let ab = b - a;
    let length_sq = ab.length_sq().max(1e-6);
    let x0 = ((a.x.min(b.x) - radius - 1.0).floor().max(0.0)) as usize;
    let x1 = ((a.x.max(b.x) + radius + 1.0).ceil().min(side - 1.0)) as usize;
    let y0 = ((a.y.min(b.y) - radius - 1.0).floor().max(0.0)) as usize;
    let y1 = ((a.y.max(b.y) + radius + 1.0).ceil().min(side - 1.0)) as usize;
    for y in y0..=y1 {
        for x in x0..=x1 {
            let p = Vec2::new(x as f32 + 0.5, y as f32 + 0.5);
            let t = ((p - a).dot(ab) / length_sq).clamp(0.0, 1.0);
            let distance = (a + ab * t - p).length();
            let coverage = (radius + 0.5 - distance).clamp(0.0, 1.0);
            let pixel = &mut raster.pixels[y * raster.width + x];
            *pixel = pixel.max(coverage);
        }
    }
}

/// The picture of `strokes`: light ink on black.
pub fn rasterize(strokes: &[Stroke2]) -> GreyImage {
    let mut raster = blank_raster();
    for stroke in strokes {
        let first = stroke.first().copied();
        for (a, b) in first.into_iter().chain(stroke.iter().copied()).zip(stroke) {
            stamp(&mut raster, a, *b);
        }
    }
    raster
}

/// Why a run's network cannot classify digits, if it cannot.
pub fn unavailable(info: &RunInfo) -> Option<String> {
    let shape = info.input_shape;
    (shape != Shape::image(SIDE, SIDE, 1) && shape != Shape::flat(SIDE * SIDE)).then(|| {
        format!(
            "Drawing needs a network that takes a 28x28 image, as the MNIST presets do; \
             this one takes {shape} ({} per sample).",
            heat::counted(shape.len(), "value", "values")
        )
    })
}

/// Where the canvas and the panel beside or under it (preview, prediction, bars) go.
#[derive(Clone, Copy, Debug, PartialEq)]
struct DrawLayout {
    canvas_side: f32,
    /// The panel is beside the canvas, `gap` to its right (else under it).
    beside: bool,
    panel_width: f32,
}

impl DrawLayout {
    /// The canvas and the panel in `space`, `gap` apart: side by side when the width holds a
    /// canvas of [`MIN_CANVAS`] and a panel of [`MIN_PANEL`], the canvas then 45% of the width;
    /// else the canvas over the panel, as wide as the view. The canvas is never smaller than
    /// [`MIN_CANVAS`] (nor wider than the view): a short view scrolls.
    fn new(space: Vec2, gap: f32) -> Self {
        let width = space.x.max(0.0);
        if width >= MIN_CANVAS + gap + MIN_PANEL {
            let side = (width * 0.45)
                .min(space.y)
                .max(MIN_CANVAS)
                .min(width - gap - MIN_PANEL);
            Self {
                canvas_side: side,
                beside: true,
                panel_width: width - side - gap,
            }
        } else {
            let side = (space.y * 0.6).min(width).max(MIN_CANVAS).min(width);
            Self {
                canvas_side: side,
                beside: false,
                panel_width: width,
            }
        }
    }
}

/// A text of the bar chart: where it goes and its size in points.
#[derive(Clone, Debug, PartialEq)]
struct ChartLabel {
    text: String,
    rect: Rect,
    font_size: f32,
}

/// The bar chart of class probabilities: each class's slot and the filled part of it, the
/// probabilities over the bars and the class names under them.
#[derive(Clone, Debug, PartialEq)]
struct BarChart {
    slots: Vec<Rect>,
    fills: Vec<Rect>,
    labels: Vec<ChartLabel>,
}

impl BarChart {
    /// Lays out one bar per probability in `rect`, in columns of equal width; `measure(text,
    /// size)` is a text's size. A probability label is "12%" where that fits its column, "12"
    /// where only the number does, and left out where neither does or the probability is under
    /// 0.5%; a class name is left out where it does not fit. Every label is centred on its
    /// column and narrower than it by [`LABEL_GAP`], so that none overlaps another, and all stay
    /// inside `rect`.
    fn new(
        rect: Rect,
        probabilities: &[f32],
        names: &[String],
        measure: impl Fn(&str, f32) -> Vec2,
    ) -> Self {
        let column = rect.width() / probabilities.len().max(1) as f32;
        let top_room = measure("100%", PROBABILITY_FONT_SIZE).y + 1.0;
        let bottom_room = measure("0", CLASS_FONT_SIZE).y + 2.0;
        // where the bars stand: the probabilities over them, the names under them
        let bars_top = rect.top() + top_room;
        let bars = Rect::from_x_y_ranges(
            rect.x_range(),
            bars_top..=(rect.bottom() - bottom_room).max(bars_top),
        );
        // a label's size, if it fits its column
        let fits = |text: &str, font_size: f32| {
            let size = measure(text, font_size);
            (size.x <= column - LABEL_GAP).then_some(size)
        };
        let mut chart = Self {
            slots: Vec::new(),
            fills: Vec::new(),
            labels: Vec::new(),
        };
        for (class, &p) in probabilities.iter().enumerate() {
            let left = rect.left() + column * class as f32;
            let slot =
                Rect::from_x_y_ranges(left + column * 0.15..=left + column * 0.85, bars.y_range());
            let fill_top = slot.bottom() - slot.height() * p.clamp(0.0, 1.0);
            let fill = Rect::from_x_y_ranges(slot.x_range(), fill_top..=slot.bottom());
            let centred = |size: Vec2, top: f32| {
                Rect::from_min_size(Pos2::new(slot.center().x - size.x / 2.0, top), size)
            };
            if let Some(name) = names.get(class)
                && let Some(size) = fits(name.as_str(), CLASS_FONT_SIZE)
            {
                chart.labels.push(ChartLabel {
                    text: name.clone(),
                    rect: centred(size, bars.bottom() + 2.0),
                    font_size: CLASS_FONT_SIZE,
                });
            }
            let percent = (p * 100.0).round();
            if percent >= 1.0 {
                let number = format!("{percent:.0}");
                let label = [format!("{number}%"), number]
                    .into_iter()
                    .find_map(|text| Some((fits(text.as_str(), PROBABILITY_FONT_SIZE)?, text)));
                if let Some((size, text)) = label {
                    chart.labels.push(ChartLabel {
                        text,
                        rect: centred(size, fill_top - 1.0 - size.y),
                        font_size: PROBABILITY_FONT_SIZE,
                    });
                }
            }
            chart.slots.push(slot);
            chart.fills.push(fill);
        }
        chart
    }
}

impl DrawView {
    fn changed(&mut self) {
        self.revision += 1;
    }

    /// The 28x28 input from the drawing, by the same pipeline `classify` uses for files.
    fn update_input(&mut self) {
        self.source = Source::Drawing;
        self.message = None;
        self.input = if self.strokes.is_empty() {
            None
        } else {
            match digit_image::from_picture(&self.raster) {
                Ok(input) => Some(input),
                Err(error) => {
                    self.message = Some(error.to_string());
                    None
                }
            }
        };
        if self.input.is_none() {
            self.probabilities = None;
        }
        self.changed();
    }

    pub fn clear(&mut self) {
        self.strokes.clear();
        self.raster = blank_raster();
        self.update_input();
    }

    pub fn undo(&mut self) {
        self.strokes.pop();
        self.raster = rasterize(&self.strokes);
        self.update_input();
    }

    /// Classifies a PNG or JPEG file the way `backprop-lab classify` does.
    pub fn open(&mut self, path: PathBuf) {
        // a fault in the picture pipeline is a message, like a bad file
        let read = contain(|| digit_image::from_file(&path)).unwrap_or_else(|panic| {
            Err(DataError::Invalid(format!(
                "the picture could not be read (an internal error: {panic})"
            )))
        });
        match read {
            Ok(input) => {
                self.input = Some(input);
                self.message = None;
                self.source = Source::File(path);
            }
            // the drawing stays as it was; the message says which file and why
            Err(error @ DataError::Image { .. }) => self.message = Some(error.to_string()),
            Err(error) => self.message = Some(format!("{}: {error}", path.display())),
        }
        self.changed();
    }

    /// Runs the input through the latest published weights (a copy: the trainer never waits),
    /// on a thread of its own for a large network, the last probabilities shown meanwhile.
    fn classify(
        &mut self,
        ctx: &egui::Context,
        specs: &[LayerSpec],
        info: &RunInfo,
        snapshot: &Arc<Snapshot>,
    ) {
        let Some(input) = &self.input else { return };
        let values = snapshot
            .layers
            .iter()
            .filter_map(|l| Some(l.weight.as_ref()?.len() + l.bias.as_ref()?.len()))
            .sum();
        let (of, specs, shape, input) = (
            snapshot.clone(),
            specs.to_vec(),
            info.input_shape,
            input.clone(),
        );
        let made = self
            .classification
            .get(ctx, (snapshot.id, self.revision), values, move || {
                classify(&of, &specs, shape, input)
            });
        // a classification of an earlier drawing is not this one's
        match made {
            Some(((_, revision), Ok(probabilities))) if *revision == self.revision => {
                self.probabilities = Some(probabilities.clone());
            }
            Some(((_, revision), Err(error))) if *revision == self.revision => {
                self.probabilities = None;
                self.message = Some(format!("cannot classify: {error}"));
            }
            _ => {}
        }
    }

    /// The probe made of the current input.
    fn probe(&self) -> Option<Probe> {
        let name = match &self.source {
            Source::Drawing => "your drawing".to_string(),
            Source::File(path) => path
                .file_name()
                .map_or("your image".into(), |n| n.to_string_lossy().into_owned()),
        };
        Some(Probe {
            input: Array1::from(self.input.clone()?),
            test_index: None,
            label: None,
            name,
        })
    }

    fn show(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        specs: &[LayerSpec],
        snapshot: Option<&Arc<Snapshot>>,
    ) -> Option<Probe> {
        let Some(info) = info else {
            ui.label("Waiting for the trainer...");
            return None;
        };
        if let Some(reason) = unavailable(info) {
            ui.label(reason);
            ui.label(
                RichText::new("Pick mnist-mlp or mnist-cnn under Preset to draw digits.").weak(),
            );
            return None;
        }
        // a view too short for the canvas and the bars scrolls; a drag draws, never scrolls
        egui::ScrollArea::vertical()
            .id_salt("draw")
            .auto_shrink([false, false])
            .scroll_source(ScrollSource::SCROLL_BAR | ScrollSource::MOUSE_WHEEL)
            .show(ui, |ui| self.body(ui, info, specs, snapshot))
            .inner
    }

    /// The buttons, then the canvas with the preview, the prediction and the bars beside it or
    /// under it.
    fn body(
        &mut self,
        ui: &mut Ui,
        info: &RunInfo,
        specs: &[LayerSpec],
        snapshot: Option<&Arc<Snapshot>>,
    ) -> Option<Probe> {
        let mut probe = None;
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Clear")
                .on_hover_text("Wipe the canvas")
                .clicked()
            {
                self.clear();
            }
            if ui
                .add_enabled(!self.strokes.is_empty(), egui::Button::new("Undo"))
                .on_hover_text("Remove the last stroke")
                .clicked()
            {
                self.undo();
            }
            if ui
                .add_enabled(self.input.is_some(), egui::Button::new("Use as probe"))
                .on_hover_text(
                    "Show this digit's activations in the network graph and the heatmaps",
                )
                .clicked()
            {
                probe = self.probe();
            }
            if ui
                .button("Open image...")
                .on_hover_text(
                    "Classify a PNG or JPEG picture of a digit, prepared like your drawing",
                )
                .clicked()
            {
                let picked = file_dialog::pick_file(
                    "A picture of a digit",
                    ("Pictures", &["png", "jpg", "jpeg"]),
                    "the image path field beside the button",
                );
                match picked {
                    Ok(Some(path)) => {
                        self.path_text = path.display().to_string();
                        self.open(path);
                    }
                    Ok(None) => {}
                    Err(message) => self.message = Some(message),
                }
            }
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.path_text)
                    .hint_text("or type an image path")
                    .desired_width(150.0),
            );
            if edit.lost_focus()
                && ui.input(|i| i.key_pressed(egui::Key::Enter))
                && !self.path_text.trim().is_empty()
            {
                self.open(PathBuf::from(self.path_text.trim()));
            }
        });
        if let Some(message) = &self.message {
            ui.colored_label(palette::ALERT, message);
        }
        if let Some(snapshot) = snapshot {
            self.classify(ui.ctx(), specs, info, snapshot);
        }

        let layout = DrawLayout::new(ui.available_size(), ui.spacing().item_spacing.x);
        if layout.beside {
            ui.horizontal_top(|ui| {
                self.canvas(ui, layout.canvas_side);
                ui.vertical(|ui| self.panel(ui, info, layout));
            });
        } else {
            self.canvas(ui, layout.canvas_side);
            self.panel(ui, info, layout);
        }
        probe
    }

    /// What the network sees, its prediction and the bars, `layout.panel_width` wide.
    fn panel(&mut self, ui: &mut Ui, info: &RunInfo, layout: DrawLayout) {
        ui.label(RichText::new("What the network sees (28x28)").weak());
        let preview_side = (layout.canvas_side * 0.4)
            .clamp(56.0, 160.0)
            .min(layout.panel_width);
        let (rect, _) = ui.allocate_exact_size(Vec2::splat(preview_side), Sense::hover());
        if let Some(input) = &self.input {
            let texture = self
                .preview
                .get(ui, self.revision, TextureOptions::NEAREST, || {
                    digit_picture(input, SIDE, SIDE, 1)
                });
            ui.painter().image(
                texture.id(),
                rect,
                super::weights::full_uv(),
                Color32::WHITE,
            );
        } else {
            ui.painter().rect_filled(rect, 2.0, Color32::BLACK);
        }
        self.bars(ui, info, layout.panel_width);
    }

    fn canvas(&mut self, ui: &mut Ui, side: f32) {
        let (rect, response) = ui.allocate_exact_size(Vec2::splat(side), Sense::drag());
        self.canvas_rect = Some(rect);
        response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "drawing canvas"));
        let to_canvas = |p: Pos2| Pos2::new((p.x - rect.left()) / side, (p.y - rect.top()) / side);
        if response.drag_started() {
            self.strokes.push(Vec::new());
        }
        if response.dragged()
            && let Some(pointer) = response.interact_pointer_pos()
            && let Some(stroke) = self.strokes.last_mut()
        {
            let p = to_canvas(pointer).clamp(Pos2::ZERO, Pos2::new(1.0, 1.0));
            // skip points closer than a pixel of the raster
            if stroke
                .last()
                .is_none_or(|last| last.distance(p) > 0.5 / RASTER_SIDE as f32)
            {
                let previous = stroke.last().copied().unwrap_or(p);
                stroke.push(p);
                stamp(&mut self.raster, previous, p);
                self.update_input();
            }
        }
        if response.drag_stopped() && self.strokes.last().is_some_and(Vec::is_empty) {
            self.strokes.pop();
        }
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 4.0, Color32::BLACK);
        let width = BRUSH * 2.0 * side;
        let ink = Stroke::new(width, Color32::WHITE);
        for stroke in &self.strokes {
            let points: Vec<Pos2> = stroke
                .iter()
                .map(|p| rect.min + p.to_vec2() * side)
                .collect();
            for point in &points {
                painter.circle_filled(*point, width / 2.0, Color32::WHITE);
            }
            if points.len() > 1 {
                painter.add(egui::Shape::line(points, ink));
            }
        }
        if self.strokes.is_empty() {
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                "draw a digit here",
                FontId::proportional(16.0),
                Color32::from_gray(140),
            );
        }
        painter.rect_stroke(
            rect,
            4.0,
            Stroke::new(1.0, ui.visuals().weak_text_color()),
            egui::StrokeKind::Outside,
        );
    }

    fn bars(&self, ui: &mut Ui, info: &RunInfo, width: f32) {
        let Some(probabilities) = &self.probabilities else {
            ui.label(RichText::new("Draw a digit to see what the network makes of it.").weak());
            return;
        };
        let best = predicted_class(ndarray::ArrayView1::from(&probabilities[..]));
        ui.label(
            RichText::new(format!(
                "{} ({:.0}%)",
                predictions::class_name(info, best),
                probabilities[best] * 100.0
            ))
            .size(34.0)
            .strong(),
        );
        // ten vertical bars, as compact as a projector needs them legible
        let height = (ui.available_height() - 6.0).clamp(60.0, 200.0);
        let size = Vec2::new(width.min(MAX_CHART_WIDTH), height);
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter_at(rect);
        let names: Vec<String> = (0..probabilities.len())
            .map(|k| predictions::class_name(info, k).replace("class ", ""))
            .collect();
        let measure =
            |text: &str, size: f32| heat::text_size(&painter, text, &FontId::proportional(size));
        let chart = BarChart::new(rect, probabilities, &names, measure);
        for (class, (slot, fill)) in chart.slots.iter().zip(&chart.fills).enumerate() {
            painter.rect_filled(*slot, 2.0, ui.visuals().extreme_bg_color);
            let color = if class == best {
                palette::POSITIVE
            } else {
                palette::POSITIVE.gamma_multiply(0.55)
            };
            painter.rect_filled(*fill, 2.0, color);
        }
        let text = ui.visuals().text_color();
        for label in chart.labels {
            painter.text(
                label.rect.min,
                Align2::LEFT_TOP,
                label.text,
                FontId::proportional(label.font_size),
                text,
            );
        }
    }
}

impl View for DrawView {
    fn id(&self) -> &'static str {
        "draw"
    }

    fn title(&self) -> &'static str {
        "Draw a digit"
    }

    fn tooltip(&self) -> &'static str {
        "Draw a digit and watch the network classify it as it trains"
    }

    fn min_size(&self) -> egui::Vec2 {
        // a canvas one can draw on, with the bars beside or below it
        egui::Vec2::new(300.0, 260.0)
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        let specs = ctx.snapshot.map_or(&[][..], |s| &s.specs[..]);
        if let Some(probe) = self.show(ui, ctx.run.info.as_ref(), specs, ctx.snapshot) {
            ctx.actions.push(ViewAction::SetProbe(probe));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::views::heat::test_fonts::with_fonts;

    #[test]
    fn the_canvas_and_the_panel_share_the_width_without_overflowing() {
        let gap = 8.0;
        for width in (100..=1200).step_by(10) {
            for height in (60..=900).step_by(30) {
                let (width, height) = (width as f32, height as f32);
                let layout = DrawLayout::new(Vec2::new(width, height), gap);
                let what = format!("{width}x{height}: {layout:?}");
                assert!(layout.canvas_side <= width, "{what}");
                assert!(layout.canvas_side >= MIN_CANVAS.min(width), "{what}");
                if layout.beside {
                    assert!(layout.canvas_side >= MIN_CANVAS, "{what}");
                    assert!(layout.panel_width >= MIN_PANEL, "{what}");
                    let used = layout.canvas_side + gap + layout.panel_width;
                    assert!((used - width).abs() < 1e-3, "{what}");
                } else {
                    assert_eq!(layout.panel_width, width, "{what}");
                }
            }
        }
        // a tile 250 points wide used to get a 120-point canvas and 120-point bars side by side
        assert!(!DrawLayout::new(Vec2::new(238.0, 150.0), gap).beside);
        assert!(DrawLayout::new(Vec2::new(700.0, 400.0), gap).beside);
    }

    /// Ten probabilities summing to 1 that put `peak` on class 3, the rest spread unevenly.
    fn probabilities(peak: f32) -> Vec<f32> {
        let weights = [3.0, 1.0, 0.2, 0.0, 2.0, 0.05, 1.0, 0.5, 0.01, 1.2];
        let sum: f32 = weights.iter().sum();
        let mut p: Vec<f32> = weights.iter().map(|w| w / sum * (1.0 - peak)).collect();
        p[3] = peak;
        p
    }

    #[test]
    fn bar_labels_never_overlap_and_stay_inside_the_chart() {
        let names: Vec<String> = (0..10).map(|k| k.to_string()).collect();
        let cases = [
            vec![0.1; 10],
            vec![0.1, 0.1, 0.12, 0.08, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
            probabilities(0.97),
            probabilities(0.4),
            probabilities(1.0),
        ];
        with_fonts(|measure| {
            for width in (120..=800).step_by(4) {
                for height in [60.0, 120.0, 200.0] {
                    let rect = Rect::from_min_size(
                        Pos2::new(300.0, 100.0),
                        Vec2::new(width as f32, height),
                    );
                    for p in &cases {
                        let chart = BarChart::new(rect, p, &names, measure);
                        let labels = &chart.labels;
                        let what = format!("{width}x{height} {p:?}");
                        for (k, a) in labels.iter().enumerate() {
                            let inside = rect.expand(1e-3).contains_rect(a.rect);
                            assert!(inside, "{what}: {a:?}");
                            for b in &labels[k + 1..] {
                                let overlap = a.rect.intersect(b.rect).is_positive();
                                assert!(!overlap, "{what}: {a:?} and {b:?}");
                            }
                        }
                        // every class is named under its bar
                        let named = labels
                            .iter()
                            .filter(|l| l.font_size == CLASS_FONT_SIZE)
                            .count();
                        assert_eq!(named, 10, "{what}");
                        // a probability label stands over its own bar
                        for label in labels.iter().filter(|l| l.font_size != CLASS_FONT_SIZE) {
                            let fill = chart
                                .fills
                                .iter()
                                .find(|f| f.x_range().contains(label.rect.center().x))
                                .expect("over a bar");
                            assert!(label.rect.bottom() <= fill.top(), "{what}: {label:?}");
                        }
                    }
                }
            }
        });
    }

    #[test]
    fn bar_labels_shorten_before_they_go() {
        let names: Vec<String> = (0..10).map(|k| k.to_string()).collect();
        let rect = |width: f32| Rect::from_min_size(Pos2::ZERO, Vec2::new(width, 150.0));
        let p = vec![0.1, 0.1, 0.12, 0.08, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1];
        with_fonts(|measure| {
            let texts = |width: f32| -> Vec<String> {
                BarChart::new(rect(width), &p, &names, measure)
                    .labels
                    .into_iter()
                    .filter(|l| l.font_size == PROBABILITY_FONT_SIZE)
                    .map(|l| l.text)
                    .collect()
            };
            // wide: every bar says its percentage
            let wide = texts(800.0);
            assert_eq!(wide.len(), 10);
            assert!(wide.iter().all(|t| t.ends_with('%')), "{wide:?}");
            assert_eq!(wide[2], "12%");
            // narrower, the labels lose the % sign before they are left out
            let shortened = (100..800)
                .rev()
                .map(|width| texts(width as f32))
                .find(|t| t.iter().any(|t| !t.ends_with('%')))
                .expect("a width where only the numbers fit");
            let numbers: Vec<&str> = shortened.iter().map(|t| t.trim_end_matches('%')).collect();
            assert_eq!(
                numbers,
                ["10", "10", "12", "8", "10", "10", "10", "10", "10", "10"],
                "{shortened:?}"
            );
        });
    }
}
