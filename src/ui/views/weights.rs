//! Weight heatmaps: one layer's weights, gradients or last update as a picture, with the bias
//! beside it, a colour bar, and the exact number under the pointer. Image models also show each
//! first-layer unit's weights as a tile the shape of the input, and conv layers their filters and
//! the feature maps of the probe sample.

use std::sync::Arc;

use egui::{Color32, ColorImage, Rect, RichText, Sense, TextureOptions, Ui, Vec2};
use ndarray::{Array1, Array2};

use super::heat::{self, CachedTexture, Scale};
use super::{View, ViewContext};
use crate::nn::{LayerSpec, Optimizer, Shape, TensorState};
use crate::train::protocol::{LayerSnapshot, RunInfo, Snapshot};
use crate::train::{LayerTrace, Phase, StepTrace};
use crate::ui::background::Background;

/// Which numbers of the layer to draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Quantity {
    #[default]
    Weights,
    /// dL/dW of the last batch.
    Gradients,
    /// W after minus W before the last recorded batch.
    Update,
    /// Adam's first moment m (while stepping through).
    AdamM,
    /// Adam's second moment v (while stepping through).
    AdamV,
    /// Momentum's velocity (while stepping through).
    Velocity,
}

impl Quantity {
    pub const ALL: [Quantity; 3] = [Quantity::Weights, Quantity::Gradients, Quantity::Update];

    pub fn label(self) -> &'static str {
        match self {
            Quantity::Weights => "W",
            Quantity::Gradients => "dL/dW",
            Quantity::Update => "Delta W",
            Quantity::AdamM => "m",
            Quantity::AdamV => "v",
            Quantity::Velocity => "velocity",
        }
    }

    fn tooltip(self) -> &'static str {
        match self {
            Quantity::Weights => "The weights W themselves",
            Quantity::Gradients => "dL/dW: how the last batch's loss changes with each weight",
            Quantity::Update => "Delta W: what the optimizer changed at the last recorded step",
            Quantity::AdamM => "Adam's m after this step: the running mean of the gradients",
            Quantity::AdamV => {
                "Adam's v after this step: the running mean of the squared gradients"
            }
            Quantity::Velocity => "Momentum's velocity after this step: v <- mu v + g",
        }
    }

    /// The quantities a step being stepped through can show, for its optimizer.
    fn stepping(trace: &StepTrace) -> Vec<Quantity> {
        let mut all = Quantity::ALL.to_vec();
        match trace.settings.optimizer.optimizer {
            Optimizer::Adam { .. } => all.extend([Quantity::AdamM, Quantity::AdamV]),
            Optimizer::Momentum { .. } => all.push(Quantity::Velocity),
            Optimizer::Sgd => {}
        }
        all
    }

    /// The step's own numbers for this quantity: W before it, its dL/dW, its delta W, and the
    /// optimizer's state after it.
    fn of_step(self, layer: &LayerTrace) -> Option<(Array2<f32>, Array1<f32>)> {
        let (w0, b0) = (layer.weight_before.as_ref()?, layer.bias_before.as_ref()?);
        let state = |tensor: &TensorState| -> Option<Vec<f32>> {
            match (self, tensor) {
                (Quantity::AdamM, TensorState::Adam { m, .. }) => Some(m.clone()),
                (Quantity::AdamV, TensorState::Adam { v, .. }) => Some(v.clone()),
                (Quantity::Velocity, TensorState::Momentum { velocity }) => Some(velocity.clone()),
                _ => None,
            }
        };
        match self {
            Quantity::Weights => Some((w0.clone(), b0.clone())),
            Quantity::Gradients => Some((layer.grad_weight.clone()?, layer.grad_bias.clone()?)),
            Quantity::Update => Some((
                layer.weight_after.as_ref()? - w0,
                layer.bias_after.as_ref()? - b0,
            )),
            Quantity::AdamM | Quantity::AdamV | Quantity::Velocity => {
                let after = layer.state.as_ref()?;
                Some((
                    Array2::from_shape_vec(w0.dim(), state(&after.weight)?).ok()?,
                    Array1::from(state(&after.bias)?),
                ))
            }
        }
    }

    /// What the step-through's phase shows here: W going forward, dL/dW going back, and in
    /// the update the optimizer's own state (the change itself for SGD).
    fn for_phase(phase: Phase, trace: &StepTrace) -> Quantity {
        match (phase, trace.settings.optimizer.optimizer) {
            (Phase::Backward(_) | Phase::OutputGradient, _) => Quantity::Gradients,
            (Phase::Update(_), Optimizer::Adam { .. }) => Quantity::AdamM,
            (Phase::Update(_), Optimizer::Momentum { .. }) => Quantity::Velocity,
            (Phase::Update(_) | Phase::Check, Optimizer::Sgd) => Quantity::Update,
            _ => Quantity::Weights,
        }
    }

    fn matrix(self, layer: &LayerSnapshot) -> Option<(&Array2<f32>, &Array1<f32>)> {
        let (weight, bias) = match self {
            Quantity::Weights => (&layer.weight, &layer.bias),
            Quantity::Gradients => (&layer.grad_weight, &layer.grad_bias),
            Quantity::Update => (&layer.update_weight, &layer.update_bias),
            Quantity::AdamM | Quantity::AdamV | Quantity::Velocity => return None,
        };
        Some((weight.as_ref()?, bias.as_ref()?))
    }
}

