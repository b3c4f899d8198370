//! One training step recorded phase by phase, with every number the trainer used: each layer's
//! input, z and a, the loss, dL/da and dL/dz, dL/dW and dL/db, the weights before and after,
//! and the optimizer's state after. It is computed on copies, so recording changes nothing in
//! the run; the same phases on the run itself give the same numbers bit for bit.

use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{Array1, Array2, ArrayView2};

use super::{StepPhases, TrainError, TrainSettings};
use crate::nn::{
    Activation, LayerPass, LayerSpec, LayerState, Loss, Network, OptimizerState, Params, Pass, Rng,
    Shape,
};

/// What one layer did in the step. Shapes: activations [batch, features] (images flat,
/// channels-last); weight [units, inputs] (dense) or [filters, k * k * in_channels] (conv).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerTrace {
    pub spec: LayerSpec,
    pub input_shape: Shape,
    pub output_shape: Shape,
    /// x: the layer's input, [batch, input_len].
    pub input: Array2<f32>,
    /// z = W x + b, [batch, output_len] (dense and conv).
    pub z: Option<Array2<f32>>,
    /// a = f(z), the layer's output, [batch, output_len].
    pub a: Array2<f32>,
    /// dL/da, [batch, output_len].
    pub grad_a: Array2<f32>,
    /// dL/dz, [batch, output_len] (dense and conv).
    pub grad_z: Option<Array2<f32>>,
    /// dL/dx, [batch, input_len] (not computed for the first layer, whose input is the data).
    pub grad_input: Option<Array2<f32>>,
    pub weight_before: Option<Array2<f32>>,
    pub bias_before: Option<Array1<f32>>,
    /// dL/dW and dL/db of the loss alone (the optimizer adds the L2 term).
    pub grad_weight: Option<Array2<f32>>,
    pub grad_bias: Option<Array1<f32>>,
    pub weight_after: Option<Array2<f32>>,
    pub bias_after: Option<Array1<f32>>,
    /// The optimizer's state for this layer after the update (before it: see
    /// [`StepTrace::state_before`]).
    pub state: Option<LayerState>,
}

/// Trace ids are unique in the process and only grow.
static NEXT_TRACE_ID: AtomicU64 = AtomicU64::new(1);

/// A whole training step.
#[derive(Clone, Debug)]
pub struct StepTrace {
    /// Grows with every trace recorded: views key what they cache by it.
    pub id: u64,
    /// The step this is (the run's step count after it).
    pub step: u64,
    /// Training-split indices of the batch's rows; None for a sample from elsewhere (a test
    /// image, a drawing).
    pub samples: Option<Vec<usize>>,
    /// The targets as the loss sees them, [batch, outputs].
    pub targets: Array2<f32>,
    pub settings: TrainSettings,
    /// Adam's t after the update.
    pub t: u64,
    pub loss: f64,
    /// The loss on the same batch (same dropout mask) after the update.
    pub loss_after: f64,
    pub input_shape: Shape,
    pub layers: Vec<LayerTrace>,
    /// The network, optimizer state and generator as the step found them, for checks and
    /// for recording the step again with another loss.
    network_before: Network,
    optimizer_before: OptimizerState,
    rng_before: Rng,
}

/// Two traces are equal when they recorded the same numbers (whatever their ids).
impl PartialEq for StepTrace {
    fn eq(&self, other: &Self) -> bool {
        self.step == other.step
            && self.samples == other.samples
            && self.targets == other.targets
            && self.settings == other.settings
            && self.t == other.t
            && self.loss.to_bits() == other.loss.to_bits()
            && self.loss_after.to_bits() == other.loss_after.to_bits()
            && self.input_shape == other.input_shape
            && self.layers == other.layers
    }
}

