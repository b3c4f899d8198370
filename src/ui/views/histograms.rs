//! Histograms over time, as TensorBoard draws them: for one layer, the distribution of W, dL/dW
//! or the probe's activations along the run as a density image (x: step, y: value; one column
//! per recorded frame), with the median and the 5th and 95th percentiles drawn over it.

use std::sync::Arc;

use egui::emath::RectTransform;
use egui::{Align2, FontId, Painter, Pos2, Rangef, Rect, RichText, Sense, Stroke, Ui, Vec2, pos2};

use super::{View, ViewContext, heat};
use crate::train::histogram::{Histogram, HistogramFrame, Quantity};
use crate::train::protocol::Snapshot;
use crate::ui::curves::short_number;
use crate::ui::palette;

/// What the view says before the first frame.
const EMPTY: &str = "No histograms yet: they are recorded as the run trains (four times a second, \
                     and at every step while paused).";
/// The smallest area the plot is drawn in (with its labels); a smaller tile clips it.
const MIN_AREA: Vec2 = Vec2::new(160.0, 110.0);
/// The last frame's column width, in points.
const LAST_COLUMN: f32 = 2.0;
/// The thinnest a bin is painted (a frame whose values are all equal has zero-height bins).
const MIN_BIN_HEIGHT: f32 = 1.0;
/// Room above the plot, and right of it for the last step label's overhang.
const TOP: f32 = 4.0;
const RIGHT: f32 = 8.0;
/// Tick mark length, and the space between a tick and its label.
const TICK: f32 = 4.0;
const TICK_GAP: f32 = 2.0;
/// Points between y ticks, and the space kept between two x labels.
const Y_TICK_SPACING: f32 = 36.0;
const X_LABEL_GAP: f32 = 24.0;
const AXIS_FONT_SIZE: f32 = 11.0;
/// The percentiles drawn over the density, with their line widths: 5th, median, 95th.
const BANDS: [(f64, f32); 3] = [(0.05, 0.75), (0.5, 1.5), (0.95, 0.75)];

/// The chosen layer and quantity, and what the pointer last read.
#[derive(Default)]
pub struct HistogramsView {
    pub layer: usize,
    pub quantity: Quantity,
    hover: Option<String>,
    /// The user picked the layer; until then it is the first layer with weights.
    chosen: bool,
}

impl HistogramsView {
    /// What the tooltip said in the last frame, if the pointer was over the plot.
    pub fn readout(&self) -> Option<&str> {
        self.hover.as_deref()
    }

    /// The layer combo box and the quantity buttons; `names` has one entry per layer.
    fn controls_ui(&mut self, ui: &mut Ui, names: &[String]) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Layer");
            let selected = names.get(self.layer).map_or("", String::as_str);
            egui::ComboBox::from_id_salt("histograms-layer")
                .selected_text(format!("{}: {selected}", self.layer))
                .show_ui(ui, |ui| {
                    for (i, name) in names.iter().enumerate() {
                        if ui
                            .selectable_value(&mut self.layer, i, format!("{i}: {name}"))
                            .clicked()
                        {
                            self.chosen = true;
                        }
                    }
                })
                .response
                .on_hover_text("The layer to show");
            ui.separator();
            for quantity in Quantity::ALL {
                ui.selectable_value(&mut self.quantity, quantity, quantity.name())
                    .on_hover_text(quantity_tooltip(quantity));
            }
        });
    }

    /// Allocates the rest of `ui` and draws the density, its percentile lines, the axes and
    /// the `cursor` step; hovering sets [`Self::readout`].
    fn plot_ui(
        &mut self,
        ui: &mut Ui,
        frames: &[HistogramFrame],
        values: (f32, f32),
        cursor: Option<u64>,
    ) {
        let size = ui.available_size().max(MIN_AREA);
        let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter_at(rect);
        let steps: Vec<u64> = frames.iter().map(|frame| frame.step).collect();
        let (first, last) = (
            steps.first().copied().unwrap_or(0),
            steps.last().copied().unwrap_or(0),
        );
        let font = palette::label_font(ui.ctx(), AXIS_FONT_SIZE);
        let measure = |text: &str| heat::text_size(&painter, text, &font);
        let axes = Axes::new(rect, (first, last), values, measure);
        let map = PlotMap::new(axes.plot, steps, values);
        let visuals = ui.visuals();
        painter.rect_filled(axes.plot, 0.0, visuals.extreme_bg_color);
        paint_density(&painter, &map, frames, self.layer, self.quantity);
        for (q, width) in BANDS {
            let color = if q == 0.5 {
                visuals.strong_text_color()
            } else {
                visuals.text_color().gamma_multiply(0.7)
            };
            for line in percentile_lines(&map, frames, self.layer, self.quantity, q) {
                painter.line(line, Stroke::new(width, color));
            }
        }
        paint_axes(&painter, &axes, &map, rect, ui);
        if let Some(step) = cursor {
            paint_cursor(&painter, &map, step, &font);
        }
        let pointer = response.hover_pos().filter(|p| map.plot.contains(*p));
        if let Some(pointer) = pointer {
            self.hover = hover_text(&map, frames, self.layer, self.quantity, pointer);
            if let Some(text) = &self.hover {
                response.on_hover_text_at_pointer(text.as_str());
            }
        }
    }
}

