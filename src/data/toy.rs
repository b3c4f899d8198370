//! 2-D toy datasets generated from a seed, as TensorFlow Playground has them.

use ndarray::Array2;
use rand::Rng as _;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::{DataError, Dataset, Split};
use crate::nn::{Rng, Shape, seeded_rng};

/// Which 2-D set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ToyKind {
    /// The seed's four points [[0,0],[0,1],[1,0],[1,1]] -> [0,1,1,0] (train and test alike).
    Xor,
    /// Points in the four quadrants, class 1 where x and y have opposite signs.
    XorQuadrants,
    /// A disc (class 0) inside a ring (class 1).
    Circle,
    /// Two Gaussian blobs.
    Gaussians,
    /// Two interleaved spiral arms.
    Spiral,
    /// Two interleaving half circles.
    Moons,
}

impl ToyKind {
    pub const ALL: [ToyKind; 6] = [
        ToyKind::Xor,
        ToyKind::XorQuadrants,
        ToyKind::Circle,
        ToyKind::Gaussians,
        ToyKind::Spiral,
        ToyKind::Moons,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ToyKind::Xor => "XOR (4 points)",
            ToyKind::XorQuadrants => "XOR quadrants",
            ToyKind::Circle => "circle",
            ToyKind::Gaussians => "two Gaussians",
            ToyKind::Spiral => "spiral",
            ToyKind::Moons => "moons",
        }
    }
}

/// Everything that determines a generated set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToySpec {
    pub kind: ToyKind,
    /// Points in train and test together (ignored by the 4-point XOR).
    pub samples: usize,
    /// Standard deviation of the Gaussian noise added to each coordinate.
    pub noise: f32,
    /// Share of the points used for training; the rest is the test split.
    pub train_fraction: f32,
    pub seed: u64,
}

impl ToySpec {
    /// A set of `samples` points with the default noise (0.1) and a 50/50 split.
    pub fn new(kind: ToyKind, samples: usize, seed: u64) -> Self {
        Self {
            kind,
            samples,
            noise: 0.1,
            train_fraction: 0.5,
            seed,
        }
    }

    fn validate(&self) -> Result<(), DataError> {
        if self.kind == ToyKind::Xor {
            return Ok(());
        }
        if !(4..=1_000_000).contains(&self.samples) {
            return Err(DataError::Invalid(format!(
                "a toy set needs 4 to 1,000,000 points, found {}",
                self.samples
            )));
        }
        if !(self.noise.is_finite() && (0.0..=2.0).contains(&self.noise)) {
            return Err(DataError::Invalid(format!(
                "noise must be in [0, 2], found {}",
                self.noise
            )));
        }
        let train = (self.samples as f32 * self.train_fraction).round() as usize;
        if !(self.train_fraction.is_finite() && train >= 1 && train < self.samples) {
            return Err(DataError::Invalid(format!(
                "train fraction {} leaves an empty train or test split of {} points",
                self.train_fraction, self.samples
            )));
        }
        Ok(())
    }
}

/// A standard normal sample (Box-Muller).
fn gaussian(rng: &mut Rng) -> f32 {
    let u1: f32 = rng.random_range(f32::EPSILON..1.0);
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// One clean point of class `label`, roughly within [-1, 1]^2; `t` is uniform in [0, 1).
fn point(kind: ToyKind, label: usize, t: f32, rng: &mut Rng) -> [f32; 2] {
    use std::f32::consts::PI;
    match kind {
        ToyKind::Xor => unreachable!("the 4-point XOR is fixed"),
        ToyKind::XorQuadrants => {
            let mut coordinate = || rng.random_range(0.1..1.0f32);
            let (x, y) = (coordinate(), coordinate());
            let flip = rng.random::<bool>();
            let sx = if flip { 1.0 } else { -1.0 };
            // class 0: same signs, class 1: opposite signs
            let sy = if label == 0 { sx } else { -sx };
            [sx * x, sy * y]
        }
        ToyKind::Circle => {
            let radius = if label == 0 {
                rng.random_range(0.0..0.5)
            } else {
                rng.random_range(0.7..1.0)
            };
            let angle = rng.random_range(0.0..2.0 * PI);
            [radius * angle.cos(), radius * angle.sin()]
        }
        ToyKind::Gaussians => {
            let centre = if label == 0 { -0.5 } else { 0.5 };
            [centre + 0.2 * gaussian(rng), centre + 0.2 * gaussian(rng)]
        }
        ToyKind::Spiral => {
            let radius = 0.05 + 0.95 * t;
            let angle = 1.75 * 2.0 * PI * t + if label == 0 { 0.0 } else { PI };
            [radius * angle.sin(), radius * angle.cos()]
        }
        ToyKind::Moons => {
            let angle = PI * t;
            let [x, y] = if label == 0 {
                [angle.cos(), angle.sin()]
            } else {
                [1.0 - angle.cos(), 0.5 - angle.sin()]
            };
            [(x - 0.5) * 0.8, (y - 0.25) * 0.8]
        }
    }
}

/// Generates the set: half the points in each class, shuffled, then split.
pub fn generate(spec: &ToySpec) -> Result<Dataset, DataError> {
    spec.validate()?;
    let name = spec.kind.name().to_string();
    if spec.kind == ToyKind::Xor {
        let split = Split {
            inputs: ndarray::array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]],
            labels: vec![0, 1, 1, 0],
        };
        return Ok(Dataset {
            name,
            input_shape: Shape::flat(2),
            classes: 2,
            train: split.clone(),
            test: split,
        });
    }
    let mut rng = seeded_rng(spec.seed);
    let per_class = spec.samples.div_ceil(2);
    let mut points: Vec<([f32; 2], usize)> = (0..spec.samples)
        .map(|i| {
            let label = i / per_class;
            let t = (i % per_class) as f32 / per_class as f32;
            let [x, y] = point(spec.kind, label, t, &mut rng);
            let noise = spec.noise;
            (
                [
                    x + noise * gaussian(&mut rng),
                    y + noise * gaussian(&mut rng),
                ],
                label,
            )
        })
        .collect();
    points.shuffle(&mut rng);
    let train_len = (spec.samples as f32 * spec.train_fraction).round() as usize;
    let to_split = |points: &[([f32; 2], usize)]| Split {
        inputs: Array2::from_shape_fn((points.len(), 2), |(i, j)| points[i].0[j]),
        labels: points.iter().map(|p| p.1).collect(),
    };
    Ok(Dataset {
        name,
        input_shape: Shape::flat(2),
        classes: 2,
        train: to_split(&points[..train_len]),
        test: to_split(&points[train_len..]),
    })
}
