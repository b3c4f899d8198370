//! Everything the app knows about the run, built only from the worker's updates.

use std::sync::Arc;

use crate::train::StepTrace;
use crate::train::health::HealthAlert;
use crate::train::histogram::HistogramHistory;
use crate::train::protocol::{EvaluationPoint, Restore, RunInfo, Status, Update};
use crate::train::timeline::TimelineSummary;

use super::series::Series;
use crate::train::cost::group_digits;

/// The label of a step trained by hand.
const MANUAL_STEP: &str = "manual step";

/// Points kept per curve (see [`Series`]).
const CURVE_CAPACITY: usize = 8192;

/// Something the user must see.
#[derive(Clone, Debug, PartialEq)]
pub enum Alert {
    /// The loss blew up; training paused.
    Diverged { step: u64, message: String },
    /// The run could not start or go on.
    Failed(String),
    /// The trainer thread panicked.
    Crashed(String),
    /// A change was refused; nothing changed.
    Refused(String),
}

/// A labelled moment on the curves: a setting change, or a step trained by hand.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// The step count when it happened (a change applies from the next step on).
    pub step: u64,
    pub epochs: f64,
    pub label: String,
}

/// A past state of the run on show: the kept step nearest the one asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Viewing {
    pub requested: u64,
    pub shown: u64,
    pub epochs: f64,
}

impl Viewing {
    /// "step 1,200 · epoch 3.40", and "(nearest kept to 1,234)" if another was asked for.
    pub fn short(&self) -> String {
        let mut text = format!(
            "step {} · epoch {:.2}",
            group_digits(self.shown as usize),
            self.epochs
        );
        if self.requested != self.shown {
            text += &format!(
                " (nearest kept to {})",
                group_digits(self.requested as usize)
            );
        }
        text
    }

    /// "step 1,200 (epoch 3.40)", and which step was asked for if another was kept.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "step {} (epoch {:.2})",
            group_digits(self.shown as usize),
            self.epochs
        );
        if self.requested != self.shown {
            text += &format!(
                ": step {} was not kept, this is the nearest kept step",
                group_digits(self.requested as usize)
            );
        }
        text
    }
}

pub struct RunView {
    pub info: Option<RunInfo>,
    pub status: Status,
    pub train_loss: Series,
    /// Each batch's accuracy (before its update), as the loss.
    pub train_accuracy: Series,
    pub test_loss: Series,
    pub test_accuracy: Series,
    pub markers: Vec<Marker>,
    pub alert: Option<Alert>,
    /// What the health watch said, newest last, one per kind (dismissed ones removed).
    pub health: Vec<HealthAlert>,
    /// The ReLU layers dead on the test batch at the last evaluation.
    pub dead_layers: Vec<usize>,
    /// The run length was reached: (step, epochs); cleared when training goes on.
    pub finished: Option<(u64, usize)>,
    /// The step being stepped through, as the trainer recorded it.
    pub trace: Option<Arc<StepTrace>>,
    /// The fork's step and fractional epochs, once there is one.
    pub fork: Option<(u64, f64)>,
    /// The past state on show, if one is.
    pub viewing: Option<Viewing>,
    /// The states the trainer keeps of the run's past.
    pub timeline: TimelineSummary,
    pub histograms: HistogramHistory,
}

impl Default for RunView {
    fn default() -> Self {
        Self {
            info: None,
            status: Status::default(),
            train_loss: Series::new(CURVE_CAPACITY),
            train_accuracy: Series::new(CURVE_CAPACITY),
            test_loss: Series::new(CURVE_CAPACITY),
            test_accuracy: Series::new(CURVE_CAPACITY),
            markers: Vec::new(),
            alert: None,
            health: Vec::new(),
            dead_layers: Vec::new(),
            finished: None,
            trace: None,
            fork: None,
            viewing: None,
            timeline: TimelineSummary::default(),
            histograms: HistogramHistory::default(),
        }
    }
}

