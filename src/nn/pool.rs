//! Max pooling over `size x size` windows with stride `size`, channels-last.

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

/// One sample: x [in_len] -> out [out_len], argmax [out_len] (the winning input's index).
fn pool_sample(x: &[f32], input: Shape, size: usize, out: &mut [f32], argmax: &mut [u32]) {
    let (w, c) = (input.width, input.channels);
    let out_w = input.width / size;
    for (position, (out, argmax)) in out
        .chunks_exact_mut(c)
        .zip(argmax.chunks_exact_mut(c))
        .enumerate()
    {
        let (oy, ox) = (position / out_w, position % out_w);
        for dy in 0..size {
            for dx in 0..size {
                let start = ((oy * size + dy) * w + ox * size + dx) * c;
                let pixel = &x[start..start + c];
                if dy == 0 && dx == 0 {
                    out.copy_from_slice(pixel);
                    for (ch, a) in argmax.iter_mut().enumerate() {
                        *a = (start + ch) as u32;
                    }
                    continue;
                }
                // branch-free so that it vectorizes across channels
                for (ch, ((best, a), &v)) in
                    out.iter_mut().zip(argmax.iter_mut()).zip(pixel).enumerate()
                {
                    let wins = v > *best;
                    *best = if wins { v } else { *best };
                    *a = if wins { (start + ch) as u32 } else { *a };
                }
            }
        }
    }
}

/// x: [batch, in_len] -> out: [batch, out_len], argmax: [batch, out_len] holding for every output
/// the index (within its sample) of the input that won. Both outputs already shaped.
pub fn forward(
    x: ArrayView2<f32>,
    input: Shape,
    size: usize,
    out: &mut Array2<f32>,
    argmax: &mut Array2<u32>,
) {
    let x = x.as_standard_layout();
    let x = x.as_slice().expect("standard layout");
    let out_len = out.ncols();
    let out = out.as_slice_mut().expect("owned arrays are contiguous");
    let argmax = argmax.as_slice_mut().expect("owned arrays are contiguous");
    out.par_chunks_mut(out_len)
        .zip(argmax.par_chunks_mut(out_len))
        .zip(x.par_chunks(input.len()))
        .for_each(|((out, argmax), x)| pool_sample(x, input, size, out, argmax));
}

/// grad_out: [batch, out_len] routed to the winning inputs: grad_x [batch, in_len] (overwritten).
pub fn backward(grad_out: ArrayView2<f32>, argmax: &Array2<u32>, grad_x: &mut Array2<f32>) {
    grad_x.fill(0.0);
    for ((g, idx), mut gx) in grad_out
        .rows()
        .into_iter()
        .zip(argmax.rows())
        .zip(grad_x.rows_mut())
    {
        for (&g, &i) in g.iter().zip(idx) {
            gx[i as usize] += g;
        }
    }
}
