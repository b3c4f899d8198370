//! The loss and accuracy curves: raw training loss faint behind its smoothed line, test loss
//! and accuracy from the periodic evaluations, and a labelled marker at every setting change.
//!
//! The legend is a row of names above each plot, so it never covers data. Marker labels are
//! laid out on screen by a pure function ([`stack_labels`]): labels that would overlap go to
//! different rows, and those beyond the rows that fit show when their line is hovered. In a tile
//! too short for both plots at a readable height, the plots scroll.

use std::ops::RangeInclusive;

use egui::{Color32, Id, Rangef, Rect, RichText, Stroke, TextStyle, Ui, Vec2, Vec2b};
use egui_plot::{
    AxisHints, GridMark, HoverPosition, Line, LineStyle, Plot, PlotPoint, PlotPoints, PlotResponse,
    PlotUi, Points, VLine, uniform_grid_spacer,
};
use serde::{Deserialize, Serialize};

use super::palette;
use super::pins::Pins;
use super::run_view::{Marker, RunView};
use super::series::Point;

/// Points drawn per line at most (a plot is not wider than this in pixels).
const MAX_DRAWN: usize = 1600;

/// A plot's least height, axes included: below it, the two plots scroll instead of shrinking.
const MIN_PLOT_HEIGHT: f32 = 90.0;
/// A plot's least width.
const MIN_PLOT_WIDTH: f32 = 64.0;
/// Below this height a plot leaves its axis titles out (the legend names the curves, the x
/// axis choice sits above); the tick labels stay.
const COMPACT_PLOT_HEIGHT: f32 = 150.0;
/// The accuracy plot's share of the height both plots get.
const ACCURACY_SHARE: f32 = 0.35;

/// Least distance on screen between two labelled ticks of the x axis (its labels are wide)...
const X_LABEL_PX: f64 = 50.0;
/// ...and of the y axis (its labels are one line high).
const Y_LABEL_PX: f64 = 24.0;
/// Grid lines closer than this on screen are not drawn (egui_plot's default, set explicitly:
/// the grid spacers read the scale back from `GridInput::base_step_size`, this many points).
const GRID_MIN_PX: f32 = 8.0;
/// Grid lines this far apart are drawn at full strength.
const GRID_FULL_PX: f32 = 300.0;
/// The widest x tick label `tick_label` makes at the scales a run reaches (epochs with two
/// decimals): the plot leaves half of it free on its right, so the last label is not clipped.
const WIDEST_X_LABEL: &str = "88.88";

/// Best test accuracy beyond which the accuracy axis zooms to the data, unless the user chose.
const AUTO_ZOOM_ACCURACY: f64 = 0.9;
/// The margin around the accuracy points when zoomed: a share of their spread...
const ZOOM_MARGIN_SHARE: f64 = 0.1;
/// ...and at least half a percentage point.
const ZOOM_MARGIN_MIN: f64 = 0.005;

/// Space between a marker's line and its label, and between two labels in a row.
const LABEL_GAP: f32 = 4.0;
/// Space between two rows of marker labels.
const LABEL_ROW_GAP: f32 = 1.0;
/// Space between the plot's edge and the first row of marker labels.
const LABEL_EDGE_PAD: f32 = 2.0;
/// The share of a plot's height that marker labels may cover.
const LABEL_SHARE: f32 = 0.5;
/// The pinned runs' training curves are dashed, their test curves dotted.
const PIN_TRAIN_STYLE: LineStyle = LineStyle::Dashed { length: 8.0 };
const PIN_TEST_STYLE: LineStyle = LineStyle::Dotted { spacing: 6.0 };
/// How near its line the pointer must be to show a label that found no row.
const HOVER_PX: f32 = 6.0;

/// What the x axis counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum XAxis {
    #[default]
    Steps,
    Epochs,
}

/// The curve options a user sets (persisted between launches).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvesPanel {
    /// TensorBoard-style smoothing weight, 0 (raw) to 0.99.
    pub smoothing: f64,
    pub log_scale: bool,
    pub x_axis: XAxis,
    /// The accuracy axis fitted to the data instead of 0-100%, as the user set it; `None`
    /// until they do, and then it zooms once the best accuracy passes 90%.
    #[serde(default)]
    pub accuracy_zoom: Option<bool>,
}

impl Default for CurvesPanel {
    fn default() -> Self {
        Self {
            smoothing: 0.6,
            log_scale: false,
            x_axis: XAxis::Steps,
            accuracy_zoom: None,
        }
    }
}

/// How tall a plot is: what the `Ui` has left once `reserve` points are kept for what comes
/// below it, or a fixed height in a scroll area.
#[derive(Clone, Copy, Debug)]
enum PlotHeight {
    Fill { reserve: f32 },
    Scrolled(f32),
}

impl PlotHeight {
    fn resolve(self, ui: &Ui) -> f32 {
        match self {
            PlotHeight::Fill { reserve } => (ui.available_height() - reserve).max(MIN_PLOT_HEIGHT),
            PlotHeight::Scrolled(height) => height,
        }
    }
}

/// A curve's entry in the legend row: its name, the colour of the name, and the stroke it is
/// drawn with (the name is underlined with it).
struct LegendEntry {
    name: &'static str,
    color: Color32,
    stroke: Stroke,
}

/// Which edge of the plot the marker labels hang from: the loss falls, so its labels go at the
/// top; the accuracy rises, so its labels go at the bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LabelEdge {
    Top,
    Bottom,
}

impl CurvesPanel {
    fn x(&self, p: &Point) -> f64 {
        match self.x_axis {
            XAxis::Steps => p.step,
            XAxis::Epochs => p.epochs,
        }
    }

    /// log10 of the loss on a log scale (the axis labels show the loss itself).
    fn y(&self, value: f64) -> f64 {
        if self.log_scale {
            value.max(1e-12).log10()
        } else {
            value
        }
    }

    /// Where a marker's line stands on the x axis.
    fn marker_x(&self, marker: &Marker) -> f64 {
        match self.x_axis {
            XAxis::Steps => marker.step as f64,
            XAxis::Epochs => marker.epochs,
        }
    }

