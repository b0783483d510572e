#!/usr/bin/env python3
"""The converter fixture (tests/parity/deeplab_test.ts): a few DeepLabV3-ResNet-50
tensors written by the converter's own writer, small enough to commit.

tests/fixtures/deeplab/converter.safetensors holds, under torchvision's names
and shapes (tests/fixtures/deeplab/state_names.json), one tensor of every
rule of the counter-based generator (make_deeplab_fixture.synthetic_tensor: a
stem conv, the stem batch norm's weight, bias, running mean and variance and
its num_batches_tracked, a deep running variance, the classifier's last conv
and bias) with the `gsc` metadata of a converted DeepLabV3
(convert_torchvision.deeplab_metadata), written by
convert_torchvision.write_safetensors. So the test checks, on a clean clone and
without PyTorch, that the converter's file format reads back through
src/nn/checkpoint.ts and that numpy's generator gives the TypeScript
generator's bits; the full 160 MB file (make_deeplab_fixture.py) is checked
only where it was generated.

Needs numpy only (torch and torchvision, imported by the converter's module,
are stubbed when missing: nothing used here touches them):

    python3 tools/make_converter_fixture.py [--out PATH]

The output is deterministic (sorted names, fixed layout).
"""
import argparse
import json
import os
import sys
import types

import numpy as np

try:  # The writer and the generator need numpy only.
    import torch  # noqa: F401
    import torchvision  # noqa: F401
except ImportError:
    sys.modules.setdefault("torch", types.ModuleType("torch"))
    sys.modules.setdefault("torchvision", types.ModuleType("torchvision"))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_torchvision import deeplab_metadata, write_safetensors  # noqa: E402
from make_deeplab_fixture import synthetic_tensor  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = [
    "backbone.conv1.weight",
    "backbone.bn1.weight",
    "backbone.bn1.bias",
    "backbone.bn1.running_mean",
    "backbone.bn1.running_var",
    "backbone.bn1.num_batches_tracked",
    "backbone.layer4.2.bn3.running_var",
    "classifier.4.weight",
    "classifier.4.bias",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(
        ROOT, "tests", "fixtures", "deeplab", "converter.safetensors"))
    args = parser.parse_args()
    with open(os.path.join(ROOT, "tests", "fixtures", "deeplab", "state_names.json")) as f:
        shapes = dict((name, tuple(shape)) for name, shape in json.load(f)["deeplabv3_resnet50"])
    arrays = {}
    for name in NAMES:
        if name.endswith("num_batches_tracked"):
            arrays[name] = np.zeros(shapes[name], dtype=np.int64)
        else:
            arrays[name] = synthetic_tensor(name, shapes[name])
    write_safetensors(args.out, arrays,
                      deeplab_metadata("resnet50", 21, "synthetic parity weights"))
    print(f"wrote {len(arrays)} tensors to {args.out}")


if __name__ == "__main__":
    main()
