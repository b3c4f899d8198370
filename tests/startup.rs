//! Start-up can never be made impossible: saved preferences whose run cannot start (far too
//! large for this machine, its data folder gone, layers that do not fit the data) or that this
//! version cannot read start the app on the defaults with a message saying what was set aside
//! and why; and a network too large for the machine is refused, with its estimated size, before
//! anything is allocated, in the app's start-up and on the command line.

use std::process::Command;

use backprop_lab::data::DataSource;
use backprop_lab::nn::{Activation, LayerSpec};
use backprop_lab::train::{Preset, RunConfig};
use backprop_lab::ui::{Launch, PREFERENCES_KEY, Preferences, startup_preferences};
use egui_kittest::kittest::Queryable;

#[path = "common/app_harness.rs"]
mod app_harness;
#[path = "common/memory_storage.rs"]
mod memory_storage;
use memory_storage::MemoryStorage;

/// Preferences saved with `config` as the last run.
fn saved(config: RunConfig) -> MemoryStorage {
    let mut storage = MemoryStorage::default();
    let preferences = Preferences {
        config,
        dark_mode: false,
        ..Preferences::default()
    };
    eframe::set_value(&mut storage, PREFERENCES_KEY, &preferences);
    storage
}

/// mnist-mlp with its hidden layer `units` wide.
fn mlp_with(units: usize) -> RunConfig {
    let mut config = RunConfig::from_preset(&Preset::named("mnist-mlp").expect("a preset"), 42);
    config.layers[1] = LayerSpec::Dense {
        units,
        activation: Activation::Relu,
    };
    config
}

#[test]
fn a_saved_run_far_too_large_starts_the_default_run_and_says_why() {
    // the reproduced case: 2,000,000,000 units aborted the app at every launch
    let storage = saved(mlp_with(2_000_000_000));
    let (preferences, note) = startup_preferences(Some(&storage));
    assert_eq!(preferences.config, Preferences::default().config);
    // the rest of the preferences is kept
    assert!(!preferences.dark_mode);
    let note = note.expect("a message");
    assert!(note.contains("set aside"), "{note}");
    assert!(note.contains("would need about 51.7 TiB"), "{note}");
    assert!(note.contains("(1,590,000,000,010 parameters)"), "{note}");
}

#[test]
fn a_saved_run_whose_data_folder_is_gone_or_whose_layers_do_not_fit_starts_the_default_run() {
    let mut gone = mlp_with(128);
    gone.data = DataSource::IdxFolder {
        path: "/nonexistent/mnist".into(),
    };
    let (preferences, note) = startup_preferences(Some(&saved(gone)));
    assert_eq!(preferences.config, Preferences::default().config);
    assert!(
        note.expect("a message")
            .contains("/nonexistent/mnist is gone")
    );

    let mut misfit = mlp_with(128);
    misfit.layers.pop(); // no output layer: 128 outputs for 10 classes
    let (preferences, note) = startup_preferences(Some(&saved(misfit)));
    assert_eq!(preferences.config, Preferences::default().config);
    assert!(note.expect("a message").contains("10 classes"));
}

#[test]
fn unreadable_preferences_start_the_defaults_and_say_so_and_good_ones_are_kept() {
    let mut storage = MemoryStorage::default();
    eframe::Storage::set_string(&mut storage, PREFERENCES_KEY, "(config: 42".into());
    let (preferences, note) = startup_preferences(Some(&storage));
    assert_eq!(preferences, Preferences::default());
    assert!(note.expect("a message").contains("could not be read"));

    let good = mlp_with(256);
    let (preferences, note) = startup_preferences(Some(&saved(good.clone())));
    assert_eq!(preferences.config, good);
    assert_eq!(note, None);
    // nothing saved yet: the defaults, nothing to say
    assert_eq!(startup_preferences(None), (Preferences::default(), None));
}

#[test]
fn the_command_line_refuses_a_run_too_large_with_its_size_before_allocating_it() {
    let dir = tempfile::tempdir().expect("a folder");
    let run = dir.path().join("run.json");
    let bin = env!("CARGO_BIN_EXE_backprop-lab");
    let output = Command::new(bin)
        .args([
            "train",
            "--preset",
            "mnist-mlp",
            "--epochs",
            "1",
            "--save-run",
        ])
        .arg(&run)
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    // the same run file with a hidden layer of 2,000,000,000 units
    let text = std::fs::read_to_string(&run).expect("the run file");
    let huge = text.replacen("\"units\":128", "\"units\":2000000000", 1);
    assert_ne!(huge, text, "the hidden layer was found");
    std::fs::write(&run, huge).expect("written");
    let output = Command::new(bin)
        .args(["train", "--resume"])
        .arg(&run)
        .args(["--epochs", "2"])
        .output()
        .expect("the binary runs");
    // an abort (a failed 6 TiB allocation) would be a signal, not exit code 1
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("would need about 51.7 TiB"), "{stderr}");
}

#[test]
fn the_settings_panel_refuses_a_network_too_large_with_its_size() {
    // 1,000 dense layers of 4,096 (the panel's widest): about 16.8 billion weights
    let mut config = mlp_with(4096);
    let hidden = LayerSpec::Dense {
        units: 4096,
        activation: Activation::Relu,
    };
    config
        .layers
        .splice(1..2, std::iter::repeat_n(hidden, 1000));
    let refusal = backprop_lab::ui::validate(&config).expect_err("refused");
    assert!(refusal.contains("would need about"), "{refusal}");
    assert!(refusal.contains("511.2 GiB of memory"), "{refusal}");
    assert!(refusal.contains("(16,767,787,018 parameters)"), "{refusal}");
    // and the app would not start it from its preferences either
    let (preferences, note) = startup_preferences(Some(&saved(config)));
    assert_eq!(preferences.config, Preferences::default().config);
    assert!(note.is_some());
}

/// The app launched as eframe would, with `storage` as its saved state.
fn launched_from(storage: MemoryStorage) -> app_harness::App {
    let storage: &'static MemoryStorage = Box::leak(Box::new(storage));
    app_harness::launch_from(Some(storage), Launch::default(), [1440.0, 900.0])
}

#[test]
fn corrupt_preferences_are_said_once_then_replaced_by_good_ones() {
    let mut corrupt = MemoryStorage::default();
    eframe::Storage::set_string(&mut corrupt, PREFERENCES_KEY, "(config: (layers: [{".into());
    let mut harness = launched_from(corrupt);
    harness.get_by_label_contains("The saved preferences could not be read");
    assert_eq!(
        harness.state().active_config(),
        &Preferences::default().config
    );
    // the window closes: the preferences it saves are whole
    let mut saved = MemoryStorage::default();
    eframe::App::save(harness.state_mut(), &mut saved);
    assert!(eframe::get_value::<Preferences>(&saved, PREFERENCES_KEY).is_some());
    // the next launch has nothing to say
    let harness = launched_from(saved);
    assert!(
        harness
            .query_by_label_contains("could not be read")
            .is_none()
    );
    assert_eq!(
        harness.state().active_config(),
        &Preferences::default().config
    );
}
