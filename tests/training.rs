//! The trainer: convergence on the presets, determinism, mid-run changes, divergence.

use backprop_lab::data::{DataSource, ToyKind, ToySpec};
use backprop_lab::nn::{Loss, Optimizer};
mod common;

use backprop_lab::train::{Preset, SettingChange, TrainError, Trainer};

fn trainer(name: &str, seed: u64) -> Trainer {
    let preset = Preset::named(name).expect("preset exists");
    let data = preset.data_source(seed).load().expect("data loads");
    preset
        .build(seed, data, preset.settings)
        .expect("trainer builds")
}

fn train(trainer: &mut Trainer, epochs: usize) {
    for _ in 0..epochs {
        trainer.train_epoch(|_| {}).expect("training runs");
    }
}

#[test]
fn xor_reaches_full_accuracy() {
    let mut xor = trainer("xor", 42);
    train(&mut xor, 300);
    let test = xor.evaluate_test().unwrap();
    assert_eq!(test.accuracy, 1.0, "{test:?}");
    assert!(test.loss < 0.05, "{test:?}");
}

#[test]
fn spiral_reaches_95_percent_on_the_test_split() {
    let mut spiral = trainer("spiral", 42);
    train(&mut spiral, 200);
    let test = spiral.evaluate_test().unwrap();
    assert!(test.accuracy >= 0.95, "{test:?}");
}

#[test]
fn circle_separates_disc_from_ring() {
    let mut circle = trainer("circle", 42);
    train(&mut circle, 40);
    assert!(circle.evaluate_test().unwrap().accuracy >= 0.97);
}

#[test]
fn mnist_mlp_learns_digits_in_one_epoch() {
    let mut mlp = trainer("mnist-mlp", 42);
    let before = mlp.evaluate_test().unwrap();
    train(&mut mlp, 1);
    let after = mlp.evaluate_test().unwrap();
    assert!(before.accuracy < 0.3, "{before:?}");
    assert!(after.accuracy > 0.85, "{after:?}");
    assert_eq!(after.samples, 1500);
}

#[test]
fn the_same_seed_gives_the_same_numbers_bit_for_bit() {
    let run = |seed| {
        let mut t = trainer("mnist-cnn", seed);
        let losses: Vec<u64> = (0..15)
            .map(|_| t.train_batch().unwrap().loss.to_bits())
            .collect();
        let weights: Vec<u32> = t
            .network()
            .params()
            .flat_map(|p| p.weight.iter().map(|w| w.to_bits()).collect::<Vec<_>>())
            .collect();
        (losses, weights)
    };
    let (losses, weights) = run(7);
    assert_eq!(losses.len(), 15);
    assert_eq!(run(7), (losses.clone(), weights));
    assert_ne!(run(8).0, losses);
}

#[test]
fn toy_data_is_reproducible_and_balanced() {
    for kind in ToyKind::ALL.into_iter().filter(|k| *k != ToyKind::Xor) {
        let spec = ToySpec::new(kind, 200, 3);
        let a = DataSource::Toy(spec).load().unwrap();
        let b = DataSource::Toy(spec).load().unwrap();
        assert_eq!(a.train.inputs, b.train.inputs);
        assert_eq!((a.train.len(), a.test.len()), (100, 100));
        let ones = a
            .train
            .labels
            .iter()
            .chain(&a.test.labels)
            .filter(|&&l| l == 1)
            .count();
        assert_eq!(ones, 100, "{kind:?}");
        let other = DataSource::Toy(ToySpec::new(kind, 200, 4)).load().unwrap();
        assert_ne!(a.train.inputs, other.train.inputs);
    }
}

#[test]
fn absurd_toy_settings_are_refused() {
    let bad = [
        ToySpec::new(ToyKind::Circle, 2, 0),
        ToySpec {
            noise: f32::NAN,
            ..ToySpec::new(ToyKind::Moons, 100, 0)
        },
        ToySpec {
            train_fraction: 1.0,
            ..ToySpec::new(ToyKind::Spiral, 100, 0)
        },
    ];
    for spec in bad {
        assert!(DataSource::Toy(spec).load().is_err(), "{spec:?}");
    }
}

#[test]
fn switching_optimizer_and_loss_mid_run_keeps_the_weights_and_records_events() {
    let mut t = trainer("mnist-mlp", 1);
    for _ in 0..5 {
        t.train_batch().unwrap();
    }
    let weights = t.network().params().next().unwrap().weight.clone();
    t.change(SettingChange::Optimizer(Optimizer::Sgd)).unwrap();
    t.change(SettingChange::Loss(Loss::Mse)).unwrap();
    // Changing settings does not touch the weights.
    assert_eq!(t.network().params().next().unwrap().weight, weights);
    for _ in 0..3 {
        t.train_batch().unwrap();
    }
    t.change(SettingChange::LearningRate(0.5)).unwrap();
    t.change(SettingChange::BatchSize(10)).unwrap();
    let report = t.train_batch().unwrap();
    assert_eq!(report.samples, 10);
    let events: Vec<(u64, String)> = t
        .events()
        .iter()
        .map(|e| (e.step, e.change.label()))
        .collect();
    assert_eq!(
        events,
        vec![
            (5, "SGD".into()),
            (5, "MSE".into()),
            (8, "lr 0.5".into()),
            (8, "batch 10".into())
        ]
    );
    assert_eq!(t.settings().loss, Loss::Mse);
    assert_eq!(
        t.optimizer_state().t(),
        4,
        "SGD started with fresh state at step 5"
    );
    // the switch of kind says it reset the state; the other changes kept it
    let resets: Vec<bool> = t.events().iter().map(|e| e.optimizer_state_reset).collect();
    assert_eq!(resets, vec![true, false, false, false]);
}

