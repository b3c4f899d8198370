//! The trainer on a named background thread. The app sends [`Command`]s over a bounded channel
//! and receives every loss point and event as [`Update`]s (none dropped: what the channel cannot
//! take yet waits in the worker's outbox), plus the latest [`Snapshot`] of the network through a
//! slot the worker refreshes at most 10 times a second. The worker never waits for the app, and
//! dropping the [`Worker`] stops and joins the thread at once, even in the middle of an epoch.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ndarray::Array2;

use super::health::{HealthAlert, HealthWatch};
use super::histogram::HistogramFrame;
use super::protocol::{
    Command, EvaluationPoint, Goal, LossPoint, Restore, RunInfo, Snapshot, Speed, StateFor, Status,
    StepSource, TestOutputs, Update,
};
use super::snapshots::SnapshotMaker;
use super::state::TrainerState;
use super::timeline::{DEFAULT_BUDGET, Timeline};
use super::{Evaluation, RunConfig, SettingChange, TrainError, Trainer};

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
/// At an epoch's end the test set is evaluated if the last evaluation is this many times its
/// own duration ago (so short runs get a point per epoch, long ones stay training).
const EPOCH_END_SPACING: u32 = 4;
/// ...and at least this long ago: a toy set's epochs take a millisecond.
const EPOCH_END_INTERVAL: Duration = Duration::from_millis(50);
/// While running, the timeline keeps a state at most every KEEP_SPACING times as long as taking
/// one took (so that keeping costs training about 1%), and within these bounds; while paused,
/// at every step.
const KEEP_SPACING: u32 = 100;
const KEEP_INTERVAL: (Duration, Duration) = (Duration::from_millis(1), Duration::from_secs(1));
/// How often, at most, the histograms are taken while running (while paused: at every step).
const HISTOGRAM_INTERVAL: Duration = Duration::from_millis(250);
/// Capacity of the command and update channels.
const CHANNEL_CAPACITY: usize = 256;

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
        Self::spawn_at(config, None, repaint)
    }

    /// [`Worker::spawn`], the trainer taking up `state` (a saved run of `config`) first; a state
    /// that does not fit is [`Update::Failed`] with the reason.
    pub fn spawn_at(
        config: RunConfig,
        state: Option<TrainerState>,
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
                    pool.install(move || {
                        run(&config, state, &commands, session_outbox, &snapshot, &stop)
                    })
                }));
                if let Err(panic) = result {
                    outbox.push(Update::Crashed(panic_message(panic.as_ref())));
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

    /// The next update, waiting at most `timeout` for it (closing the window: the run's state).
    pub fn wait_update(&self, timeout: Duration) -> Option<Update> {
        self.updates.recv_timeout(timeout).ok()
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

/// What a panic said (its payload as text).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
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

/// What the worker is doing between commands.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Waiting for a command.
    Paused,
    /// Training until told to pause.
    Running,
    /// Training until the epoch with this index ends, then pausing.
    UntilEpochEnd(usize),
    /// Training until a lesson's goal.
    Until(Goal),
    /// Paused on a step being stepped through: this one, recorded again after a setting change.
    SteppingThrough(StepSource),
}

/// What the worker loop keeps between batches.
struct Session<'a> {
    trainer: Trainer,
    snapshots: SnapshotMaker,
    outbox: &'a mut Outbox,
    snapshot: &'a Latest<Snapshot>,
    stop: &'a AtomicBool,
    mode: Mode,
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
    health: HealthWatch,
    /// The dead layers last sent.
    dead_layers: Vec<usize>,
    /// The step whose gradients the health watch last saw.
    gradients_checked: u64,
    /// Epochs after which training pauses on its own.
    run_length: Option<usize>,
    /// The last test evaluation and the step it was taken at.
    last_test: Option<(u64, Evaluation)>,
    /// The run's past, and whether it (with the histograms) is being recorded.
    timeline: Timeline,
    recording: bool,
    /// When the timeline last kept a state, how long that took, and the step and number of
    /// events then; and whether the app has not been told yet.
    last_keep: Instant,
    keep_time: Duration,
    recorded: Option<(u64, usize)>,
    timeline_unsent: bool,
    /// When and at which step the last histograms were taken.
    last_histograms: (Instant, Option<u64>),
    /// The state "Back to the fork" returns to, with its fractional epochs.
    fork: Option<(TrainerState, f64)>,
    /// While a past state is viewed: the step of the present (the timeline's newest state).
    viewing: Option<u64>,
    /// Whether the present's snapshot had no gradients of its own (restored) when viewing began.
    present_past: bool,
}