impl RunView {
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Ready(info) => self.info = Some(info),
            Update::Losses(points) => {
                for p in points {
                    self.train_loss
                        .push(p.step as f64, p.epochs, f64::from(p.loss));
                    self.train_accuracy
                        .push(p.step as f64, p.epochs, f64::from(p.accuracy));
                }
            }
            Update::Evaluated(EvaluationPoint { step, epochs, test }) => {
                self.test_loss.push(step as f64, epochs, test.loss);
                self.test_accuracy.push(step as f64, epochs, test.accuracy);
            }
            Update::Changed { event, epochs } => self.markers.push(Marker {
                step: event.step,
                epochs,
                label: event.change.label(),
            }),
            Update::ManualStep { step, epochs } => self.markers.push(Marker {
                step,
                epochs,
                label: MANUAL_STEP.into(),
            }),
            Update::Traced(trace) => self.trace = Some(trace),
            Update::StepThroughEnded => self.trace = None,
            Update::Status(status) => {
                if status.running {
                    self.finished = None;
                }
                self.status = status;
            }
            Update::Health(alert) => {
                let kind = std::mem::discriminant(&alert);
                self.health.retain(|a| std::mem::discriminant(a) != kind);
                self.health.push(alert);
            }
            Update::DeadLayers(layers) => self.dead_layers = layers,
            Update::Finished { step, epochs } => self.finished = Some((step, epochs)),
            // the app writes it to the file it is for
            Update::State { .. } => {}
            // the lesson being played takes it (see `ui::app::lesson`)
            Update::Reached { .. } => {}
            Update::Forked { step, epochs } => self.fork = Some((step, epochs)),
            Update::Restored {
                step,
                epochs,
                why,
                changes_at_step,
                ..
            } => self.restored(step, epochs, why, changes_at_step),
            Update::Timeline(summary) => self.timeline = summary,
            Update::Histograms(frame) => self.histograms.push((*frame).clone()),
            Update::Diverged { step, message } => {
                // the overflow supersedes the blow-up that led to it
                self.health
                    .retain(|a| !matches!(a, HealthAlert::BlowUp { .. }));
                self.alert = Some(Alert::Diverged { step, message })
            }
            Update::Failed(message) => self.alert = Some(Alert::Failed(message)),
            Update::Crashed(message) => self.alert = Some(Alert::Crashed(message)),
            Update::Refused { message, .. } => self.alert = Some(Alert::Refused(message)),
        }
    }

    /// The trainer took up another state: a past one is on show, or the run went back to
    /// `step` and what came after it is no longer this run's.
    /// `changes_at_step`: the setting changes the state holds at `step` itself.
    fn restored(&mut self, step: u64, epochs: f64, why: Restore, changes_at_step: usize) {
        self.viewing = match why {
            Restore::View { requested } => Some(Viewing {
                requested,
                shown: step,
                epochs,
            }),
            Restore::Present => None,
            Restore::Fork { .. } | Restore::Resume { .. } => {
                self.truncate_after(step, changes_at_step);
                // what was said of the branch left is not said of this one
                self.finished = None;
                self.health.clear();
                self.alert = None;
                if matches!(why, Restore::Resume { .. }) && self.fork.is_some_and(|f| f.0 > step) {
                    self.fork = None;
                }
                None
            }
        };
    }

    /// Forgets the curves, markers and histograms after `step`, and the setting-change markers
    /// at `step` beyond the first `changes_at_step` (made later, on the branch left).
    pub fn truncate_after(&mut self, step: u64, changes_at_step: usize) {
        let x = step as f64;
        for series in [
            &mut self.train_loss,
            &mut self.train_accuracy,
            &mut self.test_loss,
            &mut self.test_accuracy,
        ] {
            series.truncate_after(x);
        }
        let mut changes = 0;
        self.markers.retain(|m| {
            if m.step < step || (m.step == step && m.label == MANUAL_STEP) {
                return true;
            }
            changes += usize::from(m.step == step);
            m.step == step && changes <= changes_at_step
        });
        self.histograms.truncate_after(step);
    }

    /// A few words on a finished run: its length and where the test curves ended and peaked.
    pub fn summary(&self) -> Option<String> {
        let (step, epochs) = self.finished?;
        let mut text = format!(
            "Finished {epochs} epochs ({step} steps) in {}.",
            super::toolbar::format_duration(self.status.training_secs)
        );
        let accuracy = self.test_accuracy.points();
        if let (Some(last), Some(best)) = (
            accuracy.last(),
            accuracy.iter().max_by(|a, b| a.value.total_cmp(&b.value)),
        ) {
            text += &format!(
                " Test accuracy {:.1}% (best {:.1}% at step {:.0}).",
                last.value * 100.0,
                best.value * 100.0,
                best.step
            );
        }
        if let Some(loss) = self.test_loss.points().last() {
            text += &format!(" Test loss {:.4}.", loss.value);
        }
        Some(text + " Play goes on training; Reset starts again.")
    }

    /// The most recent test evaluation's accuracy, if any.
    pub fn latest_test_accuracy(&self) -> Option<f64> {
        self.test_accuracy.points().last().map(|p| p.value)
    }
}
