//! Losses, as Keras defines them: the mean over the batch (MSE also over the outputs).

use ndarray::{Array2, ArrayView1, ArrayView2, Zip};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::Activation;
use super::activation::sigmoid;

/// The training objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// L = (1 / (batch * outputs)) * sum (y - a)^2.
    Mse,
    /// Softmax output: L = -(1 / batch) * sum y log a.
    /// Sigmoid output (binary): L = -(1 / (batch * outputs)) * sum [y log a + (1 - y) log(1 - a)].
    CrossEntropy,
}

#[derive(Debug, Error, PartialEq)]
pub enum LossError {
    #[error("the network outputs {prediction:?} (batch, outputs) but the targets are {target:?}")]
    ShapeMismatch {
        prediction: (usize, usize),
        target: (usize, usize),
    },
    #[error(
        "cross-entropy needs probabilities: a softmax output with 2 or more units, or sigmoid \
         units; this network ends in {units} {activation} unit(s)"
    )]
    NotProbabilities {
        activation: &'static str,
        units: usize,
    },
}

/// Probabilities are clipped to [EPSILON, 1 - EPSILON] where a logarithm or division needs it.
const EPSILON: f32 = 1e-7;

impl Loss {
    pub const ALL: [Loss; 2] = [Loss::Mse, Loss::CrossEntropy];

