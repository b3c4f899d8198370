//! The network drawn as a graph, as TensorFlow Playground draws it: layers as columns of nodes,
//! edges coloured by the weight's sign and as thick as its size, nodes filled by the probe
//! sample's activation with their bias in a corner. Conv and pooling layers are blocks with their
//! shapes; large layers show their strongest units and say how many more there are. For 2-D
//! datasets each node is a picture of its own output over the input plane.

use std::rc::Rc;
use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, TextureOptions, Ui, Vec2};

use super::StepCursor;
use super::heat::{self, CachedTexture, Scale};
use super::weights::full_uv;
use super::{View, ViewContext};
use crate::nn::LayerSpec;
use crate::train::protocol::{RunInfo, Snapshot};
use crate::train::{Phase, StepTrace};
use crate::ui::palette;

/// Most nodes one column shows (fewer when the view is small: nodes stay readable).
const MAX_NODES: usize = 16;
/// Height a node needs, plain and as a picture of its output over the plane.
const NODE_SPACING: f32 = 22.0;
const THUMBNAIL_SPACING: f32 = 34.0;

/// A layer of the graph: `None` is the input.
type LayerId = Option<usize>;

/// What the pointer is over, in the model's own numbers.
#[derive(Clone, Debug, PartialEq)]
pub enum GraphReadout {
    Node {
        layer: LayerId,
        unit: usize,
        activation: f32,
        pre_activation: Option<f32>,
        bias: Option<f32>,
    },
    Edge {
        /// The layer whose weight it is.
        layer: usize,
        from: usize,
        to: usize,
        weight: f32,
    },
}

enum ColumnKind {
    /// Units as nodes: the shown unit indices (at most MAX_NODES) of `total`.
    Nodes { shown: Vec<usize>, total: usize },
    /// A layer too big for nodes (images, conv, pooling).
    Block,
}

struct Column {
    layer: LayerId,
    title: String,
    kind: ColumnKind,
}

/// Columns with the (snapshot, node budget) they were chosen for.
type CachedColumns = ((usize, usize), Rc<Vec<Column>>);

/// A node as drawn in the last frame.
#[derive(Clone, Copy, Debug)]
pub struct PlacedNode {
    pub layer: LayerId,
    pub unit: usize,
    pub center: Pos2,
    pub radius: f32,
}

#[derive(Default)]
pub struct GraphView {
    /// The node whose edges are highlighted (clicked).
    pub selected: Option<(LayerId, usize)>,
    pub readout: Option<GraphReadout>,
    /// Nodes where the last frame drew them.
    pub nodes: Vec<PlacedNode>,
    thumbnails: Vec<CachedTexture<(usize, usize)>>,
    probe_image: Option<CachedTexture<usize>>,
    /// The columns of the last snapshot and node budget (choosing units reads every weight).
    layout: Option<CachedColumns>,
}

/// The units of a dense layer to show: all if they fit, else the MAX_NODES with the largest
/// incoming weights (L2 norm), in index order.
fn strongest_units(weight: Option<&ndarray::Array2<f32>>, total: usize, most: usize) -> Vec<usize> {
    if total <= most {
        return (0..total).collect();
    }
    let Some(weight) = weight else {
        return (0..most).collect();
    };
    let mut norms: Vec<(usize, f32)> = weight
        .rows()
        .into_iter()
        .enumerate()
        .map(|(i, row)| (i, row.iter().map(|w| w * w).sum::<f32>()))
        .collect();
    norms.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut shown: Vec<usize> = norms.iter().take(most).map(|&(i, _)| i).collect();
    shown.sort_unstable();
    shown
}

