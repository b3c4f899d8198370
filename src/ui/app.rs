//! The Backprop Lab window: it lays the panels out, turns their actions into worker commands, and
//! reads the worker's updates in `logic` before anything is drawn.

use std::time::Instant;

mod display;
mod files;
mod lesson;

use egui::{Key, RichText, Ui};
use serde::{Deserialize, Serialize};

use super::curves::CurvesPanel;
use super::layers_panel::LayersPanel;
use super::palette;
use super::pins::{CompareAction, Pin, Pins, describe};
use super::run_view::{Alert, RunView};
use super::settings_panel::{SettingsAction, SettingsPanel};
use super::timeline::{TimelineAction, resume_button};
use super::toolbar::{Toolbar, ToolbarAction};
use super::views::{DrawView, ViewAction, ViewInputs, Views};
use crate::train::SettingChange;
use crate::train::controls::{Control, Hidden};
use crate::train::health::HealthAlert;
use crate::train::protocol::{Command, Restore, Speed, StepSource, Update};
use crate::train::state::TrainerState;
use crate::train::worker::Worker;
use crate::train::{Preset, RunConfig, TrainSettings};
use files::note;
pub use files::{Ask, Files};
pub use lesson::LessonPlayer;

/// What persists between launches (panel sizes persist through egui's own memory).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preferences {
    pub config: RunConfig,
    pub curves: CurvesPanel,
    pub speed: Speed,
    pub dark_mode: bool,
    /// The ids of the views switched on in the central area.
    #[serde(default = "super::views::default_views")]
    pub views: Vec<String>,
    /// Files saved or opened lately, newest first.
    #[serde(default)]
    pub recent: Vec<std::path::PathBuf>,
    /// Keep the timeline and the histograms as the run trains.
    #[serde(default = "recording_default")]
    pub record_history: bool,
    /// The window's scale, 1.0 to 2.5 (Ctrl+Plus, Ctrl+Minus, Ctrl+0, the View menu).
    #[serde(default = "scale_default")]
    pub scale: f32,
    /// Thicker curves, larger labels and points, for a projector.
    #[serde(default)]
    pub high_contrast: bool,
    /// The controls students do not see.
    #[serde(default)]
    pub hidden: Hidden,
    /// The views Present mode shows (one or two ids).
    #[serde(default = "display::default_presented")]
    pub present_views: Vec<String>,
    /// The speed on the small 2-D sets: a pace a class can follow, unless the user chose full
    /// speed there (`speed` is the other sets').
    #[serde(default = "class_pace")]
    pub toy_speed: Speed,
}

fn recording_default() -> bool {
    true
}

fn scale_default() -> f32 {
    1.0
}

/// Whether `config` trains on one of the small generated 2-D sets (XOR, circle, spiral...).
fn is_small_2d(config: &RunConfig) -> bool {
    matches!(config.data, crate::data::DataSource::Toy(_))
}

/// The 2-D sets' default pace: XOR's 300 steps in three seconds, the spiral's 10,000 in 100.
pub fn class_pace() -> Speed {
    Speed::StepsPerSecond(100.0)
}

impl Default for Preferences {
    fn default() -> Self {
        let spiral = Preset::named("spiral").expect("the spiral preset exists");
        Self {
            config: RunConfig::from_preset(&spiral, 42),
            curves: CurvesPanel::default(),
            speed: Speed::Full,
            dark_mode: true,
            views: super::views::default_views(),
            recent: Vec::new(),
            record_history: true,
            scale: 1.0,
            high_contrast: false,
            hidden: Hidden::default(),
            present_views: display::default_presented(),
            toy_speed: class_pace(),
        }
    }
}

pub const PREFERENCES_KEY: &str = "backprop-lab-preferences";

/// The preferences saved at the last exit, and what was set aside of them and why: preferences
/// this version cannot read, or a run that cannot start (too large for this machine, its data
/// folder gone, an architecture that does not fit its data). The app then starts with the
/// defaults (or the default run), never on something that would fail at every launch.
pub fn startup_preferences(storage: Option<&dyn eframe::Storage>) -> (Preferences, Option<String>) {
    let Some(storage) = storage else {
        return (Preferences::default(), None);
    };
    let Some(mut preferences) = eframe::get_value::<Preferences>(storage, PREFERENCES_KEY) else {
        let unreadable = storage.get_string(PREFERENCES_KEY).is_some();
        let note = unreadable.then(|| {
            "The saved preferences could not be read (another version's, or damaged): the app \
             started with its defaults"
                .to_string()
        });
        return (Preferences::default(), note);
    };
    let note = startable(&preferences.config).err().map(|why| {
        preferences.config = Preferences::default().config;
        format!("The last run was set aside and the default run started: {why}")
    });
    (preferences, note)
}

