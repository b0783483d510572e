/**
 * Concatenation along one axis (channels of NHWC tensors by default) and its
 * backward, slicing the gradient back per input. Viewed as [outer, width],
 * each input fills a column block of the output; one dispatch moves the
 * blocks of up to {@link MAX_BLOCKS} inputs (src/ops/concat_kernels.ts).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import type { BufferView } from "../gpu/recorder.ts";
import { empty, type Tensor } from "../tensor/tensor.ts";
import { blockKernel, blockValues, MAX_BLOCKS } from "./concat_kernels.ts";

/** How shapes concatenate along an axis: the output shape and each input's column block. */
export interface ConcatLayout {
  readonly shape: readonly number[];
  /** Product of the axes before the concatenation axis. */
  readonly outer: number;
  /** Elements per outer row of each input (its axis size times the inner axes). */
  readonly widths: readonly number[];
  /** Start of each input's block within an output row. */
  readonly offsets: readonly number[];
  /** Elements per outer row of the output. */
  readonly total: number;
}

/** The layout of concatenating `shapes` along `axis`, or why they do not concatenate. */
export const concatLayout = (
  shapes: readonly (readonly number[])[],
  axis = -1,
): ConcatLayout | BindingError => {
  const fail = (reason: string) =>
    new BindingError({ kernel: "concat", binding: "inputs", reason });
  if (shapes.length === 0) return fail("nothing to concatenate");
  const rank = shapes[0].length;
  const at = axis < 0 ? rank + axis : axis;
  if (!Number.isInteger(at) || at < 0 || at >= rank) return fail(`axis ${axis} of rank ${rank}`);
  for (const s of shapes) {
    const same = s.length === rank && s.every((n, i) => i === at || n === shapes[0][i]);
    if (!same) return fail(`[${s.join(", ")}] does not match [${shapes[0].join(", ")}]`);
  }
  const outer = shapes[0].slice(0, at).reduce((a, b) => a * b, 1);
  const widths = shapes.map((s) => s.slice(at).reduce((a, b) => a * b, 1));
  const offsets = widths.map((_, i) => widths.slice(0, i).reduce((a, b) => a + b, 0));
  const shape = [...shapes[0]];
  shape[at] = shapes.reduce((sum, s) => sum + s[at], 0);
  return { shape, outer, widths, offsets, total: widths.reduce((a, b) => a + b, 0) };
};

/**
 * Records the moves between the inputs' blocks and the whole: concatenation
 * (`split` false: `parts` into `whole`) or its backward (`whole` into
 * `parts`), one dispatch per chunk of up to {@link MAX_BLOCKS} parts.
 */
const moveBlocks = (
  layout: ConcatLayout,
  parts: readonly Tensor[],
  whole: Tensor,
  split: boolean,
): Effect.Effect<void, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    for (let first = 0; first < parts.length; first += MAX_BLOCKS) {
      const chunk = parts.slice(first, first + MAX_BLOCKS);
      const widths = layout.widths.slice(first, first + chunk.length);
      const values = blockValues(layout.outer, layout.total, layout.offsets[first], widths);
      if (values.outer * values.span === 0) continue;
      const kernel = blockKernel(chunk.length, whole.dtype, split);
      const bindings: Record<string, BufferView> = split ? { src: whole } : { dst: whole };
      chunk.forEach((part, k) => bindings[`${split ? "d" : "s"}${k}`] = part);
      yield* gpu.recorder.dispatch(kernel, bindings, values);
    }
  });

/** Concatenates tensors of one dtype along `axis` (default: the last, NHWC channels). */
export const concat = <D extends Tensor["dtype"]>(
  inputs: readonly Tensor<D>[],
  axis = -1,
): Effect.Effect<Tensor<D>, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const layout = concatLayout(inputs.map((t) => t.shape), axis);
    if (layout instanceof BindingError) return yield* layout;
    const out = yield* empty(layout.shape, inputs[0].dtype);
    yield* moveBlocks(layout, inputs, out, false);
    return out;
  });

/** Slices the gradient of a concatenation back into one tensor per input shape. */
export const concatBackward = (
  dy: Tensor<"f32">,
  shapes: readonly (readonly number[])[],
  axis = -1,
): Effect.Effect<Tensor<"f32">[], GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const layout = concatLayout(shapes, axis);
    if (layout instanceof BindingError) return yield* layout;
    if (layout.outer * layout.total !== dy.elements) {
      return yield* new BindingError({
        kernel: "concatBackward",
        binding: "dy",
        reason: `[${dy.shape.join(", ")}] is not the concatenation's [${layout.shape.join(", ")}]`,
      });
    }
    const parts: Tensor<"f32">[] = [];
    for (const shape of shapes) parts.push(yield* empty(shape, "f32"));
    yield* moveBlocks(layout, parts, dy, true);
    return parts;
  });
