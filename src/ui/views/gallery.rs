//! A gallery of test predictions: each test image with its true label and top-3 probability
//! bars, green when right and red when wrong; clicking one makes it the probe sample.

use std::sync::Arc;

use egui::Ui;

use super::heat;
use super::predictions::{self, TestImages};
use super::{View, ViewAction, ViewContext};
use crate::nn::predicted_class;
use crate::train::protocol::{Probe, RunInfo, Snapshot};

#[derive(Default)]
pub struct GalleryView {
    pub only_mistakes: bool,
}

impl GalleryView {
    fn show(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        snapshot: Option<&Arc<Snapshot>>,
        images: &mut TestImages,
    ) -> Option<Probe> {
        let Some(info) = info else {
            ui.label("Waiting for the trainer...");
            return None;
        };
        let snapshot = snapshot?;
        let Some(outputs) = snapshot.test_outputs.as_ref() else {
            ui.label("Waiting for the first test evaluation...");
            return None;
        };
        if outputs.outputs.nrows() != info.test.len() {
            return None;
        }
        let labels = &info.test.labels;
        let shown: Vec<usize> = (0..labels.len())
            .filter(|&i| {
                !self.only_mistakes || predicted_class(outputs.outputs.row(i)) != labels[i]
            })
            .collect();
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.only_mistakes, "Only mistakes")
                .on_hover_text("Show only the test samples the model gets wrong");
            ui.label(format!(
                "{} of {}, predictions at step {}; probe: {}",
                shown.len(),
                heat::counted(labels.len(), "test sample", "test samples"),
                outputs.step,
                snapshot.probe.name
            ));
        });
        predictions::card_grid(
            ui,
            "gallery",
            images,
            info,
            outputs,
            &shown,
            snapshot.probe.test_index,
        )
    }
}

impl View for GalleryView {
    fn id(&self) -> &'static str {
        "gallery"
    }

    fn title(&self) -> &'static str {
        "Predictions"
    }

    fn tooltip(&self) -> &'static str {
        "Test images with their top-3 predictions; click one to make it the probe"
    }

    fn unavailable(&self, info: &RunInfo) -> Option<&'static str> {
        Some("needs image inputs (MNIST)").filter(|_| info.input_shape.is_flat())
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        if let Some(probe) = self.show(ui, ctx.run.info.as_ref(), ctx.snapshot, ctx.images) {
            ctx.actions.push(ViewAction::SetProbe(probe));
        }
    }
}
