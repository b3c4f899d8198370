//! The current run as PyTorch or Keras code (what `backprop-lab code` prints), with a Copy
//! button; it follows the layers and settings the trainer runs with.

use egui::{RichText, Ui};

use super::{View, ViewContext};
use crate::io::torch::{self, Framework};
use crate::nn::LayerSpec;
use crate::train::TrainSettings;

pub struct CodeView {
    pub framework: Framework,
    /// The code of the last (framework, layers, settings), as shown.
    pub code: Option<(Framework, Vec<LayerSpec>, TrainSettings, String)>,
}

impl Default for CodeView {
    fn default() -> Self {
        Self {
            framework: Framework::PyTorch,
            code: None,
        }
    }
}

impl CodeView {
    /// The code for these layers and settings (written again only when they change).
    fn code_for(
        &mut self,
        input: crate::nn::Shape,
        layers: &[LayerSpec],
        settings: &TrainSettings,
    ) -> &str {
        let stale = self.code.as_ref().is_none_or(|(framework, l, s, _)| {
            *framework != self.framework || l != layers || s != settings
        });
        if stale {
            let text = torch::code(self.framework, input, layers, settings)
                .unwrap_or_else(|error| format!("# cannot write this network as code: {error}"));
            self.code = Some((self.framework, layers.to_vec(), *settings, text));
        }
        self.code.as_ref().map_or("", |(_, _, _, text)| text)
    }
}

impl View for CodeView {
    fn id(&self) -> &'static str {
        "code"
    }

    fn title(&self) -> &'static str {
        "Code"
    }

    fn tooltip(&self) -> &'static str {
        "This run as PyTorch or Keras code: the same layers and settings, ready to copy"
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        let (Some(info), Some(snapshot)) = (ctx.info(), ctx.snapshot) else {
            ui.label("Waiting for the trainer...");
            return;
        };
        let input = info.input_shape;
        let mut copy = false;
        ui.horizontal(|ui| {
            for (framework, name) in [(Framework::PyTorch, "PyTorch"), (Framework::Keras, "Keras")]
            {
                if ui
                    .selectable_label(self.framework == framework, name)
                    .clicked()
                {
                    self.framework = framework;
                }
            }
            copy = ui
                .button("Copy")
                .on_hover_text("Copy the code to the clipboard")
                .clicked();
        });
        let code = self
            .code_for(input, &snapshot.specs, &snapshot.settings)
            .to_string();
        if copy {
            ui.ctx().copy_text(code.clone());
        }
        egui::ScrollArea::both()
            .auto_shrink([false; 2])
            .show(ui, |ui| {
                ui.label(RichText::new(code).monospace().size(12.0));
            });
    }
}
