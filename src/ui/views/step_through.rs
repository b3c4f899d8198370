//! The step-through: one training step walked phase by phase with the actual numbers. The
//! trainer records the step on copies ([`StepTrace`]); this view chooses what to spell out and
//! draws [`step_text`](super::step_text)'s blocks. Nothing in the run changes until Apply.

use std::sync::Arc;

use egui::{Align, Color32, Layout, RichText, Sense, Ui, Vec2};

use super::heat::{self, CachedTexture, Scale};
use super::step_text::{self, Block, Selection, num};
use super::{View, ViewAction, ViewContext};
use crate::nn::{Loss, predicted_class};
use crate::train::controls::Control;
use crate::train::protocol::StepSource;
use crate::train::{Phase, StepTrace};
use crate::ui::palette;

/// Where the learner stands in the step, shared by the views (the graph highlights the phase's
/// layer and chooses units) and the app (arrow keys move it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepCursor {
    /// Index into [`Phase::all`].
    pub phase: usize,
    pub selection: Selection,
    /// Which step to walk through next: the probe alone, or the next batch.
    pub source_is_probe: bool,
    /// The class the probe is trained towards, when it has none of its own (a drawing).
    pub probe_label: Option<usize>,
}

impl StepCursor {
    /// The phase the cursor is on, for a network of `layers` layers.
    pub fn current(&self, layers: usize) -> Phase {
        let all = Phase::all(layers);
        all[self.phase.min(all.len() - 1)]
    }

    pub fn next(&mut self, layers: usize) {
        self.phase = (self.phase + 1).min(Phase::all(layers).len() - 1);
    }

    pub fn previous(&mut self) {
        self.phase = self.phase.saturating_sub(1);
    }

    /// Back to the first phase (a new step).
    pub fn restart(&mut self) {
        self.phase = 0;
        self.selection = Selection::default();
    }
}

/// The finite-difference check of one weight, computed once per trace and weight.
type NumericCheck = ((usize, usize, usize, u64), Option<f64>);

/// What the shown text was written for: the trace, the phase and the learner's choices.
type TextKey = (u64, usize, Selection);

#[derive(Default)]
pub struct StepThroughView {
    /// The text of the phase shown (for tests: what the learner reads), written once per
    /// trace, phase and selection, not every frame.
    pub text: Vec<Block>,
    text_key: Option<TextKey>,
    /// Grows whenever `text` is written again: the pictures' textures are keyed by it.
    text_generation: u64,
    numeric: Option<NumericCheck>,
    /// One texture per picture of the phase shown.
    pictures: Vec<CachedTexture<u64>>,
}

