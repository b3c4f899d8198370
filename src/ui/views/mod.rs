//! The views of the central area, tiled side by side: curves, the network graph, weight
//! heatmaps, the decision boundary, the confusion matrix, the prediction gallery and the drawing
//! canvas. Each view is a struct in its own file; this module lays out the ones switched on.

mod boundary;
mod confusion;
mod draw;
mod gallery;
mod graph;
pub mod heat;
mod predictions;
mod weights;

use std::sync::Arc;

use egui::{Rect, RichText, Ui, UiBuilder, Vec2};
use serde::{Deserialize, Serialize};

pub use boundary::{BoundaryReadout, BoundaryView};
pub use confusion::{ConfusionView, confusion};
pub use draw::{BRUSH, DrawView, RASTER_SIDE, Source, rasterize};
pub use gallery::GalleryView;
pub use graph::{GraphReadout, GraphView, PlacedNode};
pub use predictions::TestImages;
pub use weights::{Layout, Quantity, WeightReadout, WeightsView};

use super::curves::CurvesPanel;
use super::run_view::RunView;
use crate::nn::LayerSpec;
use crate::train::worker::{Probe, RunInfo, Snapshot};

/// One view of the central area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ViewKind {
    Curves,
    Network,
    Weights,
    Boundary,
    Confusion,
    Gallery,
    Draw,
}

impl ViewKind {
    pub const ALL: [ViewKind; 7] = [
        ViewKind::Curves,
        ViewKind::Network,
        ViewKind::Weights,
        ViewKind::Boundary,
        ViewKind::Confusion,
        ViewKind::Gallery,
        ViewKind::Draw,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Curves => "Curves",
            ViewKind::Network => "Network",
            ViewKind::Weights => "Weights",
            ViewKind::Boundary => "Decision boundary",
            ViewKind::Confusion => "Confusion matrix",
            ViewKind::Gallery => "Predictions",
            ViewKind::Draw => "Draw a digit",
        }
    }

    fn tooltip(self) -> &'static str {
        match self {
            ViewKind::Curves => "Training loss, test loss and test accuracy as training goes",
            ViewKind::Network => {
                "The network as a graph: edges by weight, nodes by the probe's activation"
            }
            ViewKind::Weights => "Each layer's weights, gradients or last update as a heatmap",
            ViewKind::Boundary => "The model's output over the input plane, behind the data points",
            ViewKind::Confusion => {
                "True against predicted class on the test split; click a cell for its examples"
            }
            ViewKind::Gallery => {
                "Test images with their top-3 predictions; click one to make it the probe"
            }
            ViewKind::Draw => "Draw a digit and watch the network classify it as it trains",
        }
    }

    /// Why this view has nothing to show for this run, if so.
    pub fn unavailable(self, info: &RunInfo) -> Option<&'static str> {
        match self {
            ViewKind::Boundary if info.input_shape.len() != 2 => {
                Some("needs a 2-D dataset (xor, circle, spiral...)")
            }
            ViewKind::Gallery if info.input_shape.is_flat() => Some("needs image inputs (MNIST)"),
            _ => None,
        }
    }
}

/// The views that are on, with a sensible start for every preset.
pub fn default_views() -> Vec<ViewKind> {
    vec![
        ViewKind::Curves,
        ViewKind::Network,
        ViewKind::Weights,
        ViewKind::Boundary,
        ViewKind::Gallery,
    ]
}

/// What the views ask the app to do.
pub enum ViewAction {
    SetProbe(Probe),
}

/// All views with their state; the app owns one.
#[derive(Default)]
pub struct Views {
    pub weights: WeightsView,
    pub graph: GraphView,
    pub boundary: BoundaryView,
    pub confusion: ConfusionView,
    pub gallery: GalleryView,
    pub draw: DrawView,
    pub images: TestImages,
}

