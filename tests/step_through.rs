//! The step-through's record of one training step: the phases run on copies give the numbers
//! `train_batch` gives, bit for bit; recording changes nothing in the run; the finite-difference
//! check agrees with the analytic gradient; the JSON has every field in the documented layout.

use backprop_lab::io::trace_json::trace_json;
use backprop_lab::nn::{Loss, Optimizer, TensorState};
use backprop_lab::train::{Preset, RunConfig, StepTrace, Trainer};
use serde_json::Value;

fn trainer(name: &str, loss: Loss, optimizer: Optimizer) -> Trainer {
    let preset = Preset::named(name).expect("preset exists");
    let mut config = RunConfig::from_preset(&preset, 42);
    config.settings.loss = loss;
    config.settings.optimizer.optimizer = optimizer;
    config.build().expect("trainer builds")
}

fn bits(values: impl IntoIterator<Item = f32>) -> Vec<u32> {
    values.into_iter().map(f32::to_bits).collect()
}

fn weights(trainer: &Trainer) -> Vec<u32> {
    bits(
        trainer
            .network()
            .params()
            .flat_map(|p| p.weight.iter().chain(&p.bias).copied().collect::<Vec<_>>()),
    )
}

/// The trace's weights after the update, in the same order as [`weights`].
fn traced_weights(trace: &StepTrace) -> Vec<u32> {
    bits(trace.layers.iter().flat_map(|l| {
        let mut values: Vec<f32> = Vec::new();
        if let (Some(w), Some(b)) = (&l.weight_after, &l.bias_after) {
            values.extend(w.iter().chain(b));
        }
        values
    }))
}

/// circle with a dropout layer and L2: dropout draws from the trainer's generator, so a trace
/// that used another generator, or consumed it, would differ.
fn dropout_trainer(loss: Loss, optimizer: Optimizer) -> Trainer {
    let preset = Preset::named("circle").unwrap();
    let mut config = RunConfig::from_preset(&preset, 42);
    config
        .layers
        .insert(1, backprop_lab::nn::LayerSpec::Dropout { rate: 0.4 });
    config.settings.loss = loss;
    config.settings.optimizer.optimizer = optimizer;
    config.settings.optimizer.weight_decay = 0.01;
    config.build().unwrap()
}

#[test]
fn the_recorded_phases_equal_train_batch_bit_for_bit_and_change_nothing() {
    for name in [
        "xor",
        "spiral",
        "mnist-mlp",
        "mnist-cnn",
        "circle with dropout",
    ] {
        for loss in Loss::ALL {
            for optimizer in [Optimizer::Sgd, Optimizer::MOMENTUM, Optimizer::ADAM] {
                let what = format!("{name} {} {}", loss.name(), optimizer.name());
                let make = || match name {
                    "circle with dropout" => dropout_trainer(loss, optimizer),
                    _ => trainer(name, loss, optimizer),
                };
                let mut stepped = make();
                let mut plain = make();
                // a step first, so that momentum and Adam carry state into the traced one
                stepped.train_batch().unwrap();
                plain.train_batch().unwrap();
                let before = weights(&stepped);
                let trace = stepped.trace_next_batch().unwrap();
                assert_eq!(
                    weights(&stepped),
                    before,
                    "{what}: recording changed the run"
                );
                assert_eq!(trace.step, 2);
                assert_eq!(
                    trace.samples.as_deref(),
                    Some(stepped.next_batch_rows()),
                    "{what}"
                );
                // finishing "the next batch" is exactly a Step
                let report = stepped.train_batch().unwrap();
                assert_eq!(report.loss.to_bits(), trace.loss.to_bits(), "{what}: loss");
                assert_eq!(traced_weights(&trace), weights(&stepped), "{what}: weights");
                assert_eq!(trace.t, stepped.optimizer_state().t(), "{what}: t");
                for (i, layer) in trace.layers.iter().enumerate() {
                    assert_eq!(
                        layer.state.as_ref(),
                        stepped.optimizer_state().layer(i),
                        "{what}: optimizer state of layer {i}"
                    );
                }
                // and the run goes on as one that never stepped through
                plain.train_batch().unwrap();
                for _ in 0..3 {
                    assert_eq!(
                        stepped.train_batch().unwrap().loss.to_bits(),
                        plain.train_batch().unwrap().loss.to_bits(),
                        "{what}: later losses"
                    );
                }
                assert_eq!(weights(&stepped), weights(&plain), "{what}: later weights");
            }
        }
    }
}

