//! What the app and the trainer's worker say to each other: [`Command`]s in, [`Update`]s out,
//! and the [`Snapshot`] of the network the views draw. Plain data, no threads.

use std::sync::Arc;

use ndarray::{Array1, Array2};

use super::health::HealthAlert;
use super::histogram::HistogramFrame;
use super::state::TrainerState;
use super::timeline::TimelineSummary;
use super::{Evaluation, SettingChange, StepTrace};
use crate::data::Split;
use crate::nn::{LayerSpec, Shape};

/// How fast training runs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Speed {
    /// As fast as the machine goes.
    Full,
    /// At most this many batches per second, so that a class can follow.
    StepsPerSecond(f32),
}

/// Where "play until" stops: always at a batch's end the same for every machine, so that a
/// lesson's numbers there are `backprop-lab train`'s.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Goal {
    /// The end of the epoch with this number (1 is the end of the first).
    Epoch(usize),
    /// This many batches trained since the run started.
    Step(u64),
    /// A test accuracy (0 to 1) of at least `at_least`, looked at each epoch's end; at the end of
    /// epoch `within_epochs` it stops whatever the accuracy.
    TestAccuracy { at_least: f32, within_epochs: usize },
}

/// What the app asks the worker to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Play,
    Pause,
    /// Pause, then train exactly one batch.
    Step,
    /// Pause, then train to the end of the current epoch.
    StepEpoch,
    /// Train until `Goal` ([`Update::Reached`]), then pause, evaluating the test split there.
    PlayUntil(Goal),
    SetSpeed(Speed),
    /// Pause on its own when this many epochs are done (`None`: never).
    SetRunLength(Option<usize>),
    /// Send the trainer's whole state ([`Update::State`]), for the one who asked.
    SaveState(StateFor),
    /// A setting that applies from the next batch on, weights untouched.
    Change(SettingChange),
    /// Show the views for this sample: a test image picked in the gallery, or a drawing.
    SetProbe(Probe),
    /// Pause and record the step `source` names phase by phase ([`Update::Traced`]); a setting
    /// change records it again. Nothing in the run changes until [`Command::ApplyStep`].
    StepThrough(StepSource),
    /// Train the step being stepped through, then stop stepping through.
    ApplyStep,
    /// Stop stepping through; nothing changes.
    AbandonStep,
    /// Keep the run's exact state as the fork ([`Update::Forked`]).
    Fork,
    /// Take this state (and its fractional epochs) as the fork: a lesson's step taken up
    /// again keeps the fork it had.
    RestoreFork(Box<(TrainerState, f64)>),
    /// Go back to the fork: its weights, optimizer state, data order and settings
    /// ([`Update::Restored`] with [`Restore::Fork`]); the fork stays for another branch.
    BackToFork,
    /// Pause and show the kept state nearest this step ([`Restore::View`]); the run's present
    /// is kept first, so that [`Command::BackToPresent`] returns to it exactly.
    ViewStep(u64),
    /// Stop viewing the past: the run as it was before [`Command::ViewStep`].
    BackToPresent,
    /// Go on from the step being viewed: the states after it are forgotten
    /// ([`Restore::Resume`]). Any command that trains or changes a setting does this first.
    ResumeHere,
    /// Keep the timeline and the histograms (on by default), or stop recording them.
    SetRecording(bool),
    /// Makes the trainer thread panic, as a bug would: the app must survive it and say so.
    /// Only tests send it.
    #[doc(hidden)]
    Crash,
}

/// Who asked for the trainer's state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StateFor {
    /// A run file to write: Save run, or the run kept when the window closes.
    File,
    /// A lesson: the state before step `n`'s actions, which Page Up takes up again.
    LessonStep(usize),
}

/// Which training step the step-through shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepSource {
    /// The probe sample as a batch of one, with class `label` as its target.
    Probe { label: usize },
    /// The trainer's real next mini-batch.
    NextBatch,
}

/// One training loss, at batch `step` (1-based) and `epochs` (fractional epochs done).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossPoint {
    pub step: u64,
    pub epochs: f64,
    pub loss: f32,
    /// The share of the batch's samples the network got right, before the update.
    pub accuracy: f32,
}

/// A test-split evaluation after `step` batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvaluationPoint {
    pub step: u64,
    pub epochs: f64,
    pub test: Evaluation,
}

/// Where the run stands.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Status {
    pub running: bool,
    pub step: u64,
    /// Epochs done, with the fraction of the current one.
    pub epochs: f64,
    pub samples_per_second: f64,
    /// Time spent training (pauses not counted).
    pub training_secs: f64,
}

/// Facts about the run, sent once when the trainer is ready.
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    pub dataset: String,
    pub input_shape: Shape,
    pub classes: usize,
    pub train_samples: usize,
    pub test_samples: usize,
    pub parameter_count: usize,
    pub summary: String,
    /// The test split, for the gallery and the confusion matrix: [test_samples, input_len].
    pub test: Arc<Split>,
    /// The training split, for 2-D datasets only (the decision boundary's points).
    pub train_points: Option<Arc<Split>>,
}

/// The sample whose activations the views show.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// [input_len]
    pub input: Array1<f32>,
    /// The test sample it is, if it is one.
    pub test_index: Option<usize>,
    /// Its class, if known (a drawing has none until the learner says which).
    pub label: Option<usize>,
    /// What to call it: "test sample 12", "your drawing".
    pub name: String,
}

