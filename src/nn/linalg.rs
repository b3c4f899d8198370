//! Matrix products, the one place the network's heavy arithmetic goes through.

use ndarray::{ArrayView2, ArrayViewMut2};

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
    let large = m * n * k >= PARALLEL_THRESHOLD;
    if large && m <= 64 && n >= 64 {
        // Few rows (a small batch): the kernel's own threading splits these poorly; two halves
        // of the columns, one per thread, do better.
        let half = n / 2;
        let (b_left, b_right) = b.split_at(ndarray::Axis(1), half);
        let (c_left, c_right) = c.split_at(ndarray::Axis(1), half);
        rayon::join(
            || product(a, b_left, c_left, accumulate, gemm::Parallelism::None),
            || product(a, b_right, c_right, accumulate, gemm::Parallelism::None),
        );
        return;
    }
    let parallelism = if large {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    product(a, b, c, accumulate, parallelism);
}

/// The kernel call itself, shapes already checked and non-empty.
fn product(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    mut c: ArrayViewMut2<f32>,
    accumulate: bool,
    parallelism: gemm::Parallelism,
) {
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
            parallelism,
        );
    }
}
