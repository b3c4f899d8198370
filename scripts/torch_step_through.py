#!/usr/bin/env python3
"""Replays a `backprop-lab step-through --json` trace in PyTorch, independently of the Rust code.

    python scripts/torch_step_through.py TRACE.jsonl OUT.json [--summary-limit N] [--check]
    python scripts/torch_step_through.py --self-test

The network is rebuilt in torch from the trace's layer descriptions and starts from step 1's
`weight_before`/`bias_before` only; every later step follows from torch's own updates. Each step
feeds the step's input (`layers[0].input`) and `targets`, computes the loss, runs backward and one
optimizer step, and OUT.json records what torch computed, in Backprop Lab's layouts:

  activations [batch][h*w*c] channels-last, dense weight [units][inputs], conv weight
  [filters][k*k*in_channels] in (ky, kx, channel) order.

Torch works in its own layout (NCHW, weight [out, in, kh, kw]); the conversions are the only
places where the two meet: `to_nchw`/`from_nchw` and `ConvLayer.load`/`ConvLayer.ours`.
Flatten is the identity on our flat channels-last rows (torch's channels-first flatten would
reorder the features).

The output layer's grad_a under cross-entropy is dL/da as Backprop Lab defines it (probabilities
clipped to [1e-7, 1 - 1e-7]), computed here with torch tensor ops: torch's loss is computed from
the logits z, so autograd gives grad_z (the fused gradient) but no gradient for a.

`--self-test` builds traces with a NumPy implementation of Backprop Lab's math in its own layout
(im2col in (ky, kx, c) order, channels-last pooling, first-in-reading-order pool winners, the
fused loss gradients, the three update rules), replays them here and compares every field.

Needs torch and numpy (the reference venv: bash ../shared/bench/setup.sh).
"""

import argparse
import json
import math
import os
import platform
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FORMAT = "backprop-lab-torch-step-through/1"
EPSILON = np.float32(1e-7)  # Backprop Lab's probability clip (src/nn/loss.rs)
SUMMARY_SAMPLES = 2000  # evenly spaced values kept of a summarized tensor
SUMMARY_LARGEST = 64  # plus the indices of the largest |values|
DEFAULTS = {"momentum": 0.9, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 0.0}


class TraceError(Exception):
    pass


def f32(x):
    """A JSON number as the float32 the trainer used, given back as a Python float."""
    return float(np.float32(x))


def array(value, what):
    if value is None:
        raise TraceError(f"{what} is missing")
    a = np.asarray(value, dtype=np.float32)
    return a


# ---------------------------------------------------------------------------------------------
# The network, in torch, on flat channels-last rows


def to_nchw(x, shape):
    """[batch, h*w*c] (channels-last) -> [batch, c, h, w], contiguous."""
    h, w, c = shape
    return x.reshape(x.shape[0], h, w, c).permute(0, 3, 1, 2).contiguous()


def from_nchw(x):
    """[batch, c, h, w] -> [batch, h*w*c] (channels-last)."""
    return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)


ACTIVATIONS = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "linear": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


class DenseLayer(nn.Module):
    def __init__(self, spec, in_shape):
        super().__init__()
        if in_shape[0] != 1 or in_shape[1] != 1:
            raise TraceError(f"layer {spec['index']}: dense on a non-flat input {in_shape}")
        self.units = int(spec["units"])
        self.affine_map = nn.Linear(in_shape[2], self.units)
        self.out_shape = [1, 1, self.units]

    def affine(self, x):
        return self.affine_map(x)

    def load(self, weight, bias):
        with torch.no_grad():
            self.affine_map.weight.copy_(torch.from_numpy(weight))
            self.affine_map.bias.copy_(torch.from_numpy(bias))

    @property
    def weight(self):
        return self.affine_map.weight

    @property
    def bias(self):
        return self.affine_map.bias

    def ours(self, t):
        """A weight-shaped tensor (weight, grad, optimizer state) in our layout."""
        return t.detach().numpy().copy()


class ConvLayer(nn.Module):
    def __init__(self, spec, in_shape):
        super().__init__()
        self.filters, self.k = int(spec["filters"]), int(spec["kernel"])
        padding = spec.get("padding", "valid")
        if self.k % 2 == 0 or padding not in ("valid", "same"):
            raise TraceError(f"layer {spec['index']}: kernel {self.k}, padding {padding}")
        pad = self.k // 2 if padding == "same" else 0
        h, w, c = in_shape
        self.in_shape, self.c = in_shape, c
        self.affine_map = nn.Conv2d(c, self.filters, self.k, stride=1, padding=pad)
        self.out_shape = [h + 2 * pad - self.k + 1, w + 2 * pad - self.k + 1, self.filters]

    def affine(self, x):
        return from_nchw(self.affine_map(to_nchw(x, self.in_shape)))

    def load(self, weight, bias):
        f, k, c = self.filters, self.k, self.c
        if weight.shape != (f, k * k * c):
            raise TraceError(f"conv weight is {weight.shape}, expected {(f, k * k * c)}")
        # ours [f][(ky, kx, c)] -> torch [f, c, ky, kx]
        w = torch.from_numpy(weight).reshape(f, k, k, c).permute(0, 3, 1, 2)
        with torch.no_grad():
            self.affine_map.weight.copy_(w)
            self.affine_map.bias.copy_(torch.from_numpy(bias))

    @property
    def weight(self):
        return self.affine_map.weight

    @property
    def bias(self):
        return self.affine_map.bias

    def ours(self, t):
        # torch [f, c, ky, kx] -> ours [f][(ky, kx, c)]
        return t.detach().permute(0, 2, 3, 1).reshape(self.filters, -1).numpy().copy()