/// Why `config` cannot start, if it cannot; checked without loading its data or allocating.
pub fn startable(config: &RunConfig) -> Result<(), String> {
    // (the size included)
    super::settings_panel::validate(config)?;
    if let crate::data::DataSource::IdxFolder { path } = &config.data
        && !path.is_dir()
    {
        return Err(format!("its data folder {} is gone", path.display()));
    }
    Ok(())
}

/// How the app starts: from the saved preferences, or as the command line says.
#[derive(Clone, Debug, Default)]
pub struct Launch {
    /// Start this preset instead of the last run.
    pub preset: Option<String>,
    /// Start this run (takes precedence over `preset`).
    pub config: Option<RunConfig>,
    /// Press Play at once.
    pub play: bool,
    /// Append one JSON line per second here: frame times and training speed.
    pub perf_log: Option<std::path::PathBuf>,
    /// Open these views (ids) instead of the last ones.
    pub views: Option<Vec<String>>,
    /// The app's data folder: the run is kept there when the window closes and offered back
    /// at the next launch (none: nothing kept).
    pub data_dir: Option<std::path::PathBuf>,
    /// Start in Present mode.
    pub present: bool,
    /// Open this lesson file, or built-in lesson N ("3") when there is no such file.
    pub lesson: Option<std::path::PathBuf>,
    /// Train at full speed on the small 2-D sets too.
    pub full_speed: bool,
}

/// Frame-time statistics over the last second, for the status line and BENCHMARKS.md.
#[derive(Default)]
struct FrameTimes {
    window_start: Option<Instant>,
    sum_ms: f64,
    max_ms: f64,
    frames: u32,
    /// Mean and max of the last complete second.
    last: (f64, f64),
    /// Every frame since launch, in whole milliseconds (the last bucket: 1 s or more).
    all: FrameHistogram,
}

/// One second of frames: mean and max in ms, how many.
type FrameSecond = (f64, f64, u32);

impl FrameTimes {
    /// Adds a frame; returns the second's figures when a second is complete.
    fn record(&mut self, frame_ms: f64) -> Option<FrameSecond> {
        self.all.add(frame_ms);
        let start = *self.window_start.get_or_insert_with(Instant::now);
        self.sum_ms += frame_ms;
        self.max_ms = self.max_ms.max(frame_ms);
        self.frames += 1;
        if start.elapsed().as_secs_f64() < 1.0 {
            return None;
        }
        let second = (
            self.sum_ms / f64::from(self.frames),
            self.max_ms,
            self.frames,
        );
        self.window_start = None;
        self.sum_ms = 0.0;
        self.max_ms = 0.0;
        self.frames = 0;
        self.last = (second.0, second.1);
        Some(second)
    }
}

/// How many frames took each whole number of milliseconds, since launch.
struct FrameHistogram {
    /// `counts[ms]`, ms in 0..=1000 (1000: a second or more).
    counts: Vec<u64>,
    total: u64,
}

impl Default for FrameHistogram {
    fn default() -> Self {
        Self {
            counts: vec![0; 1001],
            total: 0,
        }
    }
}

impl FrameHistogram {
    fn add(&mut self, frame_ms: f64) {
        let bucket = (frame_ms.max(0.0) as usize).min(self.counts.len() - 1);
        self.counts[bucket] += 1;
        self.total += 1;
    }

    /// The smallest whole millisecond that `fraction` of the frames took less than
    /// (the upper edge of the bucket holding that quantile).
    fn quantile_ms(&self, fraction: f64) -> u64 {
        let wanted = (fraction * self.total as f64).ceil() as u64;
        let mut seen = 0;
        for (ms, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= wanted.max(1) {
                return ms as u64 + 1;
            }
        }
        self.counts.len() as u64
    }
}

pub struct BackpropLab {
    preferences: Preferences,
    /// The config the running worker was started from.
    active: RunConfig,
    worker: Option<Worker>,
    run: RunView,
    toolbar: Toolbar,
    settings: SettingsPanel,
    layers: LayersPanel,
    views: Views,
    frame_times: FrameTimes,
    perf_log: Option<std::path::PathBuf>,
    egui_ctx: egui::Context,
    files: Files,
    /// Runs pinned beside the live one; they outlive resets.
    pins: Pins,
    /// Present mode: the panels away, a large toolbar, the presented views.
    presenting: bool,
    /// The "Controls students see" window is open.
    controls_open: bool,
    /// `--full-speed`: every run at full speed this time, whatever the preferences say.
    full_speed: bool,
    /// The lesson being played.
    lesson: Option<lesson::LessonPlayer>,
    /// The "Paste setup" window's text, while it is open.
    paste_text: Option<String>,
}

