//! Optimizers. The hyperparameters ([`OptimizerSettings`]) and the per-parameter state
//! ([`OptimizerState`]) are separate values, so the trainer can change the learning rate or
//! swap the optimizer between any two batches while the weights stay as they are.
//!
//! Swapping to a different *kind* of optimizer (SGD, momentum, Adam) needs fresh state (zero
//! velocity, zero moments, t = 0): the trainer makes it and records that it did; changing only
//! the hyperparameters keeps the state.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Network, Params};

/// Which update rule, with its own hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Optimizer {
    /// w <- w - lr * g
    Sgd,
    /// v <- momentum * v + g;  w <- w - lr * v  (PyTorch's form)
    Momentum { momentum: f32 },
    /// m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    /// w <- w - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + epsilon)
    Adam {
        beta1: f32,
        beta2: f32,
        epsilon: f32,
    },
}

impl Optimizer {
    /// Momentum 0.9.
    pub const MOMENTUM: Optimizer = Optimizer::Momentum { momentum: 0.9 };
    /// The paper's defaults: beta1 0.9, beta2 0.999, epsilon 1e-8.
    pub const ADAM: Optimizer = Optimizer::Adam {
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-8,
    };

    pub fn name(&self) -> &'static str {
        match self {
            Optimizer::Sgd => "SGD",
            Optimizer::Momentum { .. } => "momentum",
            Optimizer::Adam { .. } => "Adam",
        }
    }

    pub fn formula(&self) -> &'static str {
        match self {
            Optimizer::Sgd => "w <- w - lr * g",
            Optimizer::Momentum { .. } => "v <- mu * v + g;  w <- w - lr * v",
            Optimizer::Adam { .. } => {
                "m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  w <- w - lr * m_hat / (sqrt(v_hat) + eps)"
            }
        }
    }

    /// True when both are the same update rule (their state is interchangeable).
    pub fn same_kind(&self, other: &Optimizer) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// Everything about the update that a user sets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSettings {
    pub optimizer: Optimizer,
    pub learning_rate: f32,
    /// L2 penalty (lambda / 2) * sum w^2 on weights (not biases): adds lambda * w to their gradient.
    #[serde(default)]
    pub weight_decay: f32,
}

impl OptimizerSettings {
    /// Rejects settings no optimizer can run with, saying which and why.
    pub fn validate(&self) -> Result<(), String> {
        let lr = self.learning_rate;
        if !(lr.is_finite() && lr > 0.0 && lr <= 100.0) {
            return Err(format!("learning rate must be in (0, 100], found {lr}"));
        }
        if !(self.weight_decay.is_finite() && (0.0..=1.0).contains(&self.weight_decay)) {
            return Err(format!(
                "L2 weight decay must be in [0, 1], found {}",
                self.weight_decay
            ));
        }
        match self.optimizer {
            Optimizer::Sgd => Ok(()),
            Optimizer::Momentum { momentum } if (0.0..1.0).contains(&momentum) => Ok(()),
            Optimizer::Momentum { momentum } => {
                Err(format!("momentum must be in [0, 1), found {momentum}"))
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) {
                    Err(format!(
                        "Adam's betas must be in [0, 1), found {beta1} and {beta2}"
                    ))
                } else if !(epsilon.is_finite() && epsilon > 0.0) {
                    Err(format!("Adam's epsilon must be positive, found {epsilon}"))
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// What an optimizer keeps for one parameter tensor, one value per parameter, named as the
/// update rule names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TensorState {
    /// SGD keeps nothing.
    Sgd,
    /// The velocity v.
    Momentum { velocity: Vec<f32> },
    /// The first and second moment estimates m and v.
    Adam { m: Vec<f32>, v: Vec<f32> },
}

impl TensorState {
    /// Zero state of `optimizer`'s kind for a tensor of `len` values.
    fn zeros(optimizer: Optimizer, len: usize) -> Self {
        match optimizer {
            Optimizer::Sgd => TensorState::Sgd,
            Optimizer::Momentum { .. } => TensorState::Momentum {
                velocity: vec![0.0; len],
            },
            Optimizer::Adam { .. } => TensorState::Adam {
                m: vec![0.0; len],
                v: vec![0.0; len],
            },
        }
    }

    /// Values it holds.
    fn len(&self) -> usize {
        match self {
            TensorState::Sgd => 0,
            TensorState::Momentum { velocity } => velocity.len(),
            TensorState::Adam { m, v } => m.len() + v.len(),
        }
    }

    /// Whether this state belongs to `optimizer`'s kind and holds `len` values.
    fn fits(&self, optimizer: Optimizer, len: usize) -> bool {
        match (self, optimizer) {
            (TensorState::Sgd, Optimizer::Sgd) => true,
            (TensorState::Momentum { velocity }, Optimizer::Momentum { .. }) => {
                velocity.len() == len
            }
            (TensorState::Adam { m, v }, Optimizer::Adam { .. }) => {
                m.len() == len && v.len() == len
            }
            _ => false,
        }
    }
}

/// The optimizer's state for one layer with parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerState {
    /// For W: [units * inputs] values, in W's order.
    pub weight: TensorState,
    /// For b: [units].
    pub bias: TensorState,
}

/// The state of one kind of optimizer for a whole network: one [`LayerState`] per layer with
/// parameters, and the number of updates taken (Adam's t). Updated a layer at a time
/// ([`OptimizerState::begin_update`], then [`OptimizerState::update_layer`] for each layer), or
/// all at once ([`OptimizerState::step`]). Changing the kind of optimizer is its owner's
/// decision: it makes a new state; this one refuses to run another kind's rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    optimizer: Optimizer,
    t: u64,
    /// One per layer of the network, None for layers without parameters.
    layers: Vec<Option<LayerState>>,
}

/// An optimizer state that does not fit the network or the settings it is used with.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("optimizer state: {0}")]
pub struct StateError(pub String);

impl OptimizerState {
    /// Fresh state for `optimizer` on `network`'s parameters: zeros, t = 0.
    pub fn new(optimizer: Optimizer, network: &Network) -> Self {
        let layers = network
            .layers()
            .iter()
            .map(|layer| {
                layer.params().map(|p| LayerState {
                    weight: TensorState::zeros(optimizer, p.weight.len()),
                    bias: TensorState::zeros(optimizer, p.bias.len()),
                })
            })
            .collect();
        Self {
            optimizer,
            t: 0,
            layers,
        }
    }

