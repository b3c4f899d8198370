//! What the layers do beyond their gradients: dropout's mask and scale, the initialisation
//! limits, pooling windows of every size, and the optimizer's parallel path for large tensors.

use backprop_lab::nn::{
    Activation, LayerSpec, Network, Optimizer, OptimizerSettings, OptimizerState, Padding, Shape,
    seeded_rng,
};
use ndarray::Array2;
use rand::Rng as _;

fn dense(units: usize, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { units, activation }
}

#[test]
fn dropout_zeroes_about_rate_of_the_values_and_scales_the_rest_to_keep_the_mean() {
    const N: usize = 200_000;
    for rate in [0.2f32, 0.5, 0.8] {
        let mut network = Network::new(
            Shape::flat(N),
            &[LayerSpec::Dropout { rate }],
            &mut seeded_rng(0),
        )
        .expect("valid network");
        let x = Array2::from_elem((1, N), 3.0f32);
        let out = network
            .forward(x.view(), Some(&mut seeded_rng(11)))
            .expect("input fits")
            .clone();
        let zeroed = out.iter().filter(|&&v| v == 0.0).count();
        let kept_value = 3.0 / (1.0 - rate);
        // every value is either dropped or kept scaled by 1 / (1 - rate)
        assert!(
            out.iter()
                .all(|&v| v == 0.0 || (v - kept_value).abs() <= 1e-6 * kept_value),
            "rate {rate}: a value that is neither 0 nor {kept_value}"
        );
        // the share dropped is rate, within 5 binomial standard deviations
        let share = zeroed as f64 / N as f64;
        let sigma = (f64::from(rate) * (1.0 - f64::from(rate)) / N as f64).sqrt();
        assert!(
            (share - f64::from(rate)).abs() < 5.0 * sigma,
            "rate {rate}: dropped {share}"
        );
        // so the mean is kept
        let mean = out.iter().map(|&v| f64::from(v)).sum::<f64>() / N as f64;
        assert!((mean - 3.0).abs() < 0.03, "rate {rate}: mean {mean}");

        // inference: the identity, bit for bit
        let inference = network.forward(x.view(), None).expect("input fits");
        assert_eq!(inference, &x);
    }
}

#[test]
fn dropout_masks_differ_between_batches() {
    let mut network = Network::new(
        Shape::flat(1000),
        &[LayerSpec::Dropout { rate: 0.5 }],
        &mut seeded_rng(0),
    )
    .expect("valid network");
    let x = Array2::from_elem((1, 1000), 1.0f32);
    let mut rng = seeded_rng(5);
    let first = network.forward(x.view(), Some(&mut rng)).unwrap().clone();
    let second = network.forward(x.view(), Some(&mut rng)).unwrap().clone();
    assert_ne!(first, second);
}

/// The largest |w| and the limit every weight of `network`'s parameter tensor `index` must stay
/// under; also checks that biases start at zero.
fn weight_extent(network: &Network, index: usize) -> f32 {
    let params = network.params().nth(index).expect("tensor exists");
    assert!(
        params.bias.iter().all(|&b| b == 0.0),
        "biases start at zero"
    );
    params.weight.iter().fold(0.0f32, |m, w| m.max(w.abs()))
}

/// Asserts that the weights fill (-limit, limit): none outside, and the largest close to it.
fn assert_uniform_within(largest: f32, limit: f64, what: &str) {
    let limit = limit as f32;
    assert!(largest < limit, "{what}: |w| {largest} >= limit {limit}");
    assert!(
        largest > 0.97 * limit,
        "{what}: largest |w| {largest} is far below the limit {limit}"
    );
}

#[test]
fn initial_weights_use_he_for_relu_and_glorot_otherwise() {
    // dense 300 -> 200 (relu) -> 50 (tanh) -> 10 (softmax)
    let specs = [
        dense(200, Activation::Relu),
        dense(50, Activation::Tanh),
        dense(10, Activation::Softmax),
    ];
    let network = Network::new(Shape::flat(300), &specs, &mut seeded_rng(3)).unwrap();
    assert_uniform_within(weight_extent(&network, 0), (6.0f64 / 300.0).sqrt(), "He");
    assert_uniform_within(
        weight_extent(&network, 1),
        (6.0f64 / (200.0 + 50.0)).sqrt(),
        "Glorot tanh",
    );
    assert_uniform_within(
        weight_extent(&network, 2),
        (6.0f64 / (50.0 + 10.0)).sqrt(),
        "Glorot softmax",
    );

    // convolutions: fan_in = k*k*in_channels, fan_out = k*k*filters
    let specs = [
        LayerSpec::Conv2d {
            filters: 16,
            kernel: 5,
            padding: Padding::Same,
            activation: Activation::Relu,
        },
        LayerSpec::Conv2d {
            filters: 8,
            kernel: 3,
            padding: Padding::Valid,
            activation: Activation::Sigmoid,
        },
    ];
    let network = Network::new(Shape::image(12, 12, 3), &specs, &mut seeded_rng(4)).unwrap();
    assert_uniform_within(
        weight_extent(&network, 0),
        (6.0f64 / (5.0 * 5.0 * 3.0)).sqrt(),
        "He conv",
    );
    assert_uniform_within(
        weight_extent(&network, 1),
        (6.0f64 / (3.0 * 3.0 * 16.0 + 3.0 * 3.0 * 8.0)).sqrt(),
        "Glorot conv",
    );
    // the weights are centred: their mean is near zero
    let weights = &network.params().next().unwrap().weight;
    let mean = weights.iter().map(|&w| f64::from(w)).sum::<f64>() / weights.len() as f64;
    assert!(mean.abs() < 0.02, "mean {mean}");
}