impl BackpropLab {
    pub fn new(cc: &eframe::CreationContext<'_>, launch: Launch) -> Self {
        let (kept_run, offer) = files::kept_run(launch.data_dir.clone());
        // a run the command line asks for is not interrupted by the offer
        let offer = offer.filter(|_| launch.preset.is_none() && launch.config.is_none());
        let (mut preferences, set_aside) = startup_preferences(cc.storage);
        if let Some(preset) = launch.preset.as_deref().and_then(Preset::named) {
            preferences.config = RunConfig::from_preset(&preset, preferences.config.seed);
        }
        if let Some(config) = launch.config {
            preferences.config = config;
        }
        if let Some(views) = launch.views {
            preferences.views = views;
        }

        cc.egui_ctx.set_theme(if preferences.dark_mode {
            egui::Theme::Dark
        } else {
            egui::Theme::Light
        });
        display::apply_text_sizes(&cc.egui_ctx, preferences.high_contrast);
        // the app's own scale keys keep it within 100-250% and save it
        cc.egui_ctx.options_mut(|o| o.zoom_with_keyboard = false);
        preferences.scale = display::valid_scale(preferences.scale);
        cc.egui_ctx.set_zoom_factor(preferences.scale);
        let mut app = Self {
            active: preferences.config.clone(),
            worker: None,
            run: RunView::default(),
            toolbar: Toolbar::new(preferences.speed),
            settings: SettingsPanel::new(preferences.config.clone()),
            layers: LayersPanel::default(),
            views: {
                let mut views = Views::default();
                views.set_curves(preferences.curves.clone());
                views
            },
            frame_times: FrameTimes::default(),
            perf_log: launch.perf_log.clone(),
            egui_ctx: cc.egui_ctx.clone(),
            files: Files {
                kept_run,
                offer,
                ..Files::default()
            },
            pins: Pins::default(),
            presenting: launch.present,
            controls_open: false,
            full_speed: launch.full_speed,
            lesson: None,
            paste_text: None,
            preferences,
        };
        app.restart(app.active.clone());
        if let Some(path) = &launch.lesson {
            let opened = app.open_lesson_argument(path);
            app.files.note = Some(note(opened));
        }
        // said once (the next exit saves what started instead), before anything else
        if let Some(message) = set_aside {
            app.files.note = Some((false, message));
        }
        if launch.play {
            app.command(Command::Play);
        }
        app
    }

    /// The worker's view of the run (for tests and the status line).
    pub fn run_view(&self) -> &RunView {
        &self.run
    }

    pub fn active_config(&self) -> &RunConfig {
        &self.active
    }

    /// Records the timeline and the histograms, or stops (the Record switch under the curves).
    pub fn set_recording(&mut self, on: bool) {
        self.timeline_action(TimelineAction::SetRecording(on));
    }

    /// The pinned runs.
    pub fn pins(&self) -> &Pins {
        &self.pins
    }

    /// The views' state (for tests: what the pointer reads, what is selected).
    pub fn views(&self) -> &Views {
        &self.views
    }

    /// The ids of the views that are on.
    pub fn shown_views(&self) -> &[String] {
        &self.preferences.views
    }

    pub fn views_mut(&mut self) -> &mut Views {
        &mut self.views
    }

    /// Switches the views in `shown` on and every other off.
    pub fn show_views(&mut self, shown: &[&str]) {
        self.preferences.views = shown.iter().map(|id| id.to_string()).collect();
    }

    /// The speed `config` trains at: on the small 2-D sets, a pace a class can follow unless
    /// the user chose otherwise there.
    fn speed_for(&self, config: &RunConfig) -> Speed {
        if self.full_speed {
            Speed::Full
        } else if is_small_2d(config) {
            self.preferences.toy_speed
        } else {
            self.preferences.speed
        }
    }

    /// Sets the speed, as the toolbar does: kept for the 2-D sets when the run is on one,
    /// else for the others.
    pub fn set_speed(&mut self, speed: Speed) {
        self.toolbar.set_speed(speed);
        self.toolbar_action(ToolbarAction::SetSpeed(speed));
    }

    /// Switches view `id` on, among the presented ones too while presenting (the oldest of
    /// those giving way).
    fn show_view(&mut self, id: &str) {
        if !self.preferences.views.iter().any(|v| v == id) {
            self.preferences.views.push(id.into());
        }
        let presented = &mut self.preferences.present_views;
        if self.presenting && !presented.iter().any(|v| v == id) {
            presented.push(id.into());
            if presented.len() > display::PRESENTED_VIEWS {
                presented.remove(0);
            }
        }
    }