#[test]
fn a_sample_traced_then_trained_alone_gives_the_same_numbers() {
    let mut t = trainer("xor", Loss::CrossEntropy, Optimizer::ADAM);
    let (x, label) = (
        t.data().train.inputs.row(2).to_owned(),
        t.data().train.labels[2],
    );
    let trace = t.trace_sample(x.view(), label, Some(2)).unwrap();
    assert_eq!(trace.targets.dim(), (1, 1));
    assert_eq!(trace.targets[(0, 0)], label as f32);
    let epoch_progress = t.epoch_progress();
    let report = t.train_sample(x.view(), label).unwrap();
    assert_eq!(report.loss.to_bits(), trace.loss.to_bits());
    assert_eq!(traced_weights(&trace), weights(&t));
    assert_eq!(t.step(), 1, "a manual step counts");
    assert_eq!(
        t.epoch_progress(),
        epoch_progress,
        "but is not part of the epoch"
    );
    // after the update the loss on the same sample is the one the trace computed
    let after = t.trace_sample(x.view(), label, Some(2)).unwrap();
    assert_eq!(after.loss.to_bits(), trace.loss_after.to_bits());
    assert!(
        trace.loss_after < trace.loss,
        "one Adam step on one sample lowers its loss"
    );

    // a sample that does not fit, or a class that does not exist, is refused
    let error = t
        .trace_sample(ndarray::Array1::zeros(3).view(), 0, None)
        .unwrap_err();
    assert!(error.to_string().contains("2 finite values"), "{error}");
    let error = t.trace_sample(x.view(), 7, None).unwrap_err();
    assert!(error.to_string().contains("class 7"), "{error}");
}

#[test]
fn the_finite_difference_check_agrees_with_the_analytic_gradient() {
    // a batch of one: with 32 samples some ReLU unit sits within h of its kink, where a
    // difference quotient measures the kink, not the gradient
    for name in ["xor", "mnist-cnn"] {
        let t = trainer(name, Loss::CrossEntropy, Optimizer::ADAM);
        let x = t.data().train.inputs.row(1).to_owned();
        let trace = t
            .trace_sample(x.view(), t.data().train.labels[1], Some(1))
            .unwrap();
        for (layer, record) in trace.layers.iter().enumerate() {
            let Some(grad) = &record.grad_weight else {
                continue;
            };
            // the weight with the largest gradient, and one in the middle
            let largest = grad
                .indexed_iter()
                .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
                .map(|(at, _)| at)
                .unwrap();
            for (row, col) in [largest, (grad.nrows() / 2, grad.ncols() / 2)] {
                let numeric = trace.numeric_gradient(layer, row, col).unwrap();
                let analytic = f64::from(grad[(row, col)]);
                let allowed = 2e-3 * analytic.abs().max(numeric.abs()) + 5e-4;
                assert!(
                    (numeric - analytic).abs() <= allowed,
                    "{name} layer {layer} W[{row}, {col}]: numeric {numeric}, analytic {analytic}"
                );
            }
        }
        assert!(trace.numeric_gradient(99, 0, 0).is_none());
    }
}

