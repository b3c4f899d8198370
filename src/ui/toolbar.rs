//! Play, pause, step, reset, the speed, and where the run stands.

use egui::{RichText, Ui};

use crate::train::controls::{Control, Hidden};
use crate::train::protocol::{Speed, Status};

/// What the toolbar asks the app to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ToolbarAction {
    Play,
    Pause,
    Step,
    StepEpoch,
    StepThrough,
    Reset,
    SetSpeed(Speed),
}

/// The toolbar's own state: the throttle the slider shows when "full speed" is off.
pub struct Toolbar {
    pub speed: Speed,
    throttle_steps_per_second: f32,
}

impl Toolbar {
    pub fn new(speed: Speed) -> Self {
        let throttle_steps_per_second = match speed {
            Speed::StepsPerSecond(rate) => rate,
            Speed::Full => 10.0,
        };
        Self {
            speed,
            throttle_steps_per_second,
        }
    }

    /// Shows `speed` (another run's, or a lesson's).
    pub fn set_speed(&mut self, speed: Speed) {
        *self = Self::new(speed);
    }

    /// The controls students see and the status, added to `ui`'s row (which wraps when the
    /// window is narrow).
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        status: &Status,
        ready: bool,
        hidden: &Hidden,
    ) -> Option<ToolbarAction> {
        let mut action = None;
        {
            ui.add_enabled_ui(ready, |ui| {
                let (label, next) = if status.running {
                    ("Pause", ToolbarAction::Pause)
                } else {
                    ("Play", ToolbarAction::Play)
                };
                if ui
                    .button(RichText::new(label).strong())
                    .on_hover_text("Train continuously, or stop after the current batch. Shortcut: Space")
                    .clicked()
                {
                    action = Some(next);
                }
                let step_button = ui
                    .button("Step")
                    .on_hover_text("Train exactly one mini-batch: forward, loss, backward, update. Shortcut: Right arrow");
                if step_button.clicked()
                {
                    action = Some(ToolbarAction::Step);
                }
                if ui
                    .button("Step epoch")
                    .on_hover_text("Train to the end of the current epoch. Shortcut: Shift+Right arrow")
                    .clicked()
                {
                    action = Some(ToolbarAction::StepEpoch);
                }
                if hidden.shows(Control::StepThrough) && ui
                    .button("Step through")
                    .on_hover_text("Pause and walk the next training step phase by phase with its numbers: forward, loss, backward, update. Shortcut: T")
                    .clicked()
                {
                    action = Some(ToolbarAction::StepThrough);
                }
            });
            if hidden.shows(Control::Reset) && ui
                .button("Reset")
                .on_hover_text("Start again from new initial weights drawn from the seed (the same seed gives the same start), applying any architecture or data changes. Shortcut: R")
                .clicked()
            {
                action = Some(ToolbarAction::Reset);
            }
            ui.separator();
            let mut full = self.speed == Speed::Full;
            if ui
                .checkbox(&mut full, "Full speed")
                .on_hover_text("Train as fast as the machine goes; off: at most the chosen number of batches per second, so a class can follow")
                .changed()
            {
                self.speed = if full {
                    Speed::Full
                } else {
                    Speed::StepsPerSecond(self.throttle_steps_per_second)
                };
                action = Some(ToolbarAction::SetSpeed(self.speed));
            }
            if !full {
                let slider = egui::Slider::new(&mut self.throttle_steps_per_second, 0.5..=200.0)
                    .logarithmic(true)
                    .suffix(" steps/s");
                if ui
                    .add(slider)
                    .on_hover_text("Batches per second while playing")
                    .changed()
                {
                    self.speed = Speed::StepsPerSecond(self.throttle_steps_per_second);
                    action = Some(ToolbarAction::SetSpeed(self.speed));
                }
            }
            ui.separator();
            // whole on one line: wrapped, it would cover the row above
            ui.add(
                egui::Label::new(RichText::new(status_text(status)))
                    .wrap_mode(egui::TextWrapMode::Extend),
            )
            .on_hover_text(format!(
                "{:.2} epochs done; training time, pauses not counted",
                status.epochs
            ));
        }
        action
    }
}

/// "epoch 2  ·  step 340  ·  12k samples/s  ·  0:00:14"
pub fn status_text(status: &Status) -> String {
    format!(
        "epoch {}  ·  step {}  ·  {} samples/s  ·  {}",
        status.epochs.floor() as u64,
        status.step,
        format_rate(status.samples_per_second),
        format_duration(status.training_secs)
    )
}

fn format_rate(rate: f64) -> String {
    if rate >= 10_000.0 {
        format!("{:.0}k", rate / 1000.0)
    } else {
        format!("{rate:.0}")
    }
}

/// h:mm:ss
pub fn format_duration(secs: f64) -> String {
    let total = secs.max(0.0) as u64;
    format!("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
}
