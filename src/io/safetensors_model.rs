//! Models as safetensors: the weights as the PyTorch state dict of the `nn.Sequential` that
//! `backprop-lab code` prints (so `model.load_state_dict(load_file(path))` works as it is), the
//! architecture and training record as JSON in the file's metadata. A state dict saved by
//! PyTorch without that metadata opens with an architecture given by the caller.

use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::model_file::{ModelFileError, TrainingRecord};
use super::torch;
use crate::nn::{LayerSpec, Network, Shape};

/// The metadata key of each part.
const FORMAT_KEY: &str = "format";
const INPUT_KEY: &str = "input_shape";
const LAYERS_KEY: &str = "layers";
const TRAINING_KEY: &str = "training";
/// The format name in the metadata.
pub const FORMAT: &str = "backprop-lab-model";

/// Whether a file of `len` bytes starting with `head` looks like safetensors (an 8-byte header
/// length shorter than the file, then JSON).
pub fn looks_like(head: &[u8], len: u64) -> bool {
    head.len() >= 9
        && head[8] == b'{'
        && u64::from_le_bytes(head[..8].try_into().unwrap_or([0; 8])) < len
}

fn invalid(path: &Path, reason: impl Into<String>) -> ModelFileError {
    ModelFileError::Invalid {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Writes `network` (trained as `training` says, if known) atomically.
pub fn save(
    network: &Network,
    training: Option<&TrainingRecord>,
    path: &Path,
) -> Result<(), ModelFileError> {
    let input = network.input_shape();
    let layers = network.specs();
    let modules = torch::modules(input, &layers).map_err(|e| invalid(path, e))?;
    let tensors = torch::state_dict(&modules, |layer| {
        network.layers()[layer]
            .params()
            .map(|p| (&p.weight, &p.bias))
    })
    .map_err(|e| invalid(path, e))?;
    if let Some(t) = tensors
        .iter()
        .find(|t| t.values.iter().any(|v| !v.is_finite()))
    {
        return Err(invalid(
            path,
            format!("tensor \"{}\" holds NaN or infinite values", t.name),
        ));
    }
    let json = |value: serde_json::Result<String>| value.map_err(|e| invalid(path, e.to_string()));
    let mut metadata = HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (INPUT_KEY.to_string(), json(serde_json::to_string(&input))?),
        (
            LAYERS_KEY.to_string(),
            json(serde_json::to_string(&layers))?,
        ),
    ]);
    if let Some(training) = training {
        metadata.insert(
            TRAINING_KEY.to_string(),
            json(serde_json::to_string(training))?,
        );
    }
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, data)| {
            TensorView::new(Dtype::F32, t.shape.clone(), data)
                .map(|view| (t.name.clone(), view))
                .map_err(|e| invalid(path, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let serialized =
        safetensors::serialize(views, Some(metadata)).map_err(|e| invalid(path, e.to_string()))?;
    super::atomic::write(path, |writer| {
        std::io::Write::write_all(writer, &serialized)
    })
    .map_err(|(path, cause)| ModelFileError::Io { path, cause })
}

/// Reads a safetensors model: its architecture from the metadata, else `fallback` (input
/// shape and layers); every tensor checked strictly against it.
pub fn load(
    path: &Path,
    bytes: &[u8],
    fallback: Option<(Shape, &[LayerSpec])>,
) -> Result<(Network, Option<TrainingRecord>), ModelFileError> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| invalid(path, format!("not a valid safetensors file: {e}")))?;
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| invalid(path, format!("not a valid safetensors file: {e}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let parse = |key: &str| -> Result<Option<serde_json::Value>, ModelFileError> {
        metadata
            .get(key)
            .map(|text| serde_json::from_str(text))
            .transpose()
            .map_err(|e| invalid(path, format!("its \"{key}\" metadata: {e}")))
    };
    let described = match (parse(INPUT_KEY)?, parse(LAYERS_KEY)?) {
        (Some(input), Some(layers)) => Some((
            serde_json::from_value::<Shape>(input)
                .map_err(|e| invalid(path, format!("its input shape: {e}")))?,
            serde_json::from_value::<Vec<LayerSpec>>(layers)
                .map_err(|e| invalid(path, format!("its layers: {e}")))?,
        )),
        _ => None,
    };
    let (input, layers) = match (&described, fallback) {
        (Some((input, layers)), _) => (*input, layers.as_slice()),
        (None, Some(fallback)) => fallback,
        (None, None) => {
            return Err(invalid(
                path,
                "a state dict without Backprop Lab's metadata: say which architecture it is \
                 (--preset)",
            ));
        }
    };
    let training = parse(TRAINING_KEY)?
        .map(serde_json::from_value::<TrainingRecord>)
        .transpose()
        .map_err(|e| invalid(path, format!("its training record: {e}")))?;
    let modules = torch::modules(input, layers).map_err(|e| invalid(path, e))?;
    let names: Vec<String> = file.names().iter().map(|n| n.to_string()).collect();
    let tensor = |name: &str| -> Option<(Vec<usize>, Vec<f32>)> {
        let view = file.tensor(name).ok()?;
        (view.dtype() == Dtype::F32).then(|| {
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            (view.shape().to_vec(), values)
        })
    };
    if let Some(name) = names
        .iter()
        .find(|n| file.tensor(n).is_ok_and(|v| v.dtype() != Dtype::F32))
    {
        return Err(invalid(
            path,
            format!("tensor \"{name}\" is not float32 (convert it with .float() before saving)"),
        ));
    }
    let params = torch::from_state_dict(&modules, &names, tensor).map_err(|e| invalid(path, e))?;
    let network = Network::with_params(input, layers, params.into_iter()).map_err(|cause| {
        ModelFileError::Shape {
            path: path.to_path_buf(),
            cause,
        }
    })?;
    Ok((network, training))
}
