//! The health watch in a real run: a learning rate that blows the loss up pauses training
//! with the step and the cause, dead ReLU layers are found on the test batch, and the run
//! length pauses training at the epoch asked.

use backprop_lab::nn::{Network, Optimizer, seeded_rng};
use backprop_lab::train::health::{HealthAlert, HealthWatch};
use backprop_lab::train::protocol::{Command, Update};
use backprop_lab::train::{Preset, RunConfig, Trainer, training_rng};

#[path = "common/worker_run.rs"]
mod worker_run;
use worker_run::Run;

/// `preset` trained with plain SGD at a learning rate of 10.
fn sgd_at_10(preset: &str) -> RunConfig {
    let mut config = RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 42);
    config.settings.optimizer.optimizer = Optimizer::Sgd;
    config.settings.optimizer.learning_rate = 10.0;
    config.epochs = None;
    config
}

fn blow_up_pauses_within(preset: &str, most_steps: u64) {
    let mut run = Run::start(sgd_at_10(preset));
    assert!(run.worker.send(Command::Play));
    let alert = run.until("the blow-up alert", |u| {
        matches!(
            u,
            Update::Health(HealthAlert::BlowUp { .. }) | Update::Diverged { .. }
        )
    });
    let Update::Health(alert @ HealthAlert::BlowUp { step, factor, .. }) = alert else {
        panic!("{preset}: the loss went to NaN before the watch saw it blow up: {alert:?}");
    };
    assert!(step <= most_steps, "{preset}: blew up only at step {step}");
    assert!(factor >= 100.0);
    let message = alert.message();
    assert!(
        message.contains(&format!("step {step}")) && message.contains("learning rate 10"),
        "{message}"
    );
    let status = run.paused();
    assert_eq!(
        status.step, step,
        "{preset}: paused right after the step that blew up"
    );
    // the batch losses sent end with the one that blew up
    let last_loss = run
        .updates
        .iter()
        .rev()
        .find_map(|u| match u {
            Update::Losses(points) => points.last().copied(),
            _ => None,
        })
        .expect("losses were sent");
    assert_eq!(last_loss.step, step);
}

#[test]
fn spiral_with_sgd_at_10_blows_up_and_pauses_with_the_step_and_the_cause() {
    blow_up_pauses_within("spiral", 200);
}

#[test]
fn mnist_mlp_with_sgd_at_10_blows_up_and_pauses_with_the_step_and_the_cause() {
    blow_up_pauses_within("mnist-mlp", 200);
}

#[test]
fn relu_layers_forced_dead_are_found_on_the_test_batch_and_said() {
    let config = RunConfig::from_preset(&Preset::named("spiral").expect("spiral"), 42);
    let data = config.data.load().expect("the spiral");
    let mut network =
        Network::new(data.input_shape, &config.layers, &mut seeded_rng(42)).expect("a network");
    // every unit of the first hidden layer gets a bias no input can overcome
    network
        .layer_params_mut(0)
        .expect("a dense layer")
        .bias
        .fill(-1e3);
    let mut trainer =
        Trainer::new(network, data, config.settings, training_rng(42)).expect("a trainer");
    let dead = trainer.dead_layers().expect("a forward pass");
    // the layers after it get zeros and, with their zero initial biases, give zeros too
    assert_eq!(dead, [0, 1, 2]);
    let mut watch = HealthWatch::default();
    let alert = watch.dead_layers(0, dead).expect("said");
    let message = alert.message();
    assert!(
        message.starts_with("Layers 1, 2, 3 output zero"),
        "{message}"
    );
    // nothing reaches the dead layer's weights
    let before = trainer
        .network()
        .params()
        .next()
        .expect("weights")
        .weight
        .clone();
    trainer.train_batch().expect("a step");
    assert_eq!(
        trainer.network().params().next().expect("weights").weight,
        before
    );
    // a healthy network has none
    let mut healthy = config.build().expect("the preset");
    assert!(healthy.dead_layers().expect("a forward pass").is_empty());
}

#[test]
fn the_worker_reports_dead_layers_after_each_evaluation() {
    let mut run = Run::start(sgd_at_10("spiral"));
    assert!(run.worker.send(Command::Play));
    run.until("the blow-up", |u| {
        matches!(u, Update::Health(HealthAlert::BlowUp { .. }))
    });
    run.paused();
    // going on at 10 kills the ReLUs; the evaluations find it and the watch says so
    assert!(run.worker.send(Command::Play));
    let Update::Health(HealthAlert::DeadLayers { layers, .. }) = run.until("dead layers", |u| {
        matches!(u, Update::Health(HealthAlert::DeadLayers { .. }))
    }) else {
        unreachable!()
    };
    assert!(
        !layers.is_empty() && layers.iter().all(|&l| l < 3),
        "{layers:?}"
    );
    let reported = run.updates.iter().rev().find_map(|u| match u {
        Update::DeadLayers(dead) => Some(dead.clone()),
        _ => None,
    });
    assert_eq!(
        reported,
        Some(layers),
        "the alert names the layers the evaluation found"
    );
}

#[test]
fn the_run_length_pauses_training_at_the_epoch_asked() {
    let preset = Preset::named("circle").expect("circle");
    let mut config = RunConfig::from_preset(&preset, 42);
    config.epochs = Some(2);
    let batches = config.build().expect("circle builds").batches_per_epoch() as u64;
    let mut run = Run::start(config);
    assert!(run.worker.send(Command::Play));
    let finished = run.until("the end of the run", |u| {
        matches!(u, Update::Finished { .. })
    });
    assert_eq!(
        finished,
        Update::Finished {
            step: 2 * batches,
            epochs: 2
        }
    );
    let status = run.paused();
    assert_eq!(status.step, 2 * batches);
    assert_eq!(status.epochs, 2.0);
    // Play goes on past it, and a new length applies at once
    assert!(run.worker.send(Command::SetRunLength(Some(3))));
    assert!(run.worker.send(Command::Play));
    let finished = run.until("the longer run", |u| {
        matches!(u, Update::Finished { epochs: 3, .. })
    });
    assert_eq!(
        finished,
        Update::Finished {
            step: 3 * batches,
            epochs: 3
        }
    );
}
