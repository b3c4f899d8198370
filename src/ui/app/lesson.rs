//! Playing a lesson: its setup taken up (run, views, hidden controls), then step by step (Page
//! Down or the lesson buttons) each step's text shown and its actions done in order, a "play
//! until" waiting for its goal. Page Up takes up the state the previous step ended in. Sharing a
//! setup: Copy setup / Paste setup through the clipboard, Save setup as lesson.

use std::collections::VecDeque;
use std::path::Path;

use egui::text::LayoutJob;
use egui::{Key, Modifiers, RichText, TextFormat, Ui};

use super::BackpropLab;
use super::files::note;
use crate::io::lesson_file::{Action, Lesson, WeightsLayout};
use crate::io::run_file::RunHistory;
use crate::io::torch::Framework;
use crate::train::controls::Hidden;
use crate::train::protocol::{Command, Goal, Probe, StateFor, StepSource, Update};
use crate::train::state::TrainerState;
use crate::train::{Phase, Preset, RunConfig};
use crate::ui::pins::Pins;
use crate::ui::views::{CodeView, GraphView, WeightsView};

/// How the app stood as a step began, before its actions: what Page Up goes back to.
#[derive(Clone)]
struct Kept {
    config: RunConfig,
    /// The trainer's state and its fork: they arrive a moment after the step began.
    state: Option<Box<TrainerState>>,
    fork: Option<Box<(TrainerState, f64)>>,
    history: RunHistory,
    views: Vec<String>,
    presented: Vec<String>,
    pins: Pins,
    /// The code view's framework and the weights view's layout (lessons set them).
    code: Framework,
    weights: WeightsLayout,
}

/// What a step's next action waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Waiting {
    /// The trainer's state as step n begins, kept for Page Up before anything changes it.
    State(usize),
    /// The trainer to reach this goal.
    Goal(Goal),
    /// The step to step through, to go to this phase of it.
    Trace(usize),
}

/// A lesson being played.
pub struct LessonPlayer {
    pub lesson: Lesson,
    /// Where it came from: a file's path, "built in", "the pasted setup".
    pub source: String,
    /// The step shown: 0 is the title page (the setup), n is step n.
    pub at: usize,
    /// Step `at`'s actions not started yet.
    queue: VecDeque<Action>,
    waiting: Option<Waiting>,
    /// `kept[n]`: the app as step n began.
    kept: Vec<Option<Kept>>,
    /// What went wrong in the step (a probe out of range...), shown under its text.
    pub problem: Option<String>,
    /// The learner's controls and pins the lesson set aside: back when it closes.
    before: SetAside,
}

/// What a lesson sets aside while it is open.
#[derive(Clone)]
struct SetAside {
    /// The controls hidden before the lesson hid its own.
    hidden: Hidden,
    /// The learner's pins: the lesson's comparisons start from none.
    pins: Pins,
}

impl LessonPlayer {
    fn new(lesson: Lesson, source: String, before: SetAside) -> Self {
        let steps = lesson.steps.len();
        Self {
            lesson,
            source,
            at: 0,
            queue: VecDeque::new(),
            waiting: None,
            kept: vec![None; steps + 1],
            problem: None,
            before,
        }
    }

    /// Whether the step's actions are still being done.
    pub fn busy(&self) -> bool {
        self.waiting.is_some() || !self.queue.is_empty()
    }

    /// The controls hidden before the lesson hid its own.
    pub(super) fn hidden_before(&self) -> &Hidden {
        &self.before.hidden
    }

    /// What the step waits for, in words.
    fn waiting_text(&self) -> Option<String> {
        Some(match self.waiting? {
            Waiting::Goal(Goal::Epoch(epoch)) => format!("Training to the end of epoch {epoch}…"),
            Waiting::Goal(Goal::Step(step)) => format!("Training to step {step}…"),
            Waiting::Goal(Goal::TestAccuracy { at_least, .. }) => {
                format!("Training to a test accuracy of {:.0}%…", at_least * 100.0)
            }
            Waiting::Trace(_) => "Recording the step to walk through…".into(),
            Waiting::State(_) => "Keeping where the run stands…".into(),
        })
    }
}

impl BackpropLab {
    /// The lesson being played, if one is.
    pub fn lesson(&self) -> Option<&LessonPlayer> {
        self.lesson.as_ref()
    }

