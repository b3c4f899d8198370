//! The command line as scripts use it: JSON on stdout, errors as messages with a non-zero exit.
//! Every figure printed is checked against a computation done here, through the library.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use backprop_lab::data::mnist::embedded_subset;
use backprop_lab::data::{Split, digit_image};
use backprop_lab::io::{TrainingRecord, load_any};
use backprop_lab::nn::{Activation, Loss, Network, Optimizer, OptimizerSettings, TensorState};
use backprop_lab::train::{Preset, TrainSettings, presets};
use ndarray::Array2;
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
    assert_no_repeated_clause(&stderr);
    stderr
}

/// An error that both writes its cause into its message and exposes it as its source prints the
/// cause twice ("x: No such file (os error 2): No such file (os error 2)"): no clause of a
/// message may appear twice.
fn assert_no_repeated_clause(message: &str) {
    let clauses: Vec<&str> = message
        .trim()
        .trim_start_matches("error: ")
        .split(": ")
        .map(str::trim)
        .filter(|c| c.len() > 3)
        .collect();
    for (i, clause) in clauses.iter().enumerate() {
        assert!(
            !clauses[i + 1..].contains(clause),
            "\"{clause}\" twice in: {message}"
        );
    }
}

#[test]
fn errors_from_files_name_their_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let message = failure(&["eval", "--model", missing.to_str().unwrap()]);
    assert!(message.contains("No such file"), "{message}");
    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(
        &corrupt,
        "{\"format\": \"backprop-lab-model\", \"layers\": [",
    )
    .unwrap();
    let message = failure(&["eval", "--model", corrupt.to_str().unwrap()]);
    assert!(message.contains("not a valid model file"), "{message}");
    let message = failure(&["classify", "--model", missing.to_str().unwrap(), "x.png"]);
    assert!(message.contains("nope.json"), "{message}");
    // a folder whose image file is not IDX: the cause inside the data error
    std::fs::write(dir.path().join("train-images-idx3-ubyte"), b"garbage!").unwrap();
    let message = failure(&[
        "train",
        "--preset",
        "mnist-mlp",
        "--data",
        dir.path().to_str().unwrap(),
    ]);
    assert!(message.contains("train-images-idx3-ubyte"), "{message}");
}

/// Asserts that `object[key]` is a number within `tolerance` of `expected` (relative to
/// `expected` when it exceeds 1 in size).
fn assert_close(object: &Value, key: &str, expected: f64, tolerance: f64) {
    let found = object[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {object}"));
    assert!(
        (found - expected).abs() <= tolerance * expected.abs().max(1.0),
        "{key}: printed {found}, expected {expected}, in {object}"
    );
}

/// Trains the preset `name` for one epoch with the default seed and saves it to `model`.
fn train_one_epoch(name: &str, model: &Path) {
    let lines = stdout_json_lines(&run(&[
        "train",
        "--preset",
        name,
        "--epochs",
        "1",
        "--json",
        "--save",
        model.to_str().unwrap(),
    ]));
    assert_eq!(lines.len(), 1);
}

/// The network's outputs on `inputs`, and the output layer's pre-activations recomputed here in
/// f64 from the layer below and the output layer's weights (z = x·Wᵀ + b), one row per sample.
/// The outputs are checked to be the softmax (or sigmoid) of these logits.
fn logits(network: &mut Network, inputs: &Array2<f32>) -> (Array2<f32>, Vec<Vec<f64>>) {
    let outputs = network.forward(inputs.view(), None).unwrap().clone();
    let last = network.layers().len() - 1;
    let params = network.layers()[last]
        .params()
        .expect("the output layer is dense");
    let below = network.activation(last);
    assert_eq!(below.ncols(), params.weight.ncols());
    let z: Vec<Vec<f64>> = below
        .rows()
        .into_iter()
        .map(|x| {
            params
                .weight
                .rows()
                .into_iter()
                .zip(&params.bias)
                .map(|(w, &b)| {
                    x.iter()
                        .zip(w.iter())
                        .map(|(&x, &w)| f64::from(x) * f64::from(w))
                        .sum::<f64>()
                        + f64::from(b)
                })
                .collect()
        })
        .collect();
    for (row, z) in outputs.rows().into_iter().zip(&z) {
        let probabilities: Vec<f64> = if z.len() == 1 {
            assert_eq!(network.output_activation(), Activation::Sigmoid);
            vec![1.0 / (1.0 + (-z[0]).exp())]
        } else {
            assert_eq!(network.output_activation(), Activation::Softmax);
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = z.iter().map(|v| (v - max).exp()).sum();
            z.iter().map(|v| (v - max).exp() / total).collect()
        };
        for (&a, p) in row.iter().zip(probabilities) {
            assert!((f64::from(a) - p).abs() < 1e-5, "output {a}, from z {p}");
        }
    }
    (outputs, z)
}

/// Mean cross-entropy from the logits: -ln softmax(z)[label] for several outputs,
/// -(y ln s(z) + (1 - y) ln(1 - s(z))) for one sigmoid output.
fn cross_entropy(z: &[Vec<f64>], labels: &[usize]) -> f64 {
    let mut total = 0.0;
    for (z, &label) in z.iter().zip(labels) {
        total += if z.len() == 1 {
            let (y, s) = (label as f64, 1.0 / (1.0 + (-z[0]).exp()));
            -(y * s.ln() + (1.0 - y) * (1.0 - s).ln())
        } else {
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln() - z[label]
        };
    }
    total / labels.len() as f64
}

/// The share of rows whose class is their label: output >= 0.5 means class 1 for one output,
/// else the first largest output.
fn accuracy(outputs: &Array2<f32>, labels: &[usize]) -> f64 {
    let mut correct = 0;
    for (row, &label) in outputs.rows().into_iter().zip(labels) {
        let class = if row.len() == 1 {
            usize::from(row[0] >= 0.5)
        } else {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = i;
                }
            }
            best
        };
        if class == label {
            correct += 1;
        }
    }
    correct as f64 / labels.len() as f64
}

