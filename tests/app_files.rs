//! The app's files, driven headless: a run saved, reset and opened again comes back with its
//! curves, markers and step and trains on bit for bit; closing the window keeps the run and the
//! next launch continues it bit for bit; a model opens as a new run with its weights; a bad file
//! changes nothing; the Code view follows the layers.

use std::path::Path;

use backprop_lab::io::load_any;
use backprop_lab::nn::Optimizer;
use backprop_lab::train::{Preset, RunConfig, SettingChange};
use backprop_lab::ui::views::CodeView;
use backprop_lab::ui::{BackpropLab, Launch};
use egui_kittest::kittest::Queryable;

#[path = "common/app_harness.rs"]
mod app_harness;
use app_harness::{App, launch, snapshot_step, step_until};

fn spiral() -> RunConfig {
    let mut config = RunConfig::from_preset(&Preset::named("spiral").expect("spiral"), 42);
    config.epochs = None;
    config
}

/// `n` Steps through the toolbar; waits until the last one's loss has arrived.
fn steps(harness: &mut App, n: u64) {
    let target = snapshot_step(harness.state()).unwrap_or(0) + n;
    for _ in 0..n {
        harness.get_by_label("Step").click();
        harness.step();
    }
    step_until(harness, "the steps are trained", |app| {
        snapshot_step(app) == Some(target)
            && app
                .run_view()
                .train_loss
                .points()
                .last()
                .is_some_and(|p| p.step == target as f64)
    });
}

/// The raw losses of steps `from..=to` as the app's curve holds them (smoothing off: one point
/// per step while the curve is short).
fn curve_losses(app: &BackpropLab, from: u64, to: u64) -> Vec<u64> {
    app.run_view()
        .train_loss
        .points()
        .iter()
        .filter(|p| p.step >= from as f64 && p.step <= to as f64)
        .map(|p| (p.value as f32).to_bits() as u64)
        .collect()
}

/// The losses of an unbroken run of `config` at steps `from..=to`, as the app stores them.
fn unbroken(config: &RunConfig, changes: &[(u64, SettingChange)], from: u64, to: u64) -> Vec<u64> {
    let mut trainer = config.build().expect("builds");
    let mut losses = Vec::new();
    for step in 1..=to {
        for (at, change) in changes {
            if *at + 1 == step {
                trainer.change(*change).expect("a change");
            }
        }
        let loss = trainer.train_batch().expect("a step").loss;
        if step >= from {
            losses.push(((loss as f32) as f64 as f32).to_bits() as u64);
        }
    }
    losses
}

#[test]
fn a_saved_run_opens_with_its_curves_markers_and_step_and_trains_on_bit_for_bit() {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("spiral.run.json");
    let mut harness = launch(Launch {
        config: Some(spiral()),
        ..Launch::default()
    });
    steps(&mut harness, 5);
    harness
        .state_mut()
        .command(backprop_lab::train::protocol::Command::Change(
            SettingChange::Optimizer(Optimizer::Sgd),
        ));
    step_until(&mut harness, "the switch is marked", |app| {
        !app.run_view().markers.is_empty()
    });
    steps(&mut harness, 4);
    let before = harness.state().run_view().train_loss.points().to_vec();
    let accuracy_before = harness.state().run_view().train_accuracy.points().to_vec();
    // the training accuracy: each batch's share right before its update, as the trainer counts
    let mut trainer = spiral().build().expect("builds");
    let expected: Vec<f64> = (1..=9)
        .map(|step| {
            if step == 6 {
                trainer
                    .change(SettingChange::Optimizer(Optimizer::Sgd))
                    .expect("a change");
            }
            let report = trainer.train_batch().expect("a step");
            f64::from(report.correct as f32 / report.samples as f32)
        })
        .collect();
    let shown: Vec<f64> = accuracy_before.iter().map(|p| p.value).collect();
    assert_eq!(shown, expected, "one training-accuracy point per batch");
    let markers = harness.state().run_view().markers.clone();
    harness.state_mut().save_run_to(path.clone());
    step_until(&mut harness, "the run is saved", |_| path.exists());
    // reset: a fresh run at step 0, then the file brings the old one back
    harness.get_by_label("Reset").click();
    step_until(&mut harness, "a fresh run", |app| {
        snapshot_step(app) == Some(0)
    });
    harness.state_mut().open_path(&path);
    step_until(&mut harness, "the saved run", |app| {
        snapshot_step(app) == Some(9)
    });
    let app = harness.state();
    assert_eq!(
        app.run_view().train_loss.points(),
        &before[..],
        "the curve is back"
    );
    assert_eq!(app.run_view().markers, markers, "and its marker");
    assert_eq!(
        app.active_config().settings.optimizer.optimizer,
        Optimizer::Sgd
    );
    // Play goes on (here: Step) exactly as the run that never stopped
    steps(&mut harness, 6);
    let changes = [(5, SettingChange::Optimizer(Optimizer::Sgd))];
    assert_eq!(
        curve_losses(harness.state(), 10, 15),
        unbroken(&spiral(), &changes, 10, 15)
    );
    // and Play goes on from there
    harness.get_by_label("Play").click();
    step_until(&mut harness, "training goes on", |app| {
        snapshot_step(app).is_some_and(|s| s > 40)
    });
    harness.get_by_label("Pause").click();
    step_until(&mut harness, "a pause", |app| {
        !app.run_view().status.running
    });
}

