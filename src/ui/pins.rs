//! Pinned runs: a run's curves and markers kept as a reference beside the live run, in their
//! own colour, through resets and preset changes (up to [`MAX_PINS`]). A pin comes from the
//! live run ("Pin"), from the branch left by "Back to the fork" or "Resume from here", or from
//! a saved run file (its curves only, not its weights).

use egui::{Color32, RichText, Ui};

use super::palette;
use super::run_view::{Marker, RunView};
use super::series::Series;
use crate::io::run_file::RunHistory;
use crate::train::TrainSettings;

/// Pins kept at most.
pub const MAX_PINS: usize = 8;

/// Points kept per pinned curve (as the live run's).
const CAPACITY: usize = 8192;

/// One pinned run.
#[derive(Clone, Debug)]
pub struct Pin {
    pub label: String,
    pub visible: bool,
    pub color: Color32,
    pub train_loss: Series,
    pub train_accuracy: Series,
    pub test_loss: Series,
    pub test_accuracy: Series,
    pub markers: Vec<Marker>,
}

impl Pin {
    /// The live run's curves and markers from step `from` on.
    pub fn from_run(label: String, run: &RunView, from: u64) -> Self {
        let part = |series: &Series| {
            let mut part = series.clone();
            part.keep_from(from as f64);
            part
        };
        Self {
            label,
            visible: true,
            color: Color32::GRAY,
            train_loss: part(&run.train_loss),
            train_accuracy: part(&run.train_accuracy),
            test_loss: part(&run.test_loss),
            test_accuracy: part(&run.test_accuracy),
            markers: run
                .markers
                .iter()
                .filter(|m| m.step >= from)
                .cloned()
                .collect(),
        }
    }

    /// The curves and markers saved in a run file.
    pub fn from_history(label: String, history: &RunHistory) -> Self {
        Self {
            label,
            visible: true,
            color: Color32::GRAY,
            train_loss: Series::from_record(CAPACITY, &history.train_loss),
            train_accuracy: Series::from_record(CAPACITY, &history.train_accuracy),
            test_loss: Series::from_record(CAPACITY, &history.test_loss),
            test_accuracy: Series::from_record(CAPACITY, &history.test_accuracy),
            markers: history
                .markers
                .iter()
                .map(|m| Marker {
                    step: m.step,
                    epochs: m.epochs,
                    label: m.label.clone(),
                })
                .collect(),
        }
    }

    /// True if it holds no point at all.
    pub fn is_empty(&self) -> bool {
        self.train_loss.is_empty() && self.test_loss.is_empty()
    }
}

/// What distinguishes a run: "Adam 1e-3, cross-entropy, seed 42".
pub fn describe(settings: &TrainSettings, seed: u64) -> String {
    let lr = settings.optimizer.learning_rate;
    let lr = if lr >= 0.01 {
        format!("{lr}")
    } else {
        format!("{lr:e}")
    };
    format!(
        "{} {lr}, {}, seed {seed}",
        settings.optimizer.optimizer.name(),
        settings.loss.name()
    )
}

/// The pins, in the order they were made.
#[derive(Clone, Debug, Default)]
pub struct Pins {
    pins: Vec<Pin>,
}

impl Pins {
    pub fn pins(&self) -> &[Pin] {
        &self.pins
    }

    pub fn get_mut(&mut self, index: usize) -> Option<&mut Pin> {
        self.pins.get_mut(index)
    }

    pub fn is_full(&self) -> bool {
        self.pins.len() >= MAX_PINS
    }

    /// Adds `pin` in the first colour no pin has, its label made unique ("… (2)"); refused when
    /// there are [`MAX_PINS`] already or it holds nothing.
    pub fn add(&mut self, mut pin: Pin) -> Result<(), String> {
        if self.is_full() {
            return Err(format!(
                "{MAX_PINS} runs are pinned already: remove one (right-click its name above \
                 the curves) to pin another"
            ));
        }
        if pin.is_empty() {
            return Err("there is nothing to pin yet: the run has no points".into());
        }
        pin.color = palette::PINS
            .into_iter()
            .find(|c| self.pins.iter().all(|p| p.color != *c))
            .unwrap_or(palette::PINS[0]);
        let base = pin.label.clone();
        let mut n = 2;
        while self.pins.iter().any(|p| p.label == pin.label) {
            pin.label = format!("{base} ({n})");
            n += 1;
        }
        self.pins.push(pin);
        Ok(())
    }

    pub fn remove(&mut self, index: usize) {
        if index < self.pins.len() {
            self.pins.remove(index);
        }
    }
}

/// What the comparison row asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CompareAction {
    /// Keep the run's curves as a reference beside the next runs.
    Pin,
    /// Keep the run's exact state as the fork.
    Fork,
    BackToFork,
}

/// The row above the curves: Pin, Fork here and Back to the fork, then the pins' names, each
/// in its colour: a click hides or shows it, a right-click renames or removes it. `fork` is the
/// fork's step, if there is one; `renaming` the pin being renamed and its text.
pub fn compare_ui(
    ui: &mut Ui,
    pins: &mut Pins,
    fork: Option<u64>,
    renaming: &mut Option<(usize, String)>,
) -> Option<CompareAction> {
    let mut action = None;
    let mut remove = None;
    ui.horizontal_wrapped(|ui| {
        action = buttons_ui(ui, pins.is_full(), fork);
        for (index, pin) in pins.pins.iter_mut().enumerate() {
            if pin_ui(ui, pin, index, renaming) {
                remove = Some(index);
            }
        }
    });
    if let Some(index) = remove {
        pins.remove(index);
        *renaming = None;
    }
    action
}