#[test]
fn train_json_prints_one_object_per_epoch_and_nothing_else_then_eval_agrees() {
    // circle: 300 training points in batches of 16, the last one short, so an epoch's mean
    // must weigh each batch by its size
    let (name, seed, epochs): (&str, u64, usize) = ("circle", 5, 3);
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("circle.safetensors");
    let (epochs_arg, seed_arg) = (epochs.to_string(), seed.to_string());
    let lines = stdout_json_lines(&run(&[
        "train",
        "--preset",
        name,
        "--epochs",
        epochs_arg.as_str(),
        "--seed",
        seed_arg.as_str(),
        "--json",
        "--save",
        model.to_str().unwrap(),
    ]));
    assert_eq!(lines.len(), epochs);

    // the same run in this process, one batch at a time, with each epoch's means taken here
    let preset = Preset::named(name).unwrap();
    let data = preset.data_source(seed).load().unwrap();
    let test_split = data.test.clone();
    let train_samples = data.train.len();
    let mut trainer = preset.build(seed, data, preset.settings).unwrap();
    for (i, line) in lines.iter().enumerate() {
        let (mut loss_sum, mut correct, mut samples) = (0.0, 0, 0);
        loop {
            let batch = trainer.train_batch().unwrap();
            assert_eq!(batch.epoch, i);
            loss_sum += batch.loss * batch.samples as f64;
            correct += batch.correct;
            samples += batch.samples;
            if batch.finished_epoch.is_some() {
                break;
            }
        }
        assert_eq!(samples, train_samples);
        let test = trainer.evaluate_test().unwrap();
        assert_eq!(line["epoch"], i + 1, "{line}");
        assert_eq!(line["epochs"], epochs, "{line}");
        assert_eq!(line["steps"], trainer.step(), "{line}");
        assert_close(line, "loss", loss_sum / samples as f64, 1e-9);
        assert_close(line, "accuracy", correct as f64 / samples as f64, 1e-12);
        assert_close(line, "test_loss", test.loss, 1e-9);
        assert_close(line, "test_accuracy", test.accuracy, 1e-12);
        for key in ["loss", "test_loss"] {
            let loss = line[key].as_f64().unwrap();
            assert!(loss.is_finite() && loss > 0.0, "{key} in {line}");
        }
        for key in ["accuracy", "test_accuracy"] {
            let accuracy = line[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&accuracy), "{key} in {line}");
        }
        let seconds = line["seconds"].as_f64().unwrap();
        assert!(seconds.is_finite() && seconds > 0.0, "{line}");
        assert_close(line, "samples_per_s", train_samples as f64 / seconds, 1e-9);
    }

    // the last epoch's test figures are those of the saved model, evaluated here by hand
    let (mut network, record) = load_any(&model, None).unwrap();
    let record = record.expect("a training record");
    assert_eq!(record.epochs, epochs);
    assert_eq!(record.steps, trainer.step());
    let (outputs, z) = logits(&mut network, &test_split.inputs);
    let test_loss = cross_entropy(&z, &test_split.labels);
    let test_accuracy = accuracy(&outputs, &test_split.labels);
    let last = &lines[epochs - 1];
    assert_close(last, "test_loss", test_loss, 1e-5);
    assert_close(last, "test_accuracy", test_accuracy, 1e-12);

    let eval = stdout_json_lines(&run(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(eval.len(), 1);
    assert_eq!(eval[0]["samples"], test_split.len());
    assert_close(&eval[0], "loss", test_loss, 1e-5);
    assert_close(&eval[0], "loss", last["test_loss"].as_f64().unwrap(), 1e-9);
    assert_close(&eval[0], "accuracy", test_accuracy, 1e-12);
}

#[test]
fn train_flags_reach_the_training_and_the_saved_record() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("xor.safetensors");
    let lines = stdout_json_lines(&run(&[
        "train",
        "--preset",
        "xor",
        "--epochs",
        "2",
        "--seed",
        "7",
        "--optimizer",
        "momentum",
        "--loss",
        "mse",
        "--lr",
        "0.08",
        "--batch-size",
        "3",
        "--json",
        "--save",
        model.to_str().unwrap(),
    ]));
    let preset = Preset::named("xor").unwrap();
    let settings = TrainSettings {
        loss: Loss::Mse,
        optimizer: OptimizerSettings {
            optimizer: Optimizer::MOMENTUM,
            learning_rate: 0.08,
            weight_decay: preset.settings.optimizer.weight_decay,
        },
        batch_size: 3,
    };
    // every flag differs from the preset's own value, so a dropped flag shows
    assert_ne!(settings.loss, preset.settings.loss);
    assert!(
        !settings
            .optimizer
            .optimizer
            .same_kind(&preset.settings.optimizer.optimizer)
    );
    assert_ne!(
        settings.optimizer.learning_rate,
        preset.settings.optimizer.learning_rate
    );
    assert_ne!(settings.batch_size, preset.settings.batch_size);

    // the run gives the numbers of a trainer built here with these settings
    let data = preset.data_source(7).load().unwrap();
    let test_split = data.test.clone();
    let steps_per_epoch = data.train.len().div_ceil(settings.batch_size) as u64;
    let mut trainer = preset.build(7, data, settings).unwrap();
    assert_eq!(lines.len(), 2);
    for (i, line) in lines.iter().enumerate() {
        let report = trainer.train_epoch(|_| {}).unwrap();
        let test = trainer.evaluate_test().unwrap();
        assert_eq!(line["steps"], (i as u64 + 1) * steps_per_epoch, "{line}");
        assert_close(line, "loss", report.train.loss, 1e-9);
        assert_close(line, "test_loss", test.loss, 1e-9);
    }

    // the file records each flag
    let (_, record) = load_any(&model, None).unwrap();
    let file = serde_json::json!({ "training": record.expect("a training record") });
    let training = &file["training"];
    assert_eq!(training["preset"], "xor", "{training}");
    assert_eq!(training["settings"]["loss"], "mse", "{training}");
    assert_eq!(
        training["settings"]["optimizer"]["optimizer"]["type"], "momentum",
        "{training}"
    );
    assert_close(
        &training["settings"]["optimizer"],
        "learning_rate",
        0.08,
        1e-7,
    );
    assert_eq!(training["settings"]["batch_size"], 3, "{training}");
    assert_eq!(training["seed"], 7, "{training}");
    assert_eq!(training["epochs"], 2, "{training}");
    assert_eq!(training["steps"], 2 * steps_per_epoch, "{training}");
    let (mut network, record) = load_any(&model, None).unwrap();
    let record = record.expect("a training record");
    assert_eq!(
        record,
        TrainingRecord {
            preset: Some("xor".into()),
            data: preset.data_source(7),
            settings,
            seed: 7,
            epochs: 2,
            steps: 2 * steps_per_epoch,
        }
    );

    // the last test loss and `eval` are the MSE the model was trained with, computed here
    let outputs = network.predict(test_split.inputs.view()).unwrap();
    assert_eq!(outputs.ncols(), 1);
    let mse = outputs
        .iter()
        .zip(&test_split.labels)
        .map(|(&a, &label)| (f64::from(a) - label as f64).powi(2))
        .sum::<f64>()
        / test_split.len() as f64;
    assert_close(&lines[1], "test_loss", mse, 1e-6);
    let eval = stdout_json_lines(&run(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--json",
    ]));
    assert_close(&eval[0], "loss", mse, 1e-6);
    assert_close(
        &eval[0],
        "accuracy",
        accuracy(&outputs, &test_split.labels),
        1e-12,
    );
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
    let model = dir.path().join("mlp.safetensors");
    train_one_epoch("mnist-mlp", &model);
    let (mut network, _) = load_any(&model, None).unwrap();

    // one test digit of each class that the model is sure of as the original 28x28 digit
    let data = embedded_subset().unwrap();
    let sure = network.predict(data.test.inputs.view()).unwrap();
    let images: Vec<(PathBuf, usize)> = (0..10)
        .map(|class| {
            let index = (0..data.test.len())
                .find(|&i| data.test.labels[i] == class && sure[[i, class]] >= 0.9)
                .unwrap_or_else(|| {
                    let best = (0..data.test.len())
                        .filter(|&i| data.test.labels[i] == class)
                        .map(|i| sure[[i, class]])
                        .fold(0.0f32, f32::max);
                    panic!("the trained model is sure of no test digit {class}: best {best}")
                });
            let path = dir.path().join(format!("digit-{class}.png"));
            let label = write_digit_png(&path, index);
            assert_eq!(label, class);
            (path, label)
        })
        .collect();

    let mut args = vec!["classify", "--model", model.to_str().unwrap(), "--json"];
    args.extend(images.iter().map(|(path, _)| path.to_str().unwrap()));
    let lines = stdout_json_lines(&run(&args));
    assert_eq!(lines.len(), images.len());
    let mut recognised = 0;
    for (line, (path, label)) in lines.iter().zip(&images) {
        assert_eq!(line["file"], path.to_str().unwrap(), "{line}");
        let probabilities: Vec<f64> = line["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        assert_eq!(probabilities.len(), 10);
        assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-4);
        let prediction = line["prediction"].as_u64().unwrap() as usize;
        let best = probabilities
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(probabilities[prediction], best);

        // the model's own forward pass on the same file through the library's digit pipeline
        let input = digit_image::from_file(path).unwrap();
        let side = digit_image::SIDE;
        let x = Array2::from_shape_vec((1, side * side), input).unwrap();
        let expected = network.predict(x.view()).unwrap();
        assert_eq!(expected.ncols(), probabilities.len());
        for (p, &e) in probabilities.iter().zip(expected.row(0)) {
            assert!((p - f64::from(e)).abs() < 1e-6, "printed {p}, model {e}");
        }
        if prediction == *label {
            recognised += 1;
        }
    }
    assert!(
        recognised + 1 >= images.len(),
        "{recognised} of {} digits recognised: {lines:?}",
        images.len()
    );

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
        images[0].0.to_str().unwrap(),
    ]);
    assert!(message.contains("28x28"), "{message}");
}

