#!/usr/bin/python3
"""A DeepLabV3 training step in PyTorch, built as src/nn/ builds ours: the peer
that bench/model.ts and tools/device_check.sh time beside the project.

The network follows src/nn/config.ts, resnet.ts, deeplab.ts and layers.ts:
- backbone: torchvision's ResNet layout (7x7/2 stem, BN, ReLU, 3x3/2 max pool,
  layer1..layer4 with `replace_stride_with_dilation` for output stride 16 or 8);
  basic blocks (small, resnet18/34) dilate both 3x3 convs with the block's
  dilation (the first block of a layer keeps the previous dilation), v1.5
  bottlenecks (resnet50/101) put stride and dilation on the 3x3; no conv bias;
- head: ASPP (1x1 branch, three dilated 3x3 branches at 6/12/18 for output
  stride 16 or 12/24/36 for 8, image pooling resized bilinearly), 1x1
  projection, 3x3 conv, 1x1 classifier with bias; every conv but the
  classifier is followed by BN and ReLU; no dropout (ours leaves it out);
  logits resized bilinearly (align_corners=False) to the input size;
- loss: pixel cross-entropy, mean over pixels, ignore 255;
- SGD: momentum 0.9, weight decay 1e-4 on every parameter, head (everything
  outside the backbone) at 10x the learning rate.

Inputs are NCHW here (ours are NHWC); uniform(-2, 2) images, labels uniform in
[0, classes). One training step is zero_grad, forward, loss, backward, step;
after `--warmup` steps each of `--steps` steps is timed alone (CUDA:
synchronised before reading the clock) and the median is reported as
`ms_per_step` (robust to a neighbour's burst on shared cores; mean and min
beside it). Prints one JSON line.

    /usr/bin/python3 tools/torch_step.py --backbone small --batch 8 --size 64 --os 16
    python3 tools/torch_step.py --backbone resnet101 --size 512 --batch 8 --device cuda
    /usr/bin/python3 tools/torch_step.py --backbone resnet101 --params-only
"""
import argparse
import json
import os
import statistics
import time

# libgomp's threads spin at barriers by default; when another process holds one
# of the cores (llvmpipe's threads, a test run beside), a 2-thread step then
# runs 5-10x slower. Passive waiting costs little on a quiet machine. It must be
# set before torch loads libgomp; an explicit OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# src/nn/config.ts: block kind, base width, blocks per layer, ASPP channels.
BACKBONES = {
    "small": ("basic", 16, (1, 1, 1, 1), 64),
    "resnet18": ("basic", 64, (2, 2, 2, 2), 256),
    "resnet34": ("basic", 64, (3, 4, 6, 3), 256),
    "resnet50": ("bottleneck", 64, (3, 4, 6, 3), 256),
    "resnet101": ("bottleneck", 64, (3, 4, 23, 3), 256),
}


def conv_bn(cin, cout, kernel, stride=1, padding=0, dilation=1):
    return [
        nn.Conv2d(cin, cout, kernel, stride, padding, dilation, bias=False),
        nn.BatchNorm2d(cout),
    ]


class Block(nn.Module):
    """A residual block: conv/BN pairs (ReLU between), optional downsample, add, ReLU."""

    def __init__(self, kind, inplanes, planes, stride, dilation):
        super().__init__()
        expansion = 4 if kind == "bottleneck" else 1
        if kind == "bottleneck":
            layers = (conv_bn(inplanes, planes, 1) + [nn.ReLU(inplace=True)] +
                      conv_bn(planes, planes, 3, stride, dilation, dilation) +
                      [nn.ReLU(inplace=True)] + conv_bn(planes, planes * expansion, 1))
        else:
            layers = (conv_bn(inplanes, planes, 3, stride, dilation, dilation) +
                      [nn.ReLU(inplace=True)] +
                      conv_bn(planes, planes, 3, 1, dilation, dilation))
        self.body = nn.Sequential(*layers)
        self.downsample = None
        if stride != 1 or inplanes != planes * expansion:
            self.downsample = nn.Sequential(*conv_bn(inplanes, planes * expansion, 1, stride))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(self.body(x) + identity)


def layer_geometry(output_stride):
    """src/nn/resnet.ts layerGeometry: (stride, dilation, previous dilation) per layer."""
    replace = [False, True, True] if output_stride == 8 else [False, False, True]
    dilation = 1
    out = []
    for index, stride in enumerate([1, 2, 2, 2]):
        previous = dilation
        if index > 0 and replace[index - 1]:
            dilation *= stride
            stride = 1
        out.append((stride, dilation, previous))
    return out


