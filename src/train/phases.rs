//! One training step as explicit phases: begin a batch, forward layer i, the loss, backward
//! layer i (in reverse), update layer i. [`super::Trainer::train_batch`] runs them in a row;
//! the step-through runs them on a copy and keeps what each phase computed.

use ndarray::ArrayView2;

use super::{TrainError, TrainSettings};
use crate::nn::{Network, NetworkError, OptimizerState, Rng, count_correct};

/// The phases a learner walks through one step, in order: the trainer's own phases (the
/// methods of [`StepPhases`]) with the output gradient and a final check shown apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The batch x (and its targets).
    Input,
    /// Layer i's forward pass: z = W x + b, a = f(z).
    Forward(usize),
    /// The loss.
    Loss,
    /// dL/dz of the output layer, where the backward pass starts.
    OutputGradient,
    /// Layer i's backward pass: dL/dz, dL/dW, dL/db, dL/dx.
    Backward(usize),
    /// Layer i's parameter update.
    Update(usize),
    /// The loss before and after the update; a finite-difference gradient beside the analytic.
    Check,
}

impl Phase {
    /// Every phase of a step through a network of `layers` layers, in order.
    pub fn all(layers: usize) -> Vec<Phase> {
        std::iter::once(Phase::Input)
            .chain((0..layers).map(Phase::Forward))
            .chain([Phase::Loss, Phase::OutputGradient])
            .chain((0..layers).rev().map(Phase::Backward))
            .chain((0..layers).map(Phase::Update))
            .chain(std::iter::once(Phase::Check))
            .collect()
    }

    /// The layer this phase is about, if any.
    pub fn layer(self) -> Option<usize> {
        match self {
            Phase::Forward(i) | Phase::Backward(i) | Phase::Update(i) => Some(i),
            Phase::Input | Phase::Loss | Phase::OutputGradient | Phase::Check => None,
        }
    }

    /// Its name in the step-through's navigator.
    pub fn title(self) -> String {
        match self {
            Phase::Input => "Input".into(),
            Phase::Forward(i) => format!("Forward, layer {i}"),
            Phase::Loss => "Loss".into(),
            Phase::OutputGradient => "Output gradient".into(),
            Phase::Backward(i) => format!("Backward, layer {i}"),
            Phase::Update(i) => format!("Update, layer {i}"),
            Phase::Check => "Check".into(),
        }
    }
}

/// The parts of a run one step changes, borrowed for the length of the step.
pub struct StepPhases<'a> {
    network: &'a mut Network,
    optimizer: &'a mut OptimizerState,
    settings: &'a TrainSettings,
    /// Dropout masks are drawn from it during the forward pass.
    rng: &'a mut Rng,
    targets: ArrayView2<'a, f32>,
    update_started: bool,
}

impl<'a> StepPhases<'a> {
    /// Loads the batch. inputs: [batch, input_len], targets: [batch, outputs].
    pub fn begin(
        network: &'a mut Network,
        optimizer: &'a mut OptimizerState,
        settings: &'a TrainSettings,
        rng: &'a mut Rng,
        inputs: ArrayView2<'_, f32>,
        targets: ArrayView2<'a, f32>,
    ) -> Result<Self, NetworkError> {
        network.set_input(inputs)?;
        Ok(Self {
            network,
            optimizer,
            settings,
            rng,
            targets,
            update_started: false,
        })
    }

    pub fn network(&self) -> &Network {
        self.network
    }

    pub fn optimizer(&self) -> &OptimizerState {
        self.optimizer
    }

    /// Layer `index`'s forward pass (training mode: dropout draws its mask).
    pub fn forward_layer(&mut self, index: usize) {
        self.network.forward_layer(index, Some(self.rng));
    }

    /// The loss of the forward pass and the gradient the backward pass starts from.
    pub fn loss(&mut self) -> Result<f64, NetworkError> {
        self.network
            .start_backward(self.settings.loss, self.targets)
    }

    /// Layer `index`'s backward pass.
    pub fn backward_layer(&mut self, index: usize) {
        self.network.backward_layer(index);
    }

    /// Layer `index`'s update; the first update of the step advances the optimizer's t.
    pub fn update_layer(&mut self, index: usize) {
        if !self.update_started {
            self.optimizer.begin_update(&self.settings.optimizer);
            self.update_started = true;
        }
        if let Some(params) = self.network.layer_params_mut(index) {
            self.optimizer
                .update_layer(&self.settings.optimizer, index, params);
        }
    }

    /// Every forward phase, then the loss.
    pub fn forward_and_loss(&mut self) -> Result<f64, NetworkError> {
        for index in 0..self.network.layers().len() {
            self.forward_layer(index);
        }
        self.loss()
    }

    /// Every backward phase, last layer first.
    pub fn backward(&mut self) {
        for index in (0..self.network.layers().len()).rev() {
            self.backward_layer(index);
        }
    }

    /// Every update phase.
    pub fn update(&mut self) {
        for index in 0..self.network.layers().len() {
            self.update_layer(index);
        }
    }

    /// Forward and loss; a loss that is not finite stops there, before anything is updated, as
    /// divergence at step `step`.
    pub fn forward_and_finite_loss(&mut self, step: u64) -> Result<f64, TrainError> {
        let loss = self.forward_and_loss()?;
        if loss.is_finite() {
            Ok(loss)
        } else {
            Err(TrainError::diverged(step, loss, self.settings))
        }
    }

    /// The whole step, as [`super::Trainer::train_batch`] runs it: forward, the loss (see
    /// [`StepPhases::forward_and_finite_loss`]), backward, update. Returns the loss and how many
    /// of the batch's `labels` the forward pass got right.
    pub fn run(mut self, step: u64, labels: &[usize]) -> Result<(f64, usize), TrainError> {
        let loss = self.forward_and_finite_loss(step)?;
        let correct = count_correct(self.network.output().view(), labels);
        self.backward();
        self.update();
        Ok((loss, correct))
    }
}
