//! The real app, driven headless through egui_kittest: buttons by their labels, shortcuts by
//! key presses, and the trainer thread behind it.

use std::time::{Duration, Instant};

use backprop_lab::nn::Loss;
use backprop_lab::train::SettingChange;
use backprop_lab::train::worker::Command;
use backprop_lab::ui::{Alert, BackpropLab, Launch};
use egui_kittest::Harness;

mod common;
use egui_kittest::kittest::Queryable;

const TIMEOUT: Duration = Duration::from_secs(30);

fn launch(launch: Launch) -> Harness<'static, BackpropLab> {
    Harness::builder()
        .with_size([1440.0, 900.0])
        .build_eframe(move |cc| BackpropLab::new(cc, launch))
}

fn preset(name: &str) -> Harness<'static, BackpropLab> {
    launch(Launch {
        preset: Some(name.into()),
        ..Launch::default()
    })
}

/// Runs frames until `done` holds; fails the test after TIMEOUT. The first frame always runs,
/// so that clicks and keys queued before are handled before `done` is first asked.
fn step_until(
    harness: &mut Harness<'static, BackpropLab>,
    what: &str,
    done: impl Fn(&BackpropLab) -> bool,
) {
    let started = Instant::now();
    harness.step();
    while !done(harness.state()) {
        let app = harness.state();
        assert!(
            started.elapsed() < TIMEOUT,
            "timed out waiting until {what}: {:?}, alert {:?}",
            app.run_view().status,
            app.run_view().alert
        );
        harness.step();
    }
}

fn ready(harness: &mut Harness<'static, BackpropLab>) {
    step_until(harness, "the trainer is ready", |app| {
        app.run_view().info.is_some() && !app.run_view().test_loss.is_empty()
    });
}

fn step_count(app: &BackpropLab) -> u64 {
    app.run_view().status.step
}

#[test]
fn play_advances_and_pause_stops() {
    let mut harness = preset("circle");
    ready(&mut harness);
    assert_eq!(step_count(harness.state()), 0);
    harness.get_by_label("Play").click();
    step_until(&mut harness, "training advances", |app| {
        step_count(app) >= 50 && app.run_view().status.running
    });
    harness.get_by_label("Pause").click();
    step_until(&mut harness, "training pauses", |app| {
        !app.run_view().status.running
    });
    let paused_at = step_count(harness.state());
    // the curve got every batch's loss
    assert_eq!(
        harness.state().run_view().train_loss.len() as u64,
        paused_at
    );
    for _ in 0..20 {
        harness.step();
    }
    assert_eq!(step_count(harness.state()), paused_at);
}

#[test]
fn step_trains_exactly_one_batch_and_step_epoch_finishes_the_epoch() {
    let mut harness = preset("circle");
    ready(&mut harness);
    harness.get_by_label("Step").click();
    step_until(&mut harness, "one step", |app| step_count(app) == 1);
    harness.get_by_label("Step").click();
    step_until(&mut harness, "two steps", |app| step_count(app) == 2);
    for _ in 0..10 {
        harness.step();
    }
    assert_eq!(step_count(harness.state()), 2);
    // circle: 300 training points in batches of 16 -> 19 batches per epoch
    harness.get_by_label("Step epoch").click();
    step_until(&mut harness, "the epoch ends", |app| {
        app.run_view().status.epochs >= 1.0
    });
    assert_eq!(step_count(harness.state()), 19);
    assert!(!harness.state().run_view().status.running);
}

#[test]
fn pause_stops_a_step_epoch_in_the_middle() {
    let mut harness = preset("mnist-cnn");
    ready(&mut harness);
    harness.get_by_label("Step epoch").click();
    step_until(&mut harness, "the epoch is under way", |app| {
        step_count(app) >= 3 && app.run_view().status.running
    });
    harness.get_by_label("Pause").click();
    step_until(&mut harness, "it pauses", |app| {
        !app.run_view().status.running
    });
    let paused_at = step_count(harness.state());
    assert!(
        harness.state().run_view().status.epochs < 1.0,
        "paused before the epoch's 235 batches"
    );
    for _ in 0..20 {
        harness.step();
    }
    assert_eq!(step_count(harness.state()), paused_at);
}

#[test]
fn keyboard_shortcuts_play_pause_and_step() {
    let mut harness = preset("circle");
    ready(&mut harness);
    harness.key_press(egui::Key::ArrowRight);
    step_until(&mut harness, "Right arrow steps", |app| {
        step_count(app) == 1
    });
    harness.key_press(egui::Key::Space);
    step_until(&mut harness, "Space plays", |app| {
        app.run_view().status.running && step_count(app) > 5
    });
    harness.key_press(egui::Key::Space);
    step_until(&mut harness, "Space pauses", |app| {
        !app.run_view().status.running
    });
}

/// The latest snapshot's first-layer weights.
fn first_weights(app: &BackpropLab) -> (u64, Vec<f32>) {
    let snapshot = app.worker().and_then(|w| w.snapshot()).expect("a snapshot");
    let weights = snapshot
        .layers
        .iter()
        .find_map(|l| l.weight.clone())
        .expect("a layer with weights");
    (snapshot.step, weights.iter().copied().collect())
}