/// The app dropped the worker: the loop ends.
struct Stopped;

fn run(
    config: &RunConfig,
    state: Option<TrainerState>,
    commands: &Receiver<Command>,
    outbox: &mut Outbox,
    snapshot: &Latest<Snapshot>,
    stop: &AtomicBool,
) {
    let built = config.build().and_then(|mut trainer| {
        if let Some(state) = state {
            trainer.restore(state)?;
        }
        Ok(trainer)
    });
    let trainer = match built {
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
    let mut session = Session {
        snapshots: SnapshotMaker::new(&trainer),
        trainer,
        outbox,
        snapshot,
        stop,
        mode: Mode::Paused,
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
        health: HealthWatch::default(),
        dead_layers: Vec::new(),
        gradients_checked: 0,
        run_length: config.epochs,
        last_test: None,
        timeline: Timeline::new(DEFAULT_BUDGET),
        recording: true,
        last_keep: Instant::now(),
        keep_time: Duration::ZERO,
        recorded: None,
        timeline_unsent: false,
        last_histograms: (Instant::now(), None),
        fork: None,
        viewing: None,
        present_past: false,
    };
    session.evaluate();
    session.publish();
    let _ = session.serve(commands);
}

impl Session<'_> {
    fn running(&self) -> bool {
        matches!(
            self.mode,
            Mode::Running | Mode::UntilEpochEnd(_) | Mode::Until(_)
        )
    }

    /// The step being stepped through, if the worker is stepping through one.
    fn stepping(&self) -> Option<StepSource> {
        match self.mode {
            Mode::SteppingThrough(source) => Some(source),
            _ => None,
        }
    }

    /// The one loop: blocks for a command while paused; otherwise takes the commands that came,
    /// then trains the next batch when the speed allows.
    fn serve(&mut self, commands: &Receiver<Command>) -> Result<(), Stopped> {
        let mut next_step_at = Instant::now();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(Stopped);
            }
            let command = if self.running() {
                let wait = next_step_at.saturating_duration_since(Instant::now());
                match commands.recv_timeout(wait) {
                    Ok(command) => Some(command),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return Err(Stopped),
                }
            } else {
                match commands.recv() {
                    Ok(command) => Some(command),
                    Err(_) => return Err(Stopped),
                }
            };
            if let Some(command) = command {
                // take every queued command before the next batch
                let mut queued = vec![command];
                loop {
                    match commands.try_recv() {
                        Ok(command) => queued.push(command),
                        Err(TryRecvError::Empty) => break,
                        Err(TryRecvError::Disconnected) => return Err(Stopped),
                    }
                }
                let mut queued = queued.into_iter().peekable();
                while let Some(command) = queued.next() {
                    // a drag along the timeline: only where it ended up is shown
                    let superseded = matches!(command, Command::ViewStep(_))
                        && matches!(queued.peek(), Some(Command::ViewStep(_)));
                    if !superseded {
                        self.handle(command);
                    }
                }
                continue;
            }
            if self.running() && Instant::now() >= next_step_at {
                self.run_batch();
                next_step_at = match self.speed {
                    Speed::Full => Instant::now(),
                    Speed::StepsPerSecond(rate) => {
                        Instant::now() + Duration::from_secs_f32(1.0 / rate.max(0.01))
                    }
                };
            }
        }
    }

    /// One batch in Running or UntilEpochEnd mode, with the evaluations and publishing it is
    /// due; the mode ends with the epoch it was waiting for, or with an error.
    fn run_batch(&mut self) {
        let publishing = self.last_publish.elapsed() >= PUBLISH_INTERVAL;
        let epoch = self.trainer.epoch();
        if !self.train_batch(publishing) {
            return;
        }
        self.keep_state();
        if !self.running() {
            // paused by the run length or the health watch
            self.evaluate();
            self.publish();
            return;
        }
        if let Mode::UntilEpochEnd(epoch) = self.mode
            && self.trainer.epoch() != epoch
        {
            self.mode = Mode::Paused;
            self.evaluate();
            self.publish();
            return;
        }
        if let Mode::Until(goal) = self.mode {
            // a test-accuracy goal looks at every epoch's end, whatever the clock says
            if matches!(goal, Goal::TestAccuracy { .. }) && epoch != self.trainer.epoch() {
                self.evaluate();
            }
            if self.reached(goal) {
                self.stop_at(goal);
                return;
            }
        }
        // the first evaluations come quickly, so the start of learning is on the curve
        let spacing = if self.evaluations < EARLY_EVALUATIONS {
            EVALUATION_INTERVAL
        } else {
            EVALUATION_INTERVAL.max(self.evaluation_time * EVALUATION_SPACING)
        };
        // and at each epoch's end, unless evaluating would then take most of the time
        let epoch_ended = epoch != self.trainer.epoch()
            && self.last_evaluation.elapsed()
                >= (self.evaluation_time * EPOCH_END_SPACING).max(EPOCH_END_INTERVAL);
        if epoch_ended || self.last_evaluation.elapsed() >= spacing {
            self.evaluate();
        }
        if publishing {
            self.check_gradients();
            self.publish();
        }
    }

    fn handle(&mut self, command: Command) {
        // training or changing a setting while viewing the past goes on from there
        if self.viewing.is_some()
            && matches!(
                command,
                Command::Play
                    | Command::PlayUntil(_)
                    | Command::Step
                    | Command::StepEpoch
                    | Command::StepThrough(_)
                    | Command::Change(_)
            )
        {
            self.resume_here();
        }
        if matches!(
            command,
            Command::Play
                | Command::PlayUntil(_)
                | Command::Pause
                | Command::Step
                | Command::StepEpoch
                | Command::AbandonStep
                | Command::ViewStep(_)
                | Command::BackToFork
        ) {
            self.end_step_through();
        }
        match command {
            Command::Play => {
                self.mode = Mode::Running;
                self.rate_window = (Instant::now(), 0);
            }
            Command::Pause => {
                self.mode = Mode::Paused;
                self.evaluate();
            }
            Command::Step => {
                self.mode = Mode::Paused;
                self.train_batch(true);
                self.evaluate();
            }
            Command::StepEpoch => {
                // Pause stops it midway; other commands apply between its batches
                self.mode = Mode::UntilEpochEnd(self.trainer.epoch());
                self.rate_window = (Instant::now(), 0);
            }
            Command::PlayUntil(goal) => {
                // an accuracy goal already met is met here and now
                if matches!(goal, Goal::TestAccuracy { .. }) {
                    self.evaluate();
                }
                if self.reached(goal) {
                    self.stop_at(goal);
                } else {
                    self.mode = Mode::Until(goal);
                    self.rate_window = (Instant::now(), 0);
                }
            }
            Command::SetSpeed(speed) => self.speed = speed,
            Command::SetRunLength(epochs) => self.run_length = epochs,
            Command::SaveState(asker) => {
                let fork = match asker {
                    StateFor::LessonStep(_) => self.fork.clone().map(Box::new),
                    StateFor::File => None,
                };
                let state = Box::new(self.trainer.state());
                self.outbox.push(Update::State { asker, state, fork });
            }
            Command::RestoreFork(fork) => {
                let (state, epochs) = *fork;
                self.keep_fork(state, epochs);
            }
            Command::Crash => panic!("crash requested"),
            Command::Fork => self.keep_fork(self.trainer.state(), self.epochs()),
            Command::BackToFork => self.back_to_fork(),
            Command::ViewStep(step) => self.view_step(step),
            Command::BackToPresent => self.back_to_present(),
            Command::ResumeHere => self.resume_here(),
            Command::SetRecording(on) => self.recording = on,
            Command::StepThrough(source) => {
                self.mode = Mode::SteppingThrough(source);
                self.trace();
            }
            Command::ApplyStep => self.apply_step(),
            Command::AbandonStep => {}
            Command::SetProbe(probe) => {
                let expected = self.trainer.network().input_shape().len();
                if probe.input.len() == expected && probe.input.iter().all(|v| v.is_finite()) {
                    // stepping through the probe: the new one is recorded (towards its own
                    // class when it has one), so that Apply trains what is shown
                    if let Mode::SteppingThrough(StepSource::Probe { label }) = self.mode {
                        let label = probe.label.unwrap_or(label);
                        self.mode = Mode::SteppingThrough(StepSource::Probe { label });
                        self.snapshots.set_probe(probe);
                        self.trace();
                    } else {
                        self.snapshots.set_probe(probe);
                    }
                } else {
                    self.outbox.push(Update::Refused {
                        message: format!(
                            "{} cannot be the probe: the network takes {expected} finite \
                             inputs, it has {}",
                            probe.name,
                            probe.input.len()
                        ),
                        change: None,
                    });
                }
            }
            Command::Change(change) => match self.trainer.change(change) {
                Ok(()) => {
                    if matches!(change, SettingChange::Loss(_)) {
                        // another loss is another scale: the blow-up watch starts over
                        self.health.loss_changed();
                    }
                    if let Some(&event) = self.trainer.events().last() {
                        let epochs = self.epochs();
                        self.outbox.push(Update::Changed { event, epochs });
                    }
                    // the step being stepped through is recorded again with the new setting
                    self.trace();
                }
                Err(error) => self.outbox.push(Update::Refused {
                    message: error.to_string(),
                    change: Some(change),
                }),
            },
        }
        self.publish();
    }

    /// Takes up `state` (pausing) and says so; on error nothing changed and the failure is sent.
    fn restore(&mut self, state: TrainerState, why: Restore, past: bool) -> bool {
        // the losses of the run as it was go out before it changes
        self.flush_losses();
        self.mode = Mode::Paused;
        if let Err(error) = self.trainer.restore(state) {
            self.outbox.push(Update::Failed(error.to_string()));
            return false;
        }
        // `past`: the network's gradients are not this state's (they are the present's)
        self.snapshots.restored(past);
        self.refresh_test_outputs();
        self.send_restored(why);
        true
    }

    fn send_restored(&mut self, why: Restore) {
        let step = self.trainer.step();
        self.outbox.push(Update::Restored {
            step,
            epochs: self.epochs(),
            settings: *self.trainer.settings(),
            changes_at_step: self
                .trainer
                .events()
                .iter()
                .filter(|e| e.step == step)
                .count(),
            why,
        });
    }

    fn flush_losses(&mut self) {
        if !self.losses.is_empty() {
            self.outbox
                .push(Update::Losses(std::mem::take(&mut self.losses)));
        }
    }

    /// The present, or the step viewed now.
    fn present_step(&self) -> u64 {
        self.viewing.unwrap_or(self.trainer.step())
    }

    /// Back to the fork; the branch left is forgotten by the timeline (the app pins its
    /// curves), the fork stays for the next branch.
    fn back_to_fork(&mut self) {
        let Some((state, _)) = self.fork.clone() else {
            self.outbox.push(Update::Refused {
                message: "there is no fork to go back to: press Fork here first".into(),
                change: None,
            });
            return;
        };
        let (step, left) = (state.step, self.present_step());
        if self.restore(state, Restore::Fork { left }, true) {
            self.viewing = None;
            self.timeline.truncate_after(step);
            self.went_another_way();
        }
    }

    /// The run goes on from an earlier state: what watched the branch left starts again.
    fn went_another_way(&mut self) {
        self.health = HealthWatch::default();
        self.recorded = None;
        self.last_histograms.1 = None;
        self.send_timeline();
    }

    /// Shows the kept state nearest `step`, keeping the present first.
    fn view_step(&mut self, step: u64) {
        if self.viewing.is_none() {
            self.timeline.keep(self.trainer.state(), self.epochs());
            self.recorded = Some((self.trainer.step(), self.trainer.events().len()));
            self.present_past = self.snapshots.is_past();
            self.send_timeline();
        }
        let Some(kept) = self.timeline.nearest(step) else {
            self.outbox.push(Update::Refused {
                message: "nothing of the run's past is kept (its budget holds no state of \
                          this network)"
                    .into(),
                change: None,
            });
            return;
        };
        let state = kept.state.clone();
        let present = self.present_step();
        if self.restore(state, Restore::View { requested: step }, true) {
            self.viewing = Some(present);
        }
    }

    /// From viewing the past back to the present, exactly as it was (on error, still viewing).
    fn back_to_present(&mut self) {
        if self.viewing.is_none() {
            return;
        }
        let Some(present) = self.timeline.latest().map(|kept| kept.state.clone()) else {
            return;
        };
        if self.restore(present, Restore::Present, self.present_past) {
            self.viewing = None;
        }
    }

    /// Goes on from the step viewed: the timeline forgets what came after it, and so does a
    /// fork made after it.
    fn resume_here(&mut self) {
        let Some(left) = self.viewing.take() else {
            return;
        };
        let step = self.trainer.step();
        self.timeline.truncate_after(step);
        if self.fork.as_ref().is_some_and(|(fork, _)| fork.step > step) {
            self.fork = None;
            self.timeline.reserve(0);
        }
        self.went_another_way();
        self.send_restored(Restore::Resume { left });
    }

    fn send_timeline(&mut self) {
        self.outbox.push(Update::Timeline(self.timeline.summary()));
    }

    /// Keeps the present in the timeline when due: at every new step or setting change while
    /// paused, at most every [`KEEP_SPACING`] times its cost while running.
    fn keep_state(&mut self) {
        if !self.recording || self.viewing.is_some() {
            return;
        }
        let now = (self.trainer.step(), self.trainer.events().len());
        let interval = (self.keep_time * KEEP_SPACING).clamp(KEEP_INTERVAL.0, KEEP_INTERVAL.1);
        let due = !self.running() || self.last_keep.elapsed() >= interval;
        if !due || self.recorded == Some(now) {
            return;
        }
        let started = Instant::now();
        self.timeline.keep(self.trainer.state(), self.epochs());
        self.keep_time = started.elapsed();
        self.last_keep = Instant::now();
        self.recorded = Some(now);
        self.timeline_unsent = true;
    }

    /// Publishing: the timeline if it changed, and the histograms of `snapshot` when due (at
    /// every step while paused, at most every HISTOGRAM_INTERVAL while running).
    fn record(&mut self, snapshot: &Snapshot) {
        self.keep_state();
        if std::mem::take(&mut self.timeline_unsent) {
            self.send_timeline();
        }
        if !self.recording || self.viewing.is_some() {
            return;
        }
        let (last, step) = self.last_histograms;
        let due = !self.running() || last.elapsed() >= HISTOGRAM_INTERVAL;
        if due && step != Some(snapshot.step) {
            self.last_histograms = (Instant::now(), Some(snapshot.step));
            let frame = HistogramFrame::of(snapshot, self.epochs());
            self.outbox.push(Update::Histograms(Arc::new(frame)));
        }
    }

    /// Records the step being stepped through and sends it; a step that cannot be recorded
    /// (the probe does not fit, the loss is not finite) says why and ends stepping through.
    fn trace(&mut self) {
        let Some(source) = self.stepping() else {
            return;
        };
        let trace = match source {
            StepSource::NextBatch => self.trainer.trace_next_batch(),
            StepSource::Probe { label } => {
                let probe = self.snapshots.probe().clone();
                // a probe is a test image or a drawing, not a training-split row
                self.trainer.trace_sample(probe.input.view(), label, None)
            }
        };
        match trace {
            Ok(trace) => self.outbox.push(Update::Traced(Arc::new(trace))),
            Err(error) => {
                self.outbox.push(Update::Refused {
                    message: format!("cannot step through this step: {error}"),
                    change: None,
                });
                self.end_step_through();
            }
        }
    }

    /// Trains the step being stepped through: the next batch exactly as Step does, or the probe
    /// alone as a batch of one (marked on the curves).
    fn apply_step(&mut self) {
        let Some(source) = self.stepping() else {
            return;
        };
        self.end_step_through();
        match source {
            StepSource::NextBatch => {
                self.train_batch(true);
            }
            StepSource::Probe { label } => {
                let probe = self.snapshots.probe().clone();
                self.snapshots.before_recorded_batch(&self.trainer);
                match self.trainer.train_sample(probe.input.view(), label) {
                    Ok(report) => {
                        self.snapshots
                            .after_recorded_batch(&self.trainer, report.step);
                        let epochs = self.epochs();
                        self.losses.push(LossPoint {
                            step: report.step,
                            epochs,
                            loss: report.loss as f32,
                            accuracy: report.correct as f32 / report.samples.max(1) as f32,
                        });
                        self.outbox.push(Update::ManualStep {
                            step: report.step,
                            epochs,
                        });
                    }
                    Err(error) => self.report_failure(error),
                }
            }
        }
        self.evaluate();
    }

    fn end_step_through(&mut self) {
        if self.stepping().is_some() {
            self.mode = Mode::Paused;
            self.outbox.push(Update::StepThroughEnded);
        }
    }

    /// One batch; false (and paused) if training cannot go on. With `record_update`, what the
    /// batch changed in each layer is kept for the views.
    fn train_batch(&mut self, record_update: bool) -> bool {
        if record_update {
            self.snapshots.before_recorded_batch(&self.trainer);
        }
        let started = Instant::now();
        let result = self.trainer.train_batch();
        self.training_secs += started.elapsed().as_secs_f64();
        match result {
            Ok(report) => {
                // the gradients shown are this batch's again
                self.snapshots.trained();
                if record_update {
                    self.snapshots
                        .after_recorded_batch(&self.trainer, report.step);
                }
                self.losses.push(LossPoint {
                    step: report.step,
                    epochs: self.epochs(),
                    loss: report.loss as f32,
                    accuracy: report.correct as f32 / report.samples.max(1) as f32,
                });
                self.rate_window.1 += report.samples;
                let optimizer = self.trainer.settings().optimizer;
                if let Some(alert) = self
                    .health
                    .after_batch(report.step, report.loss, &optimizer)
                {
                    self.raise(alert);
                }
                // the run length ends training whichever way the epoch was finished
                if report.finished_epoch.is_some() && self.run_length == Some(self.trainer.epoch())
                {
                    self.mode = Mode::Paused;
                    self.outbox.push(Update::Finished {
                        step: report.step,
                        epochs: self.trainer.epoch(),
                    });
                }
                true
            }
            Err(error) => {
                self.report_failure(error);
                false
            }
        }
    }

    /// Says what the health watch saw; a blow-up pauses training.
    fn raise(&mut self, alert: HealthAlert) {
        if alert.pauses() {
            self.mode = Mode::Paused;
        }
        self.outbox.push(Update::Health(alert));
    }

    /// Training cannot go on: pause and say why.
    fn report_failure(&mut self, error: TrainError) {
        self.mode = Mode::Paused;
        let update = match &error {
            TrainError::Diverged { step, .. } => Update::Diverged {
                step: *step,
                message: error.to_string(),
            },
            _ => Update::Failed(error.to_string()),
        };
        self.outbox.push(update);
        self.publish();
    }

    /// Fractional epochs done.
    fn epochs(&self) -> f64 {
        self.trainer.epoch() as f64
            + self.trainer.epoch_progress() as f64 / self.trainer.data().train.len().max(1) as f64
    }

    /// The test outputs of the network now, for the views, with no point on the curves (a
    /// state taken up again).
    fn refresh_test_outputs(&mut self) {
        let stop = self.stop;
        let mut outputs = Array2::zeros((0, 0));
        let result = self
            .trainer
            .evaluate_test_while(&|| !stop.load(Ordering::Relaxed), Some(&mut outputs));
        if matches!(result, Ok(Some(_))) && outputs.iter().all(|v| v.is_finite()) {
            self.snapshots.set_test_outputs(TestOutputs {
                step: self.trainer.step(),
                outputs,
            });
        }
        self.last_test = match result {
            Ok(Some(test)) => Some((self.trainer.step(), test)),
            _ => None,
        };
        // a Pause adds no point: this state's test results are known
        self.evaluated_step = Some(self.trainer.step());
    }

    /// `state` (at `epochs` fractional epochs) is the fork now, and the app is told.
    fn keep_fork(&mut self, state: TrainerState, epochs: f64) {
        self.outbox.push(Update::Forked {
            step: state.step,
            epochs,
        });
        // the fork counts against the timeline's budget
        self.timeline.reserve(state.bytes());
        self.fork = Some((state, epochs));
        self.send_timeline();
    }

    /// Whether training has reached `goal` (the test accuracy: the last evaluation's, taken at
    /// an epoch's end).
    fn reached(&self, goal: Goal) -> bool {
        let at_epoch_end = self.trainer.epoch_progress() == 0;
        match goal {
            Goal::Epoch(epoch) => self.trainer.epoch() >= epoch,
            Goal::Step(step) => self.trainer.step() >= step,
            Goal::TestAccuracy {
                at_least,
                within_epochs,
            } => {
                let accurate = self.last_test.is_some_and(|(step, test)| {
                    step == self.trainer.step() && test.accuracy >= f64::from(at_least)
                });
                (at_epoch_end && accurate) || self.trainer.epoch() >= within_epochs
            }
        }
    }

    /// Pauses at `goal`, with the test split evaluated here, and says so (before the paused
    /// status: once paused, the worker sends nothing until told).
    fn stop_at(&mut self, goal: Goal) {
        self.mode = Mode::Paused;
        self.evaluate();
        let step = self.trainer.step();
        self.outbox.push(Update::Reached { goal, step });
        self.publish();
    }

    /// Test loss and accuracy now (once per step count).
    fn evaluate(&mut self) {
        self.last_evaluation = Instant::now();
        if self.viewing.is_some() {
            // a past state: its results are not the run's next point
            return;
        }
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
            self.snapshots.set_test_outputs(TestOutputs {
                step: self.trainer.step(),
                outputs,
            });
        }
        match result {
            Ok(Some(test)) if test.loss.is_finite() => {
                let (step, epochs) = (self.trainer.step(), self.epochs());
                self.last_test = Some((step, test));
                self.outbox
                    .push(Update::Evaluated(EvaluationPoint { step, epochs, test }));
                let classes = self.trainer.data().classes;
                if let Some(alert) = self.health.evaluated(step, epochs, test.accuracy, classes) {
                    self.raise(alert);
                }
                self.check_dead_layers();
            }
            Ok(_) => {} // stopped, or a loss the divergence check reports
            Err(error) => self.outbox.push(Update::Failed(error.to_string())),
        }
    }

    /// Which ReLU layers are dead on the test batch now; says so when one joins them.
    fn check_dead_layers(&mut self) {
        match self.trainer.dead_layers() {
            Ok(dead) => {
                if dead != self.dead_layers {
                    self.dead_layers = dead.clone();
                    self.outbox.push(Update::DeadLayers(dead.clone()));
                }
                if let Some(alert) = self.health.dead_layers(self.trainer.step(), dead) {
                    self.raise(alert);
                }
            }
            Err(error) => self.outbox.push(Update::Failed(error.to_string())),
        }
    }

    /// Whether the gradients have vanished (once per step count: it reads every gradient).
    fn check_gradients(&mut self) {
        let step = self.trainer.step();
        if step != self.gradients_checked {
            self.gradients_checked = step;
            let largest = self.trainer.largest_weight_gradient();
            if let Some(alert) = self.health.gradients(step, largest) {
                self.raise(alert);
            }
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
            running: self.running(),
            step: self.trainer.step(),
            epochs: self.epochs(),
            samples_per_second: if self.running() {
                self.samples_per_second
            } else {
                0.0
            },
            training_secs: self.training_secs,
        }));
        let snapshot = self.snapshots.take(&self.trainer);
        self.record(&snapshot);
        let snapshot = Arc::new(snapshot);
        let previous = self
            .snapshot
            .lock()
            .ok()
            .map(|mut slot| slot.replace(snapshot));
        // freed once the window can read the slot again: the last snapshot of a large network
        // is hundreds of megabytes
        drop(previous);
        self.outbox.flush();
        self.last_publish = Instant::now();
    }
}
