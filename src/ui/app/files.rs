//! The app's files: save and open runs (Ctrl+S), open models and pictures (told apart by
//! content), export the model and the curves, and the run kept when the window closes and
//! offered back at the next launch. A file that cannot be opened leaves the run as it was.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::{RichText, Ui};

use super::BackpropLab;
use crate::io::atomic::{self, FileStamp, explain};
use crate::io::run_file::{MarkerRecord, ProbeRecord, RunHistory};
use crate::io::{RunFile, TrainingRecord, load_any, safetensors_model};
use crate::nn::Network;
use crate::train::RunConfig;
use crate::train::protocol::{Command, Probe, StateFor, Update};
use crate::train::state::{TensorState, TrainerState};
use crate::ui::file_dialog;
use crate::ui::pins::{Pin, describe};

/// Longest the window waits for the trainer's state when it closes.
const EXIT_SAVE_WAIT: Duration = Duration::from_secs(5);
/// The run kept when the window closes, in the app's data folder.
pub const KEPT_RUN: &str = "last-run.json";

/// What a file is, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Run,
    Model,
    Picture,
    Lesson,
}

/// What a file of `len` bytes starting with `bytes` is.
pub fn kind_of(bytes: &[u8], len: u64) -> Option<Kind> {
    if safetensors_model::looks_like(bytes, len) {
        return Some(Kind::Model);
    }
    if bytes.starts_with(b"\x89PNG") || bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Picture);
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(256)]);
    if head.contains("\"backprop-lab-run\"") {
        Some(Kind::Run)
    } else if head.contains("\"backprop-lab-lesson\"") {
        Some(Kind::Lesson)
    } else if head.contains("\"backprop-lab-model\"") {
        Some(Kind::Model)
    } else {
        None
    }
}

/// The note of an outcome: (it worked, what happened or why not).
pub fn note(outcome: Result<String, String>) -> (bool, String) {
    match outcome {
        Ok(message) => (true, message),
        Err(message) => (false, message),
    }
}

/// What a path is asked for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ask {
    SaveRun,
    Open,
    /// A run file's curves, as a pin.
    OpenPin,
    ExportModel,
    ExportCurves,
    /// A picture of the view with this id, as shown.
    SaveViewPng(&'static str),
    /// The setup (run, views, hidden controls) as a lesson file.
    SaveSetup,
}

impl Ask {
    fn title(self) -> &'static str {
        match self {
            Ask::SaveRun => "Save run as",
            Ask::Open => "Open a run, a lesson, a model or a picture",
            Ask::OpenPin => "Open a saved run as a pin",
            Ask::ExportModel => "Export model (safetensors)",
            Ask::ExportCurves => "Export curves as CSV",
            Ask::SaveViewPng(_) => "Save view as PNG",
            Ask::SaveSetup => "Save setup as lesson",
        }
    }
}

/// The app's file state.
#[derive(Default)]
pub struct Files {
    /// The run file this run was saved to or opened from: Save run writes there, unless
    /// another program has changed it since (its stamp then differs).
    pub current: Option<(PathBuf, Option<FileStamp>)>,
    /// A save waiting for the trainer's state.
    pub(super) pending: Option<PathBuf>,
    /// A path being typed (no file dialog here, or none wanted), and what for.
    pub(super) prompt: Option<(Ask, String)>,
    /// What was saved or opened, or why not: (it worked, the message).
    pub note: Option<(bool, String)>,
    /// Where the run is kept when the window closes.
    pub kept_run: Option<PathBuf>,
    /// A kept run offered at launch: its path and a few words on it.
    pub offer: Option<(PathBuf, String)>,
    /// The run was kept (or the user chose to quit without it): the window may close.
    pub(super) kept: bool,
    /// Why the run could not be kept when the window was asked to close.
    pub(super) close_blocked: Option<String>,
    /// A view's picture being written once the window's screenshot arrives.
    pub(super) png: Option<std::sync::mpsc::Receiver<Result<String, String>>>,
}