#[test]
fn a_change_the_network_cannot_take_is_refused_and_nothing_changes() {
    let mut t = trainer("xor", 1);
    assert!(matches!(
        t.change(SettingChange::LearningRate(-1.0)),
        Err(TrainError::Settings(_))
    ));
    assert!(matches!(
        t.change(SettingChange::BatchSize(0)),
        Err(TrainError::Settings(_))
    ));
    assert!(t.events().is_empty());
    assert_eq!(t.settings().optimizer.learning_rate, 0.05);
}

#[test]
fn a_learning_rate_that_blows_up_stops_with_the_step_and_the_cause() {
    // A regression head (linear output, MSE) with a far too large step explodes to inf, then NaN.
    let mut t = common::diverging_run().build().unwrap();
    let mut error = None;
    for _ in 0..200 {
        if let Err(e) = t.train_batch() {
            error = Some(e);
            break;
        }
    }
    let error = error.expect("a learning rate of 10 diverges within 200 batches");
    let message = error.to_string();
    let TrainError::Diverged { step, loss, .. } = error else {
        panic!("expected divergence, got {message}");
    };
    assert!(!loss.is_finite());
    assert_eq!(step, t.step() + 1, "the diverging batch was not counted");
    assert!(
        message.contains(&format!("step {step}")) && message.contains("learning rate 10 "),
        "{message}"
    );
}

#[test]
fn a_network_that_does_not_fit_the_data_is_refused() {
    let xor = Preset::named("xor").unwrap();
    let mnist = DataSource::MnistSubset.load().unwrap();
    let error = xor
        .build(0, mnist, xor.settings)
        .err()
        .expect("2 inputs cannot take 784");
    assert!(error.to_string().contains("28x28x1"), "{error}");
}

/// The loss and correct count of `network` on training rows `rows`, computed apart from the
/// trainer: the rows gathered by hand, a forward pass, the loss, the class by the rule written here.
fn batch_by_hand(trainer: &Trainer, rows: &[usize]) -> (f64, usize) {
    let data = trainer.data();
    let mut network = trainer.network().clone();
    let outputs = network.output_shape().len();
    let all_targets = data.train.targets(outputs, data.classes).unwrap();
    let inputs =
        ndarray::Array2::from_shape_fn((rows.len(), data.train.inputs.ncols()), |(i, j)| {
            data.train.inputs[(rows[i], j)]
        });
    let targets =
        ndarray::Array2::from_shape_fn((rows.len(), outputs), |(i, j)| all_targets[(rows[i], j)]);
    let output = network.forward(inputs.view(), None).unwrap().clone();
    let loss = network
        .loss(trainer.settings().loss, targets.view())
        .unwrap();
    let correct = rows
        .iter()
        .zip(output.rows())
        .filter(|(row, out)| {
            let predicted = if out.len() == 1 {
                usize::from(out[0] >= 0.5)
            } else {
                (0..out.len())
                    .max_by(|&a, &b| out[a].total_cmp(&out[b]))
                    .unwrap()
            };
            predicted == data.train.labels[**row]
        })
        .count();
    (loss, correct)
}

#[test]
fn each_epoch_reshuffles_and_the_batches_follow_the_shuffled_order() {
    // circle: 300 training points in batches of 16, the last batch of each epoch has 12
    let mut t = trainer("circle", 3);
    let n = t.data().train.len();
    let batch_size = t.settings().batch_size;
    let mut orders: Vec<Vec<usize>> = Vec::new();
    for _ in 0..3 {
        let order = t.epoch_order().to_vec();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "a permutation");
        assert_ne!(order, sorted, "shuffled");
        for start in (0..n).step_by(batch_size) {
            let rows = &order[start..(start + batch_size).min(n)];
            let (loss, correct) = batch_by_hand(&t, rows);
            let report = t.train_batch().unwrap();
            assert_eq!(report.samples, rows.len());
            assert_eq!(report.loss.to_bits(), loss.to_bits(), "batch at {start}");
            assert_eq!(report.correct, correct, "batch at {start}");
        }
        assert!(!orders.contains(&order), "a new order every epoch");
        orders.push(order);
    }
    assert_eq!(t.epoch(), 3);
}

#[test]
fn the_epoch_report_is_the_sample_weighted_mean_of_its_batches() {
    let mut t = trainer("circle", 4);
    let n = t.data().train.len();
    assert_ne!(n % t.settings().batch_size, 0, "a short last batch");
    for epoch in 0..2 {
        let (mut loss_sum, mut correct, mut samples, mut steps) = (0.0f64, 0, 0, 0);
        let order = t.epoch_order().to_vec();
        let mut cursor = 0;
        let report = loop {
            let rows = &order[cursor..(cursor + t.settings().batch_size).min(n)];
            let (loss, right) = batch_by_hand(&t, rows);
            loss_sum += loss * rows.len() as f64;
            correct += right;
            samples += rows.len();
            steps += 1;
            cursor += rows.len();
            if let Some(report) = t.train_batch().unwrap().finished_epoch {
                break report;
            }
        };
        assert_eq!(report.epoch, epoch);
        assert_eq!((report.steps, report.train.samples), (steps, n));
        assert_eq!(samples, n);
        let mean = loss_sum / n as f64;
        assert!(
            (report.train.loss - mean).abs() <= 1e-12 * mean,
            "epoch {epoch}: {} vs {mean}",
            report.train.loss
        );
        assert_eq!(report.train.accuracy, correct as f64 / n as f64);
    }
}
