//! 2-D convolution, stride 1, odd square kernels, channels-last, by im2col and one matrix product.
//!
//! A sample is `[height * width * channels]`. Each output position's receptive field becomes one
//! row of `cols` (`kernel * kernel * in_channels` values, in (ky, kx, channel) order), so
//! z = cols · Wᵀ + b with W: [filters, kernel * kernel * in_channels] gives the output rows
//! `[positions, filters]`, which is the channels-last output layout itself.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Shape;
use super::linalg::matmul;

/// How the borders are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// No padding: the output shrinks by `kernel - 1`.
    #[default]
    Valid,
    /// Zero padding of `kernel / 2`: the output keeps the input's size.
    Same,
}

impl Padding {
    /// "valid" or "same", as Keras and the editor write it.
    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }
}

/// The sizes of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub input: Shape,
    pub kernel: usize,
    pub pad: usize,
    pub output: Shape,
}

impl ConvGeometry {
    pub fn new(
        input: Shape,
        filters: usize,
        kernel: usize,
        padding: Padding,
    ) -> Result<Self, String> {
        if kernel == 0 || kernel.is_multiple_of(2) {
            return Err(format!("kernel size must be odd, found {kernel}"));
        }
        if filters == 0 {
            return Err("a convolution needs at least one filter".into());
        }
        let pad = match padding {
            Padding::Valid => 0,
            Padding::Same => kernel / 2,
        };
        if input.height + 2 * pad < kernel || input.width + 2 * pad < kernel {
            return Err(format!(
                "a {kernel}x{kernel} kernel does not fit a {input} input with {padding:?} padding"
            ));
        }
        let output = Shape::image(
            input.height + 2 * pad - kernel + 1,
            input.width + 2 * pad - kernel + 1,
            filters,
        );
        Ok(Self {
            input,
            kernel,
            pad,
            output,
        })
    }

    /// Values in one receptive field: kernel * kernel * in_channels.
    pub fn patch_len(&self) -> usize {
        self.kernel * self.kernel * self.input.channels
    }

    /// Output positions per sample: out_height * out_width.
    pub fn positions(&self) -> usize {
        self.output.height * self.output.width
    }

    /// Calls `f(patch_offset, input_offset, len)` for the runs of one receptive field, output
    /// position (oy, ox): each kernel row is one run of contiguous input values where it lies
    /// inside the image, and runs with `input_offset` None (zero padding) where it does not.
    fn for_each_run(&self, oy: usize, ox: usize, mut f: impl FnMut(usize, Option<usize>, usize)) {
        let (k, c, width) = (self.kernel, self.input.channels, self.input.width);
        // kernel columns kx in [kx_start, kx_end) fall inside the image
        let kx_start = self.pad.saturating_sub(ox);
        let kx_end = (width + self.pad - ox).min(k);
        for ky in 0..k {
            let row = ky * k * c;
            match (oy + ky)
                .checked_sub(self.pad)
                .filter(|&iy| iy < self.input.height)
            {
                None => f(row, None, k * c),
                Some(iy) => {
                    if kx_start > 0 {
                        f(row, None, kx_start * c);
                    }
                    let ix = ox + kx_start - self.pad;
                    f(
                        row + kx_start * c,
                        Some((iy * width + ix) * c),
                        (kx_end - kx_start) * c,
                    );
                    if kx_end < k {
                        f(row + kx_end * c, None, (k - kx_end) * c);
                    }
                }
            }
        }
    }

    /// im2col of one sample: [in_len] -> [positions * patch_len].
    fn sample_to_cols(&self, sample: &[f32], cols: &mut [f32]) {
        let mut rows = cols.chunks_exact_mut(self.patch_len());
        for oy in 0..self.output.height {
            for ox in 0..self.output.width {
                let row = rows.next().expect("cols has positions rows per sample");
                self.for_each_run(oy, ox, |p, i, len| match i {
                    Some(i) => row[p..p + len].copy_from_slice(&sample[i..i + len]),
                    None => row[p..p + len].fill(0.0),
                });
            }
        }
    }

    /// col2im of one sample: [positions * patch_len] summed into [in_len] (overwritten).
    fn cols_to_sample(&self, cols: &[f32], sample: &mut [f32]) {
        sample.fill(0.0);
        let mut rows = cols.chunks_exact(self.patch_len());
        for oy in 0..self.output.height {
            for ox in 0..self.output.width {
                let row = rows.next().expect("cols has positions rows per sample");
                self.for_each_run(oy, ox, |p, i, len| {
                    if let Some(i) = i {
                        for (dst, src) in sample[i..i + len].iter_mut().zip(&row[p..p + len]) {
                            *dst += src;
                        }
                    }
                });
            }
        }
    }
}

/// x: [batch, in_len] -> cols: [batch * positions, patch_len] (already shaped), samples in parallel.
pub fn im2col(x: ArrayView2<f32>, g: &ConvGeometry, cols: &mut Array2<f32>) {
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let cols = cols.as_slice_mut().expect("owned arrays are contiguous");
    cols.par_chunks_mut(g.positions() * g.patch_len())
        .zip(x.par_chunks(g.input.len()))
        .for_each(|(cols, sample)| g.sample_to_cols(sample, cols));
}

