//! `backprop-lab eval` and `backprop-lab classify`: a saved model on a test split or on images.

use anyhow::{Context, Result, bail};
use ndarray::Array2;
use serde_json::json;

use super::{ClassifyArgs, EvalArgs};
use crate::data::{DataSource, digit_image};
use crate::nn::predicted_class;
use crate::train::{check_fits, evaluate};

pub fn eval(args: &EvalArgs) -> Result<()> {
    let (mut network, data, loss) = super::open_model(&args.model, args.preset.as_deref())?;
    let source = match &args.data {
        Some(path) => DataSource::IdxFolder { path: path.clone() },
        None => data,
    };
    let data = source.load().context("loading the data")?;
    check_fits(&network, &data)?;
    let targets = data
        .test
        .targets(network.output_shape().len(), data.classes)?;
    let result = evaluate(
        &mut network,
        &data.test.inputs,
        &targets,
        &data.test.labels,
        loss,
    )?;
    if args.json {
        println!(
            "{}",
            json!({"accuracy": result.accuracy, "loss": result.loss, "samples": result.samples})
        );
    } else {
        println!(
            "{}: test loss {:.4}, accuracy {:.2}% on {} samples of {}",
            args.model.display(),
            result.loss,
            100.0 * result.accuracy,
            result.samples,
            data.name
        );
    }
    Ok(())
}

pub fn classify(args: &ClassifyArgs) -> Result<()> {
    let (mut network, _, _) = super::open_model(&args.model, args.preset.as_deref())?;
    let side = digit_image::SIDE;
    if network.input_shape().len() != side * side {
        bail!(
            "{} takes {} inputs ({}); classify needs a model of {side}x{side} images, such as mnist-mlp or mnist-cnn",
            args.model.display(),
            network.input_shape().len(),
            network.input_shape()
        );
    }
    let mut failures = 0;
    for path in &args.images {
        let input = match digit_image::from_file(path) {
            Ok(input) => input,
            Err(error) => {
                eprintln!("error: {}: {error}", path.display());
                failures += 1;
                continue;
            }
        };
        let x = Array2::from_shape_vec((1, side * side), input).context("28x28 input")?;
        let output = network.predict(x.view())?;
        let probabilities = output.row(0);
        let prediction = predicted_class(probabilities);
        if args.json {
            println!(
                "{}",
                json!({"file": path.display().to_string(), "prediction": prediction, "probabilities": probabilities.to_vec()})
            );
        } else {
            let bars: Vec<String> = probabilities
                .iter()
                .enumerate()
                .map(|(c, p)| format!("{c}:{p:.3}"))
                .collect();
            println!(
                "{}: {prediction} ({:.1}%)  {}",
                path.display(),
                100.0 * probabilities[prediction],
                bars.join(" ")
            );
        }
    }
    if failures > 0 {
        bail!(
            "{failures} of {} images could not be classified",
            args.images.len()
        );
    }
    Ok(())
}