fn buttons_ui(ui: &mut Ui, full: bool, fork: Option<u64>) -> Option<CompareAction> {
    let mut action = None;
    if ui
        .add_enabled(!full, egui::Button::new("Pin"))
        .on_hover_text(
            "Keep this run's curves beside the next runs, through Reset and preset changes \
             (up to 8)",
        )
        .on_disabled_hover_text("8 runs are pinned: remove one (right-click its name)")
        .clicked()
    {
        action = Some(CompareAction::Pin);
    }
    if ui
        .button("Fork here")
        .on_hover_text(
            "Keep the run's exact state (weights, optimizer state, data order): Back to the \
             fork returns to it, e.g. to try another optimizer from the same weights",
        )
        .clicked()
    {
        action = Some(CompareAction::Fork);
    }
    let back = match fork {
        Some(step) => format!("Back to the fork (step {step})"),
        None => "Back to the fork".to_string(),
    };
    let why_not = if fork.is_none() {
        "Press Fork here first"
    } else {
        "8 runs are pinned: remove one (right-click its name) so that the branch you leave can \
         become a pin"
    };
    if ui
        .add_enabled(fork.is_some() && !full, egui::Button::new(back))
        .on_hover_text(
            "Return to the fork's exact state; the branch you leave becomes a pin on the curves",
        )
        .on_disabled_hover_text(why_not)
        .clicked()
    {
        action = Some(CompareAction::BackToFork);
    }
    action
}

/// One pin's name (or the field renaming it); true if it is to be removed.
fn pin_ui(
    ui: &mut Ui,
    pin: &mut Pin,
    index: usize,
    renaming: &mut Option<(usize, String)>,
) -> bool {
    if let Some((at, text)) = renaming
        && *at == index
    {
        let edit = ui.add(egui::TextEdit::singleline(text).desired_width(180.0));
        edit.request_focus();
        if edit.lost_focus() {
            let entered = ui.input(|i| !i.key_pressed(egui::Key::Escape));
            if entered && !text.trim().is_empty() {
                pin.label = text.trim().to_string();
            }
            *renaming = None;
        }
        return false;
    }
    let mut name = RichText::new(format!("— {}", pin.label)).color(pin.color);
    if !pin.visible {
        name = name.strikethrough().weak();
    }
    let response = ui
        .selectable_label(pin.visible, name)
        .on_hover_text(format!(
            "Pinned: {}. Dashed, its training loss and accuracy; dotted, its test ones. Click to \
         hide or show; right-click to rename or remove",
            pin.label
        ));
    if response.clicked() {
        pin.visible = !pin.visible;
    }
    let mut remove = false;
    response.context_menu(|ui| {
        if ui.button("Rename…").clicked() {
            *renaming = Some((index, pin.label.clone()));
            ui.close();
        }
        if ui.button("Remove").clicked() {
            remove = true;
            ui.close();
        }
    });
    remove
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::protocol::{LossPoint, Update};

    fn run_with(steps: u64) -> RunView {
        let mut run = RunView::default();
        run.apply(Update::Losses(
            (1..=steps)
                .map(|step| LossPoint {
                    step,
                    epochs: step as f64 / 10.0,
                    loss: 1.0 / step as f32,
                    accuracy: 0.5,
                })
                .collect(),
        ));
        run
    }

    #[test]
    fn at_most_eight_pins_each_in_its_own_colour_with_unique_labels() {
        let run = run_with(20);
        let mut pins = Pins::default();
        for _ in 0..MAX_PINS {
            pins.add(Pin::from_run("SGD 0.1".into(), &run, 0))
                .expect("room for it");
        }
        assert!(pins.add(Pin::from_run("one more".into(), &run, 0)).is_err());
        let colours: std::collections::HashSet<_> = pins.pins().iter().map(|p| p.color).collect();
        assert_eq!(colours.len(), MAX_PINS);
        assert_eq!(pins.pins()[1].label, "SGD 0.1 (2)");
        pins.remove(0);
        pins.add(Pin::from_run("again".into(), &run, 0))
            .expect("room again");
        assert_eq!(pins.pins()[MAX_PINS - 1].color, palette::PINS[0]);
    }

    #[test]
    fn a_branch_pin_holds_the_points_from_its_step_on() {
        let run = run_with(20);
        let pin = Pin::from_run("branch".into(), &run, 12);
        let steps: Vec<f64> = pin.train_loss.points().iter().map(|p| p.step).collect();
        assert_eq!(steps, (12..=20).map(f64::from).collect::<Vec<_>>());
        let mut pins = Pins::default();
        assert!(pins.add(Pin::from_run("empty".into(), &run, 21)).is_err());
    }

    #[test]
    fn labels_name_what_distinguishes_a_run() {
        let settings = TrainSettings {
            loss: crate::nn::Loss::CrossEntropy,
            optimizer: crate::nn::OptimizerSettings {
                optimizer: crate::nn::Optimizer::ADAM,
                learning_rate: 1e-3,
                weight_decay: 0.0,
            },
            batch_size: 32,
        };
        assert_eq!(describe(&settings, 42), "Adam 1e-3, cross-entropy, seed 42");
    }
}
