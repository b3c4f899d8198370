//! Models as safetensors in PyTorch's layout, against what PyTorch computed (the fixtures of
//! scripts/make_torch_interop_fixtures.sh; CI has no PyTorch): Backprop Lab's exported mnist-mlp
//! and mnist-cnn, loaded by PyTorch into the model `backprop-lab code` prints, give the test loss
//! and predictions Backprop Lab computes; a state dict PyTorch trained and saved opens here with
//! PyTorch's test loss and predictions. Also the old JSON files, `convert`, and bad files.

use std::path::{Path, PathBuf};
use std::process::Command;

use backprop_lab::data::DataSource;
use backprop_lab::io::{ModelFile, TrainingRecord, load_any, safetensors_model};
use backprop_lab::nn::{Loss, Network, predicted_class};
use backprop_lab::train::{Preset, evaluate};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/torch_interop")
        .join(name)
}

/// Test loss and predictions on the embedded MNIST subset's test split.
fn test_set_results(network: &mut Network) -> (f64, Vec<usize>) {
    let data = DataSource::MnistSubset.load().expect("the embedded digits");
    let targets = data.test.targets(10, 10).expect("targets");
    let result = evaluate(
        network,
        &data.test.inputs,
        &targets,
        &data.test.labels,
        Loss::CrossEntropy,
    )
    .expect("evaluated");
    let outputs = network.predict(data.test.inputs.view()).expect("outputs");
    let predictions = outputs.rows().into_iter().map(predicted_class).collect();
    (result.loss, predictions)
}

fn torch_results(name: &str) -> (f64, Vec<usize>) {
    let text = std::fs::read_to_string(fixture(name)).expect("the fixture");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    let predictions = json["predictions"]
        .as_array()
        .expect("predictions")
        .iter()
        .map(|p| p.as_u64().expect("a class") as usize)
        .collect();
    (json["test_loss"].as_f64().expect("a loss"), predictions)
}

fn same_results(ours: (f64, Vec<usize>), torch: (f64, Vec<usize>), what: &str) {
    let relative = (ours.0 - torch.0).abs() / torch.0;
    assert!(
        relative < 1e-5,
        "{what}: test loss {} here, {} in PyTorch",
        ours.0,
        torch.0
    );
    assert_eq!(ours.1.len(), 1500);
    assert_eq!(ours.1, torch.1, "{what}: predictions");
}

#[test]
fn exported_models_loaded_by_pytorch_give_the_same_test_loss_and_predictions() {
    for name in ["mnist-mlp", "mnist-cnn"] {
        let path = fixture(&format!("exported-{name}.safetensors"));
        let (mut network, training) = load_any(&path, None).expect("opens");
        let training = training.expect("its training record, from the metadata");
        assert_eq!(training.preset.as_deref(), Some(name));
        assert_eq!(
            network.specs(),
            Preset::named(name).expect("a preset").layers
        );
        let ours = test_set_results(&mut network);
        same_results(ours, torch_results(&format!("exported-{name}.json")), name);
    }
}

#[test]
fn a_state_dict_trained_and_saved_by_pytorch_opens_with_pytorch_s_results() {
    let path = fixture("torch-mnist-mlp.safetensors");
    let preset = Preset::named("mnist-mlp").expect("a preset");
    // no metadata: the architecture must be given
    let error = load_any(&path, None)
        .expect_err("no architecture")
        .to_string();
    assert!(error.contains("without Backprop Lab's metadata"), "{error}");
    let input = preset.data.shape().0;
    let (mut network, training) =
        load_any(&path, Some((input, &preset.layers))).expect("opens with the preset's layers");
    assert!(training.is_none());
    same_results(
        test_set_results(&mut network),
        torch_results("torch-mnist-mlp.json"),
        "PyTorch-trained mnist-mlp",
    );
    // the wrong architecture is refused, naming the tensor
    let cnn = Preset::named("mnist-cnn").expect("a preset");
    let error = load_any(&path, Some((input, &cnn.layers)))
        .expect_err("not the CNN")
        .to_string();
    assert!(error.contains("tensor \"0.weight\""), "{error}");
}