impl View for HistogramsView {
    fn id(&self) -> &'static str {
        "histograms"
    }

    fn title(&self) -> &'static str {
        "Histograms"
    }

    fn tooltip(&self) -> &'static str {
        "Each layer's weights, gradients or probe activations as a distribution over the run \
         (TensorBoard's histograms)"
    }

    fn min_size(&self) -> Vec2 {
        Vec2::new(300.0, 240.0)
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        self.hover = None;
        let frames = ctx.run.histograms.frames();
        let Some(newest) = frames.last() else {
            ui.label(EMPTY);
            return;
        };
        let layers = newest.layers.len();
        if layers == 0 {
            ui.label("This network has no layers to show.");
            return;
        }
        if !self.chosen {
            self.layer = newest
                .layers
                .iter()
                .position(|layer| layer.weight.is_some())
                .unwrap_or(0);
        }
        self.layer = self.layer.min(layers - 1);
        let names: Vec<String> = (0..layers).map(|i| layer_name(ctx.snapshot, i)).collect();
        self.controls_ui(ui, &names);
        let has_weights = newest
            .layers
            .get(self.layer)
            .is_some_and(|layer| layer.weight.is_some());
        if self.quantity != Quantity::Activations && !has_weights {
            let name = names.get(self.layer).map_or("This layer", String::as_str);
            ui.label(RichText::new(format!("{name} has no weights")).weak());
            return;
        }
        // (a state taken up again has no gradients of its own: that step's column is empty)
        let Some(values) = value_range(frames, self.layer, self.quantity) else {
            ui.label(RichText::new("No values recorded for this layer yet.").weak());
            return;
        };
        let cursor = ctx.run.viewing.as_ref().map(|viewing| viewing.shown);
        self.plot_ui(ui, frames, values, cursor);
    }
}

/// What a quantity button shows.
fn quantity_tooltip(quantity: Quantity) -> &'static str {
    match quantity {
        Quantity::Weights => "The layer's weights W",
        Quantity::Gradients => "dL/dW: the gradient of the last batch's loss at each step",
        Quantity::Activations => "The layer's output for the probe sample",
    }
}

/// Layer `i`'s name in `snapshot`, else "layer i".
fn layer_name(snapshot: Option<&Arc<Snapshot>>, i: usize) -> String {
    snapshot
        .and_then(|snapshot| snapshot.layers.get(i))
        .map_or_else(|| format!("layer {i}"), |layer| layer.name.clone())
}

/// Layer `layer`'s histogram of `quantity` in `frame`, if it has one.
fn histogram_of(frame: &HistogramFrame, layer: usize, quantity: Quantity) -> Option<&Histogram> {
    frame.layers.get(layer).and_then(|l| l.get(quantity))
}

/// The value below which a fraction `q` (in [0, 1]) of `histogram`'s values lie: the value
/// where the cumulative count passes `q` of the total, linear within that bin. None when the
/// histogram counts nothing.
pub fn percentile(histogram: &Histogram, q: f64) -> Option<f32> {
    let total = histogram.total();
    if total == 0 {
        return None;
    }
    let target = q.clamp(0.0, 1.0) * total as f64;
    let mut below = 0.0;
    for (bin, &count) in histogram.counts.iter().enumerate() {
        let count = f64::from(count);
        if count > 0.0 && below + count >= target {
            let (low, high) = histogram.bin_range(bin);
            let within = ((target - below) / count) as f32;
            return Some(low + (high - low) * within);
        }
        below += count;
    }
    Some(histogram.high)
}

