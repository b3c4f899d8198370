//! Histograms over time, as TensorBoard draws them: for each layer, the distribution of its
//! weights W, their gradient dL/dW and the probe's activations at one step ([`HistogramFrame`]),
//! and a run's frames kept in bounded memory however long it goes ([`HistogramHistory`]).

use super::protocol::Snapshot;

/// Bins per histogram.
pub const BINS: usize = 30;

/// Frames a [`HistogramHistory`] keeps at most.
pub const HISTORY_CAPACITY: usize = 256;
// even, so that the history thins at an odd count of frames
const _: () = assert!(HISTORY_CAPACITY.is_multiple_of(2));

/// Counts of values in `BINS` equal bins from `low` to `high`: bin i holds the values in
/// [low + i w, low + (i + 1) w), the last bin also `high` (w = (high - low) / BINS). When every
/// value is the same, `low == high` and they are all in bin 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub low: f32,
    pub high: f32,
    /// [BINS]
    pub counts: Vec<u32>,
    /// NaN or infinite values, left out of the bins.
    pub non_finite: u32,
}

impl Histogram {
    /// The histogram of `values` over their own range.
    pub fn of<'a>(values: impl Iterator<Item = &'a f32> + Clone) -> Self {
        let (mut low, mut high) = (f32::INFINITY, f32::NEG_INFINITY);
        for &v in values.clone().filter(|v| v.is_finite()) {
            low = low.min(v);
            high = high.max(v);
        }
        if low > high {
            (low, high) = (0.0, 0.0);
        }
        let mut histogram = Self {
            low,
            high,
            counts: vec![0; BINS],
            non_finite: 0,
        };
        for &v in values {
            match histogram.bin(v) {
                Some(bin) => histogram.counts[bin] += 1,
                None => histogram.non_finite += 1,
            }
        }
        histogram
    }

    /// The bin `value` falls in (None for NaN and infinities).
    pub fn bin(&self, value: f32) -> Option<usize> {
        if !value.is_finite() {
            return None;
        }
        let width = (self.high - self.low) / BINS as f32;
        if width <= 0.0 {
            return Some(0);
        }
        Some((((value - self.low) / width) as usize).min(BINS - 1))
    }

    /// The value range of bin `i`.
    pub fn bin_range(&self, i: usize) -> (f32, f32) {
        let width = (self.high - self.low) / BINS as f32;
        (
            self.low + width * i as f32,
            self.low + width * (i + 1) as f32,
        )
    }

    /// Values counted in the bins.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }
}

/// What the histograms show of a layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quantity {
    #[default]
    Weights,
    Gradients,
    Activations,
}

impl Quantity {
    pub const ALL: [Quantity; 3] = [
        Quantity::Weights,
        Quantity::Gradients,
        Quantity::Activations,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Quantity::Weights => "W",
            Quantity::Gradients => "dL/dW",
            Quantity::Activations => "activations",
        }
    }
}

/// One layer's histograms at one step.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerHistograms {
    /// W, for layers with parameters.
    pub weight: Option<Histogram>,
    /// dL/dW of the last batch, for layers with parameters.
    pub gradient: Option<Histogram>,
    /// The layer's output for the probe sample.
    pub activation: Histogram,
}

impl LayerHistograms {
    pub fn get(&self, quantity: Quantity) -> Option<&Histogram> {
        match quantity {
            Quantity::Weights => self.weight.as_ref(),
            Quantity::Gradients => self.gradient.as_ref(),
            Quantity::Activations => Some(&self.activation),
        }
    }
}

/// Every layer's histograms after `step` batches.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramFrame {
    pub step: u64,
    pub epochs: f64,
    pub layers: Vec<LayerHistograms>,
}

impl HistogramFrame {
    /// The histograms of `snapshot`'s weights, gradients and probe activations.
    pub fn of(snapshot: &Snapshot, epochs: f64) -> Self {
        Self {
            step: snapshot.step,
            epochs,
            layers: snapshot
                .layers
                .iter()
                .map(|layer| LayerHistograms {
                    weight: layer.weight.as_ref().map(|w| Histogram::of(w.iter())),
                    gradient: layer.grad_weight.as_ref().map(|g| Histogram::of(g.iter())),
                    activation: Histogram::of(layer.probe_activation.iter()),
                })
                .collect(),
        }
    }
}

