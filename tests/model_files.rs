//! Model files: a round trip keeps every number; every kind of bad file is refused clearly.

use std::path::Path;

use backprop_lab::io::{ModelFile, ModelFileError, TrainingRecord};
use backprop_lab::train::{Preset, Trainer};
use serde_json::Value;

fn trained(name: &str) -> (Trainer, TrainingRecord) {
    let preset = Preset::named(name).unwrap();
    let source = preset.data_source(3);
    let mut trainer = preset
        .build(3, source.load().unwrap(), preset.settings)
        .unwrap();
    for _ in 0..3 {
        trainer.train_batch().unwrap();
    }
    let record = TrainingRecord {
        preset: Some(name.into()),
        data: source,
        settings: *trainer.settings(),
        seed: 3,
        epochs: trainer.epoch(),
        steps: trainer.step(),
    };
    (trainer, record)
}

fn save(dir: &Path, name: &str) -> std::path::PathBuf {
    let (trainer, record) = trained(name);
    let path = dir.join(format!("{name}.json"));
    ModelFile::new(trainer.network(), record)
        .save(&path)
        .unwrap();
    path
}

#[test]
fn a_saved_model_loads_with_identical_weights_predictions_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (trainer, record) = trained("mnist-cnn");
    let path = dir.path().join("cnn.json");
    ModelFile::new(trainer.network(), record.clone())
        .save(&path)
        .unwrap();
    let (mut loaded, loaded_record) = ModelFile::load(&path).unwrap();
    assert_eq!(loaded_record, record);
    assert_eq!(loaded.specs(), trainer.network().specs());
    for (a, b) in loaded.params().zip(trainer.network().params()) {
        assert_eq!(a.weight, b.weight);
        assert_eq!(a.bias, b.bias);
    }
    let x = trainer
        .data()
        .test
        .inputs
        .slice(ndarray::s![0..20, ..])
        .to_owned();
    let mut original = trainer.network().clone();
    assert_eq!(
        loaded.predict(x.view()).unwrap(),
        original.predict(x.view()).unwrap()
    );
    // no temporary file is left behind
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

fn edit(path: &Path, change: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    change(&mut value);
    std::fs::write(path, serde_json::to_string(&value).unwrap()).unwrap();
}

fn load_error(path: &Path) -> (ModelFileError, String) {
    let error = ModelFile::load(path).expect_err("must be refused");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message names the file: {message}"
    );
    (error, message)
}

#[test]
fn missing_truncated_and_garbage_files() {
    let dir = tempfile::tempdir().unwrap();
    let (error, _) = load_error(&dir.path().join("nothing-here.json"));
    assert!(matches!(error, ModelFileError::Io { .. }));

    let path = save(dir.path(), "xor");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let (error, message) = load_error(&path);
    assert!(matches!(error, ModelFileError::Json { .. }), "{message}");

    std::fs::write(&path, b"\x89PNG\r\n\x1a\n not a model").unwrap();
    assert!(matches!(load_error(&path).0, ModelFileError::Json { .. }));
}

#[test]
fn another_format_or_a_newer_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = save(dir.path(), "xor");
    edit(&path, |v| v["format"] = "keras".into());
    let (error, message) = load_error(&path);
    assert!(matches!(error, ModelFileError::Format { .. }), "{message}");

    let path = save(dir.path(), "xor");
    edit(&path, |v| v["version"] = 99.into());
    let (error, message) = load_error(&path);
    assert!(
        matches!(error, ModelFileError::Version { found: 99, .. }),
        "{message}"
    );
}

#[test]
fn weights_that_do_not_fit_the_architecture_say_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = save(dir.path(), "xor");
    edit(&path, |v| v["layers"][0]["units"] = 5.into());
    let (error, message) = load_error(&path);
    assert!(matches!(error, ModelFileError::Shape { .. }), "{message}");
    assert!(
        message.contains("needs weight 5x2") && message.contains("found weight 4x2"),
        "{message}"
    );

    let path = save(dir.path(), "xor");
    edit(&path, |v| {
        v["parameters"].as_array_mut().unwrap().pop();
    });
    let (_, message) = load_error(&path);
    assert!(message.contains("missing"), "{message}");

    let path = save(dir.path(), "xor");
    edit(&path, |v| {
        v["parameters"][0]["weight"].as_array_mut().unwrap().pop();
    });
    let (error, message) = load_error(&path);
    assert!(
        matches!(error, ModelFileError::TensorLength { index: 0, .. }),
        "{message}"
    );
}

#[test]
fn nan_weights_are_never_written_and_the_old_file_survives() {
    let dir = tempfile::tempdir().unwrap();
    let path = save(dir.path(), "xor");
    let before = std::fs::read(&path).unwrap();
    let (trainer, record) = trained("xor");
    let mut broken = trainer.network().clone();
    broken.params_mut().next().unwrap().weight[[0, 0]] = f32::NAN;
    let error = ModelFile::new(&broken, record).save(&path).unwrap_err();
    assert!(
        matches!(error, ModelFileError::NotFinite { index: 0, .. }),
        "{error}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn saving_into_a_missing_folder_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (trainer, record) = trained("xor");
    let path = dir.path().join("no/such/folder/model.json");
    let error = ModelFile::new(trainer.network(), record)
        .save(&path)
        .unwrap_err();
    assert!(matches!(error, ModelFileError::Io { .. }), "{error}");
}