#[test]
fn switching_the_loss_records_the_same_step_with_the_other_loss() {
    let t = trainer("xor", Loss::CrossEntropy, Optimizer::Sgd);
    let trace = t.trace_next_batch().unwrap();
    let mse = trace.with_loss(Loss::Mse).unwrap();
    assert_eq!(mse.settings.loss, Loss::Mse);
    let a = mse.output();
    let y = &mse.targets;
    let expected: f64 = a
        .iter()
        .zip(y)
        .map(|(a, y)| f64::from(a - y).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    assert!((mse.loss - expected).abs() < 1e-9);
    // the forward pass is the same, the gradients are not
    assert_eq!(mse.output(), trace.output());
    assert_ne!(mse.layers[1].grad_z, trace.layers[1].grad_z);
}

fn matrix(value: &Value) -> Vec<Vec<f64>> {
    value
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("a row")
                .iter()
                .map(|v| v.as_f64().expect("a number"))
                .collect()
        })
        .collect()
}

#[test]
fn the_json_trace_has_every_field_in_the_documented_layout() {
    let t = trainer("mnist-cnn", Loss::CrossEntropy, Optimizer::ADAM);
    let x = t.data().train.inputs.row(0).to_owned();
    let trace = t
        .trace_sample(x.view(), t.data().train.labels[0], Some(0))
        .unwrap();
    let json: Value = serde_json::from_str(&trace_json(&trace)).unwrap();
    assert_eq!(json["step"], 1);
    assert_eq!(json["samples"], serde_json::json!([0]));
    assert_eq!(json["loss_kind"], "cross-entropy");
    assert_eq!(json["optimizer"]["kind"], "adam");
    assert_eq!(json["optimizer"]["beta2"].as_f64().unwrap() as f32, 0.999);
    assert_eq!(json["input_shape"], serde_json::json!([28, 28, 1]));
    assert_eq!(
        json["loss"].as_f64().unwrap().to_bits(),
        trace.loss.to_bits()
    );
    let layers = json["layers"].as_array().unwrap();
    let types: Vec<&str> = layers.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["conv2d", "max_pool2d", "flatten", "dense", "dense"]);
    // conv: weight [filters][k*k*in_channels], activations [batch][26*26*32]
    let conv = &layers[0];
    assert_eq!(conv["filters"], 32);
    assert_eq!(conv["kernel"], 3);
    let weight = matrix(&conv["weight_after"]);
    assert_eq!((weight.len(), weight[0].len()), (32, 9));
    assert_eq!(matrix(&conv["a"])[0].len(), 26 * 26 * 32);
    assert_eq!(matrix(&conv["input"])[0].len(), 784);
    // every number is the trainer's own, as f32 written exactly
    let record = &trace.layers[0];
    let w = record.weight_after.as_ref().unwrap();
    assert_eq!(weight[5][7] as f32, w[(5, 7)]);
    assert_eq!(
        matrix(&conv["grad_weight"])[3][2] as f32,
        record.grad_weight.as_ref().unwrap()[(3, 2)]
    );
    let TensorState::Adam { m, v } = &record.state.as_ref().unwrap().weight else {
        panic!("Adam's state");
    };
    assert_eq!(conv["state"]["t"], 1);
    assert_eq!(matrix(&conv["state"]["m_weight"])[1][4] as f32, m[9 + 4]);
    assert_eq!(matrix(&conv["state"]["v_weight"])[1][4] as f32, v[9 + 4]);
    // layers without parameters: null weights, empty state
    let pool = &layers[1];
    assert!(pool["weight_before"].is_null() && pool["z"].is_null());
    assert_eq!(pool["size"], 2);
    assert_eq!(pool["state"], serde_json::json!({}));
    // the output layer: softmax over 10 classes, the one-hot target
    let output = &layers[4];
    assert_eq!(output["activation"], "softmax");
    let probabilities = matrix(&output["a"]);
    assert!((probabilities[0].iter().sum::<f64>() - 1.0).abs() < 1e-5);
    let targets = matrix(&json["targets"]);
    assert_eq!(targets[0][t.data().train.labels[0]], 1.0);
    assert_eq!(targets[0].iter().sum::<f64>(), 1.0);
}