#[test]
fn closing_the_window_keeps_the_run_and_the_next_launch_continues_it_bit_for_bit() {
    let dir = tempfile::tempdir().expect("a data folder");
    let data_dir = Some(dir.path().to_path_buf());
    let mut first = launch(Launch {
        config: Some(spiral()),
        data_dir: data_dir.clone(),
        ..Launch::default()
    });
    steps(&mut first, 7);
    eframe::App::on_exit(first.state_mut(), None);
    drop(first);
    assert!(dir.path().join("last-run.json").exists(), "kept");

    // the next launch (no run asked for on the command line) offers it
    let mut second = launch(Launch {
        data_dir,
        ..Launch::default()
    });
    second.get_by_label("Continue where you stopped?");
    second.get_by_label_contains("spiral was at step 7");
    second.get_by_label("Continue").click();
    step_until(&mut second, "the kept run", |app| {
        snapshot_step(app) == Some(7)
    });
    assert_eq!(
        second.state().run_view().train_loss.points().len(),
        7,
        "with its curve"
    );
    steps(&mut second, 5);
    assert_eq!(
        curve_losses(second.state(), 8, 12),
        unbroken(&spiral(), &[], 8, 12)
    );
}

#[test]
fn a_model_opens_as_a_run_with_its_weights_and_a_bad_file_changes_nothing() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torch_interop/exported-mnist-mlp.safetensors");
    let mut harness = launch(Launch {
        config: Some(spiral()),
        views: Some(vec!["code".into()]),
        ..Launch::default()
    });
    // the Code view shows the spiral's layers
    step_until(&mut harness, "the code", |app| {
        app.views().get::<CodeView>().code.is_some()
    });
    let code = |app: &BackpropLab| {
        app.views()
            .get::<CodeView>()
            .code
            .as_ref()
            .map(|(_, _, _, text)| text.clone())
            .unwrap_or_default()
    };
    assert!(
        code(harness.state()).contains("nn.Linear(2, 32),"),
        "{}",
        code(harness.state())
    );

    // a corrupt file: a message, and the run as it was
    let dir = tempfile::tempdir().expect("a folder");
    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(&corrupt, "{\"format\":\"backprop-lab-run\",").expect("written");
    steps(&mut harness, 3);
    let config = harness.state().active_config().clone();
    harness.state_mut().open_path(&corrupt);
    harness.run_steps(3);
    harness.get_by_label_contains("not a valid run file");
    assert_eq!(harness.state().active_config(), &config);
    assert_eq!(snapshot_step(harness.state()), Some(3));

    // the model: its layers, its weights, its data; the Code view follows
    harness.state_mut().open_path(&fixture);
    step_until(&mut harness, "the model's run", |app| {
        app.run_view()
            .info
            .as_ref()
            .is_some_and(|i| i.dataset.contains("MNIST"))
            && app
                .worker()
                .and_then(|w| w.snapshot())
                .is_some_and(|s| s.specs.len() == 3)
    });
    let (model, _) = load_any(&fixture, None).expect("the model");
    let snapshot = harness
        .state()
        .worker()
        .and_then(|w| w.snapshot())
        .expect("a snapshot");
    assert_eq!(snapshot.step, 0);
    let weights: Vec<_> = snapshot
        .layers
        .iter()
        .filter_map(|l| l.weight.clone())
        .collect();
    let expected: Vec<_> = model.params().map(|p| p.weight.clone()).collect();
    assert_eq!(weights, expected, "the run starts from the model's weights");
    step_until(&mut harness, "the code follows", |app| {
        code(app).contains("nn.Linear(784, 128),")
    });
}

#[test]
fn a_run_that_cannot_be_kept_keeps_the_window_open_and_says_why() {
    // the data folder is a file: nothing can be written inside it
    let dir = tempfile::tempdir().expect("a folder");
    let not_a_folder = dir.path().join("data");
    std::fs::write(&not_a_folder, "a file").expect("written");
    let mut harness = launch(Launch {
        config: Some(spiral()),
        data_dir: Some(not_a_folder.clone()),
        ..Launch::default()
    });
    steps(&mut harness, 2);
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    harness.run_steps(2);
    harness.get_by_label("The run could not be kept, so the window stayed open");
    harness.get_by_label_contains(&not_a_folder.display().to_string());
    assert_eq!(
        std::fs::read_to_string(&not_a_folder).expect("kept"),
        "a file"
    );
    // the run goes on
    steps(&mut harness, 1);
    harness.get_by_label("Stay").click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Quit anyway").is_none());
}