impl StepThroughView {
    fn show(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        let Some(trace) = ctx.run.trace.clone() else {
            self.text.clear();
            self.text_key = None;
            self.start_ui(ui, ctx);
            return;
        };
        let layers = trace.layers.len();
        let all = Phase::all(layers);
        ctx.step.phase = ctx.step.phase.min(all.len() - 1);
        let phase = all[ctx.step.phase];
        self.navigator_ui(ui, ctx, &trace, &all);
        ui.separator();
        self.choices_ui(ui, ctx, &trace, phase);
        let key = (trace.id, ctx.step.phase, ctx.step.selection.clone());
        if self.text_key.as_ref() != Some(&key) {
            let mut blocks = step_text::explain(&trace, phase, &ctx.step.selection);
            if phase == Phase::Check {
                blocks.extend(self.check(&trace, &ctx.step.selection));
            }
            self.text = blocks;
            self.text_key = Some(key);
            self.text_generation += 1;
        }
        let (text, pictures, generation) = (&self.text, &mut self.pictures, self.text_generation);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| blocks_ui(ui, text, pictures, generation));
    }

    /// Before a step is chosen: what the view does, and the two ways in.
    fn start_ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        ui.label(
            "Walk one training step phase by phase: each layer's forward pass with its numbers, \
             the loss, the gradients layer by layer in reverse, then the optimizer's update.",
        );
        if !ctx.hidden.shows(Control::StepThrough) {
            return;
        }
        ui.add_space(6.0);
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Step through the next batch")
                .on_hover_text("The trainer's real next mini-batch; Apply trains it exactly as Step does. Shortcut: T")
                .clicked()
            {
                ctx.step.source_is_probe = false;
                ctx.actions
                    .push(ViewAction::StepThrough(StepSource::NextBatch));
            }
            let probe = ctx.snapshot.map(|s| s.probe.clone());
            if let Some(probe) = probe {
                let label = probe.label.or(ctx.step.probe_label).unwrap_or(0);
                if ui
                    .button(format!("Step through {} alone", probe.name))
                    .on_hover_text("The probe as a batch of one; Apply trains it as one extra step, marked on the curves")
                    .clicked()
                {
                    ctx.step.source_is_probe = true;
                    ctx.actions
                        .push(ViewAction::StepThrough(StepSource::Probe { label }));
                }
            }
        });
    }

    /// Previous / next, where the step stands, Apply and Abandon.
    fn navigator_ui(
        &mut self,
        ui: &mut Ui,
        ctx: &mut ViewContext<'_>,
        trace: &StepTrace,
        all: &[Phase],
    ) {
        let layers = trace.layers.len();
        ui.horizontal_wrapped(|ui| {
            if ui
                .add_enabled(ctx.step.phase > 0, egui::Button::new("< Previous"))
                .on_hover_text("The previous phase. Shortcut: Left arrow")
                .clicked()
            {
                ctx.step.previous();
            }
            ui.label(
                RichText::new(format!(
                    "{} / {}: {}",
                    ctx.step.phase + 1,
                    all.len(),
                    all[ctx.step.phase].title()
                ))
                .strong()
                .size(15.0),
            );
            if ui
                .add_enabled(ctx.step.phase + 1 < all.len(), egui::Button::new("Next >"))
                .on_hover_text("The next phase. Shortcut: Right arrow")
                .clicked()
            {
                ctx.step.next(layers);
            }
            ui.separator();
            let apply = if ctx.step.source_is_probe {
                "Apply as a training step"
            } else {
                "Apply (train this batch)"
            };
            if ui
                .button(RichText::new(apply).strong())
                .on_hover_text(
                    "Train this step for real: the step count goes up by one. Shortcut: Enter",
                )
                .clicked()
            {
                ctx.actions.push(ViewAction::ApplyStep);
            }
            if ui
                .button("Abandon")
                .on_hover_text("Leave the step-through without training this step: the weights and the step count stay as they are (a loss switched here stays switched). Shortcut: Esc")
                .clicked()
            {
                ctx.actions.push(ViewAction::AbandonStep);
            }
        });
        ui.label(
            RichText::new(format!(
                "step {} · {} · {} · lr {}",
                trace.step,
                trace.settings.loss.name(),
                trace.settings.optimizer.optimizer.name(),
                num(f64::from(trace.settings.optimizer.learning_rate))
            ))
            .weak(),
        );
    }

    /// The row of the batch, the unit and input whose numbers are spelled out, and in the loss
    /// phase the loss itself.
    fn choices_ui(
        &mut self,
        ui: &mut Ui,
        ctx: &mut ViewContext<'_>,
        trace: &StepTrace,
        phase: Phase,
    ) {
        let batch = trace.targets.nrows();
        ui.horizontal_wrapped(|ui| {
            if batch > 1 {
                ui.label("sample row");
                ui.add(egui::DragValue::new(&mut ctx.step.selection.row).range(0..=batch - 1))
                    .on_hover_text("Which sample of the batch the per-sample numbers are for");
            }
            if let Some(layer) = phase.layer() {
                let record = &trace.layers[layer];
                let units = record.a.ncols();
                let mut unit = step_text::chosen_unit(trace, layer, &ctx.step.selection);
                if record.weight_before.is_some() || units <= 4096 {
                    ui.label("unit");
                    if ui
                        .add(egui::DragValue::new(&mut unit).range(0..=units - 1))
                        .on_hover_text("Whose numbers are spelled out (or click a node in the Network view)")
                        .changed()
                    {
                        ctx.step.selection.choose_unit(layer, unit);
                    }
                }
                if let Some(w) = &record.weight_before {
                    let mut input = step_text::chosen_weight(trace, layer, &ctx.step.selection)
                        .map_or(0, |(_, col)| col);
                    ui.label("input");
                    if ui
                        .add(egui::DragValue::new(&mut input).range(0..=w.ncols() - 1))
                        .on_hover_text("Which weight of the unit the gradient and update spell out (or click an edge)")
                        .changed()
                    {
                        ctx.step.selection.choose_input(layer, input);
                    }
                }
            }
            if phase == Phase::Loss && ctx.hidden.shows(Control::Loss) {
                ui.separator();
                ui.label("loss");
                for loss in Loss::ALL {
                    let chosen = trace.settings.loss == loss;
                    if ui
                        .selectable_label(chosen, loss.name())
                        .on_hover_text(format!(
                            "{}: switch the run's loss (a marked change, as in the settings panel) and recompute this phase and every one after it",
                            loss.formula(trace.output_activation())
                        ))
                        .clicked()
                        && !chosen
                    {
                        ctx.actions.push(ViewAction::ChangeLoss(loss));
                    }
                }
            }
            if ctx.step.source_is_probe && trace.samples.is_none() {
                ui.separator();
                let classes = ctx.info().map_or(2, |i| i.classes);
                let mut label = trace_label(trace);
                ui.label("target class");
                if ui
                    .add(egui::DragValue::new(&mut label).range(0..=classes - 1))
                    .on_hover_text("The class the probe is trained towards")
                    .changed()
                {
                    ctx.step.probe_label = Some(label);
                    ctx.actions
                        .push(ViewAction::StepThrough(StepSource::Probe { label }));
                }
            }
        });
    }

    /// The loss before and after, and the chosen weight's gradient by finite differences.
    fn check(&mut self, trace: &Arc<StepTrace>, selection: &Selection) -> Vec<Block> {
        let Some(layer) = (0..trace.layers.len())
            .rev()
            .find(|&l| trace.layers[l].weight_before.is_some())
        else {
            return Vec::new();
        };
        let layer = (0..trace.layers.len())
            .find(|&l| selection.unit(l).is_some() && trace.layers[l].weight_before.is_some())
            .unwrap_or(layer);
        let Some((row, col)) = step_text::chosen_weight(trace, layer, selection) else {
            return Vec::new();
        };
        let key = (layer, row, col, trace.id);
        let numeric = match self.numeric {
            Some((cached, value)) if cached == key => value,
            _ => {
                let value = trace.numeric_gradient(layer, row, col);
                self.numeric = Some((key, value));
                value
            }
        };
        let analytic = trace.layers[layer]
            .grad_weight
            .as_ref()
            .map_or(0.0, |g| f64::from(g[(row, col)]));
        let Some(numeric) = numeric else {
            return Vec::new();
        };
        vec![
            Block::Formula(format!(
                "layer {layer}, W[{row},{col}]:  analytic dL/dW = {}   numeric (L(w + h) - L(w - h)) / 2h = {}",
                num(analytic),
                num(numeric)
            )),
            Block::Text(check_verdict(analytic, numeric)),
        ]
    }
}