    /// The points of a line, at most about MAX_DRAWN of them: beyond that, each bucket of
    /// neighbours keeps its lowest and its highest point (in order), so spikes stay visible.
    pub fn line_points(&self, points: &[Point]) -> PlotPoints<'static> {
        let xy = |p: &Point| [self.x(p), self.y(p.value)];
        if points.len() <= MAX_DRAWN {
            return points.iter().map(xy).collect();
        }
        let bucket = points.len().div_ceil(MAX_DRAWN / 2);
        points
            .chunks(bucket)
            .flat_map(|chunk| {
                let by_value = |a: &&Point, b: &&Point| a.value.total_cmp(&b.value);
                let low = chunk.iter().min_by(by_value).unwrap_or(&chunk[0]);
                let high = chunk.iter().max_by(by_value).unwrap_or(&chunk[0]);
                if low.step <= high.step {
                    [low, high]
                } else {
                    [high, low]
                }
            })
            .map(xy)
            .collect()
    }

    pub fn ui(&mut self, ui: &mut Ui, run: &RunView, pins: &Pins) {
        let best_accuracy = run
            .test_accuracy
            .points()
            .iter()
            .map(|p| p.value)
            .reduce(f64::max);
        let mut zoomed = accuracy_zoomed(self.accuracy_zoom, best_accuracy);
        ui.horizontal_wrapped(|ui| {
            ui.label("Smoothing");
            ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.99))
                .on_hover_text("Exponential moving average of the training loss, as TensorBoard draws it: s = w * s + (1 - w) * loss");
            ui.checkbox(&mut self.log_scale, "Log scale")
                .on_hover_text("Loss axis in powers of ten: small losses stay visible");
            if ui
                .checkbox(&mut zoomed, "Zoom accuracy")
                .on_hover_text(
                    "Accuracy axis fitted to the points shown, with a small margin, instead of \
                     0-100%. On by itself once the accuracy passes 90%, until you set it",
                )
                .changed()
            {
                self.accuracy_zoom = Some(zoomed);
            }
            ui.label("x axis:");
            ui.selectable_value(&mut self.x_axis, XAxis::Steps, "steps")
                .on_hover_text("One step is one mini-batch and one update");
            ui.selectable_value(&mut self.x_axis, XAxis::Epochs, "epochs")
                .on_hover_text("One epoch is one pass over the training split");
        });
        // ids of the tile's Ui, so that a plot keeps its memory whether it scrolls or not
        let loss_id = ui.scope_id().with("loss plot");
        let accuracy_id = ui.scope_id().with("accuracy plot");
        let spacing = ui.spacing().item_spacing.y;
        let legend_height = ui
            .spacing()
            .interact_size
            .y
            .max(ui.text_style_height(&TextStyle::Body))
            + spacing;
        // what both plots get below their legends, with the space between them
        let plots_height = ui.available_height() - 2.0 * legend_height - spacing;
        if plots_height >= 2.0 * MIN_PLOT_HEIGHT {
            let accuracy_height = (plots_height * ACCURACY_SHARE).max(MIN_PLOT_HEIGHT);
            // the loss plot keeps room below it for the accuracy plot, which takes the rest
            let loss_height = PlotHeight::Fill {
                reserve: spacing + legend_height + accuracy_height,
            };
            let rest = PlotHeight::Fill { reserve: 0.0 };
            self.loss_ui(ui, run, pins, loss_id, loss_height);
            self.accuracy_ui(ui, run, pins, accuracy_id, rest, zoomed);
        } else {
            // too short for both at a readable height: they scroll rather than shrink
            egui::ScrollArea::vertical()
                .id_salt("curves")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    let height = PlotHeight::Scrolled(MIN_PLOT_HEIGHT);
                    self.loss_ui(ui, run, pins, loss_id, height);
                    self.accuracy_ui(ui, run, pins, accuracy_id, height, zoomed);
                });
        }
    }

    fn x_label(&self) -> &'static str {
        match self.x_axis {
            XAxis::Steps => "step",
            XAxis::Epochs => "epoch",
        }
    }

    /// A plot with the axes both curves share: grid steps of 1, 2 or 5 times a power of ten
    /// spaced so that small plots keep their labels ([`grid_steps`]), the x axis in short
    /// numbers, room on the right for the last x label, and no axis titles in a short plot.
    /// In a scroll area the mouse wheel scrolls rather than pans.
    fn plot<'a>(
        &self,
        ui: &Ui,
        id: Id,
        height: PlotHeight,
        y_title: &'static str,
        y_format: impl Fn(GridMark, &RangeInclusive<f64>) -> String + 'a,
    ) -> Plot<'a> {
        let scrolled = matches!(height, PlotHeight::Scrolled(_));
        let height = height.resolve(ui);
        // labels fade in from a point closer than the grid spacers ever put them, so they
        // are either drawn in full or not at all
        let label_spacing = |px: f64| Rangef::new(px as f32 - 1.0, px as f32);
        let mut x_axis = AxisHints::new_x()
            .formatter(|mark, _| tick_label(mark.value, mark.step_size))
            .label_spacing(label_spacing(X_LABEL_PX));
        let mut y_axis = AxisHints::new_y()
            .formatter(y_format)
            .label_spacing(label_spacing(Y_LABEL_PX));
        if height >= COMPACT_PLOT_HEIGHT {
            x_axis = x_axis.label(self.x_label());
            y_axis = y_axis.label(y_title);
        }
        let width = (ui.available_width() - x_label_overhang(ui)).max(MIN_PLOT_WIDTH);
        let grid_px = f64::from(GRID_MIN_PX);
        Plot::new(id)
            .id(id)
            .width(width)
            .height(height)
            .allow_scroll(!scrolled)
            .grid_spacing(Rangef::new(GRID_MIN_PX, GRID_FULL_PX))
            .x_grid_spacer(uniform_grid_spacer(move |input| {
                grid_steps(input.base_step_size / grid_px, X_LABEL_PX)
            }))
            .y_grid_spacer(uniform_grid_spacer(move |input| {
                grid_steps(input.base_step_size / grid_px, Y_LABEL_PX)
            }))
            .custom_x_axes(vec![x_axis])
            .custom_y_axes(vec![y_axis])
    }

    fn loss_ui(&self, ui: &mut Ui, run: &RunView, pins: &Pins, id: Id, height: PlotHeight) {
        let em = palette::emphasis(ui.ctx());
        let mut entries = Vec::new();
        if self.smoothing > 0.0 {
            entries.push(LegendEntry {
                name: "train loss (raw)",
                color: palette::TRAIN,
                stroke: Stroke::new(1.0, palette::faint(palette::TRAIN)),
            });
        }
        entries.push(LegendEntry {
            name: "train loss",
            color: palette::TRAIN,
            stroke: Stroke::new(2.0, palette::TRAIN),
        });
        entries.push(LegendEntry {
            name: "test loss",
            color: palette::TEST,
            stroke: Stroke::new(2.0, palette::TEST),
        });
        let hidden = legend_ui(ui, id, &entries);
        let shown = |name: &str| !hidden.contains(&name);

        let log_scale = self.log_scale;
        let x_label = self.x_label();
        let y_title = if log_scale { "loss (log)" } else { "loss" };
        let plot = self
            .plot(ui, id, height, y_title, move |mark, _| {
                if log_scale {
                    format_value(10f64.powf(mark.value))
                } else {
                    tick_label(mark.value, mark.step_size)
                }
            })
            .label_formatter(move |hover| {
                let (name, position) = hover_parts(hover);
                let value = if log_scale {
                    10f64.powf(position.y)
                } else {
                    position.y
                };
                Some(format!(
                    "{name}\n{x_label} {:.2}\nloss {}",
                    position.x,
                    format_value(value)
                ))
            });
        let raw = run.train_loss.points();
        let smoothed = run.train_loss.smoothed(self.smoothing);
        let test = run.test_loss.points();
        let response = plot.show(ui, |plot_ui| {
            if self.smoothing > 0.0 && shown("train loss (raw)") {
                plot_ui.line(
                    line("train loss (raw)", self.line_points(raw))
                        .color(palette::faint(palette::TRAIN)),
                );
            }
            if shown("train loss") {
                plot_ui.line(
                    line("train loss", self.line_points(&smoothed))
                        .color(palette::TRAIN)
                        .width(2.0 * em),
                );
            }
            if shown("test loss") {
                plot_ui.line(
                    line("test loss", self.line_points(test))
                        .color(palette::TEST)
                        .width(2.0 * em),
                );
                plot_ui.points(
                    Points::new("test loss", self.line_points(test))
                        .color(palette::TEST)
                        .radius(2.5 * em),
                );
            }
            for pin in pins.pins().iter().filter(|p| p.visible) {
                plot_ui.line(
                    line(
                        pin.label.clone(),
                        self.line_points(&pin.train_loss.smoothed(self.smoothing)),
                    )
                    .color(pin.color)
                    .style(PIN_TRAIN_STYLE)
                    .width(1.5 * em),
                );
                plot_ui.line(
                    line(pin.label.clone(), self.line_points(pin.test_loss.points()))
                        .color(pin.color)
                        .style(PIN_TEST_STYLE)
                        .width(1.5 * em),
                );
            }
            self.marker_lines(plot_ui, run, pins);
        });
        self.marker_labels_ui(ui, &response, run, LabelEdge::Top);
    }

    fn accuracy_ui(
        &self,
        ui: &mut Ui,
        run: &RunView,
        pins: &Pins,
        id: Id,
        height: PlotHeight,
        zoomed: bool,
    ) {
        let em = palette::emphasis(ui.ctx());
        let hidden = legend_ui(
            ui,
            id,
            &[
                LegendEntry {
                    name: "train accuracy",
                    color: palette::TRAIN,
                    stroke: Stroke::new(1.5, palette::TRAIN),
                },
                LegendEntry {
                    name: "test accuracy",
                    color: palette::TEST,
                    stroke: Stroke::new(2.0, palette::TEST),
                },
            ],
        );
        // Zoomed, this plot sets its y bounds every frame; when the zoom is switched off it
        // hands them back to egui_plot's automatic bounds (0-100%) once.
        let zoom_key = id.with("zoomed");
        let was_zoomed = ui
            .data(|data| data.get_temp::<bool>(zoom_key))
            .unwrap_or(false);
        ui.data_mut(|data| data.insert_temp(zoom_key, zoomed));

        let scrolled = matches!(height, PlotHeight::Scrolled(_));
        let x_label = self.x_label();
        let mut plot = self
            .plot(ui, id, height, "accuracy", |mark, _| {
                percent_label(mark.value, mark.step_size)
            })
            .label_formatter(move |hover| {
                let (name, position) = hover_parts(hover);
                Some(format!(
                    "{name}\n{x_label} {:.2}\naccuracy {:.2}%",
                    position.x,
                    100.0 * position.y
                ))
            });
        if zoomed {
            // the y axis follows the data: dragging and zooming move along x only
            plot = plot
                .allow_drag(Vec2b::new(true, false))
                .allow_zoom(Vec2b::new(true, false))
                .allow_axis_zoom_drag(Vec2b::new(true, false))
                .allow_scroll(Vec2b::new(!scrolled, false));
        } else {
            plot = plot.include_y(0.0).include_y(1.0);
        }
        let points: Vec<[f64; 2]> = run
            .test_accuracy
            .points()
            .iter()
            .map(|p| [self.x(p), p.value])
            .collect();
        // each batch's accuracy, smoothed as the training loss is
        let train: Vec<[f64; 2]> = run
            .train_accuracy
            .smoothed(self.smoothing)
            .iter()
            .map(|p| [self.x(p), p.value])
            .collect();
        let show_train = !hidden.contains(&"train accuracy");
        // the zoom holds what is drawn
        let zoom_points: Vec<[f64; 2]> = points
            .iter()
            .chain(train.iter().filter(|_| show_train))
            .copied()
            .collect();
        let response = plot.show(ui, |plot_ui| {
            if zoomed {
                // the points shown: all of them unless the user panned or zoomed along x
                let auto_x = plot_ui.auto_bounds().x;
                let visible_x = (!auto_x).then(|| plot_ui.plot_bounds().range_x());
                let visible = zoom_points
                    .iter()
                    .filter(|p| visible_x.as_ref().is_none_or(|x| x.contains(&p[0])))
                    .map(|p| p[1]);
                let range = accuracy_range(visible)
                    .or_else(|| accuracy_range(zoom_points.iter().map(|p| p[1])))
                    .unwrap_or(0.0..=1.0);
                plot_ui.set_plot_bounds_y(range);
            } else if was_zoomed {
                let auto_x = plot_ui.auto_bounds().x;
                plot_ui.set_auto_bounds(Vec2b::new(auto_x, true));
            }
            if show_train {
                plot_ui.line(
                    line("train accuracy", PlotPoints::from(train.clone()))
                        .color(palette::TRAIN)
                        .width(1.5 * em),
                );
            }
            if !hidden.contains(&"test accuracy") {
                plot_ui.line(
                    line("test accuracy", PlotPoints::from(points.clone()))
                        .color(palette::TEST)
                        .width(2.0 * em),
                );
            }
            for pin in pins.pins().iter().filter(|p| p.visible) {
                let points = |series: &[Point]| -> Vec<[f64; 2]> {
                    series.iter().map(|p| [self.x(p), p.value]).collect()
                };
                plot_ui.line(
                    line(
                        pin.label.clone(),
                        PlotPoints::from(points(&pin.train_accuracy.smoothed(self.smoothing))),
                    )
                    .color(pin.color)
                    .style(PIN_TRAIN_STYLE)
                    .width(1.5 * em),
                );
                plot_ui.line(
                    line(
                        pin.label.clone(),
                        PlotPoints::from(points(pin.test_accuracy.points())),
                    )
                    .color(pin.color)
                    .style(PIN_TEST_STYLE)
                    .width(1.5 * em),
                );
            }
            self.marker_lines(plot_ui, run, pins);
        });
        self.marker_labels_ui(ui, &response, run, LabelEdge::Bottom);
    }

    /// A vertical line at every setting change (the labels are painted over the plot after it,
    /// in screen space: [`Self::marker_labels_ui`]).
    /// The pins' markers are thin lines in their colours, and the step the timeline shows is
    /// a cursor.
    fn marker_lines(&self, plot_ui: &mut PlotUi<'_>, run: &RunView, pins: &Pins) {
        let em = palette::emphasis(plot_ui.ctx());
        for marker in &run.markers {
            // unnamed, so that the hover label names no curve for it
            plot_ui.vline(
                VLine::new("", self.marker_x(marker))
                    .color(palette::MARKER)
                    .width(1.5 * em),
            );
        }
        for pin in pins.pins().iter().filter(|p| p.visible) {
            for marker in &pin.markers {
                plot_ui.vline(
                    VLine::new("", self.marker_x(marker))
                        .color(pin.color.gamma_multiply(0.6))
                        .style(PIN_TEST_STYLE)
                        .width(1.0 * em),
                );
            }
        }
        if let Some(viewing) = run.viewing {
            let x = match self.x_axis {
                XAxis::Steps => viewing.shown as f64,
                XAxis::Epochs => viewing.epochs,
            };
            plot_ui.vline(
                VLine::new(format!("viewing step {}", viewing.shown), x)
                    .color(plot_ui.ctx().global_style().visuals.strong_text_color())
                    .width(2.0 * em),
            );
        }
    }

    /// The labels of the markers whose lines are in view, stacked in rows from `edge` so that
    /// none covers another ([`stack_labels`]); a label that found no row shows while the pointer
    /// is on its line.
    fn marker_labels_ui(&self, ui: &Ui, plot: &PlotResponse<()>, run: &RunView, edge: LabelEdge) {
        let frame = *plot.transform.frame();
        let painter = ui.painter_at(frame);
        let font = TextStyle::Body.resolve(ui.style());
        let mut lines_x = Vec::new();
        let mut galleys = Vec::new();
        for marker in &run.markers {
            let x = plot.transform.position_from_point_x(self.marker_x(marker));
            if frame.x_range().contains(x) {
                lines_x.push(x);
                galleys.push(painter.layout_no_wrap(
                    marker.label.clone(),
                    font.clone(),
                    palette::MARKER,
                ));
            }
        }
        let sizes: Vec<Vec2> = galleys.iter().map(|galley| galley.size()).collect();
        let placed = stack_labels(&lines_x, &sizes, frame, edge);
        let pointer_x = plot.response.hover_pos().map(|pointer| pointer.x);
        for ((galley, label), x) in galleys.into_iter().zip(placed).zip(lines_x) {
            let rect = match label {
                Some(rect) => rect,
                None if pointer_x.is_some_and(|pointer| (pointer - x).abs() <= HOVER_PX) => {
                    let size = galley.size();
                    let rect = Rect::from_x_y_ranges(
                        label_span(x, size.x, frame),
                        row_span(0, size.y, frame, edge),
                    );
                    painter.rect_filled(rect.expand(2.0), 2.0, ui.visuals().extreme_bg_color);
                    rect
                }
                None => continue,
            };
            painter.galley(rect.min, galley, palette::MARKER);
        }
    }
}