/// How the selected layer is laid out (a lesson can choose it, so its file format defines it).
pub use crate::io::lesson_file::WeightsLayout as Layout;

/// What is under the pointer, in the model's own numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightReadout {
    pub layer: usize,
    /// Output unit (or filter).
    pub row: usize,
    /// Input index into the layer's weight row (or the bias, when `column` is None).
    pub column: Option<usize>,
    pub value: f32,
    pub text: String,
}

type TextureKey = (usize, usize, Quantity, Layout, [usize; 2]);
/// (snapshot or trace, layer, quantity, the matrix picture's bins when the matrix is drawn).
type PreparedKey = (usize, usize, Quantity, Option<[usize; 2]>);
/// A weight-shaped matrix and a bias-shaped vector.
type Matrices = (Array2<f32>, Array1<f32>);
/// A step's matrices for a (trace, layer, quantity), when it has that quantity.
type StepMatrices = ((u64, usize, Quantity), Option<Arc<Matrices>>);

pub struct WeightsView {
    pub layer: Option<usize>,
    pub quantity: Quantity,
    pub layout: Layout,
    picture: CachedTexture<TextureKey>,
    bias: CachedTexture<TextureKey>,
    /// What the pointer was over in the last frame.
    pub readout: Option<WeightReadout>,
    /// Where the last frame drew the picture (the matrix, tiles or maps).
    pub picture_rect: Option<Rect>,
    /// The colour range and matrix picture of the numbers shown, worked out once per snapshot.
    prepared: Background<PreparedKey, Prepared>,
    /// The step-through phase last followed, and the step's matrices for the last
    /// (trace, layer, quantity) shown.
    followed: Option<Phase>,
    step_matrices: Option<StepMatrices>,
}

impl Default for WeightsView {
    fn default() -> Self {
        Self {
            layer: None,
            quantity: Quantity::Weights,
            layout: Layout::Matrix,
            picture: CachedTexture::new("weights"),
            bias: CachedTexture::new("bias"),
            readout: None,
            picture_rect: None,
            prepared: Background::new("weights picture"),
            followed: None,
            step_matrices: None,
        }
    }
}

/// How one layer's numbers are arranged as tiles.
#[derive(Clone, Copy, Debug)]
struct TileGrid {
    tile: [usize; 2],
    tiles: usize,
    columns: usize,
}

impl TileGrid {
    fn new(tile: [usize; 2], tiles: usize, columns: usize) -> Self {
        let columns = columns.clamp(1, tiles.max(1));
        Self {
            tile,
            tiles,
            columns,
        }
    }

    fn rows(&self) -> usize {
        self.tiles.div_ceil(self.columns)
    }

    /// Whether its picture fits in one texture.
    fn fits(&self, ui: &Ui) -> bool {
        let max_side = ui.ctx().input(|i| i.max_texture_side);
        self.size().iter().all(|&side| side <= max_side)
    }

    /// Picture size with one pixel between tiles.
    fn size(&self) -> [usize; 2] {
        [
            self.columns * (self.tile[0] + 1) - 1,
            self.rows() * (self.tile[1] + 1) - 1,
        ]
    }

    /// (tile, x, y within the tile) at a picture pixel, None on a gap.
    fn locate(&self, px: usize, py: usize) -> Option<(usize, usize, usize)> {
        let (tx, x) = (px / (self.tile[0] + 1), px % (self.tile[0] + 1));
        let (ty, y) = (py / (self.tile[1] + 1), py % (self.tile[1] + 1));
        let tile = ty * self.columns + tx;
        (x < self.tile[0] && y < self.tile[1] && tile < self.tiles).then_some((tile, x, y))
    }

    /// Paints `value(tile, x, y)` into a picture; gaps are transparent.
    fn image(&self, scale: Scale, value: impl Fn(usize, usize, usize) -> f32) -> ColorImage {
        let [width, height] = self.size();
        let mut pixels = vec![Color32::TRANSPARENT; width * height];
        for (i, pixel) in pixels.iter_mut().enumerate() {
            if let Some((tile, x, y)) = self.locate(i % width, i / width) {
                *pixel = scale.color(value(tile, x, y));
            }
        }
        ColorImage::new([width, height], pixels)
    }
}