fn columns(info: &RunInfo, specs: &[LayerSpec], snapshot: &Snapshot, most: usize) -> Vec<Column> {
    let input_len = info.input_shape.len();
    let mut columns = vec![Column {
        layer: None,
        title: format!("input\n{}", info.input_shape),
        kind: if info.input_shape.is_flat() && input_len <= MAX_NODES {
            ColumnKind::Nodes {
                shown: (0..input_len).collect(),
                total: input_len,
            }
        } else {
            ColumnKind::Block
        },
    }];
    let mut note = String::new();
    for (i, (spec, layer)) in specs.iter().zip(&snapshot.layers).enumerate() {
        match spec {
            // no data moves: the next column says it was there
            LayerSpec::Dropout { rate } => note = format!("\ndropout {rate}"),
            LayerSpec::Flatten => {}
            LayerSpec::Dense { units, activation } => {
                // the output layer shows all its units when they fit at all
                let most = if i + 1 == specs.len() {
                    MAX_NODES
                } else {
                    most
                };
                columns.push(Column {
                    layer: Some(i),
                    title: format!("{units} {}{note}", activation.name()),
                    kind: ColumnKind::Nodes {
                        shown: strongest_units(layer.weight.as_ref(), *units, most),
                        total: *units,
                    },
                });
                note.clear();
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                activation,
                ..
            } => {
                columns.push(Column {
                    layer: Some(i),
                    title: format!(
                        "conv {filters} {kernel}x{kernel}\n{}{note}",
                        activation.name()
                    ),
                    kind: ColumnKind::Block,
                });
                note.clear();
            }
            LayerSpec::MaxPool2d { size } => {
                columns.push(Column {
                    layer: Some(i),
                    title: format!("max pool\n{size}x{size}{note}"),
                    kind: ColumnKind::Block,
                });
                note.clear();
            }
        }
    }
    columns
}

/// Distance from `p` to the segment a-b.
fn distance_to_segment(p: Pos2, a: Pos2, b: Pos2) -> f32 {
    let ab = b - a;
    let t = ((p - a).dot(ab) / ab.length_sq().max(1e-6)).clamp(0.0, 1.0);
    (a + ab * t).distance(p)
}

/// Where the graph's parts go in a rect: a pure function of the columns and the rect.
#[derive(Clone, Debug, PartialEq)]
struct GraphLayout {
    /// The centre line of each column.
    column_x: Vec<f32>,
    /// Per column, the shown units with their centres (empty for a block).
    nodes: Vec<Vec<(usize, Pos2)>>,
    radius: f32,
    /// Blocks sit in the middle of their column, this size.
    block_size: Vec2,
    /// The band the nodes fill, between the titles and the "+N more" labels.
    top: f32,
    bottom: f32,
    /// Width of one column.
    step_x: f32,
}

impl GraphLayout {
    /// Columns spread over the width (with room on the right for the output labels), titles
    /// at the top, each column's nodes evenly spaced and centred, one radius for all nodes.
    fn new(rect: Rect, columns: &[Column], thumbnails: bool) -> Self {
        let top = rect.top() + 40.0;
        let bottom = rect.bottom() - 22.0;
        let step_x = (rect.width() - 56.0).max(60.0) / columns.len().max(1) as f32;
        let column_x: Vec<f32> = (0..columns.len())
            .map(|c| rect.left() + step_x * (c as f32 + 0.5))
            .collect();
        let mut radius = f32::MAX;
        let nodes = columns
            .iter()
            .zip(&column_x)
            .map(|(column, &x)| match &column.kind {
                ColumnKind::Nodes { shown, .. } => {
                    let spacing = (bottom - top) / shown.len().max(1) as f32;
                    radius = radius.min(spacing * 0.42);
                    let start = (top + bottom - spacing * shown.len() as f32) / 2.0 + spacing / 2.0;
                    shown
                        .iter()
                        .enumerate()
                        .map(|(k, &unit)| (unit, Pos2::new(x, start + spacing * k as f32)))
                        .collect()
                }
                ColumnKind::Block => Vec::new(),
            })
            .collect();
        Self {
            column_x,
            nodes,
            radius: radius.clamp(4.0, if thumbnails { 22.0 } else { 14.0 }),
            block_size: Vec2::new((step_x * 0.5).clamp(30.0, 110.0), (bottom - top) * 0.5),
            top,
            bottom,
            step_x,
        }
    }

    fn block_rect(&self, column: usize) -> Rect {
        Rect::from_center_size(
            Pos2::new(self.column_x[column], (self.top + self.bottom) / 2.0),
            self.block_size,
        )
    }

    /// The drawn segment of an edge between two node centres: from the right of one node to
    /// the left of the other.
    fn edge(&self, from: Pos2, to: Pos2) -> (Pos2, Pos2) {
        (
            from + Vec2::new(self.radius, 0.0),
            to - Vec2::new(self.radius, 0.0),
        )
    }

