//! A curve that keeps bounded memory however long the run: when it is full, neighbouring points
//! are averaged in pairs, so old and new points alike end up each standing for 2, 4, 8, ...
//! batches, and the whole run stays on screen.

/// One stored point: the step and epoch position it stands at, and its value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub step: f64,
    pub epochs: f64,
    pub value: f64,
}

impl Point {
    fn average(a: Point, b: Point) -> Point {
        Point {
            step: (a.step + b.step) / 2.0,
            epochs: (a.epochs + b.epochs) / 2.0,
            value: (a.value + b.value) / 2.0,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Series {
    points: Vec<Point>,
    capacity: usize,
    /// Raw values each stored point averages.
    stride: usize,
    /// Raw values not yet making a full stored point: (sum of step, epochs, value; count).
    pending: (Point, usize),
}

impl Series {
    /// Its points and stride, to be saved (raw values waiting for a full point are left out).
    pub fn record(&self) -> crate::io::run_file::CurveRecord {
        crate::io::run_file::CurveRecord {
            points: self
                .points
                .iter()
                .map(|p| (p.step, p.epochs, p.value))
                .collect(),
            stride: self.stride,
        }
    }

    /// A series of `capacity` holding a saved curve.
    pub fn from_record(capacity: usize, record: &crate::io::run_file::CurveRecord) -> Self {
        let mut series = Self::new(capacity);
        series.stride = record.stride.max(1);
        series.points = record
            .points
            .iter()
            .map(|&(step, epochs, value)| Point {
                step,
                epochs,
                value,
            })
            .collect();
        while series.points.len() > series.capacity {
            series.points = series
                .points
                .chunks(2)
                .map(|pair| match pair {
                    [a, b] => Point::average(*a, *b),
                    [a] => *a,
                    _ => unreachable!("chunks of two"),
                })
                .collect();
            series.stride *= 2;
        }
        series
    }

    /// A series that never stores more than `capacity` points (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self {
            points: Vec::new(),
            capacity: capacity.max(2),
            stride: 1,
            pending: (
                Point {
                    step: 0.0,
                    epochs: 0.0,
                    value: 0.0,
                },
                0,
            ),
        }
    }

    pub fn push(&mut self, step: f64, epochs: f64, value: f64) {
        let (sum, count) = &mut self.pending;
        sum.step += step;
        sum.epochs += epochs;
        sum.value += value;
        *count += 1;
        if *count < self.stride {
            return;
        }
        let n = *count as f64;
        self.points.push(Point {
            step: sum.step / n,
            epochs: sum.epochs / n,
            value: sum.value / n,
        });
        self.pending = (
            Point {
                step: 0.0,
                epochs: 0.0,
                value: 0.0,
            },
            0,
        );
        if self.points.len() >= self.capacity {
            self.points = self
                .points
                .chunks(2)
                .map(|pair| {
                    pair.iter()
                        .copied()
                        .reduce(Point::average)
                        .unwrap_or(pair[0])
                })
                .collect();
            self.stride *= 2;
        }
    }

    /// Forgets the points after `step` (and the raw values not yet averaged into one).
    pub fn truncate_after(&mut self, step: f64) {
        self.points.retain(|p| p.step <= step);
        self.pending.1 = 0;
        self.pending.0 = Point {
            step: 0.0,
            epochs: 0.0,
            value: 0.0,
        };
    }

    /// Forgets the points before `step`.
    pub fn keep_from(&mut self, step: f64) {
        self.points.retain(|p| p.step >= step);
    }

    pub fn points(&self) -> &[Point] {
        &self.points
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Raw values each stored point stands for.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// TensorBoard's smoothing: an exponential moving average with weight `weight` in [0, 1),
    /// de-biased so that the start is not pulled towards zero.
    pub fn smoothed(&self, weight: f64) -> Vec<Point> {
        let weight = weight.clamp(0.0, 0.999);
        let mut last = 0.0;
        let mut correction = 1.0;
        self.points
            .iter()
            .map(|p| {
                last = last * weight + (1.0 - weight) * p.value;
                correction *= weight;
                Point {
                    value: last / (1.0 - correction),
                    ..*p
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stays_bounded_and_the_mean_is_kept() {
        let mut series = Series::new(100);
        for i in 0..100_000 {
            series.push(i as f64, i as f64 / 1000.0, (i % 10) as f64);
        }
        assert!(series.len() < 100 && series.len() >= 50, "{}", series.len());
        assert!(series.stride() >= 1024);
        // each point averages a run of consecutive raw values, so the curve keeps their level
        let mean = series.points().iter().map(|p| p.value).sum::<f64>() / series.len() as f64;
        assert!((mean - 4.5).abs() < 0.01, "{mean}");
        assert!(
            series
                .points()
                .iter()
                .all(|p| (4.0..=5.0).contains(&p.value))
        );
        // the steps are still in order and span the run
        assert!(series.points().windows(2).all(|w| w[0].step < w[1].step));
        assert!(
            series.points()[0].step < 2000.0 && series.points()[series.len() - 1].step > 98_000.0
        );
    }

    #[test]
    fn smoothing_follows_a_constant_from_the_first_point() {
        let mut series = Series::new(100);
        for i in 0..10 {
            series.push(i as f64, 0.0, 3.0);
        }
        assert!(
            series
                .smoothed(0.9)
                .iter()
                .all(|p| (p.value - 3.0).abs() < 1e-9)
        );
        assert_eq!(series.smoothed(0.0), series.points().to_vec());
    }
}
