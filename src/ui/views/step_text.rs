//! What the step-through says in each phase, with the trace's own numbers: pure functions from
//! a [`StepTrace`], a [`Phase`] and what the learner chose, to blocks of text and tables. The
//! view only draws them, so every formula here is tested without a window.

use ndarray::ArrayView1;

use crate::nn::{Activation, LayerSpec, Loss, Optimizer, Padding, TensorState};
use crate::train::{LayerTrace, Phase, StepTrace};

/// Inputs of a dense unit up to which every term of z is written out.
const ALL_TERMS_UP_TO: usize = 8;
/// Terms shown for a wider unit (the largest in size), the rest summed.
const LARGEST_TERMS: usize = 5;
/// Units up to which a layer's values are a table rather than a summary.
const TABLE_UP_TO: usize = 16;

/// One piece of a phase's explanation.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A formula with its numbers, drawn in a monospace font.
    Formula(String),
    /// A sentence.
    Text(String),
    /// A table; `highlight` is the row of the chosen unit.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        highlight: Option<usize>,
    },
    /// Values as a picture, `width` x `height`, row-major (a feature map, a wide layer).
    Heatmap {
        what: String,
        width: usize,
        height: usize,
        values: Vec<f32>,
    },
    /// Minimum, mean and maximum of many values, with a histogram of `counts` over [min, max].
    Summary {
        what: String,
        min: f32,
        mean: f32,
        max: f32,
        counts: Vec<usize>,
    },
}

/// The blocks as plain text, one line per formula, sentence or table row (for tests and
/// copying).
pub fn plain_text(blocks: &[Block]) -> String {
    blocks
        .iter()
        .map(|block| match block {
            Block::Formula(text) | Block::Text(text) => text.clone(),
            Block::Table { rows, .. } => rows
                .iter()
                .map(|row| row.join(" "))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Summary { what, .. } | Block::Heatmap { what, .. } => what.clone(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A wide layer's values as a near-square picture (the last row padded with zeros).
fn grid(what: String, values: ArrayView1<f32>) -> Block {
    let width = (values.len() as f64).sqrt().ceil() as usize;
    let height = values.len().div_ceil(width.max(1));
    let mut padded = values.to_vec();
    padded.resize(width * height, 0.0);
    Block::Heatmap {
        what,
        width,
        height,
        values: padded,
    }
}

/// Channel `channel` of an image row (flat channels-last) as a picture.
fn channel_map(
    what: String,
    values: ArrayView1<f32>,
    shape: crate::nn::Shape,
    channel: usize,
) -> Block {
    Block::Heatmap {
        what,
        width: shape.width,
        height: shape.height,
        values: values
            .iter()
            .skip(channel)
            .step_by(shape.channels.max(1))
            .copied()
            .collect(),
    }
}

/// What the learner chose: the batch row, and per layer a unit (dense: a unit; conv: an output
/// value, flat channels-last; pool: an output value) and an input (dense: an input; conv: a
/// kernel entry) whose numbers are spelled out. None picks a telling default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub row: usize,
    pub units: Vec<Option<usize>>,
    pub inputs: Vec<Option<usize>>,
}

impl Selection {
    pub fn unit(&self, layer: usize) -> Option<usize> {
        self.units.get(layer).copied().flatten()
    }

    pub fn input(&self, layer: usize) -> Option<usize> {
        self.inputs.get(layer).copied().flatten()
    }

    pub fn choose_unit(&mut self, layer: usize, unit: usize) {
        if self.units.len() <= layer {
            self.units.resize(layer + 1, None);
        }
        self.units[layer] = Some(unit);
    }

    pub fn choose_input(&mut self, layer: usize, input: usize) {
        if self.inputs.len() <= layer {
            self.inputs.resize(layer + 1, None);
        }
        self.inputs[layer] = Some(input);
    }
}

/// A number with 4 significant figures: 0.5000, 2.400, 0.0001235, 1.235e-9.
pub fn num(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if !value.is_finite() {
        return format!("{value}");
    }
    let digits = 3 - value.abs().log10().floor() as i32;
    if (0..=8).contains(&digits) {
        format!("{value:.*}", digits as usize)
    } else {
        format!("{value:.3e}")
    }
}

fn n32(value: f32) -> String {
    num(f64::from(value))
}

/// A number in parentheses when negative, for products: (−0.5000).
fn factor(value: f32) -> String {
    if value < 0.0 {
        format!("({})", n32(value))
    } else {
        n32(value)
    }
}

/// The terms of z_j = sum_i W_ji x_i + b_j as written out: every term for a narrow unit,
/// the largest ones and the sum of the rest for a wide one.
#[derive(Clone, Debug, PartialEq)]
pub struct Terms {
    /// (input index, weight, input value).
    pub shown: Vec<(usize, f32, f32)>,
    /// How many terms are not shown, and their sum.
    pub rest: Option<(usize, f64)>,
    pub bias: f32,
}

impl Terms {
    /// w: W's row j [inputs], x: the input [inputs], b: b_j.
    pub fn new(w: ArrayView1<f32>, x: ArrayView1<f32>, b: f32) -> Terms {
        let mut terms: Vec<(usize, f32, f32)> = w
            .iter()
            .zip(x.iter())
            .enumerate()
            .map(|(i, (&w, &x))| (i, w, x))
            .collect();
        if terms.len() <= ALL_TERMS_UP_TO {
            return Terms {
                shown: terms,
                rest: None,
                bias: b,
            };
        }
        terms.sort_by(|a, b| (b.1 * b.2).abs().total_cmp(&(a.1 * a.2).abs()));
        let rest = terms.split_off(LARGEST_TERMS);
        terms.sort_by_key(|t| t.0);
        let rest_sum = rest
            .iter()
            .map(|&(_, w, x)| f64::from(w) * f64::from(x))
            .sum();
        Terms {
            shown: terms,
            rest: Some((rest.len(), rest_sum)),
            bias: b,
        }
    }

    /// The shown products, the rest and the bias added up: z.
    #[cfg(test)]
    pub fn total(&self) -> f64 {
        self.shown
            .iter()
            .map(|&(_, w, x)| f64::from(w) * f64::from(x))
            .sum::<f64>()
            + self.rest.map_or(0.0, |r| r.1)
            + f64::from(self.bias)
    }

    /// "(0.5000)(1.000) + (−0.2000)(0.0) + … + 780 more terms (0.1234) + 0.0100"
    pub fn written(&self) -> String {
        let mut parts: Vec<String> = self
            .shown
            .iter()
            .map(|&(_, w, x)| format!("{}·{}", factor(w), factor(x)))
            .collect();
        if let Some((count, sum)) = self.rest {
            parts.push(format!("[{count} more terms: {}]", num(sum)));
        }
        parts.push(factor(self.bias));
        parts.join(" + ")
    }
}

/// a = f(z) written with the numbers: "tanh(0.5000) = 0.4621".
fn activation_written(activation: Activation, z: f32, a: f32) -> String {
    match activation {
        Activation::Relu => format!("max(0, {}) = {}", n32(z), n32(a)),
        Activation::Sigmoid => format!("1 / (1 + e^-({})) = {}", n32(z), n32(a)),
        Activation::Tanh => format!("tanh({}) = {}", n32(z), n32(a)),
        Activation::Linear => format!("{} (linear: a = z)", n32(a)),
        Activation::Softmax => format!("e^{} / sum_k e^z_k = {}", n32(z), n32(a)),
    }
}

/// f'(z) as a number, from a (and z for ReLU), for element-wise activations.
fn derivative(activation: Activation, z: f32, a: f32) -> Option<(String, f32)> {
    Some(match activation {
        Activation::Sigmoid => (
            format!("a(1 - a) = {}·{}", n32(a), n32(1.0 - a)),
            a * (1.0 - a),
        ),
        Activation::Tanh => (format!("1 - a^2 = 1 - {}^2", factor(a)), 1.0 - a * a),
        Activation::Relu => (
            format!("1 if z > 0 else 0 (z = {})", n32(z)),
            f32::from(u8::from(z > 0.0)),
        ),
        Activation::Linear => ("1".into(), 1.0),
        Activation::Softmax => return None,
    })
}

fn row(values: &ndarray::Array2<f32>, r: usize) -> ArrayView1<'_, f32> {
    values.row(r.min(values.nrows().saturating_sub(1)))
}

/// Index of the largest |value|.
fn argmax_abs(values: ArrayView1<f32>) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map_or(0, |(i, _)| i)
}

/// Index of the largest value.
fn argmax(values: ArrayView1<f32>) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}

