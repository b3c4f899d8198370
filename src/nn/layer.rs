//! One layer of a network: its configuration, parameters, and what it kept from the last pass.

use ndarray::{Array1, Array2, ArrayView2};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::conv::{self, ConvGeometry};
use super::{Activation, Padding, Rng, Shape, dense, init, pool};

/// What a layer is, as written in presets and model files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LayerSpec {
    /// a = f(x · Wᵀ + b), W: [units, inputs].
    Dense {
        units: usize,
        activation: Activation,
    },
    /// a = f(conv(x, W) + b), W: [filters, kernel * kernel * in_channels], stride 1.
    Conv2d {
        filters: usize,
        kernel: usize,
        #[serde(default)]
        padding: Padding,
        activation: Activation,
    },
    /// Maximum over `size x size` windows, stride `size`.
    MaxPool2d { size: usize },
    /// An image as a flat vector (channels-last order); moves no data.
    Flatten,
    /// Zeroes each input with probability `rate` while training, scaling the rest by
    /// 1 / (1 - rate); the identity at inference.
    Dropout { rate: f32 },
}

impl LayerSpec {
    /// The shape this layer produces from `input`, or why it cannot take it.
    pub fn output_shape(&self, input: Shape) -> Result<Shape, String> {
        match *self {
            LayerSpec::Dense { units, .. } => {
                if units == 0 {
                    return Err("a dense layer needs at least one unit".into());
                }
                if !input.is_flat() {
                    return Err(format!(
                        "dense layer needs a flat input, found {input}: add a flatten layer first"
                    ));
                }
                Ok(Shape::flat(units))
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                padding,
                ..
            } => ConvGeometry::new(input, filters, kernel, padding).map(|g| g.output),
            LayerSpec::MaxPool2d { size } => pool::output_shape(input, size),
            LayerSpec::Flatten => Ok(Shape::flat(input.len())),
            LayerSpec::Dropout { rate } => {
                if !(0.0..1.0).contains(&rate) {
                    return Err(format!("dropout rate must be in [0, 1), found {rate}"));
                }
                Ok(input)
            }
        }
    }

    /// The activation applied after the layer's affine map (linear for layers without one).
    pub fn activation(&self) -> Activation {
        match *self {
            LayerSpec::Dense { activation, .. } | LayerSpec::Conv2d { activation, .. } => {
                activation
            }
            _ => Activation::Linear,
        }
    }

    /// Shapes of (weight, bias) for `input`, for layers that have parameters.
    pub fn param_shapes(&self, input: Shape) -> Option<((usize, usize), usize)> {
        match *self {
            LayerSpec::Dense { units, .. } => Some(((units, input.len()), units)),
            LayerSpec::Conv2d {
                filters, kernel, ..
            } => Some(((filters, kernel * kernel * input.channels), filters)),
            _ => None,
        }
    }

    /// A short human description, e.g. "Dense(128, relu)".
    pub fn describe(&self) -> String {
        match self {
            LayerSpec::Dense { units, activation } => {
                format!("Dense({units}, {})", activation.name())
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                padding,
                activation,
            } => format!(
                "Conv2d({filters}, {kernel}x{kernel}, {}, {})",
                padding.name(),
                activation.name()
            ),
            LayerSpec::MaxPool2d { size } => format!("MaxPool2d({size}x{size})"),
            LayerSpec::Flatten => "Flatten".into(),
            LayerSpec::Dropout { rate } => format!("Dropout({rate})"),
        }
    }
}

/// A layer's weights and biases with the gradients of the last backward pass.
#[derive(Clone, Debug)]
pub struct Params {
    /// [units, inputs] for dense, [filters, kernel * kernel * in_channels] for conv.
    pub weight: Array2<f32>,
    /// [units] or [filters].
    pub bias: Array1<f32>,
    /// dL/dW, same shape as weight.
    pub grad_weight: Array2<f32>,
    /// dL/db, same shape as bias.
    pub grad_bias: Array1<f32>,
}

impl Params {
    fn new(weight: Array2<f32>, bias: Array1<f32>) -> Self {
        Self {
            grad_weight: Array2::zeros(weight.dim()),
            grad_bias: Array1::zeros(bias.len()),
            weight,
            bias,
        }
    }