/// What the finite-difference check says: agreement within the rounding a difference quotient
/// of an f32 network carries, or the likely reason it is further off.
fn check_verdict(analytic: f64, numeric: f64) -> String {
    let difference = (analytic - numeric).abs();
    let scale = analytic.abs().max(numeric.abs());
    if difference <= 1e-2 * scale + 1e-4 {
        format!(
            "They differ by {} (h = 0.001): backpropagation computed the same derivative as \
             nudging the weight and measuring the loss.",
            num(difference)
        )
    } else {
        format!(
            "They differ by {}: more than the difference quotient's own rounding. Near a kink \
             (a ReLU unit or a pooling window that changes its winner within h) the quotient \
             measures the kink, not the slope; try another weight or a single sample.",
            num(difference)
        )
    }
}

/// The class the trace trains towards (its first row's target).
fn trace_label(trace: &StepTrace) -> usize {
    predicted_class(trace.targets.row(0))
}

/// Draws the blocks: formulas in a monospace font, tables as grids, pictures with their scale,
/// summaries with a histogram.
/// `generation` changes whenever the blocks do: the pictures are remade then and only then.
fn blocks_ui(
    ui: &mut Ui,
    blocks: &[Block],
    pictures: &mut Vec<CachedTexture<u64>>,
    generation: u64,
) {
    let mut picture = 0;
    for (k, block) in blocks.iter().enumerate() {
        match block {
            Block::Heatmap {
                what,
                width,
                height,
                values,
            } => {
                if pictures.len() <= picture {
                    pictures.push(CachedTexture::new("step-through picture"));
                }
                let scale = Scale::fitting(values.iter());
                let texture =
                    pictures[picture].get(ui, generation, egui::TextureOptions::NEAREST, || {
                        heat::image(values, *width, *height, scale)
                    });
                picture += 1;
                ui.label(what);
                ui.horizontal(|ui| {
                    let side = 160.0f32.min(ui.available_width() - 70.0).max(40.0);
                    let size = Vec2::new(side, side * *height as f32 / (*width).max(1) as f32);
                    ui.image((texture.id(), size));
                    heat::color_bar(ui, scale, size.y.max(60.0));
                });
            }
            Block::Formula(text) => {
                ui.add(egui::Label::new(RichText::new(text).monospace()).wrap());
            }
            Block::Text(text) => {
                ui.add(egui::Label::new(text.as_str()).wrap());
            }
            Block::Table {
                header,
                rows,
                highlight,
            } => {
                egui::Grid::new(("step-table", k))
                    .striped(true)
                    .spacing([12.0, 2.0])
                    .show(ui, |ui| {
                        for cell in header {
                            ui.label(RichText::new(cell).strong());
                        }
                        ui.end_row();
                        for (r, cells) in rows.iter().enumerate() {
                            for cell in cells {
                                let text = RichText::new(cell).monospace();
                                ui.label(if Some(r) == *highlight {
                                    text.strong().color(ui.visuals().selection.stroke.color)
                                } else {
                                    text
                                });
                            }
                            ui.end_row();
                        }
                    });
            }
            Block::Summary {
                what,
                min,
                mean,
                max,
                counts,
            } => {
                ui.label(format!(
                    "{what}: min {}, mean {}, max {}",
                    num(f64::from(*min)),
                    num(f64::from(*mean)),
                    num(f64::from(*max))
                ));
                histogram_ui(ui, counts);
            }
        }
        ui.add_space(3.0);
    }
}

