//! Every layer, activation and loss checked against central finite differences.
//!
//! The network computes in f32, so the numeric derivative (L(w + h) - L(w - h)) / 2h carries the
//! loss's rounding error (~1e-7 relative) divided by 2h. With h = 1e-3 that is ~5e-5 absolute,
//! plus O(h^2) truncation. Every analytic gradient element must satisfy
//! |analytic - numeric| <= 1e-3 * max(|analytic|, |numeric|) + 2e-4,
//! and to be sure the check compares something the gradients must not all be tiny.

use backprop_lab::nn::{Activation, LayerSpec, Loss, Network, Padding, Shape, seeded_rng};
use ndarray::{Array2, ArrayView2};
use rand::Rng as _;

const H: f32 = 1e-3;
const RELATIVE_TOLERANCE: f32 = 1e-3;
const ABSOLUTE_TOLERANCE: f32 = 2e-4;
const BATCH: usize = 3;

/// Targets that fit the output activation: one-hot rows for softmax, values in (0, 1) for
/// sigmoid (soft labels exercise both terms of binary cross-entropy), anything otherwise.
fn targets(activation: Activation, outputs: usize, rng: &mut backprop_lab::nn::Rng) -> Array2<f32> {
    match activation {
        Activation::Softmax => {
            let mut y = Array2::zeros((BATCH, outputs));
            for mut row in y.rows_mut() {
                row[rng.random_range(0..outputs)] = 1.0;
            }
            y
        }
        Activation::Sigmoid => {
            Array2::from_shape_simple_fn((BATCH, outputs), || rng.random_range(0.05..0.95))
        }
        _ => Array2::from_shape_simple_fn((BATCH, outputs), || rng.random_range(-1.0..1.0)),
    }
}

fn loss_at(
    network: &mut Network,
    x: ArrayView2<f32>,
    y: ArrayView2<f32>,
    loss: Loss,
    dropout_seed: u64,
) -> f64 {
    network
        .forward(x, Some(&mut seeded_rng(dropout_seed)))
        .expect("input fits");
    network.loss(loss, y).expect("targets fit")
}

/// Checks every parameter gradient of `specs` on `input` with `loss`; returns how many values
/// were compared.
fn check(input: Shape, specs: &[LayerSpec], loss: Loss, seed: u64) -> usize {
    check_with_targets(input, specs, loss, seed, targets)
}

/// [`check`] with targets [BATCH, outputs] from `make_targets(output activation, outputs, rng)`.
fn check_with_targets(
    input: Shape,
    specs: &[LayerSpec],
    loss: Loss,
    seed: u64,
    make_targets: impl Fn(Activation, usize, &mut backprop_lab::nn::Rng) -> Array2<f32>,
) -> usize {
    let mut rng = seeded_rng(seed);
    let mut network = Network::new(input, specs, &mut rng).expect("valid network");
    for params in network.params_mut() {
        params.bias.mapv_inplace(|_| rng.random_range(-0.3..0.3));
    }
    let x = Array2::from_shape_simple_fn((BATCH, input.len()), || rng.random_range(-1.0..1.0));
    let y = make_targets(
        network.output_activation(),
        network.output_shape().len(),
        &mut rng,
    );
    let dropout_seed = seed + 1000;

    network
        .forward(x.view(), Some(&mut seeded_rng(dropout_seed)))
        .expect("input fits");
    network.backward(loss, y.view()).expect("targets fit");
    let analytic: Vec<(Array2<f32>, Vec<f32>)> = network
        .params()
        .map(|p| (p.grad_weight.clone(), p.grad_bias.to_vec()))
        .collect();

    let mut compared = 0;
    let mut largest = 0.0f32;
    let describe = specs
        .iter()
        .map(LayerSpec::describe)
        .collect::<Vec<_>>()
        .join(" -> ");
    for (tensor, (grad_weight, grad_bias)) in analytic.iter().enumerate() {
        let counts = [grad_weight.len(), grad_bias.len()];
        for (part, &count) in counts.iter().enumerate() {
            for i in 0..count {
                let perturb = |delta: f32, network: &mut Network| {
                    let params = network.params_mut().nth(tensor).expect("tensor exists");
                    let values = if part == 0 {
                        params.weight.as_slice_mut().expect("contiguous")
                    } else {
                        params.bias.as_slice_mut().expect("contiguous")
                    };
                    values[i] += delta;
                };
                perturb(H, &mut network);
                let plus = loss_at(&mut network, x.view(), y.view(), loss, dropout_seed);
                perturb(-2.0 * H, &mut network);
                let minus = loss_at(&mut network, x.view(), y.view(), loss, dropout_seed);
                perturb(H, &mut network);
                let numeric = ((plus - minus) / (2.0 * H as f64)) as f32;
                let exact = if part == 0 {
                    grad_weight.as_slice().expect("contiguous")[i]
                } else {
                    grad_bias[i]
                };
                let allowed =
                    RELATIVE_TOLERANCE * exact.abs().max(numeric.abs()) + ABSOLUTE_TOLERANCE;
                assert!(
                    (exact - numeric).abs() <= allowed,
                    "{describe} with {}: tensor {tensor} {} [{i}]: analytic {exact}, numeric {numeric}",
                    loss.name(),
                    if part == 0 { "weight" } else { "bias" },
                );
                largest = largest.max(exact.abs());
                compared += 1;
            }
        }
    }
    assert!(
        largest > 1e-2,
        "{describe}: gradients too small to tell anything ({largest})"
    );
    compared
}

