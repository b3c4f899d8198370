//! One training step recorded phase by phase, with every number the trainer used: each layer's
//! input, z and a, the loss, dL/da and dL/dz, dL/dW and dL/db, the weights before and after,
//! and the optimizer's state after. It is computed on copies, so recording changes nothing in
//! the run; the same phases on the run itself give the same numbers bit for bit.

use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{Array1, Array2, ArrayView2};

use super::{StepPhases, TrainError, TrainSettings};
use crate::nn::{Activation, LayerSpec, LayerState, Loss, Network, OptimizerState, Rng, Shape};

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
    /// The optimizer's state for this layer before and after the update.
    pub state_before: Option<LayerState>,
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
        let mut after = network.clone();
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
        let loss = phases.forward_and_loss()?;
        if !loss.is_finite() {
            return Err(TrainError::Diverged {
                step,
                loss,
                learning_rate: settings.optimizer.learning_rate,
                optimizer: settings.optimizer.optimizer.name(),
                loss_name: settings.loss.name(),
            });
        }
        phases.backward();
        phases.update();
        let layers = (0..network.layers().len())
            .map(|i| layer_trace(network, &after, optimizer, &state, i))
            .collect();
        let t = state.t();
        let loss_after = loss_with_mask(&after, settings.loss, rng, inputs, targets)?;
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
            network_before: network.clone(),
            optimizer_before: optimizer.clone(),
            rng_before: rng.clone(),
        })
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

/// Layer `index`'s record from the network and optimizer state before the step and after it.
fn layer_trace(
    before: &Network,
    after: &Network,
    state_before: &OptimizerState,
    state: &OptimizerState,
    index: usize,
) -> LayerTrace {
    let layer = &after.layers()[index];
    let params_before = before.layers()[index].params();
    let params_after = layer.params();
    LayerTrace {
        spec: layer.spec().clone(),
        input_shape: layer.input_shape(),
        output_shape: layer.output_shape(),
        input: after.activation(index).clone(),
        z: layer.pre_activation().cloned(),
        a: after.activation(index + 1).clone(),
        grad_a: after.grad_activation(index + 1).clone(),
        grad_z: layer.grad_pre_activation().cloned(),
        grad_input: (index > 0).then(|| after.grad_activation(index).clone()),
        weight_before: params_before.map(|p| p.weight.clone()),
        bias_before: params_before.map(|p| p.bias.clone()),
        grad_weight: params_after.map(|p| p.grad_weight.clone()),
        grad_bias: params_after.map(|p| p.grad_bias.clone()),
        weight_after: params_after.map(|p| p.weight.clone()),
        bias_after: params_after.map(|p| p.bias.clone()),
        state_before: state_before.layer(index).cloned(),
        state: state.layer(index).cloned(),
    }
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