    /// The node under `p`: (column, unit).
    fn node_at(&self, p: Pos2) -> Option<(usize, usize)> {
        self.nodes.iter().enumerate().find_map(|(c, nodes)| {
            nodes
                .iter()
                .find(|(_, at)| at.distance(p) <= self.radius + 2.0)
                .map(|&(unit, _)| (c, unit))
        })
    }

    /// The edge under `p` (within 4 points of its segment, the nearest): (column it enters,
    /// from unit, to unit).
    fn edge_at(&self, p: Pos2) -> Option<(usize, usize, usize)> {
        let mut best: Option<(f32, (usize, usize, usize))> = None;
        for c in 1..self.nodes.len() {
            for &(j, to) in &self.nodes[c] {
                for &(i, from) in &self.nodes[c - 1] {
                    let (a, b) = self.edge(from, to);
                    let d = distance_to_segment(p, a, b);
                    if d < 4.0 && best.is_none_or(|(nearest, _)| d < nearest) {
                        best = Some((d, (c, i, j)));
                    }
                }
            }
        }
        best.map(|(_, edge)| edge)
    }
}

/// What the edges show: the latest weights, or while stepping through the step's weights, or
/// (backward and update phases) its gradients dL/dW.
enum EdgeValues<'a> {
    Weights,
    StepWeights(&'a StepTrace),
    Gradients(&'a StepTrace),
}

/// While stepping through: a clicked node chooses its unit; a clicked edge its unit and input.
fn choose(cursor: &mut StepCursor, target: Target) {
    match target {
        Target::Node {
            layer: Some(layer),
            unit,
        } => cursor.selection.choose_unit(layer, unit),
        Target::Node { layer: None, unit } => cursor.selection.choose_input(0, unit),
        Target::Edge { layer, from, to } => {
            cursor.selection.choose_unit(layer, to);
            cursor.selection.choose_input(layer, from);
        }
    }
}

/// What the pointer is over, before its numbers are looked up.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Node {
        layer: LayerId,
        unit: usize,
    },
    Edge {
        layer: usize,
        from: usize,
        to: usize,
    },
}

impl GraphView {
    /// Where the last frame drew unit `unit` of `layer`.
    pub fn node(&self, layer: LayerId, unit: usize) -> Option<PlacedNode> {
        self.nodes
            .iter()
            .copied()
            .find(|n| n.layer == layer && n.unit == unit)
    }

    fn show(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        specs: &[LayerSpec],
        snapshot: Option<&Arc<Snapshot>>,
        trace: Option<&StepTrace>,
        cursor: &mut StepCursor,
    ) {
        self.readout = None;
        self.nodes.clear();
        let (Some(info), Some(snapshot)) = (info, snapshot) else {
            ui.label("Waiting for the trainer...");
            return;
        };
        if specs.len() != snapshot.layers.len() {
            ui.label("Waiting for the new network...");
            return;
        }
        let (rect, response) = ui.allocate_exact_size(ui.available_size(), Sense::click());
        let thumbnails = snapshot.plane.is_some();
        let spacing = if thumbnails {
            THUMBNAIL_SPACING
        } else {
            NODE_SPACING
        };
        let most = ((rect.height() - 64.0) / spacing).clamp(3.0, MAX_NODES as f32) as usize;
        let key = (snapshot.id as usize, most);
        let columns = match &self.layout {
            Some((cached, columns)) if *cached == key => columns.clone(),
            _ => {
                let columns = Rc::new(columns(info, specs, snapshot, most));
                self.layout = Some((key, columns.clone()));
                columns
            }
        };
        let layout = GraphLayout::new(rect, &columns, thumbnails);

        let target = response
            .hover_pos()
            .and_then(|p| hit_test(&layout, &columns, p));
        let phase = trace.map(|trace| cursor.current(trace.layers.len()));
        if response.clicked() {
            match (trace, target) {
                // while stepping through, a click chooses whose numbers are spelled out
                (Some(_), Some(target)) => choose(cursor, target),
                (Some(_), None) => {}
                (None, _) => {
                    let clicked = match target {
                        Some(Target::Node { layer, unit }) => Some((layer, unit)),
                        _ => None,
                    };
                    self.selected = if clicked == self.selected {
                        None
                    } else {
                        clicked
                    };
                }
            }
        }

        let painter = ui.painter_at(rect);
        if let Some(layer) = phase.and_then(Phase::layer)
            && let Some(c) = columns.iter().position(|col| col.layer == Some(layer))
        {
            // the layer of the step-through's phase
            let band = Rect::from_x_y_ranges(
                layout.column_x[c] - layout.step_x / 2.0..=layout.column_x[c] + layout.step_x / 2.0,
                rect.y_range(),
            );
            painter.rect_filled(
                band,
                6.0,
                ui.visuals().selection.bg_fill.gamma_multiply(0.35),
            );
        }
        let edges = match (phase, trace) {
            (Some(Phase::Backward(_) | Phase::Update(_)), Some(trace)) => {
                EdgeValues::Gradients(trace)
            }
            (Some(_), Some(trace)) => EdgeValues::StepWeights(trace),
            _ => EdgeValues::Weights,
        };
        self.paint_edges(ui, &painter, &layout, &columns, snapshot, &edges);
        self.paint_columns(ui, &painter, rect, &layout, &columns, info, snapshot);

        self.readout = target.and_then(|target| readout(snapshot, target));
        if let Some(readout) = &self.readout {
            response.on_hover_text_at_pointer(describe(readout, &snapshot.probe.name));
        }
    }