    /// The running worker, if any.
    pub fn worker(&self) -> Option<&Worker> {
        self.worker.as_ref()
    }

    /// Drops the current worker (stopping and joining its thread) and starts `config`.
    fn restart(&mut self, config: RunConfig) {
        self.restart_at(config, None);
    }

    /// [`BackpropLab::restart`], the trainer taking up a saved `state` of `config` first.
    fn restart_at(&mut self, config: RunConfig, state: Option<TrainerState>) {
        self.worker = None;
        self.run = RunView::default();
        let ctx = self.egui_ctx.clone();
        // A repaint "after" a moment rather than "now": egui paints an immediate request twice
        // (to let layouts settle), which would double the cost of every update.
        let repaint = move || ctx.request_repaint_after(std::time::Duration::from_millis(1));
        self.toolbar.set_speed(self.speed_for(&config));
        match Worker::spawn_at(config.clone(), state, repaint) {
            Ok(worker) => {
                worker.send(Command::SetSpeed(self.toolbar.speed));
                worker.send(Command::SetRecording(self.preferences.record_history));
                self.worker = Some(worker);
            }
            Err(error) => {
                self.run.alert = Some(Alert::Failed(format!(
                    "cannot start the trainer thread: {error}"
                )))
            }
        }
        self.settings.restarted(config.clone());
        self.preferences.config = config.clone();
        self.active = config;
    }

    /// Sends a command to the trainer. A setting change shows in the panel and the saved run
    /// once the trainer has confirmed it (see [`BackpropLab::confirm`]).
    pub fn command(&mut self, command: Command) {
        let sent = self.worker.as_ref().is_some_and(|w| w.send(command));
        if !sent && self.run.alert.is_none() {
            self.run.alert = Some(Alert::Failed(
                "the trainer is not running: press Reset".into(),
            ));
        }
    }

    /// The settings the trainer runs with change only when it says it changed them: then the
    /// config a reset starts from and the saved run change too, and the panel stops waiting.
    fn confirm(&mut self, update: &Update) {
        match update {
            // a new step starts at its first phase; the same step recorded again (after a loss
            // switch) stays where the learner is
            Update::Traced(trace)
                if self.run.trace.as_ref().is_none_or(|t| t.step != trace.step) =>
            {
                self.views.step.restart();
            }
            Update::Changed { event, .. } => {
                self.active.settings = self.active.settings.with(event.change);
                self.preferences.config.settings = self.active.settings;
                self.settings.answered();
            }
            Update::Refused {
                change: Some(_), ..
            } => self.settings.answered(),
            Update::Restored {
                step,
                settings,
                why,
                ..
            } => self.restored(*step, *settings, *why),
            _ => {}
        }
    }

    /// The trainer took up another state with `settings`: the panel and the config follow;
    /// going back to the fork or resuming from a past step pins the part of the run left.
    fn restored(&mut self, step: u64, settings: TrainSettings, why: Restore) {
        let left = match why {
            Restore::Fork { left } | Restore::Resume { left } => Some(left),
            Restore::View { .. } | Restore::Present => None,
        };
        if let Some(left) = left.filter(|&left| left > step) {
            let label = format!(
                "{}, steps {step} to {left}",
                describe(&self.active.settings, self.active.seed)
            );
            if let Err(message) = self.pins.add(Pin::from_run(label, &self.run, step)) {
                self.run.alert = Some(Alert::Refused(format!(
                    "the branch left was not pinned: {message}"
                )));
            }
        }
        // (the panel shows the active settings from the next frame on, draft edits kept)
        self.active.settings = settings;
        self.preferences.config.settings = settings;
    }

    /// Pins the run's curves as they are.
    fn pin_run(&mut self) {
        let mut label = describe(&self.active.settings, self.active.seed);
        if let Some(preset) = &self.active.preset {
            label = format!("{preset}: {label}");
        }
        if let Err(message) = self.pin_run_as(label) {
            self.run.alert = Some(Alert::Refused(message));
        }
    }

    /// Pins the live run's curves under `label`; refused when there are too many pins.
    fn pin_run_as(&mut self, label: String) -> Result<(), String> {
        self.pins
            .add(Pin::from_run(label, &self.run, 0))
            .map_err(|message| format!("not pinned: {message}"))
    }

