//! Everything a run needs to go on exactly as if it had never stopped, apart from what its
//! [`RunConfig`](super::RunConfig) rebuilds (the data): the weights, the optimizer's state, where
//! the epoch stands, the shuffled order, the random generator's position and the events.

use ndarray::{Array1, Array2};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::{Event, TrainSettings};
use crate::nn::{OptimizerState, Rng};

/// One layer's parameters: weight [rows, cols] row-major, bias [rows].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorState {
    pub rows: usize,
    pub cols: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

impl TensorState {
    pub fn new(weight: &Array2<f32>, bias: &Array1<f32>) -> Self {
        Self {
            rows: weight.nrows(),
            cols: weight.ncols(),
            weight: weight.iter().copied().collect(),
            bias: bias.to_vec(),
        }
    }

    /// The weight [rows, cols] and bias [rows]; why not, if the lengths do not match.
    pub fn arrays(&self) -> Result<(Array2<f32>, Array1<f32>), String> {
        if self.bias.len() != self.rows {
            return Err(format!(
                "bias has {} values for {} rows",
                self.bias.len(),
                self.rows
            ));
        }
        let weight =
            Array2::from_shape_vec((self.rows, self.cols), self.weight.clone()).map_err(|_| {
                format!(
                    "weight declared {}x{} but holds {} values",
                    self.rows,
                    self.cols,
                    self.weight.len()
                )
            })?;
        Ok((weight, Array1::from_vec(self.bias.clone())))
    }

    pub fn is_finite(&self) -> bool {
        self.weight.iter().chain(&self.bias).all(|v| v.is_finite())
    }
}

/// Where the ChaCha generator stands: its seed, stream and position in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    pub seed: [u8; 32],
    pub stream: u64,
    /// The position in 32-bit words (a u128 written as two halves: JSON numbers stop at 2^64).
    pub word_pos_high: u64,
    pub word_pos_low: u64,
}

impl RngState {
    pub fn of(rng: &Rng) -> Self {
        let word_pos = rng.get_word_pos();
        Self {
            seed: rng.get_seed(),
            stream: rng.get_stream(),
            word_pos_high: (word_pos >> 64) as u64,
            word_pos_low: word_pos as u64,
        }
    }

    pub fn rng(&self) -> Rng {
        let mut rng = Rng::from_seed(self.seed);
        rng.set_stream(self.stream);
        rng.set_word_pos((u128::from(self.word_pos_high) << 64) | u128::from(self.word_pos_low));
        rng
    }
}

/// The running sums of the current epoch (its mean loss and accuracy so far).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochSums {
    pub loss: f64,
    pub correct: usize,
    pub samples: usize,
    pub steps: u64,
}

/// A trainer's whole state between two batches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// The settings now (after every change).
    pub settings: TrainSettings,
    /// Per layer with parameters, in order.
    pub parameters: Vec<TensorState>,
    pub optimizer: OptimizerState,
    pub rng: RngState,
    /// This epoch's shuffled order of the training rows, and how far into it the run is.
    pub order: Vec<usize>,
    pub cursor: usize,
    pub step: u64,
    pub epoch: usize,
    pub sums: EpochSums,
    pub events: Vec<Event>,
}

/// Bytes an allocation costs beyond its contents (the allocator's header and rounding).
const ALLOCATION_OVERHEAD: usize = 32;

impl TrainerState {
    /// The memory it takes, in bytes (weights, optimizer state, order and events).
    pub fn bytes(&self) -> usize {
        let parameters: usize = self
            .parameters
            .iter()
            .map(|p| p.weight.len() + p.bias.len())
            .sum();
        (parameters + self.optimizer.values()) * size_of::<f32>()
            + self.order.len() * size_of::<usize>()
            + self.events.len() * size_of::<Event>()
            + self.parameters.len() * size_of::<TensorState>()
            + size_of::<Self>()
            // what the allocator keeps per allocation: weights, biases, their optimizer state,
            // the order and the events
            + (4 * self.parameters.len() + 2) * ALLOCATION_OVERHEAD
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn the_generator_goes_on_from_where_it_was() {
        let mut rng = crate::nn::seeded_rng(7);
        for _ in 0..1001 {
            rng.next_u32();
        }
        let mut restored = RngState::of(&rng).rng();
        let ahead: Vec<u32> = (0..100).map(|_| rng.next_u32()).collect();
        let again: Vec<u32> = (0..100).map(|_| restored.next_u32()).collect();
        assert_eq!(ahead, again);
    }

    #[test]
    fn tensors_check_their_lengths() {
        let good = TensorState {
            rows: 2,
            cols: 3,
            weight: vec![0.5; 6],
            bias: vec![0.0; 2],
        };
        assert!(good.arrays().is_ok());
        let short = TensorState {
            weight: vec![0.5; 5],
            ..good.clone()
        };
        assert!(short.arrays().unwrap_err().contains("holds 5 values"));
        let bias = TensorState {
            bias: vec![0.0; 3],
            ..good
        };
        assert!(bias.arrays().unwrap_err().contains("bias has 3 values"));
    }
}
