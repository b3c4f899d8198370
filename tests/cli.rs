//! The command line as scripts use it: JSON on stdout, errors as messages with a non-zero exit.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout_json_lines(output: &Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}")))
        .collect()
}

/// Runs a command that must fail; returns its error message.
fn failure(args: &[&str]) -> String {
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{args:?} must fail: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn train_json_prints_one_object_per_epoch_and_nothing_else_then_eval_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("xor.json");
    let model = model.to_str().unwrap();
    let output = run(&[
        "train", "--preset", "xor", "--epochs", "3", "--seed", "5", "--json", "--save", model,
    ]);
    let epochs = stdout_json_lines(&output);
    assert_eq!(epochs.len(), 3);
    for (i, epoch) in epochs.iter().enumerate() {
        assert_eq!(epoch["epoch"], i + 1);
        for key in [
            "loss",
            "accuracy",
            "test_loss",
            "test_accuracy",
            "seconds",
            "samples_per_s",
        ] {
            assert!(epoch[key].is_number(), "{key} in {epoch}");
        }
    }
    let eval = stdout_json_lines(&run(&["eval", "--model", model, "--json"]));
    assert_eq!(eval.len(), 1);
    assert_eq!(eval[0]["samples"], 4);
    let last_test_loss = epochs[2]["test_loss"].as_f64().unwrap();
    assert!((eval[0]["loss"].as_f64().unwrap() - last_test_loss).abs() < 1e-6);
}

#[test]
fn the_same_seed_prints_the_same_losses() {
    let losses = |seed: &str| -> Vec<f64> {
        stdout_json_lines(&run(&[
            "train", "--preset", "circle", "--epochs", "2", "--seed", seed, "--json",
        ]))
        .iter()
        .map(|e| e["loss"].as_f64().unwrap())
        .collect()
    };
    assert_eq!(losses("9"), losses("9"));
    assert_ne!(losses("9"), losses("10"));
}

/// A test-split digit, tripled in size, dark on light, off-centre on a larger canvas.
fn write_digit_png(path: &Path, index: usize) -> usize {
    let data = backprop_lab::data::mnist::embedded_subset().unwrap();
    let digit = data.test.inputs.row(index);
    let mut canvas = image::GrayImage::from_pixel(120, 100, image::Luma([255]));
    for y in 0..84 {
        for x in 0..84 {
            let ink = digit[(y / 3) * 28 + x / 3];
            canvas.put_pixel(
                x as u32 + 30,
                y as u32 + 10,
                image::Luma([255 - (ink * 255.0) as u8]),
            );
        }
    }
    canvas.save(path).unwrap();
    data.test.labels[index]
}

#[test]
fn classify_gives_a_prediction_and_ten_probabilities_per_image() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("mlp.json");
    let model = model.to_str().unwrap();
    assert!(
        run(&[
            "train",
            "--preset",
            "mnist-mlp",
            "--epochs",
            "1",
            "--json",
            "--save",
            model
        ])
        .status
        .success()
    );
    let image = dir.path().join("digit.png");
    write_digit_png(&image, 0);
    let lines = stdout_json_lines(&run(&[
        "classify",
        "--model",
        model,
        image.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(lines.len(), 1);
    let probabilities: Vec<f64> = lines[0]["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert_eq!(probabilities.len(), 10);
    assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-4);
    let prediction = lines[0]["prediction"].as_u64().unwrap() as usize;
    let best = probabilities.iter().cloned().fold(0.0, f64::max);
    assert_eq!(probabilities[prediction], best);
    assert!(lines[0]["file"].as_str().unwrap().ends_with("digit.png"));

    // a model of 2-D points cannot classify pictures
    let xor = dir.path().join("xor.json");
    run(&[
        "train",
        "--preset",
        "xor",
        "--epochs",
        "1",
        "--json",
        "--save",
        xor.to_str().unwrap(),
    ]);
    let message = failure(&[
        "classify",
        "--model",
        xor.to_str().unwrap(),
        image.to_str().unwrap(),
    ]);
    assert!(message.contains("28x28"), "{message}");
}

#[test]
fn bad_input_is_an_error_message_and_exit_code_one() {
    let message = failure(&["train", "--preset", "resnet"]);
    assert!(
        message.contains("no preset named \"resnet\"") && message.contains("mnist-cnn"),
        "{message}"
    );

    let message = failure(&["train", "--preset", "xor", "--lr=0"]);
    assert!(
        message.contains("learning rate must be in (0, 100]"),
        "{message}"
    );

    let message = failure(&["train", "--preset", "xor", "--data", "/tmp"]);
    assert!(
        message.contains("applies to the MNIST presets"),
        "{message}"
    );

    let message = failure(&[
        "train",
        "--preset",
        "mnist-mlp",
        "--data",
        "/no/such/folder",
    ]);
    assert!(
        message.contains("/no/such/folder is not a folder"),
        "{message}"
    );

    let message = failure(&[
        "train",
        "--preset",
        "xor",
        "--loss",
        "cross-entropy",
        "--batch-size",
        "0",
    ]);
    assert!(message.contains("batch size"), "{message}");

    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("model.json");
    std::fs::write(
        &corrupt,
        "{\"format\": \"backprop-lab-model\", \"version\": 1, \"layers\": [",
    )
    .unwrap();
    let message = failure(&["eval", "--model", corrupt.to_str().unwrap()]);
    assert!(
        message.contains("model.json") && message.contains("not a valid model file"),
        "{message}"
    );
}