    fn toolbar_action(&mut self, action: ToolbarAction) {
        // the learner takes over from a lesson step under way
        if !matches!(action, ToolbarAction::SetSpeed(_)) {
            self.lesson_interrupted();
        }
        match action {
            ToolbarAction::Play => self.command(Command::Play),
            ToolbarAction::Pause => self.command(Command::Pause),
            ToolbarAction::Step => self.command(Command::Step),
            ToolbarAction::StepEpoch => self.command(Command::StepEpoch),
            ToolbarAction::StepThrough => self.step_through(self.default_step_source()),
            ToolbarAction::Reset => {
                let config = if super::settings_panel::validate(&self.settings.draft).is_ok() {
                    self.settings.draft.clone()
                } else {
                    self.active.clone()
                };
                self.restart(config);
            }
            ToolbarAction::SetSpeed(speed) => {
                // a speed chosen now is the user's own, kept
                self.full_speed = false;
                if is_small_2d(&self.active) {
                    self.preferences.toy_speed = speed;
                } else {
                    self.preferences.speed = speed;
                }
                self.command(Command::SetSpeed(speed));
            }
        }
    }

    /// One line per second to the performance log, if there is one.
    fn log_performance(&self, (mean_ms, max_ms, frames): FrameSecond) {
        let Some(path) = &self.perf_log else {
            return;
        };
        let status = &self.run.status;
        let all = &self.frame_times.all;
        let line = serde_json::json!({
            "frames": frames,
            "frame_ms_mean": mean_ms,
            "frame_ms_max": max_ms,
            // since launch: every frame counted, to the whole millisecond above
            "frames_total": all.total,
            "frame_ms_p50_total": all.quantile_ms(0.50),
            "frame_ms_p99_total": all.quantile_ms(0.99),
            "running": status.running,
            "step": status.step,
            "samples_per_s": status.samples_per_second,
        });
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| {
                std::io::Write::write_all(&mut file, format!("{line}\n").as_bytes())
            });
        if let Err(error) = written {
            eprintln!(
                "warning: cannot write the performance log {}: {error}",
                path.display()
            );
        }
    }

    fn view_action(&mut self, action: ViewAction) {
        // the learner takes over from a lesson step under way (a new probe or loss does not)
        if !matches!(action, ViewAction::SetProbe(_) | ViewAction::ChangeLoss(_)) {
            self.lesson_interrupted();
        }
        match action {
            ViewAction::SetProbe(probe) => self.command(Command::SetProbe(probe)),
            ViewAction::StepThrough(source) => self.step_through(source),
            ViewAction::ApplyStep => self.command(Command::ApplyStep),
            ViewAction::AbandonStep => self.command(Command::AbandonStep),
            ViewAction::ChangeLoss(loss) => {
                self.command(Command::Change(SettingChange::Loss(loss)));
                self.settings.awaiting_answer();
            }
            ViewAction::Timeline(action) => self.timeline_action(action),
            ViewAction::Compare(CompareAction::Pin) => self.pin_run(),
            ViewAction::Compare(CompareAction::Fork) => self.command(Command::Fork),
            ViewAction::Compare(CompareAction::BackToFork) => self.command(Command::BackToFork),
        }
    }

    fn timeline_action(&mut self, action: TimelineAction) {
        match action {
            TimelineAction::View(step) => self.command(Command::ViewStep(step)),
            TimelineAction::BackToPresent => self.command(Command::BackToPresent),
            TimelineAction::ResumeHere => self.command(Command::ResumeHere),
            TimelineAction::SetRecording(on) => {
                self.preferences.record_history = on;
                self.command(Command::SetRecording(on));
            }
        }
    }

    /// Starts stepping through `source`'s step, with the step-through view on.
    fn step_through(&mut self, source: StepSource) {
        self.show_view("step");
        self.views.step.source_is_probe = matches!(source, StepSource::Probe { .. });
        self.command(Command::StepThrough(source));
    }

    /// The step the toolbar's "Step through" walks: the probe or the next batch, as chosen last.
    fn default_step_source(&self) -> StepSource {
        let probe_label = self
            .worker
            .as_ref()
            .and_then(Worker::snapshot)
            .and_then(|s| s.probe.label)
            .or(self.views.step.probe_label);
        match (self.views.step.source_is_probe, probe_label) {
            (true, Some(label)) => StepSource::Probe { label },
            _ => StepSource::NextBatch,
        }
    }

    /// While stepping through: Right and Left move through the phases, Enter applies the step,
    /// Esc abandons it. True if a key was taken.
    fn step_through_keys(&mut self, ui: &Ui) -> bool {
        let Some(layers) = self.run.trace.as_ref().map(|t| t.layers.len()) else {
            return false;
        };
        let (next, previous, apply, abandon) = ui.input(|i| {
            (
                i.key_pressed(Key::ArrowRight),
                i.key_pressed(Key::ArrowLeft),
                i.key_pressed(Key::Enter),
                i.key_pressed(Key::Escape),
            )
        });
        if next {
            self.views.step.next(layers);
        }
        if previous {
            self.views.step.previous();
        }
        if apply {
            self.command(Command::ApplyStep);
        }
        if abandon {
            self.command(Command::AbandonStep);
        }
        true
    }

    fn keyboard_shortcuts(&mut self, ui: &Ui) {
        self.display_keys(ui);
        self.lesson_keys(ui);
        self.pasted(ui);
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, Key::S)) {
            self.save_run();
        }
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, Key::Q)) {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let stepping = self.step_through_keys(ui);
        let (space, right, shift, reset, step_through) = ui.input(|i| {
            (
                i.key_pressed(Key::Space),
                i.key_pressed(Key::ArrowRight) && !stepping,
                i.modifiers.shift,
                i.key_pressed(Key::R),
                i.key_pressed(Key::T),
            )
        });
        // the shortcuts of hidden controls are hidden too
        let hidden = &self.preferences.hidden;
        let step_through = step_through && hidden.shows(Control::StepThrough);
        let reset = reset && hidden.shows(Control::Reset);
        if step_through && !stepping {
            self.toolbar_action(ToolbarAction::StepThrough);
        }
        if space {
            let action = if self.run.status.running {
                ToolbarAction::Pause
            } else {
                ToolbarAction::Play
            };
            self.toolbar_action(action);
        }
        if right {
            self.toolbar_action(if shift {
                ToolbarAction::StepEpoch
            } else {
                ToolbarAction::Step
            });
        }
        if reset {
            self.toolbar_action(ToolbarAction::Reset);
        }
    }

    /// A file or folder dropped on the window: a folder is the next reset's data, a picture
    /// goes to the drawing view to be classified.
    pub fn open_dropped(&mut self, path: std::path::PathBuf) {
        if path.is_dir() {
            self.settings.dropped_folder(path);
        } else {
            self.open_path(&path);
        }
    }

    /// A picture for the drawing view to classify (the view comes on).
    fn open_picture(&mut self, path: &std::path::Path) {
        self.show_view("draw");
        self.views.get_mut::<DrawView>().path_text = path.display().to_string();
        self.views.get_mut::<DrawView>().open(path.to_path_buf());
    }

    /// The error alert, then what the health watch said, then a finished run's summary.
    fn alerts_ui(&mut self, ui: &mut Ui) {
        self.alert_ui(ui);
        self.viewing_ui(ui);
        for alert in self.run.health.clone() {
            let title = match alert {
                HealthAlert::BlowUp { .. } => "The loss blew up: training paused",
                HealthAlert::DeadLayers { .. } => "Dead layer",
                HealthAlert::VanishedGradients { .. } => "The gradients vanished",
                HealthAlert::AtChance { .. } => "Accuracy at chance",
            };
            match banner(ui, title, &alert.message(), true) {
                Some(Choice::Dismiss) => self.run.health.retain(|a| *a != alert),
                Some(Choice::Reset) => self.toolbar_action(ToolbarAction::Reset),
                None => {}
            }
        }
        if let Some(summary) = self.run.summary() {
            match banner(ui, "Run finished", &summary, false) {
                Some(Choice::Dismiss) => self.run.finished = None,
                Some(Choice::Reset) => self.toolbar_action(ToolbarAction::Reset),
                None => {}
            }
        }
    }

    /// While a past step is on show: which, and the way back or on.
    fn viewing_ui(&mut self, ui: &mut Ui) {
        let Some(viewing) = self.run.viewing else {
            return;
        };
        egui::Frame::new()
            .fill(ui.visuals().faint_bg_color)
            .stroke(egui::Stroke::new(1.5, palette::MARKER))
            .inner_margin(6.0)
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal_wrapped(|ui| {
                    ui.label(
                        RichText::new(format!("Viewing the past: {}", viewing.describe()))
                            .strong()
                            .color(palette::MARKER),
                    );
                    ui.label("Every view shows the network as it was then.");
                    if ui.button("Back to now").clicked() {
                        self.timeline_action(TimelineAction::BackToPresent);
                    }
                    if resume_button(ui, self.pins.is_full()).clicked() {
                        self.timeline_action(TimelineAction::ResumeHere);
                    }
                });
            });
        ui.add_space(6.0);
    }

    fn alert_ui(&mut self, ui: &mut Ui) {
        let Some(alert) = self.run.alert.clone() else {
            return;
        };
        let (title, message, offer_reset) = match &alert {
            Alert::Diverged { step, message } => (
                format!("Training diverged at step {step} and paused"),
                message.clone(),
                true,
            ),
            Alert::Failed(message) => ("The run cannot go on".to_string(), message.clone(), true),
            Alert::Crashed(message) => (
                "The trainer crashed".to_string(),
                format!("{message}. Reset starts a fresh trainer."),
                true,
            ),
            Alert::Refused(message) => (
                "That change was refused".to_string(),
                message.clone(),
                false,
            ),
        };
        egui::Frame::new()
            .fill(palette::ALERT_BACKGROUND)
            .stroke(egui::Stroke::new(1.5, palette::ALERT))
            .inner_margin(8.0)
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(RichText::new(title).strong().color(egui::Color32::WHITE));
                ui.label(RichText::new(message).color(egui::Color32::WHITE));
                ui.horizontal(|ui| {
                    if offer_reset && ui.button("Reset").clicked() {
                        self.toolbar_action(ToolbarAction::Reset);
                    }
                    if ui
                        .button("Dismiss")
                        .on_hover_text("Hide this message; the run stays as it is")
                        .clicked()
                    {
                        self.run.alert = None;
                    }
                });
            });
        ui.add_space(6.0);
    }
}