fn summary(what: &str, values: impl Iterator<Item = f32> + Clone) -> Block {
    let (min, max, sum, count) = values.clone().fold(
        (f32::INFINITY, f32::NEG_INFINITY, 0.0f64, 0usize),
        |(lo, hi, s, n), v| (lo.min(v), hi.max(v), s + f64::from(v), n + 1),
    );
    let mut counts = vec![0; 20];
    let span = (max - min).max(f32::MIN_POSITIVE);
    for v in values {
        let bin = (((v - min) / span) * 20.0) as usize;
        counts[bin.min(19)] += 1;
    }
    Block::Summary {
        what: what.into(),
        min,
        mean: (sum / count.max(1) as f64) as f32,
        max,
        counts,
    }
}

/// The chosen unit of a dense layer: the learner's, else the one with the largest output.
pub fn dense_unit(trace: &StepTrace, layer: usize, selection: &Selection) -> usize {
    let record = &trace.layers[layer];
    let units = record.a.ncols();
    selection
        .unit(layer)
        .filter(|&u| u < units)
        .unwrap_or_else(|| argmax_abs(row(&record.a, selection.row)))
}

/// The chosen input of dense unit j: the learner's, else the one contributing the most to z_j.
pub fn dense_input(trace: &StepTrace, layer: usize, selection: &Selection) -> usize {
    let record = &trace.layers[layer];
    let Some(w) = &record.weight_before else {
        return 0;
    };
    let j = dense_unit(trace, layer, selection);
    let x = row(&record.input, selection.row);
    selection
        .input(layer)
        .filter(|&i| i < w.ncols())
        .unwrap_or_else(|| {
            let products: Vec<f32> = w.row(j).iter().zip(x.iter()).map(|(w, x)| w * x).collect();
            argmax_abs(ArrayView1::from(&products))
        })
}

/// The chosen output value of a conv or pool layer (flat channels-last): the learner's, else
/// the largest in the batch row.
fn image_unit(record: &LayerTrace, layer: usize, selection: &Selection) -> usize {
    selection
        .unit(layer)
        .filter(|&u| u < record.a.ncols())
        .unwrap_or_else(|| argmax(row(&record.a, selection.row)))
}

/// The chosen unit of any layer (see [`Selection`]).
pub fn chosen_unit(trace: &StepTrace, layer: usize, selection: &Selection) -> usize {
    let record = &trace.layers[layer];
    match record.spec {
        LayerSpec::Dense { .. } => dense_unit(trace, layer, selection),
        _ => image_unit(record, layer, selection),
    }
}