#[test]
fn presets_lists_every_preset_the_library_knows_in_order() {
    let output = run(&["presets"]);
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let listed: Vec<(&str, &str)> = stdout
        .lines()
        .map(|line| {
            let (name, description) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("no description: {line}"));
            (name, description.trim_start())
        })
        .collect();
    let known: Vec<(&str, &str)> = presets().iter().map(|p| (p.name, p.description)).collect();
    assert_eq!(listed, known);
}

#[test]
fn bench_measures_both_mnist_models_over_the_epochs_asked() {
    let message = failure(&["bench", "--epochs", "0"]);
    assert!(message.contains("--epochs must be at least 1"), "{message}");

    let train_samples = embedded_subset().unwrap().train.len() as f64;
    let started = Instant::now();
    let lines = stdout_json_lines(&run(&["bench", "--epochs", "1", "--json"]));
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(lines.len(), 1);
    let report = &lines[0];
    assert_eq!(report["epochs_measured"], 1, "{report}");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(report["threads"], threads, "{report}");
    let rate = |key: &str| {
        let rate = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {report}"));
        assert!(rate.is_finite() && rate > 0.0, "{key} in {report}");
        rate
    };
    let (mlp, cnn) = (rate("mlp_samples_per_s"), rate("cnn_samples_per_s"));
    // each model's measured epoch took train_samples / rate seconds, inside the command's run
    let measured = train_samples / mlp + train_samples / cnn;
    assert!(
        measured < elapsed,
        "the measured epochs took {measured} s of a {elapsed} s run: {report}"
    );
    // the CNN does several times the arithmetic per sample of the MLP
    assert!(cnn < mlp, "{report}");
}