impl BackpropLab {
    /// The desk layout's panels: the toolbar with the menus, the settings at the left, the
    /// layer table at the bottom.
    fn desk_panels(&mut self, ui: &mut Ui) {
        let ready = self.run.info.is_some();
        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(4.0);
            // one row on a wide window; wrapped, never overlapping, on a narrow one
            ui.horizontal_wrapped(|ui| {
                self.file_menu(ui);
                self.view_menu(ui);
                ui.heading(RichText::new("Backprop Lab").strong());
                ui.separator();
                let status = self.run.status;
                let hidden = &self.preferences.hidden;
                if let Some(action) = self.toolbar.ui(ui, &status, ready, hidden) {
                    self.toolbar_action(action);
                }
                let (mean, max) = self.frame_times.last;
                let frame = format!("frame {mean:.1} ms (max {max:.0})");
                let room = ui.fonts_mut(|f| {
                    f.layout_no_wrap(
                        frame.clone(),
                        egui::TextStyle::Body.resolve(ui.style()),
                        egui::Color32::WHITE,
                    )
                    .size()
                    .x
                }) + 70.0;
                let mut dark = self.preferences.dark_mode;
                let mut right = |ui: &mut Ui| {
                    if ui
                        .selectable_label(dark, "Dark")
                        .on_hover_text("Dark theme")
                        .clicked()
                    {
                        dark = !dark;
                    }
                    ui.add(
                        egui::Label::new(RichText::new(&frame).weak())
                            .wrap_mode(egui::TextWrapMode::Extend),
                    )
                    .on_hover_text("Time to build the last second's frames");
                };
                if ui.available_size_before_wrap().x >= room {
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), right);
                } else {
                    right(ui);
                }
                if dark != self.preferences.dark_mode {
                    self.preferences.dark_mode = dark;
                    ui.ctx().set_theme(if dark {
                        egui::Theme::Dark
                    } else {
                        egui::Theme::Light
                    });
                }
            });
            ui.add_space(2.0);
        });
        egui::Panel::left("settings")
            .resizable(true)
            .default_size(330.0)
            .min_size(260.0)
            .show(ui, |ui| {
                let actions = self.settings.ui(ui, &self.active, &self.preferences.hidden);
                for action in actions {
                    match action {
                        SettingsAction::Change(change) => self.command(Command::Change(change)),
                        SettingsAction::Restart(config) => self.restart(config),
                        SettingsAction::RunLength(epochs) => {
                            self.active.epochs = epochs;
                            self.preferences.config.epochs = epochs;
                            self.command(Command::SetRunLength(epochs));
                        }
                    }
                }
            });
        // a short window keeps most of its height for the views
        let layers_height = (ui.available_height() * 0.22).clamp(120.0, 190.0);
        egui::Panel::bottom("layers")
            .resizable(true)
            .default_size(layers_height)
            .min_size(120.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                let snapshot = self.worker.as_ref().and_then(Worker::snapshot);
                // fill the panel, so that it keeps its size while the contents load
                egui::ScrollArea::vertical()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        self.layers
                            .ui(ui, self.run.info.as_ref(), snapshot, &self.run.dead_layers);
                    });
            });
    }
}

