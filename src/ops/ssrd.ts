/**
 * The kernels of soft-sharp semantic relation distillation (docs/gsc.md §3;
 * the nodes are `autograd/ssrd.ts`'s `ssrdSoft` and `ssrdSharp`, the loss
 * `incremental/gsc/ssrd.ts`'s `ssrdLoss`).
 * - Soft, class level: per old class c present in the targets, R'_c and R_c
 *   are the mean teacher softmax(z' / Tsoft) and the mean unbiased student q
 *   at Tsoft over its pixels; soft = Tsoft^2 * mean_c KL(R'_c || R_c). The
 *   class means come from the deterministic segmented sum, so the backward is
 *   a gather: each pixel reads its class's row of dL/dR.
 * - Sharp, pixel level: mean over pixels with an old target of
 *   KL(softmax(z' / Tsharp) || q at T = 1).
 * The unbiased student at temperature T merges the tempered softmax of z / T
 * over background and the new classes into class 0 (MiB's merge).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { reduceLossRows } from "./loss.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { segmentedSum, segmentSumKernel } from "./segments.ts";
import commonSource from "../../shaders/ssrd/common.wgsl" with { type: "text" };
import statsSource from "../../shaders/ssrd/stats.wgsl" with { type: "text" };
import valueSource from "../../shaders/ssrd/soft_value.wgsl" with { type: "text" };
import finalizeSource from "../../shaders/ssrd/soft_finalize.wgsl" with { type: "text" };
import sharpSource from "../../shaders/ssrd/sharp.wgsl" with { type: "text" };
import backwardSource from "../../shaders/ssrd/backward.wgsl" with { type: "text" };

const WG = 64;

const logitInputs = {
  logits: { access: "read", type: "f32" },
  old_logits: { access: "read", type: "f32" },
  targets: { access: "read", type: "i32" },
} as const;

const pixelParams = {
  pixels: "u32",
  channels: "u32",
  old_classes: "u32",
  new_start: "u32",
  scale: "f32",
} as const;

const pixelSizes = (p: { pixels: number; channels: number; old_classes: number }) => ({
  logits: p.pixels * p.channels,
  old_logits: p.pixels * p.old_classes,
  targets: p.pixels,
});

/** Per-pixel log-normalisers at Tsoft: [P, 3] (u_0, logsumexp u, teacher logsumexp). */
export const ssrdStatsKernel = defineKernel({
  name: "shaders/ssrd/stats.wgsl",
  source: commonSource + statsSource,
  bindings: { ...logitInputs, stats: { access: "read_write", type: "f32" } },
  params: pixelParams,
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p) => ({ ...pixelSizes(p), stats: 3 * p.pixels }),
});

/** Class sums of the teacher and student distributions at Tsoft. */
export const ssrdRelationSumKernel = segmentSumKernel(
  "ssrd",
  commonSource + valueSource,
  { ...logitInputs, stats: { access: "read", type: "f32" } },
);

/** The soft term and its per-class gradient coefficients. */
export const ssrdSoftFinalizeKernel = defineKernel({
  name: "shaders/ssrd/soft_finalize.wgsl",
  source: finalizeSource,
  bindings: {
    sums: { access: "read", type: "f32" },
    counts: { access: "read", type: "u32" },
    coef: { access: "read_write", type: "f32" },
    soft: { access: "read_write", type: "f32" },
  },
  params: { classes: "u32", t2: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: () => [1, 1, 1],
  minElements: ({ classes }) => ({
    sums: 2 * classes * classes,
    counts: classes,
    coef: classes * classes,
    soft: 1,
  }),
});

/** Sharp-term rows [P, 2]: (KL, 1) on old-target pixels. */
export const ssrdSharpKernel = defineKernel({
  name: "shaders/ssrd/sharp.wgsl",
  source: commonSource + sharpSource,
  bindings: { ...logitInputs, rows: { access: "read_write", type: "f32" } },
  params: pixelParams,
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p) => ({ ...pixelSizes(p), rows: 2 * p.pixels }),
});

