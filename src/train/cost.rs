//! What a network will cost before it is built: parameters, memory while training and the
//! arithmetic per sample, and from a quick measurement of this machine, the expected speed.

use std::time::Instant;

use ndarray::Array2;

use super::trainer::EVAL_CHUNK;
use crate::nn::{LayerSpec, Shape, matmul};

/// Copies of the parameters a training run holds: weights, gradients, Adam's m and v, and the
/// views' snapshot (weights, gradients, the last change and the snapshot network).
const PARAMETER_COPIES: u64 = 8;
/// Copies of each activation a training batch holds: the output, the pre-activation and the
/// gradient.
const ACTIVATION_COPIES: u64 = 3;

/// The cost of training one architecture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    pub parameters: usize,
    /// Bytes of memory while training with the given batch size (approximate).
    pub training_bytes: u64,
    /// Floating-point operations to train on one sample: forward, backward and update.
    pub flops_per_sample: f64,
}

impl Cost {
    /// `layers` on samples of `input`, trained in batches of `batch`; an error if the shapes do
    /// not chain.
    pub fn estimate(input: Shape, layers: &[LayerSpec], batch: usize) -> Result<Self, String> {
        // saturating arithmetic: an absurd architecture gives an absurd (not a wrapped) figure
        let (mut shape, mut parameters, mut macs) = (input, 0usize, 0f64);
        let mut values = input.len() as u64;
        let mut unfolded = 0u64;
        for layer in layers {
            let output = layer.output_shape(shape)?;
            if let Some(((rows, cols), bias)) = layer.param_shapes(shape) {
                parameters =
                    parameters.saturating_add(rows.saturating_mul(cols).saturating_add(bias));
                // each output position multiplies a row of inputs by the whole weight
                let positions = output.len() / rows.max(1);
                macs += positions as f64 * rows as f64 * cols as f64;
                if matches!(layer, LayerSpec::Conv2d { .. }) {
                    // the im2col patches
                    unfolded = unfolded.saturating_add(positions.saturating_mul(cols) as u64);
                }
            }
            values = values.saturating_add(output.len() as u64);
            shape = output;
        }
        let float = 4u64;
        // the test set is evaluated in chunks, which may be larger than a batch
        let rows = batch.max(EVAL_CHUNK) as u64;
        let per_row = values
            .saturating_mul(ACTIVATION_COPIES)
            .saturating_add(unfolded.saturating_mul(2));
        let training_bytes = (parameters as u64)
            .saturating_mul(float * PARAMETER_COPIES)
            .saturating_add(rows.saturating_mul(per_row).saturating_mul(float));
        Ok(Self {
            parameters,
            training_bytes,
            // forward one multiply-add (2 flops) per weight use, backward two
            flops_per_sample: 6.0 * macs,
        })
    }

    /// With the memory of `samples` inputs of `input` (as floats, and as the bytes they are
    /// read from) added to the training bytes.
    pub fn with_data(mut self, input: Shape, samples: usize) -> Self {
        let bytes_per_value = 4 + 1;
        let data = (input.len() as u64)
            .saturating_mul(samples as u64)
            .saturating_mul(bytes_per_value);
        self.training_bytes = self.training_bytes.saturating_add(data);
        self
    }

    /// Refused when training would take more than `limit` bytes, saying how much it would take.
    pub fn check_fits(&self, limit: u64) -> Result<(), String> {
        if self.training_bytes <= limit {
            return Ok(());
        }
        Err(format!(
            "this network would need about {} of memory to train ({} parameters), more than the \
             {} a run may take on this machine (half its memory): make it smaller",
            format_size(self.training_bytes),
            group_digits(self.parameters),
            format_size(limit)
        ))
    }

    /// Expected training samples per second at `flops_per_second`.
    pub fn samples_per_second(&self, flops_per_second: f64) -> f64 {
        flops_per_second / self.flops_per_sample.max(1.0)
    }
}

/// The most memory a run may take: half of this machine's (`MemTotal` in /proc/meminfo), or
/// 8 GiB where that cannot be read.
pub fn memory_limit() -> u64 {
    *MEMORY_LIMIT.get_or_init(read_memory_limit)
}

static MEMORY_LIMIT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Sets the most memory a run may take, for this process, in bytes (the fuzzer and the tests use
/// a small one). Only before the limit is first read: false, and no change, after.
pub fn set_memory_limit(bytes: u64) -> bool {
    MEMORY_LIMIT.set(bytes).is_ok()
}

fn read_memory_limit() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib.saturating_mul(1024))
        });
    total.map_or(8 << 30, |bytes| bytes / 2)
}

/// 70418442 -> "70,418,442"
pub fn group_digits(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 5800000000000 -> "5.3 TiB": bytes in the largest unit that keeps a number of at least 1.
pub fn format_size(bytes: u64) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// This machine's matrix-product speed in flops per second, measured on a product the size of
/// a hidden layer's (about 20 ms).
pub fn measure_flops_per_second() -> f64 {
    let (m, k, n) = (128, 512, 512);
    let a = Array2::from_elem((m, k), 0.5f32);
    let b = Array2::from_elem((k, n), 0.25f32);
    let mut c = Array2::zeros((m, n));
    matmul(a.view(), b.view(), c.view_mut(), false); // warm up
    let started = Instant::now();
    let mut runs = 0u32;
    while runs < 3 || started.elapsed().as_secs_f64() < 0.02 {
        matmul(a.view(), b.view(), c.view_mut(), false);
        runs += 1;
    }
    2.0 * (m * k * n) as f64 * f64::from(runs) / started.elapsed().as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Activation, Padding};

    fn dense(units: usize) -> LayerSpec {
        LayerSpec::Dense {
            units,
            activation: Activation::Relu,
        }
    }

    #[test]
    fn five_layers_of_4096_units_cost_70_million_parameters_and_gigabytes() {
        let mut layers = vec![LayerSpec::Flatten];
        layers.extend((0..5).map(|_| dense(4096)));
        layers.push(dense(10));
        let cost = Cost::estimate(Shape::image(28, 28, 1), &layers, 64).expect("chains");
        let expected = 784 * 4096 + 4096 + 4 * (4096 * 4096 + 4096) + 4096 * 10 + 10;
        assert_eq!(cost.parameters, expected);
        assert!(
            cost.training_bytes > 2_000_000_000,
            "{}",
            cost.training_bytes
        );
        assert_eq!(
            cost.flops_per_sample,
            6.0 * (expected - 4 * 4096 - 4096 - 10) as f64
        );
    }

    #[test]
    fn a_convolution_costs_its_kernel_at_every_output_position() {
        let layers = [LayerSpec::Conv2d {
            filters: 32,
            kernel: 3,
            padding: Padding::Valid,
            activation: Activation::Relu,
        }];
        let cost = Cost::estimate(Shape::image(28, 28, 1), &layers, 1).expect("chains");
        assert_eq!(cost.parameters, 32 * 9 + 32);
        assert_eq!(cost.flops_per_sample, 6.0 * (26 * 26 * 32 * 9) as f64);
        // activations and patches of an evaluation chunk of 250 rows (more than the batch)
        assert_eq!(
            cost.training_bytes,
            4 * (8 * 320 + 250 * (3 * (784 + 26 * 26 * 32) + 2 * 26 * 26 * 9))
        );
        assert!(Cost::estimate(Shape::flat(2), &layers, 1).is_err());
    }

    #[test]
    fn the_measured_speed_is_a_real_number_of_flops() {
        let flops = measure_flops_per_second();
        assert!(flops.is_finite() && flops > 1e6, "{flops}");
    }
}