#[test]
fn saved_and_reloaded_weights_are_the_same_bits() {
    let dir = tempfile::tempdir().expect("a folder");
    let (network, training) =
        load_any(&fixture("exported-mnist-cnn.safetensors"), None).expect("opens");
    let path = dir.path().join("again.safetensors");
    safetensors_model::save(&network, training.as_ref(), &path).expect("saved");
    let (again, training_again) = load_any(&path, None).expect("opens");
    assert_eq!(training_again, training);
    for (a, b) in network.params().zip(again.params()) {
        assert_eq!(a.weight, b.weight);
        assert_eq!(a.bias, b.bias);
    }
}

#[test]
fn old_json_models_still_open_and_convert_to_safetensors() {
    let dir = tempfile::tempdir().expect("a folder");
    let (network, training) =
        load_any(&fixture("exported-mnist-mlp.safetensors"), None).expect("opens");
    let training: TrainingRecord = training.expect("a record");
    let json = dir.path().join("old.json");
    ModelFile::new(&network, training)
        .save(&json)
        .expect("saved");
    let converted = dir.path().join("new.safetensors");
    let binary = env!("CARGO_BIN_EXE_backprop-lab");
    let run = |args: &[&str]| {
        let output = Command::new(binary).args(args).output().expect("runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let path = |p: &Path| p.to_str().expect("utf-8").to_string();
    run(&["convert", &path(&json), &path(&converted)]);
    let bytes = std::fs::read(&converted).expect("written");
    assert!(safetensors_model::looks_like(&bytes, bytes.len() as u64));
    let old = run(&["eval", "--model", &path(&json), "--json"]);
    let new = run(&["eval", "--model", &path(&converted), "--json"]);
    assert_eq!(old, new);
    // the printed code names the same modules the file's tensors belong to
    let code = run(&["code", "--model", &path(&converted)]);
    assert!(code.contains("nn.Linear(784, 128),") && code.contains("nn.Linear(128, 10),"));
    let keras = run(&["code", "--model", &path(&converted), "--framework", "keras"]);
    assert!(
        keras.contains("layers.Dense(128, activation=\"relu\")"),
        "{keras}"
    );
}

#[test]
fn bad_model_files_are_refused_with_their_reason() {
    let dir = tempfile::tempdir().expect("a folder");
    let good = std::fs::read(fixture("exported-mnist-mlp.safetensors")).expect("the fixture");
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            "not a valid safetensors file",
        ),
        ("empty", Vec::new(), "not a valid model file"),
        ("text", b"hello".to_vec(), "not a valid model file"),
        (
            "a header that lies about its length",
            {
                let mut bytes = good.clone();
                bytes[..8].copy_from_slice(&5u64.to_le_bytes());
                bytes
            },
            "not a valid",
        ),
    ];
    for (what, bytes, reason) in cases {
        let path = dir.path().join("bad.safetensors");
        std::fs::write(&path, &bytes).expect("written");
        let error = load_any(&path, None).expect_err(what).to_string();
        assert!(error.contains(reason), "{what}: {error}");
    }
}

#[test]
fn training_can_start_from_a_model_s_weights() {
    let fixture = fixture("exported-mnist-mlp.safetensors");
    let output = Command::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args([
            "train",
            "--preset",
            "mnist-mlp",
            "--epochs",
            "1",
            "--json",
            "--init",
        ])
        .arg(&fixture)
        .output()
        .expect("runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    // the same, here: the model's weights, the preset's data, settings and seed
    let preset = Preset::named("mnist-mlp").expect("a preset");
    let (network, _) = load_any(&fixture, None).expect("the model");
    let data = preset.data_source(42).load().expect("the data");
    let mut trainer = backprop_lab::train::Trainer::new(
        network,
        data,
        preset.settings,
        backprop_lab::train::training_rng(42),
    )
    .expect("a trainer");
    let report = trainer.train_epoch(|_| {}).expect("an epoch");
    let test = trainer.evaluate_test().expect("evaluated");
    assert_eq!(line["loss"].as_f64(), Some(report.train.loss));
    assert_eq!(line["test_loss"].as_f64(), Some(test.loss));
    // another architecture's weights are refused
    let output = Command::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args(["train", "--preset", "mnist-cnn", "--epochs", "1", "--init"])
        .arg(&fixture)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("its layers are not mnist-cnn's"),
        "{stderr}"
    );
}