/// The range (low, high) of every value of `layer`'s `quantity` over `frames`, widened around
/// its value when all are equal (so high > low). None when no frame has that histogram.
pub fn value_range(
    frames: &[HistogramFrame],
    layer: usize,
    quantity: Quantity,
) -> Option<(f32, f32)> {
    let (low, high) = frames
        .iter()
        .filter_map(|frame| histogram_of(frame, layer, quantity))
        .filter(|h| h.total() > 0 && h.low.is_finite() && h.high.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(low, high), h| {
            (low.min(h.low), high.max(h.high))
        });
    if low > high {
        return None;
    }
    if high > low {
        return Some((low, high));
    }
    let pad = (low.abs() * 0.1).max(1e-3);
    Some((low - pad, high + pad))
}

/// The frame whose column holds `step`, for frames at `steps` (increasing): the last one at or
/// before it, the first for a step before them all. None when there are no frames.
pub fn frame_at(steps: &[u64], step: f64) -> Option<usize> {
    if steps.is_empty() {
        return None;
    }
    let after = steps.partition_point(|&s| s as f64 <= step);
    Some(after.saturating_sub(1))
}

/// Ticks at a round spacing (1, 2 or 5 times a power of ten, at least `min_step`) inside
/// [low, high], about `max_count` of them at most, with their spacing. Just `low` when the
/// range is empty.
fn nice_ticks(low: f64, high: f64, max_count: usize, min_step: f64) -> (Vec<f64>, f64) {
    if high <= low || !low.is_finite() || !high.is_finite() {
        return (vec![low], min_step);
    }
    let raw = ((high - low) / max_count.max(1) as f64).max(min_step);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .map(|m| m * magnitude)
        .into_iter()
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude);
    let (first, last) = ((low / step).ceil() as i64, (high / step).floor() as i64);
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    (ticks, step)
}

/// A value tick's label on a grid of spacing `step`: short ("1.5k", "0.25"), with enough
/// digits for a fine grid ("0.005", "2e-4").
fn value_label(value: f64, step: f64) -> String {
    if step >= 0.01 || value == 0.0 {
        short_number(value)
    } else {
        heat::short_value(value as f32)
    }
}

/// `n` with a comma between thousands: 1234567 -> "1,234,567".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut text = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, digit) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

/// Where the plot and its tick labels go in a tile's `rect`.
struct Axes {
    /// The data area.
    plot: Rect,
    /// (step, label) under the plot.
    x_ticks: Vec<(f64, String)>,
    /// (value, label) left of it.
    y_ticks: Vec<(f64, String)>,
}

impl Axes {
    /// Lays out steps `first..=last` across and `values` (low, high) up, leaving room left for
    /// the widest value label and under for the step labels and "step"; `measure` is a text's
    /// size in the axis font.
    fn new(
        rect: Rect,
        steps: (u64, u64),
        values: (f32, f32),
        measure: impl Fn(&str) -> Vec2,
    ) -> Self {
        let line = measure("0").y;
        let bottom = TICK + TICK_GAP + 2.0 * line;
        let height = (rect.height() - TOP - bottom).max(MIN_AREA.y / 2.0);
        let (ys, y_step) = nice_ticks(
            f64::from(values.0),
            f64::from(values.1),
            (height / Y_TICK_SPACING) as usize,
            0.0,
        );
        let y_ticks: Vec<(f64, String)> = ys
            .into_iter()
            .map(|v| (v, value_label(v, y_step)))
            .collect();
        let widest = y_ticks
            .iter()
            .map(|(_, label)| measure(label).x)
            .fold(0.0, f32::max);
        let left = rect.left() + widest + TICK + TICK_GAP;
        let right = (rect.right() - RIGHT).max(left + MIN_AREA.x / 2.0);
        let plot = Rect::from_min_max(
            pos2(left, rect.top() + TOP),
            pos2(right, rect.top() + TOP + height),
        );
        let label_width = measure(&short_number(steps.1 as f64)).x + X_LABEL_GAP;
        let (xs, _) = nice_ticks(
            steps.0 as f64,
            steps.1 as f64,
            (plot.width() / label_width) as usize,
            1.0,
        );
        let x_ticks = xs.into_iter().map(|s| (s, short_number(s))).collect();
        Self {
            plot,
            x_ticks,
            y_ticks,
        }
    }
}

