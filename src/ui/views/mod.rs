//! The views of the central area, tiled side by side: curves, the network graph, weight
//! heatmaps, the decision boundary, the confusion matrix, the prediction gallery and the drawing
//! canvas. Each view is a type in its own file implementing [`View`], listed once in
//! [`registry`]; this module lays out the ones switched on.

mod boundary;
mod code;
mod confusion;
mod curves;
mod draw;
mod gallery;
mod graph;
mod graph_layout;
pub mod heat;
mod histograms;
mod predictions;
mod step_text;
mod step_through;
mod weights;

use std::any::Any;
use std::sync::Arc;

use egui::{Rect, RichText, Ui, UiBuilder, Vec2};

pub use boundary::{BoundaryReadout, BoundaryView};
pub use code::CodeView;
pub use confusion::{ConfusionView, confusion};
pub use curves::CurvesView;
pub use draw::{BRUSH, DrawView, RASTER_SIDE, Source, rasterize};
pub use gallery::GalleryView;
pub use graph::{GraphReadout, GraphView, PlacedNode};
pub use histograms::HistogramsView;
pub use predictions::{TestImages, test_probe};
pub use step_text::{Block, Selection, explain, num, plain_text};
pub use step_through::{StepCursor, StepThroughView};
pub use weights::{Layout, Quantity, WeightReadout, WeightsView};

use super::curves::CurvesPanel;
use super::fault::contain;
use super::pins::{CompareAction, Pins};
use super::run_view::RunView;
use super::timeline::TimelineAction;
use crate::nn::Loss;
use crate::train::controls::Hidden;
use crate::train::protocol::{Probe, RunInfo, Snapshot, StepSource};

/// One view of the central area. A new view is a file with a type that implements this, and
/// one line in [`registry`].
pub trait View: Any {
    /// A stable name: saved in the preferences and taken by `--views` ("network").
    fn id(&self) -> &'static str;
    /// Its title on the toggle and above the view.
    fn title(&self) -> &'static str;
    /// What it shows, in one sentence.
    fn tooltip(&self) -> &'static str;
    /// Why it has nothing to show for this run, if so (it is hidden then).
    fn unavailable(&self, _info: &RunInfo) -> Option<&'static str> {
        None
    }
    /// The smallest tile it is readable in: smaller, the views tile in fewer columns and
    /// scroll.
    fn min_size(&self) -> Vec2 {
        Vec2::new(260.0, 190.0)
    }
    /// Draws the view into `ui`.
    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>);
}

/// What every view is given each frame.
pub struct ViewContext<'a> {
    /// What the app knows of the run, from the worker's updates.
    pub run: &'a RunView,
    /// The latest snapshot of the network.
    pub snapshot: Option<&'a Arc<Snapshot>>,
    /// The test split's images as textures, shared by the views that show them.
    pub images: &'a mut TestImages,
    /// Where the step-through stands (shared: the graph highlights its layer).
    pub step: &'a mut StepCursor,
    /// What the views ask the app to do.
    pub actions: &'a mut Vec<ViewAction>,
    /// The pinned runs the curves show beside the live one.
    pub pins: &'a mut Pins,
    /// Whether the timeline and histograms are being recorded.
    pub recording: bool,
    /// The controls students do not see: a view leaves them out too.
    pub hidden: &'a Hidden,
}

/// What the app lends the views for one frame (each as in [`ViewContext`]).
pub struct ViewInputs<'a> {
    pub run: &'a RunView,
    pub snapshot: Option<&'a Arc<Snapshot>>,
    pub pins: &'a mut Pins,
    /// Whether the timeline and histograms are being recorded.
    pub recording: bool,
    /// The controls students do not see.
    pub hidden: &'a Hidden,
}

impl ViewContext<'_> {
    pub fn info(&self) -> Option<&RunInfo> {
        self.run.info.as_ref()
    }
}

/// Every view, in the order of the toggles.
fn registry() -> Vec<Box<dyn View>> {
    vec![
        Box::new(CurvesView::default()),
        Box::new(GraphView::default()),
        Box::new(WeightsView::default()),
        Box::new(BoundaryView::default()),
        Box::new(ConfusionView::default()),
        Box::new(GalleryView::default()),
        Box::new(DrawView::default()),
        Box::new(StepThroughView::default()),
        Box::new(HistogramsView::default()),
        Box::new(CodeView::default()),
    ]
}

