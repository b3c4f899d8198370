//! A feed-forward network: layers in order, with every activation and gradient of the last pass
//! kept so that it can be shown, and passes that can run one layer at a time.

use ndarray::{Array1, Array2, ArrayView2, s};
use thiserror::Error;

use super::{Activation, Layer, LayerSpec, Loss, LossError, Params, Rng, Shape};

#[derive(Debug, Error)]
pub enum NetworkError {
    #[error("the network needs at least one layer")]
    Empty,
    #[error("layer {index} ({layer}): {reason}")]
    Layer {
        index: usize,
        layer: String,
        reason: String,
    },
    #[error("the network takes {expected} values per sample ({shape}), the data has {found}")]
    InputWidth {
        expected: usize,
        shape: Shape,
        found: usize,
    },
    #[error(transparent)]
    Loss(#[from] LossError),
}

/// Layers with their traces. After [`Network::forward`] and [`Network::backward`]:
/// `activation(0)` is the input batch, `activation(i + 1)` the output of layer i,
/// and `grad_activation(i + 1)` is dL/d(output of layer i).
#[derive(Clone, Debug)]
pub struct Network {
    input_shape: Shape,
    layers: Vec<Layer>,
    activations: Vec<Array2<f32>>,
    grads: Vec<Array2<f32>>,
    /// The loss wrote the output layer's dL/dz directly (softmax or sigmoid with cross-entropy).
    fused_output_grad: bool,
}

/// What a forward and backward pass left in a network (see [`Network::into_pass`]).
pub struct Pass {
    /// [batch, len] per layer boundary: the input, then each layer's output.
    pub activations: Vec<Array2<f32>>,
    /// dL/d of each activation (empty for the input).
    pub grads: Vec<Array2<f32>>,
    pub layers: Vec<LayerPass>,
}

/// One layer's part of a [`Pass`]: parameters with their gradients, z and dL/dz (None for a
/// layer without an affine map).
pub struct LayerPass {
    pub params: Option<Params>,
    pub z: Option<Array2<f32>>,
    pub grad_z: Option<Array2<f32>>,
}

/// Rows per chunk when predicting a whole split.
const PREDICT_CHUNK: usize = 256;

impl Network {
    /// A network with freshly initialised weights drawn from `rng`.
    pub fn new(
        input_shape: Shape,
        specs: &[LayerSpec],
        rng: &mut Rng,
    ) -> Result<Self, NetworkError> {
        let mut shape = input_shape;
        let mut layers = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let layer =
                Layer::new(spec.clone(), shape, rng).map_err(|reason| NetworkError::Layer {
                    index,
                    layer: spec.describe(),
                    reason,
                })?;
            shape = layer.output_shape();
            layers.push(layer);
        }
        Self::from_layers(input_shape, layers)
    }

