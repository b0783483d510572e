#!/usr/bin/python3
"""The DeepLabV3-ResNet-50 parity fixture (tests/parity/deeplab_test.ts).

Builds torchvision's `deeplabv3_resnet50(weights=None, weights_backbone=None,
num_classes=21, aux_loss=False)`, fills every tensor with the counter-based
generator of src/nn/synthetic_weights.ts (bit-identical here with numpy),
writes the full weights through the converter to
data/deeplab_r50_parity.safetensors (gitignored, ~160 MB), and commits only
tests/fixtures/deeplab/parity.safetensors: the 2x3x65x65 input (NCHW), the
eval-mode output (NCHW, computed in float64 from the float32 weights and input)
and, in the metadata, a checksum (sum, sum of squares) of every tensor; and
tests/fixtures/deeplab/state_names.json: the state-dict names and shapes, in
order, of torchvision's deeplabv3_resnet50/101 and resnet18/34/50/101.

    /usr/bin/python3 tools/make_deeplab_fixture.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torchvision import deeplab_metadata, to_numpy, write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
U32 = np.uint32


def name_hash(name):
    h = 0x811C9DC5
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def mix32(v):
    z = (v + U32(0x9E3779B9)).astype(U32)
    z = ((z ^ (z >> U32(16))) * U32(0x21F0AAAD)).astype(U32)
    z = ((z ^ (z >> U32(15))) * U32(0x735A2D97)).astype(U32)
    return (z ^ (z >> U32(15))).astype(U32)


def synthetic_tensor(name, shape):
    """Same values as syntheticTensor in src/nn/synthetic_weights.ts."""
    n = int(np.prod(shape, dtype=np.int64))
    key = np.full(n, name_hash(name), dtype=U32)
    h = mix32((key ^ mix32(np.arange(n, dtype=U32))).astype(U32))
    u = (h >> U32(8)).astype(np.float64) * 2.0 ** -24 - 0.5
    if len(shape) >= 2:
        values = u * math.sqrt(12 / int(np.prod(shape[1:])))
    elif name.endswith(".running_var"):
        values = 0.75 + 0.5 * (u + 0.5)
    elif name.endswith(".running_mean") or name.endswith(".bias"):
        values = 0.2 * u
    else:
        values = 1 + 0.5 * u
    return values.astype(np.float32).reshape(shape)


def main():
    torch.manual_seed(0)
    model = torchvision.models.segmentation.deeplabv3_resnet50(
        weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
    state = model.state_dict()
    filled = {}
    checksums = {}
    for name, tensor in state.items():
        if name.endswith("num_batches_tracked"):
            filled[name] = torch.zeros((), dtype=torch.int64)
            continue
        values = synthetic_tensor(name, tuple(tensor.shape))
        filled[name] = torch.from_numpy(values)
        v64 = values.astype(np.float64).ravel()
        checksums[name] = [float(v64.sum()), float((v64 * v64).sum())]
    model.load_state_dict(filled)
    model.eval()

    weights_path = os.path.join(ROOT, "data", "deeplab_r50_parity.safetensors")
    write_safetensors(weights_path, to_numpy(model.state_dict()),
                      deeplab_metadata("resnet50", 21, "synthetic parity weights"))

    images = torch.randn(2, 3, 65, 65, dtype=torch.float32)
    with torch.no_grad():
        output = model.double()(images.double())["out"].float()
    fixture = {"input": images.numpy(), "output": output.numpy()}
    meta = {"checksums": json.dumps(checksums, sort_keys=True, separators=(",", ":")),
            "model": "deeplabv3_resnet50 num_classes=21 aux_loss=False eval, float64"}
    out = os.path.join(ROOT, "tests", "fixtures", "deeplab", "parity.safetensors")
    write_safetensors(out, fixture, meta)
    names = {}
    for arch in ("resnet50", "resnet101"):
        m = getattr(torchvision.models.segmentation, f"deeplabv3_{arch}")(
            weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
        names[f"deeplabv3_{arch}"] = [[k, list(v.shape)] for k, v in m.state_dict().items()]
    for arch in ("resnet18", "resnet34", "resnet50", "resnet101"):
        m = getattr(torchvision.models, arch)(weights=None)
        names[arch] = [[k, list(v.shape)] for k, v in m.state_dict().items()]
    with open(os.path.join(ROOT, "tests", "fixtures", "deeplab", "state_names.json"), "w") as f:
        json.dump(names, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out} and {weights_path}; |output| max {float(output.abs().max()):.4f}")


if __name__ == "__main__":
    main()