    /// Edges between node columns, coloured by the weight's sign and as strong as its size
    /// (relative to the largest shown); a faint fan from a block.
    fn paint_edges(
        &self,
        ui: &Ui,
        painter: &egui::Painter,
        layout: &GraphLayout,
        columns: &[Column],
        snapshot: &Snapshot,
        edges: &EdgeValues<'_>,
    ) {
        let weak = ui.visuals().weak_text_color();
        for c in 1..columns.len() {
            let Some(layer) = columns[c].layer else {
                continue;
            };
            let (from_nodes, to_nodes) = (&layout.nodes[c - 1], &layout.nodes[c]);
            if to_nodes.is_empty() {
                continue;
            }
            if from_nodes.is_empty() {
                let from = layout.block_rect(c - 1).right_center();
                for &(_, at) in to_nodes {
                    painter.line_segment(
                        [from, at - Vec2::new(layout.radius, 0.0)],
                        Stroke::new(0.6, weak.gamma_multiply(0.5)),
                    );
                }
                continue;
            }
            let weight = match edges {
                EdgeValues::Weights => snapshot.layers[layer].weight.as_ref(),
                EdgeValues::StepWeights(trace) => trace.layers[layer].weight_before.as_ref(),
                EdgeValues::Gradients(trace) => trace.layers[layer].grad_weight.as_ref(),
            };
            let Some(weight) = weight else {
                continue;
            };
            let max = from_nodes
                .iter()
                .flat_map(|&(i, _)| to_nodes.iter().map(move |&(j, _)| weight[[j, i]].abs()))
                .fold(1e-12f32, f32::max);
            for &(j, to) in to_nodes {
                for &(i, from) in from_nodes {
                    let w = weight[[j, i]];
                    let strength = (w.abs() / max).sqrt();
                    let touches = |layer_id: LayerId, unit| self.selected == Some((layer_id, unit));
                    let highlighted = touches(columns[c - 1].layer, i) || touches(Some(layer), j);
                    let dim = self.selected.is_some() && !highlighted;
                    let color = if w >= 0.0 {
                        palette::POSITIVE
                    } else {
                        palette::NEGATIVE
                    };
                    let alpha = if dim { 0.06 } else { 0.25 + 0.75 * strength };
                    let (a, b) = layout.edge(from, to);
                    painter.line_segment(
                        [a, b],
                        Stroke::new(0.5 + 3.5 * strength, color.gamma_multiply(alpha)),
                    );
                }
            }
        }
    }

