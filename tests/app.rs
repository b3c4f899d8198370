//! The real app, driven headless through egui_kittest: buttons by their labels, shortcuts by
//! key presses, and the trainer thread behind it. No test races the clock: each waits for a
//! condition, and where time matters it is bounded from a side no machine's speed can break (a
//! throttled batch takes at least its period; closing takes far less than the rest of an epoch at
//! the run's own pace).

use std::sync::Arc;
use std::time::{Duration, Instant};

use backprop_lab::nn::{Activation, LayerSpec, Loss, Padding};
use backprop_lab::train::health::HealthAlert;
use backprop_lab::train::protocol::{Command, Snapshot, Speed};
use backprop_lab::train::{Preset, RunConfig, SettingChange};
use backprop_lab::ui::{Alert, BackpropLab, CurvesPanel, Launch, Preferences, XAxis, validate};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

mod common;
#[path = "common/memory_storage.rs"]
mod memory_storage;
use memory_storage::MemoryStorage;

const TIMEOUT: Duration = Duration::from_secs(30);

type App = Harness<'static, BackpropLab>;

fn launch(launch: Launch) -> App {
    Harness::builder()
        .with_size([1440.0, 900.0])
        .build_eframe(move |cc| BackpropLab::new(cc, launch))
}

/// `name`'s run without a run length: it trains until paused.
fn preset(name: &str) -> App {
    let mut config = RunConfig::from_preset(&Preset::named(name).expect("the preset exists"), 42);
    config.epochs = None;
    launch(Launch {
        config: Some(config),
        ..Launch::default()
    })
}

/// `name`'s run with batches of a single sample: an epoch of MNIST is then thousands of batches,
/// each a whole forward pass, backward pass and update of the network.
fn single_sample_batches(name: &str) -> RunConfig {
    let preset = Preset::named(name).expect("the preset exists");
    let mut config = RunConfig::from_preset(&preset, 42);
    config.settings.batch_size = 1;
    config
}