/// Where the numbers shown live, owned, so that a thread can read them.
#[derive(Clone)]
enum Source {
    /// A layer's quantity in a snapshot.
    Snapshot(Arc<Snapshot>, usize, Quantity),
    /// The step being stepped through.
    Step(Arc<Matrices>),
}

impl Source {
    /// The matrix [units, inputs] and bias [units].
    fn matrices(&self) -> Option<(&Array2<f32>, &Array1<f32>)> {
        match self {
            Source::Snapshot(snapshot, layer, quantity) => {
                quantity.matrix(&snapshot.layers[*layer])
            }
            Source::Step(matrices) => Some((&matrices.0, &matrices.1)),
        }
    }

    /// The colour range, and with `bins` the matrix and bias pictures binned that much.
    fn prepare(&self, bins: Option<[usize; 2]>) -> Prepared {
        let Some((matrix, bias)) = self.matrices() else {
            return Prepared::default();
        };
        let scale = Scale::Symmetric(heat::robust_range(matrix.iter().chain(bias.iter())));
        let pictures = bins.map(|bins| {
            let (units, inputs) = matrix.dim();
            let (values, width, height) =
                largest_in_bins(|r, c| matrix[[r, c]], units, inputs, bins);
            let (bias_values, _, _) = largest_in_bins(|r, _| bias[r], units, 1, [1, bins[1]]);
            (
                Arc::new(heat::image(&values, width, height, scale)),
                Arc::new(heat::image(&bias_values, 1, height, scale)),
            )
        });
        Prepared { scale, pictures }
    }
}

/// What reading every number shown gives: the colour range (99.5% of the values) and, when the
/// matrix is drawn, its picture and the bias's.
#[derive(Clone)]
struct Prepared {
    scale: Scale,
    pictures: Option<(Arc<ColorImage>, Arc<ColorImage>)>,
}

impl Default for Prepared {
    fn default() -> Self {
        Self {
            scale: Scale::Symmetric(1.0),
            pictures: None,
        }
    }
}

/// Tiles that fit, and the space they were laid out for.
#[derive(Clone, Copy, Debug)]
enum TilePlan {
    Units {
        shape: Shape,
        grid: TileGrid,
        space: Vec2,
    },
    Filters {
        kernel: usize,
        channels: usize,
        grid: TileGrid,
        space: Vec2,
    },
}

impl TilePlan {
    fn grid(&self) -> TileGrid {
        match *self {
            TilePlan::Units { grid, .. } | TilePlan::Filters { grid, .. } => grid,
        }
    }
}

/// Cells per picture pixel [columns, rows] for a [units, inputs] matrix, so that its picture fits
/// in a texture; each pixel shows the value of largest magnitude among its cells.
fn matrix_bins(ui: &Ui, (units, inputs): (usize, usize)) -> [usize; 2] {
    let max_side = ui.ctx().input(|i| i.max_texture_side).max(64);
    [
        inputs.div_ceil(max_side).max(1),
        units.div_ceil(max_side).max(1),
    ]
}

/// The size of a weight matrix [rows, columns] in words: "1 unit x 4 inputs", "8 filters x
/// 9 inputs" for a conv layer.
fn matrix_size((rows, columns): (usize, usize), conv: bool) -> String {
    let rows = if conv {
        heat::counted(rows, "filter", "filters")
    } else {
        heat::counted(rows, "unit", "units")
    };
    format!("{rows} x {}", heat::counted(columns, "input", "inputs"))
}

/// A columns count that makes `tiles` tiles of aspect `tile_aspect` fill a space of `aspect`.
fn columns_for(tiles: usize, tile_aspect: f32, aspect: f32) -> usize {
    ((tiles as f32 * aspect / tile_aspect).sqrt().ceil() as usize).max(1)
}

/// The image shape a dense layer's inputs come from, when only flatten layers lie between it
/// and an image input (the first layer of an image MLP).
/// The image a dense layer reads, when only flattens stand between it and an image input.
fn image_input(input: Shape, specs: &[LayerSpec], layer: usize) -> Option<Shape> {
    let flat_before = specs[..layer]
        .iter()
        .all(|spec| matches!(spec, LayerSpec::Flatten));
    (flat_before && !input.is_flat()).then_some(input)
}

/// Whether `layout` can show layer `index`: a conv layer any way, a dense layer as a matrix,
/// or as tiles when it reads the image.
fn can_show(layout: Layout, input: Shape, specs: &[LayerSpec], index: usize) -> bool {
    match (layout, &specs[index]) {
        (_, LayerSpec::Conv2d { .. }) | (Layout::Matrix, LayerSpec::Dense { .. }) => true,
        (Layout::Tiles, LayerSpec::Dense { .. }) => image_input(input, specs, index).is_some(),
        _ => false,
    }
}