#[test]
fn switching_optimizer_and_loss_mid_run_keeps_the_weights_and_marks_the_curve() {
    let mut harness = preset("mnist-mlp");
    ready(&mut harness);
    for expected in 1..=3 {
        harness.get_by_label("Step").click();
        step_until(&mut harness, "a step", |app| step_count(app) == expected);
    }
    step_until(&mut harness, "a snapshot at step 3", |app| {
        first_weights(app).0 == 3
    });
    let (_, before) = first_weights(harness.state());

    harness.get_by_label("SGD").click();
    harness.get_by_label("MSE").click();
    step_until(&mut harness, "both changes are recorded", |app| {
        app.run_view().markers.len() == 2
    });
    let markers: Vec<(u64, String)> = harness
        .state()
        .run_view()
        .markers
        .iter()
        .map(|m| (m.event.step, m.event.change.label()))
        .collect();
    assert_eq!(
        markers,
        vec![(3, "SGD".to_string()), (3, "MSE".to_string())]
    );
    // the weights are exactly what they were: the switch did not reset the network
    let (step, after) = first_weights(harness.state());
    assert_eq!(step, 3);
    assert_eq!(after, before);
    assert_eq!(harness.state().active_config().settings.loss, Loss::Mse);

    harness.get_by_label("Step").click();
    step_until(&mut harness, "a step with SGD and MSE", |app| {
        first_weights(app).0 == 4
    });
    assert_ne!(first_weights(harness.state()).1, before);
}

#[test]
fn divergence_pauses_says_why_and_reset_starts_again() {
    let mut harness = launch(Launch {
        config: Some(common::diverging_run()),
        ..Launch::default()
    });
    ready(&mut harness);
    harness.get_by_label("Play").click();
    step_until(&mut harness, "the run diverges", |app| {
        app.run_view().alert.is_some()
    });
    let Some(Alert::Diverged { step, message }) = harness.state().run_view().alert.clone() else {
        panic!(
            "expected divergence, got {:?}",
            harness.state().run_view().alert
        );
    };
    assert!(message.contains("learning rate 10"), "{message}");
    step_until(&mut harness, "training pauses", |app| {
        !app.run_view().status.running
    });
    assert_eq!(
        step_count(harness.state()),
        step - 1,
        "the diverging batch is not counted"
    );
    harness.step();
    // the banner names the step and offers a reset
    harness.get_by_label(&format!("Training diverged at step {step} and paused"));
    let resets = harness.get_all_by_label("Reset").count();
    assert_eq!(resets, 2, "toolbar and banner");
    harness
        .get_all_by_label("Reset")
        .last()
        .expect("banner button")
        .click();
    step_until(&mut harness, "a fresh run", |app| {
        app.run_view().alert.is_none() && app.run_view().info.is_some()
    });
    assert_eq!(step_count(harness.state()), 0);
}

#[test]
fn a_crash_in_the_trainer_is_shown_and_reset_starts_a_fresh_trainer() {
    let mut harness = preset("xor");
    ready(&mut harness);
    harness.state_mut().command(Command::Crash);
    step_until(&mut harness, "the crash is reported", |app| {
        matches!(app.run_view().alert, Some(Alert::Crashed(_)))
    });
    harness.step();
    harness.get_by_label("The trainer crashed");
    harness
        .get_all_by_label("Reset")
        .last()
        .expect("banner button")
        .click();
    ready(&mut harness);
    harness.get_by_label("Step").click();
    step_until(&mut harness, "the new trainer steps", |app| {
        step_count(app) == 1
    });
}

#[test]
fn closing_the_window_joins_the_trainer_thread_promptly_even_mid_epoch() {
    let mut harness = preset("mnist-cnn");
    ready(&mut harness);
    harness.get_by_label("Play").click();
    step_until(&mut harness, "training runs", |app| step_count(app) >= 3);
    let started = Instant::now();
    drop(harness);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(2), "closing took {elapsed:?}");
}

#[test]
fn a_refused_change_says_why_and_changes_nothing() {
    let mut harness = preset("xor");
    ready(&mut harness);
    harness
        .state_mut()
        .command(Command::Change(SettingChange::BatchSize(0)));
    step_until(&mut harness, "the refusal", |app| {
        matches!(app.run_view().alert, Some(Alert::Refused(_)))
    });
    assert!(harness.state().run_view().markers.is_empty());
}

/// Writes a tiny MNIST-format folder: `train` and `test` images of 28x28 with labels 0-9.
fn write_mnist_folder(dir: &std::path::Path, train: usize, test: usize) {
    let write = |name: &str, magic: u32, dims: &[u32], data: Vec<u8>| {
        let mut bytes = magic.to_be_bytes().to_vec();
        dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
        bytes.extend(data);
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    for (prefix, count) in [("train", train), ("t10k", test)] {
        let pixels = (0..count * 784).map(|i| (i % 251) as u8).collect();
        write(
            &format!("{prefix}-images-idx3-ubyte"),
            0x803,
            &[count as u32, 28, 28],
            pixels,
        );
        let labels = (0..count).map(|i| (i % 10) as u8).collect();
        write(
            &format!("{prefix}-labels-idx1-ubyte"),
            0x801,
            &[count as u32],
            labels,
        );
    }
}

#[test]
fn a_typed_mnist_folder_applies_on_reset() {
    let dir = tempfile::tempdir().unwrap();
    write_mnist_folder(dir.path(), 40, 20);
    let mut harness = preset("mnist-mlp");
    ready(&mut harness);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .click();
    harness.step();
    harness.event(egui::Event::Text(dir.path().display().to_string()));
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    // the panel says the change waits for a reset before doing anything
    harness.get_by_label("Data, architecture or seed changed.");
    assert_eq!(step_count(harness.state()), 0);
    harness.get_by_label("Reset and apply").click();
    step_until(&mut harness, "the folder's data is loaded", |app| {
        app.run_view()
            .info
            .as_ref()
            .is_some_and(|info| info.train_samples == 40 && info.test_samples == 20)
    });
    harness.get_by_label("Step").click();
    step_until(&mut harness, "it trains on the folder", |app| {
        step_count(app) == 1
    });
}