/// The legend of a plot as a row of names above it, where it never covers data: each name in
/// its curve's colour and underlined with the curve's stroke. A click hides or shows the curve
/// (remembered in egui's memory under `id`). Returns the names hidden.
fn legend_ui(ui: &mut Ui, id: Id, entries: &[LegendEntry]) -> Vec<&'static str> {
    let key = id.with("hidden curves");
    let mut hidden: Vec<&'static str> = ui.data(|data| data.get_temp(key)).unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        for entry in entries {
            let is_hidden = hidden.contains(&entry.name);
            let text = if is_hidden {
                RichText::new(entry.name).weak().strikethrough()
            } else {
                RichText::new(entry.name).color(entry.color)
            };
            let response = ui
                .add(egui::Label::new(text).extend().sense(egui::Sense::click()))
                .on_hover_text("Click to hide or show this curve");
            if !is_hidden {
                ui.painter().hline(
                    response.rect.x_range(),
                    response.rect.bottom(),
                    entry.stroke,
                );
            }
            if response.clicked() {
                if is_hidden {
                    hidden.retain(|name| *name != entry.name);
                } else {
                    hidden.push(entry.name);
                }
            }
        }
    });
    ui.data_mut(|data| data.insert_temp(key, hidden.clone()));
    hidden
}

