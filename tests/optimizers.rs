//! Optimizer updates against golden values computed independently (Python, float64, written
//! straight from the update formulas), three steps each on a weight vector and a bias.

use backprop_lab::nn::{
    Activation, LayerSpec, Network, Optimizer, OptimizerSettings, OptimizerState, Shape,
    TensorState,
};
use ndarray::{Array1, Array2, array};

const GRAD_WEIGHT: [[f32; 3]; 3] = [[0.1, -0.2, 0.3], [-0.05, 0.4, 0.0], [0.2, 0.2, -0.1]];
const GRAD_BIAS: [f32; 3] = [0.5, -0.5, 0.25];

/// One dense unit on three inputs: weight [1, 3] = [0.5, -1, 2], bias [1] = [0.1].
fn network() -> Network {
    let specs = [LayerSpec::Dense {
        units: 1,
        activation: Activation::Linear,
    }];
    let params = (array![[0.5f32, -1.0, 2.0]], array![0.1f32]);
    Network::with_params(Shape::flat(3), &specs, std::iter::once(params)).expect("shapes fit")
}

/// Runs the three fixed gradient steps; returns (weight, bias).
fn run(settings: OptimizerSettings) -> (Array2<f32>, Array1<f32>) {
    let mut network = network();
    let mut state = OptimizerState::new(settings.optimizer, &network);
    for (gw, gb) in GRAD_WEIGHT.iter().zip(GRAD_BIAS) {
        let params = network.params_mut().next().expect("one layer");
        params
            .grad_weight
            .assign(&Array2::from_shape_vec((1, 3), gw.to_vec()).expect("1x3"));
        params.grad_bias.fill(gb);
        state.step(&settings, &mut network);
    }
    assert_eq!(state.t(), 3);
    let params = network.params().next().expect("one layer");
    (params.weight.clone(), params.bias.clone())
}

fn assert_close(found: &[f32], expected: &[f64]) {
    for (f, e) in found.iter().zip(expected) {
        let tolerance = 1e-6 * e.abs().max(1.0);
        assert!(
            (f64::from(*f) - e).abs() <= tolerance,
            "found {found:?}, expected {expected:?}"
        );
    }
}

fn settings(optimizer: Optimizer, learning_rate: f32, weight_decay: f32) -> OptimizerSettings {
    OptimizerSettings {
        optimizer,
        learning_rate,
        weight_decay,
    }
}

#[test]
fn sgd_matches_golden_values() {
    let (w, b) = run(settings(Optimizer::Sgd, 0.1, 0.0));
    assert_close(w.as_slice().unwrap(), &[0.475, -1.04, 1.98]);
    assert_close(b.as_slice().unwrap(), &[0.075]);
}

#[test]
fn sgd_with_l2_decays_weights_but_not_biases() {
    let (w, b) = run(settings(Optimizer::Sgd, 0.1, 0.01));
    assert_close(
        w.as_slice().unwrap(),
        &[0.4735164895, -1.037002979, 1.974065968],
    );
    assert_close(b.as_slice().unwrap(), &[0.075]);
}

#[test]
fn momentum_matches_golden_values() {
    let (w, b) = run(settings(Optimizer::MOMENTUM, 0.1, 0.01));
    assert_close(
        w.as_slice().unwrap(),
        &[0.4596303895, -1.036230779, 1.917603568],
    );
    assert_close(b.as_slice().unwrap(), &[0.0345]);
}

#[test]
fn adam_matches_golden_values() {
    let (w, b) = run(settings(Optimizer::ADAM, 0.01, 0.0));
    assert_close(
        w.as_slice().unwrap(),
        &[0.4807555154351381, -0.9988534436331662, 1.9804080646349276],
    );
    assert_close(b.as_slice().unwrap(), &[0.08877906067738801]);
}

#[test]
fn adam_with_l2_matches_golden_values() {
    let (w, b) = run(settings(Optimizer::ADAM, 0.01, 0.1));
    assert_close(
        w.as_slice().unwrap(),
        &[0.4752235505715115, -0.9924286564217549, 1.9730478188966403],
    );
    assert_close(b.as_slice().unwrap(), &[0.08877906067738801]);
}

/// Adam's m of layer 0's weight.
fn adam_m(state: &OptimizerState) -> Vec<f32> {
    match &state.layer(0).expect("layer 0 has parameters").weight {
        TensorState::Adam { m, .. } => m.clone(),
        other => panic!("expected Adam's state, found {other:?}"),
    }
}