    /// Plays `lesson` from its title page: its run starts afresh with its views and hidden
    /// controls.
    pub fn open_lesson(&mut self, lesson: Lesson, source: String) -> Result<String, String> {
        lesson.check_views(&crate::ui::views::ids())?;
        let title = lesson.title.clone();
        // a lesson's hidden controls and pins last as long as it is open; a setup's stay
        let open = self.lesson.take().map(|open| open.before);
        self.take_setup(&lesson);
        if lesson.steps.is_empty() {
            if let Some(before) = open {
                self.pins = before.pins;
            }
        } else {
            let before = open.unwrap_or_else(|| SetAside {
                hidden: self.preferences.hidden.clone(),
                pins: self.pins.clone(),
            });
            // the lesson's own hidden controls came with its setup
            self.pins = Pins::default();
            self.lesson = Some(LessonPlayer::new(lesson, source, before));
        }
        Ok(match &self.lesson {
            // (the lesson's own panel says where it stands)
            Some(_) => String::new(),
            None => format!("Set up \"{title}\""),
        })
    }

    /// A lesson file from disk.
    pub(super) fn open_lesson_file(&mut self, path: &Path) -> Result<String, String> {
        let lesson = Lesson::load(path).map_err(|e| e.to_string())?;
        self.open_lesson(lesson, path.display().to_string())
    }

    /// `--lesson`: a lesson file, or built-in lesson N when there is no file of that name.
    pub(super) fn open_lesson_argument(&mut self, path: &Path) -> Result<String, String> {
        let built_in = crate::io::lessons::built_in();
        let count = built_in.len();
        let number = path.to_str().and_then(|text| text.parse::<usize>().ok());
        match number {
            Some(n) if !path.exists() => {
                let lesson = built_in.into_iter().nth(n.wrapping_sub(1)).ok_or_else(|| {
                    format!("there is no lesson file {n}, nor a built-in lesson {n} (1 to {count})")
                })?;
                self.open_lesson(lesson, "built in".into())
            }
            _ => self.open_lesson_file(path),
        }
    }

    /// The run, views and hidden controls of a setup.
    fn take_setup(&mut self, lesson: &Lesson) {
        self.preferences.hidden = lesson.hidden.clone();
        if !lesson.views.is_empty() {
            self.show_lesson_views(&lesson.views);
        }
        self.restart(lesson.run.clone());
    }

    fn show_lesson_views(&mut self, views: &[String]) {
        self.preferences.views = views.to_vec();
        let presented: Vec<String> = views.iter().take(2).cloned().collect();
        if !presented.is_empty() {
            self.preferences.present_views = presented;
        }
    }

    /// The setup as it stands: the run, the views on and the hidden controls, no steps.
    pub fn current_setup(&self, title: &str) -> Lesson {
        Lesson::setup(
            title,
            self.active.clone(),
            self.preferences.views.clone(),
            self.preferences.hidden.clone(),
        )
    }

    /// Copy setup: the setup as JSON on the clipboard, for a chat message.
    pub(super) fn copy_setup(&mut self, ctx: &egui::Context) {
        let title = self
            .active
            .preset
            .clone()
            .unwrap_or_else(|| "My setup".into());
        ctx.copy_text(self.current_setup(&title).to_json());
        self.files.note = Some((true, "The setup is on the clipboard".into()));
    }

    /// Paste setup: a setup (or a whole lesson) from text; a malformed one changes nothing.
    pub fn paste_setup(&mut self, text: &str) {
        let opened = Lesson::from_bytes(text.trim().as_bytes(), "the pasted setup")
            .map_err(|e| e.to_string())
            .and_then(|lesson| self.open_lesson(lesson, "the pasted setup".into()));
        self.files.note = Some(note(opened));
    }

    /// Save setup as lesson: the setup written to `path`, ready for steps to be added.
    pub(super) fn save_setup(&mut self, path: &Path) {
        let title = path
            .file_stem()
            .map_or_else(|| "Lesson".into(), |s| s.to_string_lossy().into_owned());
        let lesson = self.current_setup(&title);
        self.files.note = Some(match lesson.save(path) {
            Ok(()) => (
                true,
                format!(
                    "Saved the setup to {}: add steps to it to make a lesson",
                    path.display()
                ),
            ),
            Err(error) => (false, format!("The setup was not saved: {error}")),
        });
    }