/// How far the last x tick label may reach past the plot's right edge: half the widest label
/// (egui_plot centres tick labels on their ticks, in the axis font).
fn x_label_overhang(ui: &Ui) -> f32 {
    let font = TextStyle::Body.resolve(ui.style());
    let color = ui.visuals().text_color();
    let galley = ui
        .painter()
        .layout_no_wrap(WIDEST_X_LABEL.to_owned(), font, color);
    galley.size().x / 2.0 + 1.0
}

/// Whether the accuracy axis is zoomed to the data: as the user set it, or else once the best
/// test accuracy passes 90% (where 0-100% flattens what is left to see).
fn accuracy_zoomed(choice: Option<bool>, best_accuracy: Option<f64>) -> bool {
    choice.unwrap_or_else(|| best_accuracy.is_some_and(|best| best > AUTO_ZOOM_ACCURACY))
}

/// The accuracy axis zoomed to `values` (fractions): all of them inside, with a margin of a
/// tenth of their spread and at least half a percentage point, clamped to [0, 1]. `None` when
/// no value is a number.
fn accuracy_range(values: impl IntoIterator<Item = f64>) -> Option<RangeInclusive<f64>> {
    let widen = |range: Option<(f64, f64)>, value: f64| match range {
        None => Some((value, value)),
        Some((low, high)) => Some((low.min(value), high.max(value))),
    };
    let (low, high) = values
        .into_iter()
        .filter(|value| value.is_finite())
        .fold(None, widen)?;
    let margin = ((high - low) * ZOOM_MARGIN_SHARE).max(ZOOM_MARGIN_MIN);
    Some((low - margin).max(0.0)..=(high + margin).min(1.0))
}

