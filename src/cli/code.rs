//! `backprop-lab code` (the model as PyTorch or Keras code) and `backprop-lab convert` (a model
//! file to safetensors).

use anyhow::Result;

use super::{CodeArgs, ConvertArgs, FrameworkArg};
use crate::io::torch::{self, Framework};
use crate::io::{load_any, safetensors_model};

pub fn code(args: &CodeArgs) -> Result<()> {
    let framework = match args.framework {
        FrameworkArg::Pytorch => Framework::PyTorch,
        FrameworkArg::Keras => Framework::Keras,
    };
    let (input, layers, settings) = match (&args.model, &args.preset) {
        (Some(path), _) => {
            let (network, training) = load_any(path, None)?;
            let settings = match training {
                Some(training) => training.settings,
                None => anyhow::bail!(
                    "{}: no training record to take the settings from",
                    path.display()
                ),
            };
            (network.input_shape(), network.specs(), settings)
        }
        (None, preset) => {
            let preset = super::preset_named(preset.as_deref().unwrap_or_default())?;
            (preset.data.shape().0, preset.layers, preset.settings)
        }
    };
    print!(
        "{}",
        torch::code(framework, input, &layers, &settings).map_err(anyhow::Error::msg)?
    );
    Ok(())
}

pub fn convert(args: &ConvertArgs) -> Result<()> {
    let (network, training) = load_any(&args.input, None)?;
    safetensors_model::save(&network, training.as_ref(), &args.output)?;
    println!("{} -> {}", args.input.display(), args.output.display());
    Ok(())
}