/** Gradient of one term (TERM 0 soft, 1 sharp) with respect to the student logits. */
export const ssrdBackwardKernel = defineKernel({
  name: "shaders/ssrd/backward.wgsl",
  source: commonSource + backwardSource,
  bindings: {
    ...logitInputs,
    stats: { access: "read", type: "f32" },
    coef: { access: "read", type: "f32" },
    grad: { access: "read", type: "f32" },
    totals: { access: "read", type: "f32" },
    dz: { access: "read_write", type: "f32" },
  },
  params: pixelParams,
  constants: { TERM: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: (p, { TERM }) => ({
    ...pixelSizes(p),
    stats: TERM === 0 ? 3 * p.pixels : 0,
    coef: TERM === 0 ? p.old_classes * p.old_classes : 0,
    grad: 1,
    totals: TERM === 1 ? 2 : 0,
    dz: p.pixels * p.channels,
  }),
});

/** The checked layout shared by both terms of SSRD. */
export interface SsrdLayout {
  readonly pixels: number;
  readonly channels: number;
  readonly old_classes: number;
  readonly new_start: number;
}

/** Checks the shapes and temperatures of SSRD: the layout, or why they disagree. */
export const ssrdLayout = (
  newLogits: Tensor<"f32">,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  newClassesStart: number,
  temperatures: readonly number[],
): SsrdLayout | BindingError => {
  const channels = newLogits.shape[newLogits.shape.length - 1] ?? 0;
  const pixels = targets.elements;
  const ok = oldClasses >= 1 && newClassesStart >= oldClasses && newClassesStart <= channels &&
    newLogits.elements === pixels * channels && oldLogits.elements === pixels * oldClasses &&
    temperatures.every((t) => t > 0 && Number.isFinite(t));
  if (ok) return { pixels, channels, old_classes: oldClasses, new_start: newClassesStart };
  return new BindingError({
    kernel: "ssrdLoss",
    binding: "newLogits",
    reason: `student [${newLogits.shape}], teacher [${oldLogits.shape}], targets ` +
      `[${targets.shape}], ${oldClasses} old classes, new classes from ${newClassesStart} ` +
      `and temperatures ${temperatures.join(", ")} do not agree`,
  });
};

/** What a term's backward reads: the forward's inputs and intermediates. */
export interface SsrdSaved {
  readonly logits: Tensor<"f32">;
  readonly oldLogits: Tensor<"f32">;
  readonly targets: Tensor<"i32">;
  readonly stats: Tensor<"f32">;
  readonly coef: Tensor<"f32">;
  readonly totals: Tensor<"f32">;
}

/** A term's value [1], its layout and what its backward reads. */
export interface SsrdTerm {
  readonly value: Tensor<"f32">;
  readonly layout: SsrdLayout;
  readonly saved: SsrdSaved;
}

/**
 * Gradient of one term (0 soft at 1 / Tsoft, 1 sharp at 1 / Tsharp) with
 * respect to the student logits, from the output gradient `grad` [1].
 */
export const ssrdBackward = (
  layout: SsrdLayout,
  invT: number,
  term: 0 | 1,
  tensors: SsrdSaved,
  grad: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const dz = yield* empty(tensors.logits.shape, "f32");
    yield* gpu.recorder.dispatch(
      ssrdBackwardKernel,
      {
        logits: tensors.logits,
        old_logits: tensors.oldLogits,
        targets: tensors.targets,
        stats: tensors.stats,
        coef: tensors.coef,
        grad,
        totals: tensors.totals,
        dz,
      },
      { ...layout, scale: invT },
      { TERM: term },
    );
    return dz;
  });

/** The soft term Tsoft^2 * mean_c KL(R'_c || R_c) ([1]; 0 without old targets). */
export const ssrdSoftForward = (
  logits: Tensor<"f32">,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  newClassesStart: number,
  tSoft: number,
): Effect.Effect<SsrdTerm, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const layout = ssrdLayout(logits, oldLogits, targets, oldClasses, newClassesStart, [tSoft]);
    if (layout instanceof BindingError) return yield* layout;
    const gpu = yield* Gpu;
    const params = { ...layout, scale: 1 / tSoft };
    const inputs = { logits, old_logits: oldLogits, targets };
    const stats = yield* empty([layout.pixels, 3], "f32");
    yield* gpu.recorder.dispatch(ssrdStatsKernel, { ...inputs, stats }, params);
    const relations = yield* segmentedSum(
      ssrdRelationSumKernel,
      { ...inputs, stats },
      { pixels: layout.pixels, values: 2 * oldClasses, segments: oldClasses },
      params,
    );
    const coef = yield* empty([oldClasses, oldClasses], "f32");
    const soft = yield* empty([1], "f32");
    yield* gpu.recorder.dispatch(
      ssrdSoftFinalizeKernel,
      { ...relations, coef, soft },
      { classes: oldClasses, t2: tSoft * tSoft },
    );
    const saved = { logits, oldLogits, targets, stats, coef, totals: soft };
    return { value: soft, layout, saved };
  });

/** The sharp term mean_i KL(softmax(z'_i / Tsharp) || q_i) ([1]). */
export const ssrdSharpForward = (
  logits: Tensor<"f32">,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
  newClassesStart: number,
  tSharp: number,
): Effect.Effect<SsrdTerm, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const layout = ssrdLayout(logits, oldLogits, targets, oldClasses, newClassesStart, [tSharp]);
    if (layout instanceof BindingError) return yield* layout;
    const gpu = yield* Gpu;
    const rows = yield* empty([layout.pixels, 2], "f32");
    const inputs = { logits, old_logits: oldLogits, targets };
    yield* gpu.recorder.dispatch(ssrdSharpKernel, { ...inputs, rows }, {
      ...layout,
      scale: 1 / tSharp,
    });
    const reduced = yield* reduceLossRows(rows, layout.pixels, 2, "mean", 1, [1]);
    const saved = { logits, oldLogits, targets, stats: rows, coef: rows, totals: reduced.totals };
    return { value: reduced.value, layout, saved };
  });