    /// Each column's title, then its block or its nodes (with biases, output labels and the
    /// "+N more" label); records where the nodes went.
    #[allow(clippy::too_many_arguments)]
    fn paint_columns(
        &mut self,
        ui: &mut Ui,
        painter: &egui::Painter,
        rect: Rect,
        layout: &GraphLayout,
        columns: &[Column],
        info: &RunInfo,
        snapshot: &Arc<Snapshot>,
    ) {
        let text_color = ui.visuals().text_color();
        let weak = ui.visuals().weak_text_color();
        let radius = layout.radius;
        for (c, column) in columns.iter().enumerate() {
            let x = layout.column_x[c];
            painter.text(
                Pos2::new(x, rect.top() + 4.0),
                Align2::CENTER_TOP,
                &column.title,
                FontId::proportional(13.0),
                text_color,
            );
            match &column.kind {
                ColumnKind::Block => {
                    let block = layout.block_rect(c);
                    painter.rect_filled(block, 6.0, ui.visuals().faint_bg_color);
                    painter.rect_stroke(
                        block,
                        6.0,
                        Stroke::new(1.0, weak),
                        egui::StrokeKind::Inside,
                    );
                    if column.layer.is_none() && !info.input_shape.is_flat() {
                        self.draw_probe_image(ui, painter, block, info, snapshot);
                    } else if let Some(layer) = column.layer {
                        let activation = &snapshot.layers[layer].probe_activation;
                        let active = activation.iter().filter(|&&v| v > 0.0).count();
                        let share = 100.0 * active as f32 / activation.len().max(1) as f32;
                        painter.text(
                            block.center(),
                            Align2::CENTER_CENTER,
                            format!(
                                "{}\n{share:.0}%\nactive",
                                snapshot.layers[layer].output_shape
                            ),
                            FontId::proportional(11.0),
                            text_color,
                        );
                    }
                }
                ColumnKind::Nodes { total, shown } => {
                    let values: Vec<f32> = shown
                        .iter()
                        .map(|&u| activation_of(snapshot, column.layer, u))
                        .collect();
                    let scale = Scale::Symmetric(heat::symmetric_range(&values));
                    let biases = column.layer.and_then(|l| snapshot.layers[l].bias.as_ref());
                    let bias_scale =
                        Scale::Symmetric(biases.map_or(1.0, |b| heat::symmetric_range(b.iter())));
                    let atlas = if snapshot.plane.is_some() {
                        self.thumbnail_atlas(ui, c, column.layer, shown, snapshot)
                    } else {
                        None
                    };
                    for (k, &(unit, at)) in layout.nodes[c].iter().enumerate() {
                        let node_rect = Rect::from_center_size(at, Vec2::splat(radius * 2.0));
                        let selected = self.selected == Some((column.layer, unit));
                        let outline = if selected {
                            Stroke::new(2.5, ui.visuals().selection.stroke.color)
                        } else {
                            Stroke::new(1.0, weak)
                        };
                        if let Some((texture, count)) = &atlas {
                            let uv = Rect::from_min_max(
                                Pos2::new(0.0, k as f32 / *count as f32),
                                Pos2::new(1.0, (k + 1) as f32 / *count as f32),
                            );
                            painter.image(*texture, node_rect, uv, Color32::WHITE);
                            painter.rect_stroke(node_rect, 2.0, outline, egui::StrokeKind::Outside);
                        } else {
                            painter.circle(at, radius, scale.color(values[k]), outline);
                        }
                        if let Some(bias) = biases.and_then(|b| b.get(unit)) {
                            let corner = Rect::from_min_size(
                                node_rect.left_bottom() - Vec2::new(radius * 0.25, radius * 0.45),
                                Vec2::splat((radius * 0.6).max(4.0)),
                            );
                            painter.rect_filled(corner, 1.0, bias_scale.color(*bias));
                            painter.rect_stroke(
                                corner,
                                1.0,
                                Stroke::new(0.5, weak),
                                egui::StrokeKind::Inside,
                            );
                        }
                        if c + 1 == columns.len() {
                            painter.text(
                                at + Vec2::new(radius + 4.0, 0.0),
                                Align2::LEFT_CENTER,
                                output_label(info, *total, unit),
                                FontId::proportional(12.0),
                                text_color,
                            );
                        }
                        self.nodes.push(PlacedNode {
                            layer: column.layer,
                            unit,
                            center: at,
                            radius,
                        });
                    }
                    if *total > shown.len() {
                        // a real label, so that screen readers (and tests) find it
                        let more = Rect::from_center_size(
                            Pos2::new(x, layout.bottom + 11.0),
                            Vec2::new(layout.step_x, 18.0),
                        );
                        let text = egui::RichText::new(format!("+{} more", total - shown.len()))
                            .size(13.0)
                            .color(weak);
                        ui.put(more, egui::Label::new(text)).on_hover_text(
                            "The strongest units (largest incoming weights) are shown",
                        );
                    }
                }
            }
        }
    }

