//! The desktop app: panels that read the worker's updates and snapshots and send it commands;
//! no panel touches the network the trainer owns.

mod app;
mod background;
mod curves;
pub mod fault;
pub mod file_dialog;
mod layers_panel;
mod palette;
pub mod pins;
mod run_view;
mod series;
mod settings_panel;
mod timeline;
mod toolbar;
pub mod views;

pub use app::{
    Ask, BackpropLab, Launch, LessonPlayer, PREFERENCES_KEY, Preferences, class_pace, startable,
    startup_preferences,
};
pub use curves::{CurvesPanel, XAxis};
pub use palette::emphasis;
pub use run_view::{Alert, RunView};
pub use series::Series;
pub use settings_panel::{SettingsAction, SettingsPanel, adapt_layers, validate};

/// Opens the window and runs until it is closed.
pub fn run(launch: Launch) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Backprop Lab")
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([960.0, 600.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "Backprop Lab",
        options,
        Box::new(|cc| {
            let launch = Launch {
                data_dir: launch
                    .data_dir
                    .or_else(|| eframe::storage_dir("Backprop Lab")),
                ..launch
            };
            Ok(Box::new(BackpropLab::new(cc, launch)))
        }),
    )
}
