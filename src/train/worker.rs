//! The trainer on a named background thread. The app sends [`Command`]s over a bounded channel
//! and receives every loss point and event as [`Update`]s (none dropped: what the channel cannot
//! take yet waits in the worker's outbox), plus the latest [`Snapshot`] of the network through a
//! slot the worker refreshes at most ~30 times a second. The worker never waits for the app, and
//! dropping the [`Worker`] stops and joins the thread at once, even in the middle of an epoch.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ndarray::{Array1, Array2, s};

use super::{Evaluation, RunConfig, SettingChange, TrainError, Trainer};
use crate::data::Split;
use crate::nn::{Network, Shape};

/// How often, at most, the worker publishes losses, status and a snapshot while running
/// (10 times a second: live curves, while the window's drawing takes little from training).
const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);
/// How often, at most, the worker evaluates on the test split while running...
const EVALUATION_INTERVAL: Duration = Duration::from_millis(250);
/// ...and at least this many times as long as the last evaluation took, so that evaluating
/// never costs training more than 1/20 of its time.
const EVALUATION_SPACING: u32 = 20;
/// Evaluations at the start of a run that come every EVALUATION_INTERVAL whatever they cost.
const EARLY_EVALUATIONS: usize = 8;
/// Points per side of the grid over the input plane (2-D datasets).
const PLANE_RESOLUTION: usize = 48;
/// Capacity of the command and update channels.
const CHANNEL_CAPACITY: usize = 256;

/// How fast training runs.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Speed {
    /// As fast as the machine goes.
    Full,
    /// At most this many batches per second, so that a class can follow.
    StepsPerSecond(f32),
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
    SetSpeed(Speed),
    /// A setting that applies from the next batch on, weights untouched.
    Change(SettingChange),
    /// Show the views for this sample: a test image picked in the gallery, or a drawing.
    SetProbe(Probe),
    /// Makes the trainer thread panic, as a bug would: the app must survive it and say so.
    /// Only tests send it.
    #[doc(hidden)]
    Crash,
}

/// One training loss, at batch `step` (1-based) and `epochs` (fractional epochs done).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossPoint {
    pub step: u64,
    pub epochs: f64,
    pub loss: f32,
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
    /// A change or command that could not be applied, and why; nothing changed.
    Refused(String),
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
    pub step: u64,
    /// The batch whose update `update_weight` holds.
    pub update_step: Option<u64>,
    pub probe: Arc<Probe>,
    pub layers: Vec<LayerSnapshot>,
    pub plane: Option<Arc<PlaneOutputs>>,
    pub test_outputs: Option<Arc<TestOutputs>>,
}

/// A value one side replaces and the other reads, never waiting for each other for longer than
/// it takes to swap a pointer.
type Latest<T> = Arc<Mutex<Option<Arc<T>>>>;

/// The handle the app holds. Dropping it stops and joins the thread.
pub struct Worker {
    commands: Option<SyncSender<Command>>,
    updates: Receiver<Update>,
    snapshot: Latest<Snapshot>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts a thread that builds `config`'s trainer and waits, paused, for commands.
    /// `repaint` is called whenever there is something new to show.
    pub fn spawn(
        config: RunConfig,
        repaint: impl Fn() + Send + 'static,
    ) -> std::io::Result<Worker> {
        let (command_sender, commands) = mpsc::sync_channel(CHANNEL_CAPACITY);
        let (update_sender, updates) = mpsc::sync_channel(CHANNEL_CAPACITY);
        let snapshot: Latest<Snapshot> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        // The trainer's own thread pool, one thread per core: the whole session runs inside it,
        // so every parallel product hands work to the other core without waking this thread.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cores)
            .thread_name(|i| format!("trainer-{i}"))
            .build()
            .map_err(std::io::Error::other)?;
        let thread = std::thread::Builder::new().name("trainer".into()).spawn({
            let (snapshot, stop) = (snapshot.clone(), stop.clone());
            move || {
                let mut outbox = Outbox {
                    sender: update_sender,
                    queue: VecDeque::new(),
                    repaint: Box::new(repaint),
                };
                let session_outbox = &mut outbox;
                let result = catch_unwind(AssertUnwindSafe(move || {
                    pool.install(move || run(&config, &commands, session_outbox, &snapshot, &stop))
                }));
                if let Err(panic) = result {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    outbox.push(Update::Crashed(message));
                    outbox.flush();
                }
            }
        })?;
        Ok(Worker {
            commands: Some(command_sender),
            updates,
            snapshot,
            stop,
            thread: Some(thread),
        })
    }