/// The adjoint of [`im2col`]: grad_cols [batch * positions, patch_len] summed into
/// grad_x [batch, in_len], which is overwritten.
pub fn col2im(grad_cols: &Array2<f32>, g: &ConvGeometry, grad_x: &mut Array2<f32>) {
    let grad_x = grad_x.as_slice_mut().expect("owned arrays are contiguous");
    let grad_cols = grad_cols.as_slice().expect("owned arrays are contiguous");
    grad_x
        .par_chunks_mut(g.input.len())
        .zip(grad_cols.par_chunks(g.positions() * g.patch_len()))
        .for_each(|(sample, cols)| g.cols_to_sample(cols, sample));
}

/// Reinterprets [batch, positions * filters] as [batch * positions, filters] (same memory).
fn per_position(a: &mut Array2<f32>, filters: usize) -> ArrayViewMut2<'_, f32> {
    let rows = a.len() / filters;
    let data = a.as_slice_mut().expect("owned arrays are contiguous");
    ArrayViewMut2::from_shape((rows, filters), data).expect("length is rows * filters")
}

/// x: [batch, in_len], weight: [filters, patch_len], bias: [filters]
/// -> cols: [batch * positions, patch_len], z: [batch, positions * filters] (both already shaped).
pub fn forward(
    x: ArrayView2<f32>,
    weight: &Array2<f32>,
    bias: &Array1<f32>,
    g: &ConvGeometry,
    cols: &mut Array2<f32>,
    z: &mut Array2<f32>,
) {
    im2col(x, g, cols);
    let mut z_rows = per_position(z, g.output.channels);
    matmul(cols.view(), weight.t(), z_rows.view_mut(), false);
    z_rows += bias;
}

/// From grad_z [batch, positions * filters] and the forward pass's cols:
/// dL/dW = grad_zᵀ · cols, dL/db = column sums of grad_z, and when asked for
/// dL/dx = col2im(grad_z · W), using grad_cols [batch * positions, patch_len] as scratch.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    cols: &Array2<f32>,
    weight: &Array2<f32>,
    grad_z: &mut Array2<f32>,
    g: &ConvGeometry,
    grad_weight: &mut Array2<f32>,
    grad_bias: &mut Array1<f32>,
    grad_x: Option<(&mut Array2<f32>, &mut Array2<f32>)>,
) {
    let grad_rows = per_position(grad_z, g.output.channels);
    matmul(grad_rows.t(), cols.view(), grad_weight.view_mut(), false);
    grad_bias.assign(&grad_rows.sum_axis(Axis(0)));
    if let Some((grad_cols, grad_x)) = grad_x {
        matmul(grad_rows.view(), weight.view(), grad_cols.view_mut(), false);
        col2im(grad_cols, g, grad_x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::seeded_rng;
    use rand::Rng as _;

    /// The definition, one multiply-add at a time.
    fn naive_forward(
        x: &Array2<f32>,
        weight: &Array2<f32>,
        bias: &Array1<f32>,
        g: &ConvGeometry,
    ) -> Array2<f32> {
        let (h, w, c) = (g.input.height, g.input.width, g.input.channels);
        let (oh, ow, f) = (g.output.height, g.output.width, g.output.channels);
        let k = g.kernel;
        let mut z = Array2::zeros((x.nrows(), g.output.len()));
        for b in 0..x.nrows() {
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..f {
                        let mut sum = bias[o];
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = oy as isize + ky as isize - g.pad as isize;
                                let ix = ox as isize + kx as isize - g.pad as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                    continue;
                                }
                                for ch in 0..c {
                                    let xi = ((iy as usize * w) + ix as usize) * c + ch;
                                    sum += x[[b, xi]] * weight[[o, (ky * k + kx) * c + ch]];
                                }
                            }
                        }
                        z[[b, (oy * ow + ox) * f + o]] = sum;
                    }
                }
            }
        }
        z
    }

    #[test]
    fn im2col_convolution_matches_the_naive_definition() {
        let mut rng = seeded_rng(7);
        for (padding, kernel, channels) in [
            (Padding::Valid, 3, 1),
            (Padding::Same, 3, 2),
            (Padding::Same, 5, 3),
            (Padding::Valid, 1, 2),
        ] {
            let g = ConvGeometry::new(Shape::image(6, 5, channels), 4, kernel, padding).unwrap();
            let mut random =
                |shape| Array2::from_shape_simple_fn(shape, || rng.random_range(-1.0..1.0f32));
            let x = random((3, g.input.len()));
            let weight = random((4, g.patch_len()));
            let bias = Array1::from_vec(vec![0.1, -0.2, 0.3, 0.0]);
            let mut cols = Array2::zeros((3 * g.positions(), g.patch_len()));
            let mut z = Array2::zeros((3, g.output.len()));
            forward(x.view(), &weight, &bias, &g, &mut cols, &mut z);
            let expected = naive_forward(&x, &weight, &bias, &g);
            let max_diff = (&z - &expected)
                .mapv(f32::abs)
                .fold(0.0f32, |m, &v| m.max(v));
            assert!(
                max_diff < 1e-5,
                "{padding:?} k{kernel} c{channels}: {max_diff}"
            );
        }
    }

    #[test]
    fn same_padding_keeps_size_and_valid_shrinks() {
        let input = Shape::image(28, 28, 1);
        let same = ConvGeometry::new(input, 8, 5, Padding::Same).unwrap();
        assert_eq!(same.output, Shape::image(28, 28, 8));
        let valid = ConvGeometry::new(input, 32, 3, Padding::Valid).unwrap();
        assert_eq!(valid.output, Shape::image(26, 26, 32));
        assert!(ConvGeometry::new(input, 8, 4, Padding::Same).is_err());
        assert!(ConvGeometry::new(Shape::image(2, 2, 1), 8, 5, Padding::Valid).is_err());
    }
}