    pub fn name(self) -> &'static str {
        match self {
            Loss::Mse => "MSE",
            Loss::CrossEntropy => "cross-entropy",
        }
    }

    /// The loss's formula for a network whose output units are `output`: cross-entropy is
    /// the categorical form on softmax outputs and the binary form on sigmoid ones.
    pub fn formula(self, output: Activation) -> &'static str {
        match (self, output) {
            (Loss::Mse, _) => "L = (1/(n·m)) sum (y - y_hat)^2",
            (Loss::CrossEntropy, Activation::Sigmoid) => {
                "L = -(1/(n·m)) sum [y log y_hat + (1 - y) log(1 - y_hat)]"
            }
            (Loss::CrossEntropy, _) => "L = -(1/n) sum y log y_hat",
        }
    }

    /// Whether this loss can train a network whose output layer has `units` units of `output`.
    pub fn check(self, output: Activation, units: usize) -> Result<(), LossError> {
        match (self, output) {
            (Loss::Mse, _) => Ok(()),
            (Loss::CrossEntropy, Activation::Softmax) if units >= 2 => Ok(()),
            (Loss::CrossEntropy, Activation::Sigmoid) => Ok(()),
            (Loss::CrossEntropy, _) => Err(LossError::NotProbabilities {
                activation: output.name(),
                units,
            }),
        }
    }

    fn check_shapes(a: ArrayView2<f32>, y: ArrayView2<f32>) -> Result<(), LossError> {
        if a.dim() == y.dim() {
            Ok(())
        } else {
            Err(LossError::ShapeMismatch {
                prediction: a.dim(),
                target: y.dim(),
            })
        }
    }

    /// The mean loss. z: the output layer's pre-activation, a = f(z), y: targets,
    /// all [batch, outputs]. Cross-entropy is computed from z (log-sum-exp, softplus),
    /// which stays finite where log(a) would not.
    pub fn value(
        self,
        output: Activation,
        z: ArrayView2<f32>,
        a: ArrayView2<f32>,
        y: ArrayView2<f32>,
    ) -> Result<f64, LossError> {
        Self::check_shapes(a, y)?;
        self.check(output, a.ncols())?;
        let batch = a.nrows().max(1) as f64;
        let mut sum = 0.0f64;
        match (self, output) {
            (Loss::Mse, _) => {
                Zip::from(a)
                    .and(y)
                    .for_each(|&a, &y| sum += f64::from(a - y).powi(2));
                Ok(sum / (batch * a.ncols() as f64))
            }
            (Loss::CrossEntropy, Activation::Softmax) => {
                for (z, y) in z.rows().into_iter().zip(y.rows()) {
                    let max = z.fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
                    let lse = max + z.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln();
                    Zip::from(z)
                        .and(y)
                        .for_each(|&z, &y| sum += y as f64 * (lse - z as f64));
                }
                Ok(sum / batch)
            }
            (Loss::CrossEntropy, _) => {
                // -(y log s(z) + (1 - y) log(1 - s(z))) = softplus(z) - y z
                Zip::from(z).and(y).for_each(|&z, &y| {
                    let (z, y) = (z as f64, y as f64);
                    sum += z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z;
                });
                Ok(sum / (batch * a.ncols() as f64))
            }
        }
    }

    /// dL/da, [batch, outputs]. For cross-entropy this divides by a (clipped), so it is what the
    /// step-through view shows; training uses [`Loss::fused_grad_pre_activation`] when it applies.
    pub fn grad_output(
        self,
        output: Activation,
        a: ArrayView2<f32>,
        y: ArrayView2<f32>,
    ) -> Array2<f32> {
        let batch = a.nrows().max(1) as f32;
        let per_value = batch * a.ncols() as f32;
        let mut grad = Array2::zeros(a.dim());
        match (self, output) {
            (Loss::Mse, _) => Zip::from(&mut grad)
                .and(a)
                .and(y)
                .for_each(|g, &a, &y| *g = 2.0 * (a - y) / per_value),
            (Loss::CrossEntropy, Activation::Softmax) => Zip::from(&mut grad)
                .and(a)
                .and(y)
                .for_each(|g, &a, &y| *g = -y / (a.max(EPSILON) * batch)),
            (Loss::CrossEntropy, _) => Zip::from(&mut grad).and(a).and(y).for_each(|g, &a, &y| {
                let a = a.clamp(EPSILON, 1.0 - EPSILON);
                *g = (a - y) / (a * (1.0 - a) * per_value)
            }),
        }
        grad
    }

    /// dL/dz for cross-entropy on a softmax output ((a * sum y - y) / batch, i.e. (p - y) / batch
    /// for one-hot targets) or on sigmoid outputs ((a - y) / (batch * outputs)): the fused,
    /// numerically stable gradient. None where it does not apply.
    pub fn fused_grad_pre_activation(
        self,
        output: Activation,
        z: ArrayView2<f32>,
        a: ArrayView2<f32>,
        y: ArrayView2<f32>,
    ) -> Option<Array2<f32>> {
        let batch = a.nrows().max(1) as f32;
        match (self, output) {
            (Loss::CrossEntropy, Activation::Softmax) => {
                let mut grad = Array2::zeros(a.dim());
                Zip::from(grad.rows_mut())
                    .and(a.rows())
                    .and(y.rows())
                    .for_each(|mut g, a, y| {
                        let total = y.sum();
                        Zip::from(&mut g)
                            .and(a)
                            .and(y)
                            .for_each(|g, &a, &y| *g = (a * total - y) / batch);
                    });
                Some(grad)
            }
            (Loss::CrossEntropy, Activation::Sigmoid) => {
                let per_value = batch * a.ncols() as f32;
                let mut grad = Array2::zeros(a.dim());
                Zip::from(&mut grad)
                    .and(z)
                    .and(y)
                    .for_each(|g, &z, &y| *g = (sigmoid(z) - y) / per_value);
                Some(grad)
            }
            _ => None,
        }
    }
}

/// How many rows of `output` [batch, outputs] predict their label: the arg-max for several
/// outputs, `a >= 0.5` meaning class 1 for a single output.
pub fn count_correct(output: ArrayView2<f32>, labels: &[usize]) -> usize {
    output
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(row, label)| predicted_class(*row) == **label)
        .count()
}

/// The class a row of outputs predicts (see [`count_correct`]).
pub fn predicted_class(row: ArrayView1<f32>) -> usize {
    if row.len() == 1 {
        usize::from(row[0] >= 0.5)
    } else {
        row.iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                if v > best.1 { (i, v) } else { best }
            })
            .0
    }
}