class ResNet(nn.Module):
    def __init__(self, kind, width, blocks, output_stride):
        super().__init__()
        expansion = 4 if kind == "bottleneck" else 1
        self.stem = nn.Sequential(*conv_bn(3, width, 7, 2, 3), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        inplanes = width
        layers = []
        for index, (stride, dilation, previous) in enumerate(layer_geometry(output_stride)):
            planes = width * 2 ** index
            for b in range(blocks[index]):
                layers.append(Block(kind, inplanes, planes, stride if b == 0 else 1,
                                    previous if b == 0 else dilation))
                inplanes = planes * expansion
        self.layers = nn.Sequential(*layers)
        self.channels = inplanes

    def forward(self, x):
        return self.layers(self.stem(x))


class Head(nn.Module):
    """ASPP, projection, 3x3 conv and the classifier (torchvision's DeepLabHead without dropout)."""

    def __init__(self, cin, c, classes, output_stride):
        super().__init__()
        rates = (12, 24, 36) if output_stride == 8 else (6, 12, 18)
        relu = lambda: nn.ReLU(inplace=True)  # noqa: E731
        self.branches = nn.ModuleList(
            [nn.Sequential(*conv_bn(cin, c, 1), relu())] +
            [nn.Sequential(*conv_bn(cin, c, 3, 1, r, r), relu()) for r in rates])
        self.pooling = nn.Sequential(nn.AdaptiveAvgPool2d(1), *conv_bn(cin, c, 1), relu())
        self.project = nn.Sequential(*conv_bn(5 * c, c, 1), relu())
        self.conv = nn.Sequential(*conv_bn(c, c, 3, 1, 1), relu())
        self.classifier = nn.Conv2d(c, classes, 1, bias=True)

    def forward(self, x):
        h, w = x.shape[-2:]
        outs = [b(x) for b in self.branches]
        outs.append(F.interpolate(self.pooling(x), size=(h, w), mode="bilinear",
                                  align_corners=False))
        return self.classifier(self.conv(self.project(torch.cat(outs, dim=1))))


class DeepLabV3(nn.Module):
    def __init__(self, backbone, output_stride, classes):
        super().__init__()
        kind, width, blocks, aspp = BACKBONES[backbone]
        self.backbone = ResNet(kind, width, blocks, output_stride)
        self.head = Head(self.backbone.channels, aspp, classes, output_stride)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        logits = self.head(self.backbone(x))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backbone", default="small", choices=sorted(BACKBONES))
    p.add_argument("--os", type=int, default=16, choices=(8, 16), help="output stride")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--classes", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads (0: every core this process may use)")
    p.add_argument("--tf32", action="store_true",
                   help="allow TF32 in CUDA convolutions and matmuls (off: plain f32, as ours)")
    p.add_argument("--params-only", action="store_true",
                   help="build the model and print its parameter count, no step")
    a = p.parse_args()

    threads = a.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = torch.device(a.device)
    model = DeepLabV3(a.backbone, a.os, a.classes)
    params = sum(t.numel() for t in model.parameters())
    result = {
        "peer": "pytorch",
        "torch": torch.__version__,
        "backbone": a.backbone,
        "output_stride": a.os,
        "batch": a.batch,
        "size": a.size,
        "classes": a.classes,
        "params": params,
        "device": str(device),
        "threads": threads,
    }
    if a.params_only:
        print(json.dumps(result))
        return
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cudnn.allow_tf32 = a.tf32
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        result["device_name"] = torch.cuda.get_device_name(device)
        result["tf32"] = a.tf32
    model = model.to(device).train()
    optimizer = torch.optim.SGD(
        [
            {"params": model.backbone.parameters()},
            {"params": model.head.parameters(), "lr": a.lr * 10},
        ],
        lr=a.lr, momentum=0.9, weight_decay=1e-4)
    g = torch.Generator().manual_seed(1)
    images = (torch.rand(a.batch, 3, a.size, a.size, generator=g) * 4 - 2).to(device)
    labels = torch.randint(0, a.classes, (a.batch, a.size, a.size), generator=g).to(device)

    def step():
        optimizer.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(images), labels, ignore_index=255)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(a.warmup):
        step()
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(a.steps):
        start = time.perf_counter()
        loss = step()
        sync(device)
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    result.update({
        "warmup": a.warmup,
        "steps": a.steps,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "ms_per_step": round(seconds * 1000, 3),
        "ms_mean": round(statistics.mean(times) * 1000, 3),
        "ms_min": round(min(times) * 1000, 3),
        "images_per_s": round(a.batch / seconds, 3),
        "loss": round(float(loss), 5),
    })
    if device.type == "cuda":
        result["peak_mib"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
