//! Weight initialisation as the frameworks do it, from the seeded generator.

use ndarray::Array2;
use rand::Rng as _;

use super::{Activation, Rng};

/// Weights [fan_out_units, fan_in] drawn uniformly from ±limit, where limit is He's
/// sqrt(6 / fan_in) for ReLU layers (which halve the variance) and Glorot/Xavier's
/// sqrt(6 / (fan_in + fan_out)) otherwise, as Keras does by default.
///
/// For a convolution `fan_in = k*k*in_channels` and `fan_out = k*k*filters`.
pub fn initial_weights(
    shape: (usize, usize),
    fan_in: usize,
    fan_out: usize,
    activation: Activation,
    rng: &mut Rng,
) -> Array2<f32> {
    let limit = match activation {
        Activation::Relu => (6.0 / fan_in as f64).sqrt(),
        _ => (6.0 / (fan_in + fan_out) as f64).sqrt(),
    } as f32;
    Array2::from_shape_simple_fn(shape, || rng.random_range(-limit..limit))
}