    /// The kind (and hyperparameters, at the last update) this state belongs to.
    /// Values it holds over every layer (SGD: none).
    pub fn values(&self) -> usize {
        self.layers
            .iter()
            .flatten()
            .map(|layer| layer.weight.len() + layer.bias.len())
            .sum()
    }

    pub fn optimizer(&self) -> Optimizer {
        self.optimizer
    }

    /// Updates taken since this state was created (Adam's t).
    pub fn t(&self) -> u64 {
        self.t
    }

    /// The state of layer `index` (None for a layer without parameters).
    pub fn layer(&self, index: usize) -> Option<&LayerState> {
        self.layers.get(index).and_then(Option::as_ref)
    }

    /// The per-layer states, taken out (None for layers without parameters).
    pub fn into_layers(self) -> Vec<Option<LayerState>> {
        self.layers
    }

    /// Whether this state can update `network` with `optimizer`: the same kind, and a tensor
    /// state of the right length for every parameter. Run files check this on load.
    pub fn check(&self, optimizer: Optimizer, network: &Network) -> Result<(), StateError> {
        if !self.optimizer.same_kind(&optimizer) {
            return Err(StateError(format!(
                "it belongs to {}, the settings say {}",
                self.optimizer.name(),
                optimizer.name()
            )));
        }
        if self.layers.len() != network.layers().len() {
            return Err(StateError(format!(
                "it has {} layers, the network {}",
                self.layers.len(),
                network.layers().len()
            )));
        }
        for (index, (state, layer)) in self.layers.iter().zip(network.layers()).enumerate() {
            let fits = match (state, layer.params()) {
                (None, None) => true,
                (Some(state), Some(p)) => {
                    state.weight.fits(optimizer, p.weight.len())
                        && state.bias.fits(optimizer, p.bias.len())
                }
                _ => false,
            };
            if !fits {
                return Err(StateError(format!(
                    "layer {index} ({}) does not match its parameters",
                    layer.spec().describe()
                )));
            }
        }
        Ok(())
    }

    /// Starts one update of the whole network: t <- t + 1. Panics if `settings` name another
    /// kind of optimizer (the owner replaces the state when the kind changes).
    pub fn begin_update(&mut self, settings: &OptimizerSettings) {
        assert!(
            self.optimizer.same_kind(&settings.optimizer),
            "{} state used for a {} update",
            self.optimizer.name(),
            settings.optimizer.name()
        );
        self.optimizer = settings.optimizer;
        self.t += 1;
    }

    /// The update of layer `index`'s parameters from their gradients, at step t (after
    /// [`OptimizerState::begin_update`]). L2 applies to the weight, not the bias.
    pub fn update_layer(
        &mut self,
        settings: &OptimizerSettings,
        index: usize,
        params: &mut Params,
    ) {
        let Some(Some(state)) = self.layers.get_mut(index) else {
            return;
        };
        let rule = Rule::new(settings, self.t);
        let weight = params
            .weight
            .as_slice_mut()
            .expect("owned arrays are contiguous");
        let grad = params
            .grad_weight
            .as_slice()
            .expect("owned arrays are contiguous");
        rule.apply_parallel(weight, grad, settings.weight_decay, &mut state.weight);
        let bias = params
            .bias
            .as_slice_mut()
            .expect("owned arrays are contiguous");
        let grad = params
            .grad_bias
            .as_slice()
            .expect("owned arrays are contiguous");
        rule.apply_parallel(bias, grad, 0.0, &mut state.bias);
    }

