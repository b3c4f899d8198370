//! Max pooling over `size x size` windows with stride `size`, channels-last.

use ndarray::{Array2, ArrayView2};

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

/// x: [batch, in_len] -> out: [batch, out_len], argmax: [batch, out_len] holding for every output
/// the index (within its sample) of the input that won. Both outputs already shaped.
pub fn forward(
    x: ArrayView2<f32>,
    input: Shape,
    size: usize,
    out: &mut Array2<f32>,
    argmax: &mut Array2<u32>,
) {
    let (w, c) = (input.width, input.channels);
    let (oh, ow) = (input.height / size, input.width / size);
    for ((x, mut out), mut argmax) in x
        .rows()
        .into_iter()
        .zip(out.rows_mut())
        .zip(argmax.rows_mut())
    {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let mut best = f32::NEG_INFINITY;
                    let mut best_index = ((oy * size * w) + ox * size) * c + ch;
                    for dy in 0..size {
                        for dx in 0..size {
                            let i = ((oy * size + dy) * w + ox * size + dx) * c + ch;
                            if x[i] > best {
                                best = x[i];
                                best_index = i;
                            }
                        }
                    }
                    let o = (oy * ow + ox) * c + ch;
                    out[o] = best;
                    argmax[o] = best_index as u32;
                }
            }
        }
    }
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
