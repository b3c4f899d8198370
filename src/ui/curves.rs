//! The loss and accuracy curves: raw training loss faint behind its smoothed line, test loss
//! and accuracy from the periodic evaluations, and a labelled marker at every setting change.

use egui::Ui;
use egui_plot::{HoverPosition, Legend, Line, Plot, PlotPoint, PlotPoints, Points, Text, VLine};
use serde::{Deserialize, Serialize};

use super::palette;
use super::run_view::RunView;
use super::series::Point;

/// Points drawn per line at most (a plot is not wider than this in pixels).
const MAX_DRAWN: usize = 1600;

/// What the x axis counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum XAxis {
    #[default]
    Steps,
    Epochs,
}

/// The curve options a user sets (persisted between launches).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvesPanel {
    /// TensorBoard-style smoothing weight, 0 (raw) to 0.99.
    pub smoothing: f64,
    pub log_scale: bool,
    pub x_axis: XAxis,
}

impl Default for CurvesPanel {
    fn default() -> Self {
        Self {
            smoothing: 0.6,
            log_scale: false,
            x_axis: XAxis::Steps,
        }
    }
}

impl CurvesPanel {
    fn x(&self, p: &Point) -> f64 {
        match self.x_axis {
            XAxis::Steps => p.step,
            XAxis::Epochs => p.epochs,
        }
    }

    /// log10 of the loss on a log scale (the axis labels show the loss itself).
    fn y(&self, value: f64) -> f64 {
        if self.log_scale {
            value.max(1e-12).log10()
        } else {
            value
        }
    }

    /// The points of a line, at most about MAX_DRAWN of them: beyond that, each bucket of
    /// neighbours keeps its lowest and its highest point (in order), so spikes stay visible.
    pub fn line_points(&self, points: &[Point]) -> PlotPoints<'static> {
        let xy = |p: &Point| [self.x(p), self.y(p.value)];
        if points.len() <= MAX_DRAWN {
            return points.iter().map(xy).collect();
        }
        let bucket = points.len().div_ceil(MAX_DRAWN / 2);
        points
            .chunks(bucket)
            .flat_map(|chunk| {
                let by_value = |a: &&Point, b: &&Point| a.value.total_cmp(&b.value);
                let low = chunk.iter().min_by(by_value).unwrap_or(&chunk[0]);
                let high = chunk.iter().max_by(by_value).unwrap_or(&chunk[0]);
                if low.step <= high.step {
                    [low, high]
                } else {
                    [high, low]
                }
            })
            .map(xy)
            .collect()
    }

    pub fn ui(&mut self, ui: &mut Ui, run: &RunView) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Smoothing");
            ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.99))
                .on_hover_text("Exponential moving average of the training loss, as TensorBoard draws it: s = w * s + (1 - w) * loss");
            ui.checkbox(&mut self.log_scale, "Log scale")
                .on_hover_text("Loss axis in powers of ten: small losses stay visible");
            ui.label("x axis:");
            ui.selectable_value(&mut self.x_axis, XAxis::Steps, "steps")
                .on_hover_text("One step is one mini-batch and one update");
            ui.selectable_value(&mut self.x_axis, XAxis::Epochs, "epochs")
                .on_hover_text("One epoch is one pass over the training split");
        });
        let height = ui.available_height();
        let accuracy_height = (height * 0.35).max(60.0);
        self.loss_plot(ui, run, (height - accuracy_height - 8.0).max(80.0));
        self.accuracy_plot(ui, run, accuracy_height);
    }

    fn x_label(&self) -> &'static str {
        match self.x_axis {
            XAxis::Steps => "step",
            XAxis::Epochs => "epoch",
        }
    }

    fn loss_plot(&self, ui: &mut Ui, run: &RunView, height: f32) {
        let log_scale = self.log_scale;
        let x_label = self.x_label();
        let plot = Plot::new("loss")
            .height(height)
            .legend(Legend::default())
            .x_axis_label(x_label)
            .x_axis_formatter(|mark, _| short_number(mark.value))
            .y_axis_label(if log_scale { "loss (log)" } else { "loss" })
            .y_axis_formatter(move |mark, _| {
                if log_scale {
                    format_value(10f64.powf(mark.value))
                } else {
                    format_value(mark.value)
                }
            })
            .label_formatter(move |hover| {
                let (name, position) = hover_parts(hover);
                let value = if log_scale {
                    10f64.powf(position.y)
                } else {
                    position.y
                };
                Some(format!(
                    "{name}\n{x_label} {:.2}\nloss {}",
                    position.x,
                    format_value(value)
                ))
            });
        let raw = run.train_loss.points();
        let smoothed = run.train_loss.smoothed(self.smoothing);
        let top = smoothed
            .iter()
            .chain(run.test_loss.points())
            .map(|p| self.y(p.value))
            .fold(f64::NEG_INFINITY, f64::max);
        plot.show(ui, |plot_ui| {
            if self.smoothing > 0.0 {
                plot_ui.line(
                    Line::new("train loss (raw)", self.line_points(raw))
                        .color(palette::faint(palette::TRAIN)),
                );
            }
            plot_ui.line(
                Line::new("train loss", self.line_points(&smoothed))
                    .color(palette::TRAIN)
                    .width(2.0),
            );
            let test = run.test_loss.points();
            plot_ui.line(
                Line::new("test loss", self.line_points(test))
                    .color(palette::TEST)
                    .width(2.0),
            );
            plot_ui.points(
                Points::new("test loss", self.line_points(test))
                    .color(palette::TEST)
                    .radius(2.5),
            );
            self.markers(plot_ui, run, top);
        });
    }

    fn accuracy_plot(&self, ui: &mut Ui, run: &RunView, height: f32) {
        let x_label = self.x_label();
        let plot = Plot::new("accuracy")
            .height(height)
            .legend(Legend::default())
            .x_axis_label(x_label)
            .x_axis_formatter(|mark, _| short_number(mark.value))
            .y_axis_label("accuracy")
            .include_y(0.0)
            .include_y(1.0)
            .y_axis_formatter(|mark, _| format!("{:.0}%", 100.0 * mark.value))
            .label_formatter(move |hover| {
                let (name, position) = hover_parts(hover);
                Some(format!(
                    "{name}\n{x_label} {:.2}\naccuracy {:.2}%",
                    position.x,
                    100.0 * position.y
                ))
            });
        let accuracy: PlotPoints = run
            .test_accuracy
            .points()
            .iter()
            .map(|p| [self.x(p), p.value])
            .collect();
        plot.show(ui, |plot_ui| {
            plot_ui.line(
                Line::new("test accuracy", accuracy)
                    .color(palette::TEST)
                    .width(2.0),
            );
            self.markers(plot_ui, run, 1.0);
        });
    }

    /// A vertical line with its label at every setting change.
    fn markers(&self, plot_ui: &mut egui_plot::PlotUi<'_>, run: &RunView, top: f64) {
        for marker in &run.markers {
            let x = match self.x_axis {
                XAxis::Steps => marker.step as f64,
                XAxis::Epochs => marker.epochs,
            };
            let label = marker.label.clone();
            // unnamed, so that the markers stay out of the legend
            plot_ui.vline(VLine::new("", x).color(palette::MARKER).width(1.5));
            if top.is_finite() {
                let text = egui::RichText::new(format!(" {label}"))
                    .color(palette::MARKER)
                    .strong()
                    .size(15.0);
                plot_ui.text(
                    Text::new("", PlotPoint::new(x, top), text).anchor(egui::Align2::LEFT_TOP),
                );
            }
        }
    }
}

