//! The PyTorch `nn.Sequential` a Backprop Lab network is: its modules, its state dict's names
//! and layouts (conv weights [out, in, kh, kw]; the first dense layer after a flatten with its
//! columns in PyTorch's channels-first order), and the model as PyTorch or Keras code.

use std::fmt::Write;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::nn::{Activation, LayerSpec, Padding, Shape};
use crate::train::TrainSettings;

/// One module of the `nn.Sequential`.
#[derive(Clone, Debug, PartialEq)]
pub enum Module {
    /// `layer`: the Backprop Lab layer whose parameters it holds.
    Linear {
        layer: usize,
        inputs: usize,
        units: usize,
        /// The input is an image flattened channels-last: PyTorch flattens channels-first.
        after_flatten: Option<Shape>,
    },
    Conv2d {
        layer: usize,
        channels: usize,
        filters: usize,
        kernel: usize,
        padding: Padding,
    },
    Activation(Activation),
    MaxPool2d(usize),
    Flatten,
    Dropout(f32),
}

/// The modules of `layers` on inputs of `input`, in order: a layer with an activation is its
/// module followed by the activation's (none for linear).
pub fn modules(input: Shape, layers: &[LayerSpec]) -> Result<Vec<Module>, String> {
    let mut modules = Vec::new();
    let mut shape = input;
    // the shape an image had when it was flattened, until a dense layer takes it
    let mut flattened: Option<Shape> = None;
    for (layer, spec) in layers.iter().enumerate() {
        let output = spec.output_shape(shape)?;
        match *spec {
            LayerSpec::Dense { units, activation } => {
                let after_flatten = flattened.take().filter(|s| s.channels > 1 && !s.is_flat());
                modules.push(Module::Linear {
                    layer,
                    inputs: shape.len(),
                    units,
                    after_flatten,
                });
                push_activation(&mut modules, activation);
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                padding,
                activation,
            } => {
                modules.push(Module::Conv2d {
                    layer,
                    channels: shape.channels,
                    filters,
                    kernel,
                    padding,
                });
                push_activation(&mut modules, activation);
            }
            LayerSpec::MaxPool2d { size } => modules.push(Module::MaxPool2d(size)),
            LayerSpec::Flatten => {
                flattened = Some(shape);
                modules.push(Module::Flatten);
            }
            LayerSpec::Dropout { rate } => modules.push(Module::Dropout(rate)),
        }
        shape = output;
    }
    Ok(modules)
}

fn push_activation(modules: &mut Vec<Module>, activation: Activation) {
    if activation != Activation::Linear {
        modules.push(Module::Activation(activation));
    }
}

/// A layer's weight [rows, cols] and bias [rows] in Backprop Lab's layout.
pub type LayerParams = (Array2<f32>, Array1<f32>);

/// A tensor of the state dict: its name, shape and values in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Where column `col` of a dense layer's weight goes in PyTorch's order, for an input that
/// was an image `shape` flattened channels-last: (h, w, c) -> (c, h, w).
fn torch_column(col: usize, shape: Shape) -> usize {
    let (h, w, c) = (
        col / (shape.width * shape.channels),
        col / shape.channels % shape.width,
        col % shape.channels,
    );
    c * shape.height * shape.width + h * shape.width + w
}

/// Where conv weight [filter, col] goes in PyTorch's [filter, channel, ky, kx] (row-major):
/// ours has col = (ky * kernel + kx) * channels + channel.
fn torch_kernel_index(filter: usize, col: usize, kernel: usize, channels: usize) -> usize {
    let (ky, kx, c) = (
        col / (kernel * channels),
        col / channels % kernel,
        col % channels,
    );
    ((filter * channels + c) * kernel + ky) * kernel + kx
}

