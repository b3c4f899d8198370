//! Fully connected layer: z = x · Wᵀ + b.

use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::linalg::matmul;

/// x: [batch, in], weight: [out, in], bias: [out] -> z: [batch, out] (already shaped).
pub fn forward(x: ArrayView2<f32>, weight: &Array2<f32>, bias: &Array1<f32>, z: &mut Array2<f32>) {
    matmul(x, weight.t(), z.view_mut(), false);
    *z += bias;
}

/// From grad_z = dL/dz [batch, out]:
/// dL/dW [out, in] = grad_zᵀ · x, dL/db [out] = sum over the batch of grad_z,
/// and, when asked for, dL/dx [batch, in] = grad_z · W.
pub fn backward(
    x: ArrayView2<f32>,
    weight: &Array2<f32>,
    grad_z: &Array2<f32>,
    grad_weight: &mut Array2<f32>,
    grad_bias: &mut Array1<f32>,
    grad_x: Option<&mut Array2<f32>>,
) {
    matmul(grad_z.t(), x, grad_weight.view_mut(), false);
    grad_bias.assign(&grad_z.sum_axis(Axis(0)));
    if let Some(grad_x) = grad_x {
        matmul(grad_z.view(), weight.view(), grad_x.view_mut(), false);
    }
}
