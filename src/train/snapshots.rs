//! What builds the [`Snapshot`]s the views draw: a copy of the network that the probe sample and
//! the plane grid go through, and the update of the last recorded batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::{Array1, Array2, s};

use super::Trainer;
use super::protocol::{LayerSnapshot, PlaneOutputs, Probe, Snapshot, TestOutputs};
use crate::data::Dataset;
use crate::nn::Network;

/// Points per side of the grid over the input plane (2-D datasets).
const PLANE_RESOLUTION: usize = 48;

/// Snapshot ids are unique in the process and only grow, across workers too.
static NEXT_SNAPSHOT_ID: AtomicU64 = AtomicU64::new(1);

/// The grid over the input plane of a 2-D dataset.
struct PlaneGrid {
    /// [PLANE_RESOLUTION², 2]
    points: Array2<f32>,
    x: (f32, f32),
    y: (f32, f32),
}

/// Keeps what snapshots need between batches and makes them.
pub struct SnapshotMaker {
    /// A copy of the network for the views: the probe sample and the plane grid go through it,
    /// and it holds the weights from before a recorded batch.
    copy: Network,
    probe: Arc<Probe>,
    plane_grid: Option<PlaneGrid>,
    /// ΔW and Δb of the last recorded batch, per layer (None for layers without parameters).
    updates: Vec<Option<(Array2<f32>, Array1<f32>)>>,
    update_step: Option<u64>,
    test_outputs: Option<Arc<TestOutputs>>,
    /// A past state is shown: its gradients and update were not kept, so none are shown.
    past: bool,
}

impl SnapshotMaker {
    /// For `trainer`'s run; the probe starts as test sample 0.
    pub fn new(trainer: &Trainer) -> Self {
        let data = trainer.data();
        Self {
            copy: trainer.network().clone(),
            probe: Arc::new(Probe {
                input: data.test.inputs.row(0).to_owned(),
                test_index: Some(0),
                label: data.test.labels.first().copied(),
                name: "test sample 0".into(),
            }),
            plane_grid: (data.input_shape.len() == 2).then(|| plane_grid(data)),
            updates: Vec::new(),
            update_step: None,
            test_outputs: None,
            past: false,
        }
    }

    pub fn probe(&self) -> &Arc<Probe> {
        &self.probe
    }

    /// Shows the views `probe` from the next snapshot on.
    pub fn set_probe(&mut self, probe: Probe) {
        self.probe = Arc::new(probe);
    }

    /// Outputs for the whole test split, from the latest evaluation.
    pub fn set_test_outputs(&mut self, outputs: TestOutputs) {
        self.test_outputs = Some(Arc::new(outputs));
    }

    /// The trainer took up another state (`past`: one of the timeline's, viewed): the last
    /// update is not this state's, nor, for a past one, the gradients.
    pub fn restored(&mut self, past: bool) {
        self.updates.clear();
        self.update_step = None;
        self.past = past;
    }

    /// Whether the gradients are not shown (a restored state's are not its own).
    pub fn is_past(&self) -> bool {
        self.past
    }

    /// A batch was trained: its gradients are the network's now.
    pub fn trained(&mut self) {
        self.past = false;
    }

    /// Call before a batch whose update the next snapshot shows: keeps the weights before it.
    pub fn before_recorded_batch(&mut self, trainer: &Trainer) {
        self.copy.copy_params_from(trainer.network());
    }

    /// Call after that batch (batch `step`): ΔW and Δb of every layer.
    pub fn after_recorded_batch(&mut self, trainer: &Trainer, step: u64) {
        self.updates = trainer
            .network()
            .layers()
            .iter()
            .zip(self.copy.layers())
            .map(|(after, before)| {
                let (after, before) = (after.params()?, before.params()?);
                Some((&after.weight - &before.weight, &after.bias - &before.bias))
            })
            .collect();
        self.update_step = Some(step);
        self.past = false;
    }

    /// Copies weights and gradients, and runs the plane grid and the probe sample through a
    /// copy of the network.
    pub fn take(&mut self, trainer: &Trainer) -> Snapshot {
        let network = trainer.network();
        self.copy.copy_params_from(network);
        let plane = self.plane_grid.as_ref().and_then(|grid| {
            self.copy.forward(grid.points.view(), None).ok()?;
            Some(Arc::new(PlaneOutputs {
                resolution: PLANE_RESOLUTION,
                x: grid.x,
                y: grid.y,
                layers: (1..=network.layers().len())
                    .map(|i| self.copy.activation(i).clone())
                    .collect(),
            }))
        });
        let input = self.probe.input.view().insert_axis(ndarray::Axis(0));
        let probe_ok = self.copy.forward(input, None).is_ok();
        let row = |a: &Array2<f32>| a.slice(s![0, ..]).to_owned();
        let layers = network
            .layers()
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let params = layer.params();
                let gradients = params.filter(|_| !self.past);
                let update = self.updates.get(i).and_then(Option::as_ref);
                LayerSnapshot {
                    name: layer.spec().describe(),
                    output_shape: layer.output_shape(),
                    weight: params.map(|p| p.weight.clone()),
                    bias: params.map(|p| p.bias.clone()),
                    grad_weight: gradients.map(|p| p.grad_weight.clone()),
                    grad_bias: gradients.map(|p| p.grad_bias.clone()),
                    update_weight: update.map(|u| u.0.clone()),
                    update_bias: update.map(|u| u.1.clone()),
                    probe_activation: if probe_ok {
                        row(self.copy.activation(i + 1))
                    } else {
                        Array1::zeros(layer.output_shape().len())
                    },
                    probe_pre_activation: self.copy.layers()[i]
                        .pre_activation()
                        .filter(|_| probe_ok && params.is_some())
                        .map(row),
                }
            })
            .collect();
        Snapshot {
            id: NEXT_SNAPSHOT_ID.fetch_add(1, Ordering::Relaxed),
            specs: network.specs(),
            settings: *trainer.settings(),
            step: trainer.step(),
            update_step: self.update_step,
            probe: self.probe.clone(),
            layers,
            plane,
            test_outputs: self.test_outputs.clone(),
        }
    }
}

/// The grid over the plane that holds `data`'s points, with a margin.
fn plane_grid(data: &Dataset) -> PlaneGrid {
    let points = data
        .train
        .inputs
        .rows()
        .into_iter()
        .chain(data.test.inputs.rows());
    let (mut low, mut high) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for point in points {
        for axis in 0..2 {
            low[axis] = low[axis].min(point[axis]);
            high[axis] = high[axis].max(point[axis]);
        }
    }
    // a square plane, so that circles look round
    let centre = [(low[0] + high[0]) / 2.0, (low[1] + high[1]) / 2.0];
    let half = ((high[0] - low[0]).max(high[1] - low[1]) / 2.0 * 1.15).max(0.5);
    let half = if half.is_finite() { half } else { 1.0 };
    let x = (centre[0] - half, centre[0] + half);
    let y = (centre[1] - half, centre[1] + half);
    let plane = PlaneOutputs {
        resolution: PLANE_RESOLUTION,
        x,
        y,
        layers: Vec::new(),
    };
    let n = PLANE_RESOLUTION;
    let points = Array2::from_shape_fn((n * n, 2), |(i, axis)| plane.point(i / n, i % n)[axis]);
    PlaneGrid { points, x, y }
}