/// The grid's three step sizes (fine, labelled, coarse) on an axis showing `value_per_px`
/// units per point. The labelled step is the smallest 1, 2 or 5 times a power of ten that puts
/// labels at least `label_px` apart, so a small plot keeps two or three labels (egui_plot's
/// powers of ten alone may leave one, or none: 0.3 to 0.7 in 60 points has its tenths 15
/// points apart and no whole number). The fine step divides it, the coarse one is ten of it.
/// Infinite steps (no grid) when the scale is not a positive number.
fn grid_steps(value_per_px: f64, label_px: f64) -> [f64; 3] {
    const NO_GRID: [f64; 3] = [f64::INFINITY; 3];
    let least = value_per_px * label_px;
    if !(least.is_finite() && least > 0.0) {
        return NO_GRID;
    }
    let power = 10f64.powi(least.log10().floor() as i32);
    let (mantissa, labelled) = [1u32, 2, 5, 10]
        .into_iter()
        .map(|mantissa| (mantissa, f64::from(mantissa) * power))
        .find(|&(_, step)| step >= least)
        .unwrap_or((10, 10.0 * power));
    let fine = if mantissa == 2 {
        labelled / 2.0
    } else {
        labelled / 5.0
    };
    if fine > 0.0 && labelled.is_finite() {
        [fine, labelled, 10.0 * labelled]
    } else {
        NO_GRID
    }
}

/// A label's extent along x: right of its line, or left of it where it would run past the
/// plot's right edge (where the newest change usually is), never left of the plot.
fn label_span(line_x: f32, width: f32, frame: Rect) -> Rangef {
    let right_of_line = line_x + LABEL_GAP;
    let min = if right_of_line + width <= frame.right() {
        right_of_line
    } else {
        (line_x - LABEL_GAP - width).max(frame.left())
    };
    Rangef::new(min, min + width)
}

/// The extent along y of a row of labels `height` high, counted from the edge they hang from.
fn row_span(row: usize, height: f32, frame: Rect, edge: LabelEdge) -> Rangef {
    let offset = LABEL_EDGE_PAD + row as f32 * (height + LABEL_ROW_GAP);
    match edge {
        LabelEdge::Top => Rangef::new(frame.top() + offset, frame.top() + offset + height),
        LabelEdge::Bottom => Rangef::new(frame.bottom() - offset - height, frame.bottom() - offset),
    }
}

/// Where the marker labels go on screen: the label of the line at `lines_x[i]`, `sizes[i]`
/// large, gets its rect in the first row from `edge` (rows 0, 1, ... away from it) in which
/// it keeps `LABEL_GAP` from the row's last label. Greedy first fit in the order of the
/// labels' left ends uses as few rows as the most labels over any one point. Rows may take
/// `LABEL_SHARE` of the plot's height, and at least one; a label that finds none is `None`
/// (shown when its line is hovered). No two placed labels touch.
fn stack_labels(
    lines_x: &[f32],
    sizes: &[Vec2],
    frame: Rect,
    edge: LabelEdge,
) -> Vec<Option<Rect>> {
    let height = sizes.iter().map(|size| size.y).fold(0.0, f32::max);
    let pitch = height + LABEL_ROW_GAP;
    let rows_that_fit = ((frame.height() * LABEL_SHARE - LABEL_EDGE_PAD + LABEL_ROW_GAP) / pitch)
        .floor()
        .max(1.0) as usize;
    let spans: Vec<Rangef> = lines_x
        .iter()
        .zip(sizes)
        .map(|(&x, size)| label_span(x, size.x, frame))
        .collect();
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by(|&a, &b| spans[a].min.total_cmp(&spans[b].min));
    // the right end of each row's last label, which is its rightmost
    let mut row_ends: Vec<f32> = Vec::new();
    let mut placed = vec![None; spans.len()];
    for i in order {
        let span = spans[i];
        let row = match row_ends.iter().position(|&end| end + LABEL_GAP <= span.min) {
            Some(row) => row,
            None if row_ends.len() < rows_that_fit => {
                row_ends.push(span.max);
                row_ends.len() - 1
            }
            None => continue,
        };
        row_ends[row] = span.max;
        placed[i] = Some(Rect::from_x_y_ranges(
            span,
            row_span(row, height, frame, edge),
        ));
    }
    placed
}

/// The name of the curve under the pointer (empty elsewhere) and the position.
fn hover_parts<'a>(hover: &HoverPosition<'a>) -> (&'a str, PlotPoint) {
    match *hover {
        HoverPosition::NearDataPoint {
            plot_name,
            position,
            ..
        } => (plot_name, position),
        HoverPosition::Elsewhere { position } => ("", position),
    }
}

/// An axis label short enough to fit a small plot: 950, 12k, 1.5k, 1.2M, 0.25.
pub fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    let trimmed = |text: String| {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    };
    if magnitude >= 1e9 {
        format!("{}G", trimmed(format!("{:.1}", value / 1e9)))
    } else if magnitude >= 1e6 {
        format!("{}M", trimmed(format!("{:.1}", value / 1e6)))
    } else if magnitude >= 1e4 {
        format!("{}k", trimmed(format!("{:.0}", value / 1e3)))
    } else if magnitude >= 1e3 {
        format!("{}k", trimmed(format!("{:.1}", value / 1e3)))
    } else {
        trimmed(format!("{value:.2}"))
    }
}