impl BackpropLab {
    /// The File menu.
    pub(super) fn file_menu(&mut self, ui: &mut Ui) {
        ui.menu_button("File", |ui| {
            if ui.button("Open…").clicked() {
                self.ask(Ask::Open);
                ui.close();
            }
            if ui
                .button("Open run as pin…")
                .on_hover_text("A saved run's curves beside this one, without its weights")
                .clicked()
            {
                self.ask(Ask::OpenPin);
                ui.close();
            }
            if ui.button("Save run   (Ctrl+S)").clicked() {
                self.save_run();
                ui.close();
            }
            if ui.button("Save run as…").clicked() {
                self.ask(Ask::SaveRun);
                ui.close();
            }
            ui.separator();
            ui.menu_button("Lessons", |ui| {
                for lesson in crate::io::lessons::built_in() {
                    if ui.button(lesson.title.as_str()).clicked() {
                        let opened = self.open_lesson(lesson, "built in".into());
                        self.files.note = Some(note(opened));
                        ui.close();
                    }
                }
            });
            if ui
                .button("Save setup as lesson…")
                .on_hover_text("The run, the views and the hidden controls as a lesson file: add steps to it, or share it as it is")
                .clicked()
            {
                self.ask(Ask::SaveSetup);
                ui.close();
            }
            if ui
                .button("Copy setup")
                .on_hover_text("The setup as text on the clipboard, for a chat message")
                .clicked()
            {
                self.copy_setup(ui.ctx());
                ui.close();
            }
            if ui
                .button("Paste setup   (Ctrl+V)")
                .on_hover_text("A setup or lesson copied from a message")
                .clicked()
            {
                self.paste_text = Some(String::new());
                ui.close();
            }
            ui.separator();
            if ui.button("Export model (safetensors)…").clicked() {
                self.ask(Ask::ExportModel);
                ui.close();
            }
            if ui.button("Export curves as CSV…").clicked() {
                self.ask(Ask::ExportCurves);
                ui.close();
            }
            ui.menu_button("Save view as PNG", |ui| {
                for (id, _) in self.views.tiles.clone() {
                    if ui.button(crate::ui::views::title_of(id)).clicked() {
                        self.ask(Ask::SaveViewPng(id));
                        ui.close();
                    }
                }
            });
            ui.separator();
            if ui.button("Quit   (Ctrl+Q)").clicked() {
                // the run is kept on the way out (see `keep_run`)
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
            if !self.preferences.recent.is_empty() {
                ui.separator();
                ui.label(RichText::new("Recent").weak());
                for path in self.preferences.recent.clone() {
                    if ui.button(path.display().to_string()).clicked() {
                        self.open_path(&path);
                        ui.close();
                    }
                }
            }
        });
    }

    /// Save run: where it was saved or opened last, else ask.
    pub(super) fn save_run(&mut self) {
        match self.files.current.clone() {
            Some((path, stamp)) if FileStamp::of(&path) != stamp => {
                self.files.note = Some((
                    false,
                    format!(
                        "The run was not saved: {} was changed or replaced by another program \
                         since it was saved or opened here, and was left as it is. Save run \
                         as… to save over it or elsewhere.",
                        path.display()
                    ),
                ));
            }
            Some((path, _)) => self.save_run_to(path),
            None => self.ask(Ask::SaveRun),
        }
    }

    /// A path for `ask`: the system's dialog, or a field to type it in when there is none.
    pub fn ask(&mut self, ask: Ask) {
        if !file_dialog::available() {
            self.files.prompt = Some((ask, String::new()));
            return;
        }
        let dialog = rfd::FileDialog::new().set_title(ask.title());
        let path = match ask {
            Ask::Open => dialog.pick_file(),
            Ask::OpenPin => dialog.add_filter("Run", &["json"]).pick_file(),
            Ask::SaveRun => dialog.add_filter("Run", &["json"]).save_file(),
            Ask::ExportModel => dialog
                .add_filter("safetensors", &["safetensors"])
                .save_file(),
            Ask::ExportCurves => dialog.add_filter("CSV", &["csv"]).save_file(),
            Ask::SaveViewPng(_) => dialog.add_filter("PNG", &["png"]).save_file(),
            Ask::SaveSetup => dialog.add_filter("Lesson", &["json"]).save_file(),
        };
        if let Some(path) = path {
            self.answer(ask, path);
        }
    }

    fn answer(&mut self, ask: Ask, path: PathBuf) {
        match ask {
            Ask::Open => self.open_path(&path),
            Ask::OpenPin => self.open_pin(&path),
            Ask::SaveRun => self.save_run_to(path),
            Ask::ExportModel => self.export_model(&path),
            Ask::ExportCurves => self.export_curves(&path),
            Ask::SaveViewPng(id) => self.save_view_png(id, path),
            Ask::SaveSetup => self.save_setup(&path),
        }
    }

    /// The path field asked for, when there is no file dialog.
    pub(super) fn prompt_ui(&mut self, ctx: &egui::Context) {
        let Some((ask, mut text)) = self.files.prompt.take() else {
            return;
        };
        let mut done = None;
        egui::Modal::new(egui::Id::unique("file path")).show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.heading(ask.title());
            ui.label(file_dialog::unavailable_message("the field below"));
            let field = ui.add(
                egui::TextEdit::singleline(&mut text)
                    .hint_text("a path")
                    .desired_width(420.0),
            );
            if ui.memory(|m| m.focused().is_none()) {
                field.request_focus();
            }
            let entered = ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                if ui.button("OK").clicked() || entered {
                    done = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    done = Some(false);
                }
            });
        });
        match done {
            Some(true) if !text.trim().is_empty() => self.answer(ask, PathBuf::from(text.trim())),
            Some(_) => {}
            None => self.files.prompt = Some((ask, text)),
        }
    }

    /// Asks the trainer for its state; the file is written when it arrives.
    pub fn save_run_to(&mut self, path: PathBuf) {
        self.files.pending = Some(path);
        if self.run.viewing.is_some() {
            // the run is its present, not the past step on show
            self.command(Command::BackToPresent);
        }
        self.command(Command::SaveState(StateFor::File));
    }

    /// The trainer's state arrived: the run file goes to the path waiting for it.
    pub(super) fn state_arrived(&mut self, update: &Update) {
        // (other updates arrive before it while the run trains: the path waits for the state)
        let Update::State {
            asker: StateFor::File,
            state,
            ..
        } = update
        else {
            return;
        };
        let Some(path) = self.files.pending.take() else {
            return;
        };
        let run = RunFile::from_parts(self.config_of(state), (**state).clone(), self.history());
        self.files.note = Some(match run.save(&path) {
            Ok(()) => {
                self.files.current = Some((path.clone(), FileStamp::of(&path)));
                self.remember(&path);
                (true, format!("Saved the run to {}", path.display()))
            }
            Err(error) => (false, format!("The run was not saved: {error}")),
        });
    }

    /// The run's config with the settings of `state` (which the trainer may have taken up
    /// since the panel last heard: back from viewing the past on the way out).
    fn config_of(&self, state: &TrainerState) -> RunConfig {
        RunConfig {
            settings: state.settings,
            ..self.active.clone()
        }
    }

    /// The curves, markers and probe, for a run file.
    pub(super) fn history(&self) -> RunHistory {
        let probe = self
            .worker()
            .and_then(|w| w.snapshot())
            .map(|s| ProbeRecord {
                input: s.probe.input.to_vec(),
                test_index: s.probe.test_index,
                label: s.probe.label,
                name: s.probe.name.clone(),
            });
        RunHistory {
            train_loss: self.run.train_loss.record(),
            train_accuracy: self.run.train_accuracy.record(),
            test_loss: self.run.test_loss.record(),
            test_accuracy: self.run.test_accuracy.record(),
            markers: self
                .run
                .markers
                .iter()
                .map(|m| MarkerRecord {
                    step: m.step,
                    epochs: m.epochs,
                    label: m.label.clone(),
                })
                .collect(),
            probe,
        }
    }

    /// Opens a run, a model or a picture, told apart by content; on any error a message and
    /// the run as it was.
    pub fn open_path(&mut self, path: &Path) {
        // the first bytes tell the kind; the loader of that kind reads the file
        let head = std::fs::File::open(path).and_then(|file| {
            let len = file.metadata()?.len();
            let mut head = Vec::with_capacity(256);
            std::io::Read::read_to_end(&mut std::io::Read::take(file, 256), &mut head)?;
            Ok((head, len))
        });
        let (bytes, len) = match head {
            Ok(head) => head,
            Err(error) => {
                self.files.note = Some((false, format!("{}: {error}", path.display())));
                return;
            }
        };
        let result = match kind_of(&bytes, len) {
            Some(Kind::Run) => self.open_run(path),
            Some(Kind::Model) => self.open_model(path),
            Some(Kind::Lesson) => self.open_lesson_file(path),
            Some(Kind::Picture) => {
                self.open_picture(path);
                Ok(format!("Classifying {}", path.display()))
            }
            None => Err(format!(
                "{}: not a run, a lesson, a model (safetensors or JSON) or a picture (PNG, JPEG)",
                path.display()
            )),
        };
        self.files.note = Some(match result {
            Ok(message) => {
                self.remember(path);
                (true, message)
            }
            Err(message) => (false, message),
        });
    }

    /// A run file: checked in full (its data rebuilt, its state taken up) before the running
    /// one is replaced.
    pub fn open_run(&mut self, path: &Path) -> Result<String, String> {
        let stamp = FileStamp::of(path);
        let run = RunFile::load(path).map_err(|e| e.to_string())?;
        let config = run.config.clone();
        let history = run.history.clone();
        let state = run.trainer.clone();
        run.resume(path).map_err(|e| e.to_string())?;
        let step = state.step;
        self.restart_at(config, Some(state));
        if let Some(history) = history {
            self.restore_history(history);
        }
        self.files.current = Some((path.to_path_buf(), stamp));
        Ok(format!("Opened {} at step {step}", path.display()))
    }

    /// A run file's curves and markers as a pin (its weights are not taken up).
    pub fn open_pin(&mut self, path: &Path) {
        let pinned = RunFile::load(path)
            .map_err(|e| e.to_string())
            .and_then(|run| {
                let history = run.history.ok_or(
                    "it holds no curves (the command line saves the state alone): open it \
                     with Open… to go on training it instead",
                )?;
                let name = path
                    .file_stem()
                    .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
                let label = format!(
                    "{name}: {}",
                    describe(&run.trainer.settings, run.config.seed)
                );
                self.pins.add(Pin::from_history(label.clone(), &history))?;
                Ok(label)
            });
        self.files.note = Some(match pinned {
            Ok(label) => {
                self.remember(path);
                (true, format!("Pinned {label}"))
            }
            Err(message) => (
                false,
                format!("{} was not pinned: {message}", path.display()),
            ),
        });
    }

    pub(super) fn restore_history(&mut self, history: RunHistory) {
        // the same curves and markers a pin of the file would hold
        let saved = Pin::from_history(String::new(), &history);
        self.run.train_loss = saved.train_loss;
        self.run.train_accuracy = saved.train_accuracy;
        self.run.test_loss = saved.test_loss;
        self.run.test_accuracy = saved.test_accuracy;
        self.run.markers = saved.markers;
        if let Some(probe) = history.probe {
            self.command(Command::SetProbe(Probe {
                input: probe.input.into(),
                test_index: probe.test_index,
                label: probe.label,
                name: probe.name,
            }));
        }
    }

    /// A model file: a new run from its weights (its data and settings when it says them,
    /// else the current ones with its layers).
    pub fn open_model(&mut self, path: &Path) -> Result<String, String> {
        let fallback = (self.active.data.shape().0, self.active.layers.as_slice());
        let (network, training) = load_any(path, Some(fallback)).map_err(|e| e.to_string())?;
        let config = match training {
            Some(training) => RunConfig {
                preset: training.preset,
                data: training.data,
                layers: network.specs(),
                settings: training.settings,
                seed: training.seed,
                epochs: self.active.epochs,
            },
            None => RunConfig {
                preset: None,
                layers: network.specs(),
                ..self.active.clone()
            },
        };
        let mut state = config.build().map_err(|e| e.to_string())?.state();
        state.parameters = network
            .params()
            .map(|p| TensorState::new(&p.weight, &p.bias))
            .collect();
        self.restart_at(config, Some(state));
        self.files.current = None;
        Ok(format!("Opened the model {}", path.display()))
    }

    /// The latest weights as safetensors, with how they were trained.
    fn export_model(&mut self, path: &Path) {
        let result = (|| {
            let snapshot = self
                .worker()
                .and_then(|w| w.snapshot())
                .ok_or("no weights yet")?;
            let input = self.run.info.as_ref().ok_or("no run yet")?.input_shape;
            let params = snapshot
                .layers
                .iter()
                .filter_map(|l| Some((l.weight.clone()?, l.bias.clone()?)));
            let network =
                Network::with_params(input, &snapshot.specs, params).map_err(|e| e.to_string())?;
            let record = TrainingRecord {
                preset: self.active.preset.clone(),
                data: self.active.data.clone(),
                settings: self.active.settings,
                seed: self.active.seed,
                epochs: self.run.status.epochs.floor() as usize,
                steps: snapshot.step,
            };
            safetensors_model::save(&network, Some(&record), path).map_err(|e| e.to_string())
        })();
        self.files.note = Some(match result {
            Ok(()) => (true, format!("Exported the model to {}", path.display())),
            Err(error) => (false, format!("The model was not exported: {error}")),
        });
    }

    /// The curves as CSV: one row per kept point of each curve.
    fn export_curves(&mut self, path: &Path) {
        let mut text = String::from("curve,step,epochs,value\n");
        for (name, series) in [
            ("train_loss", &self.run.train_loss),
            ("test_loss", &self.run.test_loss),
            ("test_accuracy", &self.run.test_accuracy),
        ] {
            for p in series.points() {
                text += &format!("{name},{},{},{}\n", p.step, p.epochs, p.value);
            }
        }
        self.files.note = Some(match atomic::write_bytes(path, text.as_bytes()) {
            Ok(()) => (true, format!("Exported the curves to {}", path.display())),
            Err((path, error)) => (
                false,
                format!(
                    "The curves were not exported: {}: {}",
                    path.display(),
                    explain(&error)
                ),
            ),
        });
    }

    /// The view `id` as shown (at the current UI scale), once the window's screenshot arrives.
    pub fn save_view_png(&mut self, id: &str, path: PathBuf) {
        let Some(&(_, tile)) = self.views.tiles.iter().find(|(v, _)| *v == id) else {
            self.files.note = Some((false, "That view is not shown.".into()));
            return;
        };
        let region = tile.intersect(self.views.viewport);
        let pixels_per_point = self.egui_ctx.pixels_per_point();
        let (sender, result) = std::sync::mpsc::channel();
        self.files.png = Some(result);
        let ctx = self.egui_ctx.clone();
        self.egui_ctx.request_screenshot(move |image| {
            let _ = sender.send(save_png(&image, region, pixels_per_point, &path));
            ctx.request_repaint();
        });
    }

    /// Keeps `path` at the top of the recent files.
    fn remember(&mut self, path: &Path) {
        let recent = &mut self.preferences.recent;
        recent.retain(|p| p != path);
        recent.insert(0, path.to_path_buf());
        recent.truncate(8);
    }

    /// The window closes: the run is kept in the app's data folder (waiting a few seconds at
    /// most for the trainer's state).
    pub fn keep_run(&mut self) -> Result<PathBuf, String> {
        let path = self.files.kept_run.clone().ok_or("no data folder")?;
        let describe = |e: std::io::Error| format!("{}: {e}", path.display());
        let worker = self.worker.as_ref().ok_or("no run")?;
        if self.run.viewing.is_some() {
            worker.send(Command::BackToPresent);
        }
        if !worker.send(Command::SaveState(StateFor::File)) {
            return Err("the trainer is not running".into());
        }
        let started = Instant::now();
        while let Some(left) = EXIT_SAVE_WAIT.checked_sub(started.elapsed()) {
            match worker.wait_update(left) {
                Some(Update::State {
                    asker: StateFor::File,
                    state,
                    ..
                }) => {
                    if let Some(folder) = path.parent() {
                        std::fs::create_dir_all(folder).map_err(describe)?;
                    }
                    let run = RunFile::from_parts(self.config_of(&state), *state, self.history());
                    return run.save(&path).map(|()| path).map_err(|e| e.to_string());
                }
                Some(_) => {}
                None => break,
            }
        }
        Err("the trainer did not answer in time".into())
    }

    /// The window is asked to close: the run is kept first; if it cannot be, the window stays
    /// open and says why, with a way to quit anyway.
    pub(super) fn before_closing(&mut self, ui: &Ui) {
        if !ui.input(|i| i.viewport().close_requested())
            || self.files.kept_run.is_none()
            || self.files.kept
        {
            return;
        }
        match self.keep_run() {
            Ok(_) => self.files.kept = true,
            Err(error) => {
                ui.ctx()
                    .send_viewport_cmd(egui::ViewportCommand::CancelClose);
                self.files.close_blocked = Some(error);
            }
        }
    }

    /// The messages of the file actions, and the kept run offered at launch.
    pub(super) fn files_ui(&mut self, ui: &mut Ui) {
        if let Some(error) = self.files.close_blocked.clone() {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(
                    RichText::new("The run could not be kept, so the window stayed open")
                        .strong()
                        .color(ui.visuals().error_fg_color),
                );
                ui.label(format!(
                    "{error}. Save it with File > Save run as…, or quit without it."
                ));
                ui.horizontal(|ui| {
                    if ui.button("Quit anyway").clicked() {
                        self.files.kept = true;
                        self.files.close_blocked = None;
                        ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                    if ui.button("Stay").clicked() {
                        self.files.close_blocked = None;
                    }
                });
            });
        }
        if let Some(result) = self.files.png.as_ref().and_then(|r| r.try_recv().ok()) {
            self.files.png = None;
            self.files.note = Some(note(result));
        }
        if let Some((path, about)) = self.files.offer.clone() {
            let mut choice = None;
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(RichText::new("Continue where you stopped?").strong());
                ui.label(about);
                ui.horizontal(|ui| {
                    if ui.button("Continue").clicked() {
                        choice = Some(true);
                    }
                    if ui.button("Start fresh").clicked() {
                        choice = Some(false);
                    }
                });
            });
            match choice {
                Some(true) => {
                    self.files.offer = None;
                    let result = self.open_run(&path);
                    self.files.note = Some(note(result));
                    // the kept run is not the file Save run writes to
                    self.files.current = None;
                }
                Some(false) => self.files.offer = None,
                None => {}
            }
        }
        // (an empty note: what happened shows elsewhere, a lesson's panel)
        if let Some((ok, message)) = self.files.note.clone().filter(|(_, m)| !m.is_empty()) {
            // wrapped to the panel's width: a long message must not widen the window's layout
            ui.horizontal_wrapped(|ui| {
                if ui
                    .small_button("x")
                    .on_hover_text("Hide this message")
                    .clicked()
                {
                    self.files.note = None;
                }
                let text = RichText::new(&message);
                ui.add(
                    egui::Label::new(if ok {
                        text
                    } else {
                        text.color(ui.visuals().error_fg_color)
                    })
                    .wrap(),
                );
            });
        }
    }
}

