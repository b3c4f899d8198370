//! The neural-network core: tensors are `ndarray` matrices with one row per sample.
//!
//! Images are stored flat in channels-last order (`[batch, height * width * channels]`), so a
//! flatten layer moves no data and a convolution's output rows are already in place.

mod activation;
mod conv;
mod dense;
mod init;
mod layer;
mod linalg;
mod loss;
mod network;
mod optim;
mod pool;
mod shape;

pub use activation::Activation;
pub use conv::Padding;
pub use layer::{Layer, LayerSpec, Params};
pub use linalg::matmul;
pub use loss::{Loss, LossError, count_correct, predicted_class};
pub use network::{LayerPass, Network, NetworkError, Pass};
pub use optim::{
    LayerState, Optimizer, OptimizerSettings, OptimizerState, StateError, TensorState,
};
pub use shape::Shape;

/// The one random number generator used everywhere: seeded, portable, reproducible.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A reproducible generator from a seed.
pub fn seeded_rng(seed: u64) -> Rng {
    rand::SeedableRng::seed_from_u64(seed)
}