/// The name of the curve under the pointer (empty elsewhere) and the position.
fn hover_parts<'a>(hover: &HoverPosition<'a>) -> (&'a str, PlotPoint) {
    match *hover {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => (plot_name, position),
        HoverPosition::Elsewhere { position } => ("", position),
    }
}

/// A loss or axis value in a readable number of digits.
/// An axis label short enough to fit a small plot: 950, 12k, 1.5k, 1.2M, 0.25.
pub fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    let trimmed = |text: String| {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    if magnitude >= 1e9 {
        format!("{}G", trimmed(format!("{:.1}", value / 1e9)))
    } else if magnitude >= 1e6 {
        format!("{}M", trimmed(format!("{:.1}", value / 1e6)))
    } else if magnitude >= 1e4 {
        format!("{}k", trimmed(format!("{:.0}", value / 1e3)))
    } else if magnitude >= 1e3 {
        format!("{}k", trimmed(format!("{:.1}", value / 1e3)))
    } else {
        trimmed(format!("{value:.2}"))
    }
}

fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&magnitude) {
        format!("{value:.1e}")
    } else if magnitude < 1.0 {
        format!("{value:.4}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::short_number;

    #[test]
    fn axis_labels_are_short() {
        let cases = [
            (0.0, "0"),
            (0.25, "0.25"),
            (1.5, "1.5"),
            (300.0, "300"),
            (950.0, "950"),
            (1500.0, "1.5k"),
            (2000.0, "2k"),
            (12_000.0, "12k"),
            (250_000.0, "250k"),
            (1_200_000.0, "1.2M"),
            (3_000_000_000.0, "3G"),
            (-1500.0, "-1.5k"),
        ];
        for (value, expected) in cases {
            assert_eq!(short_number(value), expected, "{value}");
        }
    }
}
