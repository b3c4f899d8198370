//! The synchronous trainer: owns the network, the optimizer state and the data, and runs one
//! mini-batch at a time. Same seed and settings give the same numbers, bit for bit.

use ndarray::{Array2, ArrayView1, ArrayView2, s};
use rand::seq::SliceRandom;
use thiserror::Error;

use super::state::{EpochSums, RngState, TensorState, TrainerState};
use super::{Event, SettingChange, StepPhases, StepTrace, TrainSettings};
use crate::data::{DataError, Dataset};
use crate::nn::{Activation, Network, NetworkError, OptimizerState, Rng, count_correct};

#[derive(Debug, Error)]
pub enum TrainError {
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("invalid setting: {0}")]
    Settings(String),
    /// The run would take more memory than this machine allows one.
    #[error("{0}")]
    TooLarge(String),
    #[error(
        "training diverged at step {step}: the loss became {loss}. The learning rate {learning_rate} \
         is probably too high for {optimizer} with {loss_name}; lower it and reset"
    )]
    Diverged {
        step: u64,
        loss: f64,
        learning_rate: f32,
        optimizer: &'static str,
        loss_name: &'static str,
    },
}

impl TrainError {
    /// The loss of step `step` became `loss` (not finite) with `settings`.
    pub fn diverged(step: u64, loss: f64, settings: &TrainSettings) -> Self {
        TrainError::Diverged {
            step,
            loss,
            learning_rate: settings.optimizer.learning_rate,
            optimizer: settings.optimizer.optimizer.name(),
            loss_name: settings.loss.name(),
        }
    }
}

/// What one batch did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchReport {
    /// Batches done so far, this one included.
    pub step: u64,
    /// The epoch this batch belonged to (0-based).
    pub epoch: usize,
    pub loss: f64,
    pub samples: usize,
    pub correct: usize,
    /// The summary of the epoch this batch completed, if it was the epoch's last.
    pub finished_epoch: Option<EpochReport>,
}

/// Loss and accuracy over a split.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: f64,
    pub samples: usize,
}

/// A finished epoch: the mean training loss and accuracy over its batches, as Keras reports them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    pub epoch: usize,
    pub steps: u64,
    pub train: Evaluation,
}

/// Rows per chunk when evaluating a split.
pub(crate) const EVAL_CHUNK: usize = 250;

pub struct Trainer {
    network: Network,
    settings: TrainSettings,
    optimizer_state: OptimizerState,
    data: Dataset,
    train_targets: Array2<f32>,
    test_targets: Array2<f32>,
    /// Shuffles the data each epoch and draws dropout masks.
    rng: Rng,
    order: Vec<usize>,
    cursor: usize,
    step: u64,
    epoch: usize,
    sums: EpochSums,
    batch_inputs: Array2<f32>,
    batch_targets: Array2<f32>,
    events: Vec<Event>,
}