    /// Number of trainable values.
    pub fn len(&self) -> usize {
        self.weight.len() + self.bias.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The operation a layer performs, with the working memory it keeps from forward to backward.
#[derive(Clone, Debug)]
enum Op {
    Dense,
    /// With the im2col rows of the last input, and the gradient with respect to them.
    Conv {
        geometry: ConvGeometry,
        cols: Array2<f32>,
        grad_cols: Array2<f32>,
    },
    MaxPool {
        size: usize,
    },
    Flatten,
    /// With the mask of the last training pass (None after an inference pass).
    Dropout {
        rate: f32,
        mask: Option<Array2<f32>>,
    },
}

/// A layer with its parameters and the trace of the last pass through it.
#[derive(Clone, Debug)]
pub struct Layer {
    spec: LayerSpec,
    input_shape: Shape,
    output_shape: Shape,
    params: Option<Params>,
    op: Op,
    /// z = Wx + b of the last forward pass, [batch, out_len] (dense and conv only).
    pre_activation: Array2<f32>,
    /// dL/dz of the last backward pass, [batch, out_len] (dense and conv only).
    grad_pre_activation: Array2<f32>,
}

/// Resizes `a` to [rows, cols] when it is not already (keeps the allocation across batches).
fn ensure_shape<T: Clone + Default>(a: &mut Array2<T>, rows: usize, cols: usize) {
    if a.dim() != (rows, cols) {
        *a = Array2::default((rows, cols));
    }
}

impl Layer {
    /// A layer with freshly initialised parameters (see [`init::initial_weights`]).
    pub fn new(spec: LayerSpec, input_shape: Shape, rng: &mut Rng) -> Result<Self, String> {
        let output_shape = spec.output_shape(input_shape)?;
        let params = spec.param_shapes(input_shape).map(|(w_shape, b_len)| {
            let (fan_in, fan_out) = match spec {
                LayerSpec::Conv2d {
                    kernel, filters, ..
                } => (w_shape.1, kernel * kernel * filters),
                _ => (w_shape.1, w_shape.0),
            };
            let weight = init::initial_weights(w_shape, fan_in, fan_out, spec.activation(), rng);
            Params::new(weight, Array1::zeros(b_len))
        });
        Ok(Self::assemble(spec, input_shape, output_shape, params))
    }

    /// A layer with the given parameters, which must have the shapes the spec implies.
    pub fn with_params(
        spec: LayerSpec,
        input_shape: Shape,
        weight: Array2<f32>,
        bias: Array1<f32>,
    ) -> Result<Self, String> {
        let output_shape = spec.output_shape(input_shape)?;
        let Some((w_shape, b_len)) = spec.param_shapes(input_shape) else {
            return Err(format!("{} has no parameters", spec.describe()));
        };
        if weight.dim() != w_shape || bias.len() != b_len {
            return Err(format!(
                "{} on a {input_shape} input needs weight {}x{} and bias {}, found weight {}x{} and bias {}",
                spec.describe(),
                w_shape.0,
                w_shape.1,
                b_len,
                weight.nrows(),
                weight.ncols(),
                bias.len()
            ));
        }
        Ok(Self::assemble(
            spec,
            input_shape,
            output_shape,
            Some(Params::new(weight, bias)),
        ))
    }

    fn assemble(
        spec: LayerSpec,
        input_shape: Shape,
        output_shape: Shape,
        params: Option<Params>,
    ) -> Self {
        let op = match spec {
            LayerSpec::Conv2d {
                filters,
                kernel,
                padding,
                ..
            } => Op::Conv {
                geometry: ConvGeometry::new(input_shape, filters, kernel, padding)
                    .expect("output_shape accepted this geometry"),
                cols: Array2::zeros((0, 0)),
                grad_cols: Array2::zeros((0, 0)),
            },
            LayerSpec::Dense { .. } => Op::Dense,
            LayerSpec::MaxPool2d { size } => Op::MaxPool { size },
            LayerSpec::Flatten => Op::Flatten,
            LayerSpec::Dropout { rate } => Op::Dropout { rate, mask: None },
        };
        Self {
            spec,
            input_shape,
            output_shape,
            params,
            op,
            pre_activation: Array2::zeros((0, 0)),
            grad_pre_activation: Array2::zeros((0, 0)),
        }
    }

    pub fn spec(&self) -> &LayerSpec {
        &self.spec
    }

    pub fn input_shape(&self) -> Shape {
        self.input_shape
    }

    pub fn output_shape(&self) -> Shape {
        self.output_shape
    }

    pub fn activation(&self) -> Activation {
        self.spec.activation()
    }

    pub fn params(&self) -> Option<&Params> {
        self.params.as_ref()
    }

    pub fn params_mut(&mut self) -> Option<&mut Params> {
        self.params.as_mut()
    }

    /// z of the last forward pass, [batch, out_len]; None for layers without an affine map.
    pub fn pre_activation(&self) -> Option<&Array2<f32>> {
        self.params.as_ref().map(|_| &self.pre_activation)
    }

    /// dL/dz of the last backward pass, [batch, out_len]; None for layers without an affine map.
    pub fn grad_pre_activation(&self) -> Option<&Array2<f32>> {
        self.params.as_ref().map(|_| &self.grad_pre_activation)
    }

    /// The parameters (with their gradients) and the z and dL/dz of the last pass, taken out of
    /// the layer (None where it has no affine map).
    pub fn into_parts(self) -> super::LayerPass {
        let affine = self.params.is_some();
        super::LayerPass {
            params: self.params,
            z: affine.then_some(self.pre_activation),
            grad_z: affine.then_some(self.grad_pre_activation),
        }
    }

    /// Writes dL/dz directly (the loss's fused gradient for softmax or sigmoid outputs).
    pub(super) fn set_grad_pre_activation(&mut self, grad: Array2<f32>) {
        self.grad_pre_activation = grad;
    }

    /// x: [batch, in_len] -> out: [batch, out_len]. `rng` is given in training (dropout draws
    /// from it) and None at inference.
    pub fn forward(&mut self, x: ArrayView2<f32>, out: &mut Array2<f32>, rng: Option<&mut Rng>) {
        let batch = x.nrows();
        ensure_shape(out, batch, self.output_shape.len());
        let activation = self.spec.activation();
        match (&mut self.op, &self.params) {
            (Op::Dense, Some(p)) => {
                ensure_shape(&mut self.pre_activation, batch, self.output_shape.len());
                dense::forward(x, &p.weight, &p.bias, &mut self.pre_activation);
                activation.forward(self.pre_activation.view(), out);
            }
            (Op::Conv { geometry, cols, .. }, Some(p)) => {
                ensure_shape(cols, batch * geometry.positions(), geometry.patch_len());
                ensure_shape(&mut self.pre_activation, batch, self.output_shape.len());
                conv::forward(
                    x,
                    &p.weight,
                    &p.bias,
                    geometry,
                    cols,
                    &mut self.pre_activation,
                );
                activation.forward(self.pre_activation.view(), out);
            }
            (Op::MaxPool { size }, _) => pool::forward(x, self.input_shape, *size, out),
            (Op::Dropout { rate, mask }, _) => {
                let rate = *rate;
                match rng {
                    Some(rng) if rate > 0.0 => {
                        let keep = 1.0 / (1.0 - rate);
                        let m = Array2::from_shape_simple_fn(x.dim(), || {
                            if rng.random::<f32>() < rate {
                                0.0
                            } else {
                                keep
                            }
                        });
                        out.assign(&(&x * &m));
                        *mask = Some(m);
                    }
                    _ => {
                        out.assign(&x);
                        *mask = None;
                    }
                }
            }
            // Flatten moves no data; dense and conv always have parameters
            (Op::Flatten | Op::Dense | Op::Conv { .. }, _) => out.assign(&x),
        }
    }

    /// Backward through this layer. x: its last input, a: its last output, grad_a: dL/da, all
    /// [batch, ..]. Fills the parameter gradients and, when `grad_x` is given, dL/dx.
    /// With `grad_z_is_set` the loss already wrote dL/dz (fused softmax/sigmoid gradient).
    pub fn backward(
        &mut self,
        x: ArrayView2<f32>,
        a: ArrayView2<f32>,
        grad_a: ArrayView2<f32>,
        grad_x: Option<&mut Array2<f32>>,
        grad_z_is_set: bool,
    ) {
        let batch = x.nrows();
        let mut grad_x = grad_x;
        if let Some(g) = grad_x.as_deref_mut() {
            ensure_shape(g, batch, self.input_shape.len());
        }
        if self.params.is_some() && !grad_z_is_set {
            ensure_shape(
                &mut self.grad_pre_activation,
                batch,
                self.output_shape.len(),
            );
            self.spec.activation().backward(
                self.pre_activation.view(),
                a,
                grad_a,
                &mut self.grad_pre_activation,
            );
        }
        match (&mut self.op, &mut self.params) {
            (Op::Dense, Some(p)) => dense::backward(
                x,
                &p.weight,
                &self.grad_pre_activation,
                &mut p.grad_weight,
                &mut p.grad_bias,
                grad_x,
            ),
            (
                Op::Conv {
                    geometry,
                    cols,
                    grad_cols,
                },
                Some(p),
            ) => {
                let grad_x = grad_x.map(|g| {
                    ensure_shape(grad_cols, cols.nrows(), cols.ncols());
                    (grad_cols, g)
                });
                conv::backward(
                    cols,
                    &p.weight,
                    &mut self.grad_pre_activation,
                    geometry,
                    &mut p.grad_weight,
                    &mut p.grad_bias,
                    grad_x,
                );
            }
            (Op::MaxPool { size }, _) => {
                if let Some(g) = grad_x {
                    pool::backward(x, a, grad_a, self.input_shape, *size, g);
                }
            }
            (Op::Dropout { mask, .. }, _) => {
                if let Some(g) = grad_x {
                    match mask {
                        Some(m) => g.assign(&(&grad_a * &*m)),
                        None => g.assign(&grad_a),
                    }
                }
            }
            (Op::Flatten | Op::Dense | Op::Conv { .. }, _) => {
                if let Some(g) = grad_x {
                    g.assign(&grad_a);
                }
            }
        }
    }
}