#[test]
fn a_new_learning_rate_keeps_the_state_and_another_kind_is_refused() {
    let mut network = network();
    let mut state = OptimizerState::new(Optimizer::ADAM, &network);
    network.params_mut().next().unwrap().grad_weight.fill(0.1);
    state.step(&settings(Optimizer::ADAM, 0.01, 0.0), &mut network);
    assert_eq!(state.t(), 1);
    assert!(adam_m(&state).iter().all(|&m| (m - 0.01).abs() < 1e-7));
    // Same kind, other learning rate: the moments carry on.
    state.step(&settings(Optimizer::ADAM, 0.001, 0.0), &mut network);
    assert_eq!(state.t(), 2);
    assert!(adam_m(&state).iter().all(|&m| (m - 0.019).abs() < 1e-6));
    // Another kind: the state says it does not fit; its owner must make a new one.
    let error = state
        .check(Optimizer::Sgd, &network)
        .expect_err("Adam's state cannot run SGD");
    assert!(error.to_string().contains("Adam"), "{error}");
    assert!(state.check(Optimizer::ADAM, &network).is_ok());
    let refused = std::panic::catch_unwind(move || {
        state.step(&settings(Optimizer::Sgd, 0.01, 0.0), &mut network)
    });
    assert!(refused.is_err(), "a silent switch of kind");
}

#[test]
fn the_state_is_per_layer_with_the_names_of_the_math_and_round_trips_through_json() {
    let specs = [
        LayerSpec::Dense {
            units: 3,
            activation: Activation::Tanh,
        },
        LayerSpec::Dropout { rate: 0.1 },
        LayerSpec::Dense {
            units: 2,
            activation: Activation::Linear,
        },
    ];
    let mut network =
        Network::new(Shape::flat(4), &specs, &mut backprop_lab::nn::seeded_rng(1)).unwrap();
    for (optimizer, kind) in [
        (Optimizer::Sgd, "sgd"),
        (Optimizer::MOMENTUM, "momentum"),
        (Optimizer::ADAM, "adam"),
    ] {
        let mut state = OptimizerState::new(optimizer, &network);
        for params in network.params_mut() {
            params.grad_weight.fill(0.5);
            params.grad_bias.fill(-0.25);
        }
        state.step(&settings(optimizer, 0.1, 0.0), &mut network);
        assert!(state.layer(1).is_none(), "dropout has no state");
        let json = serde_json::to_value(&state).unwrap();
        let layer = &json["layers"][2];
        assert_eq!(layer["weight"]["kind"], kind, "{json}");
        match optimizer {
            Optimizer::Sgd => {}
            Optimizer::Momentum { .. } => {
                // v = g after one step
                assert_eq!(layer["weight"]["velocity"].as_array().unwrap().len(), 6);
                assert_eq!(layer["bias"]["velocity"][0], -0.25);
            }
            Optimizer::Adam { .. } => {
                assert_eq!(layer["weight"]["m"].as_array().unwrap().len(), 6);
                assert_eq!(layer["weight"]["v"].as_array().unwrap().len(), 6);
            }
        }
        assert_eq!(json["t"], 1);
        let back: OptimizerState = serde_json::from_value(json).unwrap();
        assert_eq!(back, state);
        assert!(back.check(optimizer, &network).is_ok());
    }
}

#[test]
fn moments_that_decay_to_subnormal_values_are_flushed_to_zero() {
    let adam = settings(Optimizer::ADAM, 0.01, 0.0);
    let mut network = network();
    let mut state = OptimizerState::new(Optimizer::ADAM, &network);
    network.params_mut().next().unwrap().grad_weight.fill(1e-20);
    state.step(&adam, &mut network);
    network.params_mut().next().unwrap().grad_weight.fill(0.0);
    for _ in 0..2000 {
        state.step(&adam, &mut network);
    }
    let TensorState::Adam { m, v } = &state.layer(0).unwrap().weight else {
        panic!("Adam's state");
    };
    for &value in m.iter().chain(v) {
        assert!(
            value == 0.0 || value.is_normal(),
            "subnormal moment {value:e}"
        );
    }
}

#[test]
fn invalid_settings_are_refused_with_the_reason() {
    let bad = [
        (settings(Optimizer::Sgd, 0.0, 0.0), "learning rate"),
        (settings(Optimizer::Sgd, f32::NAN, 0.0), "learning rate"),
        (settings(Optimizer::Sgd, 0.1, -1.0), "weight decay"),
        (
            settings(Optimizer::Momentum { momentum: 1.5 }, 0.1, 0.0),
            "momentum",
        ),
        (
            settings(
                Optimizer::Adam {
                    beta1: 0.9,
                    beta2: 1.0,
                    epsilon: 1e-8,
                },
                0.1,
                0.0,
            ),
            "betas",
        ),
    ];
    for (settings, word) in bad {
        let error = settings.validate().expect_err("invalid");
        assert!(error.contains(word), "{error}");
    }
    assert!(settings(Optimizer::ADAM, 1e-3, 1e-4).validate().is_ok());
}