/// The ids of every view, in order.
pub fn ids() -> Vec<&'static str> {
    registry().iter().map(|view| view.id()).collect()
}

/// The title of the view `id` ("" if there is none).
pub fn title_of(id: &str) -> &'static str {
    registry()
        .iter()
        .find(|view| view.id() == id)
        .map_or("", |view| view.title())
}

/// The views that are on, with a sensible start for every preset.
pub fn default_views() -> Vec<String> {
    ["curves", "network", "weights", "boundary", "gallery"]
        .map(String::from)
        .to_vec()
}

/// What the views ask the app to do.
pub enum ViewAction {
    SetProbe(Probe),
    /// Start (or restart) stepping through a step.
    StepThrough(StepSource),
    ApplyStep,
    AbandonStep,
    /// The step-through's loss phase switches the run's loss.
    ChangeLoss(Loss),
    /// The timeline: view a past step, back to now, resume, record or not.
    Timeline(TimelineAction),
    /// Pin, fork, back to the fork.
    Compare(CompareAction),
}

/// All views with their state; the app owns one.
pub struct Views {
    views: Vec<Box<dyn View>>,
    images: TestImages,
    pub step: StepCursor,
    /// Each shown view's tile as the last frame placed it (id, rect on screen).
    pub tiles: Vec<(&'static str, Rect)>,
    /// The part of the screen the tiles scroll in.
    pub viewport: Rect,
    /// A view to scroll into view in the next frame (one just switched on).
    reveal: Option<&'static str>,
    /// Views that panicked, with the message: each shows it in its tile until restarted.
    failed: Vec<(&'static str, String)>,
    /// A view told to panic in its next frame (the tests' way to check the containment).
    crash_requested: Option<&'static str>,
    /// The view filling the area on its own (its title double-clicked), while it is shown.
    pub maximized: Option<&'static str>,
}

impl Default for Views {
    fn default() -> Self {
        Self {
            views: registry(),
            images: TestImages::default(),
            step: StepCursor::default(),
            tiles: Vec::new(),
            viewport: Rect::NOTHING,
            reveal: None,
            failed: Vec::new(),
            crash_requested: None,
            maximized: None,
        }
    }
}

/// How tiles with minimum sizes `mins` (in order) share `area`: the column count, the
/// column width and each row's height. As many columns as suit the area's shape and fit the
/// widest minimum; rows fill the height, each at least its tallest view's minimum, and when
/// those minimums do not fit, the grid is taller than `area` (it scrolls).
fn grid(mins: &[Vec2], area: Vec2, gap: f32) -> (usize, f32, Vec<f32>) {
    let n = mins.len().max(1);
    let widest = mins.iter().map(|m| m.x).fold(0.0, f32::max);
    let width_of = |columns: usize| (area.x - gap * (columns - 1) as f32) / columns as f32;
    let columns = (1..=columns_for(n, area.x / area.y.max(1.0)))
        .rev()
        .find(|&c| width_of(c) >= widest)
        .unwrap_or(1);
    let row_mins: Vec<f32> = mins
        .chunks(columns)
        .map(|row| row.iter().map(|m| m.y).fold(0.0, f32::max))
        .collect();
    let room = area.y - gap * (row_mins.len().saturating_sub(1)) as f32;
    let needed: f32 = row_mins.iter().sum();
    let extra = ((room - needed) / row_mins.len().max(1) as f32).max(0.0);
    // whole points: a grid that fits never shows a scroll bar for a rounding error
    let heights = row_mins.iter().map(|h| (h + extra).floor()).collect();
    (columns, width_of(columns).max(widest).floor(), heights)
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
    /// The view of type `V` (for tests: what the pointer reads, what is selected).
    pub fn get<V: View>(&self) -> &V {
        self.views
            .iter()
            .find_map(|view| (view.as_ref() as &dyn Any).downcast_ref::<V>())
            .expect("every view type is registered")
    }

    pub fn get_mut<V: View>(&mut self) -> &mut V {
        self.views
            .iter_mut()
            .find_map(|view| (view.as_mut() as &mut dyn Any).downcast_mut::<V>())
            .expect("every view type is registered")
    }

    /// Scrolls the view `id` to the top of the views' area in the next frame.
    pub fn reveal(&mut self, id: &str) {
        self.reveal = self.views.iter().map(|v| v.id()).find(|v| *v == id);
    }

    /// The curve options (persisted with the preferences).
    pub fn curves(&self) -> &CurvesPanel {
        &self.get::<CurvesView>().options
    }

    pub fn set_curves(&mut self, options: CurvesPanel) {
        self.get_mut::<CurvesView>().options = options;
    }

    /// The views that are on (ids in `shown`), tiled over the rest of `ui` (or the one whose
    /// title was double-clicked, alone). Returns what the views asked for.
    pub fn ui(&mut self, ui: &mut Ui, shown: &[String], inputs: ViewInputs<'_>) -> Vec<ViewAction> {
        let ViewInputs {
            run,
            snapshot,
            pins,
            recording,
            hidden,
        } = inputs;
        let info = run.info.as_ref();
        let mut visible: Vec<usize> = (0..self.views.len())
            .filter(|&i| {
                let view = &self.views[i];
                shown.iter().any(|id| id.eq_ignore_ascii_case(view.id()))
                    && info.is_none_or(|info| view.unavailable(info).is_none())
            })
            .collect();
        // a view whose title was double-clicked fills the area while it is shown
        match visible
            .iter()
            .find(|&&i| Some(self.views[i].id()) == self.maximized)
        {
            Some(&only) => visible = vec![only],
            None => self.maximized = None,
        }
        let area = ui.available_rect_before_wrap();
        ui.allocate_rect(area, egui::Sense::hover());
        let mut actions = Vec::new();
        if visible.is_empty() {
            ui.put(area, egui::Label::new("Switch a view on above."));
            return actions;
        }
        let gap = 8.0;
        let mins: Vec<Vec2> = visible.iter().map(|&i| self.views[i].min_size()).collect();
        let (columns, width, heights) = grid(&mins, area.size(), gap);
        let tops: Vec<f32> = heights
            .iter()
            .scan(0.0, |top, h| {
                let this = *top;
                *top += h + gap;
                Some(this)
            })
            .collect();
        let content = Vec2::new(
            (width + gap) * columns as f32 - gap,
            heights.iter().sum::<f32>() + gap * (heights.len().saturating_sub(1)) as f32,
        );
        let mut ctx = ViewContext {
            run,
            snapshot,
            images: &mut self.images,
            step: &mut self.step,
            actions: &mut actions,
            pins,
            recording,
            hidden,
        };
        self.tiles.clear();
        self.viewport = area;
        let mut restart = None;
        let mut fill = None;
        let mut tiles_ui = ui.new_child(UiBuilder::new().max_rect(area));
        egui::ScrollArea::both()
            .id_salt("views")
            .auto_shrink([false; 2])
            .show(&mut tiles_ui, |ui| {
                let (grid_rect, _) = ui.allocate_exact_size(content, egui::Sense::hover());
                for (k, &index) in visible.iter().enumerate() {
                    let (row, column) = (k / columns, k % columns);
                    let rect = Rect::from_min_size(
                        grid_rect.min + Vec2::new((width + gap) * column as f32, tops[row]),
                        Vec2::new(width, heights[row]),
                    );
                    let view = &mut self.views[index];
                    self.tiles.push((view.id(), rect));
                    let mut tile = ui.new_child(UiBuilder::new().max_rect(rect).id_salt(view.id()));
                    tile.set_clip_rect(rect.intersect(ui.clip_rect()));
                    let failed = self.failed.iter().find(|(id, _)| *id == view.id());
                    let crash = self.crash_requested == Some(view.id());
                    let mut outcome = Ok(());
                    egui::Frame::group(tile.style())
                        .inner_margin(6.0)
                        .show(&mut tile, |ui| {
                            ui.set_min_size(ui.available_size());
                            ui.set_max_width(ui.available_width());
                            let alone = self.maximized == Some(view.id());
                            let title =
                                egui::Label::new(RichText::new(view.title()).strong().size(15.0))
                                    .sense(egui::Sense::click());
                            let title = ui.add(title).on_hover_text(if alone {
                                "Double-click: back to every view"
                            } else {
                                "Double-click: this view fills the area"
                            });
                            if title.double_clicked() {
                                fill = Some((!alone).then_some(view.id()));
                            }
                            if let Some((_, message)) = failed {
                                if stopped_ui(ui, message) {
                                    restart = Some(index);
                                }
                                return;
                            }
                            // a panic stops this view, not the app
                            outcome = contain(|| {
                                assert!(!crash, "a crash requested in {}", view.id());
                                view.ui(ui, &mut ctx);
                            });
                        });
                    if let Err(message) = outcome {
                        eprintln!("the {} view stopped: {message}", view.id());
                        self.crash_requested = None;
                        self.failed.push((view.id(), message));
                    }
                    // after the view: a scroll area inside it would take the request
                    if self.reveal == Some(view.id()) {
                        ui.scroll_to_rect(rect, Some(egui::Align::TOP));
                        self.reveal = None;
                    }
                }
            });
        if let Some(maximized) = fill {
            self.maximized = maximized;
        }
        if let Some(index) = restart {
            let id = self.views[index].id();
            self.failed.retain(|(failed, _)| *failed != id);
            self.views[index] = registry().swap_remove(index);
        }
        actions
    }

    /// Makes the view `id` panic in its next frame, as `Command::Crash` does the trainer: for
    /// the tests that check a fault stays in its view.
    pub fn request_crash(&mut self, id: &str) {
        self.crash_requested = self.views.iter().map(|v| v.id()).find(|v| *v == id);
    }

    /// The views that stopped on a panic, with its message.
    pub fn stopped(&self) -> &[(&'static str, String)] {
        &self.failed
    }

    /// One toggle per view; a view this run cannot show is greyed and says why.
    pub fn toggles_ui(&mut self, ui: &mut Ui, shown: &mut Vec<String>, info: Option<&RunInfo>) {
        let mut reveal = None;
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new("Views").strong());
            for view in &self.views {
                let on = shown.iter().any(|id| id.eq_ignore_ascii_case(view.id()));
                let reason = info.and_then(|i| view.unavailable(i));
                let title = if reason.is_some() {
                    RichText::new(view.title()).weak()
                } else {
                    RichText::new(view.title())
                };
                let mut toggle = ui.selectable_label(on && reason.is_none(), title);
                toggle = match reason {
                    Some(reason) => toggle.on_hover_text(format!(
                        "{} ({reason}; hidden for this run)",
                        view.tooltip()
                    )),
                    None => toggle.on_hover_text(view.tooltip()),
                };
                if toggle.clicked() {
                    if on {
                        shown.retain(|id| !id.eq_ignore_ascii_case(view.id()));
                    } else {
                        shown.push(view.id().to_string());
                        reveal = Some(view.id());
                    }
                }
            }
        });
        if reveal.is_some() {
            self.reveal = reveal;
        }
    }
}