impl WeightsView {
    /// Lays the view out so on the first layer that it can show (a lesson's `show_weights`:
    /// the same layer whatever the learner looked at before). Says why when none can.
    pub fn lay_out(
        &mut self,
        layout: Layout,
        input: Shape,
        specs: &[LayerSpec],
    ) -> Result<(), String> {
        let first = (0..specs.len()).find(|&index| can_show(layout, input, specs, index));
        let Some(layer) = first else {
            let what = match layout {
                Layout::Matrix => "layer with weights",
                Layout::Tiles => "convolution nor dense layer reading an image",
                Layout::FeatureMaps => "convolution",
            };
            return Err(format!(
                "the weights view cannot show this network so: it has no {what}"
            ));
        };
        self.layer = Some(layer);
        self.layout = layout;
        Ok(())
    }

    /// While stepping through, moves to the phase's layer and quantity when the phase changes
    /// (the learner can still pick others until the next phase).
    fn follow(&mut self, trace: &StepTrace, phase: Phase) {
        if self.followed == Some(phase) {
            return;
        }
        self.followed = Some(phase);
        if let Some(layer) = phase.layer()
            && trace.layers[layer].weight_before.is_some()
        {
            self.layer = Some(layer);
            self.layout = Layout::Matrix;
        }
        self.quantity = Quantity::for_phase(phase, trace);
    }