impl Trainer {
    /// A trainer for `network` on `data`; `rng` drives shuffling and dropout.
    pub fn new(
        network: Network,
        data: Dataset,
        settings: TrainSettings,
        rng: Rng,
    ) -> Result<Self, TrainError> {
        settings.validate().map_err(TrainError::Settings)?;
        check_fits(&network, &data)?;
        let outputs = network.output_shape().len();
        settings
            .loss
            .check(network.output_activation(), outputs)
            .map_err(NetworkError::from)?;
        let train_targets = data.train.targets(outputs, data.classes)?;
        let test_targets = data.test.targets(outputs, data.classes)?;
        let optimizer_state = OptimizerState::new(settings.optimizer.optimizer, &network);
        let mut trainer = Self {
            order: (0..data.train.len()).collect(),
            network,
            settings,
            optimizer_state,
            data,
            train_targets,
            test_targets,
            rng,
            cursor: 0,
            step: 0,
            epoch: 0,
            sums: EpochSums::default(),
            batch_inputs: Array2::zeros((0, 0)),
            batch_targets: Array2::zeros((0, 0)),
            events: Vec::new(),
        };
        trainer.order.shuffle(&mut trainer.rng);
        Ok(trainer)
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    pub fn optimizer_state(&self) -> &OptimizerState {
        &self.optimizer_state
    }

    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// Batches done.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Epochs completed.
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Training samples of the current epoch already used.
    pub fn epoch_progress(&self) -> usize {
        self.cursor
    }

    /// The order the current epoch visits the training split in (indices into it), reshuffled
    /// at every epoch's end.
    pub fn epoch_order(&self) -> &[usize] {
        &self.order
    }

    /// Batches in one epoch at the current batch size.
    pub fn batches_per_epoch(&self) -> usize {
        self.data.train.len().div_ceil(self.settings.batch_size)
    }

    /// Every setting change so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Applies `change` from the next batch on and records it; the weights stay as they are.
    /// A new kind of optimizer starts from fresh state, and the event says so.
    /// A loss the network's output cannot take, or an invalid value, is refused and nothing changes.
    pub fn change(&mut self, change: SettingChange) -> Result<(), TrainError> {
        let settings = self.settings.with(change);
        settings.validate().map_err(TrainError::Settings)?;
        settings
            .loss
            .check(
                self.network.output_activation(),
                self.network.output_shape().len(),
            )
            .map_err(NetworkError::from)?;
        let optimizer_state_reset = !settings
            .optimizer
            .optimizer
            .same_kind(&self.optimizer_state.optimizer());
        if optimizer_state_reset {
            self.optimizer_state = OptimizerState::new(settings.optimizer.optimizer, &self.network);
        }
        self.settings = settings;
        self.events.push(Event {
            step: self.step,
            epoch: self.epoch,
            change,
            optimizer_state_reset,
        });
        Ok(())
    }

    /// One mini-batch: forward, loss, backward, update. A loss that is not finite stops before
    /// the update and is reported as [`TrainError::Diverged`].
    pub fn train_batch(&mut self) -> Result<BatchReport, TrainError> {
        // The whole step runs on a worker of the thread pool, so the parallel products and
        // updates inside it hand work to the other worker directly instead of waking this
        // thread up and putting it back to sleep several times per batch.
        rayon::scope(|_| self.train_batch_here())
    }

    fn train_batch_here(&mut self) -> Result<BatchReport, TrainError> {
        let n = self.order.len();
        let end = (self.cursor + self.settings.batch_size).min(n);
        let rows = &self.order[self.cursor..end];
        let batch = rows.len();
        if self.batch_inputs.nrows() != batch {
            self.batch_inputs = Array2::zeros((batch, self.data.train.inputs.ncols()));
            self.batch_targets = Array2::zeros((batch, self.train_targets.ncols()));
        }
        gather_rows(&self.data.train.inputs, rows, &mut self.batch_inputs);
        gather_rows(&self.train_targets, rows, &mut self.batch_targets);
        let labels: Vec<usize> = rows.iter().map(|&r| self.data.train.labels[r]).collect();

        let (loss, correct) = StepPhases::begin(
            &mut self.network,
            &mut self.optimizer_state,
            &self.settings,
            &mut self.rng,
            self.batch_inputs.view(),
            self.batch_targets.view(),
        )?
        .run(self.step + 1, &labels)?;

        self.step += 1;
        self.cursor = end;
        self.sums.loss += loss * batch as f64;
        self.sums.correct += correct;
        self.sums.samples += batch;
        self.sums.steps += 1;
        let epoch = self.epoch;
        Ok(BatchReport {
            step: self.step,
            epoch,
            loss,
            samples: batch,
            correct,
            finished_epoch: (end == n).then(|| self.finish_epoch()),
        })
    }

    /// The whole state between two batches: with the config this trainer was built from, it
    /// goes on exactly as this one would.
    pub fn state(&self) -> TrainerState {
        TrainerState {
            settings: self.settings,
            parameters: self
                .network
                .params()
                .map(|p| TensorState::new(&p.weight, &p.bias))
                .collect(),
            optimizer: self.optimizer_state.clone(),
            rng: RngState::of(&self.rng),
            order: self.order.clone(),
            cursor: self.cursor,
            step: self.step,
            epoch: self.epoch,
            sums: self.sums,
            events: self.events.clone(),
        }
    }

    /// Takes up `state` (saved from a trainer built from the same config), after checking that
    /// every part of it fits this network and data; on error nothing has changed.
    pub fn restore(&mut self, state: TrainerState) -> Result<(), TrainError> {
        let invalid = |reason: String| TrainError::Settings(format!("the saved run {reason}"));
        state
            .settings
            .validate()
            .map_err(|e| invalid(format!("has invalid settings: {e}")))?;
        state
            .settings
            .loss
            .check(
                self.network.output_activation(),
                self.network.output_shape().len(),
            )
            .map_err(|e| invalid(e.to_string()))?;
        let mut network = self.network.clone();
        let count = network.params().count();
        if state.parameters.len() != count {
            return Err(invalid(format!(
                "has {} parameter tensors; the network has {count}",
                state.parameters.len()
            )));
        }
        for (index, (params, saved)) in network.params_mut().zip(&state.parameters).enumerate() {
            let (weight, bias) = saved
                .arrays()
                .map_err(|e| invalid(format!("parameter tensor {index}: {e}")))?;
            if weight.dim() != params.weight.dim() || bias.len() != params.bias.len() {
                return Err(invalid(format!(
                    "parameter tensor {index} is {:?}; the network's is {:?}",
                    weight.dim(),
                    params.weight.dim()
                )));
            }
            if !saved.is_finite() {
                return Err(invalid(format!(
                    "parameter tensor {index} holds NaN or infinite values"
                )));
            }
            params.weight = weight;
            params.bias = bias;
        }
        state
            .optimizer
            .check(state.settings.optimizer.optimizer, &network)
            .map_err(|e| invalid(e.to_string()))?;
        let n = self.data.train.len();
        let mut seen = vec![false; n];
        let permutation = state.order.len() == n
            && state
                .order
                .iter()
                .all(|&row| row < n && !std::mem::replace(&mut seen[row], true));
        if !permutation || state.cursor > n {
            return Err(invalid(format!(
                "has an epoch order that is not one of the {n} training rows"
            )));
        }
        self.network = network;
        self.settings = state.settings;
        self.optimizer_state = state.optimizer;
        self.rng = state.rng.rng();
        self.order = state.order;
        self.cursor = state.cursor;
        self.step = state.step;
        self.epoch = state.epoch;
        self.sums = state.sums;
        self.events = state.events;
        Ok(())
    }

    /// The ReLU layers (indices) whose every output is zero on the test batch (the first
    /// [`EVAL_CHUNK`] test samples): dead layers, through which nothing learns.
    pub fn dead_layers(&mut self) -> Result<Vec<usize>, TrainError> {
        let rows = self.data.test.len().min(EVAL_CHUNK);
        if rows == 0 {
            return Ok(Vec::new());
        }
        self.network
            .forward(self.data.test.inputs.slice(s![..rows, ..]), None)?;
        let network = &self.network;
        Ok((0..network.layers().len())
            .filter(|&i| {
                network.layers()[i].activation() == Activation::Relu
                    && network.activation(i + 1).iter().all(|&v| v <= 0.0)
            })
            .collect())
    }

    /// The largest |dL/dW| of the last batch over every layer's weights (0 without any).
    pub fn largest_weight_gradient(&self) -> f64 {
        self.network
            .params()
            .flat_map(|p| p.grad_weight.iter())
            .fold(0.0f32, |m, g| m.max(g.abs()))
            .into()
    }

    /// The training-split rows the next batch will train on.
    pub fn next_batch_rows(&self) -> &[usize] {
        let end = (self.cursor + self.settings.batch_size).min(self.order.len());
        &self.order[self.cursor..end]
    }

    /// The next batch's step, recorded phase by phase on copies: nothing in the run changes, and
    /// [`Trainer::train_batch`] then computes exactly these numbers.
    pub fn trace_next_batch(&self) -> Result<StepTrace, TrainError> {
        let rows = self.next_batch_rows().to_vec();
        let mut inputs = Array2::zeros((rows.len(), self.data.train.inputs.ncols()));
        let mut targets = Array2::zeros((rows.len(), self.train_targets.ncols()));
        gather_rows(&self.data.train.inputs, &rows, &mut inputs);
        gather_rows(&self.train_targets, &rows, &mut targets);
        self.trace(inputs.view(), targets.view(), Some(rows))
    }

    /// A step on one sample x: [input_len] with class `label`, as a batch of one, recorded on
    /// copies. `sample` is its training-split index, if it is a training sample.
    pub fn trace_sample(
        &self,
        x: ArrayView1<f32>,
        label: usize,
        sample: Option<usize>,
    ) -> Result<StepTrace, TrainError> {
        let (inputs, targets) = self.one_sample(x, label)?;
        self.trace(inputs.view(), targets.view(), sample.map(|s| vec![s]))
    }

    /// The next step on inputs [batch, input_len] and targets [batch, outputs], recorded on
    /// copies of the run's network, optimizer state and generator.
    fn trace(
        &self,
        inputs: ArrayView2<f32>,
        targets: ArrayView2<f32>,
        samples: Option<Vec<usize>>,
    ) -> Result<StepTrace, TrainError> {
        StepTrace::record(
            &self.network,
            &self.optimizer_state,
            &self.settings,
            &self.rng,
            inputs,
            targets,
            samples,
            self.step + 1,
        )
    }

    /// Trains on one sample x: [input_len] with class `label` as a batch of one, outside the
    /// epoch's order: the step count goes up by one, the epoch stays where it was.
    pub fn train_sample(
        &mut self,
        x: ArrayView1<f32>,
        label: usize,
    ) -> Result<BatchReport, TrainError> {
        let (inputs, targets) = self.one_sample(x, label)?;
        let (loss, correct) = StepPhases::begin(
            &mut self.network,
            &mut self.optimizer_state,
            &self.settings,
            &mut self.rng,
            inputs.view(),
            targets.view(),
        )?
        .run(self.step + 1, &[label])?;
        self.step += 1;
        Ok(BatchReport {
            step: self.step,
            epoch: self.epoch,
            loss,
            samples: 1,
            correct,
            finished_epoch: None,
        })
    }

    /// x as a batch of one, [1, input_len], and its target row, [1, outputs].
    fn one_sample(
        &self,
        x: ArrayView1<f32>,
        label: usize,
    ) -> Result<(Array2<f32>, Array2<f32>), TrainError> {
        let expected = self.network.input_shape().len();
        if x.len() != expected || x.iter().any(|v| !v.is_finite()) {
            return Err(TrainError::Settings(format!(
                "a sample for this network has {expected} finite values, this one has {}",
                x.len()
            )));
        }
        if label >= self.data.classes {
            return Err(TrainError::Settings(format!(
                "class {label} does not exist: the data has {} classes",
                self.data.classes
            )));
        }
        let outputs = self.network.output_shape().len();
        let targets = crate::data::targets_for(&[label], outputs, self.data.classes)?;
        Ok((x.to_owned().insert_axis(ndarray::Axis(0)), targets))
    }

    /// Batches until the current epoch ends, calling `on_batch` after each.
    pub fn train_epoch(
        &mut self,
        mut on_batch: impl FnMut(&BatchReport) + Send,
    ) -> Result<EpochReport, TrainError> {
        // One trip into the thread pool for the whole epoch (see `train_batch`).
        rayon::scope(|_| {
            loop {
                let report = self.train_batch_here()?;
                on_batch(&report);
                if let Some(epoch) = report.finished_epoch {
                    return Ok(epoch);
                }
            }
        })
    }

    /// Closes the epoch whose last batch was just trained: its summary, a new shuffle.
    fn finish_epoch(&mut self) -> EpochReport {
        let sums = std::mem::take(&mut self.sums);
        let samples = sums.samples.max(1) as f64;
        let report = EpochReport {
            epoch: self.epoch,
            steps: sums.steps,
            train: Evaluation {
                loss: sums.loss / samples,
                accuracy: sums.correct as f64 / samples,
                samples: sums.samples,
            },
        };
        self.epoch += 1;
        self.cursor = 0;
        self.order.shuffle(&mut self.rng);
        report
    }

    /// Loss and accuracy on the test split (inference: no dropout).
    pub fn evaluate_test(&mut self) -> Result<Evaluation, TrainError> {
        let evaluation = self.evaluate_test_while(&|| true, None)?;
        Ok(evaluation.expect("an evaluation never told to stop finishes"))
    }

    /// [`Trainer::evaluate_test`] that asks `keep_going` between chunks of rows and gives up
    /// (None) when it says no: the app's trainer thread stops promptly mid-evaluation.
    /// `outputs`, if given, receives the network's outputs [test samples, outputs].
    pub fn evaluate_test_while(
        &mut self,
        keep_going: &dyn Fn() -> bool,
        outputs: Option<&mut Array2<f32>>,
    ) -> Result<Option<Evaluation>, TrainError> {
        evaluate_while(
            &mut self.network,
            &self.data.test.inputs,
            &self.test_targets,
            &self.data.test.labels,
            self.settings.loss,
            keep_going,
            outputs,
        )
    }
}

/// Whether `network` takes `data`'s samples: the same number of values per sample.
pub fn check_fits(network: &Network, data: &Dataset) -> Result<(), DataError> {
    if network.input_shape().len() == data.input_shape.len() {
        return Ok(());
    }
    Err(DataError::Invalid(format!(
        "the network takes {} inputs ({}) but {} samples have {} ({})",
        network.input_shape().len(),
        network.input_shape(),
        data.name,
        data.input_shape.len(),
        data.input_shape
    )))
}

/// Copies rows `rows` of `source` [n, cols] into `batch` [rows.len(), cols].
fn gather_rows(source: &Array2<f32>, rows: &[usize], batch: &mut Array2<f32>) {
    let cols = source.ncols();
    match (source.as_slice(), batch.as_slice_mut()) {
        (Some(source), Some(batch)) => {
            for (dst, &row) in batch.chunks_exact_mut(cols).zip(rows) {
                dst.copy_from_slice(&source[row * cols..(row + 1) * cols]);
            }
        }
        _ => {
            for (k, &row) in rows.iter().enumerate() {
                batch.row_mut(k).assign(&source.row(row));
            }
        }
    }
}

/// Loss and accuracy of `network` on inputs [n, features] with targets [n, outputs].
pub fn evaluate(
    network: &mut Network,
    inputs: &Array2<f32>,
    targets: &Array2<f32>,
    labels: &[usize],
    loss: crate::nn::Loss,
) -> Result<Evaluation, TrainError> {
    let evaluation = evaluate_while(network, inputs, targets, labels, loss, &|| true, None)?;
    Ok(evaluation.expect("an evaluation never told to stop finishes"))
}

/// [`evaluate`], asking `keep_going` before each chunk of rows; None if it said no.
/// `outputs`, if given, receives the network's outputs [n, outputs].
pub fn evaluate_while(
    network: &mut Network,
    inputs: &Array2<f32>,
    targets: &Array2<f32>,
    labels: &[usize],
    loss: crate::nn::Loss,
    keep_going: &dyn Fn() -> bool,
    mut outputs: Option<&mut Array2<f32>>,
) -> Result<Option<Evaluation>, TrainError> {
    let n = inputs.nrows();
    if let Some(outputs) = outputs.as_deref_mut() {
        *outputs = Array2::zeros((n, network.output_shape().len()));
    }
    let (mut loss_sum, mut correct) = (0.0, 0);
    for start in (0..n).step_by(EVAL_CHUNK) {
        if !keep_going() {
            return Ok(None);
        }
        let end = (start + EVAL_CHUNK).min(n);
        let output = network.forward(inputs.slice(s![start..end, ..]), None)?;
        correct += count_correct(output.view(), &labels[start..end]);
        if let Some(outputs) = outputs.as_deref_mut() {
            outputs.slice_mut(s![start..end, ..]).assign(output);
        }
        loss_sum += network.loss(loss, targets.slice(s![start..end, ..]))? * (end - start) as f64;
    }
    let samples = n.max(1) as f64;
    Ok(Some(Evaluation {
        loss: loss_sum / samples,
        accuracy: correct as f64 / samples,
        samples: n,
    }))
}