/// Writes the part `region` (in points) of a window `screenshot` as a PNG.
pub fn save_png(
    screenshot: &egui::ColorImage,
    region: egui::Rect,
    pixels_per_point: f32,
    path: &Path,
) -> Result<String, String> {
    let [width, height] = screenshot.size;
    let bounds = egui::Rect::from_min_size(
        egui::Pos2::ZERO,
        egui::vec2(width as f32, height as f32) / pixels_per_point,
    );
    let region = region.intersect(bounds);
    if !region.is_positive() {
        return Err("the view is not on the screen".into());
    }
    let picture = screenshot.region(&region, Some(pixels_per_point));
    let [w, h] = picture.size;
    let bytes: Vec<u8> = picture
        .pixels
        .iter()
        .flat_map(|c| c.to_srgba_unmultiplied())
        .collect();
    let image = image::RgbaImage::from_raw(w as u32, h as u32, bytes)
        .ok_or("the screenshot has the wrong size")?;
    let mut png = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    atomic::write_bytes(path, png.get_ref())
        .map_err(|(path, e)| format!("{}: {}", path.display(), explain(&e)))?;
    Ok(format!("Saved the view ({w}x{h}) to {}", path.display()))
}

/// The kept run's path in the app's data folder, and a few words on it if there is one.
pub fn kept_run(folder: Option<PathBuf>) -> (Option<PathBuf>, Option<(PathBuf, String)>) {
    let path = folder.map(|f| f.join(KEPT_RUN));
    let offer = path.as_ref().and_then(|path| {
        let run = RunFile::load(path).ok()?;
        let name = run
            .config
            .preset
            .clone()
            .unwrap_or_else(|| "your run".into());
        Some((
            path.clone(),
            format!(
                "{name} was at step {} (epoch {}) when the window closed.",
                run.trainer.step, run.trainer.epoch
            ),
        ))
    });
    (path, offer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_s_picture_is_its_part_of_the_screenshot_at_the_screen_s_scale() {
        // a 40x30-point window at 2 pixels per point: left half red, right half blue
        let pixels = (0..60 * 80)
            .map(|i| {
                if i % 80 < 40 {
                    egui::Color32::RED
                } else {
                    egui::Color32::BLUE
                }
            })
            .collect();
        let screenshot = egui::ColorImage::new([80, 60], pixels);
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("view.png");
        // the right half, and a little beyond the window (cut to it)
        let region = egui::Rect::from_min_max(egui::pos2(20.0, 5.0), egui::pos2(50.0, 25.0));
        let message = save_png(&screenshot, region, 2.0, &path).expect("saved");
        assert!(message.contains("40x40"), "{message}");
        let saved = image::open(&path).expect("a PNG").to_rgba8();
        assert_eq!(saved.dimensions(), (40, 40));
        assert!(saved.pixels().all(|p| p.0 == [0, 0, 255, 255]));
        let outside = egui::Rect::from_min_max(egui::pos2(50.0, 0.0), egui::pos2(60.0, 10.0));
        assert!(save_png(&screenshot, outside, 2.0, &path).is_err());
    }
}