impl eframe::App for BackpropLab {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let updates: Vec<Update> = self
            .worker
            .as_ref()
            .map(|worker| worker.updates().collect())
            .unwrap_or_default();
        for update in updates {
            self.state_arrived(&update);
            self.confirm(&update);
            self.lesson_update(&update);
            self.run.apply(update);
        }
    }

    fn ui(&mut self, ui: &mut Ui, frame: &mut eframe::Frame) {
        if let Some(seconds) = frame.info().cpu_usage
            && let Some(second) = self.frame_times.record(f64::from(seconds) * 1000.0)
        {
            self.log_performance(second);
        }
        self.keyboard_shortcuts(ui);
        self.before_closing(ui);
        self.prompt_ui(&ui.ctx().clone());
        let dropped = ui.input(|i| i.raw.dropped_files.clone());
        for path in dropped
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
        {
            self.open_dropped(path);
        }
        self.controls_window(&ui.ctx().clone());
        self.paste_window(&ui.ctx().clone());
        if self.presenting {
            egui::Panel::top("present-toolbar").show(ui, |ui| self.present_toolbar(ui));
        } else {
            self.desk_panels(ui);
        }
        if self.lesson.is_some() {
            let size = if self.presenting { 24.0 } else { 16.0 };
            egui::Panel::top("lesson").show(ui, |ui| {
                ui.add_space(4.0);
                self.lesson_ui(ui, size, !self.presenting);
            });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.files_ui(ui);
            self.alerts_ui(ui);
            let info = self.run.info.as_ref();
            if !self.presenting {
                self.views.toggles_ui(ui, &mut self.preferences.views, info);
                ui.add_space(4.0);
            }
            let shown = if self.presenting {
                &self.preferences.present_views
            } else {
                &self.preferences.views
            };
            let snapshot = self.worker.as_ref().and_then(Worker::snapshot);
            let inputs = ViewInputs {
                run: &self.run,
                snapshot: snapshot.as_ref(),
                pins: &mut self.pins,
                recording: self.preferences.record_history,
                hidden: &self.preferences.hidden,
            };
            let actions = self.views.ui(ui, shown, inputs);
            for action in actions {
                self.view_action(action);
            }
        });
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // (a close that did not pass `before_closing`, e.g. the app ending otherwise)
        if self.files.kept_run.is_some()
            && !self.files.kept
            && let Err(error) = self.keep_run()
        {
            eprintln!("backprop-lab: the run was not kept: {error}");
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.preferences.curves = self.views.curves().clone();
        // a lesson's hidden controls last while it is open, not into the next launch
        let mut preferences = self.preferences.clone();
        if let Some(player) = &self.lesson {
            preferences.hidden = player.hidden_before().clone();
        }
        eframe::set_value(storage, PREFERENCES_KEY, &preferences);
    }
}