/// The tile of a view that panicked: what happened and a way to start it afresh. True when
/// Restart is pressed.
fn stopped_ui(ui: &mut Ui, message: &str) -> bool {
    ui.colored_label(
        ui.visuals().warn_fg_color,
        "This view stopped on an internal error; the rest of the app goes on.",
    );
    ui.label(RichText::new(message).monospace().small());
    ui.button("Restart the view")
        .on_hover_text("Start this view afresh (its own settings go back to their defaults)")
        .clicked()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_keep_their_minimum_size_in_fewer_columns_and_fill_the_area_when_they_fit() {
        let small = Vec2::new(260.0, 190.0);
        // roomy: three columns filling the area exactly (to the point)
        let (columns, width, heights) = grid(&[small; 6], Vec2::new(1500.0, 800.0), 8.0);
        assert_eq!(columns, 3);
        assert!(3.0 * width + 16.0 <= 1500.0 && 3.0 * width + 16.0 > 1497.0);
        assert_eq!(heights.len(), 2);
        assert!(heights[0] == heights[1] && heights[0] >= small.y);
        assert!(2.0 * heights[0] + 8.0 <= 800.0 && 2.0 * heights[0] + 8.0 > 798.0);
        // a 1024x700 window's central area: fewer columns, taller than the area (it scrolls)
        let (columns, width, heights) = grid(&[small; 8], Vec2::new(700.0, 560.0), 8.0);
        assert_eq!(columns, 2);
        assert_eq!(heights, [small.y; 4]);
        assert!(width >= small.x);
        // narrower than one tile: one column of minimum-width tiles
        let (columns, width, _) = grid(&[small; 3], Vec2::new(200.0, 400.0), 8.0);
        assert_eq!((columns, width), (1, small.x));
        // a tall view makes its own row taller, not the others
        let tall = Vec2::new(260.0, 300.0);
        let (columns, _, heights) = grid(
            &[small, small, tall, small, small, small],
            Vec2::new(900.0, 498.0),
            8.0,
        );
        assert_eq!(columns, 3);
        assert_eq!(heights, [300.0, 190.0]);
    }
}
