//! Matrix products, the one place the network's heavy arithmetic goes through.

use ndarray::{ArrayView2, ArrayViewMut2, linalg::general_mat_mul};

/// `c = a · b` (or `c += a · b` when `accumulate`). a: [m, k], b: [k, n], c: [m, n].
///
/// Views may be transposed (`x.t()`): the kernel reads any strides without copying.
pub fn matmul(a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>, accumulate: bool) {
    let beta = if accumulate { 1.0 } else { 0.0 };
    general_mat_mul(1.0, &a, &b, beta, &mut c);
}
