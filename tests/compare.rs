//! Comparing runs and looking back, driven headless through the real panels: a pin survives
//! Reset and a preset change with the run's points, Fork here / Back to the fork pins the branch
//! left and starts again from the fork bit for bit, the timeline views a past step and "Resume
//! from here" pins the later part, a saved run opens as a pin (and a bad one says why), and the
//! histograms view draws the recorded frames.

use backprop_lab::train::{Preset, RunConfig};
use backprop_lab::ui::{Launch, Series};
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;

#[path = "common/app_harness.rs"]
mod app_harness;
use app_harness::{App, snapshot_step, step_until};

fn launch(preset: &str, views: &[&str]) -> App {
    let mut config = RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 42);
    config.epochs = None;
    let launch = Launch {
        config: Some(config),
        views: Some(views.iter().map(|v| v.to_string()).collect()),
        ..Launch::default()
    };
    app_harness::launch(launch)
}

/// `n` Steps through the toolbar; waits until the last one's loss and timeline state arrived.
fn steps(harness: &mut App, n: u64) {
    let target = snapshot_step(harness.state()).unwrap_or(0) + n;
    for _ in 0..n {
        harness.get_by_label("Step").click();
        harness.step();
    }
    step_until(harness, "the steps are trained and kept", |app| {
        let run = app.run_view();
        snapshot_step(app) == Some(target)
            && run.train_loss.points().last().map(|p| p.step) == Some(target as f64)
            && run.timeline.latest() == Some(target)
    });
}

/// (step, value bits) of a curve's points.
fn bits(series: &Series) -> Vec<(u64, u64)> {
    series
        .points()
        .iter()
        .map(|p| (p.step as u64, p.value.to_bits()))
        .collect()
}

#[test]
fn a_pin_survives_reset_and_a_preset_change_with_the_runs_points() {
    let mut harness = launch("xor", &["curves"]);
    steps(&mut harness, 12);
    let loss = bits(&harness.state().run_view().train_loss);
    let test = bits(&harness.state().run_view().test_loss);
    let markers = harness.state().run_view().markers.len();
    harness.get_by_label("Pin").click();
    harness.run_steps(2);
    harness.get_by_label("Reset").click();
    step_until(&mut harness, "the reset", |app| {
        app.run_view().info.is_some() && app.run_view().train_loss.is_empty()
    });
    // another preset, through the panel
    harness
        .get_by_role_and_label(Role::ComboBox, "Preset")
        .click();
    harness.run_steps(2);
    harness.get_by_label("circle").click();
    harness.run_steps(2);
    harness.get_by_label("Load").click();
    step_until(&mut harness, "circle", |app| {
        app.run_view()
            .info
            .as_ref()
            .is_some_and(|i| i.dataset.contains("circle"))
    });
    let pins = harness.state().pins().pins();
    assert_eq!(pins.len(), 1);
    assert_eq!(bits(&pins[0].train_loss), loss);
    assert_eq!(bits(&pins[0].test_loss), test);
    assert_eq!(pins[0].markers.len(), markers);
    assert!(loss.len() == 12 && !test.is_empty());
    // named above the curves with what distinguishes it; a click hides it
    let name = "— xor: Adam 0.05, cross-entropy, seed 42";
    harness.get_by_label(name).click();
    harness.run_steps(2);
    assert!(!harness.state().pins().pins()[0].visible);
}

#[test]
fn back_to_the_fork_pins_the_branch_left_and_starts_again_from_the_fork() {
    let mut harness = launch("spiral", &["curves"]);
    steps(&mut harness, 3);
    harness.get_by_label("Fork here").click();
    step_until(&mut harness, "the fork", |app| {
        app.run_view().fork.map(|f| f.0) == Some(3)
    });
    steps(&mut harness, 6);
    let branch = bits(&harness.state().run_view().train_loss);
    harness.get_by_label("Back to the fork (step 3)").click();
    step_until(&mut harness, "back at the fork", |app| {
        snapshot_step(app) == Some(3) && !app.pins().pins().is_empty()
    });
    let app = harness.state();
    let pin = &app.pins().pins()[0];
    assert!(pin.label.ends_with("steps 3 to 9"), "{}", pin.label);
    // the pin holds the branch from the fork on; the run keeps its curves up to the fork
    assert_eq!(bits(&pin.train_loss), branch[2..].to_vec());
    assert_eq!(bits(&app.run_view().train_loss), branch[..3].to_vec());
    // the same six steps again: the same losses, bit for bit
    steps(&mut harness, 6);
    assert_eq!(bits(&harness.state().run_view().train_loss), branch);
}