/// What a banner's buttons ask for.
enum Choice {
    Dismiss,
    Reset,
}

/// A message above the views, red for a warning, with Reset and Dismiss.
fn banner(ui: &mut Ui, title: &str, message: &str, warning: bool) -> Option<Choice> {
    let (fill, stroke, text) = if warning {
        (
            palette::ALERT_BACKGROUND,
            palette::ALERT,
            egui::Color32::WHITE,
        )
    } else {
        (
            ui.visuals().faint_bg_color,
            ui.visuals().selection.stroke.color,
            ui.visuals().text_color(),
        )
    };
    let mut choice = None;
    egui::Frame::new()
        .fill(fill)
        .stroke(egui::Stroke::new(1.5, stroke))
        .inner_margin(8.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(title).strong().color(text));
            ui.label(RichText::new(message).color(text));
            ui.horizontal(|ui| {
                if ui
                    .button("Reset")
                    .on_hover_text("Start again from new initial weights")
                    .clicked()
                {
                    choice = Some(Choice::Reset);
                }
                if ui
                    .button("Dismiss")
                    .on_hover_text("Hide this message; the run stays as it is")
                    .clicked()
                {
                    choice = Some(Choice::Dismiss);
                }
            });
        });
    ui.add_space(6.0);
    choice
}

#[cfg(test)]
mod tests {
    use super::FrameHistogram;

    #[test]
    fn frame_quantiles_are_the_upper_edge_of_their_millisecond() {
        let mut frames = FrameHistogram::default();
        for _ in 0..98 {
            frames.add(3.4);
        }
        frames.add(40.2);
        frames.add(5000.0);
        assert_eq!(frames.total, 100);
        assert_eq!(frames.quantile_ms(0.5), 4);
        assert_eq!(frames.quantile_ms(0.98), 4);
        assert_eq!(frames.quantile_ms(0.99), 41);
        assert_eq!(frames.quantile_ms(1.0), 1001);
    }
}
