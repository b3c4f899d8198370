//! A [`StepTrace`] as JSON, for scripts, for checking against other frameworks, and for
//! teachers preparing material: one object per training step. Layouts as in model files: dense
//! weight [units][inputs]; conv weight [filters][k*k*in_channels] in (ky, kx, channel) order;
//! activations [batch][features], images channels-last. Every number is written with f32's
//! shortest exact text; a number that is not finite is written as null.

use ndarray::{Array1, Array2};
use serde::Serialize;

use crate::nn::{LayerSpec, LayerState, Optimizer, Shape, TensorState};
use crate::train::{LayerTrace, StepTrace};

#[derive(Serialize)]
struct OptimizerJson {
    kind: &'static str,
    learning_rate: f32,
    momentum: Option<f32>,
    beta1: Option<f32>,
    beta2: Option<f32>,
    epsilon: Option<f32>,
    weight_decay: f32,
}

#[derive(Serialize)]
struct TraceJson<'a> {
    step: u64,
    samples: Option<&'a [usize]>,
    targets: Vec<Vec<f32>>,
    loss: f64,
    loss_kind: &'static str,
    optimizer: OptimizerJson,
    input_shape: [usize; 3],
    layers: Vec<LayerJson<'a>>,
}

#[derive(Serialize)]
struct LayerJson<'a> {
    index: usize,
    /// "type" and the layer's own fields (units, activation, filters, kernel, ...).
    #[serde(flatten)]
    spec: &'a LayerSpec,
    input_shape: [usize; 3],
    output_shape: [usize; 3],
    input: Vec<Vec<f32>>,
    z: Option<Vec<Vec<f32>>>,
    a: Vec<Vec<f32>>,
    grad_a: Vec<Vec<f32>>,
    grad_z: Option<Vec<Vec<f32>>>,
    weight_before: Option<Vec<Vec<f32>>>,
    bias_before: Option<Vec<f32>>,
    grad_weight: Option<Vec<Vec<f32>>>,
    grad_bias: Option<Vec<f32>>,
    weight_after: Option<Vec<Vec<f32>>>,
    bias_after: Option<Vec<f32>>,
    state: StateJson,
}

fn rows(a: &Array2<f32>) -> Vec<Vec<f32>> {
    a.rows().into_iter().map(|row| row.to_vec()).collect()
}

fn vector(b: &Array1<f32>) -> Vec<f32> {
    b.to_vec()
}

fn shape(s: Shape) -> [usize; 3] {
    [s.height, s.width, s.channels]
}

/// `values` (flat, in W's order) as rows of `columns`.
fn as_rows(values: &[f32], columns: usize) -> Vec<Vec<f32>> {
    values.chunks(columns.max(1)).map(<[f32]>::to_vec).collect()
}

/// {"t", "m_weight", "v_weight", "m_bias", "v_bias"} (Adam), {"velocity_weight",
/// "velocity_bias"} (momentum) or {} (SGD, or a layer without parameters).
#[derive(Default, Serialize)]
struct StateJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    m_weight: Option<Vec<Vec<f32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    v_weight: Option<Vec<Vec<f32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    m_bias: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    v_bias: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    velocity_weight: Option<Vec<Vec<f32>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    velocity_bias: Option<Vec<f32>>,
}

fn state_json(state: Option<&LayerState>, columns: usize, t: u64) -> StateJson {
    match state.map(|s| (&s.weight, &s.bias)) {
        Some((TensorState::Adam { m, v }, TensorState::Adam { m: mb, v: vb })) => StateJson {
            t: Some(t),
            m_weight: Some(as_rows(m, columns)),
            v_weight: Some(as_rows(v, columns)),
            m_bias: Some(mb.clone()),
            v_bias: Some(vb.clone()),
            ..StateJson::default()
        },
        Some((TensorState::Momentum { velocity }, TensorState::Momentum { velocity: vb })) => {
            StateJson {
                velocity_weight: Some(as_rows(velocity, columns)),
                velocity_bias: Some(vb.clone()),
                ..StateJson::default()
            }
        }
        _ => StateJson::default(),
    }
}

fn layer_json(index: usize, layer: &LayerTrace, t: u64) -> LayerJson<'_> {
    let columns = layer.weight_after.as_ref().map_or(0, |w| w.ncols());
    LayerJson {
        index,
        spec: &layer.spec,
        input_shape: shape(layer.input_shape),
        output_shape: shape(layer.output_shape),
        input: rows(&layer.input),
        z: layer.z.as_ref().map(rows),
        a: rows(&layer.a),
        grad_a: rows(&layer.grad_a),
        grad_z: layer.grad_z.as_ref().map(rows),
        weight_before: layer.weight_before.as_ref().map(rows),
        bias_before: layer.bias_before.as_ref().map(vector),
        grad_weight: layer.grad_weight.as_ref().map(rows),
        grad_bias: layer.grad_bias.as_ref().map(vector),
        weight_after: layer.weight_after.as_ref().map(rows),
        bias_after: layer.bias_after.as_ref().map(vector),
        state: state_json(layer.state.as_ref(), columns, t),
    }
}

fn optimizer_json(trace: &StepTrace) -> OptimizerJson {
    let settings = trace.settings.optimizer;
    let (kind, momentum, betas) = match settings.optimizer {
        Optimizer::Sgd => ("sgd", None, None),
        Optimizer::Momentum { momentum } => ("momentum", Some(momentum), None),
        Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => ("adam", None, Some((beta1, beta2, epsilon))),
    };
    OptimizerJson {
        kind,
        learning_rate: settings.learning_rate,
        momentum,
        beta1: betas.map(|b| b.0),
        beta2: betas.map(|b| b.1),
        epsilon: betas.map(|b| b.2),
        weight_decay: settings.weight_decay,
    }
}

/// One line of JSON for `trace`.
pub fn trace_json(trace: &StepTrace) -> String {
    let json = TraceJson {
        step: trace.step,
        samples: trace.samples.as_deref(),
        targets: rows(&trace.targets),
        loss: trace.loss,
        loss_kind: match trace.settings.loss {
            crate::nn::Loss::Mse => "mse",
            crate::nn::Loss::CrossEntropy => "cross-entropy",
        },
        optimizer: optimizer_json(trace),
        input_shape: shape(trace.input_shape),
        layers: trace
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| layer_json(i, layer, trace.t))
            .collect(),
    };
    serde_json::to_string(&json).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