    /// A network with the given parameters, one (weight, bias) per layer that has parameters.
    pub fn with_params(
        input_shape: Shape,
        specs: &[LayerSpec],
        mut params: impl Iterator<Item = (Array2<f32>, Array1<f32>)>,
    ) -> Result<Self, NetworkError> {
        let mut shape = input_shape;
        let mut layers = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let error = |reason| NetworkError::Layer {
                index,
                layer: spec.describe(),
                reason,
            };
            let layer = if spec.param_shapes(shape).is_some() {
                let (weight, bias) = params
                    .next()
                    .ok_or_else(|| error("its parameters are missing".into()))?;
                Layer::with_params(spec.clone(), shape, weight, bias)
            } else {
                spec.output_shape(shape).map(|_| {
                    Layer::new(spec.clone(), shape, &mut super::seeded_rng(0))
                        .expect("checked just above")
                })
            }
            .map_err(error)?;
            shape = layer.output_shape();
            layers.push(layer);
        }
        if params.next().is_some() {
            return Err(NetworkError::Layer {
                index: specs.len(),
                layer: "end".into(),
                reason: "more parameter tensors than layers with parameters".into(),
            });
        }
        Self::from_layers(input_shape, layers)
    }

    fn from_layers(input_shape: Shape, layers: Vec<Layer>) -> Result<Self, NetworkError> {
        if layers.is_empty() {
            return Err(NetworkError::Empty);
        }
        let n = layers.len();
        Ok(Self {
            input_shape,
            layers,
            activations: vec![Array2::zeros((0, 0)); n + 1],
            grads: vec![Array2::zeros((0, 0)); n + 1],
            fused_output_grad: false,
        })
    }

    pub fn input_shape(&self) -> Shape {
        self.input_shape
    }

    pub fn output_shape(&self) -> Shape {
        self.layers[self.layers.len() - 1].output_shape()
    }

    /// The output layer's activation (softmax, sigmoid, ...).
    pub fn output_activation(&self) -> Activation {
        self.layers[self.layers.len() - 1].activation()
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn specs(&self) -> Vec<LayerSpec> {
        self.layers.iter().map(|l| l.spec().clone()).collect()
    }

    /// The parameters of every layer that has some, in layer order.
    pub fn params(&self) -> impl Iterator<Item = &Params> {
        self.layers.iter().filter_map(Layer::params)
    }

    pub fn params_mut(&mut self) -> impl Iterator<Item = &mut Params> {
        self.layers.iter_mut().filter_map(Layer::params_mut)
    }

    /// The parameters of layer `index`, if it has some.
    pub fn layer_params_mut(&mut self, index: usize) -> Option<&mut Params> {
        self.layers.get_mut(index).and_then(Layer::params_mut)
    }

    /// Copies the weights and biases of `other`, a network of the same architecture.
    pub fn copy_params_from(&mut self, other: &Network) {
        for (mine, theirs) in self.params_mut().zip(other.params()) {
            mine.weight.assign(&theirs.weight);
            mine.bias.assign(&theirs.bias);
        }
    }

    /// Number of trainable values.
    pub fn parameter_count(&self) -> usize {
        self.params().map(Params::len).sum()
    }

    /// activation(0): the input batch; activation(i + 1): layer i's output. [batch, len]
    pub fn activation(&self, index: usize) -> &Array2<f32> {
        &self.activations[index]
    }

    /// dL/d activation(index) of the last backward pass (empty for index 0). [batch, len]
    pub fn grad_activation(&self, index: usize) -> &Array2<f32> {
        &self.grads[index]
    }

    /// The output of the last forward pass, [batch, outputs].
    pub fn output(&self) -> &Array2<f32> {
        &self.activations[self.layers.len()]
    }

    /// Loads a batch x: [batch, input_len] as activation(0).
    pub fn set_input(&mut self, x: ArrayView2<f32>) -> Result<(), NetworkError> {
        if x.ncols() != self.input_shape.len() {
            return Err(NetworkError::InputWidth {
                expected: self.input_shape.len(),
                shape: self.input_shape,
                found: x.ncols(),
            });
        }
        let input = &mut self.activations[0];
        if input.dim() == x.dim() {
            input.assign(&x);
        } else {
            *input = x.to_owned();
        }
        Ok(())
    }

    /// Runs layer `index` on activation(index). `rng` in training (dropout), None at inference.
    pub fn forward_layer(&mut self, index: usize, rng: Option<&mut Rng>) {
        let (done, rest) = self.activations.split_at_mut(index + 1);
        self.layers[index].forward(done[index].view(), &mut rest[0], rng);
    }

    /// The whole forward pass. x: [batch, input_len] -> [batch, outputs].
    pub fn forward(
        &mut self,
        x: ArrayView2<f32>,
        mut rng: Option<&mut Rng>,
    ) -> Result<&Array2<f32>, NetworkError> {
        self.set_input(x)?;
        for index in 0..self.layers.len() {
            self.forward_layer(index, rng.as_deref_mut());
        }
        Ok(self.output())
    }

    /// The loss of the last forward pass against targets y: [batch, outputs].
    pub fn loss(&self, loss: Loss, y: ArrayView2<f32>) -> Result<f64, NetworkError> {
        let last = &self.layers[self.layers.len() - 1];
        let output = self.output().view();
        let z = last.pre_activation().map_or(output, |z| z.view());
        Ok(loss.value(last.activation(), z, output, y)?)
    }

    /// Starts the backward pass: computes the loss and dL/d(output), and for cross-entropy on
    /// softmax or sigmoid outputs the fused dL/dz of the output layer. Returns the loss.
    pub fn start_backward(&mut self, loss: Loss, y: ArrayView2<f32>) -> Result<f64, NetworkError> {
        let value = self.loss(loss, y)?;
        let n = self.layers.len();
        let activation = self.layers[n - 1].activation();
        let output = self.activations[n].view();
        self.grads[n] = loss.grad_output(activation, output, y);
        let fused = self.layers[n - 1]
            .pre_activation()
            .and_then(|z| loss.fused_grad_pre_activation(activation, z.view(), output, y));
        self.fused_output_grad = fused.is_some();
        if let Some(grad_z) = fused {
            self.layers[n - 1].set_grad_pre_activation(grad_z);
        }
        Ok(value)
    }

    /// Backward through layer `index`: its parameter gradients and dL/d(its input)
    /// (skipped for the first layer, whose input is the data).
    pub fn backward_layer(&mut self, index: usize) {
        let fused = self.fused_output_grad && index + 1 == self.layers.len();
        let (below, above) = self.grads.split_at_mut(index + 1);
        let grad_x = (index > 0).then(|| &mut below[index]);
        self.layers[index].backward(
            self.activations[index].view(),
            self.activations[index + 1].view(),
            above[0].view(),
            grad_x,
            fused,
        );
    }

    /// The whole backward pass after a forward pass; returns the loss.
    pub fn backward(&mut self, loss: Loss, y: ArrayView2<f32>) -> Result<f64, NetworkError> {
        let value = self.start_backward(loss, y)?;
        for index in (0..self.layers.len()).rev() {
            self.backward_layer(index);
        }
        Ok(value)
    }

    /// Everything the last pass left, taken out of the network: activation(i) and
    /// grad_activation(i) for i in 0..=layers, and each layer's parameters, z and dL/dz.
    pub fn into_pass(self) -> Pass {
        Pass {
            activations: self.activations,
            grads: self.grads,
            layers: self.layers.into_iter().map(Layer::into_parts).collect(),
        }
    }

    /// Inference on any number of rows, in chunks. x: [n, input_len] -> [n, outputs].
    pub fn predict(&mut self, x: ArrayView2<f32>) -> Result<Array2<f32>, NetworkError> {
        let mut out = Array2::zeros((x.nrows(), self.output_shape().len()));
        for start in (0..x.nrows()).step_by(PREDICT_CHUNK) {
            let end = (start + PREDICT_CHUNK).min(x.nrows());
            let y = self.forward(x.slice(s![start..end, ..]), None)?;
            out.slice_mut(s![start..end, ..]).assign(y);
        }
        Ok(out)
    }

    /// A Keras-style table of layers, output shapes and parameter counts.
    pub fn summary(&self) -> String {
        let mut text = format!("{:<36} {:>12} {:>10}\n", "layer", "output", "params");
        text += &format!(
            "{:<36} {:>12} {:>10}\n",
            "input",
            self.input_shape.to_string(),
            ""
        );
        for layer in &self.layers {
            text += &format!(
                "{:<36} {:>12} {:>10}\n",
                layer.spec().describe(),
                layer.output_shape().to_string(),
                layer.params().map_or(0, Params::len)
            );
        }
        text + &format!("total parameters: {}", self.parameter_count())
    }
}
