//! The network drawn as a graph, as TensorFlow Playground draws it: layers as columns of nodes,
//! edges coloured by the weight's sign and as thick as its size, nodes filled by the probe
//! sample's activation with their bias in a corner. Conv and pooling layers are blocks with their
//! shapes; large layers show their strongest units and say how many more there are. For 2-D
//! datasets each node is a picture of its own output over the input plane.

use std::sync::Arc;

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Stroke, TextureOptions, Ui, Vec2};

use super::StepCursor;
use super::graph_layout::{
    Column, ColumnKind, GraphLayout, LayerId, TextRole, columns, node_budget,
};
use super::heat::{self, CachedTexture, Scale};
use super::weights::full_uv;
use super::{View, ViewContext};
use crate::nn::{LayerSpec, Shape};
use crate::train::protocol::{RunInfo, Snapshot};
use crate::train::{Phase, StepTrace};
use crate::ui::background::Background;
use crate::ui::palette;

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

/// A node as drawn in the last frame.
#[derive(Clone, Copy, Debug)]
pub struct PlacedNode {
    pub layer: LayerId,
    pub unit: usize,
    pub center: Pos2,
    pub radius: f32,
}

/// The columns chosen for a network (its input shape and layers).
type ChosenColumns = ((Shape, Vec<LayerSpec>), Vec<Column>);

pub struct GraphView {
    /// The node whose edges are highlighted (clicked).
    pub selected: Option<(LayerId, usize)>,
    pub readout: Option<GraphReadout>,
    /// Nodes where the last frame drew them.
    pub nodes: Vec<PlacedNode>,
    thumbnails: Vec<CachedTexture<(usize, usize)>>,
    probe_image: Option<CachedTexture<usize>>,
    /// The columns chosen for a (snapshot, node budget).
    layout: Background<(u64, usize), Arc<ChosenColumns>>,
    /// Layers dead on the test batch: their titles are marked.
    dead: Vec<usize>,
}

