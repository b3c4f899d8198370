//! Loss values as Keras defines them, computed by hand, and the errors for misuse.

use backprop_lab::nn::{Activation, Loss, LossError, count_correct};
use ndarray::array;

#[test]
fn mse_is_the_mean_over_batch_and_outputs() {
    let a = array![[0.5f32, 1.0], [0.0, 2.0]];
    let y = array![[0.0f32, 1.0], [1.0, 0.0]];
    // (0.25 + 0 + 1 + 4) / 4
    let value = Loss::Mse
        .value(Activation::Linear, a.view(), a.view(), y.view())
        .unwrap();
    assert!((value - 1.3125).abs() < 1e-9, "{value}");
}

#[test]
fn categorical_cross_entropy_is_minus_log_of_the_true_class() {
    // logits whose softmax is [0.7, 0.2, 0.1] and [0.25, 0.25, 0.5]
    let z = array![
        [0.7f32.ln(), 0.2f32.ln(), 0.1f32.ln()],
        [0.0, 0.0, 2.0f32.ln()]
    ];
    let a = array![[0.7f32, 0.2, 0.1], [0.25, 0.25, 0.5]];
    let y = array![[1.0f32, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let value = Loss::CrossEntropy
        .value(Activation::Softmax, z.view(), a.view(), y.view())
        .unwrap();
    let expected = -(0.7f64.ln() + 0.5f64.ln()) / 2.0;
    assert!((value - expected).abs() < 1e-6, "{value} vs {expected}");
}

#[test]
fn binary_cross_entropy_on_a_sigmoid_output() {
    // sigmoid(0) = 0.5 for a target 1; sigmoid(ln 3) = 0.75 for a target 0
    let z = array![[0.0f32], [3.0f32.ln()]];
    let a = array![[0.5f32], [0.75]];
    let y = array![[1.0f32], [0.0]];
    let value = Loss::CrossEntropy
        .value(Activation::Sigmoid, z.view(), a.view(), y.view())
        .unwrap();
    let expected = -(0.5f64.ln() + 0.25f64.ln()) / 2.0;
    assert!((value - expected).abs() < 1e-6, "{value} vs {expected}");
}

#[test]
fn cross_entropy_stays_finite_for_confident_wrong_answers() {
    let z = array![[100.0f32, -100.0]];
    let a = array![[1.0f32, 0.0]];
    let y = array![[0.0f32, 1.0]];
    let value = Loss::CrossEntropy
        .value(Activation::Softmax, z.view(), a.view(), y.view())
        .unwrap();
    assert!((value - 200.0).abs() < 1e-3, "{value}");
}

#[test]
fn mismatched_shapes_name_both_sizes() {
    let a = array![[0.5f32, 0.5]];
    let y = array![[1.0f32, 0.0, 0.0]];
    let error = Loss::Mse
        .value(Activation::Linear, a.view(), a.view(), y.view())
        .unwrap_err();
    assert_eq!(
        error,
        LossError::ShapeMismatch {
            prediction: (1, 2),
            target: (1, 3)
        }
    );
    assert!(error.to_string().contains("(1, 2)") && error.to_string().contains("(1, 3)"));
}

#[test]
fn cross_entropy_refuses_outputs_that_are_not_probabilities() {
    let error = Loss::CrossEntropy.check(Activation::Relu, 10).unwrap_err();
    assert!(error.to_string().contains("relu"), "{error}");
    assert!(Loss::CrossEntropy.check(Activation::Softmax, 1).is_err());
    assert!(Loss::CrossEntropy.check(Activation::Softmax, 10).is_ok());
    assert!(Loss::CrossEntropy.check(Activation::Sigmoid, 1).is_ok());
    assert!(Loss::Mse.check(Activation::Softmax, 10).is_ok());
}

#[test]
fn accuracy_uses_argmax_or_a_half_threshold() {
    let many = array![[0.1f32, 0.7, 0.2], [0.5, 0.3, 0.2]];
    assert_eq!(count_correct(many.view(), &[1, 2]), 1);
    let single = array![[0.9f32], [0.2], [0.5]];
    assert_eq!(count_correct(single.view(), &[1, 0, 0]), 2);
}

#[test]
fn the_cross_entropy_formula_is_the_binary_one_on_sigmoid_outputs() {
    let binary = Loss::CrossEntropy.formula(Activation::Sigmoid);
    assert!(binary.contains("(1 - y) log(1 - y_hat)"), "{binary}");
    let categorical = Loss::CrossEntropy.formula(Activation::Softmax);
    assert!(!categorical.contains("1 - y"), "{categorical}");
    assert!(
        Loss::Mse
            .formula(Activation::Sigmoid)
            .contains("(y - y_hat)^2")
    );
}
