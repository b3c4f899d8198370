//! The confusion matrix of the latest test evaluation: rows are true classes, columns predicted
//! ones; clicking a cell lists the examples behind it with their predicted probabilities.

use std::sync::Arc;

use egui::{Align2, FontId, Pos2, Rect, Sense, Stroke, Ui, Vec2};

use super::heat;
use super::predictions::{self, TestImages};
use super::{View, ViewAction, ViewContext};
use crate::nn::predicted_class;
use crate::train::protocol::{Probe, RunInfo, Snapshot, TestOutputs};
use crate::ui::palette;

#[derive(Default)]
pub struct ConfusionView {
    /// The clicked cell: (true class, predicted class).
    pub selected: Option<(usize, usize)>,
    /// counts[true][predicted] of the outputs last shown.
    pub counts: Vec<Vec<usize>>,
    counted: Option<Arc<TestOutputs>>,
    /// Where the last frame drew the cells.
    pub grid_rect: Option<Rect>,
}

/// counts[true][predicted] over the test split.
pub fn confusion(outputs: &TestOutputs, labels: &[usize], classes: usize) -> Vec<Vec<usize>> {
    let classes = classes.max(2);
    let mut counts = vec![vec![0; classes]; classes];
    for (row, &label) in outputs.outputs.rows().into_iter().zip(labels) {
        let predicted = predicted_class(row).min(classes - 1);
        counts[label.min(classes - 1)][predicted] += 1;
    }
    counts
}

impl ConfusionView {
    /// The test samples in the selected cell, in test-split order.
    pub fn examples(&self, info: &RunInfo) -> Vec<usize> {
        let (Some((truth, predicted)), Some(outputs)) = (self.selected, &self.counted) else {
            return Vec::new();
        };
        info.test
            .labels
            .iter()
            .zip(outputs.outputs.rows())
            .enumerate()
            .filter(|(_, (label, row))| **label == truth && predicted_class(*row) == predicted)
            .map(|(i, _)| i)
            .collect()
    }

    fn show(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        snapshot: Option<&Arc<Snapshot>>,
        images: &mut TestImages,
    ) -> Option<Probe> {
        self.grid_rect = None;
        let Some(info) = info else {
            ui.label("Waiting for the trainer...");
            return None;
        };
        let Some(outputs) = snapshot.and_then(|s| s.test_outputs.clone()) else {
            ui.label("Waiting for the first test evaluation...");
            return None;
        };
        if outputs.outputs.nrows() != info.test.len() {
            ui.label("Waiting for the new run's first evaluation...");
            return None;
        }
        if !self
            .counted
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(c, &outputs))
        {
            self.counts = confusion(&outputs, &info.test.labels, info.classes);
            self.counted = Some(outputs.clone());
        }
        let classes = self.counts.len();
        let total: usize = self.counts.iter().flatten().sum();
        let right: usize = (0..classes).map(|k| self.counts[k][k]).sum();
        ui.label(format!(
            "{total} test samples at step {}: {right} right ({:.1}%). Rows: true class, columns: predicted. Click a cell for its examples.",
            outputs.step,
            100.0 * right as f64 / total.max(1) as f64
        ));

