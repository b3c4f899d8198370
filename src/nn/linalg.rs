//! Matrix products, the one place the network's heavy arithmetic goes through.

use ndarray::{ArrayView2, ArrayViewMut2, Axis};

/// Products smaller than this many multiply-adds run on the calling thread alone.
const PARALLEL_THRESHOLD: usize = 1 << 18;

/// `c = a · b` (or `c += a · b` when `accumulate`). a: [m, k], b: [k, n], c: [m, n].
///
/// Views may be transposed (`x.t()`) or otherwise strided: the kernel reads any strides.
pub fn matmul(a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>, accumulate: bool) {
    let ((m, k), (k_b, n)) = (a.dim(), b.dim());
    assert!(
        k == k_b && c.dim() == (m, n),
        "matmul of {:?} by {:?} into {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    if m * n * k < PARALLEL_THRESHOLD {
        return product(a, b, c, accumulate);
    }
    // Two halves, one per core, each a single-threaded product: the larger of the output's two
    // sides is split, so each half reads its own part of one operand and all of the other.
    if n >= m {
        let (b_left, b_right) = b.split_at(Axis(1), n / 2);
        let (c_left, c_right) = c.split_at(Axis(1), n / 2);
        rayon::join(
            || product(a, b_left, c_left, accumulate),
            || product(a, b_right, c_right, accumulate),
        );
    } else {
        let (a_top, a_bottom) = a.split_at(Axis(0), m / 2);
        let (c_top, c_bottom) = c.split_at(Axis(0), m / 2);
        rayon::join(
            || product(a_top, b, c_top, accumulate),
            || product(a_bottom, b, c_bottom, accumulate),
        );
    }
}

/// The kernel call itself, shapes already checked and non-empty.
fn product(a: ArrayView2<f32>, b: ArrayView2<f32>, mut c: ArrayViewMut2<f32>, accumulate: bool) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let (a_strides, b_strides) = (a.strides(), b.strides());
    let (c_row_stride, c_col_stride) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the pointers and strides come from live ndarray views whose shapes were checked
    // above to be [m, k], [k, n] and [m, n]; `c` is borrowed mutably and so aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_col_stride,
            c_row_stride,
            accumulate,
            a.as_ptr(),
            a_strides[1],
            a_strides[0],
            b.as_ptr(),
            b_strides[1],
            b_strides[0],
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::seeded_rng;
    use ndarray::Array2;
    use rand::Rng as _;

    fn naive(a: ArrayView2<f32>, b: ArrayView2<f32>) -> Array2<f32> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols())
                .map(|k| f64::from(a[[i, k]]) * f64::from(b[[k, j]]))
                .sum::<f64>() as f32
        })
    }

    #[test]
    fn every_path_matches_the_definition() {
        let mut rng = seeded_rng(3);
        let mut random =
            |shape| Array2::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0f32));
        // small (one call), wide and tall (split in two), transposed operands, accumulation
        for (m, k, n) in [(3, 4, 5), (32, 300, 128), (200, 64, 30), (64, 784, 128)] {
            let a = random((m, k));
            let b_transposed = random((n, k));
            let expected = naive(a.view(), b_transposed.t());
            let mut c = Array2::zeros((m, n));
            matmul(a.view(), b_transposed.t(), c.view_mut(), false);
            let error = (&c - &expected)
                .mapv(f32::abs)
                .fold(0.0f32, |e, &v| e.max(v));
            assert!(error < 1e-4, "{m}x{k}x{n}: {error}");
            matmul(a.view(), b_transposed.t(), c.view_mut(), true);
            let error = (&c - &(2.0 * &expected))
                .mapv(f32::abs)
                .fold(0.0f32, |e, &v| e.max(v));
            assert!(error < 2e-4, "{m}x{k}x{n} accumulated: {error}");
        }
    }
}
