//! Watching a run for the ways training goes wrong without a NaN: a loss that blows up by
//! orders of magnitude, layers whose ReLUs have all died, gradients that have vanished, accuracy
//! stuck at chance. Fed with what the trainer measures; says each once, with the step and what
//! to try.

use serde::{Deserialize, Serialize};

use crate::nn::{Optimizer, OptimizerSettings};

/// A loss this many times the run's first loss has blown up (two orders of magnitude).
pub const BLOW_UP_FACTOR: f64 = 100.0;
/// Below this, the largest weight gradient has vanished.
pub const VANISHED_GRADIENT: f64 = 1e-8;
/// Checks in a row with vanished gradients before saying so.
const VANISHED_CHECKS: u32 = 3;
/// Test accuracy within this of chance counts as chance.
const CHANCE_MARGIN: f64 = 0.02;
/// Steps and epochs at chance before saying so.
const CHANCE_STEPS: u64 = 500;
const CHANCE_EPOCHS: f64 = 2.0;

/// Something that went wrong in training, with the step it was seen at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HealthAlert {
    /// The batch loss jumped to `loss`, `factor` times the first loss (or the smoothed loss
    /// to `factor` times its lowest): training pauses.
    BlowUp {
        step: u64,
        loss: f64,
        factor: f64,
        /// True: measured from the first loss; false: from the lowest smoothed loss.
        from_start: bool,
        learning_rate: f32,
        adam: bool,
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
                from_start,
                learning_rate,
                adam,
            } => format!(
                "The loss blew up at step {step}: {loss:.3e}, {factor:.0} times {}. Training is \
                 paused. The learning rate {} is the likely cause: lower it (try {}) and press \
                 Reset{}.",
                if *from_start {
                    "where it started"
                } else {
                    "its lowest so far"
                },
                short(f64::from(*learning_rate)),
                short(f64::from(*learning_rate) / 10.0),
                if *adam { "" } else { ", or switch to Adam" }
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

/// A number with at most 6 significant decimals, without float noise (0.030000001 -> 0.03).
fn short(x: f64) -> String {
    let digits = 6 - x.abs().log10().floor().clamp(-12.0, 6.0) as i32;
    let scale = 10f64.powi(digits.max(0));
    format!("{}", (x * scale).round() / scale)
}

/// Weight of a new batch loss in the smoothed loss.
const SMOOTHING: f64 = 0.1;

/// Watches one run. Each kind of alert is said once, and again only after it cleared.
#[derive(Clone, Debug, Default)]
pub struct HealthWatch {
    first_loss: Option<f64>,
    /// The loss function changed since the run started: the first loss after it is no longer
    /// the untrained network's, so it is floored higher and "thrown back" is not judged.
    loss_changed: bool,
    /// The smoothed batch loss and its lowest value.
    smoothed: f64,
    lowest: f64,
    blown_up: bool,
    dead: Vec<usize>,
    vanished_checks: u32,
    vanished_said: bool,
    /// (step, epochs) of the first evaluation at chance since the last one above it.
    at_chance_since: Option<(u64, f64)>,
    chance_said: bool,
}

impl HealthWatch {
    /// After each training batch: a blow-up alert when the loss is [`BLOW_UP_FACTOR`] times
    /// the run's first loss, or the smoothed loss is that many times its lowest and above the
    /// first (a trained network thrown back). Said again only after the loss came well down.
    pub fn after_batch(
        &mut self,
        step: u64,
        loss: f64,
        settings: &OptimizerSettings,
    ) -> Option<HealthAlert> {
        if !loss.is_finite() {
            return None; // divergence to NaN is the trainer's own error
        }
        let first = match self.first_loss {
            Some(first) => first,
            None => {
                let first = loss.max(if self.loss_changed { 0.1 } else { 1e-3 });
                (self.first_loss, self.smoothed, self.lowest) = (Some(first), loss, loss);
                first
            }
        };
        self.smoothed += SMOOTHING * (loss - self.smoothed);
        self.lowest = self.lowest.min(self.smoothed).max(1e-12);
        let (from_start, from_lowest) = (loss / first, self.smoothed / self.lowest);
        let thrown_back =
            !self.loss_changed && self.smoothed >= first && from_lowest >= BLOW_UP_FACTOR;
        let jumped = from_start >= BLOW_UP_FACTOR || thrown_back;
        if !jumped {
            if from_start < BLOW_UP_FACTOR / 10.0 && from_lowest < BLOW_UP_FACTOR / 10.0 {
                self.blown_up = false;
            }
            return None;
        }
        if self.blown_up {
            return None;
        }
        self.blown_up = true;
        Some(HealthAlert::BlowUp {
            step,
            loss,
            factor: from_start.max(from_lowest),
            from_start: from_start >= BLOW_UP_FACTOR,
            learning_rate: settings.learning_rate,
            adam: matches!(settings.optimizer, Optimizer::Adam { .. }),
        })
    }

    /// The loss function changed: its values are on another scale, so the blow-up watch
    /// measures from the next loss again.
    pub fn loss_changed(&mut self) {
        self.first_loss = None;
        self.loss_changed = true;
        self.blown_up = false;
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

    /// The largest |dL/dW| over every layer now (checked now and then, not every batch). A
    /// network that has learned (smoothed loss under half the first) may rightly have none.
    pub fn gradients(&mut self, step: u64, largest: f64) -> Option<HealthAlert> {
        let learned = self
            .first_loss
            .is_some_and(|first| self.smoothed < 0.5 * first);
        if largest >= VANISHED_GRADIENT || !largest.is_finite() || learned {
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

    /// After each test evaluation: an alert once accuracy has sat at chance for
    /// [`CHANCE_EPOCHS`] epochs and [`CHANCE_STEPS`] steps in a row.
    pub fn evaluated(
        &mut self,
        step: u64,
        epochs: f64,
        accuracy: f64,
        classes: usize,
    ) -> Option<HealthAlert> {
        let chance = 1.0 / classes.max(2) as f64;
        if accuracy > chance + CHANCE_MARGIN {
            self.at_chance_since = None;
            self.chance_said = false;
            return None;
        }
        let (since_step, since_epochs) = *self.at_chance_since.get_or_insert((step, epochs));
        let long = step - since_step >= CHANCE_STEPS && epochs - since_epochs >= CHANCE_EPOCHS;
        if self.chance_said || !long {
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

    fn sgd(learning_rate: f32) -> OptimizerSettings {
        OptimizerSettings {
            optimizer: Optimizer::Sgd,
            learning_rate,
            weight_decay: 0.0,
        }
    }

    #[test]
    fn a_loss_two_orders_of_magnitude_above_the_first_is_a_blow_up_said_once() {
        let mut watch = HealthWatch::default();
        let lr = sgd(0.3);
        assert_eq!(watch.after_batch(1, 0.7, &lr), None);
        assert_eq!(watch.after_batch(2, 0.7 * 99.0, &lr), None);
        let alert = watch.after_batch(3, 0.7 * 101.0, &lr).expect("a blow-up");
        assert!(alert.pauses());
        assert!(matches!(
            alert,
            HealthAlert::BlowUp {
                step: 3,
                from_start: true,
                ..
            }
        ));
        let message = alert.message();
        assert!(message.contains("step 3") && message.contains("learning rate 0.3 "));
        assert!(
            message.contains("(try 0.03)") && message.contains("switch to Adam"),
            "{message}"
        );
        // still up: not said again; well down and up again: said again
        assert_eq!(watch.after_batch(4, 1e8, &lr), None);
        for step in 5..300 {
            assert_eq!(watch.after_batch(step, 0.5, &lr), None);
        }
        assert!(watch.after_batch(300, 1e3, &lr).is_some());
        // NaN is the trainer's divergence error, not this
        assert_eq!(HealthWatch::default().after_batch(1, f64::NAN, &lr), None);
    }

    #[test]
    fn a_trained_network_thrown_back_is_a_blow_up_but_one_hard_sample_is_not() {
        let mut watch = HealthWatch::default();
        let adam = OptimizerSettings {
            optimizer: Optimizer::ADAM,
            ..sgd(1e-3)
        };
        watch.after_batch(1, 2.3, &adam);
        for step in 2..200 {
            assert_eq!(watch.after_batch(step, 0.01, &adam), None);
        }
        // batch of one: a single misclassified sample costs as much as the start, once
        assert_eq!(watch.after_batch(200, 2.3, &adam), None);
        assert_eq!(watch.after_batch(201, 0.01, &adam), None);
        // thrown back for good: the smoothed loss climbs past the first within a few steps
        let alert = (202..240)
            .find_map(|step| watch.after_batch(step, 50.0, &adam))
            .expect("a blow-up");
        let HealthAlert::BlowUp {
            step, from_start, ..
        } = alert
        else {
            panic!("{alert:?}")
        };
        assert!(!from_start && step < 210, "at step {step}");
        assert!(
            !alert.message().contains("switch to Adam"),
            "{}",
            alert.message()
        );
    }

    #[test]
    fn another_loss_is_measured_from_its_own_start() {
        let mut watch = HealthWatch::default();
        let adam = OptimizerSettings {
            optimizer: Optimizer::ADAM,
            ..sgd(1e-2)
        };
        watch.after_batch(1, 0.7, &adam);
        for step in 2..300 {
            watch.after_batch(step, 1e-8, &adam);
        }
        // cross-entropy -> MSE -> cross-entropy on a solved problem: the MSE starts tiny and
        // spikes, then the cross-entropy comes back high: neither is a blow-up
        watch.loss_changed();
        for step in 300..400 {
            assert_eq!(watch.after_batch(step, 1e-9, &adam), None);
        }
        for step in 400..410 {
            assert_eq!(watch.after_batch(step, 0.2, &adam), None);
        }
        watch.loss_changed();
        for step in 410..500 {
            assert_eq!(watch.after_batch(step, 4.7, &adam), None);
        }
        // a real blow-up after a change still is one
        let alert = watch.after_batch(500, 1e4, &adam).expect("a blow-up");
        assert!(matches!(
            alert,
            HealthAlert::BlowUp {
                from_start: true,
                ..
            }
        ));
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
    fn gradients_vanish_after_three_checks_in_a_row_unless_the_network_has_learned() {
        let mut watch = HealthWatch::default();
        watch.after_batch(1, 0.7, &sgd(0.1));
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
        // solved, saturated outputs: zero gradients are no alarm
        let mut solved = HealthWatch::default();
        solved.after_batch(1, 0.7, &sgd(0.1));
        for step in 2..100 {
            solved.after_batch(step, 1e-4, &sgd(0.1));
        }
        for step in 0..10 {
            assert_eq!(solved.gradients(step, 0.0), None);
        }
    }

    #[test]
    fn accuracy_at_chance_is_said_after_two_epochs_and_500_steps_of_it() {
        // xor: an epoch is a step; evaluations after every Step do not count as time
        let mut watch = HealthWatch::default();
        for step in 0..500 {
            assert_eq!(watch.evaluated(step, step as f64, 0.5, 2), None);
        }
        let alert = watch.evaluated(500, 500.0, 0.25, 2).expect("at chance");
        assert!(alert.message().contains("25%") && alert.message().contains("50%"));
        assert_eq!(watch.evaluated(501, 501.0, 0.5, 2), None, "said once");
        // a large dataset: 1,900 steps are under two epochs; learning resets the count
        let mut watch = HealthWatch::default();
        let epochs = |step: u64| step as f64 / 1000.0;
        for step in (0..2000).step_by(50) {
            assert_eq!(watch.evaluated(step, epochs(step), 0.1, 10), None);
        }
        assert_eq!(watch.evaluated(2000, epochs(2000), 0.9, 10), None);
        assert_eq!(watch.evaluated(2100, epochs(2100), 0.1, 10), None);
        assert_eq!(watch.evaluated(4000, epochs(4000), 0.1, 10), None);
        assert!(watch.evaluated(4200, epochs(4200), 0.1, 10).is_some());
    }

    #[test]
    fn numbers_in_messages_carry_no_float_noise() {
        assert_eq!(short(f64::from(0.3f32) / 10.0), "0.03");
        assert_eq!(short(10.0), "10");
        assert_eq!(short(1e-5), "0.00001");
    }
}
