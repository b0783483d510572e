#!/usr/bin/python3
"""Writes the PyTorch parity fixtures under tests/fixtures/.

Run with Debian's interpreter, which is the one that sees Debian's python3-torch:

    apt-get update && apt-get install -y python3-torch python3-torchvision
    /usr/bin/python3 tools/make_fixtures.py

(the `python3` first on PATH may be a separate build without torch).

Every computation runs in float64 from inputs that were first rounded to
float32, so the stored float32 results are the exact answers, rounded once,
for exactly the stored inputs. The seed is fixed: rerunning gives the same
bytes.

Layouts are THIS project's, not PyTorch's (the script transposes):
  * activations are NHWC ([N, H, W, C]; PyTorch computes in NCHW);
  * convolution weights are HWIO ([KH, KW, Cin / groups, Cout]; PyTorch: OIHW);
  * linear weights are [in, out] so that y = x w + b (PyTorch: [out, in]);
  * labels are int32 [N, H, W] with 255 = ignore;
  * per-pixel maps are [N, H, W]; scalars are [1].

Each op file tests/fixtures/ops/<family>.safetensors holds tensors named
"<case>.<role>" and, in the metadata, "<case>" -> a JSON object with the case's
parameters. Gradients are those of <output, gy> for a random upstream
gradient gy stored as "<case>.gy" (for a scalar loss gy is a random [1]).
Gradient names are "g" + the input's name (gx, gw, gb, ...).

The safetensors files are written by hand (struct + json), so no package
beyond torch is needed.
"""
import json
import os
import struct

import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")
DTYPES = {torch.float32: "F32", torch.int32: "I32"}


def write_safetensors(path, tensors, metadata):
    """Writes a safetensors file: names sorted, tensors back to back, header padded to 8."""
    names = sorted(tensors)
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    for name in names:
        t = tensors[name].contiguous()
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = path + ".tmp"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


class Fixture:
    """Collects the tensors and case parameters of one fixture file."""

    def __init__(self):
        self.tensors = {}
        self.metadata = {}

    def case(self, name, **params):
        self.metadata[name] = json.dumps(params, sort_keys=True)

    def put(self, name, t, layout="plain"):
        t = t.detach()
        if layout == "nhwc":  # NCHW -> NHWC
            t = t.permute(0, 2, 3, 1)
        elif layout == "hwio":  # OIHW -> HWIO
            t = t.permute(2, 3, 1, 0)
        elif layout == "io":  # [out, in] -> [in, out]
            t = t.t()
        if t.dtype in (torch.int64, torch.int32):
            t = t.to(torch.int32)
        else:
            t = t.to(torch.float32)
        if t.dim() == 0:
            t = t.reshape(1)
        self.tensors[name] = t.contiguous()

    def write(self, relative):
        write_safetensors(os.path.join(ROOT, relative), self.tensors, self.metadata)


def exact(t):
    """Rounds float64 values to float32 and back: the stored inputs are then exactly the inputs."""
    return t.float().double()


def rand(*shape, scale=1.0):
    """float64 normal values already rounded to float32, so stored inputs are exact."""
    return exact(torch.randn(*shape, dtype=torch.float64) * scale)


def leaf(*shape, scale=1.0):
    return rand(*shape, scale=scale).requires_grad_(True)


def grads(output, inputs, gy):
    return torch.autograd.grad(output, inputs, gy, retain_graph=True)