/// (weight row, weight column) of the weight the update and check phases spell out.
pub fn chosen_weight(
    trace: &StepTrace,
    layer: usize,
    selection: &Selection,
) -> Option<(usize, usize)> {
    let record = &trace.layers[layer];
    let w = record.weight_before.as_ref()?;
    match record.spec {
        LayerSpec::Dense { .. } => Some((
            dense_unit(trace, layer, selection),
            dense_input(trace, layer, selection),
        )),
        LayerSpec::Conv2d { filters, .. } => {
            let unit = image_unit(record, layer, selection);
            let filter = unit % filters;
            let col = selection
                .input(layer)
                .filter(|&c| c < w.ncols())
                .unwrap_or_else(|| {
                    record
                        .grad_weight
                        .as_ref()
                        .map_or(0, |g| argmax_abs(g.row(filter)))
                });
            Some((filter, col))
        }
        _ => None,
    }
}

/// The blocks of `phase`.
pub fn explain(trace: &StepTrace, phase: Phase, selection: &Selection) -> Vec<Block> {
    match phase {
        Phase::Input => input(trace, selection),
        Phase::Forward(i) => forward(trace, i, selection),
        Phase::Loss => loss(trace, selection),
        Phase::OutputGradient => output_gradient(trace, selection),
        Phase::Backward(i) => backward(trace, i, selection),
        Phase::Update(i) => update(trace, i, selection),
        Phase::Check => vec![Block::Text(format!(
            "Loss on the same {} before the update: {}, after it: {}.",
            if trace.targets.nrows() == 1 {
                "sample"
            } else {
                "batch"
            },
            num(trace.loss),
            num(trace.loss_after)
        ))],
    }
}

fn batch_words(trace: &StepTrace, selection: &Selection) -> String {
    let n = trace.targets.nrows();
    let which = match &trace.samples {
        Some(samples) => format!("training sample {}", samples[selection.row.min(n - 1)]),
        None => "the probe".into(),
    };
    if n == 1 {
        format!("a batch of one: {which}")
    } else {
        format!(
            "row {} of a batch of {n}: {which}",
            selection.row.min(n - 1)
        )
    }
}

fn input(trace: &StepTrace, selection: &Selection) -> Vec<Block> {
    let x = trace
        .input()
        .row(selection.row.min(trace.input().nrows() - 1));
    let y = row(&trace.targets, selection.row);
    let mut blocks = vec![Block::Text(format!(
        "x is {}, {} values ({}).",
        batch_words(trace, selection),
        x.len(),
        trace.input_shape
    ))];
    if x.len() <= TABLE_UP_TO {
        blocks.push(Block::Formula(format!(
            "x = [{}]",
            x.iter().map(|&v| n32(v)).collect::<Vec<_>>().join(", ")
        )));
    } else {
        blocks.push(summary("x", x.iter().copied()));
    }
    blocks.push(Block::Formula(format!(
        "y = [{}]   (the target the loss compares the output with)",
        y.iter().map(|&v| n32(v)).collect::<Vec<_>>().join(", ")
    )));
    blocks
}

fn forward(trace: &StepTrace, layer: usize, selection: &Selection) -> Vec<Block> {
    let record = &trace.layers[layer];
    let r = selection.row;
    match &record.spec {
        LayerSpec::Dense { activation, .. } => {
            let (Some(w), Some(b), Some(z)) =
                (&record.weight_before, &record.bias_before, &record.z)
            else {
                return Vec::new();
            };
            let j = dense_unit(trace, layer, selection);
            let terms = Terms::new(w.row(j), row(&record.input, r), b[j]);
            let (zj, aj) = (row(z, r)[j], row(&record.a, r)[j]);
            let mut blocks = vec![
                Block::Text(format!(
                    "Unit {j}: its weighted sum of the {} inputs, plus its bias, then {}.",
                    w.ncols(),
                    activation.name()
                )),
                Block::Formula(format!("z_{j} = sum_i W[{j},i]·x_i + b_{j}")),
                Block::Formula(format!("     = {}", terms.written())),
                Block::Formula(format!("     = {}", n32(zj))),
                Block::Formula(format!(
                    "a_{j} = {}",
                    activation_written(*activation, zj, aj)
                )),
            ];
            blocks.extend(layer_values(record, r, Some(j)));
            blocks
        }
        LayerSpec::Conv2d {
            filters,
            kernel,
            padding,
            activation,
        } => conv_forward(
            record,
            layer,
            selection,
            *filters,
            *kernel,
            *padding,
            *activation,
        ),
        LayerSpec::MaxPool2d { size } => pool_forward(record, layer, selection, *size),
        LayerSpec::Flatten => vec![Block::Text(format!(
            "Flatten: the {} image becomes a vector of {} values, in channels-last order \
             (index = (y·width + x)·channels + channel). No number changes.",
            record.input_shape,
            record.output_shape.len()
        ))],
        LayerSpec::Dropout { rate } => {
            let x = row(&record.input, r);
            let a = row(&record.a, r);
            let dropped = x
                .iter()
                .zip(a.iter())
                .filter(|(x, a)| **x != 0.0 && **a == 0.0)
                .count();
            vec![Block::Text(format!(
                "Dropout while training: each value is zeroed with probability {rate}, the \
                 others are scaled by 1/(1 - {rate}) = {} so the mean stays. In this row {dropped} \
                 of {} values were zeroed.",
                num(1.0 / (1.0 - f64::from(*rate))),
                x.len()
            ))]
        }
    }
}

/// Every unit's z and a (a table for a small layer), or a picture and a summary of a.
fn layer_values(record: &LayerTrace, r: usize, chosen: Option<usize>) -> Vec<Block> {
    let a = row(&record.a, r);
    if a.len() > TABLE_UP_TO {
        return vec![
            grid(format!("a of the {} units, row by row", a.len()), a),
            summary("a over the layer's units", a.iter().copied()),
        ];
    }
    let z = record.z.as_ref().map(|z| row(z, r));
    vec![Block::Table {
        header: vec!["unit".into(), "z".into(), "a".into()],
        rows: (0..a.len())
            .map(|u| {
                vec![
                    u.to_string(),
                    z.map_or("-".into(), |z| n32(z[u])),
                    n32(a[u]),
                ]
            })
            .collect(),
        highlight: chosen,
    }]
}

