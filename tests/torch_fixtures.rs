//! The step-through against PyTorch: `tests/fixtures/step_through/*.json` hold what PyTorch
//! computed for the same steps (the network rebuilt from the first step's weights, then trained
//! by torch alone; `scripts/make_step_through_fixtures.sh` makes them). Here the same steps are
//! traced in-process and every loss, activation, gradient, weight after and optimizer state is
//! compared: within 1e-5 for the toy network, 1e-4 of each tensor's largest value for the CNN.

use std::path::{Path, PathBuf};

use backprop_lab::nn::{LayerState, Loss, Optimizer, OptimizerSettings, TensorState};
use backprop_lab::train::{LayerTrace, Preset, RunConfig, StepTrace};
use ndarray::{Array1, Array2};
use serde_json::Value;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/step_through");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the fixtures folder")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// How close the trace must be: an absolute bound (toy), or relative to the tensor's largest
/// absolute value (CNN).
#[derive(Clone, Copy)]
enum Tolerance {
    Absolute(f64),
    Relative(f64),
}

/// The flat values of `found` compared with torch's `expected`: nested lists, or for large
/// tensors a summary with values at given flat indices and the sums.
fn compare(what: &str, found: &[f32], expected: &Value, tolerance: Tolerance) {
    let largest = found.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
    let allowed = match tolerance {
        Tolerance::Absolute(bound) => bound,
        Tolerance::Relative(share) => share * largest.max(1e-30),
    };
    let check = |index: usize, torch: f64| {
        let ours = f64::from(found[index]);
        assert!(
            (ours - torch).abs() <= allowed,
            "{what}[{index}]: ours {ours}, torch {torch} (allowed {allowed:e})"
        );
    };
    if let Some(indices) = expected.get("indices") {
        let values = expected["values"].as_array().expect("values");
        assert_eq!(
            expected["count"].as_u64(),
            Some(found.len() as u64),
            "{what}"
        );
        for (index, value) in indices.as_array().expect("indices").iter().zip(values) {
            check(
                index.as_u64().expect("an index") as usize,
                value.as_f64().expect("a value"),
            );
        }
        let sum: f64 = found.iter().map(|&v| f64::from(v)).sum();
        let abs_sum: f64 = found.iter().map(|&v| f64::from(v.abs())).sum();
        let torch_abs_sum = expected["abs_sum"].as_f64().expect("abs_sum");
        assert!(
            (abs_sum - torch_abs_sum).abs() <= 1e-4 * torch_abs_sum,
            "{what}: sum of |values| {abs_sum} vs {torch_abs_sum}"
        );
        let torch_sum = expected["sum"].as_f64().expect("sum");
        assert!(
            (sum - torch_sum).abs() <= 1e-4 * torch_abs_sum,
            "{what}: sum {sum} vs {torch_sum}"
        );
        return;
    }
    let flat: Vec<f64> = flatten(expected);
    assert_eq!(flat.len(), found.len(), "{what}: number of values");
    for (index, torch) in flat.into_iter().enumerate() {
        check(index, torch);
    }
}

fn flatten(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(flatten).collect(),
        Value::Number(n) => vec![n.as_f64().expect("a number")],
        other => panic!("not a number: {other}"),
    }
}

fn matrix(a: &Array2<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}

fn vector(b: &Array1<f32>) -> Vec<f32> {
    b.to_vec()
}

/// The state tensors of a layer under the names the fixture uses.
fn state_tensors(state: &LayerState) -> Vec<(&'static str, &[f32])> {
    match (&state.weight, &state.bias) {
        (TensorState::Adam { m, v }, TensorState::Adam { m: mb, v: vb }) => vec![
            ("m_weight", m.as_slice()),
            ("v_weight", v.as_slice()),
            ("m_bias", mb.as_slice()),
            ("v_bias", vb.as_slice()),
        ],
        (TensorState::Momentum { velocity }, TensorState::Momentum { velocity: vb }) => vec![
            ("velocity_weight", velocity.as_slice()),
            ("velocity_bias", vb.as_slice()),
        ],
        _ => Vec::new(),
    }
}