/// The state dict of the modules, from each layer's (weight, bias): `params(layer)`.
pub fn state_dict<'a>(
    modules: &[Module],
    params: impl Fn(usize) -> Option<(&'a Array2<f32>, &'a Array1<f32>)>,
) -> Result<Vec<NamedTensor>, String> {
    let mut tensors = Vec::new();
    for (index, module) in modules.iter().enumerate() {
        let (layer, shape, values) = match *module {
            Module::Linear {
                layer,
                inputs,
                units,
                after_flatten,
            } => {
                let (weight, _) = params(layer).ok_or(format!("layer {layer} has no weights"))?;
                let mut values = vec![0.0; units * inputs];
                for ((row, col), &v) in weight.indexed_iter() {
                    let col = after_flatten.map_or(col, |s| torch_column(col, s));
                    values[row * inputs + col] = v;
                }
                (layer, vec![units, inputs], values)
            }
            Module::Conv2d {
                layer,
                channels,
                filters,
                kernel,
                ..
            } => {
                let (weight, _) = params(layer).ok_or(format!("layer {layer} has no weights"))?;
                // ours: [filter, (ky * k + kx) * channels + c]; PyTorch: [filter, c, ky, kx]
                let mut values = vec![0.0; filters * channels * kernel * kernel];
                for ((f, col), &v) in weight.indexed_iter() {
                    values[torch_kernel_index(f, col, kernel, channels)] = v;
                }
                (layer, vec![filters, channels, kernel, kernel], values)
            }
            _ => continue,
        };
        let (_, bias) = params(layer).ok_or(format!("layer {layer} has no bias"))?;
        tensors.push(NamedTensor {
            name: format!("{index}.weight"),
            shape,
            values,
        });
        tensors.push(NamedTensor {
            name: format!("{index}.bias"),
            shape: vec![bias.len()],
            values: bias.to_vec(),
        });
    }
    Ok(tensors)
}

/// Each parameter layer's (weight, bias) in Backprop Lab's layout, from a PyTorch state dict
/// (`tensor(name)` gives its shape and values). Strict: every tensor must be there with its
/// shape, and no other (`names` lists those present).
pub fn from_state_dict(
    modules: &[Module],
    names: &[String],
    tensor: impl Fn(&str) -> Option<(Vec<usize>, Vec<f32>)>,
) -> Result<Vec<LayerParams>, String> {
    let mut expected = Vec::new();
    let mut params = Vec::new();
    for (index, module) in modules.iter().enumerate() {
        let (rows, cols, torch_shape) = match *module {
            Module::Linear { inputs, units, .. } => (units, inputs, vec![units, inputs]),
            Module::Conv2d {
                channels,
                filters,
                kernel,
                ..
            } => (
                filters,
                kernel * kernel * channels,
                vec![filters, channels, kernel, kernel],
            ),
            _ => continue,
        };
        let get = |suffix: &str, shape: &[usize]| {
            let name = format!("{index}.{suffix}");
            let (found, values) = tensor(&name).ok_or(format!("missing tensor \"{name}\""))?;
            if found != shape {
                return Err(format!(
                    "tensor \"{name}\" has shape {found:?}; the architecture needs {shape:?}"
                ));
            }
            if values.iter().any(|v| !v.is_finite()) {
                return Err(format!("tensor \"{name}\" holds NaN or infinite values"));
            }
            Ok(values)
        };
        let torch = get("weight", &torch_shape)?;
        let bias = get("bias", &[rows])?;
        expected.extend([format!("{index}.weight"), format!("{index}.bias")]);
        let mut weight = Array2::zeros((rows, cols));
        match *module {
            Module::Linear { after_flatten, .. } => {
                for ((row, col), v) in weight.indexed_iter_mut() {
                    *v = torch[row * cols + after_flatten.map_or(col, |s| torch_column(col, s))];
                }
            }
            Module::Conv2d {
                channels, kernel, ..
            } => {
                for ((f, col), v) in weight.indexed_iter_mut() {
                    *v = torch[torch_kernel_index(f, col, kernel, channels)];
                }
            }
            _ => {}
        }
        params.push((weight, Array1::from_vec(bias)));
    }
    if let Some(extra) = names.iter().find(|n| !expected.contains(n)) {
        return Err(format!(
            "unexpected tensor \"{extra}\": the file is not this architecture's state dict"
        ));
    }
    Ok(params)
}

