//! Watching a run for the ways training goes wrong without a NaN: a loss that blows up by
//! orders of magnitude, layers whose ReLUs have all died, gradients that have vanished, accuracy
//! stuck at chance. Fed with what the trainer measures; says each once, with the step and what
//! to try.

use serde::{Deserialize, Serialize};

/// A loss this many times the run's first loss has blown up (two orders of magnitude).
pub const BLOW_UP_FACTOR: f64 = 100.0;
/// Below this, the largest weight gradient has vanished.
pub const VANISHED_GRADIENT: f64 = 1e-8;
/// Checks in a row with vanished gradients before saying so.
const VANISHED_CHECKS: u32 = 3;
/// Test accuracy within this of chance counts as chance.
const CHANCE_MARGIN: f64 = 0.02;
/// Evaluations in a row at chance, and epochs done, before saying so.
const CHANCE_EVALUATIONS: u32 = 5;
const CHANCE_EPOCHS: f64 = 2.0;

/// Something that went wrong in training, with the step it was seen at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HealthAlert {
    /// The batch loss jumped to `loss`, `factor` times the first loss: training pauses.
    BlowUp {
        step: u64,
        loss: f64,
        factor: f64,
        learning_rate: f32,
    },
    /// Every unit of these layers (indices) output zero on the test batch.
    DeadLayers { step: u64, layers: Vec<usize> },
    /// The largest |dL/dW| of every layer is below [`VANISHED_GRADIENT`].
    VanishedGradients { step: u64, largest: f64 },
    /// Test accuracy has stayed at chance (`chance`, from the number of classes).
    AtChance {
        step: u64,
        accuracy: f64,
        chance: f64,
    },
}

impl HealthAlert {
    /// Whether training pauses for it.
    pub fn pauses(&self) -> bool {
        matches!(self, HealthAlert::BlowUp { .. })
    }

    /// What happened, at which step, and what to try.
    pub fn message(&self) -> String {
        match self {
            HealthAlert::BlowUp {
                step,
                loss,
                factor,
                learning_rate,
            } => format!(
                "The loss blew up at step {step}: {loss:.3e}, {factor:.0} times where it started. \
                 Training is paused. The learning rate {learning_rate} is the likely cause: lower \
                 it (try {}) and press Reset, or switch to Adam.",
                learning_rate / 10.0
            ),
            HealthAlert::DeadLayers { step, layers } => {
                let names: Vec<String> = layers.iter().map(|l| (l + 1).to_string()).collect();
                let (noun, verb, its, it) = if layers.len() == 1 {
                    ("Layer", "outputs", "its", "it")
                } else {
                    ("Layers", "output", "their", "them")
                };
                format!(
                    "{noun} {} {verb} zero for every test sample at step {step}: all {its} ReLUs \
                     are dead and nothing before {it} can learn. Lower the learning rate, try \
                     another seed or tanh, and press Reset.",
                    names.join(", ")
                )
            }
            HealthAlert::VanishedGradients { step, largest } => format!(
                "The gradients have vanished at step {step}: the largest |dL/dW| of any layer is \
                 {largest:.1e}, so the weights no longer change. Try another initialisation (a new \
                 seed), ReLU instead of sigmoid in deep layers, a larger learning rate, and Reset."
            ),
            HealthAlert::AtChance {
                step,
                accuracy,
                chance,
            } => format!(
                "Test accuracy is stuck at chance ({:.0}%, chance is {:.0}%) at step {step}: the \
                 network is not learning. Check the learning rate (too high or too low), the \
                 loss, and the architecture, then Reset.",
                accuracy * 100.0,
                chance * 100.0
            ),
        }
    }
}

/// Watches one run. Each kind of alert is said once, and again only after it cleared.
#[derive(Clone, Debug, Default)]
pub struct HealthWatch {
    first_loss: Option<f64>,
    blown_up: bool,
    dead: Vec<usize>,
    vanished_checks: u32,
    vanished_said: bool,
    chance_evaluations: u32,
    chance_said: bool,
}

impl HealthWatch {
    /// After each training batch: a blow-up alert when the loss is [`BLOW_UP_FACTOR`] times
    /// the run's first loss (said again only after the loss came back down).
    pub fn after_batch(&mut self, step: u64, loss: f64, learning_rate: f32) -> Option<HealthAlert> {
        if !loss.is_finite() {
            return None; // divergence to NaN is the trainer's own error
        }
        let first = *self.first_loss.get_or_insert(loss.max(1e-3));
        let factor = loss / first;
        if factor < BLOW_UP_FACTOR {
            self.blown_up = false;
            return None;
        }
        if self.blown_up {
            return None;
        }
        self.blown_up = true;
        Some(HealthAlert::BlowUp {
            step,
            loss,
            factor,
            learning_rate,
        })
    }

    /// The layers dead on the test batch now; an alert when a layer joins them.
    pub fn dead_layers(&mut self, step: u64, dead: Vec<usize>) -> Option<HealthAlert> {
        let new = dead.iter().any(|l| !self.dead.contains(l));
        self.dead = dead;
        new.then(|| HealthAlert::DeadLayers {
            step,
            layers: self.dead.clone(),
        })
    }

