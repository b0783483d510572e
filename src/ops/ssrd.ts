/**
 * The kernels of GSC's soft-sharp semantic relation distillation (docs/gsc.md
 * §3; the nodes are `autograd/ssrd.ts`'s `ssrdSoftLabel` and `ssrdEntropy`,
 * the weighted loss `incremental/gsc/ssrd.ts`'s `ssrdLoss`), FISS's two
 * output terms (JiahuaDong/FISS utils/loss.py, train.py):
 * - soft label: q_i = softmax([sigmoid(z'_i), one-hot of the pixel's current
 *   class or zeros]); the term is -(1/C) sum_c q_ic log p_ic, averaged over
 *   the pixels whose target is not 255;
 * - entropy: -(1/C) sum_c p_ic log p_ic averaged over every pixel (FISS's
 *   `reg_pesudo_label`), maximal for a uniform output and 0 for a one-hot one.
 * p = softmax(z) over the C channels of the student. Each term writes rows
 * [P, 2] (value, counted) reduced by the project's loss-row reduction; one
 * backward kernel per term.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid, type ReadVia, viaSuffix } from "../gpu/kernel.ts";
import { reduceLossRows } from "./loss.ts";
import { rowLseWgsl } from "./softmax.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { readThroughTexturesWithoutAvx512 } from "./texture_reads.ts";
import commonSource from "../../shaders/ssrd/common.wgsl" with { type: "text" };
import rowsSource from "../../shaders/ssrd/rows.wgsl" with { type: "text" };
import backwardSource from "../../shaders/ssrd/backward.wgsl" with { type: "text" };

const WG = 64;

/** The inputs both kernels read; the logits as `via` says (a texture copy, or the buffer). */
const inputs = (via: ReadVia) => ({
  logits: { access: "read", type: "f32", via },
  old_logits: { access: "read", type: "f32", via },
  targets: { access: "read", type: "i32" },
} as const);

const params = { pixels: "u32", channels: "u32", old_classes: "u32" } as const;

const sizes = (p: { pixels: number; channels: number; old_classes: number }) => ({
  logits: p.pixels * p.channels,
  old_logits: p.pixels * p.old_classes,
  targets: p.pixels,
});

const rowsKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/ssrd/rows.wgsl${viaSuffix(via)}`,
    source: rowLseWgsl("logits", "load") + commonSource + rowsSource,
    bindings: { ...inputs(via), rows: { access: "read_write", type: "f32" } },
    params,
    constants: { TERM: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: (p) => ({ ...sizes(p), rows: 2 * p.pixels }),
  });

/** Rows [P, 2] of one term (TERM 0 soft label, 1 entropy). */
export const ssrdRowsKernel = rowsKernelVia("buffer");

/** {@link ssrdRowsKernel} reading the logits from texture copies (CPU adapters without AVX-512). */
export const ssrdRowsTextureKernel = rowsKernelVia("texture");

const backwardKernelVia = (via: ReadVia) =>
  defineKernel({
    name: `shaders/ssrd/backward.wgsl${viaSuffix(via)}`,
    source: rowLseWgsl("logits", "load") + commonSource + backwardSource,
    bindings: {
      ...inputs(via),
      grad: { access: "read", type: "f32" },
      totals: { access: "read", type: "f32" },
      dz: { access: "read_write", type: "f32" },
    },
    params,
    constants: { TERM: "u32" },
    workgroupSize: [WG, 1, 1],
    dispatch: ({ pixels }) => linearGrid(pixels, WG),
    minElements: (p) => ({ ...sizes(p), grad: 1, totals: 2, dz: p.pixels * p.channels }),
  });

/** Gradient of one term with respect to the student logits. */
export const ssrdBackwardKernel = backwardKernelVia("buffer");

/** {@link ssrdBackwardKernel} reading the logits from texture copies (CPU adapters without AVX-512). */
export const ssrdBackwardTextureKernel = backwardKernelVia("texture");

/** Whether the SSRD kernels read these logits through texture copies on this adapter. */
const viaTextures = (isFallback: boolean, logits: Tensor<"f32">, oldLogits: Tensor<"f32">) =>
  readThroughTexturesWithoutAvx512(isFallback, logits, oldLogits);

/** Which SSRD term: FISS's soft-label term or its entropy term. */
export type SsrdTermKind = "soft" | "entropy";

const termCode = (kind: SsrdTermKind): number => (kind === "soft" ? 0 : 1);

/** The checked layout of an SSRD term. */
export interface SsrdLayout {
  readonly pixels: number;
  readonly channels: number;
  readonly old_classes: number;
}

/** Checks the shapes of SSRD's inputs: the layout, or why they disagree. */
export const ssrdLayout = (
  newLogits: Tensor<"f32">,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
): SsrdLayout | BindingError => {
  const channels = newLogits.shape[newLogits.shape.length - 1] ?? 0;
  const pixels = targets.elements;
  const ok = oldClasses >= 1 && oldClasses <= channels &&
    newLogits.elements === pixels * channels && oldLogits.elements === pixels * oldClasses;
  if (ok) return { pixels, channels, old_classes: oldClasses };
  return new BindingError({
    kernel: "ssrd",
    binding: "newLogits",
    reason: `student [${newLogits.shape}], teacher [${oldLogits.shape}], targets ` +
      `[${targets.shape}] and ${oldClasses} old classes do not agree`,
  });
};

/** A term's value [1] and what its backward reads. */
export interface SsrdTerm {
  readonly value: Tensor<"f32">;
  readonly layout: SsrdLayout;
  /** [3]: the rows' column sums, then the row count ([1] is the mean's denominator). */
  readonly totals: Tensor<"f32">;
}

/**
 * One SSRD term of the student `logits` [..., C] against the teacher
 * `oldLogits` [..., oldClasses] and `targets` [...] (255 = ignore): [1].
 */
export const ssrdTermForward = (
  kind: SsrdTermKind,
  logits: Tensor<"f32">,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  oldClasses: number,
): Effect.Effect<SsrdTerm, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const layout = ssrdLayout(logits, oldLogits, targets, oldClasses);
    if (layout instanceof BindingError) return yield* layout;
    const gpu = yield* Gpu;
    const rows = yield* empty([Math.max(1, layout.pixels), 2], "f32");
    yield* gpu.recorder.dispatch(
      viaTextures(gpu.adapter.isFallback, logits, oldLogits)
        ? ssrdRowsTextureKernel
        : ssrdRowsKernel,
      { logits, old_logits: oldLogits, targets, rows },
      layout,
      { TERM: termCode(kind) },
    );
    const reduced = yield* reduceLossRows(rows, layout.pixels, 2, "mean", 1, [1]);
    return { value: reduced.value, layout, totals: reduced.totals };
  });

/** Gradient of one term with respect to the student logits, from the output gradient [1]. */
export const ssrdTermBackward = (
  kind: SsrdTermKind,
  logits: Tensor<"f32">,
  oldLogits: Tensor<"f32">,
  targets: Tensor<"i32">,
  term: SsrdTerm,
  grad: Tensor<"f32">,
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const dz = yield* empty(logits.shape, "f32");
    yield* gpu.recorder.dispatch(
      viaTextures(gpu.adapter.isFallback, logits, oldLogits)
        ? ssrdBackwardTextureKernel
        : ssrdBackwardKernel,
      { logits, old_logits: oldLogits, targets, grad, totals: term.totals, dz },
      term.layout,
      { TERM: termCode(kind) },
    );
    return dz;
  });