    fn show(
        &mut self,
        ui: &mut Ui,
        info: Option<&RunInfo>,
        specs: &[LayerSpec],
        snapshot: Option<&Arc<Snapshot>>,
        stepping: Option<(&StepTrace, Phase)>,
    ) {
        match stepping {
            Some((trace, phase)) => self.follow(trace, phase),
            None => {
                self.followed = None;
                if !Quantity::ALL.contains(&self.quantity) {
                    self.quantity = Quantity::Weights;
                }
            }
        }
        self.readout = None;
        self.picture_rect = None;
        let (Some(info), Some(snapshot)) = (info, snapshot) else {
            ui.label("Waiting for the trainer...");
            return;
        };
        let with_params: Vec<usize> = (0..snapshot.layers.len())
            .filter(|&i| snapshot.layers[i].weight.is_some())
            .collect();
        let Some(&first) = with_params.first() else {
            ui.label("This network has no layer with weights.");
            return;
        };
        let index = self
            .layer
            .filter(|i| with_params.contains(i))
            .unwrap_or(first);
        self.layer = Some(index);
        let layer = &snapshot.layers[index];
        let spec = specs.get(index);
        let tile_shape = match spec {
            Some(LayerSpec::Dense { .. }) => image_input(info.input_shape, specs, index),
            _ => None,
        };
        let conv = matches!(spec, Some(LayerSpec::Conv2d { .. }));

        ui.horizontal_wrapped(|ui| {
            egui::ComboBox::from_id_salt("weights-layer")
                .selected_text(format!("{index}: {}", layer.name))
                .show_ui(ui, |ui| {
                    for &i in &with_params {
                        let text = format!("{i}: {}", snapshot.layers[i].name);
                        if ui.selectable_label(i == index, text).clicked() {
                            self.layer = Some(i);
                        }
                    }
                })
                .response
                .on_hover_text("The layer to show");
            ui.separator();
            let quantities = stepping.map_or(Quantity::ALL.to_vec(), |(t, _)| Quantity::stepping(t));
            for quantity in quantities {
                ui.selectable_value(&mut self.quantity, quantity, quantity.label())
                    .on_hover_text(quantity.tooltip());
            }
            ui.separator();
            ui.selectable_value(&mut self.layout, Layout::Matrix, "Matrix")
                .on_hover_text("The weight matrix: one row per unit, one column per input");
            if tile_shape.is_some() || conv {
                let tooltip = if conv {
                    "Each filter as a small picture, one per input channel"
                } else {
                    "Each unit's incoming weights in the shape of the input image: what it looks for"
                };
                ui.selectable_value(&mut self.layout, Layout::Tiles, "Tiles")
                    .on_hover_text(tooltip);
            }
            if conv {
                ui.selectable_value(&mut self.layout, Layout::FeatureMaps, "Feature maps")
                    .on_hover_text("What each filter finds in the probe sample");
            }
        });
        // the same rule a lesson's `show_weights` follows
        if !can_show(self.layout, info.input_shape, specs, index) {
            self.layout = Layout::Matrix;
        }
        if self.layout == Layout::FeatureMaps {
            ui.label(
                RichText::new(format!(
                    "{} for {}",
                    layer.output_shape, snapshot.probe.name
                ))
                .weak(),
            );
            self.feature_maps(ui, index, layer, snapshot);
            return;
        }
        if let Some((trace, _)) = stepping {
            let key = (trace.id, index, self.quantity);
            if self.step_matrices.as_ref().is_none_or(|(k, _)| *k != key) {
                let matrices = self.quantity.of_step(&trace.layers[index]).map(Arc::new);
                self.step_matrices = Some((key, matrices));
            }
        }
        let source = match stepping {
            Some(_) => self
                .step_matrices
                .as_ref()
                .and_then(|(_, matrices)| matrices.clone())
                .map(Source::Step),
            None => self
                .quantity
                .matrix(layer)
                .map(|_| Source::Snapshot(snapshot.clone(), index, self.quantity)),
        };
        let Some((matrix, bias)) = source.as_ref().and_then(Source::matrices) else {
            ui.label("No batch has been recorded yet: press Step or Play.");
            return;
        };
        let what = match (stepping, self.quantity, snapshot.update_step) {
            (Some((trace, _)), quantity, _) => format!(
                "{} of the step being stepped through (step {})",
                quantity.label(),
                trace.step
            ),
            (None, Quantity::Update, Some(step)) => format!("delta W of step {step}"),
            (None, Quantity::Gradients, _) => format!("dL/dW of step {}", snapshot.step),
            _ => format!("W at step {}", snapshot.step),
        };
        ui.label(RichText::new(format!("{what}: {}", matrix_size(matrix.dim(), conv))).weak());
        // snapshot ids even, trace ids odd: their textures never share a key
        let numbers = stepping.map_or(2 * snapshot.id, |(trace, _)| 2 * trace.id + 1) as usize;
        // tiles when they fit in one texture, else the matrix (binned to fit)
        let plan = self.tile_plan(ui, spec, tile_shape, matrix.dim());
        let bins = plan.is_none().then(|| matrix_bins(ui, matrix.dim()));
        // the colour range and the matrix picture read every number: once per snapshot, on a
        // thread of their own for a large layer, the last ones shown meanwhile
        let key = (numbers, index, self.quantity, bins);
        let values = matrix.len() + bias.len();
        let job = source.clone();
        let prepared = self
            .prepared
            .get(ui.ctx(), key, values, move || {
                job.as_ref()
                    .map_or_else(Prepared::default, |job| job.prepare(bins))
            })
            .filter(|(made, _)| (made.1, made.2, made.3) == (key.1, key.2, key.3))
            .cloned();
        let Some((made, prepared)) = prepared else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!(
                    "Working out the colours of {}…",
                    heat::counted(values, "number", "numbers")
                ));
            });
            return;
        };
        let key_base = (made.0, index);
        match plan {
            Some(TilePlan::Units { shape, grid, space }) => {
                self.unit_tiles(ui, key_base, matrix, shape, grid, space, prepared.scale);
            }
            Some(TilePlan::Filters {
                kernel,
                channels,
                grid,
                space,
            }) => {
                let filter = (kernel, channels);
                self.filter_tiles(ui, key_base, matrix, filter, grid, space, prepared.scale);
            }
            None => self.matrix(ui, made, matrix, bias, &prepared),
        }
    }

    /// How the layer's tiles would be laid out in the space left for a matrix of [rows,
    /// columns]: None when the layout is the matrix or the tiles would not fit in one texture.
    fn tile_plan(
        &self,
        ui: &Ui,
        spec: Option<&LayerSpec>,
        tile_shape: Option<Shape>,
        (rows, columns): (usize, usize),
    ) -> Option<TilePlan> {
        if self.layout != Layout::Tiles {
            return None;
        }
        let space = ui.available_size() - Vec2::new(80.0, 24.0);
        let aspect = space.x / space.y.max(1.0);
        let plan = match (spec, tile_shape) {
            // one tile per filter and input channel, a row per filter when there are channels
            (Some(&LayerSpec::Conv2d { kernel, .. }), _) => {
                let channels = (columns / (kernel * kernel).max(1)).max(1);
                let tiles_across = if channels > 1 {
                    channels
                } else {
                    columns_for(rows, 1.0, aspect)
                };
                TilePlan::Filters {
                    kernel,
                    channels,
                    grid: TileGrid::new([kernel, kernel], rows * channels, tiles_across),
                    space,
                }
            }
            // one tile per unit, the shape of the input image
            (_, Some(shape)) => {
                let tile_aspect = shape.width as f32 / shape.height as f32;
                TilePlan::Units {
                    shape,
                    grid: TileGrid::new(
                        [shape.width, shape.height],
                        rows,
                        columns_for(rows, tile_aspect, aspect),
                    ),
                    space,
                }
            }
            _ => return None,
        };
        plan.grid().fits(ui).then_some(plan)
    }

    /// The matrix [units, inputs] with the bias column beside it, from its prepared pictures.
    fn matrix(
        &mut self,
        ui: &mut Ui,
        made: PreparedKey,
        matrix: &Array2<f32>,
        bias: &Array1<f32>,
        prepared: &Prepared,
    ) {
        let (units, inputs) = matrix.dim();
        let scale = prepared.scale;
        let Some((matrix_image, bias_image)) = prepared.pictures.clone() else {
            return;
        };
        let key = (
            made.0,
            made.1,
            made.2,
            Layout::Matrix,
            made.3.unwrap_or_default(),
        );
        let picture = self
            .picture
            .get(ui, key, TextureOptions::NEAREST, || matrix_image)
            .clone();
        let bias_picture = self
            .bias
            .get(ui, key, TextureOptions::NEAREST, || bias_image)
            .clone();
        let key_base = (made.0, made.1);

        let space = ui.available_size();
        let gap = ui.spacing().item_spacing.x;
        let bias_width = (space.x * 0.04).clamp(10.0, 24.0);
        // the matrix, the bias and the colour bar side by side, two gaps between them
        let matrix_width = (space.x - heat::COLOR_BAR_WIDTH - bias_width - 2.0 * gap).max(40.0);
        let height = (space.y - 24.0).max(40.0);
        ui.horizontal(|ui| {
            let (rect, response) =
                ui.allocate_exact_size(Vec2::new(matrix_width, height), Sense::hover());
            self.picture_rect = Some(rect);
            ui.painter()
                .image(picture.id(), rect, full_uv(), Color32::WHITE);
            let (bias_rect, bias_response) =
                ui.allocate_exact_size(Vec2::new(bias_width, height), Sense::hover());
            ui.painter()
                .image(bias_picture.id(), bias_rect, full_uv(), Color32::WHITE);
            heat::color_bar(ui, scale, height);
            if let Some(pointer) = response.hover_pos()
                && let Some((column, row)) = heat::cell_at(rect, inputs, units, pointer)
            {
                let value = matrix[[row, column]];
                self.show_readout(&response, key_base.1, row, Some(column), value);
            }
            if let Some(pointer) = bias_response.hover_pos()
                && let Some((_, row)) = heat::cell_at(bias_rect, 1, units, pointer)
            {
                self.show_readout(&bias_response, key_base.1, row, None, bias[row]);
            }
        });
        ui.label(
            RichText::new(
                "rows: units, columns: inputs; the strip at the right is the bias; \
                 the colours span 99.5% of the values",
            )
            .weak()
            .small(),
        );
    }

    fn show_readout(
        &mut self,
        response: &egui::Response,
        layer: usize,
        row: usize,
        column: Option<usize>,
        value: f32,
    ) {
        let name = match self.quantity {
            Quantity::Weights => "",
            Quantity::Gradients => "dL/d",
            Quantity::Update => "delta ",
            Quantity::AdamM => "m of ",
            Quantity::AdamV => "v of ",
            Quantity::Velocity => "velocity of ",
        };
        let text = match column {
            Some(column) => format!(
                "unit {row}, input {column}\n{name}w = {}",
                heat::format_value(value)
            ),
            None => format!("unit {row}\n{name}bias = {}", heat::format_value(value)),
        };
        response.clone().on_hover_text_at_pointer(&text);
        self.readout = Some(WeightReadout {
            layer,
            row,
            column,
            value,
            text,
        });
    }

    /// Each unit's weights [inputs = h*w*c] as an h x w tile (channels averaged).
    #[allow(clippy::too_many_arguments)]
    fn unit_tiles(
        &mut self,
        ui: &mut Ui,
        key_base: (usize, usize),
        matrix: &Array2<f32>,
        shape: Shape,
        grid: TileGrid,
        space: Vec2,
        scale: Scale,
    ) {
        let channels = shape.channels.max(1);
        let value = move |unit: usize, x: usize, y: usize| {
            let start = (y * shape.width + x) * channels;
            (start..start + channels)
                .map(|k| matrix[[unit, k]])
                .sum::<f32>()
                / channels as f32
        };
        let key = (
            key_base.0,
            key_base.1,
            self.quantity,
            Layout::Tiles,
            [grid.columns, 0],
        );
        let picture = self
            .picture
            .get(ui, key, TextureOptions::NEAREST, || {
                grid.image(scale, value)
            })
            .clone();
        self.tiles(ui, &picture, grid, scale, space, |tile, x, y| {
            let value = value(tile, x, y);
            (
                format!(
                    "unit {tile}, pixel ({x}, {y})\n{}",
                    heat::format_value(value)
                ),
                tile,
                (y * shape.width + x) * channels,
                value,
            )
        });
    }

    /// Each conv filter [k*k*channels] as k x k tiles, one per input channel.
    #[allow(clippy::too_many_arguments)]
    fn filter_tiles(
        &mut self,
        ui: &mut Ui,
        key_base: (usize, usize),
        matrix: &Array2<f32>,
        (kernel, channels): (usize, usize),
        grid: TileGrid,
        space: Vec2,
        scale: Scale,
    ) {
        let at = move |tile: usize, x: usize, y: usize| {
            let (filter, channel) = (tile / channels, tile % channels);
            (filter, (y * kernel + x) * channels + channel)
        };
        let value = move |tile: usize, x: usize, y: usize| {
            let (filter, k) = at(tile, x, y);
            matrix[[filter, k]]
        };
        let key = (
            key_base.0,
            key_base.1,
            self.quantity,
            Layout::Tiles,
            [grid.columns, 1],
        );
        let picture = self
            .picture
            .get(ui, key, TextureOptions::NEAREST, || {
                grid.image(scale, value)
            })
            .clone();
        self.tiles(ui, &picture, grid, scale, space, |tile, x, y| {
            let (filter, k) = at(tile, x, y);
            let channel = tile % channels;
            let value = value(tile, x, y);
            (
                format!(
                    "filter {filter}, channel {channel}, kernel ({x}, {y})\n{}",
                    heat::format_value(value)
                ),
                filter,
                k,
                value,
            )
        });
    }

    /// Draws a tile picture with its colour bar; `describe(tile, x, y)` gives the hover text,
    /// the row and column in the layer's numbers, and the value.
    fn tiles(
        &mut self,
        ui: &mut Ui,
        picture: &egui::TextureHandle,
        grid: TileGrid,
        scale: Scale,
        space: Vec2,
        describe: impl Fn(usize, usize, usize) -> (String, usize, usize, f32),
    ) {
        let [width, height] = grid.size();
        let area = Rect::from_min_size(egui::Pos2::ZERO, space.max(Vec2::splat(40.0)));
        let size = heat::fit(area, width as f32, height as f32).size();
        ui.horizontal(|ui| {
            let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
            self.picture_rect = Some(rect);
            ui.painter()
                .image(picture.id(), rect, full_uv(), Color32::WHITE);
            // as tall as the picture, or 80 points when the space allows
            heat::color_bar(ui, scale, size.y.max(area.height().min(80.0)));
            if let Some(pointer) = response.hover_pos()
                && let Some((px, py)) = heat::cell_at(rect, width, height, pointer)
                && let Some((tile, x, y)) = grid.locate(px, py)
            {
                let (text, row, column, value) = describe(tile, x, y);
                response.on_hover_text_at_pointer(&text);
                self.readout = Some(WeightReadout {
                    layer: self.layer.unwrap_or(0),
                    row,
                    column: Some(column),
                    value,
                    text,
                });
            }
        });
    }

    /// A conv layer's output for the probe sample, one h x w tile per filter.
    fn feature_maps(
        &mut self,
        ui: &mut Ui,
        index: usize,
        layer: &LayerSnapshot,
        snapshot: &Arc<Snapshot>,
    ) {
        let shape = layer.output_shape;
        let space = ui.available_size() - Vec2::new(80.0, 8.0);
        let filters = shape.channels.max(1);
        let aspect = shape.width as f32 / shape.height.max(1) as f32;
        let columns = columns_for(filters, aspect, space.x / space.y.max(1.0));
        let grid = TileGrid::new([shape.width, shape.height], filters, columns);
        if !grid.fits(ui) {
            let [width, height] = grid.size();
            ui.label(format!(
                "{filters} feature maps of {}x{} would make a {width}x{height} picture, larger than \
                 this graphics card draws: choose a later layer",
                shape.width, shape.height
            ));
            return;
        }
        let activation = &layer.probe_activation;
        let value = |filter: usize, x: usize, y: usize| {
            activation
                .get((y * shape.width + x) * filters + filter)
                .copied()
                .unwrap_or(0.0)
        };
        let scale = Scale::fitting(activation.iter());
        let key = (
            snapshot.id as usize,
            index,
            Quantity::Weights,
            Layout::FeatureMaps,
            [columns, 0],
        );
        let picture = self
            .picture
            .get(ui, key, TextureOptions::NEAREST, || {
                grid.image(scale, value)
            })
            .clone();
        self.tiles(ui, &picture, grid, scale, space, |filter, x, y| {
            let value = value(filter, x, y);
            (
                format!(
                    "filter {filter} at ({x}, {y})\nactivation = {}",
                    heat::format_value(value)
                ),
                filter,
                (y * shape.width + x) * filters + filter,
                value,
            )
        });
    }
}