    /// The largest |dL/dW| over every layer now (checked now and then, not every batch).
    pub fn gradients(&mut self, step: u64, largest: f64) -> Option<HealthAlert> {
        if largest >= VANISHED_GRADIENT || !largest.is_finite() {
            self.vanished_checks = 0;
            self.vanished_said = false;
            return None;
        }
        self.vanished_checks += 1;
        if self.vanished_checks < VANISHED_CHECKS || self.vanished_said {
            return None;
        }
        self.vanished_said = true;
        Some(HealthAlert::VanishedGradients { step, largest })
    }

    /// After each test evaluation: an alert once accuracy has sat at chance for several
    /// evaluations and at least two epochs.
    pub fn evaluated(
        &mut self,
        step: u64,
        epochs: f64,
        accuracy: f64,
        classes: usize,
    ) -> Option<HealthAlert> {
        let chance = 1.0 / classes.max(2) as f64;
        if accuracy > chance + CHANCE_MARGIN {
            self.chance_evaluations = 0;
            self.chance_said = false;
            return None;
        }
        self.chance_evaluations += 1;
        if self.chance_said
            || self.chance_evaluations < CHANCE_EVALUATIONS
            || epochs < CHANCE_EPOCHS
        {
            return None;
        }
        self.chance_said = true;
        Some(HealthAlert::AtChance {
            step,
            accuracy,
            chance,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loss_two_orders_of_magnitude_above_the_first_is_a_blow_up_said_once() {
        let mut watch = HealthWatch::default();
        assert_eq!(watch.after_batch(1, 0.7, 10.0), None);
        assert_eq!(watch.after_batch(2, 0.7 * 99.0, 10.0), None);
        let alert = watch.after_batch(3, 0.7 * 101.0, 10.0).expect("a blow-up");
        assert!(alert.pauses());
        assert!(matches!(alert, HealthAlert::BlowUp { step: 3, .. }));
        let message = alert.message();
        assert!(message.contains("step 3") && message.contains("learning rate 10"));
        assert!(message.contains("try 1"), "{message}");
        // still up: not said again; down and up again: said again
        assert_eq!(watch.after_batch(4, 1e8, 10.0), None);
        assert_eq!(watch.after_batch(5, 0.5, 10.0), None);
        assert!(watch.after_batch(6, 1e3, 10.0).is_some());
        // NaN is the trainer's divergence error, not this
        assert_eq!(HealthWatch::default().after_batch(1, f64::NAN, 1.0), None);
    }

    #[test]
    fn a_layer_is_said_dead_when_it_dies_and_again_only_after_it_came_back() {
        let mut watch = HealthWatch::default();
        assert_eq!(watch.dead_layers(10, vec![]), None);
        let alert = watch.dead_layers(20, vec![0]).expect("layer 0 died");
        assert_eq!(
            alert,
            HealthAlert::DeadLayers {
                step: 20,
                layers: vec![0]
            }
        );
        assert!(alert.message().starts_with("Layer 1 outputs zero"));
        assert!(!alert.pauses());
        assert_eq!(watch.dead_layers(30, vec![0]), None);
        assert!(watch.dead_layers(40, vec![0, 2]).is_some());
        assert_eq!(watch.dead_layers(50, vec![]), None);
        assert!(watch.dead_layers(60, vec![2]).is_some());
    }

    #[test]
    fn gradients_vanish_after_three_checks_in_a_row() {
        let mut watch = HealthWatch::default();
        assert_eq!(watch.gradients(1, 1e-9), None);
        assert_eq!(watch.gradients(2, 1e-9), None);
        assert_eq!(
            watch.gradients(3, 1e-3),
            None,
            "a real gradient resets the count"
        );
        assert_eq!(watch.gradients(4, 0.0), None);
        assert_eq!(watch.gradients(5, 0.0), None);
        let alert = watch.gradients(6, 0.0).expect("vanished");
        assert!(alert.message().contains("step 6"));
        assert_eq!(watch.gradients(7, 0.0), None, "said once");
    }

    #[test]
    fn accuracy_at_chance_is_said_after_two_epochs_and_five_evaluations() {
        let mut watch = HealthWatch::default();
        for k in 0..4 {
            assert_eq!(watch.evaluated(k, 3.0, 0.5, 2), None);
        }
        let alert = watch.evaluated(5, 3.0, 0.51, 2).expect("at chance");
        assert!(alert.message().contains("51%") && alert.message().contains("50%"));
        assert_eq!(watch.evaluated(6, 3.0, 0.5, 2), None, "said once");
        // early in the run it is not said, and learning resets it
        let mut watch = HealthWatch::default();
        for k in 0..10 {
            assert_eq!(watch.evaluated(k, 1.0, 0.1, 10), None);
        }
        assert_eq!(watch.evaluated(11, 2.5, 0.9, 10), None);
        for k in 0..4 {
            assert_eq!(watch.evaluated(12 + k, 2.5, 0.1, 10), None);
        }
        assert!(watch.evaluated(20, 2.5, 0.1, 10).is_some());
    }
}