#[test]
fn the_timeline_views_a_past_step_and_resuming_pins_the_later_part() {
    let mut harness = launch("circle", &["curves", "boundary"]);
    steps(&mut harness, 8);
    let kept = harness.state().run_view().timeline.kept.len();
    assert_eq!(kept, 9, "every step while paused, and the start");
    // drag the timeline's handle to the far left: step 0
    let handle = harness
        .state()
        .views()
        .tiles
        .iter()
        .find(|(id, _)| *id == "curves")
        .map(|(_, rect)| *rect)
        .expect("the curves tile");
    let track_y = harness.get_by_label_contains("states kept").rect().top() - 14.0;
    let start = egui::Pos2::new(handle.right() - 10.0, track_y);
    let end = egui::Pos2::new(handle.left() + 2.0, track_y);
    harness.drag_at(start);
    harness.run_steps(1);
    harness.hover_at(end);
    harness.run_steps(1);
    harness.drop_at(end);
    step_until(&mut harness, "step 0 on show", |app| {
        app.run_view().viewing.is_some_and(|v| v.shown == 0) && snapshot_step(app) == Some(0)
    });
    harness.get_by_label_contains("Viewing the past: step 0 (epoch 0.00)");
    // the decision boundary of step 0 is the untrained network's
    // the banner's button (the timeline under the curves has the same)
    let resume = harness.get_all_by_label("Resume from here").next();
    resume.expect("a Resume button").click();
    step_until(&mut harness, "the later part pinned", |app| {
        app.run_view().viewing.is_none() && !app.pins().pins().is_empty()
    });
    let app = harness.state();
    assert!(app.run_view().train_loss.is_empty());
    let pin = &app.pins().pins()[0];
    assert_eq!(pin.train_loss.len(), 8);
    assert!(pin.label.ends_with("steps 0 to 8"), "{}", pin.label);
    assert_eq!(app.run_view().timeline.latest(), Some(0));
}

#[test]
fn a_saved_run_opens_as_a_pin_and_a_bad_one_says_why() {
    let dir = tempfile::tempdir().expect("a folder");
    let saved = dir.path().join("first.json");
    let mut harness = launch("xor", &["curves"]);
    steps(&mut harness, 5);
    let loss = bits(&harness.state().run_view().train_loss);
    harness.state_mut().save_run_to(saved.clone());
    step_until(&mut harness, "the run saved", |_| saved.exists());
    harness.get_by_label("Reset").click();
    step_until(&mut harness, "the reset", |app| {
        app.run_view().train_loss.is_empty() && app.run_view().info.is_some()
    });

    harness.state_mut().open_pin(&saved);
    harness.run_steps(2);
    harness.get_by_label_contains("Pinned first: Adam 0.05");
    assert_eq!(bits(&harness.state().pins().pins()[0].train_loss), loss);
    // the run itself is untouched: still the fresh one
    assert_eq!(snapshot_step(harness.state()), Some(0));

    // a run saved by the command line holds no curves: it says so
    let bare = dir.path().join("bare.json");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args(["train", "--preset", "xor", "--epochs", "2", "--save-run"])
        .arg(&bare)
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    harness.state_mut().open_pin(&bare);
    harness.run_steps(2);
    harness.get_by_label_contains("bare.json was not pinned: it holds no curves");

    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(&corrupt, "{\"format\":\"backprop-lab-run\",").expect("written");
    harness.state_mut().open_pin(&corrupt);
    harness.run_steps(2);
    harness.get_by_label_contains("corrupt.json was not pinned");
    assert_eq!(harness.state().pins().pins().len(), 1);
}

#[test]
fn the_histograms_view_shows_a_frame_per_step_while_paused() {
    let mut harness = launch("circle", &["histograms"]);
    steps(&mut harness, 4);
    let frames: Vec<u64> = harness
        .state()
        .run_view()
        .histograms
        .frames()
        .iter()
        .map(|f| f.step)
        .collect();
    assert_eq!(frames, [0, 1, 2, 3, 4]);
    harness.get_by_label("dL/dW").click();
    harness.run_steps(2);
    // the plot's hover reads the column and bin under the pointer
    let tile = harness
        .state()
        .views()
        .tiles
        .iter()
        .find(|(id, _)| *id == "histograms")
        .map(|(_, rect)| *rect)
        .expect("the histograms tile");
    harness.hover_at(tile.center());
    harness.run_steps(2);
    let readout = harness
        .state_mut()
        .views_mut()
        .get_mut::<backprop_lab::ui::views::HistogramsView>()
        .readout()
        .map(str::to_string);
    assert!(
        readout.as_deref().is_some_and(|r| r.starts_with("step ")),
        "{readout:?}"
    );
}
