//! Draw a digit and have it classified while the network trains: a canvas with smooth strokes,
//! the 28x28 input the network sees (made by the same pipeline as `backprop-lab classify`), ten
//! probability bars from the latest published weights, and "Use as probe".

use std::path::PathBuf;
use std::sync::Arc;

use egui::{
    Align2, Color32, FontId, Pos2, Rect, RichText, Sense, Stroke, TextureOptions, Ui, Vec2,
};
use ndarray::{Array1, Axis};

use super::graph::digit_picture;
use super::heat::CachedTexture;
use super::predictions;
use super::{View, ViewAction, ViewContext};
use crate::data::DataError;
use crate::data::digit_image::{self, GreyImage, SIDE};
use crate::nn::{LayerSpec, Network, Shape, predicted_class};
use crate::train::protocol::{Probe, RunInfo, Snapshot};
use crate::ui::palette;

/// Side of the picture the strokes are drawn into before the pipeline.
pub const RASTER_SIDE: usize = 140;
/// Brush radius as a fraction of the canvas side: a digit drawn across most of the canvas gets
/// MNIST's stroke thickness (about 1/8 of the digit's height).
pub const BRUSH: f32 = 0.045;

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
    network: Option<(usize, Network)>,
    classified: Option<(usize, u64)>,
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
            network: None,
            classified: None,
            preview: CachedTexture::new("what the network sees"),
            canvas_rect: None,
        }
    }
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
             this one takes {shape} ({} values per sample).",
            shape.len()
        )
    })
}

impl DrawView {
    fn changed(&mut self) {
        self.revision += 1;
        self.classified = None;
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
        match digit_image::from_file(&path) {
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

    /// Runs the input through the latest published weights (a copy: the trainer never waits).
    fn classify(&mut self, specs: &[LayerSpec], info: &RunInfo, snapshot: &Arc<Snapshot>) {
        let key = (snapshot.id as usize, self.revision);
        let Some(input) = &self.input else { return };
        if self.classified == Some(key) {
            return;
        }
        self.classified = Some(key);
        let params = || {
            snapshot
                .layers
                .iter()
                .filter_map(|l| Some((l.weight.clone()?, l.bias.clone()?)))
        };
        let network = match &mut self.network {
            Some((built_for, network)) if *built_for == key.0 => Ok(network),
            slot => Network::with_params(info.input_shape, specs, params()).map(|network| {
                *slot = Some((key.0, network));
                &mut slot.as_mut().expect("just set").1
            }),
        };
        let result = network.map_err(|e| e.to_string()).and_then(|network| {
            let x = Array1::from(input.clone()).insert_axis(Axis(0));
            network.predict(x.view()).map_err(|e| e.to_string())
        });
        match result {
            Ok(output) => {
                self.probabilities = Some(predictions::probabilities(output.row(0)));
            }
            Err(error) => {
                self.probabilities = None;
                self.message = Some(format!("cannot classify: {error}"));
            }
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
                && let Some(path) = rfd::FileDialog::new()
                    .add_filter("Pictures", &["png", "jpg", "jpeg"])
                    .pick_file()
            {
                self.path_text = path.display().to_string();
                self.open(path);
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
            self.classify(specs, info, snapshot);
        }

        let space = ui.available_size();
        let side = (space.x * 0.45).min(space.y - 24.0).max(120.0);
        ui.horizontal_top(|ui| {
            self.canvas(ui, side);
            ui.vertical(|ui| {
                ui.label(RichText::new("What the network sees (28x28)").weak());
                let preview_side = (side * 0.4).clamp(56.0, 160.0);
                let (rect, _) = ui.allocate_exact_size(Vec2::splat(preview_side), Sense::hover());
                if let Some(input) = &self.input {
                    let texture =
                        self.preview
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
                self.bars(ui, info, (space.x - side - 24.0).max(120.0));
            });
        });
        probe
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
        let (rect, _) = ui.allocate_exact_size(Vec2::new(width.min(420.0), height), Sense::hover());
        let painter = ui.painter_at(rect);
        let text = ui.visuals().text_color();
        let column = rect.width() / probabilities.len() as f32;
        let chart = Rect::from_min_max(
            rect.min + Vec2::new(0.0, 14.0),
            rect.max - Vec2::new(0.0, 16.0),
        );
        for (class, &p) in probabilities.iter().enumerate() {
            let x = rect.left() + column * class as f32;
            let slot =
                Rect::from_x_y_ranges(x + column * 0.15..=x + column * 0.85, chart.y_range());
            painter.rect_filled(slot, 2.0, ui.visuals().extreme_bg_color);
            let color = if class == best {
                palette::POSITIVE
            } else {
                palette::POSITIVE.gamma_multiply(0.55)
            };
            let top = slot.bottom() - slot.height() * p.clamp(0.0, 1.0);
            painter.rect_filled(
                Rect::from_x_y_ranges(slot.x_range(), top..=slot.bottom()),
                2.0,
                color,
            );
            let name = predictions::class_name(info, class).replace("class ", "");
            painter.text(
                Pos2::new(slot.center().x, chart.bottom() + 2.0),
                Align2::CENTER_TOP,
                name,
                FontId::proportional(13.0),
                text,
            );
            if p >= 0.005 {
                painter.text(
                    Pos2::new(slot.center().x, top - 1.0),
                    Align2::CENTER_BOTTOM,
                    format!("{:.0}%", p * 100.0),
                    FontId::proportional(10.0),
                    text,
                );
            }
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

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        let specs = ctx.snapshot.map_or(&[][..], |s| &s.specs[..]);
        if let Some(probe) = self.show(ui, ctx.run.info.as_ref(), specs, ctx.snapshot) {
            ctx.actions.push(ViewAction::SetProbe(probe));
        }
    }
}