/// How steps and values map onto the plot. Frame i's column runs from its step to the next
/// frame's; the last is [`LAST_COLUMN`] wide; a frame alone fills the plot.
struct PlotMap {
    plot: Rect,
    /// The frames' steps, increasing.
    steps: Vec<u64>,
    /// (step - first step, value) to the screen.
    to_screen: RectTransform,
}

impl PlotMap {
    /// `values`: (low, high) with high > low.
    fn new(plot: Rect, steps: Vec<u64>, values: (f32, f32)) -> Self {
        let first = steps.first().copied().unwrap_or(0);
        let span = steps.last().map_or(0, |&last| last.saturating_sub(first)) as f32;
        let (data_x, screen_right) = if span > 0.0 {
            ((0.0, span), plot.right() - LAST_COLUMN)
        } else {
            ((-0.5, 0.5), plot.right())
        };
        // y flipped: high values at the top
        let data = Rect::from_min_max(pos2(data_x.0, values.1), pos2(data_x.1, values.0));
        let screen = Rect::from_min_max(plot.min, pos2(screen_right, plot.bottom()));
        Self {
            plot,
            steps,
            to_screen: RectTransform::from_to(data, screen),
        }
    }

    fn first(&self) -> u64 {
        self.steps.first().copied().unwrap_or(0)
    }

    fn x(&self, step: f64) -> f32 {
        let offset = (step - self.first() as f64) as f32;
        self.to_screen.transform_pos(pos2(offset, 0.0)).x
    }

    fn y(&self, value: f32) -> f32 {
        self.to_screen.transform_pos(pos2(0.0, value)).y
    }

    /// The step at screen `x`.
    fn step_at(&self, x: f32) -> f64 {
        let offset = self
            .to_screen
            .inverse()
            .transform_pos(pos2(x, self.plot.top()))
            .x;
        self.first() as f64 + f64::from(offset)
    }

    /// The frame whose column holds screen `x`.
    fn frame_at_x(&self, x: f32) -> Option<usize> {
        frame_at(&self.steps, self.step_at(x))
    }

    /// Frame `i`'s column, left to right in points.
    fn column(&self, i: usize) -> Rangef {
        let left = match self.steps.get(i) {
            Some(_) if self.steps.len() == 1 => self.plot.left(),
            Some(&step) => self.x(step as f64),
            None => return Rangef::NOTHING,
        };
        let right = self
            .steps
            .get(i + 1)
            .map_or(self.plot.right(), |&next| self.x(next as f64));
        Rangef::new(left, right)
    }

    /// Where bin `bin` of `histogram` is painted in `column` (at least [`MIN_BIN_HEIGHT`] tall).
    fn bin_rect(&self, column: Rangef, histogram: &Histogram, bin: usize) -> Rect {
        let (low, high) = histogram.bin_range(bin);
        let (top, bottom) = (self.y(high), self.y(low));
        let middle = (top + bottom) / 2.0;
        let half = ((bottom - top) / 2.0).max(MIN_BIN_HEIGHT / 2.0);
        Rect::from_x_y_ranges(column, (middle - half)..=(middle + half))
    }
}

/// Each frame's column of bins, coloured by count / the frame's largest count; empty bins are
/// left out so the background shows.
fn paint_density(
    painter: &Painter,
    map: &PlotMap,
    frames: &[HistogramFrame],
    layer: usize,
    quantity: Quantity,
) {
    for (i, frame) in frames.iter().enumerate() {
        let Some(histogram) = histogram_of(frame, layer, quantity) else {
            continue;
        };
        let most = histogram.counts.iter().copied().max().unwrap_or(0);
        if most == 0 {
            continue;
        }
        let column = map.column(i);
        for (bin, &count) in histogram.counts.iter().enumerate() {
            if count > 0 {
                let color = palette::sequential(count as f32 / most as f32);
                painter.rect_filled(map.bin_rect(column, histogram, bin), 0.0, color);
            }
        }
    }
}

