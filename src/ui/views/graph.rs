//! The network drawn as a graph, as TensorFlow Playground draws it: layers as columns of nodes,
//! edges coloured by the weight's sign and as thick as its size, nodes filled by the probe
//! sample's activation with their bias in a corner. Conv and pooling layers are blocks with their
//! shapes; large layers show their strongest units and say how many more there are. For 2-D
//! datasets each node is a picture of its own output over the input plane.

use std::rc::Rc;
use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, TextureOptions, Ui, Vec2};

use super::heat::{self, CachedTexture, Scale};
use super::weights::full_uv;
use crate::nn::LayerSpec;
use crate::train::worker::{RunInfo, Snapshot};
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

impl GraphView {
    /// Where the last frame drew unit `unit` of `layer`.
    pub fn node(&self, layer: LayerId, unit: usize) -> Option<PlacedNode> {
        self.nodes
            .iter()
            .copied()
            .find(|n| n.layer == layer && n.unit == unit)
    }

    pub fn ui(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        specs: &[LayerSpec],
        snapshot: Option<&Arc<Snapshot>>,
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
        let painter = ui.painter_at(rect);
        let text_color = ui.visuals().text_color();
        let weak = ui.visuals().weak_text_color();
        let thumbnails = snapshot.plane.is_some();
        let spacing = if thumbnails {
            THUMBNAIL_SPACING
        } else {
            NODE_SPACING
        };
        let most = ((rect.height() - 64.0) / spacing).clamp(3.0, MAX_NODES as f32) as usize;
        let key = (Arc::as_ptr(snapshot) as usize, most);
        let columns = match &self.layout {
            Some((cached, columns)) if *cached == key => columns.clone(),
            _ => {
                let columns = Rc::new(columns(info, specs, snapshot, most));
                self.layout = Some((key, columns.clone()));
                columns
            }
        };

        // layout: columns spread over the width, titles at the top
        let top = rect.top() + 40.0;
        let bottom = rect.bottom() - 22.0;
        // room at the right for the output labels
        let step_x = (rect.width() - 56.0).max(60.0) / columns.len() as f32;
        let column_x = |c: usize| rect.left() + step_x * (c as f32 + 0.5);
        let mut positions: Vec<Vec<(usize, Pos2)>> = Vec::new();
        let mut radius = f32::MAX;
        for column in columns.iter() {
            if let ColumnKind::Nodes { shown, .. } = &column.kind {
                let spacing = (bottom - top) / shown.len().max(1) as f32;
                radius = radius.min(spacing * 0.42);
            }
        }
        let radius = radius.clamp(4.0, if thumbnails { 22.0 } else { 14.0 });
        let block_size = Vec2::new((step_x * 0.5).clamp(30.0, 110.0), (bottom - top) * 0.5);
        for (c, column) in columns.iter().enumerate() {
            let x = column_x(c);
            let nodes = match &column.kind {
                ColumnKind::Nodes { shown, .. } => {
                    let spacing = (bottom - top) / shown.len().max(1) as f32;
                    let height = spacing * shown.len() as f32;
                    let start = (top + bottom - height) / 2.0 + spacing / 2.0;
                    shown
                        .iter()
                        .enumerate()
                        .map(|(k, &unit)| (unit, Pos2::new(x, start + spacing * k as f32)))
                        .collect()
                }
                ColumnKind::Block => Vec::new(),
            };
            positions.push(nodes);
        }
        let block_rect = |c: usize| {
            Rect::from_center_size(Pos2::new(column_x(c), (top + bottom) / 2.0), block_size)
        };

        let pointer = response.hover_pos();
        let hovered_node = pointer.and_then(|p| {
            positions.iter().enumerate().find_map(|(c, nodes)| {
                nodes
                    .iter()
                    .find(|(_, at)| at.distance(p) <= radius + 2.0)
                    .map(|&(unit, _)| (columns[c].layer, unit))
            })
        });
        if response.clicked() {
            self.selected = if hovered_node == self.selected {
                None
            } else {
                hovered_node
            };
        }

        // edges
        let mut hovered_edge: Option<(f32, GraphReadout)> = None;
        for c in 1..columns.len() {
            let Some(layer) = columns[c].layer else {
                continue;
            };
            let to_nodes = &positions[c];
            if to_nodes.is_empty() {
                continue;
            }
            let from_nodes = &positions[c - 1];
            if from_nodes.is_empty() {
                // from a block: a faint fan, no single weight to show
                let from = block_rect(c - 1).right_center();
                for &(_, at) in to_nodes {
                    painter.line_segment(
                        [from, at - Vec2::new(radius, 0.0)],
                        Stroke::new(0.6, weak.gamma_multiply(0.5)),
                    );
                }
                continue;
            }
            let Some(weight) = snapshot.layers[layer].weight.as_ref() else {
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
                    let (a, b) = (from + Vec2::new(radius, 0.0), to - Vec2::new(radius, 0.0));
                    painter.line_segment(
                        [a, b],
                        Stroke::new(0.5 + 3.5 * strength, color.gamma_multiply(alpha)),
                    );
                    if hovered_node.is_none()
                        && let Some(p) = pointer
                    {
                        let d = distance_to_segment(p, a, b);
                        if d < 4.0 && hovered_edge.as_ref().is_none_or(|(best, _)| d < *best) {
                            hovered_edge = Some((
                                d,
                                GraphReadout::Edge {
                                    layer,
                                    from: i,
                                    to: j,
                                    weight: w,
                                },
                            ));
                        }
                    }
                }
            }
        }

