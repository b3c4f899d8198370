use ndarray::{Array2, ArrayView2, Axis, Zip};
use serde::{Deserialize, Serialize};

/// The non-linearity `a = f(z)` applied after a layer's affine map.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    /// Row-wise softmax, for a classifier's output.
    Softmax,
}

impl Activation {
    pub const ALL: [Activation; 5] = [
        Activation::Linear,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softmax,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }

    /// The formula, for tooltips and the step-through view.
    pub fn formula(self) -> &'static str {
        match self {
            Activation::Linear => "f(z) = z",
            Activation::Relu => "f(z) = max(0, z)",
            Activation::Sigmoid => "f(z) = 1 / (1 + e^-z)",
            Activation::Tanh => "f(z) = tanh(z)",
            Activation::Softmax => "f(z)_i = e^z_i / sum_j e^z_j",
        }
    }

    /// a = f(z). z, a: [batch, units]; `a` must already have z's shape.
    pub fn forward(self, z: ArrayView2<f32>, a: &mut Array2<f32>) {
        match self {
            Activation::Linear => a.assign(&z),
            Activation::Relu => Zip::from(a).and(z).for_each(|a, &z| *a = z.max(0.0)),
            Activation::Sigmoid => Zip::from(a).and(z).for_each(|a, &z| *a = sigmoid(z)),
            Activation::Tanh => Zip::from(a).and(z).for_each(|a, &z| *a = z.tanh()),
            Activation::Softmax => {
                for (z_row, mut a_row) in z.rows().into_iter().zip(a.rows_mut()) {
                    let max = z_row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    let mut sum = 0.0;
                    Zip::from(&mut a_row).and(&z_row).for_each(|a, &z| {
                        *a = (z - max).exp();
                        sum += *a;
                    });
                    a_row.mapv_inplace(|v| v / sum);
                }
            }
        }
    }

    /// dL/dz from dL/da. z, a, grad_a, grad_z: [batch, units]; `grad_z` must have z's shape.
    pub fn backward(
        self,
        z: ArrayView2<f32>,
        a: ArrayView2<f32>,
        grad_a: ArrayView2<f32>,
        grad_z: &mut Array2<f32>,
    ) {
        match self {
            Activation::Linear => grad_z.assign(&grad_a),
            Activation::Relu => Zip::from(grad_z)
                .and(z)
                .and(grad_a)
                .for_each(|gz, &z, &ga| *gz = if z > 0.0 { ga } else { 0.0 }),
            Activation::Sigmoid => Zip::from(grad_z)
                .and(a)
                .and(grad_a)
                .for_each(|gz, &a, &ga| *gz = ga * a * (1.0 - a)),
            Activation::Tanh => Zip::from(grad_z)
                .and(a)
                .and(grad_a)
                .for_each(|gz, &a, &ga| *gz = ga * (1.0 - a * a)),
            Activation::Softmax => {
                // dz_i = a_i * (da_i - sum_j da_j a_j)
                let dots = (&grad_a * &a).sum_axis(Axis(1));
                Zip::from(grad_z.rows_mut())
                    .and(a.rows())
                    .and(grad_a.rows())
                    .and(&dots)
                    .for_each(|mut gz, a, ga, &dot| {
                        Zip::from(&mut gz)
                            .and(&a)
                            .and(&ga)
                            .for_each(|gz, &a, &ga| *gz = a * (ga - dot));
                    });
            }
        }
    }
}

/// The logistic function, safe for any finite z.
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn softmax_rows_sum_to_one_even_for_huge_inputs() {
        let z = array![[1000.0f32, 1001.0, 999.0], [-5.0, 0.0, 5.0]];
        let mut a = Array2::zeros(z.dim());
        Activation::Softmax.forward(z.view(), &mut a);
        for row in a.rows() {
            assert!((row.sum() - 1.0).abs() < 1e-6, "{row}");
            assert!(row.iter().all(|v| v.is_finite()));
        }
        assert!(a[[0, 1]] > a[[0, 0]] && a[[0, 0]] > a[[0, 2]]);
    }

    #[test]
    fn sigmoid_saturates_without_nan() {
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert_eq!(sigmoid(1000.0), 1.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-7);
    }
}