fn histogram_ui(ui: &mut Ui, counts: &[usize]) {
    let size = Vec2::new(ui.available_width().min(320.0), 40.0);
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let most = counts.iter().copied().max().unwrap_or(1).max(1) as f32;
    let width = rect.width() / counts.len().max(1) as f32;
    for (i, &count) in counts.iter().enumerate() {
        let height = rect.height() * count as f32 / most;
        let bar = egui::Rect::from_min_max(
            egui::pos2(rect.left() + width * i as f32 + 1.0, rect.bottom() - height),
            egui::pos2(rect.left() + width * (i + 1) as f32 - 1.0, rect.bottom()),
        );
        ui.painter().rect_filled(bar, 0.0, palette::POSITIVE);
    }
    ui.painter().line_segment(
        [rect.left_bottom(), rect.right_bottom()],
        egui::Stroke::new(1.0, Color32::GRAY),
    );
}

impl View for StepThroughView {
    fn id(&self) -> &'static str {
        "step"
    }

    fn title(&self) -> &'static str {
        "Step through"
    }

    fn tooltip(&self) -> &'static str {
        "One training step phase by phase, with every number: forward, loss, backward, update"
    }

    fn min_size(&self) -> egui::Vec2 {
        // the phase list, the explanation and a table
        egui::Vec2::new(330.0, 240.0)
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        ui.with_layout(Layout::top_down(Align::Min), |ui| self.show(ui, ctx));
    }
}