        // nodes and blocks
        for (c, column) in columns.iter().enumerate() {
            let x = column_x(c);
            painter.text(
                Pos2::new(x, rect.top() + 4.0),
                Align2::CENTER_TOP,
                &column.title,
                FontId::proportional(13.0),
                text_color,
            );
            match &column.kind {
                ColumnKind::Block => {
                    let block = block_rect(c);
                    painter.rect_filled(block, 6.0, ui.visuals().faint_bg_color);
                    painter.rect_stroke(
                        block,
                        6.0,
                        Stroke::new(1.0, weak),
                        egui::StrokeKind::Inside,
                    );
                    if column.layer.is_none() && !info.input_shape.is_flat() {
                        self.draw_probe_image(ui, &painter, block, info, snapshot);
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
                    let atlas = if thumbnails {
                        self.thumbnail_atlas(ui, c, column.layer, shown, snapshot)
                    } else {
                        None
                    };
                    for (k, &(unit, at)) in positions[c].iter().enumerate() {
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
                            Pos2::new(x, bottom + 11.0),
                            Vec2::new(step_x, 18.0),
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

        if let Some((layer, unit)) = hovered_node {
            let layer_snapshot = layer.map(|l| &snapshot.layers[l]);
            let readout = GraphReadout::Node {
                layer,
                unit,
                activation: activation_of(snapshot, layer, unit),
                pre_activation: layer_snapshot
                    .and_then(|l| l.probe_pre_activation.as_ref())
                    .and_then(|z| z.get(unit).copied()),
                bias: layer_snapshot
                    .and_then(|l| l.bias.as_ref())
                    .and_then(|b| b.get(unit).copied()),
            };
            self.readout = Some(readout);
        } else if let Some((_, edge)) = hovered_edge {
            self.readout = Some(edge);
        }
        if let Some(readout) = &self.readout {
            response.on_hover_text_at_pointer(describe(readout, &snapshot.probe.name));
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
            Arc::as_ptr(snapshot) as usize,
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
        let texture = cache.get(
            ui,
            Arc::as_ptr(probe) as usize,
            TextureOptions::NEAREST,
            || {
                digit_picture(
                    probe.input.as_slice().unwrap_or(&[]),
                    shape.width,
                    shape.height,
                    shape.channels,
                )
            },
        );
        let picture = heat::fit(block.shrink(6.0), shape.width as f32, shape.height as f32);
        painter.image(texture.id(), picture, full_uv(), Color32::WHITE);
    }
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