/// Texture coordinates of a whole texture.
pub fn full_uv() -> Rect {
    Rect::from_min_max(egui::Pos2::ZERO, egui::Pos2::new(1.0, 1.0))
}

impl View for WeightsView {
    fn id(&self) -> &'static str {
        "weights"
    }

    fn title(&self) -> &'static str {
        "Weights"
    }

    fn tooltip(&self) -> &'static str {
        "Each layer's weights, gradients or last update as a heatmap"
    }

    fn ui(&mut self, ui: &mut Ui, ctx: &mut ViewContext<'_>) {
        let specs = ctx.snapshot.map_or(&[][..], |s| &s.specs[..]);
        let stepping = ctx
            .run
            .trace
            .as_deref()
            .map(|trace| (trace, ctx.step.current(trace.layers.len())));
        self.show(ui, ctx.run.info.as_ref(), specs, ctx.snapshot, stepping);
    }
}

/// The [rows, columns] grid `value(r, c)` in bins of [columns, rows] cells, each bin the value
/// of largest magnitude in it: (values row-major, width, height).
fn largest_in_bins(
    value: impl Fn(usize, usize) -> f32,
    rows: usize,
    columns: usize,
    [column_bin, row_bin]: [usize; 2],
) -> (Vec<f32>, usize, usize) {
    let (width, height) = (columns.div_ceil(column_bin), rows.div_ceil(row_bin));
    let largest = |a: f32, b: f32| if b.abs() > a.abs() { b } else { a };
    let values = (0..height)
        .flat_map(|y| {
            let value = &value;
            (0..width).map(move |x| {
                (y * row_bin..((y + 1) * row_bin).min(rows))
                    .flat_map(|r| {
                        (x * column_bin..((x + 1) * column_bin).min(columns))
                            .map(move |c| value(r, c))
                    })
                    .fold(0.0f32, largest)
            })
        })
        .collect();
    (values, width, height)
}

