//! The loss and accuracy curves as a view (the plotting is `ui::curves`), with the pinned runs
//! named above them and the timeline below.

use egui::{Ui, UiBuilder, Vec2};

use super::{View, ViewAction, ViewContext};
use crate::ui::curves::CurvesPanel;
use crate::ui::pins::compare_ui;
use crate::ui::timeline::Timeline;

/// The timeline's height below the plots until it has been measured: its track and one line.
const TIMELINE_HEIGHT: f32 = 56.0;

/// The curves, with the options the user set (kept in the preferences).
#[derive(Default)]
pub struct CurvesView {
    pub options: CurvesPanel,
    /// The pin being renamed, and its text so far.
    renaming: Option<(usize, String)>,
    timeline: Timeline,
    /// The timeline's height in the last frame (its text wraps in a narrow tile).
    timeline_height: Option<f32>,
}

impl View for CurvesView {
    fn id(&self) -> &'static str {
        "curves"
    }

    fn title(&self) -> &'static str {
        "Curves"
    }

    fn tooltip(&self) -> &'static str {
        "Training loss, test loss and accuracy as training goes, pinned runs beside them, and \
         the timeline to go back in the run"
    }

    fn min_size(&self) -> Vec2 {
        // both plots at a readable height, with their legends, and the timeline
        Vec2::new(300.0, 300.0 + TIMELINE_HEIGHT)
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        let fork = ctx.run.fork.map(|(step, _)| step);
        if let Some(action) = compare_ui(ui, ctx.pins, fork, &mut self.renaming) {
            ctx.actions.push(ViewAction::Compare(action));
        }
        let timeline_height = self.timeline_height.unwrap_or(TIMELINE_HEIGHT);
        let plots = Vec2::new(
            ui.available_width(),
            (ui.available_height() - timeline_height).max(0.0),
        );
        let rect = egui::Rect::from_min_size(ui.cursor().min, plots);
        ui.scope_builder(UiBuilder::new().max_rect(rect), |ui| {
            self.options.ui(ui, ctx.run, ctx.pins);
        });
        ui.advance_cursor_after_rect(rect);
        let top = ui.cursor().top();
        if let Some(action) = self
            .timeline
            .ui(ui, ctx.run, ctx.recording, ctx.pins.is_full())
        {
            ctx.actions.push(ViewAction::Timeline(action));
        }
        let height = ui.min_rect().bottom() - top + ui.spacing().item_spacing.y;
        if self.timeline_height != Some(height) {
            self.timeline_height = Some(height);
            ui.ctx().request_discard("the timeline's height changed");
        }
    }
}