/// Which framework's code to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    PyTorch,
    Keras,
}

/// The model and its training settings as runnable code binding the network to `model`.
pub fn code(
    framework: Framework,
    input: Shape,
    layers: &[LayerSpec],
    settings: &TrainSettings,
) -> Result<String, String> {
    let modules = modules(input, layers)?;
    Ok(match framework {
        Framework::PyTorch => pytorch(input, &modules, settings),
        Framework::Keras => keras(input, layers, settings),
    })
}

fn pytorch(input: Shape, modules: &[Module], settings: &TrainSettings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "import torch\nfrom torch import nn\n");
    let input_note = if input.is_flat() {
        format!("# input: [batch, {}]", input.len())
    } else {
        format!(
            "# input: [batch, {}, {}, {}] (channels first)",
            input.channels, input.height, input.width
        )
    };
    let _ = writeln!(out, "{input_note}\nmodel = nn.Sequential(");
    for module in modules {
        let line = match *module {
            Module::Linear { inputs, units, .. } => format!("nn.Linear({inputs}, {units})"),
            Module::Conv2d {
                channels,
                filters,
                kernel,
                padding,
                ..
            } => {
                let padding = match padding {
                    Padding::Valid => String::new(),
                    Padding::Same => format!(", padding={}", kernel / 2),
                };
                format!("nn.Conv2d({channels}, {filters}, kernel_size={kernel}{padding})")
            }
            Module::Activation(a) => match a {
                Activation::Relu => "nn.ReLU()".into(),
                Activation::Sigmoid => "nn.Sigmoid()".into(),
                Activation::Tanh => "nn.Tanh()".into(),
                Activation::Softmax => "nn.Softmax(dim=1)".into(),
                Activation::Linear => "nn.Identity()".into(),
            },
            Module::MaxPool2d(size) => format!("nn.MaxPool2d({size})"),
            Module::Flatten => "nn.Flatten()".into(),
            Module::Dropout(rate) => format!("nn.Dropout({rate})"),
        };
        let _ = writeln!(out, "    {line},");
    }
    let _ = writeln!(out, ")\n");
    let o = settings.optimizer;
    let optimizer = match o.optimizer {
        crate::nn::Optimizer::Sgd => format!(
            "torch.optim.SGD(model.parameters(), lr={}, weight_decay={})",
            o.learning_rate, o.weight_decay
        ),
        crate::nn::Optimizer::Momentum { momentum } => format!(
            "torch.optim.SGD(model.parameters(), lr={}, momentum={momentum}, weight_decay={})",
            o.learning_rate, o.weight_decay
        ),
        crate::nn::Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => format!(
            "torch.optim.Adam(model.parameters(), lr={}, betas=({beta1}, {beta2}), eps={epsilon}, weight_decay={})",
            o.learning_rate, o.weight_decay
        ),
    };
    let loss = match settings.loss {
        // the model ends in its output activation: the loss takes probabilities
        crate::nn::Loss::CrossEntropy => {
            "def loss_fn(p, y):  # cross-entropy on the model's probabilities\n    \
             p = p.clamp(1e-7, 1 - 1e-7)\n    \
             if p.shape[1] == 1:\n        \
             return nn.functional.binary_cross_entropy(p[:, 0], y.float())\n    \
             return nn.functional.nll_loss(torch.log(p), y)"
        }
        crate::nn::Loss::Mse => {
            "def loss_fn(p, y):  # mean squared error against one-hot targets\n    \
             t = y.float()[:, None] if p.shape[1] == 1 else nn.functional.one_hot(y, p.shape[1]).float()\n    \
             return ((p - t) ** 2).sum(dim=1).mean() / 2"
        }
    };
    let _ = writeln!(
        out,
        "optimizer = {optimizer}\n{loss}\nbatch_size = {}\n\n\
         # one training step on a batch x, y (class indices):\n\
         #   optimizer.zero_grad(); loss_fn(model(x), y).backward(); optimizer.step()",
        settings.batch_size
    );
    out
}