def conv_fixture():
    fx = Fixture()
    cases = [
        ("pad1", dict(k=3, stride=1, padding=1, dilation=1, groups=1, cin=4, cout=6, bias=False)),
        ("stride2", dict(k=3, stride=2, padding=1, dilation=1, groups=1, cin=4, cout=6, bias=False)),
        ("dilation2", dict(k=3, stride=1, padding=2, dilation=2, groups=1, cin=4, cout=6, bias=False)),
        ("groups2", dict(k=3, stride=1, padding=1, dilation=1, groups=2, cin=4, cout=6, bias=False)),
        ("depthwise", dict(k=3, stride=1, padding=1, dilation=1, groups=5, cin=5, cout=5, bias=False)),
        ("vec4", dict(k=3, stride=1, padding=1, dilation=1, groups=1, cin=8, cout=8, bias=False)),
        ("depthwise8", dict(k=3, stride=1, padding=1, dilation=1, groups=8, cin=8, cout=8, bias=False)),
        ("depthwise8_stride2", dict(k=3, stride=2, padding=1, dilation=1, groups=8, cin=8, cout=8,
                                    bias=False)),
        ("depthwise8_dilation2", dict(k=3, stride=1, padding=2, dilation=2, groups=8, cin=8, cout=8,
                                      bias=False)),
        ("bias", dict(k=3, stride=1, padding=1, dilation=1, groups=1, cin=3, cout=5, bias=True)),
        ("pointwise", dict(k=1, stride=1, padding=0, dilation=1, groups=1, cin=7, cout=3, bias=True)),
    ]
    for name, p in cases:
        fx.case(name, **p)
        x = leaf(2, p["cin"], 7, 6)
        w = leaf(p["cout"], p["cin"] // p["groups"], p["k"], p["k"], scale=0.5)
        b = leaf(p["cout"]) if p["bias"] else None
        y = F.conv2d(x, w, b, stride=p["stride"], padding=p["padding"],
                     dilation=p["dilation"], groups=p["groups"])
        gy = rand(*y.shape)
        inputs = [x, w] + ([b] if b is not None else [])
        g = grads(y, inputs, gy)
        fx.put(f"{name}.x", x, "nhwc")
        fx.put(f"{name}.w", w, "hwio")
        fx.put(f"{name}.y", y, "nhwc")
        fx.put(f"{name}.gy", gy, "nhwc")
        fx.put(f"{name}.gx", g[0], "nhwc")
        fx.put(f"{name}.gw", g[1], "hwio")
        if b is not None:
            fx.put(f"{name}.b", b)
            fx.put(f"{name}.gb", g[2])
    fx.write("ops/conv.safetensors")


def norm_fixture():
    fx = Fixture()
    c = 3
    for mode in ("train", "eval"):
        momentum, eps = 0.1, 1e-5
        fx.case(mode, mode=mode, momentum=momentum, eps=eps)
        # A non-zero mean, so the centring matters.
        x = exact(rand(2, c, 5, 4, scale=2.0) + 0.5).requires_grad_(True)
        weight = leaf(c)
        bias = leaf(c)
        running_mean = rand(c, scale=0.3)
        running_var = exact(rand(c).abs() + 0.5)
        fx.put(f"{mode}.x", x, "nhwc")
        fx.put(f"{mode}.weight", weight)
        fx.put(f"{mode}.bias", bias)
        fx.put(f"{mode}.running_mean", running_mean)
        fx.put(f"{mode}.running_var", running_var)
        rm, rv = running_mean.clone(), running_var.clone()
        y = F.batch_norm(x, rm, rv, weight, bias, training=mode == "train",
                         momentum=momentum, eps=eps)
        gy = rand(*y.shape)
        gx, gweight, gbias = grads(y, [x, weight, bias], gy)
        fx.put(f"{mode}.y", y, "nhwc")
        fx.put(f"{mode}.gy", gy, "nhwc")
        fx.put(f"{mode}.gx", gx, "nhwc")
        fx.put(f"{mode}.gweight", gweight)
        fx.put(f"{mode}.gbias", gbias)
        fx.put(f"{mode}.running_mean_after", rm)
        fx.put(f"{mode}.running_var_after", rv)
    fx.write("ops/norm.safetensors")


def unary_case(fx, name, fn, x, layout="nhwc", **params):
    """Stores x, y = fn(x), a random gy and gx for one case."""
    fx.case(name, **params)
    y = fn(x)
    gy = rand(*y.shape)
    (gx,) = grads(y, [x], gy)
    fx.put(f"{name}.x", x, layout)
    fx.put(f"{name}.y", y, layout)
    fx.put(f"{name}.gy", gy, layout)
    fx.put(f"{name}.gx", gx, layout)


def elementwise_fixture():
    fx = Fixture()
    unary_case(fx, "relu", F.relu, leaf(2, 3, 5, 4))
    fx.case("add")
    a, b = leaf(2, 3, 5, 4), leaf(2, 3, 5, 4)
    y = a + b
    gy = rand(*y.shape)
    ga, gb = grads(y, [a, b], gy)
    for n, t in (("a", a), ("b", b), ("y", y), ("gy", gy), ("ga", ga), ("gb", gb)):
        fx.put(f"add.{n}", t, "nhwc")
    fx.write("ops/elementwise.safetensors")


def linear_fixture():
    fx = Fixture()
    fx.case("matmul", m=5, k=7, n=3)
    a, b = leaf(5, 7), leaf(7, 3)
    y = a @ b
    gy = rand(*y.shape)
    ga, gb = grads(y, [a, b], gy)
    for n, t in (("a", a), ("b", b), ("y", y), ("gy", gy), ("ga", ga), ("gb", gb)):
        fx.put(f"matmul.{n}", t)
    fx.case("linear", rows=6, inputs=9, outputs=4)
    x, w, bias = leaf(6, 9), leaf(4, 9, scale=0.5), leaf(4)
    y = F.linear(x, w, bias)
    gy = rand(*y.shape)
    gx, gw, gbias = grads(y, [x, w, bias], gy)
    fx.put("linear.x", x)
    fx.put("linear.w", w, "io")
    fx.put("linear.b", bias)
    fx.put("linear.y", y)
    fx.put("linear.gy", gy)
    fx.put("linear.gx", gx)
    fx.put("linear.gw", gw, "io")
    fx.put("linear.gb", gbias)
    fx.write("ops/linear.safetensors")


def pool_fixture():
    fx = Fixture()
    unary_case(fx, "max3s2p1", lambda x: F.max_pool2d(x, 3, 2, 1), leaf(2, 3, 7, 6),
               kernel=3, stride=2, padding=1)
    unary_case(fx, "max3s2p1_odd", lambda x: F.max_pool2d(x, 3, 2, 1), leaf(1, 5, 9, 8),
               kernel=3, stride=2, padding=1)
    unary_case(fx, "global_avg", lambda x: F.adaptive_avg_pool2d(x, 1), leaf(2, 3, 5, 4))
    fx.write("ops/pool.safetensors")


def resize_fixture():
    fx = Fixture()
    for name, (h, w), (oh, ow) in (("up", (5, 4), (9, 11)), ("down", (9, 11), (4, 5)),
                                   ("mixed", (6, 7), (13, 3))):
        unary_case(fx, name, lambda x: F.interpolate(x, size=(oh, ow), mode="bilinear",
                                                     align_corners=False),
                   leaf(2, 3, h, w), out_h=oh, out_w=ow, align_corners=False)
    fx.write("ops/resize.safetensors")


def concat_fixture():
    fx = Fixture()
    fx.case("channels", axis=3)
    parts = [leaf(2, c, 3, 4) for c in (2, 3, 1)]
    y = torch.cat(parts, dim=1)
    gy = rand(*y.shape)
    gs = grads(y, parts, gy)
    for i, (p, g) in enumerate(zip(parts, gs)):
        fx.put(f"channels.x{i}", p, "nhwc")
        fx.put(f"channels.gx{i}", g, "nhwc")
    fx.put("channels.y", y, "nhwc")
    fx.put("channels.gy", gy, "nhwc")
    fx.write("ops/concat.safetensors")


def softmax_fixture():
    fx = Fixture()
    for t in (1.0, 2.0):
        tag = f"t{int(t)}"
        unary_case(fx, f"log_softmax_{tag}", lambda x: F.log_softmax(x / t, dim=1),
                   leaf(2, 5, 3, 4, scale=2.0), temperature=t)
        unary_case(fx, f"softmax_{tag}", lambda x: F.softmax(x / t, dim=1),
                   leaf(2, 5, 3, 4, scale=2.0), temperature=t)
    fx.write("ops/softmax.safetensors")


def labels_with_ignore(n, h, w, classes, ignore_fraction=0.2):
    labels = torch.randint(0, classes, (n, h, w))
    labels[torch.rand(n, h, w) < ignore_fraction] = 255
    return labels


def loss_fixture():
    fx = Fixture()
    n, c, h, w = 2, 5, 4, 6

    # Cross-entropy, ignore 255: the per-pixel map (0 where ignored) with a random upstream,
    # plain mean over valid pixels, and the per-pixel-weighted sum / #valid.
    logits = leaf(n, c, h, w, scale=2.0)
    labels = labels_with_ignore(n, h, w, c)
    weights = (torch.rand(n, h, w, dtype=torch.float64) * 1.5 + 0.5).float().double()
    valid = (labels != 255).sum()
    fx.case("ce_map", ignore_index=255)
    fx.put("ce.logits", logits, "nhwc")
    fx.put("ce.labels", labels)
    fx.put("ce.weights", weights)
    ce_map = F.cross_entropy(logits, labels, ignore_index=255, reduction="none")
    gy = rand(n, h, w)
    fx.put("ce_map.y", ce_map)
    fx.put("ce_map.gy", gy)
    fx.put("ce_map.glogits", grads(ce_map, [logits], gy)[0], "nhwc")
    fx.case("ce_mean", ignore_index=255, reduction="sum over valid / #valid")
    ce_mean = F.cross_entropy(logits, labels, ignore_index=255)
    gy = rand(1)[0]
    fx.put("ce_mean.y", ce_mean)
    fx.put("ce_mean.gy", gy)
    fx.put("ce_mean.glogits", grads(ce_mean, [logits], gy)[0], "nhwc")
    fx.case("ce_weighted", ignore_index=255, reduction="sum of weight * ce over valid / #valid")
    ce_weighted = (ce_map * weights).sum() / valid
    gy = rand(1)[0]
    fx.put("ce_weighted.y", ce_weighted)
    fx.put("ce_weighted.gy", gy)
    fx.put("ce_weighted.glogits", grads(ce_weighted, [logits], gy)[0], "nhwc")

    # KL(softmax(teacher / T) || softmax(student / T)) per pixel (sum over channels).
    for t in (1.0, 2.0):
        name = f"kl_t{int(t)}"
        fx.case(name, temperature=t, formula="sum_c p_t (log p_t - log p_s) per pixel")
        student, teacher = leaf(n, c, h, w, scale=2.0), leaf(n, c, h, w, scale=2.0)
        kl = F.kl_div(F.log_softmax(student / t, dim=1), F.log_softmax(teacher / t, dim=1),
                      reduction="none", log_target=True).sum(dim=1)
        gy = rand(n, h, w)
        gs, gt = grads(kl, [student, teacher], gy)
        fx.put(f"{name}.student", student, "nhwc")
        fx.put(f"{name}.teacher", teacher, "nhwc")
        fx.put(f"{name}.y", kl)
        fx.put(f"{name}.gy", gy)
        fx.put(f"{name}.gstudent", gs, "nhwc")
        fx.put(f"{name}.gteacher", gt, "nhwc")

    # Masked mean of the KL map: sum_p m_p KL_p / sum_p m_p with f32 pixel weights.
    name = "kl_masked_mean"
    fx.case(name, temperature=1.0, formula="sum_p m_p KL_p / sum_p m_p")
    student, teacher = leaf(n, c, h, w, scale=2.0), leaf(n, c, h, w, scale=2.0)
    mask = exact(torch.rand(n, h, w, dtype=torch.float64) * (torch.rand(n, h, w) < 0.7))
    kl = F.kl_div(F.log_softmax(student, dim=1), F.log_softmax(teacher, dim=1),
                  reduction="none", log_target=True).sum(dim=1)
    y = (kl * mask).sum() / mask.sum()
    gy = rand(1)[0]
    gs, gt = grads(y, [student, teacher], gy)
    fx.put(f"{name}.student", student, "nhwc")
    fx.put(f"{name}.teacher", teacher, "nhwc")
    fx.put(f"{name}.mask", mask)
    fx.put(f"{name}.y", y)
    fx.put(f"{name}.gy", gy)
    fx.put(f"{name}.gstudent", gs, "nhwc")
    fx.put(f"{name}.gteacher", gt, "nhwc")

    # BCE with logits, elementwise and mean.
    x = leaf(n, c, h, w, scale=2.0)
    target = torch.rand(n, c, h, w, dtype=torch.float64).float().double()
    fx.put("bce.x", x, "nhwc")
    fx.put("bce.target", target, "nhwc")
    fx.case("bce_map")
    bce = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    gy = rand(*bce.shape)
    fx.put("bce_map.y", bce, "nhwc")
    fx.put("bce_map.gy", gy, "nhwc")
    fx.put("bce_map.gx", grads(bce, [x], gy)[0], "nhwc")
    fx.case("bce_mean", reduction="mean over all elements")
    bce_mean = F.binary_cross_entropy_with_logits(x, target)
    gy = rand(1)[0]
    fx.put("bce_mean.y", bce_mean)
    fx.put("bce_mean.gy", gy)
    fx.put("bce_mean.gx", grads(bce_mean, [x], gy)[0], "nhwc")
    fx.write("ops/loss.safetensors")


def distance_fixture():
    """Distances between rows (pixels) of a and b [P, D]: one value per row."""
    fx = Fixture()
    rows, dims = 7, 5
    for name, fn, formula in (
        ("l2", lambda a, b: (a - b).norm(dim=1), "sqrt(sum_d (a - b)^2)"),
        ("l2_squared", lambda a, b: ((a - b) ** 2).sum(dim=1), "sum_d (a - b)^2"),
        ("cosine", lambda a, b: 1 - F.cosine_similarity(a, b, dim=1, eps=1e-8),
         "1 - <a, b> / max(|a| |b|, 1e-8)"),
    ):
        fx.case(name, formula=formula)
        a, b = leaf(rows, dims), leaf(rows, dims)
        y = fn(a, b)
        gy = rand(rows)
        ga, gb = grads(y, [a, b], gy)
        for n, t in (("a", a), ("b", b), ("y", y), ("gy", gy), ("ga", ga), ("gb", gb)):
            fx.put(f"{name}.{n}", t)
    fx.write("ops/distance.safetensors")


def masked_fixture():
    """Masked mean over pixels: y[c] = sum_p m_p x[p, c] / sum_p m_p."""
    fx = Fixture()
    n, c, h, w = 2, 3, 4, 5
    for name, mask in (("binary", (torch.rand(n, h, w) < 0.6).to(torch.int32)),
                       ("weighted", (torch.rand(n, h, w, dtype=torch.float64) * 2).float().double())):
        fx.case(name, mask="i32 nonzero selects" if name == "binary" else "f32 weights")
        x = leaf(n, c, h, w)
        m = mask.double().reshape(n, 1, h, w)
        y = (x * m).sum(dim=(0, 2, 3)) / m.sum()
        gy = rand(c)
        (gx,) = grads(y, [x], gy)
        fx.put(f"{name}.x", x, "nhwc")
        fx.put(f"{name}.mask", mask)
        fx.put(f"{name}.y", y)
        fx.put(f"{name}.gy", gy)
        fx.put(f"{name}.gx", gx, "nhwc")
    fx.write("ops/masked.safetensors")


def two_block_net_fixture():
    """conv3x3 -> BN -> ReLU -> maxpool 3x3 s2 p1 -> conv3x3 d2 -> BN -> ReLU ->
    bilinear up to the input size -> 1x1 conv classifier -> CE (ignore 255, mean)."""
    fx = Fixture()
    n, cin, h, w, width, classes = 2, 3, 13, 11, 8, 5
    momentum, eps = 0.1, 1e-5
    fx.case("net", n=n, cin=cin, h=h, w=w, width=width, classes=classes, momentum=momentum,
            eps=eps, bn_mode="train", ignore_index=255, conv_bias=False, classifier_bias=True)
    x = leaf(n, cin, h, w)
    labels = labels_with_ignore(n, h, w, classes)
    params = {
        "conv1.w": leaf(width, cin, 3, 3, scale=(2 / (9 * cin)) ** 0.5),
        "bn1.weight": exact(1 + 0.1 * rand(width)).requires_grad_(True),
        "bn1.bias": leaf(width, scale=0.1),
        "conv2.w": leaf(width, width, 3, 3, scale=(2 / (9 * width)) ** 0.5),
        "bn2.weight": exact(1 + 0.1 * rand(width)).requires_grad_(True),
        "bn2.bias": leaf(width, scale=0.1),
        "classifier.w": leaf(classes, width, 1, 1, scale=(1 / width) ** 0.5),
        "classifier.b": leaf(classes, scale=0.1),
    }
    running = {f"bn{i}.{s}": torch.zeros(width, dtype=torch.float64) if s == "running_mean"
               else torch.ones(width, dtype=torch.float64)
               for i in (1, 2) for s in ("running_mean", "running_var")}
    for k, v in running.items():
        fx.put(k, v)
    p = params
    a1 = F.relu(F.batch_norm(F.conv2d(x, p["conv1.w"], padding=1), running["bn1.running_mean"],
                             running["bn1.running_var"], p["bn1.weight"], p["bn1.bias"],
                             training=True, momentum=momentum, eps=eps))
    pooled = F.max_pool2d(a1, 3, 2, 1)
    a2 = F.relu(F.batch_norm(F.conv2d(pooled, p["conv2.w"], padding=2, dilation=2),
                             running["bn2.running_mean"], running["bn2.running_var"],
                             p["bn2.weight"], p["bn2.bias"], training=True, momentum=momentum,
                             eps=eps))
    up = F.interpolate(a2, size=(h, w), mode="bilinear", align_corners=False)
    logits = F.conv2d(up, p["classifier.w"], p["classifier.b"])
    loss = F.cross_entropy(logits, labels, ignore_index=255)
    names = list(params)
    g = torch.autograd.grad(loss, [x] + [params[k] for k in names])
    fx.put("x", x, "nhwc")
    fx.put("labels", labels)
    for k in names:
        fx.put(k, params[k], "hwio" if k.endswith(".w") else "plain")
        fx.put(f"grad.{k}", g[1 + names.index(k)], "hwio" if k.endswith(".w") else "plain")
    fx.put("grad.x", g[0], "nhwc")
    for k in running:
        fx.put(f"{k}_after", running[k])
    # Intermediate activations locate a disagreement without rerunning torch.
    fx.put("act.block1", a1, "nhwc")
    fx.put("act.pooled", pooled, "nhwc")
    fx.put("act.block2", a2, "nhwc")
    fx.put("act.upsampled", up, "nhwc")
    fx.put("logits", logits, "nhwc")
    fx.put("loss", loss)
    fx.write("two_block_net.safetensors")


def main():
    for index, make in enumerate((conv_fixture, norm_fixture, elementwise_fixture, linear_fixture, pool_fixture,
                 resize_fixture, concat_fixture, softmax_fixture, loss_fixture, distance_fixture,
                 masked_fixture, two_block_net_fixture)):
        # One seed per file: adding a case to one family leaves the others' bytes alone.
        torch.manual_seed(20240611 + index)
        make()
    total = 0
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            total += os.path.getsize(os.path.join(dirpath, f))
    print(f"wrote fixtures under {os.path.normpath(ROOT)}: {total} bytes, torch {torch.__version__}")


if __name__ == "__main__":
    main()
