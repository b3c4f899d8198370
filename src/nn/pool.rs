//! Max pooling over `size x size` windows with stride `size`, channels-last.
//!
//! Forward keeps only the maxima; backward finds each window's winner again by comparing the
//! input with the output (the first pixel in reading order that equals the maximum), so both
//! passes are straight vector loops over the channels.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::Shape;

/// The output shape of pooling `input` with `size x size` windows (a ragged edge is dropped).
pub fn output_shape(input: Shape, size: usize) -> Result<Shape, String> {
    if size == 0 {
        return Err("pool size must be at least 1".into());
    }
    if input.height < size || input.width < size {
        return Err(format!("a {size}x{size} pool does not fit a {input} input"));
    }
    Ok(Shape::image(
        input.height / size,
        input.width / size,
        input.channels,
    ))
}

/// Offsets (in values) of the window pixels of output position `position`, in reading order.
fn window(input: Shape, size: usize, position: usize) -> impl Iterator<Item = usize> {
    let out_w = input.width / size;
    let (oy, ox) = (position / out_w, position % out_w);
    (0..size * size).map(move |i| {
        ((oy * size + i / size) * input.width + ox * size + i % size) * input.channels
    })
}

/// x: [batch, in_len] -> out: [batch, out_len] (already shaped), samples in parallel.
pub fn forward(x: ArrayView2<f32>, input: Shape, size: usize, out: &mut Array2<f32>) {
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let c = input.channels;
    let out_len = out.ncols();
    let out = out.as_slice_mut().expect("owned arrays are contiguous");
    out.par_chunks_mut(out_len)
        .zip(x.par_chunks(input.len()))
        .for_each(|(out, x)| {
            for (position, best) in out.chunks_exact_mut(c).enumerate() {
                let mut pixels = window(input, size, position);
                let first = pixels.next().expect("a window has at least one pixel");
                best.copy_from_slice(&x[first..first + c]);
                for start in pixels {
                    for (b, &v) in best.iter_mut().zip(&x[start..start + c]) {
                        *b = b.max(v);
                    }
                }
            }
        });
}

/// grad_out [batch, out_len] routed to each window's winner: grad_x [batch, in_len]
/// (overwritten). x and out are the forward pass's input and output.
pub fn backward(
    x: ArrayView2<f32>,
    out: ArrayView2<f32>,
    grad_out: ArrayView2<f32>,
    input: Shape,
    size: usize,
    grad_x: &mut Array2<f32>,
) {
    let (x, out, grad_out) = (
        x.as_standard_layout(),
        out.as_standard_layout(),
        grad_out.as_standard_layout(),
    );
    let (x, out, grad_out) = (
        x.as_slice().expect("standard layout"),
        out.as_slice().expect("standard layout"),
        grad_out.as_slice().expect("standard layout"),
    );
    let c = input.channels;
    let out_len = out.len() / grad_x.nrows().max(1);
    let grad_x = grad_x.as_slice_mut().expect("owned arrays are contiguous");
    let ragged = !input.height.is_multiple_of(size) || !input.width.is_multiple_of(size);
    grad_x
        .par_chunks_mut(input.len())
        .zip(x.par_chunks(input.len()))
        .zip(out.par_chunks(out_len).zip(grad_out.par_chunks(out_len)))
        .for_each(|((grad_x, x), (out, grad_out))| {
            if ragged {
                grad_x.fill(0.0);
            }
            // winner[ch]: the window pixel (in reading order) that holds channel ch's maximum
            let mut winner = vec![0u32; c];
            let mut pixels = Vec::with_capacity(size * size);
            for (position, (best, grad)) in out
                .chunks_exact(c)
                .zip(grad_out.chunks_exact(c))
                .enumerate()
            {
                pixels.clear();
                pixels.extend(window(input, size, position));
                winner.fill(0);
                for (k, &start) in pixels.iter().enumerate().rev() {
                    for ((w, &v), &b) in winner.iter_mut().zip(&x[start..start + c]).zip(best) {
                        *w = if v == b { k as u32 } else { *w };
                    }
                }
                for (k, &start) in pixels.iter().enumerate() {
                    for ((cell, &w), &g) in
                        grad_x[start..start + c].iter_mut().zip(&winner).zip(grad)
                    {
                        *cell = if w == k as u32 { g } else { 0.0 };
                    }
                }
            }
        });
}