    /// One update of every parameter from the gradients of the last backward pass.
    pub fn step(&mut self, settings: &OptimizerSettings, network: &mut Network) {
        self.begin_update(settings);
        for index in 0..network.layers().len() {
            if let Some(params) = network.layer_params_mut(index) {
                self.update_layer(settings, index, params);
            }
        }
    }
}

/// The update rule with everything that depends only on the step number worked out.
enum Rule {
    Sgd {
        lr: f32,
    },
    Momentum {
        lr: f32,
        momentum: f32,
    },
    Adam {
        lr: f32,
        beta1: f32,
        beta2: f32,
        epsilon: f32,
        /// 1 - beta1^t and 1 - beta2^t
        correction1: f32,
        correction2: f32,
    },
}

/// Values too small to be normal floats become zero: Adam's moments of weights that stop
/// receiving gradient decay geometrically into subnormals, which x86 computes very slowly.
#[inline]
fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

impl Rule {
    fn new(settings: &OptimizerSettings, step: u64) -> Self {
        let lr = settings.learning_rate;
        match settings.optimizer {
            Optimizer::Sgd => Rule::Sgd { lr },
            Optimizer::Momentum { momentum } => Rule::Momentum { lr, momentum },
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                let t = step.min(i32::MAX as u64) as i32;
                Rule::Adam {
                    lr,
                    beta1,
                    beta2,
                    epsilon,
                    correction1: (1.0 - f64::from(beta1).powi(t)) as f32,
                    correction2: (1.0 - f64::from(beta2).powi(t)) as f32,
                }
            }
        }
    }

    /// [`Rule::apply`] on chunks of a large tensor, in parallel (every value updates alone).
    fn apply_parallel(&self, w: &mut [f32], g: &[f32], decay: f32, state: &mut TensorState) {
        const CHUNK: usize = 1 << 15;
        let (m_or_velocity, v_adam): (&mut [f32], &mut [f32]) = match state {
            TensorState::Sgd => (&mut [], &mut []),
            TensorState::Momentum { velocity } => (velocity, &mut []),
            TensorState::Adam { m, v } => (m, v),
        };
        if w.len() <= CHUNK {
            return self.apply(w, g, decay, m_or_velocity, v_adam);
        }
        let mut m_or_velocity = m_or_velocity.chunks_mut(CHUNK);
        let mut v_adam = v_adam.chunks_mut(CHUNK);
        let chunks: Vec<_> = w
            .chunks_mut(CHUNK)
            .zip(g.chunks(CHUNK))
            .map(|(w, g)| {
                (
                    w,
                    g,
                    m_or_velocity.next().unwrap_or_default(),
                    v_adam.next().unwrap_or_default(),
                )
            })
            .collect();
        chunks
            .into_par_iter()
            .for_each(|(w, g, m_or_velocity, v_adam)| {
                self.apply(w, g, decay, m_or_velocity, v_adam)
            });
    }

    /// w: parameter values, g: dL/dw, both [len]; `decay` is the L2 coefficient for these values;
    /// `m_or_velocity` holds the velocity (momentum) or m (Adam), `v_adam` holds Adam's v ([len] where the rule
    /// uses them, empty otherwise).
    fn apply(
        &self,
        w: &mut [f32],
        g: &[f32],
        decay: f32,
        m_or_velocity: &mut [f32],
        v_adam: &mut [f32],
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor was just seen to have AVX2.
            return unsafe { self.apply_avx2(w, g, decay, m_or_velocity, v_adam) };
        }
        self.apply_any_cpu(w, g, decay, m_or_velocity, v_adam);
    }

    /// The same loop compiled for AVX2: eight square roots and divisions at a time instead of
    /// four. Same operations in the same order, so the same results.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn apply_avx2(
        &self,
        w: &mut [f32],
        g: &[f32],
        decay: f32,
        m_or_velocity: &mut [f32],
        v_adam: &mut [f32],
    ) {
        self.apply_any_cpu(w, g, decay, m_or_velocity, v_adam);
    }

    #[inline(always)]
    fn apply_any_cpu(
        &self,
        w: &mut [f32],
        g: &[f32],
        decay: f32,
        m_or_velocity: &mut [f32],
        v_adam: &mut [f32],
    ) {
        match *self {
            Rule::Sgd { lr } => {
                for (w, &g) in w.iter_mut().zip(g) {
                    *w -= lr * (g + decay * *w);
                }
            }
            Rule::Momentum { lr, momentum } => {
                for ((w, &g), v) in w.iter_mut().zip(g).zip(m_or_velocity) {
                    *v = flush_subnormal(momentum * *v + g + decay * *w);
                    *w -= lr * *v;
                }
            }
            Rule::Adam {
                lr,
                beta1,
                beta2,
                epsilon,
                correction1,
                correction2,
            } => {
                let moments = m_or_velocity.iter_mut().zip(v_adam.iter_mut());
                for ((w, &g), (m, v)) in w.iter_mut().zip(g).zip(moments) {
                    let g = g + decay * *w;
                    *m = flush_subnormal(beta1 * *m + (1.0 - beta1) * g);
                    *v = flush_subnormal(beta2 * *v + (1.0 - beta2) * g * g);
                    let m_hat = *m / correction1;
                    let v_hat = *v / correction2;
                    *w -= lr * m_hat / (v_hat.sqrt() + epsilon);
                }
            }
        }
    }
}
