// Parity with PyTorch for the losses and reductions (tests/fixtures/ops/loss.safetensors,
// distance.safetensors, masked.safetensors): cross-entropy with ignore 255 (per-pixel
// map, mean over valid pixels, per-pixel-weighted sum / #valid), KL over channels with
// temperatures and a masked mean, BCE with logits, the distances and the masked mean.
// Forward values and gradients; the upstream gradient is the fixture's random gy.
import { Effect } from "effect";
import { bceWithLogits, bceWithLogitsBackward } from "../../src/ops/bce.ts";
import { crossEntropy, crossEntropyBackward } from "../../src/ops/cross_entropy.ts";
import { distance, distanceBackward, type DistanceKindName } from "../../src/ops/distance.ts";
import { klDivergence, klDivergenceBackward, type KlOptions } from "../../src/ops/kl.ts";
import type { Reduction } from "../../src/ops/loss.ts";
import { maskedReduce, maskedReduceBackward } from "../../src/ops/masked.ts";
import { download } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { assertParity, loadFixture } from "../support/fixtures.ts";

// Every tensor to 1e-5 of its largest entry: the fixtures are float64 results rounded to
// f32, and the kernels meet them to a few 1e-7. A tolerance of 1e-4 per max(1, |value|)
// let a mean-reduced gradient (entries ~1e-3) be 10% off.
const TOL = 1e-5;

const losses = loadFixture("ops/loss.safetensors");
const distances = loadFixture("ops/distance.safetensors");
const masked = loadFixture("ops/masked.safetensors");

const crossEntropyCases: [string, Reduction, boolean][] = [
  ["ce_map", "none", false],
  ["ce_mean", "mean", false],
  ["ce_weighted", "mean", true],
];

for (const [name, reduction, weighted] of crossEntropyCases) {
  Deno.test({
    name: `cross-entropy ${name} matches PyTorch loss and logit gradient`,
    ...gpuTestOptions,
    fn: async () => {
      const f = losses;
      const [y, glogits, bad] = await runGpu(Effect.gen(function* () {
        const logits = yield* f.tensor("ce.logits");
        const labels = yield* f.labels("ce.labels");
        const options = {
          reduction,
          weights: weighted ? yield* f.tensor("ce.weights") : undefined,
        };
        const r = yield* crossEntropy(logits, labels, options);
        const gy = yield* f.tensor(`${name}.gy`);
        const dz = yield* crossEntropyBackward(logits, labels, gy, r.totals, options);
        return [yield* download(r.loss), yield* download(dz), yield* download(r.badLabels)];
      }));
      assertParity(y, f.f32(`${name}.y`), `${name} y`, TOL, "tensor");
      assertParity(glogits, f.f32(`${name}.glogits`), `${name} glogits`, TOL, "tensor");
      if (bad[0] !== 0) throw new Error(`${bad[0]} bad labels reported; the fixture has none`);
    },
  });
}

const klCases: [string, Reduction][] = [["kl_t1", "none"], ["kl_t2", "none"], [
  "kl_masked_mean",
  "mean",
]];

for (const [name, reduction] of klCases) {
  Deno.test({
    name: `KL divergence ${name} matches PyTorch loss, student and teacher gradients`,
    ...gpuTestOptions,
    fn: async () => {
      const f = losses;
      const { temperature } = f.params<{ temperature: number }>(name);
      const [y, gs, gt] = await runGpu(Effect.gen(function* () {
        const teacher = yield* f.tensor(`${name}.teacher`);
        const student = yield* f.tensor(`${name}.student`);
        const options: KlOptions = {
          teacher: "logits",
          student: "logits",
          temperature,
          reduction,
          mask: f.has(`${name}.mask`) ? yield* f.tensor(`${name}.mask`) : undefined,
        };
        const r = yield* klDivergence(teacher, student, options);
        const gy = yield* f.tensor(`${name}.gy`);
        const g = yield* klDivergenceBackward(teacher, student, gy, r.totals, options, true);
        return [yield* download(r.loss), yield* download(g.student), yield* download(g.teacher!)];
      }));
      assertParity(y, f.f32(`${name}.y`), `${name} y`, TOL, "tensor");
      assertParity(gs, f.f32(`${name}.gstudent`), `${name} gstudent`, TOL, "tensor");
      assertParity(gt, f.f32(`${name}.gteacher`), `${name} gteacher`, TOL, "tensor");
    },
  });
}

for (const [name, reduction] of [["bce_map", "none"], ["bce_mean", "mean"]] as const) {
  Deno.test({
    name: `BCE with logits ${name} matches PyTorch loss and gradient`,
    ...gpuTestOptions,
    fn: async () => {
      const f = losses;
      const [y, gx] = await runGpu(Effect.gen(function* () {
        const x = yield* f.tensor("bce.x");
        const target = yield* f.tensor("bce.target");
        const r = yield* bceWithLogits(x, target, reduction);
        const gy = yield* f.tensor(`${name}.gy`);
        const dx = yield* bceWithLogitsBackward(x, target, gy, r.totals, reduction);
        return [yield* download(r.loss), yield* download(dx)];
      }));
      assertParity(y, f.f32(`${name}.y`), `${name} y`, TOL, "tensor");
      assertParity(gx, f.f32(`${name}.gx`), `${name} gx`, TOL, "tensor");
    },
  });
}

const distanceCases: [string, DistanceKindName][] = [
  ["l2", "l2"],
  ["l2_squared", "l2Squared"],
  ["cosine", "cosine"],
];

for (const [name, kind] of distanceCases) {
  Deno.test({
    name: `distance ${name} per row matches PyTorch value and gradients`,
    ...gpuTestOptions,
    fn: async () => {
      const f = distances;
      const [y, ga, gb] = await runGpu(Effect.gen(function* () {
        const a = yield* f.tensor(`${name}.a`);
        const b = yield* f.tensor(`${name}.b`);
        const r = yield* distance(kind, a, b, { reduction: "none" });
        const gy = yield* f.tensor(`${name}.gy`);
        const g = yield* distanceBackward(kind, a, b, gy, r.totals, { reduction: "none" });
        return yield* Effect.forEach([r.value, g.a, g.b], download);
      }));
      assertParity(y, f.f32(`${name}.y`), `${name} y`, TOL, "tensor");
      assertParity(ga, f.f32(`${name}.ga`), `${name} ga`, TOL, "tensor");
      assertParity(gb, f.f32(`${name}.gb`), `${name} gb`, TOL, "tensor");
    },
  });
}

for (const name of ["binary", "weighted"]) {
  Deno.test({
    name: `masked mean (${name} mask) matches PyTorch value and gradient`,
    ...gpuTestOptions,
    fn: async () => {
      const f = masked;
      const [y, gx] = await runGpu(Effect.gen(function* () {
        const x = yield* f.tensor(`${name}.x`);
        const mask = name === "binary"
          ? yield* f.labels(`${name}.mask`)
          : yield* f.tensor(`${name}.mask`);
        const r = yield* maskedReduce("mean", x, mask);
        const gy = yield* f.tensor(`${name}.gy`);
        const dx = yield* maskedReduceBackward("mean", gy, mask, r.totals, x.shape);
        return [yield* download(r.value), yield* download(dx)];
      }));
      assertParity(y, f.f32(`${name}.y`), `${name} y`, TOL, "tensor");
      assertParity(gx, f.f32(`${name}.gx`), `${name} gx`, TOL, "tensor");
    },
  });
}