/// The `q` percentile along the run as polylines (screen points): through each column's
/// centre, reaching the outer edges of the first and last column of each run of frames that
/// have the histogram (a frame without it breaks the line).
fn percentile_lines(
    map: &PlotMap,
    frames: &[HistogramFrame],
    layer: usize,
    quantity: Quantity,
    q: f64,
) -> Vec<Vec<Pos2>> {
    let mut lines = Vec::new();
    let mut line: Vec<Pos2> = Vec::new();
    let mut end = None;
    for (i, frame) in frames.iter().enumerate() {
        let value = histogram_of(frame, layer, quantity).and_then(|h| percentile(h, q));
        let Some(value) = value else {
            lines.extend(close(std::mem::take(&mut line), end.take()));
            continue;
        };
        let (column, y) = (map.column(i), map.y(value));
        if line.is_empty() {
            line.push(pos2(column.min, y));
        }
        line.push(pos2(column.center(), y));
        end = Some(pos2(column.max, y));
    }
    lines.extend(close(line, end));
    lines
}

/// `line` ended at `end`, if it has something to draw.
fn close(mut line: Vec<Pos2>, end: Option<Pos2>) -> Option<Vec<Pos2>> {
    line.extend(end);
    (line.len() >= 2).then_some(line)
}

/// The axis lines, their ticks and labels, and "step" under the x axis.
fn paint_axes(painter: &Painter, axes: &Axes, map: &PlotMap, rect: Rect, ui: &Ui) {
    let visuals = ui.visuals();
    let (text, weak) = (visuals.text_color(), visuals.weak_text_color());
    let stroke = Stroke::new(1.0, weak);
    let font = palette::label_font(ui.ctx(), AXIS_FONT_SIZE);
    let plot = axes.plot;
    painter.vline(plot.left(), plot.y_range(), stroke);
    painter.hline(plot.x_range(), plot.bottom(), stroke);
    for (value, label) in &axes.y_ticks {
        let y = map.y(*value as f32);
        painter.hline(Rangef::new(plot.left() - TICK, plot.left()), y, stroke);
        let at = pos2(plot.left() - TICK - TICK_GAP, y);
        painter.text(at, Align2::RIGHT_CENTER, label, font.clone(), text);
    }
    for (step, label) in &axes.x_ticks {
        let x = map.x(*step);
        painter.vline(x, Rangef::new(plot.bottom(), plot.bottom() + TICK), stroke);
        let galley = painter.layout_no_wrap(label.clone(), font.clone(), text);
        let width = galley.size().x;
        // centred on its tick, moved inside the tile
        let left = (x - width / 2.0).min(rect.right() - width).max(rect.left());
        painter.galley(pos2(left, plot.bottom() + TICK + TICK_GAP), galley, text);
    }
    let at = pos2(plot.center().x, rect.bottom());
    painter.text(at, Align2::CENTER_BOTTOM, "step", font, weak);
}

/// The step being viewed: a vertical line and "step N" at its top (left of the line near the
/// right edge). Nothing when the step is off the plot.
fn paint_cursor(painter: &Painter, map: &PlotMap, step: u64, font: &FontId) {
    let x = map.x(step as f64);
    if !map.plot.x_range().contains(x) {
        return;
    }
    let plot = map.plot;
    painter.vline(x, plot.y_range(), Stroke::new(1.5, palette::MARKER));
    let label = format!("step {}", grouped(step));
    let galley = painter.layout_no_wrap(label, font.clone(), palette::MARKER);
    let width = galley.size().x;
    let left = if x + 3.0 + width <= plot.right() {
        x + 3.0
    } else {
        x - 3.0 - width
    };
    painter.galley(pos2(left, plot.top() + 2.0), galley, palette::MARKER);
}