impl StepTrace {
    /// Runs one step of `network` with `optimizer` and `settings` on inputs [batch, input_len]
    /// and targets [batch, outputs], on copies, recording every phase. `rng` is the generator
    /// the step would draw dropout masks from; `step` is the step count it would reach.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        network: &Network,
        optimizer: &OptimizerState,
        settings: &TrainSettings,
        rng: &Rng,
        inputs: ArrayView2<f32>,
        targets: ArrayView2<f32>,
        samples: Option<Vec<usize>>,
        step: u64,
    ) -> Result<StepTrace, TrainError> {
        // the weights alone: the buffers of the trainer's last pass need not be copied
        let mut after = weights_only(network)?;
        let mut state = optimizer.clone();
        let mut step_rng = rng.clone();
        let mut phases = StepPhases::begin(
            &mut after,
            &mut state,
            settings,
            &mut step_rng,
            inputs,
            targets,
        )?;
        let loss = phases.forward_and_finite_loss(step)?;
        phases.backward();
        phases.update();
        let t = state.t();
        // the copy's buffers and the new state move into the record (no second copy); the loss
        // after the update runs through a copy of the new weights alone
        let mut updated = weights_only(&after)?;
        let layers = layer_traces(network, after.into_pass(), state.into_layers());
        let mut mask_rng = rng.clone();
        updated.forward(inputs, Some(&mut mask_rng))?;
        let loss_after = updated.loss(settings.loss, targets)?;
        Ok(StepTrace {
            id: NEXT_TRACE_ID.fetch_add(1, Ordering::Relaxed),
            step,
            samples,
            targets: targets.to_owned(),
            settings: *settings,
            t,
            loss,
            loss_after,
            input_shape: network.input_shape(),
            layers,
            network_before: weights_only(network)?,
            optimizer_before: optimizer.clone(),
            rng_before: rng.clone(),
        })
    }

    /// The optimizer's state for layer `layer` as the step found it.
    pub fn state_before(&self, layer: usize) -> Option<&LayerState> {
        self.optimizer_before.layer(layer)
    }

    /// The output layer's activation.
    pub fn output_activation(&self) -> Activation {
        self.layers
            .last()
            .map_or(Activation::Linear, |l| l.spec.activation())
    }

    /// The network's input, [batch, input_len].
    pub fn input(&self) -> &Array2<f32> {
        &self.layers[0].input
    }

    /// The network's output, [batch, outputs].
    pub fn output(&self) -> &Array2<f32> {
        &self.layers[self.layers.len() - 1].a
    }

    /// dL/dW[row, col] of layer `layer` by central differences of the loss (h = 1e-3, the same
    /// batch and dropout mask), to set beside the analytic gradient. None for a layer without
    /// weights or an index outside them.
    pub fn numeric_gradient(&self, layer: usize, row: usize, col: usize) -> Option<f64> {
        const H: f32 = 1e-3;
        let mut network = self.network_before.clone();
        network.layer_params_mut(layer)?.weight.get((row, col))?;
        let mut at = |delta: f32| {
            if let Some(w) = network
                .layer_params_mut(layer)
                .and_then(|p| p.weight.get_mut((row, col)))
            {
                *w += delta;
            }
            loss_with_mask(
                &network,
                self.settings.loss,
                &self.rng_before,
                self.input().view(),
                self.targets.view(),
            )
            .ok()
        };
        let plus = at(H)?;
        let minus = at(-2.0 * H)?;
        Some((plus - minus) / (2.0 * f64::from(H)))
    }

    /// The same step with another loss (the step-through's loss phase switches it).
    pub fn with_loss(&self, loss: Loss) -> Result<StepTrace, TrainError> {
        let settings = TrainSettings {
            loss,
            ..self.settings
        };
        StepTrace::record(
            &self.network_before,
            &self.optimizer_before,
            &settings,
            &self.rng_before,
            self.input().view(),
            self.targets.view(),
            self.samples.clone(),
            self.step,
        )
    }
}

/// Every layer's record: weights before from `before`; the pass and the state after moved in.
fn layer_traces(before: &Network, pass: Pass, states: Vec<Option<LayerState>>) -> Vec<LayerTrace> {
    let Pass {
        activations,
        grads,
        layers,
    } = pass;
    let count = layers.len();
    let mut activations = activations.into_iter();
    let mut grads = grads.into_iter().skip(1);
    let mut input = activations.next().unwrap_or_default();
    let mut grad_input = None;
    let mut records = Vec::with_capacity(count);
    for (index, ((LayerPass { params, z, grad_z }, state), layer)) in layers
        .into_iter()
        .zip(states)
        .zip(before.layers())
        .enumerate()
    {
        let a = activations.next().unwrap_or_default();
        let grad_a = grads.next().unwrap_or_default();
        let params_before = layer.params();
        let (weight_after, bias_after, grad_weight, grad_bias) = match params {
            Some(Params {
                weight,
                bias,
                grad_weight,
                grad_bias,
            }) => (Some(weight), Some(bias), Some(grad_weight), Some(grad_bias)),
            None => (None, None, None, None),
        };
        records.push(LayerTrace {
            spec: layer.spec().clone(),
            input_shape: layer.input_shape(),
            output_shape: layer.output_shape(),
            input: std::mem::replace(&mut input, a.clone()),
            z,
            a,
            grad_a: grad_a.clone(),
            grad_z,
            // dL/dx of layer i is dL/da of layer i - 1 (not computed for the first layer)
            grad_input: grad_input.take().filter(|_| index > 0),
            weight_before: params_before.map(|p| p.weight.clone()),
            bias_before: params_before.map(|p| p.bias.clone()),
            grad_weight,
            grad_bias,
            weight_after,
            bias_after,
            state,
        });
        grad_input = Some(grad_a);
    }
    records
}

/// A copy of `network`'s weights and biases, without the buffers of its last pass.
fn weights_only(network: &Network) -> Result<Network, TrainError> {
    let params = network.params().map(|p| (p.weight.clone(), p.bias.clone()));
    Ok(Network::with_params(
        network.input_shape(),
        &network.specs(),
        params,
    )?)
}

/// The training-mode loss of `network` on a batch, with dropout masks drawn from a copy of `rng`.
fn loss_with_mask(
    network: &Network,
    loss: Loss,
    rng: &Rng,
    inputs: ArrayView2<f32>,
    targets: ArrayView2<f32>,
) -> Result<f64, TrainError> {
    let mut network = network.clone();
    let mut rng = rng.clone();
    network.forward(inputs, Some(&mut rng))?;
    Ok(network.loss(loss, targets)?)
}
