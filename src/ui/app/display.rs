//! How the window presents itself in a classroom: the scale (Ctrl+Plus / Ctrl+Minus / Ctrl+0,
//! kept between launches), high contrast, full screen (F11), Present mode (F5; Esc leaves) with
//! its large toolbar and one or two views filling the window, and the controls students see.

use egui::gui_zoom::kb_shortcuts;
use egui::{Key, Modifiers, RichText, Ui, Vec2};

use super::BackpropLab;
use crate::train::controls::{Control, Hidden};
use crate::train::protocol::Command;
use crate::ui::palette;
use crate::ui::toolbar::{ToolbarAction, status_text};

/// The scales offered: 100% to 250%.
pub const SCALES: [f32; 7] = [1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5];

/// At most this many views fill the window in Present mode.
pub const PRESENTED_VIEWS: usize = 2;

/// The next scale up or down from `scale`, within 100-250%.
pub fn next_scale(scale: f32, up: bool) -> f32 {
    if up {
        SCALES
            .into_iter()
            .find(|&s| s > scale + 0.01)
            .unwrap_or(SCALES[SCALES.len() - 1])
    } else {
        SCALES
            .into_iter()
            .rev()
            .find(|&s| s < scale - 0.01)
            .unwrap_or(SCALES[0])
    }
}

/// A scale from the preferences, within 100-250% (100% for nonsense).
pub fn valid_scale(scale: f32) -> f32 {
    if scale.is_finite() {
        scale.clamp(SCALES[0], SCALES[SCALES.len() - 1])
    } else {
        1.0
    }
}

/// The views Present shows at first.
pub fn default_presented() -> Vec<String> {
    vec!["curves".into(), "boundary".into()]
}

/// Text sizes: egui's own, 15% larger for reading at a desk, another 25% with high contrast.
pub fn apply_text_sizes(ctx: &egui::Context, high_contrast: bool) {
    let base = egui::Style::default().text_styles;
    let factor = if high_contrast {
        1.15 * palette::HIGH_CONTRAST_TEXT
    } else {
        1.15
    };
    ctx.all_styles_mut(|style| {
        for (text_style, font) in style.text_styles.iter_mut() {
            if let Some(base) = base.get(text_style) {
                font.size = base.size * factor;
            }
        }
        // full-strength text, for a projector's washed-out blacks
        let full = if style.visuals.dark_mode {
            egui::Color32::WHITE
        } else {
            egui::Color32::BLACK
        };
        style.visuals.override_text_color = high_contrast.then_some(full);
    });
    palette::set_emphasis(ctx, if high_contrast { 2.0 } else { 1.0 });
}

fn toggle_full_screen(ctx: &egui::Context) {
    let full = ctx.input(|i| i.viewport().fullscreen.unwrap_or(false));
    ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(!full));
}