/// Rows `rows` of an embedded split as IDX bytes: pixels (the embedded digits are bytes / 255,
/// so this is exact) and labels.
fn idx_bytes(split: &Split, rows: Range<usize>) -> (Vec<u8>, Vec<u8>) {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for i in rows {
        pixels.extend(
            split
                .inputs
                .row(i)
                .iter()
                .map(|&v| (v * 255.0).round() as u8),
        );
        labels.push(u8::try_from(split.labels[i]).unwrap());
    }
    (pixels, labels)
}

/// Writes the four uncompressed MNIST-format IDX files of (pixels, labels) splits into `dir`.
fn write_mnist_folder(dir: &Path, train: (&[u8], &[u8]), test: (&[u8], &[u8])) {
    let write = |name: &str, magic: u32, dims: &[u32], data: &[u8]| {
        let mut bytes = magic.to_be_bytes().to_vec();
        dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
        bytes.extend_from_slice(data);
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    for (prefix, (pixels, labels)) in [("train", train), ("t10k", test)] {
        let count = labels.len() as u32;
        assert_eq!(pixels.len(), labels.len() * 28 * 28);
        write(
            &format!("{prefix}-images-idx3-ubyte"),
            0x803,
            &[count, 28, 28],
            pixels,
        );
        write(
            &format!("{prefix}-labels-idx1-ubyte"),
            0x801,
            &[count],
            labels,
        );
    }
}

#[test]
fn eval_on_a_folder_counts_its_samples_and_agrees_with_an_evaluation_done_here() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("mlp.safetensors");
    train_one_epoch("mnist-mlp", &model);

    // a folder of 30 training and 263 test digits (more than one evaluation chunk), the test
    // digits from the middle of the embedded test split: not the 1,500 the model was tested on
    let data = embedded_subset().unwrap();
    let (train_pixels, train_labels) = idx_bytes(&data.train, 0..30);
    let (test_pixels, test_labels) = idx_bytes(&data.test, 500..763);
    let folder = dir.path().join("digits");
    std::fs::create_dir(&folder).unwrap();
    write_mnist_folder(
        &folder,
        (&train_pixels[..], &train_labels[..]),
        (&test_pixels[..], &test_labels[..]),
    );

    // the evaluation done here, from the bytes written: the model's recorded loss
    // (cross-entropy) from the logits, and the accuracy
    let (mut network, record) = load_any(&model, None).unwrap();
    let record = record.expect("a training record");
    assert_eq!(record.settings.loss, Loss::CrossEntropy);
    let samples = test_labels.len();
    let inputs = Array2::from_shape_vec(
        (samples, 28 * 28),
        test_pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
    )
    .unwrap();
    let labels: Vec<usize> = test_labels.iter().map(|&l| usize::from(l)).collect();
    let (outputs, z) = logits(&mut network, &inputs);
    let loss = cross_entropy(&z, &labels);
    let hand_accuracy = accuracy(&outputs, &labels);
    assert!(
        hand_accuracy > 0.8,
        "an epoch reads most digits: {hand_accuracy}"
    );

    let (model, folder) = (model.to_str().unwrap(), folder.to_str().unwrap());
    let eval = stdout_json_lines(&run(&[
        "eval", "--model", model, "--data", folder, "--json",
    ]));
    assert_eq!(eval.len(), 1);
    assert_eq!(eval[0]["samples"], samples, "{}", eval[0]);
    assert_close(&eval[0], "loss", loss, 1e-5);
    assert_close(&eval[0], "accuracy", hand_accuracy, 1e-12);

    // the text form reports the same figures and names the folder
    let output = run(&["eval", "--model", model, "--data", folder]);
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let expected = format!(
        "test loss {:.4}, accuracy {:.2}% on {samples} samples of digits",
        eval[0]["loss"].as_f64().unwrap(),
        100.0 * hand_accuracy
    );
    assert!(text.contains(&expected), "{text}\nexpected: {expected}");
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

#[test]
fn step_through_prints_one_object_per_step_with_the_trainers_numbers() {
    let lines = stdout_json_lines(&run(&[
        "step-through",
        "--preset",
        "xor",
        "--sample",
        "2",
        "--steps",
        "3",
        "--optimizer",
        "momentum",
        "--lr",
        "0.5",
        "--json",
    ]));
    assert_eq!(lines.len(), 3);
    // the same steps in-process
    let preset = Preset::named("xor").unwrap();
    let mut config = backprop_lab::train::RunConfig::from_preset(&preset, 42);
    config.settings.optimizer.optimizer = Optimizer::MOMENTUM;
    config.settings.optimizer.learning_rate = 0.5;
    let mut trainer = config.build().unwrap();
    let x = trainer.data().train.inputs.row(2).to_owned();
    let label = trainer.data().train.labels[2];
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(line["step"], k as u64 + 1);
        assert_eq!(line["samples"], serde_json::json!([2]));
        assert_eq!(line["optimizer"]["kind"], "momentum");
        assert_eq!(line["optimizer"]["momentum"].as_f64().unwrap() as f32, 0.9);
        let trace = trainer.trace_sample(x.view(), label, Some(2)).unwrap();
        assert!((line["loss"].as_f64().unwrap() - trace.loss).abs() <= 1e-12);
        let printed = line["layers"][0]["weight_after"][3][1].as_f64().unwrap() as f32;
        assert_eq!(
            printed,
            trace.layers[0].weight_after.as_ref().unwrap()[(3, 1)]
        );
        let velocity = line["layers"][1]["state"]["velocity_weight"][0][2]
            .as_f64()
            .unwrap() as f32;
        let TensorState::Momentum { velocity: expected } =
            &trace.layers[1].state.as_ref().unwrap().weight
        else {
            panic!("momentum's state");
        };
        assert_eq!(velocity, expected[2]);
        if k > 0 {
            // each step starts where the last one ended
            assert_eq!(
                line["layers"][0]["weight_before"],
                lines[k - 1]["layers"][0]["weight_after"]
            );
        }
        trainer.train_sample(x.view(), label).unwrap();
    }

    // without --sample: the run's mini-batches in training order
    let batches = stdout_json_lines(&run(&[
        "step-through",
        "--preset",
        "circle",
        "--steps",
        "2",
        "--json",
    ]));
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0]["samples"].as_array().unwrap().len(), 16);
    assert_ne!(batches[0]["samples"], batches[1]["samples"]);

    // the table without --json names each layer
    let output = run(&["step-through", "--preset", "xor"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Dense(4, tanh)") && text.contains("step 1"),
        "{text}"
    );

    let message = failure(&["step-through", "--preset", "xor", "--sample", "9"]);
    assert!(message.contains("samples 0 to 3"), "{message}");
    let message = failure(&["step-through", "--preset", "xor", "--steps", "0"]);
    assert!(message.contains("--steps"), "{message}");
}

#[test]
fn the_apps_settings_flags_need_a_preset_are_checked_and_are_not_taken_before_a_command() {
    // refused before any window opens
    let message = failure(&["--lr", "1"]);
    assert!(message.contains("need --preset"), "{message}");
    let message = failure(&["--preset", "xor", "--batch-size", "0"]);
    assert!(message.contains("batch size"), "{message}");
    // before a command they would be ignored: clap says so instead
    let output = run(&["--lr", "1", "train", "--preset", "xor", "--epochs", "1"]);
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}