    /// One texture per node column: each shown unit's output over the plane, stacked.
    fn thumbnail_atlas(
        &mut self,
        ui: &Ui,
        column: usize,
        layer: LayerId,
        shown: &[usize],
        snapshot: &Arc<Snapshot>,
    ) -> Option<(egui::TextureId, usize)> {
        let plane = snapshot.plane.as_ref()?;
        while self.thumbnails.len() <= column {
            self.thumbnails.push(CachedTexture::new("unit outputs"));
        }
        let n = plane.resolution;
        let key = (
            snapshot.id as usize,
            shown
                .iter()
                .fold(shown.len(), |h, &u| h.wrapping_mul(31).wrapping_add(u)),
        );
        let texture = self.thumbnails[column].get(ui, key, TextureOptions::LINEAR, || {
            let mut pixels = Vec::with_capacity(n * n * shown.len());
            for &unit in shown {
                let values: Vec<f32> = (0..n * n)
                    .map(|i| match layer {
                        None => plane.point(i / n, i % n)[unit.min(1)],
                        Some(l) => plane.layers[l][[i, unit]],
                    })
                    .collect();
                let scale = Scale::Symmetric(heat::symmetric_range(&values));
                pixels.extend(values.iter().map(|&v| scale.color(v)));
            }
            egui::ColorImage::new([n, n * shown.len()], pixels)
        });
        Some((texture.id(), shown.len()))
    }

    fn draw_probe_image(
        &mut self,
        ui: &Ui,
        painter: &egui::Painter,
        block: Rect,
        info: &RunInfo,
        snapshot: &Arc<Snapshot>,
    ) {
        let shape = info.input_shape;
        let probe = &snapshot.probe;
        let cache = self
            .probe_image
            .get_or_insert_with(|| CachedTexture::new("probe"));
        let texture = cache.get(ui, snapshot.id as usize, TextureOptions::NEAREST, || {
            digit_picture(
                probe.input.as_slice().unwrap_or(&[]),
                shape.width,
                shape.height,
                shape.channels,
            )
        });
        let picture = heat::fit(block.shrink(6.0), shape.width as f32, shape.height as f32);
        painter.image(texture.id(), picture, full_uv(), Color32::WHITE);
    }
}

/// The node under `p`, or else the edge: nodes win where both are.
fn hit_test(layout: &GraphLayout, columns: &[Column], p: Pos2) -> Option<Target> {
    if let Some((c, unit)) = layout.node_at(p) {
        return Some(Target::Node {
            layer: columns[c].layer,
            unit,
        });
    }
    let (c, from, to) = layout.edge_at(p)?;
    Some(Target::Edge {
        layer: columns[c].layer?,
        from,
        to,
    })
}

/// The snapshot's numbers for what the pointer is over.
fn readout(snapshot: &Snapshot, target: Target) -> Option<GraphReadout> {
    Some(match target {
        Target::Node { layer, unit } => {
            let layer_snapshot = layer.map(|l| &snapshot.layers[l]);
            GraphReadout::Node {
                layer,
                unit,
                activation: activation_of(snapshot, layer, unit),
                pre_activation: layer_snapshot
                    .and_then(|l| l.probe_pre_activation.as_ref())
                    .and_then(|z| z.get(unit).copied()),
                bias: layer_snapshot
                    .and_then(|l| l.bias.as_ref())
                    .and_then(|b| b.get(unit).copied()),
            }
        }
        Target::Edge { layer, from, to } => GraphReadout::Edge {
            layer,
            from,
            to,
            weight: *snapshot.layers[layer].weight.as_ref()?.get((to, from))?,
        },
    })
}

/// A greyscale picture of an image input [h * w * c] (channels averaged), white ink on black.
pub fn digit_picture(
    values: &[f32],
    width: usize,
    height: usize,
    channels: usize,
) -> egui::ColorImage {
    let channels = channels.max(1);
    let pixels = (0..width * height)
        .map(|p| {
            let v: f32 = values
                .get(p * channels..(p + 1) * channels)
                .map_or(0.0, |c| c.iter().sum::<f32>() / channels as f32);
            let g = (v.clamp(0.0, 1.0) * 255.0) as u8;
            Color32::from_gray(g)
        })
        .collect();
    egui::ColorImage::new([width, height], pixels)
}

fn activation_of(snapshot: &Snapshot, layer: LayerId, unit: usize) -> f32 {
    match layer {
        None => snapshot.probe.input.get(unit).copied(),
        Some(l) => snapshot.layers[l].probe_activation.get(unit).copied(),
    }
    .unwrap_or(0.0)
}