/// Columns for `n` tiles in a space of `aspect` (width / height).
fn columns_for(n: usize, aspect: f32) -> usize {
    match n {
        0 | 1 => 1,
        2 => {
            if aspect > 1.2 {
                2
            } else {
                1
            }
        }
        3 | 4 => 2,
        _ => 3,
    }
}

impl Views {
    /// The view toggles, then the views that are on, tiled over the rest of `ui`.
    #[allow(clippy::too_many_arguments)]
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        shown: &mut Vec<ViewKind>,
        curves: &mut CurvesPanel,
        run: &RunView,
        specs: &[LayerSpec],
        snapshot: Option<&Arc<Snapshot>>,
    ) -> Option<ViewAction> {
        let info = run.info.as_ref();
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Views").strong());
            for kind in ViewKind::ALL {
                let on = shown.contains(&kind);
                let reason = info.and_then(|i| kind.unavailable(i));
                let title = if reason.is_some() {
                    RichText::new(kind.title()).weak()
                } else {
                    RichText::new(kind.title())
                };
                let mut toggle = ui.selectable_label(on && reason.is_none(), title);
                toggle = match reason {
                    Some(reason) => toggle.on_hover_text(format!(
                        "{} ({reason}; hidden for this run)",
                        kind.tooltip()
                    )),
                    None => toggle.on_hover_text(kind.tooltip()),
                };
                if toggle.clicked() {
                    if on {
                        shown.retain(|k| *k != kind);
                    } else {
                        shown.push(kind);
                        shown.sort_by_key(|k| ViewKind::ALL.iter().position(|a| a == k));
                    }
                }
            }
        });
        ui.add_space(4.0);
        let visible: Vec<ViewKind> = shown
            .iter()
            .copied()
            .filter(|kind| info.is_none_or(|i| kind.unavailable(i).is_none()))
            .collect();
        let area = ui.available_rect_before_wrap();
        ui.allocate_rect(area, egui::Sense::hover());
        if visible.is_empty() {
            ui.put(area, egui::Label::new("Switch a view on above."));
            return None;
        }
        let columns = columns_for(visible.len(), area.aspect_ratio());
        let rows = visible.len().div_ceil(columns);
        let gap = 8.0;
        let cell = Vec2::new(
            (area.width() - gap * (columns - 1) as f32) / columns as f32,
            (area.height() - gap * (rows - 1) as f32) / rows as f32,
        );
        let mut action = None;
        for (k, kind) in visible.into_iter().enumerate() {
            let (row, column) = (k / columns, k % columns);
            let rect = Rect::from_min_size(
                area.min + Vec2::new((cell.x + gap) * column as f32, (cell.y + gap) * row as f32),
                cell,
            );
            let mut tile = ui.new_child(UiBuilder::new().max_rect(rect).id_salt(kind));
            tile.set_clip_rect(rect.intersect(ui.clip_rect()));
            egui::Frame::group(tile.style())
                .inner_margin(6.0)
                .show(&mut tile, |ui| {
                    ui.set_min_size(ui.available_size());
                    ui.set_max_width(ui.available_width());
                    ui.label(RichText::new(kind.title()).strong().size(15.0));
                    let probe = match kind {
                        ViewKind::Curves => {
                            curves.ui(ui, run);
                            None
                        }
                        ViewKind::Network => {
                            self.graph.ui(ui, info, specs, snapshot);
                            None
                        }
                        ViewKind::Weights => {
                            self.weights.ui(ui, info, specs, snapshot);
                            None
                        }
                        ViewKind::Boundary => {
                            self.boundary.ui(ui, info, snapshot);
                            None
                        }
                        ViewKind::Confusion => {
                            self.confusion.ui(ui, info, snapshot, &mut self.images)
                        }
                        ViewKind::Gallery => self.gallery.ui(ui, info, snapshot, &mut self.images),
                        ViewKind::Draw => self.draw.ui(ui, info, specs, snapshot),
                    };
                    if let Some(probe) = probe {
                        action = Some(ViewAction::SetProbe(probe));
                    }
                });
        }
        action
    }
}