fn dense(units: usize, activation: Activation) -> LayerSpec {
    LayerSpec::Dense { units, activation }
}

fn conv(filters: usize, kernel: usize, padding: Padding, activation: Activation) -> LayerSpec {
    LayerSpec::Conv2d {
        filters,
        kernel,
        padding,
        activation,
    }
}

#[test]
fn dense_layers_with_every_hidden_activation_and_mse() {
    for activation in [
        Activation::Linear,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
    ] {
        let specs = [
            dense(5, activation),
            dense(4, activation),
            dense(3, Activation::Linear),
        ];
        assert!(check(Shape::flat(4), &specs, Loss::Mse, 1) > 50);
    }
}

#[test]
fn every_output_activation_with_mse() {
    for activation in Activation::ALL {
        let specs = [dense(5, Activation::Tanh), dense(3, activation)];
        check(Shape::flat(4), &specs, Loss::Mse, 2);
    }
}

#[test]
fn cross_entropy_on_softmax_uses_a_correct_fused_gradient() {
    let specs = [dense(6, Activation::Relu), dense(4, Activation::Softmax)];
    check(Shape::flat(5), &specs, Loss::CrossEntropy, 3);
}

#[test]
fn binary_cross_entropy_on_sigmoid_outputs() {
    for outputs in [1, 3] {
        let specs = [
            dense(6, Activation::Tanh),
            dense(outputs, Activation::Sigmoid),
        ];
        check(Shape::flat(3), &specs, Loss::CrossEntropy, 4);
    }
}

#[test]
fn convolutions_valid_and_same_with_odd_kernels() {
    for (kernel, padding) in [
        (3, Padding::Valid),
        (3, Padding::Same),
        (5, Padding::Same),
        (1, Padding::Valid),
        (5, Padding::Valid),
    ] {
        let specs = [
            conv(3, kernel, padding, Activation::Tanh),
            conv(2, 3, Padding::Same, Activation::Relu),
            LayerSpec::Flatten,
            dense(3, Activation::Softmax),
        ];
        check(Shape::image(6, 5, 2), &specs, Loss::CrossEntropy, 5);
    }
}

#[test]
fn max_pooling_and_flatten_pass_gradients_to_the_winners() {
    let specs = [
        conv(3, 3, Padding::Same, Activation::Sigmoid),
        LayerSpec::MaxPool2d { size: 2 },
        LayerSpec::Flatten,
        dense(4, Activation::Tanh),
        dense(2, Activation::Softmax),
    ];
    check(Shape::image(6, 6, 1), &specs, Loss::CrossEntropy, 6);
}

#[test]
fn dropout_gradient_follows_the_training_mask() {
    let specs = [
        dense(8, Activation::Tanh),
        LayerSpec::Dropout { rate: 0.5 },
        dense(3, Activation::Sigmoid),
    ];
    check(Shape::flat(4), &specs, Loss::Mse, 7);
}

#[test]
fn the_reference_cnn_shape_in_miniature() {
    // Conv2D(relu) -> MaxPool(2x2) -> Flatten -> Dense(relu) -> Dense(softmax), cross-entropy.
    let specs = [
        conv(4, 3, Padding::Valid, Activation::Relu),
        LayerSpec::MaxPool2d { size: 2 },
        LayerSpec::Flatten,
        dense(6, Activation::Relu),
        dense(3, Activation::Softmax),
    ];
    check(Shape::image(8, 8, 1), &specs, Loss::CrossEntropy, 8);
}

#[test]
fn max_pooling_with_a_ragged_edge_gives_the_dropped_row_no_gradient() {
    // 5x7 input, 2x2 pools: the last row and column belong to no window
    let specs = [
        conv(2, 3, Padding::Same, Activation::Tanh),
        LayerSpec::MaxPool2d { size: 2 },
        LayerSpec::Flatten,
        dense(3, Activation::Softmax),
    ];
    check(Shape::image(5, 7, 1), &specs, Loss::CrossEntropy, 9);
}