/// (y, x, channel) of flat channels-last index `index` in an image of `shape`.
fn position(index: usize, shape: crate::nn::Shape) -> (usize, usize, usize) {
    let c = index % shape.channels;
    let pixel = index / shape.channels;
    (pixel / shape.width, pixel % shape.width, c)
}

#[allow(clippy::too_many_arguments)]
fn conv_forward(
    record: &LayerTrace,
    layer: usize,
    selection: &Selection,
    filters: usize,
    kernel: usize,
    padding: Padding,
    activation: Activation,
) -> Vec<Block> {
    let (Some(w), Some(b), Some(z)) = (&record.weight_before, &record.bias_before, &record.z)
    else {
        return Vec::new();
    };
    let r = selection.row;
    let unit = image_unit(record, layer, selection);
    let (oy, ox, f) = position(unit, record.output_shape);
    let input = record.input_shape;
    let pad = match padding {
        Padding::Valid => 0,
        Padding::Same => kernel / 2,
    };
    let x = row(&record.input, r);
    // channel 0's patch, kernel and products; other channels summed
    let mut patch = Vec::new();
    let mut sum = f64::from(b[f]);
    let mut channel_sums = vec![0.0f64; input.channels];
    for ky in 0..kernel {
        let mut cells = Vec::new();
        for kx in 0..kernel {
            let (iy, ix) = (
                (oy + ky) as isize - pad as isize,
                (ox + kx) as isize - pad as isize,
            );
            for c in 0..input.channels {
                let value = if iy < 0
                    || ix < 0
                    || iy >= input.height as isize
                    || ix >= input.width as isize
                {
                    0.0
                } else {
                    x[(iy as usize * input.width + ix as usize) * input.channels + c]
                };
                let weight = w[(f, (ky * kernel + kx) * input.channels + c)];
                channel_sums[c] += f64::from(value) * f64::from(weight);
                if c == 0 {
                    cells.push(format!("{}·{}", factor(value), factor(weight)));
                }
            }
        }
        patch.push(cells);
    }
    sum += channel_sums.iter().sum::<f64>();
    let (zv, av) = (row(z, r)[unit], row(&record.a, r)[unit]);
    let mut blocks = vec![
        Block::Text(format!(
            "Filter {f} at output position (y {oy}, x {ox}): the {kernel}x{kernel} patch of the \
             input under it times the filter's weights, summed, plus the bias{}.",
            if input.channels > 1 {
                format!(
                    " (over all {} input channels; channel 0 shown)",
                    input.channels
                )
            } else {
                String::new()
            }
        )),
        Block::Table {
            header: (0..kernel).map(|kx| format!("x+{kx}")).collect(),
            rows: patch,
            highlight: None,
        },
        Block::Formula(format!(
            "z = {} + b_{f} ({}) = {}   (recomputed: {})",
            channel_sums
                .iter()
                .map(|&s| num(s))
                .collect::<Vec<_>>()
                .join(" + "),
            n32(b[f]),
            n32(zv),
            num(sum)
        )),
        Block::Formula(format!("a = {}", activation_written(activation, zv, av))),
    ];
    blocks.push(channel_map(
        format!(
            "filter {f}'s feature map ({}x{})",
            record.output_shape.height, record.output_shape.width
        ),
        row(&record.a, r),
        record.output_shape,
        f,
    ));
    blocks.push(summary(
        &format!(
            "a of filter {f} over the {} positions",
            record.output_shape.height * record.output_shape.width
        ),
        row(&record.a, r).iter().skip(f).step_by(filters).copied(),
    ));
    blocks
}

fn pool_forward(
    record: &LayerTrace,
    layer: usize,
    selection: &Selection,
    size: usize,
) -> Vec<Block> {
    let r = selection.row;
    let unit = image_unit(record, layer, selection);
    let (oy, ox, c) = position(unit, record.output_shape);
    let input = record.input_shape;
    let x = row(&record.input, r);
    let value = |dy: usize, dx: usize| {
        x[((oy * size + dy) * input.width + ox * size + dx) * input.channels + c]
    };
    let winner = row(&record.a, r)[unit];
    // the first maximum in reading order wins (as backward routes the gradient)
    let first = (0..size * size).find(|&i| value(i / size, i % size) == winner);
    let rows = (0..size)
        .map(|dy| {
            (0..size)
                .map(|dx| {
                    let v = value(dy, dx);
                    if Some(dy * size + dx) == first {
                        format!("[{}]", n32(v))
                    } else {
                        n32(v)
                    }
                })
                .collect()
        })
        .collect();
    vec![
        Block::Text(format!(
            "Max pooling, channel {c}, output (y {oy}, x {ox}): the largest of its {size}x{size} \
             window wins (in brackets); only it will receive gradient."
        )),
        Block::Table {
            header: (0..size).map(|dx| format!("x+{dx}")).collect(),
            rows,
            highlight: None,
        },
        Block::Formula(format!("a = max(window) = {}", n32(winner))),
        channel_map(
            format!(
                "channel {c} after pooling ({}x{})",
                record.output_shape.height, record.output_shape.width
            ),
            row(&record.a, r),
            record.output_shape,
            c,
        ),
    ]
}