/// What an output node stands for.
fn output_label(info: &RunInfo, outputs: usize, unit: usize) -> String {
    if outputs == 1 {
        "p(1)".into()
    } else if info.classes == 10 && info.dataset.to_lowercase().contains("mnist") {
        format!("digit {unit}")
    } else {
        format!("class {unit}")
    }
}

fn describe(readout: &GraphReadout, probe: &str) -> String {
    let f = |v: f32| heat::format_value(v);
    match readout {
        GraphReadout::Node {
            layer,
            unit,
            activation,
            pre_activation,
            bias,
        } => {
            let place = match layer {
                None => format!("input {unit}"),
                Some(l) => format!("layer {l}, unit {unit}"),
            };
            let mut text = format!("{place} ({probe})\nactivation = {}", f(*activation));
            if let Some(z) = pre_activation {
                text += &format!("\npre-activation = {}", f(*z));
            }
            if let Some(b) = bias {
                text += &format!("\nbias = {}", f(*b));
            }
            text
        }
        GraphReadout::Edge {
            layer,
            from,
            to,
            weight,
        } => {
            format!(
                "layer {layer}: input {from} -> unit {to}\nweight = {}",
                f(*weight)
            )
        }
    }
}

impl View for GraphView {
    fn id(&self) -> &'static str {
        "network"
    }

    fn title(&self) -> &'static str {
        "Network"
    }

    fn tooltip(&self) -> &'static str {
        "The network as a graph: edges by weight, nodes by the probe's activation"
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        let specs = ctx.snapshot.map_or(&[][..], |s| &s.specs[..]);
        let trace = ctx.run.trace.as_deref();
        self.show(
            ui,
            ctx.run.info.as_ref(),
            specs,
            ctx.snapshot,
            trace,
            ctx.step,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(layer: LayerId, shown: usize, total: usize) -> Column {
        Column {
            layer,
            title: String::new(),
            kind: ColumnKind::Nodes {
                shown: (0..shown).collect(),
                total,
            },
        }
    }

    fn mlp() -> Vec<Column> {
        vec![
            nodes(None, 2, 2),
            nodes(Some(0), 16, 128),
            nodes(Some(1), 10, 10),
        ]
    }

    #[test]
    fn nodes_fit_the_rect_in_column_order_without_overlapping() {
        for rect in [
            Rect::from_min_size(Pos2::new(10.0, 20.0), Vec2::new(700.0, 500.0)),
            Rect::from_min_size(Pos2::ZERO, Vec2::new(300.0, 200.0)),
        ] {
            let layout = GraphLayout::new(rect, &mlp(), false);
            assert!(layout.column_x.windows(2).all(|x| x[0] < x[1]));
            for (c, column) in layout.nodes.iter().enumerate() {
                for &(_, at) in column {
                    assert!(rect.contains(at), "{at:?} outside {rect:?}");
                    assert_eq!(at.x, layout.column_x[c]);
                }
                for pair in column.windows(2) {
                    let gap = pair[1].1.y - pair[0].1.y;
                    assert!(gap >= 2.0 * layout.radius, "nodes overlap: {gap}");
                }
            }
        }
    }

    #[test]
    fn hit_tests_find_the_node_and_the_edge_under_the_pointer() {
        let rect = Rect::from_min_size(Pos2::ZERO, Vec2::new(700.0, 500.0));
        let columns = mlp();
        let layout = GraphLayout::new(rect, &columns, false);
        let (unit, at) = layout.nodes[1][5];
        assert_eq!(
            hit_test(&layout, &columns, at),
            Some(Target::Node {
                layer: Some(0),
                unit
            })
        );
        // a point a quarter along the drawn edge from input 1 to hidden unit 5
        let (a, b) = layout.edge(layout.nodes[0][1].1, at);
        assert!((a.distance(layout.nodes[0][1].1) - layout.radius).abs() < 1e-3);
        assert!((b.distance(at) - layout.radius).abs() < 1e-3);
        assert_eq!(
            hit_test(&layout, &columns, a + (b - a) * 0.25),
            Some(Target::Edge {
                layer: 0,
                from: 1,
                to: unit
            })
        );
        assert_eq!(hit_test(&layout, &columns, Pos2::new(1.0, 1.0)), None);
    }
}
