"""PyTorch interop fixtures for tests/torch_interop.rs (run by scripts/make_torch_interop_fixtures.sh).

1. For each model Backprop Lab exported (safetensors), build the nn.Sequential that
   `backprop-lab code --model` prints, load the file with strict checking, and write the test
   loss (cross-entropy from the logits, in float64) and the predictions PyTorch computes.
2. Train the printed mnist-mlp in PyTorch for a few hundred steps, save its state dict with
   safetensors.torch.save_file, and write the test loss and predictions PyTorch computes.

usage: python torch_interop.py BACKPROP_LAB_BINARY FIXTURE_DIR
"""
import gzip
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
MNIST = ROOT / "assets" / "mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def split(name):
    images = idx(MNIST / f"{name}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = idx(MNIST / f"{name}-labels-idx1-ubyte.gz").astype(np.int64)
    # channels first: [n, 1, 28, 28] (one channel: the same order as Backprop Lab's)
    return torch.from_numpy(images[:, None, :, :].copy()), torch.from_numpy(labels.copy())


def printed_model(binary, *args):
    """The model `backprop-lab code` prints, built by running the code."""
    code = subprocess.run([binary, "code", *args], check=True, capture_output=True, text=True).stdout
    scope = {}
    exec(code, scope)
    return scope["model"], code


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model[:-1](x)  # the model ends in its softmax: the loss takes the logits
        loss = torch.nn.functional.cross_entropy(logits.double(), y).item()
        predictions = logits.argmax(dim=1).tolist()
    return loss, predictions


def main():
    binary, out = sys.argv[1], Path(sys.argv[2])
    torch.manual_seed(0)
    test_x, test_y = split("t10k")
    for name in ["mnist-mlp", "mnist-cnn"]:
        path = out / f"exported-{name}.safetensors"
        model, _ = printed_model(binary, "--model", str(path))
        model.load_state_dict(load_file(path), strict=True)
        loss, predictions = evaluate(model, test_x, test_y)
        (out / f"exported-{name}.json").write_text(
            json.dumps({"test_loss": loss, "predictions": predictions}) + "\n"
        )
        print(f"{name}: PyTorch test loss {loss:.6f} on the exported weights")

    # the other way: PyTorch trains the printed mnist-mlp and saves its state dict
    model, _ = printed_model(binary, "--preset", "mnist-mlp")
    train_x, train_y = split("train")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for step in range(300):
        rows = torch.randint(0, len(train_y), (64,))
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model[:-1](train_x[rows]), train_y[rows])
        loss.backward()
        optimizer.step()
    path = out / "torch-mnist-mlp.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    loss, predictions = evaluate(model, test_x, test_y)
    (out / "torch-mnist-mlp.json").write_text(
        json.dumps({"test_loss": loss, "predictions": predictions}) + "\n"
    )
    print(f"PyTorch-trained mnist-mlp: test loss {loss:.6f}")


if __name__ == "__main__":
    main()