fn compare_layer(what: &str, ours: &LayerTrace, torch: &Value, tolerance: Tolerance) {
    let optional = |name: &str, found: Option<Vec<f32>>| match (found, &torch[name]) {
        (Some(found), expected) if !expected.is_null() => {
            compare(&format!("{what} {name}"), &found, expected, tolerance)
        }
        (None, Value::Null) => {}
        (found, expected) => panic!(
            "{what} {name}: ours {}, torch {}",
            if found.is_some() { "has it" } else { "none" },
            if expected.is_null() { "none" } else { "has it" }
        ),
    };
    compare(
        &format!("{what} a"),
        &matrix(&ours.a),
        &torch["a"],
        tolerance,
    );
    compare(
        &format!("{what} grad_a"),
        &matrix(&ours.grad_a),
        &torch["grad_a"],
        tolerance,
    );
    optional("z", ours.z.as_ref().map(matrix));
    optional("grad_z", ours.grad_z.as_ref().map(matrix));
    optional("grad_weight", ours.grad_weight.as_ref().map(matrix));
    optional("grad_bias", ours.grad_bias.as_ref().map(vector));
    optional("weight_after", ours.weight_after.as_ref().map(matrix));
    optional("bias_after", ours.bias_after.as_ref().map(vector));
    if let Some(state) = &ours.state {
        for (name, values) in state_tensors(state) {
            compare(
                &format!("{what} state {name}"),
                values,
                &torch["state"][name],
                tolerance,
            );
        }
    }
}

/// The settings the fixture's first step was made with.
fn optimizer_settings(json: &Value) -> OptimizerSettings {
    let f = |key: &str| json[key].as_f64().map(|v| v as f32);
    let optimizer = match json["kind"].as_str() {
        Some("sgd") => Optimizer::Sgd,
        Some("momentum") => Optimizer::Momentum {
            momentum: f("momentum").expect("momentum"),
        },
        Some("adam") => Optimizer::Adam {
            beta1: f("beta1").expect("beta1"),
            beta2: f("beta2").expect("beta2"),
            epsilon: f("epsilon").expect("epsilon"),
        },
        other => panic!("unknown optimizer {other:?}"),
    };
    OptimizerSettings {
        optimizer,
        learning_rate: f("learning_rate").expect("learning rate"),
        weight_decay: f("weight_decay").unwrap_or(0.0),
    }
}

#[test]
fn every_step_agrees_with_pytorch() {
    let files = fixtures();
    assert!(files.len() >= 26, "24 xor cases, L2, the CNN: {files:?}");
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let preset_name = if name.starts_with("mnist-cnn") {
            "mnist-cnn"
        } else {
            "xor"
        };
        let tolerance = if preset_name == "xor" {
            Tolerance::Absolute(1e-5)
        } else {
            Tolerance::Relative(1e-4)
        };
        let steps = fixture["steps"].as_array().expect("steps");
        let first = &steps[0];
        let preset = Preset::named(preset_name).unwrap();
        let mut config = RunConfig::from_preset(&preset, 42);
        config.settings.loss = match fixture["loss_kind"].as_str() {
            Some("mse") => Loss::Mse,
            Some("cross-entropy") => Loss::CrossEntropy,
            other => panic!("{name}: loss {other:?}"),
        };
        config.settings.optimizer = optimizer_settings(&first["optimizer"]);
        let mut trainer = config.build().unwrap();
        let sample = first["samples"][0].as_u64().expect("a sample") as usize;
        let (x, label) = (
            trainer.data().train.inputs.row(sample).to_owned(),
            trainer.data().train.labels[sample],
        );
        for (k, torch) in steps.iter().enumerate() {
            let trace: StepTrace = trainer.trace_sample(x.view(), label, Some(sample)).unwrap();
            let what = format!("{name} step {}", k + 1);
            let torch_loss = torch["loss_f64"].as_f64().expect("loss");
            assert!(
                (trace.loss - torch_loss).abs() <= 1e-5 * torch_loss.abs().max(1.0),
                "{what}: loss {} vs torch {torch_loss}",
                trace.loss
            );
            let layers = torch["layers"].as_array().expect("layers");
            assert_eq!(layers.len(), trace.layers.len(), "{what}");
            for (i, (ours, theirs)) in trace.layers.iter().zip(layers).enumerate() {
                compare_layer(&format!("{what} layer {i}"), ours, theirs, tolerance);
            }
            trainer.train_sample(x.view(), label).unwrap();
        }
    }
}