/// Max pooling written the obvious way: x [height, width, channels] channels-last.
fn naive_pool(x: &[f32], input: Shape, size: usize) -> Vec<f32> {
    let (oh, ow) = (input.height / size, input.width / size);
    let mut out = Vec::new();
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..input.channels {
                let mut best = f32::NEG_INFINITY;
                for dy in 0..size {
                    for dx in 0..size {
                        let (y, x_) = (oy * size + dy, ox * size + dx);
                        best = best.max(x[(y * input.width + x_) * input.channels + c]);
                    }
                }
                out.push(best);
            }
        }
    }
    out
}

#[test]
fn max_pooling_of_every_size_takes_each_windows_maximum() {
    let mut rng = seeded_rng(9);
    for (size, input) in [
        (1, Shape::image(4, 3, 2)),
        (2, Shape::image(6, 5, 3)),
        (3, Shape::image(7, 9, 2)),
        (4, Shape::image(9, 8, 1)),
    ] {
        let mut network =
            Network::new(input, &[LayerSpec::MaxPool2d { size }], &mut seeded_rng(0)).unwrap();
        assert_eq!(
            network.output_shape(),
            Shape::image(input.height / size, input.width / size, input.channels)
        );
        let x = Array2::from_shape_simple_fn((2, input.len()), || rng.random_range(-1.0..1.0));
        let out = network.forward(x.view(), None).unwrap().clone();
        for (row, out_row) in x.rows().into_iter().zip(out.rows()) {
            let expected = naive_pool(row.as_slice().unwrap(), input, size);
            assert_eq!(out_row.to_vec(), expected, "pool {size} on {input}");
        }
    }
}

/// One update of `w` element by element, straight from the formulas (the serial reference).
/// `first` and `second` hold velocity, or m and v.
#[allow(clippy::too_many_arguments)]
fn reference_update(
    settings: &OptimizerSettings,
    t: i32,
    w: &mut [f32],
    g: &[f32],
    decay: f32,
    first: &mut [f32],
    second: &mut [f32],
) {
    let lr = settings.learning_rate;
    for i in 0..w.len() {
        match settings.optimizer {
            Optimizer::Sgd => w[i] -= lr * (g[i] + decay * w[i]),
            Optimizer::Momentum { momentum } => {
                first[i] = momentum * first[i] + g[i] + decay * w[i];
                w[i] -= lr * first[i];
            }
            Optimizer::Adam {
                beta1,
                beta2,
                epsilon,
            } => {
                let correction1 = (1.0 - f64::from(beta1).powi(t)) as f32;
                let correction2 = (1.0 - f64::from(beta2).powi(t)) as f32;
                let g = g[i] + decay * w[i];
                first[i] = beta1 * first[i] + (1.0 - beta1) * g;
                second[i] = beta2 * second[i] + (1.0 - beta2) * g * g;
                w[i] -=
                    lr * (first[i] / correction1) / ((second[i] / correction2).sqrt() + epsilon);
            }
        }
    }
}

#[test]
fn large_tensors_get_the_same_update_as_the_serial_rule_element_by_element() {
    // 250 units x 301 inputs = 75,250 weights: two full chunks of 32,768 and a ragged tail
    let specs = [dense(250, Activation::Tanh)];
    for optimizer in [Optimizer::Sgd, Optimizer::MOMENTUM, Optimizer::ADAM] {
        let settings = OptimizerSettings {
            optimizer,
            learning_rate: 0.01,
            weight_decay: 0.001,
        };
        let mut network = Network::new(Shape::flat(301), &specs, &mut seeded_rng(1)).unwrap();
        let mut state = OptimizerState::new(optimizer, &network);
        let mut w = network
            .params()
            .next()
            .unwrap()
            .weight
            .as_slice()
            .unwrap()
            .to_vec();
        assert!(w.len() > 2 * 32_768 && !w.len().is_multiple_of(32_768));
        let mut b = network.params().next().unwrap().bias.to_vec();
        let (mut first_w, mut second_w) = (vec![0.0; w.len()], vec![0.0; w.len()]);
        let (mut first_b, mut second_b) = (vec![0.0; b.len()], vec![0.0; b.len()]);
        let mut rng = seeded_rng(2);
        for t in 1..=3 {
            let params = network.params_mut().next().unwrap();
            params
                .grad_weight
                .mapv_inplace(|_| rng.random_range(-1.0..1.0));
            params
                .grad_bias
                .mapv_inplace(|_| rng.random_range(-1.0..1.0));
            let gw = params.grad_weight.as_slice().unwrap().to_vec();
            let gb = params.grad_bias.to_vec();
            state.step(&settings, &mut network);
            reference_update(
                &settings,
                t,
                &mut w,
                &gw,
                0.001,
                &mut first_w,
                &mut second_w,
            );
            reference_update(&settings, t, &mut b, &gb, 0.0, &mut first_b, &mut second_b);
            let params = network.params().next().unwrap();
            let found = params.weight.as_slice().unwrap();
            for (i, (found, expected)) in found.iter().zip(&w).enumerate() {
                assert_eq!(
                    found.to_bits(),
                    expected.to_bits(),
                    "{} step {t}: weight {i} of {}: {found} vs {expected}",
                    optimizer.name(),
                    w.len()
                );
            }
            assert_eq!(
                params.bias.to_vec(),
                b,
                "{} step {t}: bias",
                optimizer.name()
            );
        }
    }
}
