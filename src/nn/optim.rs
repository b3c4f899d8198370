//! Optimizers. The hyperparameters ([`OptimizerSettings`]) and the per-parameter state
//! ([`OptimizerState`]) are separate values, so the trainer can change the learning rate or
//! swap the optimizer between any two batches while the weights stay as they are.
//!
//! Swapping to a different *kind* of optimizer (SGD, momentum, Adam) starts it with fresh state
//! (zero velocity, zero moments, step count 0); changing only its hyperparameters keeps the state.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Network;

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

/// The running state of one parameter tensor: velocity (momentum) or m and v (Adam).
#[derive(Clone, Debug, Default)]
pub struct TensorState {
    pub first: Vec<f32>,
    pub second: Vec<f32>,
}

/// Per-parameter state of one optimizer kind, two tensors (weight, bias) per layer with
/// parameters, in layer order.
#[derive(Clone, Debug)]
pub struct OptimizerState {
    optimizer: Optimizer,
    steps: u64,
    tensors: Vec<TensorState>,
}

impl OptimizerState {
    /// Fresh state for `optimizer` on `network`'s parameters.
    pub fn new(optimizer: Optimizer, network: &Network) -> Self {
        let tensors = network
            .params()
            .flat_map(|p| [p.weight.len(), p.bias.len()])
            .map(|len| match optimizer {
                Optimizer::Sgd => TensorState::default(),
                Optimizer::Momentum { .. } => TensorState {
                    first: vec![0.0; len],
                    second: Vec::new(),
                },
                Optimizer::Adam { .. } => TensorState {
                    first: vec![0.0; len],
                    second: vec![0.0; len],
                },
            })
            .collect();
        Self {
            optimizer,
            steps: 0,
            tensors,
        }
    }

    /// Updates taken since this state was created (Adam's t).
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The state of tensor `index` (2 * layer-with-params + 0 for its weight, + 1 for its bias).
    pub fn tensor(&self, index: usize) -> Option<&TensorState> {
        self.tensors.get(index)
    }

    /// One update of every parameter from the gradients of the last backward pass. A state made
    /// for another kind of optimizer is replaced by a fresh one first.
    pub fn step(&mut self, settings: &OptimizerSettings, network: &mut Network) {
        if !self.optimizer.same_kind(&settings.optimizer)
            || self.tensors.len() != 2 * network.params().count()
        {
            *self = Self::new(settings.optimizer, network);
        }
        self.optimizer = settings.optimizer;
        self.steps += 1;
        let rule = Rule::new(settings, self.steps);
        for (params, state) in network.params_mut().zip(self.tensors.chunks_exact_mut(2)) {
            let [weight_state, bias_state] = state else {
                unreachable!("chunks of two")
            };
            let weight = params
                .weight
                .as_slice_mut()
                .expect("owned arrays are contiguous");
            let grad = params
                .grad_weight
                .as_slice()
                .expect("owned arrays are contiguous");
            rule.apply_parallel(weight, grad, settings.weight_decay, weight_state);
            let bias = params
                .bias
                .as_slice_mut()
                .expect("owned arrays are contiguous");
            let grad = params
                .grad_bias
                .as_slice()
                .expect("owned arrays are contiguous");
            rule.apply_parallel(bias, grad, 0.0, bias_state);
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
        if w.len() <= CHUNK {
            return self.apply(w, g, decay, &mut state.first, &mut state.second);
        }
        let mut first = state.first.chunks_mut(CHUNK);
        let mut second = state.second.chunks_mut(CHUNK);
        let chunks: Vec<_> = w
            .chunks_mut(CHUNK)
            .zip(g.chunks(CHUNK))
            .map(|(w, g)| {
                (
                    w,
                    g,
                    first.next().unwrap_or_default(),
                    second.next().unwrap_or_default(),
                )
            })
            .collect();
        chunks
            .into_par_iter()
            .for_each(|(w, g, first, second)| self.apply(w, g, decay, first, second));
    }

    /// w: parameter values, g: dL/dw, both [len]; `decay` is the L2 coefficient for these values;
    /// `first` holds the velocity or m, `second` holds v ([len] where the rule uses them).
    fn apply(&self, w: &mut [f32], g: &[f32], decay: f32, first: &mut [f32], second: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor was just seen to have AVX2.
            return unsafe { self.apply_avx2(w, g, decay, first, second) };
        }
        self.apply_any_cpu(w, g, decay, first, second);
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
        first: &mut [f32],
        second: &mut [f32],
    ) {
        self.apply_any_cpu(w, g, decay, first, second);
    }

    #[inline(always)]
    fn apply_any_cpu(
        &self,
        w: &mut [f32],
        g: &[f32],
        decay: f32,
        first: &mut [f32],
        second: &mut [f32],
    ) {
        match *self {
            Rule::Sgd { lr } => {
                for (w, &g) in w.iter_mut().zip(g) {
                    *w -= lr * (g + decay * *w);
                }
            }
            Rule::Momentum { lr, momentum } => {
                for ((w, &g), v) in w.iter_mut().zip(g).zip(first) {
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
                let moments = first.iter_mut().zip(second.iter_mut());
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