        let mut probe = None;
        let space = ui.available_size();
        let list_width = if self.selected.is_some() {
            (space.x * 0.3).max(predictions::CARD_SIZE.x + 24.0)
        } else {
            0.0
        };
        let side = (space.x - list_width - 16.0).min(space.y - 8.0).max(120.0);
        ui.horizontal_top(|ui| {
            let (rect, response) = ui.allocate_exact_size(Vec2::splat(side), Sense::click());
            self.matrix(ui, rect, &response, info);
            if self.selected.is_some() {
                ui.vertical(|ui| {
                    probe = self.example_list(ui, info, &outputs, images);
                });
            }
        });
        probe
    }

    fn matrix(&mut self, ui: &Ui, rect: Rect, response: &egui::Response, info: &RunInfo) {
        let classes = self.counts.len();
        let painter = ui.painter_at(rect);
        // room for the row labels at the left, "predicted" and the column labels on top
        let grid = Rect::from_min_size(
            rect.min + Vec2::new(26.0, 40.0),
            Vec2::splat(rect.width() - 40.0),
        );
        self.grid_rect = Some(grid);
        let cell = grid.width() / classes as f32;
        let text = ui.visuals().text_color();
        let font = FontId::proportional((cell * 0.3).clamp(9.0, 16.0));
        painter.text(
            Pos2::new(grid.center().x, rect.top()),
            Align2::CENTER_TOP,
            "predicted",
            FontId::proportional(12.0),
            text,
        );
        for k in 0..classes {
            let name = predictions::class_name(info, k).replace("class ", "");
            painter.text(
                Pos2::new(grid.left() + cell * (k as f32 + 0.5), grid.top() - 2.0),
                Align2::CENTER_BOTTOM,
                &name,
                font.clone(),
                text,
            );
            painter.text(
                Pos2::new(grid.left() - 4.0, grid.top() + cell * (k as f32 + 0.5)),
                Align2::RIGHT_CENTER,
                &name,
                font.clone(),
                text,
            );
        }
        for (t, row) in self.counts.iter().enumerate() {
            let row_total = row.iter().sum::<usize>().max(1) as f32;
            for (p, &count) in row.iter().enumerate() {
                let cell_rect = Rect::from_min_size(
                    grid.min + Vec2::new(cell * p as f32, cell * t as f32),
                    Vec2::splat(cell),
                );
                let share = count as f32 / row_total;
                let color = if t == p {
                    palette::CORRECT
                } else {
                    palette::WRONG
                };
                let fill = ui
                    .visuals()
                    .extreme_bg_color
                    .lerp_to_gamma(color, share.sqrt());
                painter.rect_filled(cell_rect.shrink(0.5), 2.0, fill);
                if self.selected == Some((t, p)) {
                    painter.rect_stroke(
                        cell_rect.shrink(1.0),
                        2.0,
                        Stroke::new(2.5, ui.visuals().strong_text_color()),
                        egui::StrokeKind::Inside,
                    );
                }
                if count > 0 {
                    painter.text(
                        cell_rect.center(),
                        Align2::CENTER_CENTER,
                        count.to_string(),
                        font.clone(),
                        ui.visuals().strong_text_color(),
                    );
                }
            }
        }
        let under = response
            .hover_pos()
            .and_then(|p| heat::cell_at(grid, classes, classes, p))
            .map(|(p, t)| (t, p));
        if let Some((t, p)) = under {
            response.clone().on_hover_text_at_pointer(format!(
                "true {}, predicted {}: {} examples",
                predictions::class_name(info, t),
                predictions::class_name(info, p),
                self.counts[t][p]
            ));
            if response.clicked() {
                self.selected = if self.selected == Some((t, p)) {
                    None
                } else {
                    Some((t, p))
                };
            }
        }
    }

    fn example_list(
        &mut self,
        ui: &mut Ui,
        info: &RunInfo,
        outputs: &TestOutputs,
        images: &mut TestImages,
    ) -> Option<Probe> {
        let (t, p) = self.selected?;
        let examples = self.examples(info);
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!(
                "true {}, predicted {}: {} examples",
                predictions::class_name(info, t),
                predictions::class_name(info, p),
                examples.len()
            ));
            if ui.small_button("Close").clicked() {
                self.selected = None;
            }
        });
        predictions::card_grid(
            ui,
            "confusion-examples",
            images,
            info,
            outputs,
            &examples,
            None,
        )
    }
}

impl View for ConfusionView {
    fn id(&self) -> &'static str {
        "confusion"
    }

    fn title(&self) -> &'static str {
        "Confusion matrix"
    }

    fn tooltip(&self) -> &'static str {
        "True against predicted class on the test split; click a cell for its examples"
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        if let Some(probe) = self.show(ui, ctx.run.info.as_ref(), ctx.snapshot, ctx.images) {
            ctx.actions.push(ViewAction::SetProbe(probe));
        }
    }
}