#[cfg(test)]
mod tests {
    use super::{Layout, WeightsView};
    use crate::train::Preset;

    #[test]
    fn a_lesson_lays_the_weights_out_on_the_first_layer_that_can_be() {
        let preset = |name: &str| Preset::named(name).expect("a preset");
        let (cnn, mlp, xor) = (preset("mnist-cnn"), preset("mnist-mlp"), preset("xor"));
        let shape = |p: &Preset| p.data.shape().0;
        let mut view = WeightsView {
            // the learner had looked at the CNN's dense layer
            layer: Some(3),
            ..WeightsView::default()
        };
        for layout in [Layout::Tiles, Layout::FeatureMaps] {
            assert_eq!(view.lay_out(layout, shape(&cnn), &cnn.layers), Ok(()));
            assert_eq!((view.layer, view.layout), (Some(0), layout));
        }
        // the MLP's first dense layer (after the flatten) reads the image: tiles, no feature maps
        assert_eq!(
            view.lay_out(Layout::Tiles, shape(&mlp), &mlp.layers),
            Ok(())
        );
        assert_eq!((view.layer, view.layout), (Some(1), Layout::Tiles));
        let none = view.lay_out(Layout::FeatureMaps, shape(&mlp), &mlp.layers);
        assert_eq!(
            none,
            Err("the weights view cannot show this network so: it has no convolution".into())
        );
        // XOR's two inputs are no image; the view stays as it was
        assert!(
            view.lay_out(Layout::Tiles, shape(&xor), &xor.layers)
                .is_err()
        );
        assert_eq!(view.layout, Layout::Tiles);
        assert_eq!(
            view.lay_out(Layout::Matrix, shape(&xor), &xor.layers),
            Ok(())
        );
        assert_eq!((view.layer, view.layout), (Some(0), Layout::Matrix));
    }