/// Runs frames until `done` holds; fails the test after TIMEOUT. The first frame always runs,
/// so that clicks and keys queued before are handled before `done` is first asked.
fn step_until(harness: &mut App, what: &str, done: impl Fn(&BackpropLab) -> bool) {
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

fn ready(harness: &mut App) {
    step_until(harness, "the trainer is ready", |app| {
        app.run_view().info.is_some() && !app.run_view().test_loss.is_empty()
    });
}

fn step_count(app: &BackpropLab) -> u64 {
    app.run_view().status.step
}

/// Batches in one epoch of the running config (the last one may be smaller).
fn batches_per_epoch(app: &BackpropLab) -> u64 {
    let info = app.run_view().info.as_ref().expect("the trainer is ready");
    info.train_samples
        .div_ceil(app.active_config().settings.batch_size) as u64
}

fn snapshot(app: &BackpropLab) -> Option<Arc<Snapshot>> {
    app.worker().and_then(|w| w.snapshot())
}

/// The names of the layers in the trainer's latest snapshot.
fn snapshot_layers(app: &BackpropLab) -> Option<Vec<String>> {
    Some(
        snapshot(app)?
            .layers
            .iter()
            .map(|l| l.name.clone())
            .collect(),
    )
}

/// What the app would save for the next launch now, read back as it reads it at launch.
fn saved_preferences(harness: &mut App) -> Preferences {
    let mut storage = MemoryStorage::default();
    eframe::App::save(harness.state_mut(), &mut storage);
    assert_eq!(storage.0.len(), 1, "one entry: {:?}", storage.0);
    let (key, text) = storage.0.iter().next().expect("the entry");
    eframe::get_value(&storage, key).unwrap_or_else(|| {
        panic!(
            "the saved preferences do not load back, so the next launch would start from the \
             defaults: {text}"
        )
    })
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
    // The curve got every batch's loss, however many batches this machine ran before the pause
    // arrived. A full curve averages its points in pairs, so it holds whole points of `stride`
    // batches each, with fewer than `stride` batches waiting to make the next one...
    let curve = &harness.state().run_view().train_loss;
    let (points, stride) = (curve.len() as u64, curve.stride() as u64);
    assert!(
        points * stride <= paused_at && paused_at < (points + 1) * stride,
        "{points} points of {stride} batches each for {paused_at} batches"
    );
    // ...and point i stands at the mean step of batches i * stride + 1 ..= (i + 1) * stride:
    // none missing, none twice, in order.
    for (i, point) in curve.points().iter().enumerate() {
        let mean_step = (i as u64 * stride) as f64 + (stride as f64 + 1.0) / 2.0;
        assert_eq!(point.step, mean_step, "point {i} ({stride} batches each)");
    }
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
    // Batches of one sample: the epoch is thousands of batches (7,500 on the MNIST subset), each
    // a forward pass, backward pass and Adam update of the CNN's ~700k parameters, so the Pause
    // sent as soon as the epoch shows as under way arrives long before it could end, on any
    // machine. (The speed throttle cannot make this certain: it paces Play, not Step epoch.)
    let mut harness = launch(Launch {
        config: Some(single_sample_batches("mnist-cnn")),
        ..Launch::default()
    });
    ready(&mut harness);
    let batches = batches_per_epoch(harness.state());
    harness.get_by_label("Step epoch").click();
    step_until(&mut harness, "the epoch is under way", |app| {
        app.run_view().status.running
    });
    harness.get_by_label("Pause").click();
    step_until(&mut harness, "it pauses", |app| {
        !app.run_view().status.running
    });
    let status = harness.state().run_view().status;
    assert!(
        (1..batches).contains(&status.step) && status.epochs < 1.0,
        "paused at step {} ({} epochs) of an epoch of {batches} batches",
        status.step,
        status.epochs
    );
    for _ in 0..20 {
        harness.step();
    }
    assert_eq!(step_count(harness.state()), status.step);
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
        .map(|m| (m.step, m.label.clone()))
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
    // first the loss blows up by orders of magnitude: paused, with the step and the cause
    step_until(&mut harness, "the loss blows up", |app| {
        !app.run_view().health.is_empty() && !app.run_view().status.running
    });
    let Some(HealthAlert::BlowUp { step, .. }) = harness.state().run_view().health.first().cloned()
    else {
        panic!(
            "expected a blow-up, got {:?}",
            harness.state().run_view().health
        );
    };
    assert_eq!(step_count(harness.state()), step, "paused right after it");
    harness.step();
    harness.get_by_label("The loss blew up: training paused");
    harness.get_by_label_contains(&format!("The loss blew up at step {step}"));
    // going on anyway, the loss overflows
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
    let warnings = harness.state().run_view().health.len();
    assert_eq!(
        resets,
        2 + warnings,
        "toolbar, this banner and each warning's"
    );
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
    // Both ways of training: Play (batches between commands and evaluations), and Step epoch (a
    // loop that would otherwise run to the end of the epoch).
    for start in ["Play", "Step epoch"] {
        // single-sample batches: thousands of batches per epoch, so the close is mid-epoch
        let mut harness = launch(Launch {
            config: Some(single_sample_batches("mnist-cnn")),
            ..Launch::default()
        });
        ready(&mut harness);
        harness.get_by_label(start).click();
        step_until(&mut harness, "training runs", |app| {
            app.run_view().status.running && step_count(app) >= 3
        });
        let app = harness.state();
        let status = app.run_view().status;
        let batches = batches_per_epoch(app);
        assert!(
            status.step < batches && status.epochs < 1.0,
            "{start}: mid-epoch"
        );
        let worker = app.worker().expect("a trainer");
        assert!(!worker.is_finished(), "{start}: the trainer thread runs");
        // The trainer's session holds the probe sample (every snapshot shares it) as long as its
        // thread runs: once the window is closed and the thread joined, nothing holds it.
        let session = Arc::downgrade(&worker.snapshot().expect("a snapshot").probe);
        assert!(session.upgrade().is_some());
        // what the rest of this epoch takes at this run's own pace (training time per batch)
        let pace = status.training_secs / status.step as f64;
        let rest_of_epoch = Duration::from_secs_f64(pace * (batches - status.step) as f64);

        let started = Instant::now();
        drop(harness);
        let elapsed = started.elapsed();

        assert!(
            session.upgrade().is_none(),
            "{start}: the trainer thread outlived the window"
        );
        // Closing finishes at most the batch under way: a small fraction of the rest of the
        // epoch on a fast machine and a slow one alike.
        assert!(
            elapsed < rest_of_epoch / 4,
            "{start}: closing took {elapsed:?}, as if it waited for the rest of the epoch \
             ({rest_of_epoch:?} at this run's pace)"
        );
    }
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

/// Clicks the widget labelled `label` and lets the panels lay themselves out again.
fn click_and_settle(harness: &mut App, label: &str) {
    // the settings panel scrolls: bring the widget into view before the pointer clicks it
    harness.get_by_label(label).scroll_to_me();
    settle(harness, label);
    harness.get_by_label(label).click();
    harness.run_steps(2);
}

/// Frames until the widget `label` stops moving (a scroll into view is animated).
fn settle(harness: &mut App, label: &str) {
    let (mut last, mut still) = (None, 0);
    for _ in 0..240 {
        harness.step();
        let now = Some(harness.get_by_label(label).rect());
        still = if now == last { still + 1 } else { 0 };
        if still == 3 {
            return;
        }
        last = now;
    }
    panic!("\"{label}\" never stopped moving");
}

/// The architecture editor's remove buttons: one per layer but the output, in order (the
/// panel scrolls to the editor first: rows scrolled out of view are not drawn).
fn remove_buttons(harness: &mut App) -> usize {
    harness.get_by_label("Architecture").scroll_to_me();
    settle(harness, "Architecture");
    harness
        .query_all_by_role_and_label(Role::Button, "x")
        .count()
}

/// Clicks the remove button of the first layer `which` picks, and takes it out of `expected`.
fn remove_layer(harness: &mut App, expected: &mut Vec<LayerSpec>, which: fn(&LayerSpec) -> bool) {
    let index = expected.iter().position(which).expect("such a layer");
    harness
        .get_all_by_role_and_label(Role::Button, "x")
        .nth(index)
        .expect("its remove button")
        .scroll_to_me();
    // the scroll is animated: frames until the button stops moving
    let rect = |harness: &App| {
        harness
            .get_all_by_role_and_label(Role::Button, "x")
            .nth(index)
            .map(|node| node.rect())
    };
    let (mut last, mut still) = (None, 0);
    for _ in 0..240 {
        harness.step();
        let now = rect(harness);
        still = if now == last { still + 1 } else { 0 };
        if still == 3 {
            break;
        }
        last = now;
    }
    assert_eq!(still, 3, "the remove button never stopped moving");
    harness
        .get_all_by_role_and_label(Role::Button, "x")
        .nth(index)
        .expect("its remove button")
        .click();
    harness.run_steps(2);
    expected.remove(index);
    assert_eq!(remove_buttons(harness), expected.len() - 1, "{expected:?}");
}

#[test]
fn the_architecture_editor_builds_what_reset_and_apply_starts_and_refuses_what_cannot_run() {
    let mut harness = preset("mnist-mlp");
    harness.state_mut().show_views(&[]);
    ready(&mut harness);
    let original = harness.state().active_config().clone();
    let names = |layers: &[LayerSpec]| layers.iter().map(LayerSpec::describe).collect::<Vec<_>>();
    let with_layers = |layers: &[LayerSpec]| RunConfig {
        layers: layers.to_vec(),
        ..original.clone()
    };
    assert_eq!(remove_buttons(&mut harness), original.layers.len() - 1);

    // Without its flatten, the first dense layer would get an image: the panel says why, offers
    // no way to apply it, and Reset starts the running network again.
    let mut invalid = original.layers.clone();
    remove_layer(&mut harness, &mut invalid, |l| {
        matches!(l, LayerSpec::Flatten)
    });
    let reason = validate(&with_layers(&invalid)).expect_err("a dense layer cannot take an image");
    harness.get_by_label("Data, architecture or seed changed.");
    harness.get_by_label(&reason);
    assert!(
        harness.query_by_label("Reset and apply").is_none(),
        "an invalid network cannot be applied"
    );
    assert_eq!(harness.state().active_config(), &original);
    harness.get_by_label("Reset").click();
    ready(&mut harness);
    step_until(&mut harness, "the running network starts again", |app| {
        snapshot_layers(app) == Some(names(&original.layers))
    });
    assert_eq!(harness.state().active_config(), &original);
    assert!(
        harness
            .query_by_label("Data, architecture or seed changed.")
            .is_none(),
        "the invalid draft is gone"
    );
    assert_eq!(remove_buttons(&mut harness), original.layers.len() - 1);

    // Every kind the editor adds, twice: convolutions go first, pooling right after the leading
    // convolutions, dense and dropout layers just before the output layer.
    let conv = |padding| LayerSpec::Conv2d {
        filters: 8,
        kernel: 3,
        padding,
        activation: Activation::Relu,
    };
    let mut expected = original.layers.clone();
    for _ in 0..2 {
        click_and_settle(&mut harness, "+ Conv2d");
        expected.insert(0, conv(Padding::Valid));
        click_and_settle(&mut harness, "+ MaxPool");
        let after_convolutions = expected
            .iter()
            .take_while(|l| matches!(l, LayerSpec::Conv2d { .. }))
            .count();
        expected.insert(after_convolutions, LayerSpec::MaxPool2d { size: 2 });
        click_and_settle(&mut harness, "+ Dense");
        let dense = LayerSpec::Dense {
            units: 16,
            activation: Activation::Relu,
        };
        expected.insert(expected.len() - 1, dense);
        click_and_settle(&mut harness, "+ Dropout");
        expected.insert(expected.len() - 1, LayerSpec::Dropout { rate: 0.2 });
        assert_eq!(
            remove_buttons(&mut harness),
            expected.len() - 1,
            "{expected:?}"
        );
    }
    // and one of each kind out again, the preset's hidden layer with them
    remove_layer(&mut harness, &mut expected, |l| {
        matches!(l, LayerSpec::Conv2d { .. })
    });
    remove_layer(&mut harness, &mut expected, |l| {
        matches!(l, LayerSpec::MaxPool2d { .. })
    });
    remove_layer(&mut harness, &mut expected, |l| {
        matches!(l, LayerSpec::Dense { units: 16, .. })
    });
    remove_layer(&mut harness, &mut expected, |l| {
        matches!(l, LayerSpec::Dropout { .. })
    });
    remove_layer(&mut harness, &mut expected, |l| {
        matches!(l, LayerSpec::Dense { units: 128, .. })
    });
    // the convolution's padding, through its menu
    click_and_settle(&mut harness, "Padding of layer 1");
    click_and_settle(&mut harness, "same");
    expected[0] = conv(Padding::Same);

    validate(&with_layers(&expected)).expect("the edited network can be built");
    harness.get_by_label("Data, architecture or seed changed.");
    assert_eq!(
        harness.state().active_config(),
        &original,
        "nothing applies before the reset"
    );
    harness.get_by_label("Reset and apply").click();
    step_until(&mut harness, "the edited network runs", |app| {
        app.run_view().info.is_some() && snapshot_layers(app) == Some(names(&expected))
    });
    let app = harness.state();
    assert_eq!(app.active_config().layers, expected);
    // the trainer built exactly these layers: their output shapes and parameter count
    let info = app.run_view().info.as_ref().expect("ready");
    let built = snapshot(app).expect("a snapshot");
    let (mut shape, mut parameters) = (info.input_shape, 0);
    for (layer, snapshot) in expected.iter().zip(&built.layers) {
        parameters += layer
            .param_shapes(shape)
            .map_or(0, |((rows, columns), biases)| rows * columns + biases);
        shape = layer.output_shape(shape).expect("a layer that fits");
        assert_eq!(snapshot.output_shape, shape, "{}", snapshot.name);
    }
    assert_eq!(info.parameter_count, parameters);
    assert!(
        harness
            .query_by_label("Data, architecture or seed changed.")
            .is_none()
    );
    harness.get_by_label("Step").click();
    step_until(&mut harness, "the new network trains", |app| {
        step_count(app) == 1
    });
}

#[test]
fn the_speed_throttle_bounds_the_batches_per_second_and_full_speed_lifts_it() {
    let mut harness = preset("circle");
    harness.state_mut().show_views(&[]);
    ready(&mut harness);
    assert_eq!(step_count(harness.state()), 0);
    // a 2-D set starts at a class's pace: the throttle is on
    assert_eq!(
        saved_preferences(&mut harness).toy_speed,
        backprop_lab::ui::class_pace()
    );
    harness
        .get_by_role_and_label(Role::Slider, "Batches per second while playing")
        .set_value_accesskit(25.0);
    harness.step();
    assert_eq!(
        saved_preferences(&mut harness).toy_speed,
        Speed::StepsPerSecond(25.0)
    );
    let rate = 25.0;

    // Throttled, the trainer waits 1 / rate after each batch, so n batches after Play take at
    // least (n - 1) / rate: a bound on time that no machine, however fast, can break (a slow
    // one only takes longer).
    let started = Instant::now();
    harness.get_by_label("Play").click();
    step_until(&mut harness, "throttled batches", |app| {
        let done = step_count(app);
        // the clock is read after the count: every batch counted ended before
        let elapsed = started.elapsed().as_secs_f64();
        // (1 ms for the rounding of the period to nanoseconds)
        assert!(
            done as f64 <= 1.0 + (elapsed + 0.001) * rate,
            "{done} batches {elapsed:.3} s after Play at {rate} batches/s"
        );
        done >= 26
    });

    // Full speed again: the throttle no longer holds the trainer back. (An upper bound on time,
    // so a generous one: what the throttle would take for these batches, 20 s.)
    harness.get_by_label("Full speed").click();
    harness.step();
    assert_eq!(saved_preferences(&mut harness).toy_speed, Speed::Full);
    let (from, since) = (step_count(harness.state()), Instant::now());
    let more = 501;
    step_until(&mut harness, "full-speed batches", |app| {
        step_count(app) >= from + more
    });
    let throttled = Duration::from_secs_f64((more - 1) as f64 / rate);
    assert!(
        since.elapsed() < throttled,
        "{more} batches took {:?}: still throttled",
        since.elapsed()
    );
}

#[test]
fn curve_options_set_in_the_panel_are_saved_and_change_what_is_plotted() {
    let mut harness = preset("circle");
    harness.state_mut().show_views(&["curves"]);
    ready(&mut harness);
    assert_eq!(
        saved_preferences(&mut harness).curves,
        CurvesPanel::default()
    );

    // one epoch and a few batches into the next, so that the epoch axis crosses a boundary
    let batches = batches_per_epoch(harness.state());
    harness.get_by_label("Step epoch").click();
    step_until(&mut harness, "the epoch ends", |app| {
        step_count(app) == batches && !app.run_view().status.running
    });
    let steps = batches + 3;
    for step in batches + 1..=steps {
        harness.get_by_label("Step").click();
        step_until(&mut harness, "a step", |app| step_count(app) == step);
    }
    let app = harness.state();
    let points = app.run_view().train_loss.points().to_vec();
    let samples = app.run_view().info.as_ref().expect("ready").train_samples;
    let batch = app.active_config().settings.batch_size;
    assert_eq!(
        points.iter().map(|p| p.step).collect::<Vec<_>>(),
        (1..=steps).map(|s| s as f64).collect::<Vec<_>>(),
        "one point per batch"
    );
    // Epochs done after `step` batches: whole epochs, plus the share of the training split used
    // since (an epoch's last batch may be smaller than the others).
    let epochs_after = |step: u64| {
        let (whole, into) = (step / batches, (step % batches) as usize);
        whole as f64 + (into * batch) as f64 / samples as f64
    };
    let plotted = |curves: &CurvesPanel| -> Vec<[f64; 2]> {
        curves
            .line_points(&points)
            .points()
            .iter()
            .map(|p| [p.x, p.y])
            .collect()
    };
    let by_step: Vec<[f64; 2]> = points.iter().map(|p| [p.step, p.value]).collect();
    let by_epoch: Vec<[f64; 2]> = (1..=steps)
        .zip(&points)
        .map(|(step, p)| [epochs_after(step), p.value])
        .collect();
    assert_eq!(by_epoch[batches as usize - 1][0], 1.0);
    assert_eq!(plotted(&saved_preferences(&mut harness).curves), by_step);

    harness.get_by_label("epochs").click();
    harness.step();
    let curves = saved_preferences(&mut harness).curves;
    assert_eq!(curves.x_axis, XAxis::Epochs);
    assert_eq!(plotted(&curves), by_epoch);

    harness.get_by_label("Log scale").click();
    harness.step();
    let curves = saved_preferences(&mut harness).curves;
    assert!(curves.log_scale);
    assert_eq!(curves.x_axis, XAxis::Epochs);
    let drawn = plotted(&curves);
    assert_eq!(drawn.len(), by_epoch.len());
    for ([x, y], [epochs, loss]) in drawn.into_iter().zip(by_epoch) {
        assert_eq!(x, epochs);
        assert!(
            (10f64.powf(y) - loss).abs() <= 1e-9 * loss,
            "{y} drawn for a loss of {loss}"
        );
    }

    // the raw losses are drawn faintly behind the smoothed curve only while there is smoothing
    harness.get_by_label("train loss (raw)");
    harness
        .get_by(|node| {
            node.role() == Role::Slider
                && node
                    .label()
                    .is_some_and(|label| label.starts_with("Exponential moving average"))
        })
        .set_value_accesskit(0.0);
    harness.run_steps(2);
    assert!(
        harness.query_by_label("train loss (raw)").is_none(),
        "without smoothing the curve is the raw losses"
    );
    harness.get_by_label("steps").click();
    harness.step();
    let curves = saved_preferences(&mut harness).curves;
    assert_eq!(
        curves,
        CurvesPanel {
            smoothing: 0.0,
            log_scale: true,
            x_axis: XAxis::Steps,
            accuracy_zoom: None,
        }
    );
    let drawn = plotted(&curves);
    assert_eq!(
        drawn.iter().map(|[x, _]| *x).collect::<Vec<_>>(),
        by_step.iter().map(|[x, _]| *x).collect::<Vec<_>>()
    );
}

#[test]
fn a_refused_change_leaves_the_panel_and_the_saved_run_on_the_trainers_setting() {
    // a linear regression output: cross-entropy cannot train it
    let mut harness = launch(Launch {
        config: Some(common::diverging_run()),
        ..Launch::default()
    });
    ready(&mut harness);
    let selected = |harness: &App, label: &str| {
        harness.get_by_label(label).accesskit_node().toggled()
            == Some(egui::accesskit::Toggled::True)
    };
    assert!(selected(&harness, "MSE") && !selected(&harness, "cross-entropy"));
    harness.get_by_label("cross-entropy").click();
    step_until(&mut harness, "the refusal", |app| {
        matches!(app.run_view().alert, Some(Alert::Refused(_)))
    });
    harness.run_steps(3);
    assert!(
        selected(&harness, "MSE") && !selected(&harness, "cross-entropy"),
        "the panel shows the loss the trainer runs with"
    );
    assert_eq!(harness.state().active_config().settings.loss, Loss::Mse);
    let saved = saved_preferences(&mut harness);
    assert_eq!(
        saved.config.settings.loss,
        Loss::Mse,
        "the next launch runs"
    );
    // an accepted change shows once the trainer confirmed it, and is saved
    harness.get_by_label("Adam").click();
    step_until(&mut harness, "the trainer confirms Adam", |app| {
        app.run_view().markers.len() == 1
    });
    harness.run_steps(2);
    assert!(selected(&harness, "Adam"));
    assert_eq!(
        saved_preferences(&mut harness)
            .config
            .settings
            .optimizer
            .optimizer,
        backprop_lab::nn::Optimizer::ADAM
    );
}

#[test]
fn values_typed_out_of_range_are_moved_into_range_and_say_so_and_a_large_network_asks_first() {
    let mut harness = preset("mnist-mlp");
    harness.state_mut().show_views(&[]);
    ready(&mut harness);
    harness
        .get_by_label("Units of layer 2")
        .set_value_accesskit(100_000.0);
    harness.run_steps(2);
    harness.get_by_label("units 100000 is out of range (1 to 4096): set to 4096");
    // 4096 units is far larger than the presets: before it starts, the cost and a question
    harness.get_by_label("Reset and apply").click();
    harness.run_steps(2);
    harness.get_by_label("A large network");
    let parameters = 784 * 4096 + 4096 + 4096 * 10 + 10;
    assert_eq!(parameters, 3_256_330);
    harness.get_by_label_contains("This network has 3,256,330 parameters");
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("A large network").is_none());
    assert_eq!(
        harness.state().active_config().layers[1],
        LayerSpec::Dense {
            units: 128,
            activation: Activation::Relu
        },
        "cancelled: the running network is untouched"
    );
    harness.get_by_label("Reset and apply").click();
    harness.run_steps(2);
    harness.get_by_label("Apply anyway").click();
    step_until(&mut harness, "the large network runs", |app| {
        snapshot_layers(app).is_some_and(|names| names[1] == "Dense(4096, relu)")
    });

    // a learning rate typed beyond the slider's end
    harness
        .get_by_role_and_label(Role::Slider, "learning rate")
        .set_value_accesskit(1000.0);
    harness.run_steps(2);
    harness.get_by_label("learning rate 1000 is out of range (0.00001 to 10): set to 10");
    step_until(&mut harness, "the trainer takes 10", |app| {
        app.active_config().settings.optimizer.learning_rate == 10.0
    });
}

#[test]
fn the_run_length_pauses_training_and_the_app_sums_the_run_up() {
    let mut config = RunConfig::from_preset(&Preset::named("xor").expect("xor"), 42);
    config.epochs = Some(20);
    let mut harness = launch(Launch {
        config: Some(config),
        ..Launch::default()
    });
    ready(&mut harness);
    harness.get_by_label("Play").click();
    step_until(&mut harness, "the run ends", |app| {
        app.run_view().finished.is_some() && !app.run_view().status.running
    });
    // xor trains its 4 points in one batch: an epoch is a step
    assert_eq!(step_count(harness.state()), 20);
    harness.step();
    harness.get_by_label("Run finished");
    harness.get_by_label_contains("Finished 20 epochs (20 steps)");
    // longer: Play goes on to the new length
    harness
        .get_by_label("Epochs to train")
        .set_value_accesskit(30.0);
    harness.run_steps(2);
    harness.get_by_label("Play").click();
    step_until(&mut harness, "the longer run ends", |app| {
        app.run_view().finished.is_some() && step_count(app) == 30
    });
    assert!(!harness.state().run_view().status.running);
}

#[test]
fn the_preset_combo_names_the_runs_preset_and_custom_for_a_run_of_ones_own() {
    let mut own = RunConfig::from_preset(&Preset::named("circle").expect("circle"), 42);
    own.preset = None;
    own.layers = vec![
        LayerSpec::Dense {
            units: 3,
            activation: Activation::Tanh,
        },
        LayerSpec::Dense {
            units: 1,
            activation: Activation::Sigmoid,
        },
    ];
    let mut harness = launch(Launch {
        config: Some(own),
        ..Launch::default()
    });
    ready(&mut harness);
    let shown = |harness: &App| {
        harness
            .get_by_role_and_label(Role::ComboBox, "Preset")
            .value()
    };
    assert_eq!(shown(&harness).as_deref(), Some("custom"));
    assert!(
        harness.get_by_label("Load").accesskit_node().is_disabled(),
        "nothing to load"
    );
    // a preset chosen and loaded: its name
    harness
        .get_by_role_and_label(Role::ComboBox, "Preset")
        .click();
    harness.run_steps(2);
    harness.get_by_label("spiral").click();
    harness.run_steps(2);
    harness.get_by_label("Load").click();
    step_until(&mut harness, "the spiral", |app| {
        app.run_view()
            .info
            .as_ref()
            .is_some_and(|i| i.dataset.contains("spiral"))
    });
    assert_eq!(shown(&harness).as_deref(), Some("spiral"));
    // a layer removed and the run reset: the spiral's data, but a network of one's own
    harness
        .get_all_by_label("x")
        .next()
        .expect("a layer's remove button")
        .click();
    harness.run_steps(2);
    harness.get_by_label("Reset").click();
    step_until(&mut harness, "one layer fewer", |app| {
        app.run_view()
            .info
            .as_ref()
            .is_some_and(|i| i.dataset.contains("spiral"))
            && app.active_config().layers.len() == 3
    });
    harness.run_steps(2);
    assert_eq!(shown(&harness).as_deref(), Some("custom"));
}