/// What is under `pointer` (on the plot): the frame's step and the bin's range and count,
/// "step 1,234 · 0.0123 to 0.0150: 57 values".
fn hover_text(
    map: &PlotMap,
    frames: &[HistogramFrame],
    layer: usize,
    quantity: Quantity,
    pointer: Pos2,
) -> Option<String> {
    let i = map.frame_at_x(pointer.x)?;
    let frame = frames.get(i)?;
    let step = grouped(frame.step);
    let Some(histogram) = histogram_of(frame, layer, quantity) else {
        return Some(format!("step {step} · no {} recorded", quantity.name()));
    };
    let column = map.column(i);
    let bin = (0..histogram.counts.len()).find(|&bin| {
        map.bin_rect(column, histogram, bin)
            .y_range()
            .contains(pointer.y)
    });
    let Some(bin) = bin else {
        return Some(format!(
            "step {step} · none here: all between {} and {}",
            heat::format_value(histogram.low),
            heat::format_value(histogram.high)
        ));
    };
    let count = histogram.counts.get(bin).copied().unwrap_or(0) as usize;
    let values = heat::counted(count, "value", "values");
    let (low, high) = histogram.bin_range(bin);
    let range = if low == high {
        heat::format_value(low)
    } else {
        format!(
            "{} to {}",
            heat::format_value(low),
            heat::format_value(high)
        )
    };
    Some(format!("step {step} · {range}: {values}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::histogram::{BINS, LayerHistograms};

    fn histogram(low: f32, high: f32, counts: Vec<u32>) -> Histogram {
        Histogram {
            low,
            high,
            counts,
            non_finite: 0,
        }
    }

    /// A frame of one layer whose weights are `weights` (no gradient).
    fn frame(step: u64, weights: Histogram) -> HistogramFrame {
        HistogramFrame {
            step,
            epochs: step as f64,
            layers: vec![LayerHistograms {
                weight: Some(weights.clone()),
                gradient: None,
                activation: weights,
            }],
        }
    }

    fn in_bin(count: u32, bin: usize) -> Vec<u32> {
        let mut counts = vec![0; BINS];
        counts[bin] = count;
        counts
    }

    #[test]
    fn percentiles_of_one_full_bin_are_inside_it() {
        let h = histogram(-3.0, 3.0, in_bin(40, 7));
        let (low, high) = h.bin_range(7);
        for q in [0.0, 0.05, 0.5, 0.95, 1.0] {
            let p = percentile(&h, q).expect("values counted");
            assert!(
                (low..=high).contains(&p),
                "q {q}: {p} outside [{low}, {high}]"
            );
        }
        // linear within the bin: the median is its middle
        let median = percentile(&h, 0.5).expect("values counted");
        assert!((median - (low + high) / 2.0).abs() < 1e-5);
        assert_eq!(percentile(&histogram(0.0, 1.0, vec![0; BINS]), 0.5), None);
    }

    #[test]
    fn the_median_of_a_symmetric_histogram_is_its_middle_and_percentiles_rise() {
        let counts: Vec<u32> = (0..BINS).map(|i| 1 + i.min(BINS - 1 - i) as u32).collect();
        let h = histogram(-1.0, 1.0, counts);
        let median = percentile(&h, 0.5).expect("values counted");
        assert!(median.abs() < 1e-5, "{median}");
        let (p5, p95) = (percentile(&h, 0.05), percentile(&h, 0.95));
        let (p5, p95) = (p5.expect("counted"), p95.expect("counted"));
        assert!(p5 < median && median < p95);
        assert!((p5 + p95).abs() < 1e-5, "symmetric: {p5} and {p95}");
    }

    #[test]
    fn the_value_range_spans_every_frame_with_the_quantity() {
        let frames = vec![
            frame(0, histogram(-0.5, 0.25, in_bin(3, 0))),
            frame(10, histogram(-0.25, 2.0, in_bin(3, 4))),
        ];
        assert_eq!(
            value_range(&frames, 0, Quantity::Weights),
            Some((-0.5, 2.0))
        );
        assert_eq!(value_range(&frames, 0, Quantity::Gradients), None);
        assert_eq!(value_range(&frames, 3, Quantity::Weights), None);
        // all values equal: widened around them
        let equal = vec![frame(0, histogram(0.5, 0.5, in_bin(9, 0)))];
        let (low, high) = value_range(&equal, 0, Quantity::Activations).expect("a range");
        assert!(low < 0.5 && high > 0.5);
    }

    #[test]
    fn the_frame_at_a_step_is_the_last_one_at_or_before_it() {
        let steps = [0, 10, 20];
        assert_eq!(frame_at(&steps, 5.0), Some(0));
        assert_eq!(frame_at(&steps, 10.0), Some(1));
        assert_eq!(frame_at(&steps, 19.9), Some(1));
        assert_eq!(frame_at(&steps, 25.0), Some(2));
        assert_eq!(frame_at(&steps, -3.0), Some(0));
        assert_eq!(frame_at(&[], 3.0), None);
    }

    #[test]
    fn ticks_are_round_inside_the_range_and_not_too_many() {
        for (low, high, count) in [(-0.37, 1.2, 5), (0.0, 12_345.0, 4), (1e-5, 3e-4, 6)] {
            let (ticks, step) = nice_ticks(low, high, count, 0.0);
            assert!(!ticks.is_empty() && ticks.len() <= count + 1, "{ticks:?}");
            let inside = low - 1e-12..=high + 1e-12;
            assert!(ticks.iter().all(|t| inside.contains(t)), "{ticks:?}");
            let mantissa = step / 10f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 5.0].iter().any(|m| (m - mantissa).abs() < 1e-6),
                "{step}"
            );
        }
        // steps are whole
        let (ticks, step) = nice_ticks(0.0, 3.0, 10, 1.0);
        assert_eq!((ticks, step), (vec![0.0, 1.0, 2.0, 3.0], 1.0));
        assert_eq!(nice_ticks(7.0, 7.0, 5, 1.0).0, vec![7.0]);
    }

    #[test]
    fn steps_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1234), "1,234");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }

    fn plot() -> Rect {
        Rect::from_min_size(pos2(50.0, 10.0), Vec2::new(300.0, 200.0))
    }

    #[test]
    fn columns_tile_the_plot_and_the_pointer_finds_its_own() {
        let map = PlotMap::new(plot(), vec![0, 10, 40, 100], (-1.0, 1.0));
        let columns: Vec<Rangef> = (0..4).map(|i| map.column(i)).collect();
        assert_eq!(columns[0].min, plot().left());
        assert_eq!(columns[3].max, plot().right());
        assert!(columns[3].span() >= LAST_COLUMN - 1e-3);
        for (i, pair) in columns.windows(2).enumerate() {
            assert!(
                (pair[0].max - pair[1].min).abs() < 1e-3,
                "gap after column {i}"
            );
        }
        for (i, column) in columns.iter().enumerate() {
            assert_eq!(map.frame_at_x(column.center()), Some(i));
        }
        assert!((map.step_at(map.x(40.0)) - 40.0).abs() < 1e-3);
        assert!((map.y(1.0) - plot().top()).abs() < 1e-3);
        assert!((map.y(-1.0) - plot().bottom()).abs() < 1e-3);
    }

    #[test]
    fn one_frame_fills_the_plot() {
        let map = PlotMap::new(plot(), vec![7], (-1.0, 1.0));
        let column = map.column(0);
        assert_eq!((column.min, column.max), (plot().left(), plot().right()));
        assert_eq!(map.frame_at_x(plot().left() + 1.0), Some(0));
        assert_eq!(map.frame_at_x(plot().right() - 1.0), Some(0));
    }

    #[test]
    fn the_readout_names_the_step_and_the_bin_under_the_pointer() {
        let h = histogram(0.0, 3.0, in_bin(57, 4));
        let frames = vec![frame(1000, h.clone()), frame(1234, h.clone())];
        let map = PlotMap::new(plot(), vec![1000, 1234], (0.0, 3.0));
        let rect = map.bin_rect(map.column(1), &h, 4);
        let text = hover_text(&map, &frames, 0, Quantity::Weights, rect.center());
        assert_eq!(
            text.as_deref(),
            Some("step 1,234 · 0.4000 to 0.5000: 57 values")
        );
        let rect = map.bin_rect(map.column(0), &h, 0);
        let text = hover_text(&map, &frames, 0, Quantity::Weights, rect.center());
        assert_eq!(text.as_deref(), Some("step 1,000 · 0 to 0.1000: 0 values"));
        let text = hover_text(&map, &frames, 0, Quantity::Gradients, rect.center());
        assert_eq!(text.as_deref(), Some("step 1,000 · no dL/dW recorded"));
    }

    #[test]
    fn percentile_lines_run_across_every_column() {
        let h = histogram(-1.0, 1.0, in_bin(5, 15));
        let frames = vec![frame(0, h.clone()), frame(5, h.clone()), frame(9, h)];
        let map = PlotMap::new(plot(), vec![0, 5, 9], (-1.0, 1.0));
        let lines = percentile_lines(&map, &frames, 0, Quantity::Weights, 0.5);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line.len(), 5);
        assert_eq!(line[0].x, plot().left());
        assert_eq!(line[4].x, plot().right());
        assert!(percentile_lines(&map, &frames, 0, Quantity::Gradients, 0.5).is_empty());
    }
}