class MaxPoolLayer(nn.Module):
    def __init__(self, spec, in_shape):
        super().__init__()
        self.size = int(spec["size"])
        h, w, c = in_shape
        if self.size < 1 or h < self.size or w < self.size:
            raise TraceError(f"layer {spec['index']}: pool {self.size} on {in_shape}")
        self.in_shape = in_shape
        self.out_shape = [h // self.size, w // self.size, c]

    def forward(self, x):
        # stride = size, ragged edge dropped; the first maximum in reading order wins a tie
        return from_nchw(F.max_pool2d(to_nchw(x, self.in_shape), self.size))


class FlattenLayer(nn.Module):
    def __init__(self, spec, in_shape):
        super().__init__()
        self.out_shape = [1, 1, in_shape[0] * in_shape[1] * in_shape[2]]

    def forward(self, x):
        # our rows are already (h, w, c) order: a new tensor, same values
        return x.view(x.shape[0], -1)


class DropoutLayer(nn.Module):
    """Replays the mask implied by the trace (set per step by `set_mask`)."""

    def __init__(self, spec, in_shape):
        super().__init__()
        self.rate = f32(spec["rate"])
        self.out_shape = list(in_shape)
        self.mask = None

    def forward(self, x):
        return x if self.mask is None else x * self.mask


KINDS = {
    "dense": DenseLayer,
    "conv2d": ConvLayer,
    "max_pool2d": MaxPoolLayer,
    "flatten": FlattenLayer,
    "dropout": DropoutLayer,
}


def build(trace_layers, input_shape):
    """The torch nn.Sequential of our layers, each mapping flat channels-last rows to rows."""
    modules, shape = [], [int(v) for v in input_shape]
    for i, spec in enumerate(trace_layers):
        if spec.get("index", i) != i:
            raise TraceError(f"layer {i} has index {spec.get('index')}")
        kind = spec.get("type")
        if kind not in KINDS:
            raise TraceError(f"layer {i}: unknown type {kind!r}")
        if "input_shape" in spec and list(spec["input_shape"]) != shape:
            raise TraceError(f"layer {i}: trace input_shape {spec['input_shape']}, built {shape}")
        m = KINDS[kind](spec, shape)
        m.index, m.kind = i, kind
        m.activation = spec.get("activation") or "linear"
        if m.activation not in ACTIVATIONS:
            raise TraceError(f"layer {i}: unknown activation {m.activation!r}")
        if kind not in ("dense", "conv2d") and m.activation != "linear":
            raise TraceError(f"layer {i}: a {kind} layer with activation {m.activation}")
        if "output_shape" in spec and list(spec["output_shape"]) != m.out_shape:
            raise TraceError(f"layer {i}: trace output_shape {spec['output_shape']}, built {m.out_shape}")
        m.in_shape = shape
        modules.append(m)
        shape = m.out_shape
    return nn.Sequential(*modules)


def has_params(m):
    return isinstance(m, (DenseLayer, ConvLayer))


# ---------------------------------------------------------------------------------------------
# Loss and optimizer


def loss_of(kind, output_layer, z, a, y):
    """Torch's loss, float32, from the logits where cross-entropy is defined on them."""
    batch = a.shape[0]
    if kind == "mse":
        return F.mse_loss(a, y, reduction="mean")
    if kind != "cross-entropy":
        raise TraceError(f"unknown loss_kind {kind!r}")
    act = output_layer.activation
    if z is None or act not in ("softmax", "sigmoid") or (act == "softmax" and a.shape[1] < 2):
        raise TraceError(f"cross-entropy needs a softmax (2+ units) or sigmoid output, found {act}")
    if act == "softmax":
        return -(y * F.log_softmax(z, dim=1)).sum() / batch
    return F.binary_cross_entropy_with_logits(z, y, reduction="mean")


def loss_f64(kind, act, z, a, y):
    """The same loss accumulated in float64 from torch's float32 z and a (as the trainer does)."""
    z = None if z is None else z.detach().numpy().astype(np.float64)
    a, y = a.detach().numpy().astype(np.float64), y.numpy().astype(np.float64)
    if kind == "mse":
        return float(((a - y) ** 2).mean())
    if act == "softmax":
        m = z.max(axis=1, keepdims=True)
        lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
        return float((y * (lse - z)).sum() / a.shape[0])
    return float((np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z).mean())


def output_grad_a(kind, act, a, y):
    """dL/da of the output for cross-entropy, with the trainer's clipping (loss.rs grad_output)."""
    batch, n = a.shape
    a = a.detach()
    if act == "softmax":
        return -y / (a.clamp_min(float(EPSILON)) * batch)
    hi = float(np.float32(1) - EPSILON)
    ac = a.clamp(float(EPSILON), hi)
    return (ac - y) / (ac * (1 - ac) * (batch * n))


def optimizer_settings(opt):
    kind = opt.get("kind")
    if kind not in ("sgd", "momentum", "adam"):
        raise TraceError(f"unknown optimizer kind {kind!r}")
    s = {"kind": kind, "learning_rate": f32(opt["learning_rate"])}
    for key, default in DEFAULTS.items():
        v = opt.get(key)
        s[key] = f32(default if v is None else v)
    if kind == "sgd":
        s = {k: s[k] for k in ("kind", "learning_rate", "weight_decay")}
    elif kind == "momentum":
        s = {k: s[k] for k in ("kind", "learning_rate", "momentum", "weight_decay")}
    else:
        del s["momentum"]
    return s


def make_optimizer(settings, model):
    weights = [m.weight for m in model if has_params(m)]
    biases = [m.bias for m in model if has_params(m)]
    groups = [
        {"params": weights, "weight_decay": settings["weight_decay"]},
        {"params": biases, "weight_decay": 0.0},  # biases get no L2
    ]
    lr = settings["learning_rate"]
    if settings["kind"] == "adam":
        betas = (settings["beta1"], settings["beta2"])
        return torch.optim.Adam(groups, lr=lr, betas=betas, eps=settings["epsilon"], foreach=False)
    mu = settings["momentum"] if settings["kind"] == "momentum" else 0.0
    return torch.optim.SGD(groups, lr=lr, momentum=mu, dampening=0.0, nesterov=False, foreach=False)


def update_hyperparameters(optimizer, settings):
    """Same kind, new hyperparameters: the state is kept (as the trainer does)."""
    for i, group in enumerate(optimizer.param_groups):
        group["lr"] = settings["learning_rate"]
        group["weight_decay"] = settings["weight_decay"] if i == 0 else 0.0
        if settings["kind"] == "adam":
            group["betas"] = (settings["beta1"], settings["beta2"])
            group["eps"] = settings["epsilon"]
        elif settings["kind"] == "momentum":
            group["momentum"] = settings["momentum"]


def optimizer_state(optimizer, kind, m):
    if kind == "sgd":
        return {}
    sw, sb = optimizer.state[m.weight], optimizer.state[m.bias]
    if kind == "momentum":
        return {"velocity_weight": m.ours(sw["momentum_buffer"]),
                "velocity_bias": sb["momentum_buffer"].detach().numpy().copy()}
    return {
        "t": int(sw["step"]),
        "m_weight": m.ours(sw["exp_avg"]),
        "v_weight": m.ours(sw["exp_avg_sq"]),
        "m_bias": sb["exp_avg"].detach().numpy().copy(),
        "v_bias": sb["exp_avg_sq"].detach().numpy().copy(),
    }


# ---------------------------------------------------------------------------------------------
# Replay


def dropout_mask(m, spec, prev_spec):
    """The mask the trainer drew, from the trace's input and output of the dropout layer:
    dropped where the input is not 0 and the output is. Where the input is 0 the output says
    nothing; there the gradients do: dropped where this layer's grad_a is not 0 and the
    previous layer's grad_a (dL/d input) is. Returns (mask, count still undecided that matter)."""
    if m.rate <= 0:
        return None, 0
    x, a = array(spec.get("input"), "dropout input"), array(spec.get("a"), "dropout a")
    keep = np.float32(1) / (np.float32(1) - np.float32(m.rate))
    mask = np.where((x != 0) & (a == 0), np.float32(0), keep).astype(np.float32)
    if prev_spec is None:
        return torch.from_numpy(mask), 0  # no gradient flows to the data
    g_out = spec.get("grad_a")
    g_in = prev_spec.get("grad_a")
    if g_out is None or g_in is None:
        return torch.from_numpy(mask), int((x == 0).sum())
    g_out, g_in = array(g_out, "grad_a"), array(g_in, "grad_a")
    mask[(x == 0) & (g_out != 0) & (g_in == 0)] = 0
    return torch.from_numpy(mask), 0


def replay(lines):
    """Runs every step of the trace in torch; returns (static description, steps)."""
    first = lines[0]
    model = build(first["layers"], first["input_shape"])
    output_layer = model[len(model) - 1]
    for m, spec in zip(model, first["layers"]):
        if has_params(m):
            m.load(array(spec.get("weight_before"), f"layer {m.index} weight_before"),
                   array(spec.get("bias_before"), f"layer {m.index} bias_before"))
    settings = optimizer_settings(first["optimizer"])
    optimizer = make_optimizer(settings, model)
    loss_kind = first["loss_kind"]
    steps, notes = [], []
    for n, line in enumerate(lines):
        if [l.get("type") for l in line["layers"]] != [m.kind for m in model]:
            raise TraceError(f"step {line.get('step')}: the layers changed")
        if line["loss_kind"] != loss_kind:
            raise TraceError(f"step {line.get('step')}: the loss changed")
        new = optimizer_settings(line["optimizer"])
        if new["kind"] != settings["kind"]:
            optimizer = make_optimizer(new, model)  # a new kind starts from fresh state
        elif new != settings:
            update_hyperparameters(optimizer, new)
        settings = new
        for i, (m, spec) in enumerate(zip(model, line["layers"])):
            if isinstance(m, DropoutLayer):
                m.mask, ambiguous = dropout_mask(m, spec, line["layers"][i - 1] if i else None)
                if ambiguous:
                    notes.append(f"step {line.get('step')} layer {i}: {ambiguous} dropout mask "
                                 "values not implied by the trace (no effect on any gradient)")

        x = torch.from_numpy(array(line["layers"][0].get("input"), "layers[0].input"))
        y = torch.from_numpy(array(line.get("targets"), "targets"))
        in_len = int(np.prod(first["input_shape"]))
        if x.ndim != 2 or x.shape[1] != in_len:
            raise TraceError(f"step {line.get('step')}: input is {tuple(x.shape)}, expected [batch, {in_len}]")

        optimizer.zero_grad(set_to_none=True)
        zs, acts = [], []
        h = x
        for m in model:
            if has_params(m):
                z = m.affine(h)
                z.retain_grad()
                a = ACTIVATIONS[m.activation](z)
            else:
                z, a = None, m(h)
            a.retain_grad()
            zs.append(z)
            acts.append(a)
            h = a
        z_out, a_out = zs[-1], acts[-1]
        if y.shape != a_out.shape:
            raise TraceError(f"step {line.get('step')}: targets {tuple(y.shape)}, output {tuple(a_out.shape)}")
        loss = loss_of(loss_kind, output_layer, z_out, a_out, y)
        loss.backward()
        record = []
        for m, z, a in zip(model, zs, acts):
            r = {"index": m.index, "type": m.kind,
                 "a": a.detach().numpy().copy(),
                 "z": None if z is None else z.detach().numpy().copy(),
                 "grad_a": None if a.grad is None else a.grad.numpy().copy(),
                 "grad_z": None if z is None else z.grad.numpy().copy()}
            if has_params(m):
                r["grad_weight"] = m.ours(m.weight.grad)
                r["grad_bias"] = m.bias.grad.numpy().copy()
            record.append(r)
        if loss_kind == "cross-entropy":
            record[-1]["grad_a"] = output_grad_a(loss_kind, output_layer.activation, a_out, y).numpy().copy()
        elif record[-1]["grad_a"] is None:
            raise TraceError("no gradient reached the output")
        optimizer.step()
        for m, r in zip(model, record):
            if has_params(m):
                r["weight_after"] = m.ours(m.weight)
                r["bias_after"] = m.bias.detach().numpy().copy()
                r["state"] = optimizer_state(optimizer, settings["kind"], m)
            else:
                r.update(grad_weight=None, grad_bias=None, weight_after=None, bias_after=None, state={})
        steps.append({
            "step": line.get("step", n + 1),
            "samples": line.get("samples"),
            "loss": float(loss.item()),
            "loss_f64": loss_f64(loss_kind, output_layer.activation, z_out, a_out, y),
            "optimizer": settings,
            "layers": record,
        })
    static = {
        "loss_kind": loss_kind,
        "input_shape": [int(v) for v in first["input_shape"]],
        "layers": [{"index": m.index, "type": m.kind, "activation": m.activation,
                    "input_shape": m.in_shape, "output_shape": m.out_shape} for m in model],
    }
    return static, steps, notes


# ---------------------------------------------------------------------------------------------
# Output: our layout, float32 shortest round-trip text, large tensors summarized


def summarize(a, limit):
    """A float32 array as itself or, above `limit` values, as a summary with sampled values."""
    if a is None or a.size <= limit:
        return a
    flat = a.reshape(-1)
    n = flat.size
    even = np.linspace(0, n - 1, num=min(n, SUMMARY_SAMPLES)).round().astype(np.int64)
    largest = np.argsort(-np.abs(flat), kind="stable")[:SUMMARY_LARGEST]
    idx = np.unique(np.concatenate([even, largest]))
    f64 = flat.astype(np.float64)
    return {
        "count": int(n),
        "shape": list(a.shape),
        "sum": float(f64.sum()),
        "abs_sum": float(np.abs(f64).sum()),
        "max_abs": float(np.abs(f64).max()),
        "indices": idx.tolist(),
        "values": flat[idx],
    }


def fmt_f32(v):
    if not math.isfinite(v):
        return "null"
    return str(np.float32(v))  # shortest text that parses back to the same float32


def fmt_f64(v):
    return repr(float(v)) if math.isfinite(v) else "null"


def dumps(obj, indent=0):
    """JSON with float32 arrays written inline at float32 precision, dicts indented."""
    pad = "  " * indent
    if isinstance(obj, np.ndarray):
        if obj.ndim == 1:
            return "[" + ",".join(fmt_f32(v) for v in obj.tolist()) + "]"
        return "[" + ",".join(dumps(row) for row in obj) + "]"
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        inner = [f"{pad}  {json.dumps(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(inner) + "\n" + pad + "}"
    if isinstance(obj, list):
        if any(isinstance(v, (dict, np.ndarray)) for v in obj):
            inner = [f"{pad}  {dumps(v, indent + 1)}" for v in obj]
            return "[\n" + ",\n".join(inner) + "\n" + pad + "]"
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    if isinstance(obj, np.float32):
        return fmt_f32(float(obj))
    if isinstance(obj, float):
        return fmt_f64(obj)
    return json.dumps(obj)


TENSORS = ["a", "z", "grad_a", "grad_z", "grad_weight", "grad_bias", "weight_after", "bias_after"]


def output_document(static, steps, notes, limit, argv):
    out_steps = []
    for s in steps:
        layers = []
        for r in s["layers"]:
            layer = {"index": r["index"], "type": r["type"]}
            for key in TENSORS:
                layer[key] = summarize(r[key], limit)
            layer["state"] = {k: (summarize(v, limit) if isinstance(v, np.ndarray) else v)
                              for k, v in r["state"].items()}
            layers.append(layer)
        out_steps.append({"step": s["step"], "samples": s["samples"], "loss": s["loss"],
                          "loss_f64": s["loss_f64"],
                          "optimizer": {k: (v if k == "kind" else np.float32(v))
                                        for k, v in s["optimizer"].items()},
                          "layers": layers})
    return {
        "format": FORMAT,
        "command": argv,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "summary_limit": limit,
        "notes": notes,
        **static,
        "steps": out_steps,
    }


def read_trace(path):
    with open(path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    if not lines:
        raise TraceError(f"{path}: no steps")
    return lines


# ---------------------------------------------------------------------------------------------
# Comparison of OUT.json with the trace (--check, and the self-test)


PARTNER = {}
for _w, _b in [("grad_weight", "grad_bias"), ("weight_after", "bias_after"), ("m_weight", "m_bias"),
               ("v_weight", "v_bias"), ("velocity_weight", "velocity_bias")]:
    PARTNER[_w], PARTNER[_b] = _b, _w


def compare(out, lines, rtol):
    """Worst error of each field, normalized by the trace tensor's largest |value|.
    Returns (rows, failures)."""
    rows, failures = [], []

    def check(where, mine, theirs, partner=None):
        """partner: the trace tensor computed from the same grad_z (a bias's weight and back),
        whose largest |value| also sets the scale: a bias gradient summed over a batch can
        cancel to far below the float32 error of its terms."""
        if mine is None or theirs is None:
            if (mine is None) != (theirs is None):
                failures.append(f"{where}: torch {'null' if mine is None else 'value'}, "
                                f"trace {'null' if theirs is None else 'value'}")
            return
        ref = np.asarray(theirs, dtype=np.float32).reshape(-1).astype(np.float64)
        floor = 1e-30
        if partner is not None:
            floor = max(floor, float(np.abs(np.asarray(partner, dtype=np.float32)).max(initial=0.0)))
        if isinstance(mine, dict):  # summary
            if mine["count"] != ref.size:
                failures.append(f"{where}: {mine['count']} values, trace {ref.size}")
                return
            got = np.asarray(mine["values"], dtype=np.float64)
            ref_at = ref[np.asarray(mine["indices"])]
            scale = max(np.abs(ref).max(), floor)
            err = max(np.abs(got - ref_at).max() / scale,
                      abs(mine["sum"] - ref.sum()) / max(np.abs(ref).sum(), 1e-30),
                      abs(mine["abs_sum"] - np.abs(ref).sum()) / max(np.abs(ref).sum(), 1e-30))
        else:
            got = np.asarray(mine, dtype=np.float64).reshape(-1)
            if got.size != ref.size:
                failures.append(f"{where}: {got.size} values, trace {ref.size}")
                return
            scale = max(np.abs(ref).max(), floor) if ref.size else 1.0
            err = float(np.abs(got - ref).max() / scale) if ref.size else 0.0
        rows.append((where, err))
        if not err <= rtol:
            failures.append(f"{where}: normalized error {err:.3g} > {rtol:g}")

    for s, line in zip(out["steps"], lines):
        st = s["step"]
        err = abs(s["loss_f64"] - line["loss"]) / max(1.0, abs(line["loss"]))
        rows.append((f"step {st} loss", err))
        if not err <= rtol:
            failures.append(f"step {st} loss: torch {s['loss_f64']}, trace {line['loss']}")
        for mine, theirs in zip(s["layers"], line["layers"]):
            for key in TENSORS:
                check(f"step {st} layer {mine['index']} {key}", mine[key], theirs.get(key),
                      theirs.get(PARTNER.get(key, "")))
            tstate = theirs.get("state") or {}
            if set(mine["state"]) != set(tstate):
                failures.append(f"step {st} layer {mine['index']} state keys: torch "
                                f"{sorted(mine['state'])}, trace {sorted(tstate)}")
            for key, value in mine["state"].items():
                if key == "t":
                    if value != tstate.get("t"):
                        failures.append(f"step {st} layer {mine['index']} t: {value} vs {tstate.get('t')}")
                elif key in tstate:
                    check(f"step {st} layer {mine['index']} {key}", value, tstate[key],
                          tstate.get(PARTNER.get(key, "")))
    if len(out["steps"]) != len(lines):
        failures.append(f"{len(out['steps'])} steps replayed, trace has {len(lines)}")
    return rows, failures


def load_output(path):
    with open(path) as f:
        return json.load(f)


def print_check(rows, failures, file=sys.stderr):
    worst = {}
    for where, err in rows:
        key = where.split(" ", 2)[-1]  # "layer i field" or "loss"
        key = key.split(" ", 2)[-1] if key.startswith("layer") else key
        worst[key] = max(worst.get(key, 0.0), err)
    print("worst normalized error per field: " +
          ", ".join(f"{k} {v:.2g}" for k, v in sorted(worst.items())), file=file)
    for f in failures:
        print("MISMATCH " + f, file=file)


# ---------------------------------------------------------------------------------------------
# Self-test: traces made by a NumPy version of Backprop Lab's math, in Backprop Lab's layout


class Ref:
    """Backprop Lab's network in NumPy float64, written from its Rust sources' definitions."""

    def __init__(self, specs, input_shape, rng):
        self.specs, self.shapes, self.params = specs, [list(input_shape)], []
        shape = list(input_shape)
        for spec in specs:
            kind = spec["type"]
            h, w, c = shape
            if kind == "dense":
                lim = math.sqrt(6 / (h * w * c + spec["units"]))  # Glorot, non-zero biases
                W = rng.uniform(-lim, lim, (spec["units"], h * w * c))
                b = rng.uniform(-0.3, 0.3, spec["units"])
                shape = [1, 1, spec["units"]]
            elif kind == "conv2d":
                k, f = spec["kernel"], spec["filters"]
                pad = k // 2 if spec["padding"] == "same" else 0
                lim = math.sqrt(6 / (k * k * c + k * k * f))
                W = rng.uniform(-lim, lim, (f, k * k * c))
                b = rng.uniform(-0.2, 0.2, f)
                shape = [h + 2 * pad - k + 1, w + 2 * pad - k + 1, f]
            else:
                W = b = None
                if kind == "max_pool2d":
                    shape = [h // spec["size"], w // spec["size"], c]
                elif kind == "flatten":
                    shape = [1, 1, h * w * c]
            self.params.append([W, b])
            self.shapes.append(shape)

    @staticmethod
    def act(name, z):
        if name == "relu":
            return np.maximum(z, 0)
        if name == "sigmoid":
            return 1 / (1 + np.exp(-z))
        if name == "tanh":
            return np.tanh(z)
        if name == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return z.copy()

    @staticmethod
    def act_back(name, z, a, ga):
        if name == "relu":
            return np.where(z > 0, ga, 0.0)
        if name == "sigmoid":
            return ga * a * (1 - a)
        if name == "tanh":
            return ga * (1 - a * a)
        if name == "softmax":
            return a * (ga - (ga * a).sum(axis=1, keepdims=True))
        return ga.copy()

    @staticmethod
    def im2col(x, shape, k, pad):
        """[B, h*w*c] -> [B, positions, k*k*c] in (ky, kx, c) order."""
        h, w, c = shape
        B = x.shape[0]
        xp = np.zeros((B, h + 2 * pad, w + 2 * pad, c))
        xp[:, pad:pad + h, pad:pad + w, :] = x.reshape(B, h, w, c)
        oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
        cols = np.zeros((B, oh * ow, k * k * c))
        for oy in range(oh):
            for ox in range(ow):
                patch = np.zeros((B, k * k * c))
                for ky in range(k):
                    for kx in range(k):
                        for ch in range(c):
                            patch[:, (ky * k + kx) * c + ch] = xp[:, oy + ky, ox + kx, ch]
                cols[:, oy * ow + ox] = patch
        return cols

    @staticmethod
    def col2im(gcols, shape, k, pad):
        h, w, c = shape
        B = gcols.shape[0]
        oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
        gp = np.zeros((B, h + 2 * pad, w + 2 * pad, c))
        for oy in range(oh):
            for ox in range(ow):
                for ky in range(k):
                    for kx in range(k):
                        for ch in range(c):
                            gp[:, oy + ky, ox + kx, ch] += gcols[:, oy * ow + ox, (ky * k + kx) * c + ch]
        return gp[:, pad:pad + h, pad:pad + w, :].reshape(B, -1)

    def step(self, x, y, loss_kind, opt, state, rng, t):
        """One training step; returns the trace's layer records and the loss."""
        B = x.shape[0]
        recs, h = [], x
        for i, spec in enumerate(self.specs):
            kind, ish, osh = spec["type"], self.shapes[i], self.shapes[i + 1]
            W, b = self.params[i]
            r = {"input": h, "z": None, "cols": None, "mask": None}
            if kind == "dense":
                r["z"] = h @ W.T + b
            elif kind == "conv2d":
                k, pad = spec["kernel"], spec["kernel"] // 2 if spec["padding"] == "same" else 0
                r["cols"] = self.im2col(h, ish, k, pad)
                r["z"] = (r["cols"] @ W.T + b).reshape(B, -1)  # [B, positions*f], channels-last
            if r["z"] is not None:
                a = self.act(spec["activation"], r["z"])
            elif kind == "max_pool2d":
                s, (hh, ww, c) = spec["size"], ish
                xi = h.reshape(B, hh, ww, c)
                a = np.zeros((B, osh[0], osh[1], c))
                win = np.zeros((B, osh[0], osh[1], c), dtype=int)
                for oy in range(osh[0]):
                    for ox in range(osh[1]):
                        best = np.full((B, c), -np.inf)
                        for j in range(s * s):  # reading order, first maximum wins
                            v = xi[:, oy * s + j // s, ox * s + j % s, :]
                            better = v > best
                            best = np.where(better, v, best)
                            win[:, oy, ox] = np.where(better, j, win[:, oy, ox])
                        a[:, oy, ox] = best
                r["win"] = win
                a = a.reshape(B, -1)
            elif kind == "dropout" and spec["rate"] > 0:
                keep = 1 / (1 - np.float32(spec["rate"]))
                r["mask"] = np.where(rng.random(h.shape) < spec["rate"], 0.0, keep)
                a = h * r["mask"]
            else:
                a = h.copy()
            r["a"] = a
            recs.append(r)
            h = a
        last, a_out, z_out = self.specs[-1], recs[-1]["a"], recs[-1]["z"]
        out_act, n = last.get("activation", "linear"), a_out.shape[1]
        fused = None
        if loss_kind == "mse":
            loss = ((a_out - y) ** 2).mean()
            ga = 2 * (a_out - y) / (B * n)
        elif out_act == "softmax":
            m = z_out.max(axis=1, keepdims=True)
            lse = m + np.log(np.exp(z_out - m).sum(axis=1, keepdims=True))
            loss = (y * (lse - z_out)).sum() / B
            ga = -y / (np.maximum(a_out, 1e-7) * B)
            fused = (a_out * y.sum(axis=1, keepdims=True) - y) / B
        else:
            loss = (np.maximum(z_out, 0) + np.log1p(np.exp(-np.abs(z_out))) - y * z_out).mean()
            ac = np.clip(a_out, 1e-7, 1 - 1e-7)
            ga = (ac - y) / (ac * (1 - ac) * B * n)
            fused = (a_out - y) / (B * n)
        for i in reversed(range(len(self.specs))):
            spec, r, kind = self.specs[i], recs[i], self.specs[i]["type"]
            r["grad_a"] = ga
            W, b = self.params[i]
            if r["z"] is not None:
                gz = fused if (fused is not None and i == len(self.specs) - 1) else \
                    self.act_back(spec["activation"], r["z"], r["a"], ga)
                r["grad_z"] = gz
                if kind == "dense":
                    r["grad_weight"], r["grad_bias"] = gz.T @ r["input"], gz.sum(axis=0)
                    ga = gz @ W
                else:
                    k, f = spec["kernel"], spec["filters"]
                    pad = k // 2 if spec["padding"] == "same" else 0
                    g3 = gz.reshape(B, -1, f)
                    r["grad_weight"] = np.einsum("bpf,bpq->fq", g3, r["cols"])
                    r["grad_bias"] = g3.sum(axis=(0, 1))
                    ga = self.col2im(g3 @ W, self.shapes[i], k, pad)
            elif kind == "max_pool2d":
                s, (hh, ww, c), osh = spec["size"], self.shapes[i], self.shapes[i + 1]
                g = np.zeros((B, hh, ww, c))
                go = ga.reshape(B, osh[0], osh[1], c)
                for oy in range(osh[0]):
                    for ox in range(osh[1]):
                        for j in range(s * s):
                            sel = r["win"][:, oy, ox] == j
                            g[:, oy * s + j // s, ox * s + j % s] += np.where(sel, go[:, oy, ox], 0)
                ga = g.reshape(B, -1)
            elif kind == "dropout" and r["mask"] is not None:
                ga = ga * r["mask"]
            else:
                ga = ga.copy()
        # the update (optim.rs), weights with L2, biases without
        lr, wd = opt["learning_rate"], opt["weight_decay"]
        for i, (W, b) in enumerate(self.params):
            if W is None:
                continue
            r = recs[i]
            r["weight_before"], r["bias_before"] = W.copy(), b.copy()
            st = state.setdefault(i, {})
            for name, p, g, decay in (("weight", W, r["grad_weight"], wd), ("bias", b, r["grad_bias"], 0.0)):
                g = g + decay * p
                if opt["kind"] == "sgd":
                    p -= lr * g
                elif opt["kind"] == "momentum":
                    v = opt["momentum"] * st.get("velocity_" + name, 0.0) + g
                    st["velocity_" + name] = v
                    p -= lr * v
                else:
                    b1, b2 = opt["beta1"], opt["beta2"]
                    m = b1 * st.get("m_" + name, 0.0) + (1 - b1) * g
                    v = b2 * st.get("v_" + name, 0.0) + (1 - b2) * g * g
                    st["m_" + name], st["v_" + name] = m, v
                    p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + opt["epsilon"])
            r["weight_after"], r["bias_after"] = W.copy(), b.copy()
            r["state"] = dict(st, t=t) if opt["kind"] == "adam" else dict(st)
        return recs, float(loss)


def f32_list(a):
    if a is None:
        return None
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def make_trace(path, specs, input_shape, data, targets, loss_kind, opt, batches, seed):
    """Writes a trace in the step-through format from the NumPy reference."""
    rng = np.random.default_rng(seed)
    ref = Ref(specs, input_shape, rng)
    state = {}
    with open(path, "w") as f:
        for t, samples in enumerate(batches, start=1):
            x, y = data[samples], targets[samples]
            recs, loss = ref.step(x, y, loss_kind, opt, state, rng, t)
            layers = []
            for i, (spec, r) in enumerate(zip(specs, recs)):
                layer = dict(spec, index=i, activation=spec.get("activation", "linear"),
                             input_shape=ref.shapes[i], output_shape=ref.shapes[i + 1])
                for key in ("input", "z", "a", "grad_a", "grad_z", "weight_before", "bias_before",
                            "grad_weight", "grad_bias", "weight_after", "bias_after"):
                    layer[key] = f32_list(r.get(key))
                layer["state"] = {k: (v if k == "t" else f32_list(v)) for k, v in r.get("state", {}).items()}
                layers.append(layer)
            line = {"step": t, "samples": list(map(int, samples)), "targets": f32_list(y),
                    "loss": loss, "loss_kind": loss_kind,
                    "optimizer": {"kind": opt["kind"], "learning_rate": opt["learning_rate"],
                                  "momentum": opt.get("momentum"), "beta1": opt.get("beta1"),
                                  "beta2": opt.get("beta2"), "epsilon": opt.get("epsilon"),
                                  "weight_decay": opt["weight_decay"]},
                    "input_shape": list(input_shape), "layers": layers}
            f.write(json.dumps(line) + "\n")


def self_test(tmp, limit_small):
    rng = np.random.default_rng(7)
    optimizers = {
        "sgd": {"kind": "sgd", "learning_rate": 0.3, "weight_decay": 0.01},
        "momentum": {"kind": "momentum", "learning_rate": 0.2, "momentum": 0.9, "weight_decay": 0.01},
        "adam": {"kind": "adam", "learning_rate": 0.05, "beta1": 0.9, "beta2": 0.999,
                 "epsilon": 1e-8, "weight_decay": 0.01},
    }
    xor_x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    xor_y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    xor = [{"type": "dense", "units": 4, "activation": "tanh"},
           {"type": "dense", "units": 1, "activation": "sigmoid"}]
    img_shape = [7, 6, 2]
    imgs = rng.uniform(-1, 1, (6, 7 * 6 * 2))
    soft = rng.uniform(0, 1, (6, 3))
    soft /= soft.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[[0, 2, 1, 1, 0, 2]]
    conv = [{"type": "conv2d", "filters": 3, "kernel": 3, "padding": "same", "activation": "relu"},
            {"type": "conv2d", "filters": 4, "kernel": 3, "padding": "valid", "activation": "sigmoid"},
            {"type": "max_pool2d", "size": 2},  # 5x4 -> 2x2, ragged row dropped
            {"type": "flatten"},
            {"type": "dense", "units": 5, "activation": "tanh"},
            {"type": "dense", "units": 3, "activation": "softmax"}]
    # ReLU straight into the pool: windows of tied zeros, ragged column (7x5 -> 3x2)
    ties = [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": "same", "activation": "relu"},
            {"type": "max_pool2d", "size": 2},
            {"type": "flatten"},
            {"type": "dropout", "rate": 0.4},
            {"type": "dense", "units": 4, "activation": "relu"},
            {"type": "dense", "units": 3, "activation": "linear"}]
    ties_x = rng.uniform(-1, 0.3, (4, 7 * 5 * 1))
    cases = []
    for loss in ("mse", "cross-entropy"):
        for name, opt in optimizers.items():
            cases.append((f"xor-{loss}-{name}", xor, [1, 1, 2], xor_x, xor_y, loss, opt,
                          [[0, 1, 2, 3], [0, 1, 2, 3], [2, 0]], None))
    for name, opt in optimizers.items():
        cases.append((f"conv-ce-soft-{name}", conv, img_shape, imgs, soft, "cross-entropy", opt,
                      [[0, 1], [2, 3, 4], [5]], None))
    cases.append(("conv-ce-onehot-adam-summarized", conv, img_shape, imgs, onehot, "cross-entropy",
                  optimizers["adam"], [[0, 1], [3]], limit_small))
    cases.append(("conv-mse-softmax-momentum", conv, img_shape, imgs, onehot, "mse",
                  optimizers["momentum"], [[0, 1, 2], [4, 5]], None))
    cases.append(("ties-dropout-mse-linear-adam", ties, [7, 5, 1], ties_x, rng.uniform(-1, 1, (4, 3)),
                  "mse", optimizers["adam"], [[0, 1], [2, 3], [1, 2]], None))
    sig2 = xor[:-1] + [{"type": "dense", "units": 2, "activation": "sigmoid"}]
    cases.append(("xor-2-sigmoid-ce-sgd", sig2, [1, 1, 2], xor_x,
                  np.array([[0, 1], [1, 0.5], [1, 0], [0, 0]], dtype=np.float64),
                  "cross-entropy", optimizers["sgd"], [[0, 1, 2, 3], [1, 3]], None))

    failed = 0
    for name, specs, shape, x, y, loss, opt, batches, limit in cases:
        opt32 = {k: (f32(v) if isinstance(v, float) else v) for k, v in opt.items()}
        trace = os.path.join(tmp, name + ".jsonl")
        out = os.path.join(tmp, name + ".json")
        make_trace(trace, specs, shape, x, y, loss, opt32, batches, seed=len(name))
        run(trace, out, limit or 4096, ["--self-test", name])
        lines = read_trace(trace)
        doc = load_output(out)
        # the written numbers are the float32 values torch computed, exactly
        rows, failures = compare(doc, lines, 2e-5)
        summarized = sum(isinstance(l[k], dict) for s in doc["steps"] for l in s["layers"] for k in TENSORS)
        status = "ok" if not failures else "FAILED"
        worst = max(e for _, e in rows)
        print(f"{status:6} {name}: {len(rows)} tensors, worst normalized error {worst:.2g}"
              + (f", {summarized} summarized" if summarized else "")
              + (f", notes: {len(doc['notes'])}" if doc["notes"] else ""))
        for f_ in failures[:10]:
            print("   MISMATCH " + f_)
        failed += bool(failures)
    # float32 text round trip
    v = np.random.default_rng(1).standard_normal(10000).astype(np.float32) * np.float32(1e-3)
    v = np.concatenate([v, np.float32([1e-45, 3.4028235e38, -0.0, 1.0, 0.1])])
    back = np.asarray(json.loads(dumps(v)), dtype=np.float32)
    exact = np.array_equal(back.view(np.uint32), v.view(np.uint32))
    print(f"{'ok' if exact else 'FAILED':6} float32 text round trip ({v.size} values)")
    failed += not exact
    return failed


# ---------------------------------------------------------------------------------------------


def run(trace_path, out_path, limit, argv):
    lines = read_trace(trace_path)
    static, steps, notes = replay(lines)
    doc = output_document(static, steps, notes, limit, argv)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        f.write(dumps(doc) + "\n")
    os.replace(tmp, out_path)
    return lines, doc


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trace", nargs="?", help="JSON lines from `backprop-lab step-through --json`")
    p.add_argument("out", nargs="?", help="where to write torch's figures (JSON)")
    p.add_argument("--summary-limit", type=int, default=4096,
                   help="tensors with more values are summarized (default 4096)")
    p.add_argument("--check", action="store_true",
                   help="also compare with the trace; exit 1 on a mismatch")
    p.add_argument("--rtol", type=float, default=1e-4,
                   help="--check: largest error allowed, relative to each tensor's largest |value|")
    p.add_argument("--self-test", action="store_true",
                   help="replay NumPy-made traces (tiny MLPs and conv nets) and compare")
    args = p.parse_args()
    torch.set_num_threads(1)  # the same figures on every run
    if args.self_test:
        with tempfile.TemporaryDirectory() as tmp:
            failed = self_test(tmp, limit_small=40)
        print("self-test " + ("passed" if not failed else f"FAILED ({failed})"))
        return 1 if failed else 0
    if not (args.trace and args.out):
        p.error("TRACE and OUT are required (or --self-test)")
    try:
        lines, doc = run(args.trace, args.out, args.summary_limit, sys.argv)
    except (TraceError, KeyError, ValueError) as e:
        print(f"torch_step_through: {args.trace}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if args.check:
        rows, failures = compare(load_output(args.out), lines, args.rtol)
        print_check(rows, failures)
        return 1 if failures else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