    /// Page Down: the next step, its actions done once.
    pub fn lesson_forward(&mut self) {
        let Some(mut player) = self.lesson.take() else {
            return;
        };
        if player.busy() || player.at >= player.lesson.steps.len() {
            self.lesson = Some(player);
            return;
        }
        let next = player.at + 1;
        player.kept[next] = Some(Kept {
            config: self.active.clone(),
            state: None,
            fork: None,
            history: self.history(),
            views: self.preferences.views.clone(),
            presented: self.preferences.present_views.clone(),
            pins: self.pins.clone(),
            code: self.views.get::<CodeView>().framework,
            weights: self.views.get::<WeightsView>().layout,
        });
        // the step's actions start once the trainer's state is kept (a run loaded by the first
        // of them would take the trainer that holds it)
        self.command(Command::SaveState(StateFor::LessonStep(next)));
        player.at = next;
        player.problem = None;
        player.queue = player.lesson.steps[next - 1]
            .actions
            .iter()
            .cloned()
            .collect();
        player.waiting = Some(Waiting::State(next));
        self.lesson = Some(player);
    }

    /// Page Up: the state the previous step ended in (the run, its curves, the views).
    pub fn lesson_back(&mut self) {
        let Some(player) = &mut self.lesson else {
            return;
        };
        if player.at == 0 {
            return;
        }
        let Some(kept) = player.kept[player.at].clone() else {
            return;
        };
        let Some(state) = kept.state else {
            // a few milliseconds after the step began: the next Page Up finds it
            player.problem = Some("A moment: the step's state is on its way".into());
            return;
        };
        player.at -= 1;
        player.queue.clear();
        player.waiting = None;
        player.problem = None;
        self.restart_at(kept.config, Some(*state));
        self.restore_history(kept.history);
        self.pins = kept.pins;
        if let Some(fork) = kept.fork {
            self.command(Command::RestoreFork(fork));
        }
        self.preferences.views = kept.views;
        self.preferences.present_views = kept.presented;
        self.views.get_mut::<CodeView>().framework = kept.code;
        self.views.get_mut::<WeightsView>().layout = kept.weights;
    }

    /// Closes the lesson; the run goes on as it is, and the controls hidden and the runs pinned
    /// before it are back.
    pub fn close_lesson(&mut self) {
        if let Some(player) = self.lesson.take() {
            self.preferences.hidden = player.before.hidden;
            self.pins = player.before.pins;
        }
    }

    /// The learner took over (Pause, Step, Reset...): the step's remaining actions are dropped.
    pub(super) fn lesson_interrupted(&mut self) {
        if let Some(player) = &mut self.lesson {
            player.queue.clear();
            player.waiting = None;
        }
    }

    /// An update from the trainer: a goal reached, a step recorded, a state kept.
    pub(super) fn lesson_update(&mut self, update: &Update) {
        let Some(player) = &mut self.lesson else {
            return;
        };
        match (update, player.waiting) {
            (
                Update::State {
                    asker: StateFor::LessonStep(n),
                    state,
                    fork,
                },
                waiting,
            ) => {
                if let Some(Some(kept)) = player.kept.get_mut(*n) {
                    kept.state = Some(state.clone());
                    kept.fork = fork.clone();
                }
                if waiting != Some(Waiting::State(*n)) {
                    return;
                }
            }
            (
                Update::Refused {
                    message,
                    change: Some(_),
                },
                _,
            ) => {
                player.problem = Some(format!("the lesson's change was refused: {message}"));
                return;
            }
            (Update::Reached { goal, .. }, Some(Waiting::Goal(waited))) if *goal == waited => {}
            (Update::Traced(_), Some(Waiting::Trace(phase))) => self.views.step.phase = phase,
            // the goal cannot be reached: the run stopped (its alert says why)
            (
                Update::Diverged { .. } | Update::Failed(_) | Update::Crashed(_),
                Some(Waiting::Goal(_)),
            ) => {}
            (Update::Health(alert), Some(Waiting::Goal(_))) if alert.pauses() => {}
            (Update::Failed(_) | Update::Crashed(_), Some(Waiting::Trace(_))) => {}
            // the run's own length came first
            (Update::Finished { .. }, Some(Waiting::Goal(_))) => {}
            _ => return,
        }
        player.waiting = None;
        self.lesson_actions();
    }