    #[test]
    fn bins_keep_the_value_of_largest_magnitude_and_cover_every_cell() {
        // 5 rows x 3 columns: value 10 * r + c, one large negative at (3, 1)
        let value = |r: usize, c: usize| {
            if (r, c) == (3, 1) {
                -99.0
            } else {
                (10 * r + c) as f32
            }
        };
        let (values, width, height) = super::largest_in_bins(value, 5, 3, [2, 2]);
        assert_eq!((width, height), (2, 3));
        // bins: rows 0-1, 2-3, 4 by columns 0-1, 2
        assert_eq!(values, [11.0, 12.0, -99.0, 32.0, 41.0, 42.0]);
        let (values, width, height) = super::largest_in_bins(value, 5, 3, [1, 1]);
        assert_eq!((width, height), (3, 5));
        assert_eq!(values[3 * 3 + 1], -99.0);
    }

    use super::*;

    #[test]
    fn matrix_sizes_take_the_right_number() {
        assert_eq!(matrix_size((1, 4), false), "1 unit x 4 inputs");
        assert_eq!(matrix_size((128, 1), false), "128 units x 1 input");
        assert_eq!(matrix_size((1, 1), false), "1 unit x 1 input");
        assert_eq!(matrix_size((8, 9), true), "8 filters x 9 inputs");
        assert_eq!(matrix_size((1, 25), true), "1 filter x 25 inputs");
    }
}