/// A tick's value with the decimals its grid step needs: 0.3 (not 0.30000000000000004) on a
/// 0.1 grid, 0.05 on a 0.05 grid, 2 on a whole one; large values short (25k).
fn tick_label(value: f64, step: f64) -> String {
    let decimals = |step: f64| {
        if step.is_finite() && step > 0.0 {
            // the small nudge keeps 0.1 one decimal where log10 rounds it below -1
            (-(step.log10() + 1e-9).floor()).clamp(0.0, 6.0) as usize
        } else {
            2
        }
    };
    let magnitude = value.abs();
    if magnitude >= 1e4 {
        // in thousands (millions...) with the decimals the step needs there: 10.5k on a 500
        // grid, not 10k twice
        let (unit, suffix) = if magnitude >= 1e9 {
            (1e9, "G")
        } else if magnitude >= 1e6 {
            (1e6, "M")
        } else {
            (1e3, "k")
        };
        let decimals = decimals(step / unit);
        return format!("{:.decimals$}{suffix}", value / unit);
    }
    let decimals = decimals(step);
    let text = format!("{value:.decimals$}");
    // a rounding error below zero is zero, not -0.0
    if let Some(digits) = text.strip_prefix('-')
        && digits.chars().all(|c| c == '0' || c == '.')
    {
        return digits.to_string();
    }
    text
}

/// An accuracy tick (a fraction) in percent, with the decimals its grid step needs: 93%, 92.5%.
fn percent_label(fraction: f64, step: f64) -> String {
    format!("{}%", tick_label(100.0 * fraction, 100.0 * step))
}

/// A loss in a readable number of digits.
fn format_value(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 {
        "0".into()
    } else if !(1e-3..1e4).contains(&magnitude) {
        format!("{value:.1e}")
    } else if magnitude < 1.0 {
        format!("{value:.4}")
    } else {
        format!("{value:.2}")
    }
}

/// A curve drawn as the polyline through its points. egui_plot would otherwise fill a band
/// wherever several points share a pixel column, and then a dense start (the first quick test
/// evaluations) followed by sparse points (one per epoch) draws as a wedge, not a line.
fn line<'a>(name: impl Into<String>, points: impl Into<PlotPoints<'a>>) -> Line<'a> {
    Line::new(name, points).allow_band(false)
}

#[cfg(test)]
mod tests {
    use egui::{Rect, Vec2, pos2, vec2};

    use super::super::palette;
    use super::super::pins::Pins;
    use super::super::run_view::RunView;
    use super::{
        CurvesPanel, LABEL_EDGE_PAD, LABEL_GAP, LABEL_ROW_GAP, LabelEdge, X_LABEL_PX, Y_LABEL_PX,
        accuracy_range, accuracy_zoomed, grid_steps, percent_label, short_number, stack_labels,
        tick_label,
    };