    /// Does the step's actions in order until one waits for the trainer.
    fn lesson_actions(&mut self) {
        while let Some(player) = &mut self.lesson {
            if player.waiting.is_some() {
                return;
            }
            let Some(action) = player.queue.pop_front() else {
                return;
            };
            let waiting = self.lesson_action(action);
            if let Some(player) = &mut self.lesson {
                player.waiting = waiting;
            }
        }
    }

    /// One action; what it waits for, if anything.
    fn lesson_action(&mut self, action: Action) -> Option<Waiting> {
        match action {
            Action::LoadRun(config) => self.restart(config),
            Action::LoadPreset { preset, seed } => match Preset::named(&preset) {
                // the lesson decides when training stops
                Some(preset) => self.restart(RunConfig {
                    epochs: None,
                    ..RunConfig::from_preset(&preset, seed)
                }),
                None => self.lesson_problem(format!("there is no preset \"{preset}\"")),
            },
            Action::Set(change) => {
                self.command(Command::Change(change));
                self.settings.awaiting_answer();
            }
            Action::PlayUntil(goal) => {
                self.command(Command::PlayUntil(goal));
                return Some(Waiting::Goal(goal));
            }
            Action::Pause => self.command(Command::Pause),
            Action::Probe(index) => match self.test_probe(index) {
                Ok(probe) => self.command(Command::SetProbe(probe)),
                Err(problem) => self.lesson_problem(problem),
            },
            Action::ShowViews(views) => self.show_lesson_views(&views),
            Action::StepThrough(phase) => {
                let layers = self.active.layers.len();
                let Some(index) = Phase::all(layers).iter().position(|&p| p == phase) else {
                    self.lesson_problem(format!(
                        "this network of {layers} layers has no phase \"{}\"",
                        phase.title()
                    ));
                    return None;
                };
                // already stepping through: only the phase moves
                if self.run.trace.is_some() {
                    self.views.step.phase = index;
                    return None;
                }
                self.step_through(StepSource::NextBatch);
                return Some(Waiting::Trace(index));
            }
            Action::Highlight { layer, unit } => {
                self.views.get_mut::<GraphView>().selected = Some((Some(layer), unit));
                self.views.step.selection.choose_unit(layer, unit);
            }
            Action::Fork => self.command(Command::Fork),
            Action::BackToFork => self.command(Command::BackToFork),
            Action::Pin(name) => {
                if let Err(problem) = self.pin_run_as(name.trim().to_string()) {
                    self.lesson_problem(problem);
                }
            }
            Action::ShowCode(framework) => self.views.get_mut::<CodeView>().framework = framework,
            Action::ShowWeights(layout) => {
                let (input, _) = self.active.data.shape();
                let layers = &self.active.layers;
                let shown = self
                    .views
                    .get_mut::<WeightsView>()
                    .lay_out(layout, input, layers);
                if let Err(problem) = shown {
                    self.lesson_problem(problem);
                }
            }
        }
        None
    }

    fn lesson_problem(&mut self, problem: String) {
        if let Some(player) = &mut self.lesson {
            player.problem = Some(problem);
        }
    }

    /// Test sample `index` as the probe.
    fn test_probe(&self, index: usize) -> Result<Probe, String> {
        let info = self.run.info.as_ref().ok_or("the data is still loading")?;
        let test = &info.test;
        if index >= test.len() {
            return Err(format!(
                "there is no test sample {index}: the test split has {}",
                test.len()
            ));
        }
        Ok(crate::ui::views::test_probe(info, index))
    }

    /// Whether Next step can go on (a lesson open, not at its end, its step done), and
    /// Previous step back.
    pub(super) fn lesson_moves(&self) -> Option<(bool, bool)> {
        let player = self.lesson.as_ref()?;
        Some((
            player.at > 0,
            player.at < player.lesson.steps.len() && !player.busy(),
        ))
    }

