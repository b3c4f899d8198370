//! The layers of the running network with live statistics from the latest snapshot: how big the
//! weights are, how big their gradients are, and how the probe sample activates each layer.

use std::sync::Arc;

use egui::{Grid, RichText, Ui};

use super::background::Background;
use super::fault::contain;
use super::views::heat::counted;
use crate::train::protocol::{LayerSnapshot, RunInfo, Snapshot};

fn mean_abs<'a>(values: impl Iterator<Item = &'a f32>) -> f64 {
    let (sum, count) = values.fold((0.0f64, 0usize), |(s, n), v| {
        (s + f64::from(v.abs()), n + 1)
    });
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// The run in one line ("mnist: 7500 training samples and 1500 test samples of 28x28x1, 10
/// classes; 101770 parameters"), every noun in the number it counts.
fn summary(info: &RunInfo) -> String {
    format!(
        "{}: {} and {} of {}, {}; {}",
        info.dataset,
        counted(info.train_samples, "training sample", "training samples"),
        counted(info.test_samples, "test sample", "test samples"),
        info.input_shape,
        counted(info.classes, "class", "classes"),
        counted(info.parameter_count, "parameter", "parameters"),
    )
}

/// One row of the table, worked out once per snapshot (a CNN has 700k weights to go through).
struct Row {
    name: String,
    output: String,
    weight: Option<f64>,
    grad_weight: Option<f64>,
    bias: Option<f64>,
    probe_mean: f64,
    probe_active: usize,
    probe_len: usize,
}

impl Row {
    fn new(layer: &LayerSnapshot) -> Self {
        let activation = &layer.probe_activation;
        Self {
            name: layer.name.clone(),
            output: layer.output_shape.to_string(),
            weight: layer.weight.as_ref().map(|w| mean_abs(w.iter())),
            grad_weight: layer.grad_weight.as_ref().map(|g| mean_abs(g.iter())),
            bias: layer.bias.as_ref().map(|b| mean_abs(b.iter())),
            probe_mean: activation.iter().map(|&v| f64::from(v)).sum::<f64>()
                / activation.len().max(1) as f64,
            probe_active: activation.iter().filter(|&&v| v > 0.0).count(),
            probe_len: activation.len(),
        }
    }
}

/// The table, with its rows kept until a new snapshot's are ready.
pub struct LayersPanel {
    /// The rows of a snapshot (by id): worked out on a thread for a large network.
    rows: Background<u64, Vec<Row>>,
}

impl Default for LayersPanel {
    fn default() -> Self {
        Self {
            rows: Background::new("layer statistics"),
        }
    }
}

impl LayersPanel {
    /// `dead`: the layers whose ReLUs are all dead on the test batch (marked).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        snapshot: Option<Arc<Snapshot>>,
        dead: &[usize],
    ) {
        let Some(info) = info else {
            ui.label("Loading the data…");
            return;
        };
        ui.label(summary(info));
        let Some(snapshot) = snapshot else {
            return;
        };
        // every weight and gradient is read
        let values = snapshot
            .layers
            .iter()
            .map(|l| l.weight.as_ref().map_or(0, |w| w.len()) * 2)
            .sum();
        let of = snapshot.clone();
        let rows = contain(|| {
            let rows = self.rows.get(ui.ctx(), snapshot.id, values, move || {
                of.layers.iter().map(Row::new).collect()
            });
            rows.map_or(&[][..], |(_, rows)| &rows[..])
        });
        let rows = match rows {
            Ok(rows) => rows,
            Err(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
                return;
            }
        };
        Grid::new("layers").striped(true).num_columns(6).show(ui, |ui| {
            for heading in ["layer", "output", "mean |W|", "mean |dL/dW|", "mean |b|", "probe: mean activation"] {
                ui.label(RichText::new(heading).strong());
            }
            ui.end_row();
            let stat = |value: Option<f64>| value.map_or_else(|| "—".to_string(), |v| format!("{v:.2e}"));
            for (i, row) in rows.iter().enumerate() {
                if dead.contains(&i) {
                    ui.label(RichText::new(format!("{} (dead)", row.name)).color(ui.visuals().error_fg_color))
                        .on_hover_text("Every unit outputs zero for every sample of the test batch: nothing flows through, nothing before it learns");
                } else {
                    ui.label(&row.name);
                }
                ui.label(&row.output);
                ui.label(stat(row.weight)).on_hover_text(
                    "Mean absolute weight: grows when the layer learns strong features, explodes when training diverges",
                );
                ui.label(stat(row.grad_weight)).on_hover_text(
                    "Mean absolute gradient of the last batch: near zero means the layer has stopped learning (or saturated)",
                );
                ui.label(stat(row.bias));
                ui.label(format!("{:.3} ({}/{} > 0)", row.probe_mean, row.probe_active, row.probe_len))
                    .on_hover_text("The first test sample's activations in this layer");
                ui.end_row();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Split;
    use crate::nn::Shape;

    fn info(train_samples: usize, test_samples: usize, classes: usize) -> RunInfo {
        RunInfo {
            dataset: "xor".into(),
            input_shape: Shape::flat(2),
            classes,
            train_samples,
            test_samples,
            parameter_count: 1,
            summary: String::new(),
            test: Arc::new(Split {
                inputs: ndarray::Array2::zeros((test_samples, 2)),
                labels: vec![0; test_samples],
            }),
            train_points: None,
        }
    }

    #[test]
    fn the_summary_counts_in_the_right_number() {
        let one = summary(&info(1, 1, 1));
        assert!(
            one.contains("1 training sample and 1 test sample of")
                && one.contains("1 class;")
                && one.ends_with("1 parameter"),
            "{one}"
        );
        let many = summary(&info(4, 2, 2));
        assert!(
            many.contains("4 training samples and 2 test samples of")
                && many.contains("2 classes;"),
            "{many}"
        );
    }
}
