//! The layers of the running network with live statistics from the latest snapshot: how big the
//! weights are, how big their gradients are, and how the probe sample activates each layer.

use egui::{Grid, RichText, Ui};

use crate::train::worker::{RunInfo, Snapshot};

fn mean_abs<'a>(values: impl Iterator<Item = &'a f32>) -> f64 {
    let (sum, count) = values.fold((0.0f64, 0usize), |(s, n), v| {
        (s + f64::from(v.abs()), n + 1)
    });
    if count == 0 { 0.0 } else { sum / count as f64 }
}

pub fn ui(ui: &mut Ui, info: Option<&RunInfo>, snapshot: Option<&Snapshot>) {
    let Some(info) = info else {
        ui.label("Loading the data…");
        return;
    };
    ui.label(format!(
        "{}: {} training and {} test samples of {}, {} classes; {} parameters",
        info.dataset,
        info.train_samples,
        info.test_samples,
        info.input_shape,
        info.classes,
        info.parameter_count
    ));
    let Some(snapshot) = snapshot else {
        return;
    };
    Grid::new("layers").striped(true).num_columns(6).show(ui, |ui| {
        for heading in ["layer", "output", "mean |W|", "mean |dL/dW|", "mean |b|", "probe: mean activation"] {
            ui.label(RichText::new(heading).strong());
        }
        ui.end_row();
        for layer in &snapshot.layers {
            ui.label(&layer.name);
            ui.label(layer.output_shape.to_string());
            let stat = |values: Option<f64>| values.map_or_else(|| "—".to_string(), |v| format!("{v:.2e}"));
            ui.label(stat(layer.weight.as_ref().map(|w| mean_abs(w.iter()))))
                .on_hover_text("Mean absolute weight: grows when the layer learns strong features, explodes when training diverges");
            ui.label(stat(layer.grad_weight.as_ref().map(|g| mean_abs(g.iter()))))
                .on_hover_text("Mean absolute gradient of the last batch: near zero means the layer has stopped learning (or saturated)");
            ui.label(stat(layer.bias.as_ref().map(|b| mean_abs(b.iter()))));
            let activation = &layer.probe_activation;
            let mean = activation.iter().map(|&v| f64::from(v)).sum::<f64>() / activation.len().max(1) as f64;
            let active = activation.iter().filter(|&&v| v > 0.0).count();
            ui.label(format!("{mean:.3} ({active}/{} > 0)", activation.len()))
                .on_hover_text("The first test sample's activations in this layer");
            ui.end_row();
        }
    });
}