fn loss(trace: &StepTrace, selection: &Selection) -> Vec<Block> {
    let last = trace.layers.last().expect("a network has layers");
    let r = selection.row.min(trace.targets.nrows() - 1);
    let (a, y) = (row(&last.a, r), row(&trace.targets, r));
    let n = trace.targets.nrows();
    let mut blocks = Vec::new();
    match (trace.settings.loss, trace.output_activation()) {
        (Loss::Mse, _) => {
            let m = a.len();
            blocks.push(Block::Formula(format!(
                "L = (1/(n·m)) sum (a - y)^2   (n = {n} samples, m = {m} outputs)"
            )));
            let terms: Vec<String> = a
                .iter()
                .zip(y.iter())
                .map(|(&a, &y)| format!("({} - {})^2", n32(a), n32(y)))
                .collect();
            let sum: f64 = a
                .iter()
                .zip(y.iter())
                .map(|(&a, &y)| f64::from(a - y).powi(2))
                .sum();
            blocks.push(Block::Formula(format!(
                "this sample: {} = {}",
                terms.join(" + "),
                num(sum)
            )));
        }
        (Loss::CrossEntropy, Activation::Softmax) => {
            let z = last.z.as_ref().map(|z| row(z, r));
            blocks.push(Block::Formula(
                "L = -(1/n) sum_k y_k log p_k,   p_k = softmax(z)_k = e^z_k / sum_j e^z_j".into(),
            ));
            if let Some(z) = z {
                let max = z.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                let total: f64 = z
                    .iter()
                    .map(|&v| (f64::from(v) - f64::from(max)).exp())
                    .sum();
                blocks.push(Block::Table {
                    header: vec![
                        "k".into(),
                        "z_k".into(),
                        "e^(z_k - max z)".into(),
                        "p_k".into(),
                        "y_k".into(),
                    ],
                    rows: (0..z.len())
                        .map(|k| {
                            let e = (f64::from(z[k]) - f64::from(max)).exp();
                            vec![k.to_string(), n32(z[k]), num(e), num(e / total), n32(y[k])]
                        })
                        .collect(),
                    highlight: Some(argmax(y)),
                });
                // -log p_k = log sum_j e^z_j - z_k, from the logits (finite even where p_k
                // underflows to 0), as the loss itself is computed
                let lse = f64::from(max) + total.ln();
                let per_sample: f64 = (0..z.len())
                    .map(|k| f64::from(y[k]) * (lse - f64::from(z[k])))
                    .sum();
                blocks.push(Block::Formula(format!(
                    "this sample: -log p_{} = -log {} = {}",
                    argmax(y),
                    n32(a[argmax(y)]),
                    num(per_sample)
                )));
            }
        }
        (Loss::CrossEntropy, _) => {
            blocks.push(Block::Formula(
                "L = -(1/(n·m)) sum [y log a + (1 - y) log(1 - a)],   a = sigmoid(z)".into(),
            ));
            let z = last.z.as_ref().map(|z| row(z, r));
            for (k, (&a, &y)) in a.iter().zip(y.iter()).enumerate() {
                // from z, as the loss is computed: softplus(z) - y z, finite where a rounds to 0 or 1
                let value = z.map_or(f64::NAN, |z| {
                    let z = f64::from(z[k]);
                    z.max(0.0) + (-z.abs()).exp().ln_1p() - f64::from(y) * z
                });
                blocks.push(Block::Formula(format!(
                    "output {k}: -[{} log {} + (1 - {}) log(1 - {})] = {}",
                    n32(y),
                    n32(a),
                    n32(y),
                    n32(a),
                    num(value)
                )));
            }
        }
    }
    blocks.push(Block::Formula(format!(
        "L = {}   ({} over the batch of {n})",
        num(trace.loss),
        trace.settings.loss.name()
    )));
    blocks
}

fn output_gradient(trace: &StepTrace, selection: &Selection) -> Vec<Block> {
    let last_index = trace.layers.len() - 1;
    let last = &trace.layers[last_index];
    let r = selection.row.min(trace.targets.nrows() - 1);
    let (a, y) = (row(&last.a, r), row(&trace.targets, r));
    let grad_a = row(&last.grad_a, r);
    let Some(grad_z) = last.grad_z.as_ref().map(|g| row(g, r)) else {
        return vec![Block::Text("The output layer has no parameters.".into())];
    };
    let z = last.z.as_ref().map(|z| row(z, r));
    let n = trace.targets.nrows();
    let m = a.len();
    let activation = trace.output_activation();
    let mut blocks = Vec::new();
    match trace.settings.loss {
        Loss::CrossEntropy => {
            let divisor = if activation == Activation::Softmax {
                n
            } else {
                n * m
            };
            blocks.push(Block::Text(format!(
                "Cross-entropy on {} outputs: the two derivatives cancel into one simple form.",
                activation.name()
            )));
            blocks.push(Block::Formula(format!(
                "dL/dz_k = (a_k - y_k) / {}",
                if activation == Activation::Softmax {
                    "n"
                } else {
                    "(n·m)"
                }
            )));
            for k in 0..m {
                blocks.push(Block::Formula(format!(
                    "dL/dz_{k} = ({} - {}) / {divisor} = {}",
                    n32(a[k]),
                    n32(y[k]),
                    n32(grad_z[k])
                )));
            }
        }
        Loss::Mse => {
            blocks.push(Block::Formula(format!(
                "dL/da_k = 2(a_k - y_k) / (n·m),   dL/dz_k = dL/da_k · f'(z_k)   (f = {})",
                activation.name()
            )));
            for k in 0..m {
                let zk = z.map_or(0.0, |z| z[k]);
                match derivative(activation, zk, a[k]) {
                    Some((written, value)) => blocks.push(Block::Formula(format!(
                        "k = {k}: dL/da = {},  f' = {written} = {},  dL/dz = {}",
                        n32(grad_a[k]),
                        n32(value),
                        n32(grad_z[k])
                    ))),
                    None => blocks.push(Block::Formula(format!(
                        "k = {k}: dL/da = {},  dL/dz = a_k(dL/da_k - sum_j dL/da_j a_j) = {}",
                        n32(grad_a[k]),
                        n32(grad_z[k])
                    ))),
                }
            }
            if matches!(activation, Activation::Sigmoid | Activation::Softmax) {
                let divisor = if activation == Activation::Softmax {
                    n
                } else {
                    n * m
                };
                let k = argmax_abs(ArrayView1::from(
                    &a.iter()
                        .zip(y.iter())
                        .map(|(a, y)| a - y)
                        .collect::<Vec<_>>(),
                ));
                let with_ce = (a[k] - y[k]) / divisor as f32;
                blocks.push(Block::Text(format!(
                    "Why cross-entropy learns faster: MSE multiplies by f'(z), which is tiny when \
                     the output saturates near 0 or 1, even if it is wrong. Here output {k} gets \
                     dL/dz = {} with MSE; cross-entropy would give (a - y)/{} = {}.",
                    n32(grad_z[k]),
                    if activation == Activation::Softmax {
                        "n"
                    } else {
                        "(n·m)"
                    },
                    n32(with_ce)
                )));
            }
        }
    }
    blocks
}

