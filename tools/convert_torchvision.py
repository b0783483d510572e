#!/usr/bin/python3
"""Converts torchvision weights to this project's checkpoint format.

Writes a torchvision ResNet (ImageNet classification) state dict, or a
torchvision DeepLabV3 state dict (--deeplab), to a safetensors file with
torchvision's names and layouts (conv weights OIHW, num_batches_tracked as an
I64 scalar). src/nn/load_weights.ts reads it: `loadPretrained` / `loadModelWeights`
detect a ResNet file (names without `backbone.`, `fc.*` skipped) and load it
into the backbone; a DeepLabV3 file loads into the whole model
(`aux_classifier.*` is dropped here).

Usage (Debian's PyTorch belongs to /usr/bin/python3):

    /usr/bin/python3 tools/convert_torchvision.py --arch resnet101 --out r101.safetensors \\
        [--weights resnet101-63fe2227.pth] [--deeplab [--num-classes 21]] [--seed 0]

Without --weights (no network here) the model keeps torchvision's own random
initialisation under `torch.manual_seed(--seed)`. The file is written by hand
(struct + json) when the `safetensors` package is missing; the output is
deterministic (sorted names, header padded to 8 bytes).
"""
import argparse
import json
import os
import struct
import tempfile

import numpy as np
import torch
import torchvision

ARCHS = ("resnet18", "resnet34", "resnet50", "resnet101")
BOTTLENECK = {"resnet50": [3, 4, 6, 3], "resnet101": [3, 4, 23, 3]}
BASIC = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}

DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64", np.dtype(np.int32): "I32",
          np.dtype(np.float64): "F64", np.dtype(np.uint8): "U8"}


def build_model(arch, deeplab, num_classes):
    """A torchvision ResNet, or DeepLabV3 on it (output stride 8, no aux classifier)."""
    if not deeplab:
        return getattr(torchvision.models, arch)(weights=None)
    if arch not in BOTTLENECK:
        raise SystemExit("torchvision builds DeepLabV3 on resnet50 and resnet101 only")
    builder = getattr(torchvision.models.segmentation, f"deeplabv3_{arch}")
    return builder(weights=None, weights_backbone=None, num_classes=num_classes, aux_loss=False)


def to_numpy(state_dict, drop_prefixes=("aux_classifier.",)):
    """The state dict as numpy arrays: floats as float32, counters as int64."""
    out = {}
    for name, tensor in state_dict.items():
        if any(name.startswith(p) for p in drop_prefixes):
            continue
        array = tensor.detach().cpu().numpy()
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        elif array.dtype.kind in "iu" and array.dtype != np.uint8:
            array = array.astype(np.int64)
        out[name] = np.ascontiguousarray(array)
    return out


def safetensors_bytes(arrays, metadata=None):
    """The bytes of a safetensors file: 8-byte header length, JSON header, data."""
    names = sorted(arrays)
    header = {}
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    offset = 0
    # Widest dtypes first keeps every tensor aligned to its element size.
    layout = sorted(names, key=lambda n: (-arrays[n].dtype.itemsize, n))
    offsets = {}
    for name in layout:
        offsets[name] = (offset, offset + arrays[name].nbytes)
        offset += arrays[name].nbytes
    for name in names:
        a = arrays[name]
        header[name] = {"dtype": DTYPES[a.dtype], "shape": list(a.shape),
                        "data_offsets": list(offsets[name])}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    parts = [struct.pack("<Q", len(text)), text]
    parts += [arrays[name].astype(arrays[name].dtype.newbyteorder("<")).tobytes() for name in layout]
    return b"".join(parts)


def write_safetensors(path, arrays, metadata=None):
    """Writes a safetensors file atomically (temp file in the same directory, fsync, rename)."""
    data = safetensors_bytes(arrays, metadata)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=directory, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def deeplab_metadata(arch, num_classes, source):
    """The `gsc` metadata of a converted DeepLabV3 (src/nn/checkpoint.ts's format 1)."""
    bottleneck = arch in BOTTLENECK
    config = {"backbone": arch, "outputStride": 8, "numClasses": num_classes,
              "block": "bottleneck" if bottleneck else "basic", "width": 64,
              "blocks": (BOTTLENECK if bottleneck else BASIC)[arch], "asppChannels": 256}
    return {"gsc": json.dumps({"format": 1, "model": config, "meta": {"source": source}},
                              separators=(",", ":"))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=ARCHS, required=True)
    parser.add_argument("--out", required=True, help="output .safetensors path")
    parser.add_argument("--weights", help="a torchvision .pth state dict (default: random init)")
    parser.add_argument("--deeplab", action="store_true", help="a DeepLabV3 state dict")
    parser.add_argument("--num-classes", type=int, default=21, help="DeepLabV3 classifier rows")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random init")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    model = build_model(args.arch, args.deeplab, args.num_classes)
    source = f"torchvision {args.arch} random init, seed {args.seed}"
    if args.weights:
        state = torch.load(args.weights, map_location="cpu")
        state = state.get("model", state) if isinstance(state, dict) else state
        if args.deeplab:
            state = {k: v for k, v in state.items() if not k.startswith("aux_classifier.")}
            num_classes = state["classifier.4.bias"].shape[0]
            model = build_model(args.arch, True, num_classes)
            args.num_classes = num_classes
        model.load_state_dict(state)
        source = f"torchvision {args.arch} from {os.path.basename(args.weights)}"
    arrays = to_numpy(model.state_dict())
    metadata = deeplab_metadata(args.arch, args.num_classes, source) if args.deeplab else None
    write_safetensors(args.out, arrays, metadata)
    print(f"wrote {len(arrays)} tensors to {args.out}")


if __name__ == "__main__":
    main()