/// What the worker tells the app.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    Ready(RunInfo),
    Losses(Vec<LossPoint>),
    Evaluated(EvaluationPoint),
    /// A setting change took effect after `event.step` batches (`epochs` fractional epochs).
    Changed {
        event: super::Event,
        epochs: f64,
    },
    /// A change or command that could not be applied, and why; nothing changed. `change` is the
    /// setting change refused, if it was one.
    Refused {
        message: String,
        change: Option<SettingChange>,
    },
    Status(Status),
    /// The loss became NaN or infinite: training paused.
    Diverged {
        step: u64,
        message: String,
    },
    /// The run could not start (data or architecture), or training failed.
    Failed(String),
    /// The trainer panicked; the thread has ended.
    Crashed(String),
    /// The step being stepped through, recorded (again after a setting change).
    Traced(Arc<StepTrace>),
    /// Stepping through ended: applied or abandoned.
    StepThroughEnded,
    /// A step on the probe alone was trained (step `step`, `epochs` fractional epochs).
    ManualStep {
        step: u64,
        epochs: f64,
    },
    /// Training went wrong in a way the health watch saw; a blow-up also paused it.
    Health(HealthAlert),
    /// The ReLU layers (indices) dead on the test batch, when that changed at an evaluation.
    DeadLayers(Vec<usize>),
    /// The run length was reached: `epochs` epochs done after `step` batches; paused.
    Finished {
        step: u64,
        epochs: usize,
    },
    /// The goal of [`Command::PlayUntil`] was reached (or already was) after `step` batches;
    /// paused, the test split evaluated there.
    Reached {
        goal: Goal,
        step: u64,
    },
    /// The trainer's whole state, as [`Command::SaveState`] asked; for a lesson, with the
    /// fork (its state and fractional epochs), which a state taken up again would lose.
    State {
        asker: StateFor,
        state: Box<TrainerState>,
        fork: Option<Box<(TrainerState, f64)>>,
    },
    /// The run's state after `step` batches is the fork now.
    Forked {
        step: u64,
        epochs: f64,
    },
    /// The trainer took up an earlier or kept state: it stands at `step` with `settings` now.
    Restored {
        step: u64,
        epochs: f64,
        settings: super::TrainSettings,
        /// Setting changes the state holds at `step` itself (their markers stay on the curves).
        changes_at_step: usize,
        why: Restore,
    },
    /// Where the kept states stand, when that changed.
    Timeline(TimelineSummary),
    /// The histograms at one step.
    Histograms(Arc<HistogramFrame>),
}

/// Why the trainer took up another state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Restore {
    /// Viewing the past: the kept state nearest `requested`.
    View { requested: u64 },
    /// Back from viewing the past to the present.
    Present,
    /// Back to the fork, leaving a branch that had reached step `left`.
    Fork { left: u64 },
    /// Going on from the step viewed; the states after it, up to step `left`, are forgotten.
    Resume { left: u64 },
}

/// One layer as the views show it, copied out of the trainer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSnapshot {
    pub name: String,
    pub output_shape: Shape,
    /// [units, inputs] and [units], for layers with parameters.
    pub weight: Option<Array2<f32>>,
    pub bias: Option<Array1<f32>>,
    /// dL/dW and dL/db of the last batch.
    pub grad_weight: Option<Array2<f32>>,
    pub grad_bias: Option<Array1<f32>>,
    /// What the last recorded batch changed: W after minus W before, and the same for b.
    pub update_weight: Option<Array2<f32>>,
    pub update_bias: Option<Array1<f32>>,
    /// This layer's output for the probe sample, [output_len].
    pub probe_activation: Array1<f32>,
    /// z = W·x + b before the activation, for layers with parameters, [output_len].
    pub probe_pre_activation: Option<Array1<f32>>,
}

/// Every layer's output over a grid of the 2-D input plane (2-D datasets only).
#[derive(Clone, Debug, PartialEq)]
pub struct PlaneOutputs {
    /// Points per side of the grid.
    pub resolution: usize,
    /// The plane's extent: x from `x.0` to `x.1`, y from `y.0` to `y.1`.
    pub x: (f32, f32),
    pub y: (f32, f32),
    /// Per layer, [resolution * resolution, layer outputs]; grid row 0 is the top (largest y),
    /// column 0 the left (smallest x).
    pub layers: Vec<Array2<f32>>,
}

impl PlaneOutputs {
    /// The input point at grid row `row`, column `col`.
    pub fn point(&self, row: usize, col: usize) -> [f32; 2] {
        let t = |i: usize| i as f32 / (self.resolution.max(2) - 1) as f32;
        [
            self.x.0 + (self.x.1 - self.x.0) * t(col),
            self.y.1 - (self.y.1 - self.y.0) * t(row),
        ]
    }
}

/// The network's outputs for every test sample at one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutputs {
    pub step: u64,
    /// [test_samples, outputs]
    pub outputs: Array2<f32>,
}

/// The network at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Grows by one with every snapshot a worker publishes, and across the workers of one app
    /// (a reset does not start it again): views key what they cache by it.
    pub id: u64,
    /// The architecture these numbers belong to.
    pub specs: Vec<LayerSpec>,
    /// The settings the trainer runs with.
    pub settings: super::TrainSettings,
    pub step: u64,
    /// The batch whose update `update_weight` holds.
    pub update_step: Option<u64>,
    pub probe: Arc<Probe>,
    pub layers: Vec<LayerSnapshot>,
    pub plane: Option<Arc<PlaneOutputs>>,
    pub test_outputs: Option<Arc<TestOutputs>>,
}