impl BackpropLab {
    /// F5, Esc (while presenting), F11 and the scale's keys, taken before anything else sees
    /// them (Esc then leaves Present mode rather than a step-through).
    pub(super) fn display_keys(&mut self, ui: &Ui) {
        let (present, leave, full_screen) = ui.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::F5),
                self.presenting && i.consume_key(Modifiers::NONE, Key::Escape),
                i.consume_key(Modifiers::NONE, Key::F11),
            )
        });
        if present {
            self.set_presenting(true);
        }
        if leave {
            self.set_presenting(false);
        }
        if full_screen {
            toggle_full_screen(ui.ctx());
        }
        let scale = self.preferences.scale;
        let zoom = ui.input_mut(|i| {
            if i.consume_shortcut(&kb_shortcuts::ZOOM_RESET) {
                Some(1.0)
            } else if i.consume_shortcut(&kb_shortcuts::ZOOM_IN)
                || i.consume_shortcut(&kb_shortcuts::ZOOM_IN_SECONDARY)
            {
                Some(next_scale(scale, true))
            } else if i.consume_shortcut(&kb_shortcuts::ZOOM_OUT) {
                Some(next_scale(scale, false))
            } else {
                None
            }
        });
        if let Some(scale) = zoom {
            self.set_scale(scale);
        }
    }

    /// The window's scale, 1.0 to 2.5.
    pub fn scale(&self) -> f32 {
        self.preferences.scale
    }

    /// Sets the scale (kept within 100-250%); it is saved with the preferences.
    pub fn set_scale(&mut self, scale: f32) {
        self.preferences.scale = valid_scale(scale);
        self.egui_ctx.set_zoom_factor(self.preferences.scale);
    }

    pub fn high_contrast(&self) -> bool {
        self.preferences.high_contrast
    }

    /// Thicker curves, larger labels and points, full-strength text.
    pub fn set_high_contrast(&mut self, on: bool) {
        self.preferences.high_contrast = on;
        apply_text_sizes(&self.egui_ctx, on);
    }

    /// The controls students do not see.
    pub fn hidden(&self) -> &Hidden {
        &self.preferences.hidden
    }

    /// Hides the controls in `hidden` and shows every other (saved with the preferences).
    pub fn set_hidden(&mut self, hidden: Hidden) {
        self.preferences.hidden = hidden;
    }

    /// Whether Present mode is on.
    pub fn presenting(&self) -> bool {
        self.presenting
    }

    /// Present mode: the settings and layer panels go (they come back as they were), a large
    /// toolbar and the presented views fill the window.
    pub fn set_presenting(&mut self, on: bool) {
        self.presenting = on;
    }

    /// The views Present shows.
    pub fn presented_views(&self) -> &[String] {
        &self.preferences.present_views
    }

    /// The View menu: Present, full screen, the scale, high contrast, what Present shows and
    /// the controls students see.
    pub(super) fn view_menu(&mut self, ui: &mut Ui) {
        ui.menu_button("View", |ui| {
            if ui
                .button("Present   (F5)")
                .on_hover_text("The chosen views fill the window with a large toolbar; Esc leaves")
                .clicked()
            {
                self.set_presenting(true);
                ui.close();
            }
            if ui.button("Full screen   (F11)").clicked() {
                toggle_full_screen(ui.ctx());
                ui.close();
            }
            ui.separator();
            let scale = self.preferences.scale;
            ui.label(format!("Scale: {:.0}%", scale * 100.0));
            ui.horizontal(|ui| {
                for option in SCALES {
                    let chosen = (option - scale).abs() < 0.01;
                    if ui
                        .selectable_label(chosen, format!("{:.0}%", option * 100.0))
                        .clicked()
                    {
                        self.set_scale(option);
                    }
                }
            });
            if ui.button("Zoom in   (Ctrl+Plus)").clicked() {
                self.set_scale(next_scale(scale, true));
            }
            if ui.button("Zoom out   (Ctrl+Minus)").clicked() {
                self.set_scale(next_scale(scale, false));
            }
            if ui.button("Actual size   (Ctrl+0)").clicked() {
                self.set_scale(1.0);
            }
            let mut contrast = self.preferences.high_contrast;
            if ui
                .checkbox(&mut contrast, "High contrast")
                .on_hover_text(
                    "Thicker curves, larger labels and points, full-strength text: for a projector",
                )
                .changed()
            {
                self.set_high_contrast(contrast);
            }
            ui.separator();
            ui.menu_button("Views when presenting", |ui| self.presented_views_ui(ui));
            if ui
                .button("Controls students see…")
                .on_hover_text(
                    "Hide the controls a lesson does not need: they are left out, not greyed",
                )
                .clicked()
            {
                self.controls_open = true;
                ui.close();
            }
        });
    }

    /// One toggle per view: at most two are presented, the oldest giving way.
    fn presented_views_ui(&mut self, ui: &mut Ui) {
        ui.label(RichText::new("One or two views fill the window").weak());
        let presented = &mut self.preferences.present_views;
        for id in crate::ui::views::ids() {
            let mut on = presented.iter().any(|p| p == id);
            if ui
                .checkbox(&mut on, crate::ui::views::title_of(id))
                .changed()
            {
                if on {
                    presented.push(id.to_string());
                    if presented.len() > PRESENTED_VIEWS {
                        presented.remove(0);
                    }
                } else if presented.len() > 1 {
                    presented.retain(|p| p != id);
                }
            }
        }
    }

    /// The window where a teacher ticks the controls students see.
    pub(super) fn controls_window(&mut self, ctx: &egui::Context) {
        if !self.controls_open {
            return;
        }
        let mut open = true;
        let hidden = &mut self.preferences.hidden;
        egui::Window::new("Controls students see")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label("Unticked controls are left out of the window (their shortcuts too).");
                for control in Control::ALL {
                    let mut shown = hidden.shows(control);
                    if ui.checkbox(&mut shown, control.name()).changed() {
                        hidden.set(control, shown);
                    }
                }
                if ui.button("Show all").clicked() {
                    *hidden = Default::default();
                }
            });
        self.controls_open = open;
    }

    /// Present mode's toolbar: large buttons, the run's place, and the way out.
    pub(super) fn present_toolbar(&mut self, ui: &mut Ui) {
        let ready = self.run.info.is_some();
        let hidden = self.preferences.hidden.clone();
        let big = |text: &str| {
            egui::Button::new(RichText::new(text).size(20.0)).min_size(Vec2::new(0.0, 38.0))
        };
        let mut action = None;
        let mut lesson_move = None;
        ui.add_space(6.0);
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = Vec2::new(8.0, 8.0);
            ui.add_enabled_ui(ready, |ui| {
                let (label, play) = if self.run.status.running {
                    ("Pause", ToolbarAction::Pause)
                } else {
                    ("Play", ToolbarAction::Play)
                };
                if ui.add(big(label)).on_hover_text("Space").clicked() {
                    action = Some(play);
                }
                if ui
                    .add(big("Step"))
                    .on_hover_text("One mini-batch. Right arrow")
                    .clicked()
                {
                    action = Some(ToolbarAction::Step);
                }
                let stepping = self.run.trace.as_ref().map(|t| t.layers.len());
                if let Some(layers) = stepping {
                    if ui
                        .add(big("Previous phase"))
                        .on_hover_text("Left arrow")
                        .clicked()
                    {
                        self.views.step.previous();
                    }
                    if ui
                        .add(big("Next phase"))
                        .on_hover_text("Right arrow")
                        .clicked()
                    {
                        self.views.step.next(layers);
                    }
                    if ui.add(big("Apply step")).on_hover_text("Enter").clicked() {
                        self.command(Command::ApplyStep);
                    }
                } else if hidden.shows(Control::StepThrough)
                    && ui
                        .add(big("Step through"))
                        .on_hover_text("Walk the next step phase by phase. T")
                        .clicked()
                {
                    action = Some(ToolbarAction::StepThrough);
                }
            });
            if let Some((back, on)) = self.lesson_moves() {
                ui.separator();
                if ui
                    .add_enabled(back, big("Back"))
                    .on_hover_text("Back to where the lesson's previous step ended. Page Up")
                    .clicked()
                {
                    lesson_move = Some(false);
                }
                if ui
                    .add_enabled(on, big("Next"))
                    .on_hover_text("The lesson's next step. Page Down")
                    .clicked()
                {
                    lesson_move = Some(true);
                }
            }
            if hidden.shows(Control::Reset)
                && ui
                    .add(big("Reset"))
                    .on_hover_text("New initial weights from the seed. R")
                    .clicked()
            {
                action = Some(ToolbarAction::Reset);
            }
            ui.separator();
            // where the run stands, on one line: a class reads the epoch and the step
            let status = &self.run.status;
            let place = format!(
                "epoch {} · step {}",
                status.epochs.floor() as u64,
                status.step
            );
            ui.add(
                egui::Label::new(RichText::new(place).size(18.0))
                    .wrap_mode(egui::TextWrapMode::Extend),
            )
            .on_hover_text(status_text(status));
            if ui
                .add(big("Leave"))
                .on_hover_text("Back to the panels as they were. Esc")
                .clicked()
            {
                self.set_presenting(false);
            }
        });
        ui.add_space(4.0);
        if let Some(action) = action {
            self.toolbar_action(action);
        }
        match lesson_move {
            Some(true) => self.lesson_forward(),
            Some(false) => self.lesson_back(),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_steps_through_100_to_250_percent_and_stays_inside() {
        assert_eq!(next_scale(1.0, true), 1.25);
        assert_eq!(next_scale(2.25, true), 2.5);
        assert_eq!(next_scale(2.5, true), 2.5);
        assert_eq!(next_scale(1.0, false), 1.0);
        assert_eq!(next_scale(1.6, false), 1.5);
        assert_eq!(next_scale(1.6, true), 1.75);
        assert_eq!(valid_scale(9.0), 2.5);
        assert_eq!(valid_scale(0.1), 1.0);
        assert_eq!(valid_scale(f32::NAN), 1.0);
    }
}