fn keras(input: Shape, layers: &[LayerSpec], settings: &TrainSettings) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "import keras\nfrom keras import layers\n");
    let shape = if input.is_flat() {
        format!("({},)", input.len())
    } else {
        format!("({}, {}, {})", input.height, input.width, input.channels)
    };
    let _ = writeln!(
        out,
        "model = keras.Sequential([\n    keras.Input(shape={shape}),"
    );
    for spec in layers {
        let line = match *spec {
            LayerSpec::Dense { units, activation } => {
                format!(
                    "layers.Dense({units}, activation=\"{}\")",
                    activation.name()
                )
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                padding,
                activation,
            } => format!(
                "layers.Conv2D({filters}, {kernel}, padding=\"{}\", activation=\"{}\")",
                padding.name(),
                activation.name()
            ),
            LayerSpec::MaxPool2d { size } => format!("layers.MaxPooling2D({size})"),
            LayerSpec::Flatten => "layers.Flatten()".into(),
            LayerSpec::Dropout { rate } => format!("layers.Dropout({rate})"),
        };
        let _ = writeln!(out, "    {line},");
    }
    let _ = writeln!(out, "])\n");
    let o = settings.optimizer;
    let optimizer = match o.optimizer {
        crate::nn::Optimizer::Sgd => {
            format!("keras.optimizers.SGD(learning_rate={})", o.learning_rate)
        }
        crate::nn::Optimizer::Momentum { momentum } => format!(
            "keras.optimizers.SGD(learning_rate={}, momentum={momentum})",
            o.learning_rate
        ),
        crate::nn::Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } => format!(
            "keras.optimizers.Adam(learning_rate={}, beta_1={beta1}, beta_2={beta2}, epsilon={epsilon})",
            o.learning_rate
        ),
    };
    let outputs = layers
        .last()
        .map_or(Activation::Linear, LayerSpec::activation);
    let units = layers.last().map_or(1, |layer| match layer {
        LayerSpec::Dense { units, .. } => *units,
        _ => 1,
    });
    // and the labels `fit` takes for it
    let (loss, labels) = match (settings.loss, outputs) {
        (crate::nn::Loss::CrossEntropy, Activation::Sigmoid) => {
            ("\"binary_crossentropy\"", "0/1 labels")
        }
        (crate::nn::Loss::CrossEntropy, _) => {
            ("\"sparse_categorical_crossentropy\"", "class indices")
        }
        (crate::nn::Loss::Mse, _) if units > 1 => ("\"mse\"", "one-hot rows"),
        (crate::nn::Loss::Mse, _) => ("\"mse\"", "0/1 labels"),
    };
    let decay = if o.weight_decay > 0.0 {
        format!(
            "\n# L2: Backprop Lab adds {}·w to each weight's gradient; in Keras give each layer\n# kernel_regularizer=keras.regularizers.L2({})",
            o.weight_decay,
            o.weight_decay / 2.0
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "model.compile(optimizer={optimizer}, loss={loss}, metrics=[\"accuracy\"])\n\
         batch_size = {}{decay}\n\n\
         # one epoch of training on x, y ({labels}):\n\
         #   model.fit(x, y, batch_size=batch_size)",
        settings.batch_size
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Network, seeded_rng};
    use crate::train::Preset;

    #[test]
    fn the_cnn_is_the_course_material_s_sequential() {
        let preset = Preset::named("mnist-cnn").expect("a preset");
        let code = code(
            Framework::PyTorch,
            Shape::image(28, 28, 1),
            &preset.layers,
            &preset.settings,
        )
        .expect("code");
        for line in [
            "nn.Conv2d(1, 32, kernel_size=3),",
            "nn.ReLU(),",
            "nn.MaxPool2d(2),",
            "nn.Flatten(),",
            "nn.Linear(5408, 128),",
            "nn.Linear(128, 10),",
            "nn.Softmax(dim=1),",
            "model = nn.Sequential(",
        ] {
            assert!(code.contains(line), "{line} in\n{code}");
        }
        let keras = super::code(
            Framework::Keras,
            Shape::image(28, 28, 1),
            &preset.layers,
            &preset.settings,
        )
        .expect("code");
        assert!(keras.contains("model = keras.Sequential(["), "{keras}");
        assert!(keras.contains("layers.Conv2D(32, 3, padding=\"valid\", activation=\"relu\")"));
        assert!(
            keras.contains("(class indices):\n#   model.fit(x, y, batch_size=batch_size)\n"),
            "{keras}"
        );
    }

    #[test]
    fn state_dicts_go_there_and_back_with_torch_layouts() {
        // channels > 1 before the flatten, so the column order really changes
        let layers = [
            LayerSpec::Conv2d {
                filters: 3,
                kernel: 3,
                padding: Padding::Same,
                activation: Activation::Relu,
            },
            LayerSpec::Flatten,
            LayerSpec::Dense {
                units: 4,
                activation: Activation::Softmax,
            },
        ];
        let input = Shape::image(5, 4, 2);
        let network = Network::new(input, &layers, &mut seeded_rng(3)).expect("a network");
        let modules = modules(input, &layers).expect("modules");
        let params: Vec<_> = network.params().collect();
        let by_layer = |layer: usize| {
            let index = [0, 2][..].iter().position(|&l| l == layer)?;
            Some((&params[index].weight, &params[index].bias))
        };
        let dict = state_dict(&modules, by_layer).expect("a state dict");
        let names: Vec<String> = dict.iter().map(|t| t.name.clone()).collect();
        assert_eq!(names, ["0.weight", "0.bias", "3.weight", "3.bias"]);
        assert_eq!(dict[0].shape, [3, 2, 3, 3]);
        // conv: ours [f, (ky*3 + kx)*2 + c] is torch [f, c, ky, kx]
        let ours = &params[0].weight;
        assert_eq!(
            dict[0].values[((2 * 2 + 1) * 3 + 2) * 3 + 1],
            ours[[2, (2 * 3 + 1) * 2 + 1]]
        );
        // dense after flatten: ours (h, w, c) is torch (c, h, w)
        let (h, w, c) = (3, 1, 2);
        let ours = &params[1].weight;
        assert_eq!(
            dict[2].values[2 * 60 + c * 20 + h * 4 + w],
            ours[[2, (h * 4 + w) * 3 + c]]
        );
        // and back, exactly
        let lookup = |name: &str| {
            dict.iter()
                .find(|t| t.name == name)
                .map(|t| (t.shape.clone(), t.values.clone()))
        };
        let back = from_state_dict(&modules, &names, lookup).expect("loads");
        for ((weight, bias), p) in back.iter().zip(&params) {
            assert_eq!(weight, &p.weight);
            assert_eq!(bias, &p.bias);
        }
        // strict: a missing, a misshapen and an unexpected tensor are refused
        let without_bias = |name: &str| (name != "3.bias").then(|| lookup(name)).flatten();
        let error = from_state_dict(&modules, &names, without_bias).unwrap_err();
        assert!(error.contains("missing tensor \"3.bias\""), "{error}");
        let mut extra = names.clone();
        extra.push("5.weight".into());
        let error = from_state_dict(&modules, &extra, lookup).unwrap_err();
        assert!(error.contains("unexpected tensor \"5.weight\""), "{error}");
        let misshapen = |name: &str| {
            lookup(name).map(|(shape, values)| {
                if name == "0.weight" {
                    (vec![3, 2, 9], values)
                } else {
                    (shape, values)
                }
            })
        };
        let error = from_state_dict(&modules, &names, misshapen).unwrap_err();
        assert!(
            error.contains("\"0.weight\" has shape [3, 2, 9]"),
            "{error}"
        );
    }
}