impl Default for GraphView {
    fn default() -> Self {
        Self {
            selected: None,
            readout: None,
            nodes: Vec::new(),
            thumbnails: Vec::new(),
            probe_image: None,
            layout: Background::new("network units"),
            dead: Vec::new(),
        }
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
        let thumbnails = snapshot.plane.is_some();
        let most = node_budget(ui.available_height(), thumbnails);
        // choosing the units shown reads every weight: once per snapshot, on a thread of its
        // own for a large network, the last choice drawn meanwhile
        let values = snapshot
            .layers
            .iter()
            .map(|l| l.weight.as_ref().map_or(0, |w| w.len()))
            .sum();
        let (of, info_owned, specs_owned) = (snapshot.clone(), info.clone(), specs.to_vec());
        let chosen = self
            .layout
            .get(ui.ctx(), (snapshot.id, most), values, move || {
                let weights: Vec<_> = of.layers.iter().map(|l| l.weight.as_ref()).collect();
                let name = |outputs, unit| output_label(&info_owned, outputs, unit);
                let input = info_owned.input_shape;
                let chosen = columns(input, &specs_owned, &weights, most, &name);
                Arc::new(((input, specs_owned), chosen))
            })
            // the last choice is drawn only for the same network
            .filter(|(_, chosen)| chosen.0.0 == info.input_shape && chosen.0.1 == specs);
        let Some((_, chosen)) = chosen else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Choosing the units to draw from {}…",
                    heat::counted(values, "weight", "weights")
                ));
            });
            return;
        };
        let chosen = chosen.clone();
        let columns = &chosen.1;
        let painter = ui.painter().clone();
        let measure = move |text: &str, size: f32| {
            painter
                .layout_no_wrap(text.to_owned(), FontId::proportional(size), Color32::WHITE)
                .size()
        };
        let width = GraphLayout::min_width(columns, &measure);
        if width <= ui.available_width() {
            let size = ui.available_size();
            self.draw(ui, size, columns, &measure, info, snapshot, trace, cursor);
        } else {
            // deeper than the view is wide: the columns keep their width and scroll
            egui::ScrollArea::horizontal()
                .auto_shrink([false; 2])
                .show(ui, |ui| {
                    let size = Vec2::new(width, ui.available_height());
                    self.draw(ui, size, columns, &measure, info, snapshot, trace, cursor);
                });
        }
    }

    /// The graph in a `size` rect: hit-test, clicks, then edges, columns and labels.
    #[allow(clippy::too_many_arguments)]
    fn draw(
        &mut self,
        ui: &mut Ui,
        size: Vec2,
        columns: &[Column],
        measure: &dyn Fn(&str, f32) -> Vec2,
        info: &RunInfo,
        snapshot: &Arc<Snapshot>,
        trace: Option<&StepTrace>,
        cursor: &mut StepCursor,
    ) {
        let thumbnails = snapshot.plane.is_some();
        let (rect, response) = ui.allocate_exact_size(size, Sense::click());
        let layout = GraphLayout::new(rect, columns, thumbnails, measure);
        let target = response
            .hover_pos()
            .and_then(|p| hit_test(&layout, columns, p));
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
        self.paint_edges(ui, &painter, &layout, columns, snapshot, &edges);
        self.paint_columns(ui, &painter, &layout, columns, info, snapshot);
        paint_texts(ui, &painter, &layout, columns, snapshot, &self.dead);

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

    /// Each column's block or its nodes (with biases); records where the nodes went.
    fn paint_columns(
        &mut self,
        ui: &mut Ui,
        painter: &egui::Painter,
        layout: &GraphLayout,
        columns: &[Column],
        info: &RunInfo,
        snapshot: &Arc<Snapshot>,
    ) {
        let weak = ui.visuals().weak_text_color();
        let radius = layout.radius;
        for (c, column) in columns.iter().enumerate() {
            match &column.kind {
                ColumnKind::Block { .. } => {
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
                    }
                }
                ColumnKind::Nodes { shown, .. } => {
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
                        if let Some(bias) = biases.and_then(|b| b.get(unit))
                            && radius >= 4.0
                        {
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
                        self.nodes.push(PlacedNode {
                            layer: column.layer,
                            unit,
                            center: at,
                            radius,
                        });
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

/// Every label where the layout placed it; each column's title band tells its whole story
/// on hover (titles and counts that had to be shortened included).
fn paint_texts(
    ui: &mut Ui,
    painter: &egui::Painter,
    layout: &GraphLayout,
    columns: &[Column],
    snapshot: &Snapshot,
    dead: &[usize],
) {
    let text_color = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let error = ui.visuals().error_fg_color;
    let is_dead = |c: usize| columns[c].layer.is_some_and(|l| dead.contains(&l));
    for placed in &layout.texts {
        let font = FontId::proportional(placed.size);
        let text = match placed.role {
            TextRole::BlockShare(c) => {
                let Some(layer) = columns[c].layer else {
                    continue;
                };
                let activation = &snapshot.layers[layer].probe_activation;
                let active = activation.iter().filter(|&&v| v > 0.0).count();
                format!(
                    "{:.0}%",
                    100.0 * active as f32 / activation.len().max(1) as f32
                )
            }
            TextRole::More(_) => {
                // a real label, so that screen readers (and tests) find it
                let text = egui::RichText::new(&placed.text).font(font).color(weak);
                ui.put(
                    placed.rect,
                    egui::Label::new(text).wrap_mode(egui::TextWrapMode::Extend),
                )
                .on_hover_text("The strongest units (largest incoming weights) are shown");
                continue;
            }
            _ => placed.text.clone(),
        };
        let color = match placed.role {
            TextRole::Title(c) if is_dead(c) => error,
            _ => text_color,
        };
        painter.text(
            placed.rect.center(),
            Align2::CENTER_CENTER,
            text,
            font,
            color,
        );
    }
    for (c, header) in layout.headers.iter().enumerate() {
        let mut description = columns[c].description();
        if is_dead(c) {
            // a dead layer: its title in red, underlined
            painter.line_segment(
                [header.left_bottom(), header.right_bottom()].map(|p| p + Vec2::new(0.0, 2.0)),
                Stroke::new(2.0, error),
            );
            description += "\nDead: every unit outputs zero for every test sample";
        }
        ui.interact(
            *header,
            ui.unique_id().with(("column header", c)),
            Sense::hover(),
        )
        .on_hover_text(description);
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
        self.dead = ctx.run.dead_layers.clone();
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