    /// Ctrl+V with no text field focused: a setup or lesson pasted from a message.
    pub(super) fn pasted(&mut self, ui: &Ui) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let pasted = ui.input(|i| {
            i.events.iter().find_map(|event| match event {
                egui::Event::Paste(text) if text.contains("backprop-lab-lesson") => {
                    Some(text.clone())
                }
                _ => None,
            })
        });
        if let Some(text) = pasted {
            self.paste_setup(&text);
        }
    }

    /// The "Paste setup" window: a field to paste a setup into (Ctrl+V), and Open.
    pub(super) fn paste_window(&mut self, ctx: &egui::Context) {
        let Some(mut text) = self.paste_text.take() else {
            return;
        };
        let mut open = true;
        let mut take = false;
        egui::Window::new("Paste setup")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label("Paste a setup or lesson copied from a message (Ctrl+V), then Open.");
                let field = ui.add(
                    egui::TextEdit::multiline(&mut text)
                        .desired_rows(4)
                        .hint_text("{ \"format\": \"backprop-lab-lesson\", … }"),
                );
                if text.is_empty() {
                    field.request_focus();
                }
                take = ui
                    .add_enabled(!text.trim().is_empty(), egui::Button::new("Open"))
                    .clicked();
            });
        if take {
            // a setup that cannot be read says why and changes nothing
            self.paste_setup(&text);
        } else if open {
            self.paste_text = Some(text);
        }
    }

    /// Page Down and Page Up (what presentation clickers send).
    pub(super) fn lesson_keys(&mut self, ui: &Ui) {
        if self.lesson.is_none() {
            return;
        }
        let (forward, back) = ui.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::PageDown),
                i.consume_key(Modifiers::NONE, Key::PageUp),
            )
        });
        if forward {
            self.lesson_forward();
        }
        if back {
            self.lesson_back();
        }
    }

    /// The lesson's title, where it stands, the step's text and (with `buttons`: Present mode
    /// has them in its toolbar) the way on and back; `size` is the text size.
    pub(super) fn lesson_ui(&mut self, ui: &mut Ui, size: f32, buttons: bool) {
        let Some(player) = &self.lesson else {
            return;
        };
        let steps = player.lesson.steps.len();
        let (busy, at) = (player.busy(), player.at);
        let heading = if at == 0 {
            format!("{}  ·  {steps} steps", player.lesson.title)
        } else {
            format!("{}  ·  step {at} of {steps}", player.lesson.title)
        };
        let text = if at == 0 {
            "Page Down (or Next step) begins the lesson.".to_string()
        } else {
            player.lesson.steps[at - 1].text.clone()
        };
        let waiting = player.waiting_text();
        let problem = player.problem.clone();
        let mut action = None;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(heading).strong().size(size));
            if !buttons {
                return;
            }
            ui.add_enabled_ui(at > 0, |ui| {
                if ui
                    .button(RichText::new("Previous step").size(size * 0.9))
                    .on_hover_text("Back to where the previous step ended. Page Up")
                    .clicked()
                {
                    action = Some(-1);
                }
            });
            ui.add_enabled_ui(at < steps && !busy, |ui| {
                if ui
                    .button(RichText::new("Next step").size(size * 0.9))
                    .on_hover_text("Page Down")
                    .clicked()
                {
                    action = Some(1);
                }
            });
            if ui
                .small_button("Close lesson")
                .on_hover_text("The run goes on as it is; your own pins and controls come back")
                .clicked()
            {
                action = Some(0);
            }
        });
        lesson_text(ui, &text, size);
        if let Some(waiting) = waiting {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(RichText::new(waiting).size(size * 0.9).weak());
            });
        }
        if let Some(problem) = problem {
            ui.colored_label(ui.visuals().warn_fg_color, problem);
        }
        match action {
            Some(1) => self.lesson_forward(),
            Some(-1) => self.lesson_back(),
            Some(0) => self.close_lesson(),
            _ => {}
        }
    }
}

/// A step's text: paragraphs (blank lines between), `- ` bullets and **bold**.
fn lesson_text(ui: &mut Ui, text: &str, size: f32) {
    for paragraph in text.split("\n\n") {
        let mut job = LayoutJob::default();
        job.wrap.max_width = ui.available_width();
        let color = ui.visuals().text_color();
        let font = egui::FontId::proportional(size);
        for (n, line) in paragraph.lines().enumerate() {
            if n > 0 {
                job.append("\n", 0.0, TextFormat::simple(font.clone(), color));
            }
            let line = match line.trim_start().strip_prefix("- ") {
                Some(rest) => {
                    job.append("•  ", 0.0, TextFormat::simple(font.clone(), color));
                    rest
                }
                None => line,
            };
            // every second piece between ** is bold
            for (k, piece) in line.split("**").enumerate() {
                let mut format = TextFormat::simple(font.clone(), color);
                if k % 2 == 1 {
                    format.color = ui.visuals().strong_text_color();
                }
                job.append(piece, 0.0, format);
            }
        }
        ui.label(job);
        ui.add_space(size * 0.3);
    }
}