/// A run's frames, in step order, never more than [`HISTORY_CAPACITY`]: when full, every
/// second frame is dropped and from then on only every `stride`-th frame that arrives is kept
/// (the newest one always shows, in the last place, until the next arrives), so the whole run
/// stays covered at an even spacing that doubles as it grows.
#[derive(Clone, Debug)]
pub struct HistogramHistory {
    frames: Vec<HistogramFrame>,
    stride: usize,
    /// Frames arrived since the last one kept for good (0: the last frame is kept for good).
    since_kept: usize,
}

impl Default for HistogramHistory {
    fn default() -> Self {
        Self {
            frames: Vec::new(),
            stride: 1,
            since_kept: 0,
        }
    }
}

impl HistogramHistory {
    pub fn frames(&self) -> &[HistogramFrame] {
        &self.frames
    }

    /// Adds `frame`; a frame of the same step as the last replaces it, an earlier step is
    /// refused (the run went back: [`HistogramHistory::truncate_after`] first).
    pub fn push(&mut self, frame: HistogramFrame) {
        match self.frames.last_mut() {
            Some(last) if last.step > frame.step => return,
            Some(last) if last.step == frame.step => {
                *last = frame;
                return;
            }
            Some(last) if self.since_kept > 0 => *last = frame,
            _ => self.frames.push(frame),
        }
        self.since_kept = (self.since_kept + 1) % self.stride;
        // thinned when the newest is kept for good and they are an odd number: the first and
        // the newest stay and every gap doubles
        if self.since_kept == 0 && self.frames.len() >= HISTORY_CAPACITY - 1 {
            let mut index = 0;
            self.frames.retain(|_| {
                index += 1;
                index % 2 == 1
            });
            self.stride *= 2;
            self.since_kept = 0;
        }
    }

    /// Forgets the frames after `step` (the run went back to it).
    pub fn truncate_after(&mut self, step: u64) {
        self.frames.retain(|frame| frame.step <= step);
        self.since_kept = 0;
    }

    /// The frame nearest `step`.
    pub fn nearest(&self, step: u64) -> Option<&HistogramFrame> {
        self.frames
            .iter()
            .min_by_key(|frame| frame.step.abs_diff(step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finite_value_is_counted_once_in_its_bin() {
        let values: Vec<f32> = (0..1000)
            .map(|i| ((i * 37) % 101) as f32 / 7.0 - 3.0)
            .collect();
        let mut with_nan = values.clone();
        with_nan.extend([f32::NAN, f32::INFINITY]);
        let histogram = Histogram::of(with_nan.iter());
        assert_eq!(histogram.total(), 1000);
        assert_eq!(histogram.non_finite, 2);
        for (i, count) in histogram.counts.iter().enumerate() {
            let (low, high) = histogram.bin_range(i);
            let last = i == BINS - 1;
            let independent = values
                .iter()
                .filter(|&&v| v >= low && (v < high || (last && v <= high)))
                .count();
            // a value on a bin's edge may round into its neighbour: the sums must still agree
            assert!(
                (*count as i64 - independent as i64).abs() <= 1,
                "bin {i}: {count} vs {independent}"
            );
        }
        assert_eq!(histogram.low, -3.0);
        assert_eq!(histogram.high, 100.0 / 7.0 - 3.0);
    }

    #[test]
    fn equal_values_go_to_one_bin() {
        let histogram = Histogram::of([0.5f32; 9].iter());
        assert_eq!((histogram.low, histogram.high), (0.5, 0.5));
        assert_eq!(histogram.counts[0], 9);
        let empty = Histogram::of([].iter());
        assert_eq!(empty.total(), 0);
    }

    fn frame(step: u64) -> HistogramFrame {
        HistogramFrame {
            step,
            epochs: step as f64,
            layers: Vec::new(),
        }
    }

    #[test]
    fn history_stays_bounded_evenly_spread_with_the_newest_kept() {
        let mut history = HistogramHistory::default();
        for step in 0..100_000 {
            history.push(frame(step));
            assert!(history.frames().len() <= HISTORY_CAPACITY);
        }
        let steps: Vec<u64> = history.frames().iter().map(|f| f.step).collect();
        assert_eq!(*steps.last().unwrap(), 99_999);
        assert_eq!(steps[0], 0);
        assert!(steps.len() >= HISTORY_CAPACITY / 2);
        // evenly spread: every gap but the newest is the same
        let gaps: Vec<u64> = steps.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps[..gaps.len() - 1].iter().all(|&g| g == gaps[0]),
            "{gaps:?}"
        );
        history.truncate_after(50_000);
        assert!(history.frames().iter().all(|f| f.step <= 50_000));
        history.push(frame(40_000));
        assert!(history.frames().last().unwrap().step <= 50_000);
    }
}