fn backward(trace: &StepTrace, layer: usize, selection: &Selection) -> Vec<Block> {
    let record = &trace.layers[layer];
    let r = selection.row.min(trace.targets.nrows() - 1);
    let n = trace.targets.nrows();
    let mut blocks = Vec::new();
    match &record.spec {
        LayerSpec::Dense { activation, .. } => {
            let (Some(w), Some(grad_w), Some(grad_b), Some(grad_z), Some(z)) = (
                &record.weight_before,
                &record.grad_weight,
                &record.grad_bias,
                &record.grad_z,
                &record.z,
            ) else {
                return blocks;
            };
            let j = dense_unit(trace, layer, selection);
            let i = dense_input(trace, layer, selection);
            let (aj, zj, ga, gz) = (
                row(&record.a, r)[j],
                row(z, r)[j],
                row(&record.grad_a, r)[j],
                row(grad_z, r)[j],
            );
            if layer + 1 < trace.layers.len() {
                match derivative(*activation, zj, aj) {
                    Some((written, value)) => blocks.push(Block::Formula(format!(
                        "delta_{j} = dL/dz_{j} = dL/da_{j} · f'(z_{j}) = {} · ({written} = {}) = {}",
                        n32(ga),
                        n32(value),
                        n32(gz)
                    ))),
                    None => blocks.push(Block::Formula(format!("delta_{j} = dL/dz_{j} = {}", n32(gz)))),
                }
            } else {
                blocks.push(Block::Formula(format!(
                    "delta_{j} = dL/dz_{j} = {}   (the output gradient)",
                    n32(gz)
                )));
            }
            let products: Vec<(f32, f32)> = (0..n)
                .map(|s| (row(grad_z, s)[j], row(&record.input, s)[i]))
                .collect();
            let written = if n <= 4 {
                products
                    .iter()
                    .map(|&(d, x)| format!("{}·{}", factor(d), factor(x)))
                    .collect::<Vec<_>>()
                    .join(" + ")
            } else {
                format!("sum over the {n} samples of delta·x")
            };
            blocks.push(Block::Formula(format!(
                "dL/dW[{j},{i}] = sum over samples s of delta_{j}(s)·x_{i}(s) = {written} = {}",
                n32(grad_w[(j, i)])
            )));
            blocks.push(Block::Formula(format!(
                "dL/db_{j} = sum over samples s of delta_{j}(s) = {}{}",
                n32(grad_b[j]),
                if n > 1 {
                    format!("   (summed over the {n} samples)")
                } else {
                    String::new()
                }
            )));
            match &record.grad_input {
                Some(grad_x) => {
                    let deltas = row(grad_z, r);
                    let terms = Terms::new(w.column(i), deltas, 0.0);
                    blocks.push(Block::Formula(format!(
                        "dL/dx_{i} = sum_j W[j,{i}]·delta_j = {} = {}   (passed down to layer {})",
                        terms.written().trim_end_matches(" + 0"),
                        n32(row(grad_x, r)[i]),
                        layer.saturating_sub(1)
                    )));
                }
                None => blocks.push(Block::Text(
                    "dL/dx is not needed here: x is the data, not something to learn.".into(),
                )),
            }
            if grad_w.len() > TABLE_UP_TO * TABLE_UP_TO {
                blocks.push(summary("dL/dW over the layer", grad_w.iter().copied()));
            }
        }
        LayerSpec::Conv2d { kernel, .. } => {
            let (Some(grad_w), Some(grad_b)) = (&record.grad_weight, &record.grad_bias) else {
                return blocks;
            };
            let Some((f, col)) = chosen_weight(trace, layer, selection) else {
                return blocks;
            };
            let channels = record.input_shape.channels;
            let (ky, kx, c) = (
                col / channels / kernel,
                col / channels % kernel,
                col % channels,
            );
            blocks.push(Block::Text(format!(
                "A filter's weight touches every output position of its map: its gradient sums \
                 delta·(the input under that weight) over all {} positions{}.",
                record.output_shape.height * record.output_shape.width,
                if n > 1 {
                    format!(" and the {n} samples")
                } else {
                    String::new()
                }
            )));
            blocks.push(Block::Formula(format!(
                "dL/dW[filter {f}, ky {ky}, kx {kx}, channel {c}] = {}",
                n32(grad_w[(f, col)])
            )));
            blocks.push(Block::Formula(format!(
                "dL/db_{f} = sum of filter {f}'s deltas = {}",
                n32(grad_b[f])
            )));
            blocks.push(Block::Text(format!(
                "dL/dW of filter {f}, input channel {c}:"
            )));
            blocks.push(Block::Table {
                header: (0..*kernel).map(|kx| format!("kx {kx}")).collect(),
                rows: (0..*kernel)
                    .map(|ky| {
                        (0..*kernel)
                            .map(|kx| n32(grad_w[(f, (ky * kernel + kx) * channels + c)]))
                            .collect()
                    })
                    .collect(),
                highlight: Some(ky),
            });
        }
        LayerSpec::MaxPool2d { .. } => {
            let gx = record.grad_input.as_ref().map(|g| row(g, r));
            let nonzero = gx.map_or(0, |g| g.iter().filter(|v| **v != 0.0).count());
            blocks.push(Block::Text(format!(
                "Max pooling passes each output's gradient to its window's winner only: {nonzero} \
                 of {} inputs receive gradient in this row, the rest get 0.",
                record.input_shape.len()
            )));
        }
        LayerSpec::Flatten => blocks.push(Block::Text(
            "Flatten passes the gradient back unchanged, shaped as the image again.".into(),
        )),
        LayerSpec::Dropout { .. } => blocks.push(Block::Text(
            "Dropout passes the gradient back through the same mask: zeroed values get none, \
             kept ones get it scaled by 1/(1 - rate)."
                .into(),
        )),
    }
    blocks
}