    /// Queues a command; false if the worker is gone or its queue is full (it never is for long).
    pub fn send(&self, command: Command) -> bool {
        self.commands
            .as_ref()
            .is_some_and(|c| c.try_send(command).is_ok())
    }

    /// Everything the worker has sent since the last call.
    pub fn updates(&self) -> impl Iterator<Item = Update> + '_ {
        self.updates.try_iter()
    }

    /// The latest snapshot of the network.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot.lock().ok().and_then(|slot| slot.clone())
    }

    /// True once the thread has ended (after a crash).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.commands = None; // wakes a paused worker: its channel disconnects
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Updates waiting to be sent; nothing is dropped when the app is slow to read.
struct Outbox {
    sender: SyncSender<Update>,
    queue: VecDeque<Update>,
    repaint: Box<dyn Fn() + Send>,
}

impl Outbox {
    fn push(&mut self, update: Update) {
        self.queue.push_back(update);
    }

    /// Sends what the channel takes; false once the app has gone.
    fn flush(&mut self) -> bool {
        let mut sent = false;
        while let Some(update) = self.queue.pop_front() {
            match self.sender.try_send(update) {
                Ok(()) => sent = true,
                Err(TrySendError::Full(update)) => {
                    self.queue.push_front(update);
                    break;
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
        if sent {
            (self.repaint)();
        }
        true
    }
}

/// The grid over the input plane of a 2-D dataset.
struct PlaneGrid {
    /// [PLANE_RESOLUTION², 2]
    points: Array2<f32>,
    x: (f32, f32),
    y: (f32, f32),
}

/// What the worker loop keeps between batches.
struct Session<'a> {
    trainer: Trainer,
    /// A copy of the network for the views: the probe sample and the plane grid go through it,
    /// and it holds the weights from before a recorded batch.
    probe: Network,
    probe_sample: Arc<Probe>,
    plane_grid: Option<PlaneGrid>,
    /// ΔW and Δb of the last recorded batch, per layer (None for layers without parameters).
    updates: Vec<Option<(Array2<f32>, Array1<f32>)>>,
    update_step: Option<u64>,
    test_outputs: Option<Arc<TestOutputs>>,
    outbox: &'a mut Outbox,
    snapshot: &'a Latest<Snapshot>,
    stop: &'a AtomicBool,
    running: bool,
    speed: Speed,
    losses: Vec<LossPoint>,
    last_publish: Instant,
    last_evaluation: Instant,
    /// How long the last evaluation took, and how many there were.
    evaluation_time: Duration,
    evaluations: usize,
    evaluated_step: Option<u64>,
    training_secs: f64,
    rate_window: (Instant, usize),
    samples_per_second: f64,
}

/// The app dropped the worker: the loop ends.
struct Stopped;

fn run(
    config: &RunConfig,
    commands: &Receiver<Command>,
    outbox: &mut Outbox,
    snapshot: &Latest<Snapshot>,
    stop: &AtomicBool,
) {
    let trainer = match config.build() {
        Ok(trainer) => trainer,
        Err(error) => {
            outbox.push(Update::Failed(error.to_string()));
            outbox.flush();
            // wait for the app to drop us
            while commands.recv().is_ok() {}
            return;
        }
    };
    let data = trainer.data();
    let two_d = data.input_shape.len() == 2;
    outbox.push(Update::Ready(RunInfo {
        dataset: data.name.clone(),
        input_shape: data.input_shape,
        classes: data.classes,
        train_samples: data.train.len(),
        test_samples: data.test.len(),
        parameter_count: trainer.network().parameter_count(),
        summary: trainer.network().summary(),
        test: Arc::new(data.test.clone()),
        train_points: two_d.then(|| Arc::new(data.train.clone())),
    }));
    let probe_sample = Arc::new(Probe {
        input: data.test.inputs.row(0).to_owned(),
        test_index: Some(0),
        name: "test sample 0".into(),
    });
    let plane_grid = two_d.then(|| plane_grid(data));
    let mut session = Session {
        probe: trainer.network().clone(),
        probe_sample,
        plane_grid,
        updates: Vec::new(),
        update_step: None,
        test_outputs: None,
        trainer,
        outbox,
        snapshot,
        stop,
        running: false,
        speed: Speed::Full,
        losses: Vec::new(),
        last_publish: Instant::now(),
        last_evaluation: Instant::now(),
        evaluation_time: Duration::ZERO,
        evaluations: 0,
        evaluated_step: None,
        training_secs: 0.0,
        rate_window: (Instant::now(), 0),
        samples_per_second: 0.0,
    };
    session.evaluate();
    session.publish();
    let _ = session.serve(commands);
}

impl Session<'_> {
    /// The command loop: blocks while paused, trains while running.
    fn serve(&mut self, commands: &Receiver<Command>) -> Result<(), Stopped> {
        let mut next_step_at = Instant::now();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(Stopped);
            }
            let command = if !self.running {
                match commands.recv() {
                    Ok(command) => Some(command),
                    Err(_) => return Err(Stopped),
                }
            } else {
                let wait = next_step_at.saturating_duration_since(Instant::now());
                match commands.recv_timeout(wait) {
                    Ok(command) => Some(command),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Err(Stopped),
                }
            };
            if let Some(command) = command {
                self.handle(command, commands)?;
                // take every queued command before the next batch
                loop {
                    match commands.try_recv() {
                        Ok(command) => self.handle(command, commands)?,
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return Err(Stopped),
                    }
                }
                continue;
            }
            if self.running && Instant::now() >= next_step_at {
                let publishing = self.last_publish.elapsed() >= PUBLISH_INTERVAL;
                self.train_batch(publishing);
                next_step_at = match self.speed {
                    Speed::Full => Instant::now(),
                    Speed::StepsPerSecond(rate) => {
                        Instant::now() + Duration::from_secs_f32(1.0 / rate.max(0.01))
                    }
                };
                // the first evaluations come quickly, so the start of learning is on the curve
                let spacing = if self.evaluations < EARLY_EVALUATIONS {
                    EVALUATION_INTERVAL
                } else {
                    EVALUATION_INTERVAL.max(self.evaluation_time * EVALUATION_SPACING)
                };
                if self.last_evaluation.elapsed() >= spacing {
                    self.evaluate();
                }
                if publishing || !self.running {
                    self.publish();
                }
            }
        }
    }

    fn handle(&mut self, command: Command, commands: &Receiver<Command>) -> Result<(), Stopped> {
        match command {
            Command::Play => {
                self.running = true;
                self.rate_window = (Instant::now(), 0);
            }
            Command::Pause => {
                self.running = false;
                self.evaluate();
            }
            Command::Step => {
                self.running = false;
                self.train_batch(true);
                self.evaluate();
            }
            Command::StepEpoch => {
                // Running to the end of the epoch: Pause stops it there; other commands wait
                // until it ends.
                self.running = true;
                let epoch = self.trainer.epoch();
                let mut waiting = Vec::new();
                while self.trainer.epoch() == epoch {
                    if self.stop.load(Ordering::Relaxed) {
                        return Err(Stopped);
                    }
                    match commands.try_recv() {
                        Ok(Command::Pause) => break,
                        Ok(other) => waiting.push(other),
                        Err(TryRecvError::Empty) => {}
                        Err(TryRecvError::Disconnected) => return Err(Stopped),
                    }
                    let publishing = self.last_publish.elapsed() >= PUBLISH_INTERVAL;
                    if !self.train_batch(publishing) {
                        break;
                    }
                    if publishing {
                        self.publish();
                    }
                }
                self.running = false;
                self.evaluate();
                for command in waiting {
                    self.handle(command, commands)?;
                }
            }
            Command::SetSpeed(speed) => self.speed = speed,
            Command::Crash => panic!("crash requested"),
            Command::SetProbe(probe) => {
                let expected = self.trainer.network().input_shape().len();
                if probe.input.len() == expected && probe.input.iter().all(|v| v.is_finite()) {
                    self.probe_sample = Arc::new(probe);
                } else {
                    self.outbox.push(Update::Refused(format!(
                        "{} cannot be the probe: the network takes {expected} finite inputs, \
                         it has {}",
                        probe.name,
                        probe.input.len()
                    )));
                }
            }
            Command::Change(change) => match self.trainer.change(change) {
                Ok(()) => {
                    if let Some(&event) = self.trainer.events().last() {
                        let epochs = self.epochs();
                        self.outbox.push(Update::Changed { event, epochs });
                    }
                }
                Err(error) => self.outbox.push(Update::Refused(error.to_string())),
            },
        }
        self.publish();
        Ok(())
    }

    /// One batch; false (and paused) if training cannot go on. With `record_update`, what the
    /// batch changed in each layer is kept for the views (a copy of the weights before it).
    fn train_batch(&mut self, record_update: bool) -> bool {
        if record_update {
            self.probe.copy_params_from(self.trainer.network());
        }
        let started = Instant::now();
        let result = self.trainer.train_batch();
        self.training_secs += started.elapsed().as_secs_f64();
        match result {
            Ok(report) => {
                if record_update {
                    self.updates = self
                        .trainer
                        .network()
                        .layers()
                        .iter()
                        .zip(self.probe.layers())
                        .map(|(after, before)| {
                            let (after, before) = (after.params()?, before.params()?);
                            Some((&after.weight - &before.weight, &after.bias - &before.bias))
                        })
                        .collect();
                    self.update_step = Some(report.step);
                }
                self.losses.push(LossPoint {
                    step: report.step,
                    epochs: self.epochs(),
                    loss: report.loss as f32,
                });
                self.rate_window.1 += report.samples;
                true
            }
            Err(error) => {
                self.running = false;
                let update = match &error {
                    TrainError::Diverged { step, .. } => Update::Diverged {
                        step: *step,
                        message: error.to_string(),
                    },
                    _ => Update::Failed(error.to_string()),
                };
                self.outbox.push(update);
                self.publish();
                false
            }
        }
    }

    /// Fractional epochs done.
    fn epochs(&self) -> f64 {
        self.trainer.epoch() as f64
            + self.trainer.epoch_progress() as f64 / self.trainer.data().train.len().max(1) as f64
    }

    /// Test loss and accuracy now (once per step count).
    fn evaluate(&mut self) {
        self.last_evaluation = Instant::now();
        if self.evaluated_step == Some(self.trainer.step()) {
            return;
        }
        self.evaluated_step = Some(self.trainer.step());
        let started = Instant::now();
        let stop = self.stop;
        let mut outputs = Array2::zeros((0, 0));
        let result = self
            .trainer
            .evaluate_test_while(&|| !stop.load(Ordering::Relaxed), Some(&mut outputs));
        self.evaluation_time = started.elapsed();
        self.evaluations += 1;
        if matches!(result, Ok(Some(_))) && outputs.iter().all(|v| v.is_finite()) {
            self.test_outputs = Some(Arc::new(TestOutputs {
                step: self.trainer.step(),
                outputs,
            }));
        }
        match result {
            Ok(Some(test)) if test.loss.is_finite() => {
                self.outbox.push(Update::Evaluated(EvaluationPoint {
                    step: self.trainer.step(),
                    epochs: self.epochs(),
                    test,
                }))
            }
            Ok(_) => {} // stopped, or a loss the divergence check reports
            Err(error) => self.outbox.push(Update::Failed(error.to_string())),
        }
    }

    /// Sends the losses so far, the status and a fresh snapshot.
    fn publish(&mut self) {
        let (since, samples) = self.rate_window;
        let window = since.elapsed().as_secs_f64();
        if window >= 0.5 {
            self.samples_per_second = samples as f64 / window;
            self.rate_window = (Instant::now(), 0);
        }
        if !self.losses.is_empty() {
            self.outbox
                .push(Update::Losses(std::mem::take(&mut self.losses)));
        }
        self.outbox.push(Update::Status(Status {
            running: self.running,
            step: self.trainer.step(),
            epochs: self.epochs(),
            samples_per_second: if self.running {
                self.samples_per_second
            } else {
                0.0
            },
            training_secs: self.training_secs,
        }));
        let snapshot = self.take_snapshot();
        if let Ok(mut slot) = self.snapshot.lock() {
            *slot = Some(Arc::new(snapshot));
        }
        self.outbox.flush();
        self.last_publish = Instant::now();
    }

    /// Copies weights and gradients, and runs the plane grid and the probe sample through a
    /// copy of the network.
    fn take_snapshot(&mut self) -> Snapshot {
        let network = self.trainer.network();
        self.probe.copy_params_from(network);
        let plane = self.plane_grid.as_ref().and_then(|grid| {
            self.probe.forward(grid.points.view(), None).ok()?;
            Some(Arc::new(PlaneOutputs {
                resolution: PLANE_RESOLUTION,
                x: grid.x,
                y: grid.y,
                layers: (1..=network.layers().len())
                    .map(|i| self.probe.activation(i).clone())
                    .collect(),
            }))
        });
        let input = self.probe_sample.input.view().insert_axis(ndarray::Axis(0));
        let probe_ok = self.probe.forward(input, None).is_ok();
        let row = |a: &Array2<f32>| a.slice(s![0, ..]).to_owned();
        let layers = network
            .layers()
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let params = layer.params();
                let update = self.updates.get(i).and_then(Option::as_ref);
                LayerSnapshot {
                    name: layer.spec().describe(),
                    output_shape: layer.output_shape(),
                    weight: params.map(|p| p.weight.clone()),
                    bias: params.map(|p| p.bias.clone()),
                    grad_weight: params.map(|p| p.grad_weight.clone()),
                    grad_bias: params.map(|p| p.grad_bias.clone()),
                    update_weight: update.map(|u| u.0.clone()),
                    update_bias: update.map(|u| u.1.clone()),
                    probe_activation: if probe_ok {
                        row(self.probe.activation(i + 1))
                    } else {
                        Array1::zeros(layer.output_shape().len())
                    },
                    probe_pre_activation: self.probe.layers()[i]
                        .pre_activation()
                        .filter(|_| probe_ok && params.is_some())
                        .map(row),
                }
            })
            .collect();
        Snapshot {
            step: self.trainer.step(),
            update_step: self.update_step,
            probe: self.probe_sample.clone(),
            layers,
            plane,
            test_outputs: self.test_outputs.clone(),
        }
    }
}

/// The grid over the plane that holds `data`'s points, with a margin.
fn plane_grid(data: &crate::data::Dataset) -> PlaneGrid {
    let points = data
        .train
        .inputs
        .rows()
        .into_iter()
        .chain(data.test.inputs.rows());
    let (mut low, mut high) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for point in points {
        for axis in 0..2 {
            low[axis] = low[axis].min(point[axis]);
            high[axis] = high[axis].max(point[axis]);
        }
    }
    // a square plane, so that circles look round
    let centre = [(low[0] + high[0]) / 2.0, (low[1] + high[1]) / 2.0];
    let half = ((high[0] - low[0]).max(high[1] - low[1]) / 2.0 * 1.15).max(0.5);
    let half = if half.is_finite() { half } else { 1.0 };
    let x = (centre[0] - half, centre[0] + half);
    let y = (centre[1] - half, centre[1] + half);
    let plane = PlaneOutputs {
        resolution: PLANE_RESOLUTION,
        x,
        y,
        layers: Vec::new(),
    };
    let n = PLANE_RESOLUTION;
    let points = Array2::from_shape_fn((n * n, 2), |(i, axis)| plane.point(i / n, i % n)[axis]);
    PlaneGrid { points, x, y }
}