    /// The polylines drawn in `colour` in the harness's last frame, as their point counts.
    fn polylines(shapes: &[egui::epaint::ClippedShape], colour: egui::Color32) -> Vec<usize> {
        fn collect(shape: &egui::Shape, colour: egui::Color32, found: &mut Vec<usize>) {
            match shape {
                egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| collect(s, colour, found)),
                egui::Shape::Path(path)
                    if path.stroke.color == egui::epaint::ColorMode::Solid(colour) =>
                {
                    found.push(path.points.len())
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        for clipped in shapes {
            collect(&clipped.shape, colour, &mut found);
        }
        found
    }

    #[test]
    fn test_points_quick_at_first_then_one_per_epoch_draw_as_a_line_through_each() {
        // a slow machine: the first evaluations at every step, then one per epoch (a band
        // drawn over the first pixel column's points used to make this a wedge)
        let evaluations = [
            (0, 2.71, 0.07),
            (1, 3.25, 0.11),
            (2, 2.27, 0.25),
            (3, 1.84, 0.37),
            (4, 1.52, 0.48),
            (5, 1.39, 0.60),
            (6, 1.38, 0.57),
            (7, 1.28, 0.58),
            (213, 0.21, 0.94),
            (470, 0.15, 0.95),
            (705, 0.12, 0.96),
            (940, 0.12, 0.97),
            (1175, 0.09, 0.97),
        ];
        let mut run = RunView::default();
        for (step, loss, accuracy) in evaluations {
            let epochs = step as f64 / 235.0;
            run.test_loss.push(step as f64, epochs, loss);
            run.test_accuracy.push(step as f64, epochs, accuracy);
            run.train_loss.push(step as f64, epochs, loss);
        }
        let pins = Pins::default();
        let mut panel = CurvesPanel::default();
        let mut harness = egui_kittest::Harness::builder()
            .with_size(Vec2::new(700.0, 600.0))
            .build_ui(|ui| panel.ui(ui, &run, &pins));
        harness.run();
        // the loss and the accuracy, each one line through all 13 points
        assert_eq!(
            polylines(&harness.output().shapes, palette::TEST),
            [evaluations.len(), evaluations.len()]
        );
    }

    #[test]
    fn axis_labels_are_short() {
        let cases = [
            (0.0, "0"),
            (0.25, "0.25"),
            (1.5, "1.5"),
            (300.0, "300"),
            (950.0, "950"),
            (1500.0, "1.5k"),
            (2000.0, "2k"),
            (12_000.0, "12k"),
            (250_000.0, "250k"),
            (1_200_000.0, "1.2M"),
            (3_000_000_000.0, "3G"),
            (-1500.0, "-1.5k"),
        ];
        for (value, expected) in cases {
            assert_eq!(short_number(value), expected, "{value}");
        }
    }

    #[test]
    fn tick_labels_have_the_decimals_of_their_step() {
        let cases = [
            (0.1 + 0.2, 0.1, "0.3"),
            (0.05, 0.05, "0.05"),
            (0.25, 0.05, "0.25"),
            (2.0, 1.0, "2"),
            (2.5, 0.5, "2.5"),
            (-1e-17, 0.1, "0.0"),
            (25_000.0, 5000.0, "25k"),
            // large steps counts keep their ticks apart too
            (10_500.0, 500.0, "10.5k"),
            (11_000.0, 500.0, "11.0k"),
            (1_500_000.0, 500_000.0, "1.5M"),
        ];
        for (value, step, expected) in cases {
            assert_eq!(
                tick_label(value, step),
                expected,
                "{value} on a {step} grid"
            );
        }
        // zoomed in, the accuracy ticks keep apart: 92.5% is not rounded to 92% or 93%
        assert_eq!(percent_label(0.925, 0.005), "92.5%");
        assert_eq!(percent_label(0.93, 0.01), "93%");
        assert_eq!(percent_label(0.4, 0.2), "40%");
    }

    /// A frame where the plot's data is drawn, `width` by `height` points.
    fn frame(width: f32, height: f32) -> Rect {
        Rect::from_min_size(pos2(40.0, 10.0), vec2(width, height))
    }

    /// Labels `widths` wide and one text line high on lines at `xs`.
    fn stack(xs: &[f32], widths: &[f32], frame: Rect, edge: LabelEdge) -> Vec<Option<Rect>> {
        let sizes: Vec<Vec2> = widths.iter().map(|&width| vec2(width, 16.0)).collect();
        stack_labels(xs, &sizes, frame, edge)
    }

    /// Each placed label's row, counted from the edge the labels hang from.
    fn rows(placed: &[Option<Rect>], frame: Rect, edge: LabelEdge) -> Vec<Option<usize>> {
        let row = |rect: Rect| {
            let from_edge = match edge {
                LabelEdge::Top => rect.min.y - frame.top(),
                LabelEdge::Bottom => frame.bottom() - rect.max.y,
            };
            let row = (from_edge - LABEL_EDGE_PAD) / (rect.height() + LABEL_ROW_GAP);
            assert!((row - row.round()).abs() < 1e-3, "{rect:?} is between rows");
            row.round() as usize
        };
        placed.iter().map(|rect| rect.map(row)).collect()
    }

    fn rows_used(placed: &[Option<Rect>], frame: Rect, edge: LabelEdge) -> usize {
        rows(placed, frame, edge)
            .into_iter()
            .flatten()
            .map(|row| row + 1)
            .max()
            .unwrap_or(0)
    }

    /// The fewest rows any layout of these labels needs: the most of them over one point of
    /// the x axis, each counted with the gap that keeps its right neighbour apart.
    fn fewest_rows(placed: &[Option<Rect>]) -> usize {
        let spans: Vec<(f32, f32)> = placed
            .iter()
            .flatten()
            .map(|rect| (rect.min.x, rect.max.x + LABEL_GAP))
            .collect();
        spans
            .iter()
            .map(|&(point, _)| {
                spans
                    .iter()
                    .filter(|&&(min, end)| min <= point && point < end)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    fn assert_apart_and_inside(placed: &[Option<Rect>], frame: Rect) {
        let rects: Vec<Rect> = placed.iter().flatten().copied().collect();
        for (i, a) in rects.iter().enumerate() {
            assert!(frame.contains_rect(*a), "{a:?} outside {frame:?}");
            for b in &rects[i + 1..] {
                assert!(!a.intersects(*b), "{a:?} and {b:?} touch");
            }
        }
    }

    /// A number in [0, 1) from a fixed sequence (a linear congruential generator).
    fn next(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*seed >> 40) as f32 / (1u64 << 24) as f32
    }

    #[test]
    fn labels_close_together_on_screen_go_to_different_rows() {
        // the report: "Adam" and "cross-entropy" six points apart were drawn as one text
        let frame = frame(600.0, 200.0);
        for edge in [LabelEdge::Top, LabelEdge::Bottom] {
            let placed = stack(&[300.0, 306.0], &[34.0, 92.0], frame, edge);
            assert_eq!(rows(&placed, frame, edge), [Some(0), Some(1)], "{edge:?}");
            assert_apart_and_inside(&placed, frame);
        }
        // rows stack away from the edge the labels hang from
        let placed = stack(&[300.0, 306.0], &[34.0, 92.0], frame, LabelEdge::Top);
        let (first, second) = (placed[0].expect("placed"), placed[1].expect("placed"));
        assert!(second.min.y > first.max.y);
        let placed = stack(&[300.0, 306.0], &[34.0, 92.0], frame, LabelEdge::Bottom);
        let (first, second) = (placed[0].expect("placed"), placed[1].expect("placed"));
        assert!(second.max.y < first.min.y);
    }

    #[test]
    fn labels_use_as_few_rows_as_their_overlaps_allow() {
        let frame = frame(600.0, 400.0);
        let top = LabelEdge::Top;
        let widths = [60.0; 4];
        // far apart: one row
        let placed = stack(&[100.0, 300.0, 500.0], &widths[..3], frame, top);
        assert_eq!(rows(&placed, frame, top), [Some(0); 3]);
        // a chain (the first and the last clear of each other): two rows, the ends share one
        let placed = stack(&[100.0, 150.0, 200.0], &widths[..3], frame, top);
        assert_eq!(rows(&placed, frame, top), [Some(0), Some(1), Some(0)]);
        // the same rows whatever order the lines are listed in
        let placed = stack(&[200.0, 100.0, 150.0], &widths[..3], frame, top);
        assert_eq!(rows(&placed, frame, top), [Some(0), Some(0), Some(1)]);
        // all at one step: one row each
        let placed = stack(&[250.0; 4], &widths, frame, top);
        let expected = [Some(0), Some(1), Some(2), Some(3)];
        assert_eq!(rows(&placed, frame, top), expected);
        // many at random: no two touch, all inside, rows as few as the deepest overlap
        let tall = self::frame(600.0, 2000.0);
        let mut seed = 11;
        for _ in 0..20 {
            let xs: Vec<f32> = (0..30)
                .map(|_| tall.left() + next(&mut seed) * tall.width())
                .collect();
            let widths: Vec<f32> = (0..30).map(|_| 20.0 + 100.0 * next(&mut seed)).collect();
            let placed = stack(&xs, &widths, tall, top);
            assert!(placed.iter().all(Option::is_some), "room for every row");
            assert_apart_and_inside(&placed, tall);
            let used = rows_used(&placed, tall, top);
            assert_eq!(used, fewest_rows(&placed), "{xs:?} {widths:?}");
        }
    }

    #[test]
    fn labels_beyond_the_rows_that_fit_wait_for_a_hover() {
        // 40 points high: half of it holds one row of 16-point labels
        let frame = frame(600.0, 40.0);
        let top = LabelEdge::Top;
        let placed = stack(&[200.0, 204.0, 208.0, 450.0], &[80.0; 4], frame, top);
        assert_eq!(rows(&placed, frame, top), [Some(0), None, None, Some(0)]);
        assert_apart_and_inside(&placed, frame);
        // in a shorter plot still one row
        let short = self::frame(600.0, 10.0);
        let bottom = LabelEdge::Bottom;
        let placed = stack(&[200.0, 204.0], &[80.0; 2], short, bottom);
        assert_eq!(rows(&placed, short, bottom), [Some(0), None]);
        // many at random in a small plot: the ones placed never touch
        let small = self::frame(210.0, 64.0);
        let mut seed = 5;
        let xs: Vec<f32> = (0..25)
            .map(|_| small.left() + next(&mut seed) * small.width())
            .collect();
        let widths: Vec<f32> = (0..25).map(|_| 20.0 + 80.0 * next(&mut seed)).collect();
        let placed = stack(&xs, &widths, small, bottom);
        assert!(placed.iter().any(Option::is_none));
        assert_apart_and_inside(&placed, small);
    }

    #[test]
    fn a_label_at_the_right_edge_turns_to_the_left_of_its_line() {
        let frame = frame(600.0, 200.0);
        let line = frame.right() - 5.0;
        let label = stack(&[line], &[70.0], frame, LabelEdge::Top)[0].expect("placed");
        assert!(label.max.x < line && frame.contains_rect(label));
        // and one near the left edge stays right of its line
        let line = frame.left() + 2.0;
        let label = stack(&[line], &[70.0], frame, LabelEdge::Top)[0].expect("placed");
        assert!(label.min.x > line);
    }

    #[test]
    fn zoomed_accuracy_axis_holds_every_point_with_a_small_margin() {
        let values = [0.921, 0.95, 0.968, 0.935];
        let range = accuracy_range(values).expect("points");
        let (low, high) = (*range.start(), *range.end());
        assert!(low < 0.921 && 0.968 < high, "{range:?}");
        assert!(0.921 - low <= 0.01 && high - 0.968 <= 0.01, "{range:?}");
        // the part that matters fills the axis, not a sliver of 0-100%
        assert!(high - low < 0.1, "{range:?}");
        // clamped to 0-100%
        assert_eq!(accuracy_range([0.0, 0.999]), Some(0.0..=1.0));
        let range = accuracy_range([1.0, 1.0]).expect("points");
        assert!(*range.start() < 1.0 && *range.end() == 1.0, "{range:?}");
        // one value still gets an axis around it
        let range = accuracy_range([0.95]).expect("a point");
        assert!(*range.start() < 0.95 && 0.95 < *range.end(), "{range:?}");
        // nothing to fit
        assert_eq!(accuracy_range(Vec::new()), None);
        assert_eq!(accuracy_range([f64::NAN]), None);
        let range = accuracy_range([f64::NAN, 0.5]).expect("a point");
        assert!(range.contains(&0.5));
    }

    #[test]
    fn accuracy_zooms_by_itself_past_90_percent_unless_the_user_chose() {
        assert!(!accuracy_zoomed(None, None));
        assert!(!accuracy_zoomed(None, Some(0.85)));
        assert!(accuracy_zoomed(None, Some(0.93)));
        assert!(!accuracy_zoomed(Some(false), Some(0.99)));
        assert!(accuracy_zoomed(Some(true), Some(0.3)));
        // preferences saved before the option existed still load, as automatic
        let saved = r#"{"smoothing":0.6,"log_scale":true,"x_axis":"Epochs"}"#;
        let curves: CurvesPanel = serde_json::from_str(saved).expect("old preferences load");
        assert_eq!(curves.accuracy_zoom, None);
        assert!(curves.log_scale);
    }

    #[test]
    fn labelled_ticks_are_1_2_or_5_times_a_power_of_ten_and_far_enough_apart() {
        for value_per_px in [1e-5, 3.7e-3, 0.01, 0.25, 1.0, 4.2, 47.0, 1234.5, 1e6] {
            for label_px in [X_LABEL_PX, Y_LABEL_PX] {
                let [fine, labelled, coarse] = grid_steps(value_per_px, label_px);
                let apart = labelled / value_per_px;
                assert!(
                    label_px <= apart && apart < 2.5 * label_px + 1e-6,
                    "{labelled} is {apart} points at {value_per_px} per point"
                );
                let mantissa = labelled / 10f64.powf(labelled.log10().floor());
                assert!(
                    [1.0, 2.0, 5.0, 10.0]
                        .iter()
                        .any(|m| (mantissa - m).abs() < 1e-6),
                    "{labelled}"
                );
                let per_label = labelled / fine;
                assert!(per_label > 1.5 && (per_label - per_label.round()).abs() < 1e-6);
                assert!((coarse / labelled - 10.0).abs() < 1e-6);
            }
        }
        for broken in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(
                grid_steps(broken, X_LABEL_PX),
                [f64::INFINITY; 3],
                "{broken}"
            );
        }
    }

    #[test]
    fn small_plots_keep_more_than_one_label_per_axis() {
        let labels = |min: f64, max: f64, points: f64, label_px: f64| {
            let [_, labelled, _] = grid_steps((max - min) / points, label_px);
            let first = (min / labelled).ceil() as i64;
            let last = (max / labelled).floor() as i64;
            (first..=last).count()
        };
        // steps 0 to 900 across 190 points (a 250-point tile): powers of ten alone label only 0
        // (hundreds are 21 points apart, 1000 is off the axis)
        assert!(labels(0.0, 900.0, 190.0, X_LABEL_PX) >= 2);
        // a loss of 0.3 to 0.7 in a plot 60 points high: tenths are 15 points apart and there
        // is no whole number
        assert!(labels(0.3, 0.7, 60.0, Y_LABEL_PX) >= 2);
        // zoomed accuracy, 92% to 97% in 64 points
        assert!(labels(0.92, 0.97, 64.0, Y_LABEL_PX) >= 2);
    }
}
