//! The loss and accuracy curves as a view (the plotting itself is `ui::curves`).

use egui::Ui;

use super::{View, ViewContext};
use crate::ui::curves::CurvesPanel;

/// The curves, with the options the user set (kept in the preferences).
#[derive(Default)]
pub struct CurvesView {
    pub options: CurvesPanel,
}

impl View for CurvesView {
    fn id(&self) -> &'static str {
        "curves"
    }

    fn title(&self) -> &'static str {
        "Curves"
    }

    fn tooltip(&self) -> &'static str {
        "Training loss, test loss and test accuracy as training goes"
    }

    fn min_size(&self) -> egui::Vec2 {
        // both plots at a readable height, with their legends
        egui::Vec2::new(260.0, 300.0)
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        self.options.ui(ui, ctx.run);
    }
}