#[test]
fn a_second_convolution_with_valid_padding_and_a_5x5_kernel() {
    let specs = [
        conv(3, 3, Padding::Same, Activation::Tanh),
        conv(2, 5, Padding::Valid, Activation::Relu),
        LayerSpec::Flatten,
        dense(3, Activation::Softmax),
    ];
    check(Shape::image(7, 8, 2), &specs, Loss::CrossEntropy, 10);
}

#[test]
fn max_pooling_windows_of_size_3_and_4() {
    for (size, input) in [(3, Shape::image(7, 6, 1)), (4, Shape::image(9, 8, 1))] {
        let specs = [
            conv(2, 3, Padding::Same, Activation::Tanh),
            LayerSpec::MaxPool2d { size },
            LayerSpec::Flatten,
            dense(3, Activation::Softmax),
        ];
        check(input, &specs, Loss::CrossEntropy, 11);
    }
}

/// Rows of probabilities that are not one-hot (label smoothing, mixup): every class gets some.
fn soft_targets(_: Activation, outputs: usize, rng: &mut backprop_lab::nn::Rng) -> Array2<f32> {
    let mut y = Array2::from_shape_simple_fn((BATCH, outputs), || rng.random_range(0.05..1.0));
    for mut row in y.rows_mut() {
        let sum = row.sum();
        row.mapv_inplace(|v| v / sum);
    }
    y
}

#[test]
fn softmax_cross_entropy_with_soft_targets() {
    let specs = [dense(6, Activation::Tanh), dense(4, Activation::Softmax)];
    check_with_targets(Shape::flat(5), &specs, Loss::CrossEntropy, 12, soft_targets);
    // targets that do not sum to one (a multi-label row) still get the exact gradient
    check_with_targets(
        Shape::flat(5),
        &specs,
        Loss::CrossEntropy,
        13,
        |_, outputs, rng| {
            Array2::from_shape_simple_fn((BATCH, outputs), || rng.random_range(0.0..1.0))
        },
    );
}

/// dL/dz by central differences of the loss computed from z (float64 throughout the loss).
fn numeric_grad_z(
    loss: Loss,
    activation: Activation,
    z: &Array2<f32>,
    y: &Array2<f32>,
) -> Array2<f32> {
    let value = |z: &Array2<f32>| {
        let mut a = Array2::zeros(z.dim());
        activation.forward(z.view(), &mut a);
        loss.value(activation, z.view(), a.view(), y.view())
            .expect("shapes fit")
    };
    let mut grad = Array2::zeros(z.dim());
    for index in 0..z.len() {
        let mut plus = z.clone();
        plus.as_slice_mut().unwrap()[index] += H;
        let mut minus = z.clone();
        minus.as_slice_mut().unwrap()[index] -= H;
        grad.as_slice_mut().unwrap()[index] =
            ((value(&plus) - value(&minus)) / (2.0 * H as f64)) as f32;
    }
    grad
}

/// The unfused cross-entropy gradient dL/da (what the step-through shows), taken through the
/// output activation's own backward, is the gradient of the loss with respect to z, and the same
/// as the fused one training uses; for one-hot and soft targets.
#[test]
fn the_unfused_cross_entropy_gradient_through_the_activation_equals_the_fused_one() {
    let mut rng = seeded_rng(14);
    for (activation, outputs) in [
        (Activation::Softmax, 4),
        (Activation::Sigmoid, 1),
        (Activation::Sigmoid, 3),
    ] {
        for y in [
            targets(activation, outputs, &mut rng),
            soft_targets(activation, outputs, &mut rng),
        ] {
            let z = Array2::from_shape_simple_fn((BATCH, outputs), || rng.random_range(-2.0..2.0));
            let mut a = Array2::zeros(z.dim());
            activation.forward(z.view(), &mut a);
            let grad_a = Loss::CrossEntropy.grad_output(activation, a.view(), y.view());
            let mut unfused = Array2::zeros(z.dim());
            activation.backward(z.view(), a.view(), grad_a.view(), &mut unfused);
            let fused = Loss::CrossEntropy
                .fused_grad_pre_activation(activation, z.view(), a.view(), y.view())
                .expect("cross-entropy on probabilities fuses");
            let numeric = numeric_grad_z(Loss::CrossEntropy, activation, &z, &y);
            for ((u, f), n) in unfused.iter().zip(&fused).zip(&numeric) {
                assert!(
                    (u - f).abs() <= 1e-5,
                    "{activation:?}: unfused {u} fused {f}"
                );
                let allowed = RELATIVE_TOLERANCE * u.abs().max(n.abs()) + ABSOLUTE_TOLERANCE;
                assert!(
                    (u - n).abs() <= allowed,
                    "{activation:?}: unfused {u} numeric {n}"
                );
            }
        }
    }
}