fn update(trace: &StepTrace, layer: usize, selection: &Selection) -> Vec<Block> {
    let record = &trace.layers[layer];
    let (Some((j, i)), Some(before), Some(after), Some(grad)) = (
        chosen_weight(trace, layer, selection),
        &record.weight_before,
        &record.weight_after,
        &record.grad_weight,
    ) else {
        return vec![Block::Text(format!(
            "{} has no parameters: nothing to update.",
            record.spec.describe()
        ))];
    };
    let settings = trace.settings.optimizer;
    let (w0, w1, g) = (before[(j, i)], after[(j, i)], grad[(j, i)]);
    let lr = settings.learning_rate;
    let decay = settings.weight_decay;
    let flat = j * before.ncols() + i;
    let mut blocks = vec![Block::Text(format!(
        "The weight W[{j},{i}] under {} (learning rate {}).",
        settings.optimizer.name(),
        n32(lr)
    ))];
    let g_used = if decay > 0.0 {
        let with = g + decay * w0;
        blocks.push(Block::Formula(format!(
            "g = dL/dW + lambda·w = {} + {}·{} = {}   (L2)",
            n32(g),
            n32(decay),
            factor(w0),
            n32(with)
        )));
        with
    } else {
        blocks.push(Block::Formula(format!("g = dL/dW = {}", n32(g))));
        g
    };
    fn tensor(state: Option<&crate::nn::LayerState>) -> Option<&TensorState> {
        state.map(|s| &s.weight)
    }
    match settings.optimizer {
        Optimizer::Sgd => blocks.push(Block::Formula(format!(
            "w <- w - lr·g = {} - {}·{} = {}",
            n32(w0),
            n32(lr),
            factor(g_used),
            n32(w1)
        ))),
        Optimizer::Momentum { momentum } => {
            let velocity = |s: Option<&TensorState>| match s {
                Some(TensorState::Momentum { velocity }) => velocity.get(flat).copied(),
                _ => None,
            };
            let (v0, v1) = (
                velocity(tensor(trace.state_before(layer))).unwrap_or(0.0),
                velocity(tensor(record.state.as_ref())).unwrap_or(0.0),
            );
            blocks.push(Block::Formula(format!(
                "v <- mu·v + g = {}·{} + {} = {}",
                n32(momentum),
                factor(v0),
                factor(g_used),
                n32(v1)
            )));
            blocks.push(Block::Formula(format!(
                "w <- w - lr·v = {} - {}·{} = {}",
                n32(w0),
                n32(lr),
                factor(v1),
                n32(w1)
            )));
        }
        Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => {
            let moments = |s: Option<&TensorState>| match s {
                Some(TensorState::Adam { m, v }) => Some((m[flat], v[flat])),
                _ => None,
            };
            let (m0, v0) = moments(tensor(trace.state_before(layer))).unwrap_or((0.0, 0.0));
            let (m1, v1) = moments(tensor(record.state.as_ref())).unwrap_or((0.0, 0.0));
            let t = trace.t;
            let c1 = 1.0 - f64::from(beta1).powi(t as i32);
            let c2 = 1.0 - f64::from(beta2).powi(t as i32);
            let (m_hat, v_hat) = (f64::from(m1) / c1, f64::from(v1) / c2);
            let delta = -(f64::from(lr) * m_hat / (v_hat.sqrt() + f64::from(epsilon)));
            blocks.extend([
                Block::Formula(format!(
                    "m <- b1·m + (1 - b1)·g = {}·{} + {}·{} = {}",
                    n32(beta1),
                    factor(m0),
                    n32(1.0 - beta1),
                    factor(g_used),
                    n32(m1)
                )),
                Block::Formula(format!(
                    "v <- b2·v + (1 - b2)·g^2 = {}·{} + {}·{}^2 = {}",
                    n32(beta2),
                    factor(v0),
                    num(1.0 - f64::from(beta2)),
                    factor(g_used),
                    n32(v1)
                )),
                Block::Formula(format!(
                    "t = {t}:  m_hat = m / (1 - b1^t) = {} / {} = {},  v_hat = v / (1 - b2^t) = {} / {} = {}",
                    n32(m1),
                    num(c1),
                    num(m_hat),
                    n32(v1),
                    num(c2),
                    num(v_hat)
                )),
                Block::Formula(format!(
                    "delta w = -lr·m_hat / (sqrt(v_hat) + eps) = -{}·{} / ({} + {}) = {}",
                    n32(lr),
                    factor(m_hat as f32),
                    num(v_hat.sqrt()),
                    n32(epsilon),
                    num(delta)
                )),
                Block::Formula(format!(
                    "w <- w + delta w = {} + {} = {}",
                    n32(w0),
                    factor(delta as f32),
                    n32(w1)
                )),
            ]);
        }
    }
    if let (Some(b0), Some(b1)) = (&record.bias_before, &record.bias_after) {
        blocks.push(Block::Text(format!(
            "Its unit's bias, with the same rule and no L2: {} -> {}.",
            n32(b0[j]),
            n32(b1[j])
        )));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{Preset, RunConfig};

    fn trace(name: &str, loss: Loss) -> StepTrace {
        let mut config = RunConfig::from_preset(&Preset::named(name).unwrap(), 42);
        config.settings.loss = loss;
        config.build().unwrap().trace_next_batch().unwrap()
    }

    #[test]
    fn numbers_have_four_significant_figures() {
        assert_eq!(num(0.5), "0.5000");
        assert_eq!(num(0.46211715), "0.4621");
        assert_eq!(num(2.40018), "2.400");
        assert_eq!(num(-123.45), "-123.5");
        assert_eq!(num(0.000123456), "0.0001235");
        assert_eq!(num(1e-9), "1.000e-9");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn the_shown_terms_and_the_rest_add_up_to_z() {
        for name in ["xor", "spiral", "mnist-mlp"] {
            let trace = trace(name, Loss::CrossEntropy);
            for (layer, record) in trace.layers.iter().enumerate() {
                let (Some(w), Some(b), Some(z)) =
                    (&record.weight_before, &record.bias_before, &record.z)
                else {
                    continue;
                };
                for r in 0..record.input.nrows().min(3) {
                    for j in 0..w.nrows() {
                        let terms = Terms::new(w.row(j), record.input.row(r), b[j]);
                        let shown = terms.shown.len() + terms.rest.map_or(0, |rest| rest.0);
                        assert_eq!(shown, w.ncols(), "every term counted once");
                        assert!(terms.shown.len() <= ALL_TERMS_UP_TO);
                        let z = f64::from(z[(r, j)]);
                        assert!(
                            (terms.total() - z).abs() <= 1e-5 * z.abs().max(1.0),
                            "{name} layer {layer} row {r} unit {j}: {} vs {z}",
                            terms.total()
                        );
                    }
                }
            }
        }
        // a wide unit shows its largest terms and sums the rest
        let trace = trace("mnist-mlp", Loss::CrossEntropy);
        let record = &trace.layers[1];
        let terms = Terms::new(
            record.weight_before.as_ref().unwrap().row(0),
            record.input.row(0),
            0.0,
        );
        assert_eq!(terms.shown.len(), LARGEST_TERMS);
        assert_eq!(terms.rest.unwrap().0, 784 - LARGEST_TERMS);
        assert!(
            terms.written().contains("[779 more terms:"),
            "{}",
            terms.written()
        );
    }

    fn text(blocks: &[Block]) -> String {
        plain_text(blocks)
    }

    #[test]
    fn every_phase_of_every_preset_says_something_with_its_numbers() {
        for name in ["xor", "mnist-cnn"] {
            for loss in Loss::ALL {
                let trace = trace(name, loss);
                let selection = Selection::default();
                for phase in Phase::all(trace.layers.len()) {
                    let blocks = explain(&trace, phase, &selection);
                    assert!(!blocks.is_empty(), "{name} {phase:?}");
                }
                let loss_text = text(&explain(&trace, Phase::Loss, &selection));
                assert!(
                    loss_text.contains(&format!("L = {}", num(trace.loss))),
                    "{loss_text}"
                );
            }
        }
    }

    #[test]
    fn the_forward_phase_writes_the_activation_with_its_numbers() {
        let trace = trace("xor", Loss::CrossEntropy);
        let mut selection = Selection::default();
        selection.choose_unit(0, 2);
        let forward = text(&explain(&trace, Phase::Forward(0), &selection));
        let (z, a) = (
            trace.layers[0].z.as_ref().unwrap()[(0, 2)],
            trace.layers[0].a[(0, 2)],
        );
        assert!(
            forward.contains(&format!("a_2 = tanh({}) = {}", n32(z), n32(a))),
            "{forward}"
        );
        assert!((a - z.tanh()).abs() < 1e-6);
    }

    #[test]
    fn mse_on_a_sigmoid_output_shows_the_derivative_and_what_cross_entropy_would_give() {
        let trace = trace("xor", Loss::Mse);
        let text = text(&explain(
            &trace,
            Phase::OutputGradient,
            &Selection::default(),
        ));
        assert!(text.contains("f' = a(1 - a)"), "{text}");
        assert!(text.contains("cross-entropy would give"), "{text}");
        let ce = trace.with_loss(Loss::CrossEntropy).unwrap();
        let fused = text_of(&ce);
        assert!(fused.contains("dL/dz_k = (a_k - y_k) / (n·m)"), "{fused}");
    }

    fn text_of(trace: &StepTrace) -> String {
        text(&explain(
            trace,
            Phase::OutputGradient,
            &Selection::default(),
        ))
    }

    #[test]
    fn adams_update_spells_out_m_v_t_and_the_bias_correction() {
        let trace = trace("xor", Loss::CrossEntropy);
        let blocks = explain(&trace, Phase::Update(0), &Selection::default());
        let text = text(&blocks);
        for part in [
            "m <- b1·m",
            "v <- b2·v",
            "t = 1",
            "m_hat",
            "v_hat",
            "delta w",
        ] {
            assert!(text.contains(part), "{part} in {text}");
        }
        // the written result is the trace's weight after the update
        let (j, i) = chosen_weight(&trace, 0, &Selection::default()).unwrap();
        let after = trace.layers[0].weight_after.as_ref().unwrap()[(j, i)];
        assert!(text.contains(&format!("= {}", n32(after))), "{text}");
    }
}
