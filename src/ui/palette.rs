//! The one source of colours for every view.

use egui::Color32;

/// Training loss, smoothed.
pub const TRAIN: Color32 = Color32::from_rgb(66, 133, 244);
/// Test loss and accuracy.
pub const TEST: Color32 = Color32::from_rgb(244, 160, 0);
/// Setting-change markers on the curves.
pub const MARKER: Color32 = Color32::from_rgb(156, 106, 222);
/// Alerts: divergence, crashes, refused changes.
pub const ALERT: Color32 = Color32::from_rgb(217, 48, 37);
pub const ALERT_BACKGROUND: Color32 = Color32::from_rgba_premultiplied(80, 16, 12, 230);
/// Changes that wait for a reset.
pub const PENDING: Color32 = Color32::from_rgb(230, 170, 40);

/// The raw curve behind a smoothed one.
pub fn faint(color: Color32) -> Color32 {
    color.gamma_multiply(0.25)
}
