//! Everything the app knows about the run, built only from the worker's updates.

use crate::train::Event;
use crate::train::worker::{EvaluationPoint, RunInfo, Status, Update};

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

/// A setting change as the curves mark it.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub event: Event,
    pub epochs: f64,
}

pub struct RunView {
    pub info: Option<RunInfo>,
    pub status: Status,
    pub train_loss: Series,
    pub test_loss: Series,
    pub test_accuracy: Series,
    pub markers: Vec<Marker>,
    pub alert: Option<Alert>,
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
            Update::Changed { event, epochs } => self.markers.push(Marker { event, epochs }),
            Update::Status(status) => self.status = status,
            Update::Diverged { step, message } => {
                self.alert = Some(Alert::Diverged { step, message })
            }
            Update::Failed(message) => self.alert = Some(Alert::Failed(message)),
            Update::Crashed(message) => self.alert = Some(Alert::Crashed(message)),
            Update::Refused(message) => self.alert = Some(Alert::Refused(message)),
        }
    }

    /// The most recent test evaluation's accuracy, if any.
    pub fn latest_test_accuracy(&self) -> Option<f64> {
        self.test_accuracy.points().last().map(|p| p.value)
    }
}
