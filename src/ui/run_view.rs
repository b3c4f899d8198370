//! Everything the app knows about the run, built only from the worker's updates.

use std::sync::Arc;

use crate::train::StepTrace;
use crate::train::protocol::{EvaluationPoint, RunInfo, Status, Update};

use super::series::Series;

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

pub struct RunView {
    pub info: Option<RunInfo>,
    pub status: Status,
    pub train_loss: Series,
    pub test_loss: Series,
    pub test_accuracy: Series,
    pub markers: Vec<Marker>,
    pub alert: Option<Alert>,
    /// The step being stepped through, as the trainer recorded it.
    pub trace: Option<Arc<StepTrace>>,
}

impl Default for RunView {
    fn default() -> Self {
        Self {
            info: None,
            status: Status::default(),
            train_loss: Series::new(CURVE_CAPACITY),
            test_loss: Series::new(CURVE_CAPACITY),
            test_accuracy: Series::new(CURVE_CAPACITY),
            markers: Vec::new(),
            alert: None,
            trace: None,
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
                label: "manual step".into(),
            }),
            Update::Traced(trace) => self.trace = Some(trace),
            Update::StepThroughEnded => self.trace = None,
            Update::Status(status) => self.status = status,
            Update::Diverged { step, message } => {
                self.alert = Some(Alert::Diverged { step, message })
            }
            Update::Failed(message) => self.alert = Some(Alert::Failed(message)),
            Update::Crashed(message) => self.alert = Some(Alert::Crashed(message)),
            Update::Refused { message, .. } => self.alert = Some(Alert::Refused(message)),
        }
    }

    /// The most recent test evaluation's accuracy, if any.
    pub fn latest_test_accuracy(&self) -> Option<f64> {
        self.test_accuracy.points().last().map(|p| p.value)
    }
}
