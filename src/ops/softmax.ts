/**
 * Softmax and log-softmax over the channel axis of an NHWC tensor (viewed as
 * [pixels, channels]), with a temperature T: softmax(z / T). One invocation
 * per pixel; the channel count of a segmentation head is small.
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import { BindingError, type GpuError } from "../gpu/errors.ts";
import { defineKernel, linearGrid } from "../gpu/kernel.ts";
import { empty, type Shape, type Tensor } from "../tensor/tensor.ts";
import forwardSource from "../../shaders/softmax/softmax.wgsl" with { type: "text" };
import backwardSource from "../../shaders/softmax/softmax_backward.wgsl" with { type: "text" };
import rowLseSource from "../../shaders/softmax/row_lse.wgsl" with { type: "text" };

/**
 * The log-sum-exp fragment (shaders/softmax/row_lse.wgsl) over the buffer
 * `buffer`: `<buffer>_max`, `<buffer>_sum_exp` and `<buffer>_lse_range`,
 * prepended to the kernels that normalise rows of that buffer. With `reads`
 * "load" it reads through the binding's generated `load_<buffer>(i)` (a
 * binding declared with `via`, src/gpu/kernel.ts) instead of indexing it.
 */
export const rowLseWgsl = (buffer: string, reads: "index" | "load" = "index"): string =>
  (reads === "load" ? rowLseSource.replace(/ROW\[([^\]\n]*)\]/g, "load_ROW($1)") : rowLseSource)
    .replaceAll("ROW", buffer);

const WG = 64;

const rowParams = { pixels: "u32", channels: "u32", inv_t: "f32" } as const;

/** y = softmax(z / T) or log-softmax(z / T), per pixel. */
export const softmaxKernel = defineKernel({
  name: "shaders/softmax/softmax.wgsl",
  source: rowLseWgsl("z") + forwardSource,
  bindings: { z: { access: "read", type: "f32" }, y: { access: "read_write", type: "f32" } },
  params: rowParams,
  constants: { LOG: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels }) => ({ z: pixels * channels, y: pixels * channels }),
});

/** dz from the forward output y and the output gradient g. */
export const softmaxBackwardKernel = defineKernel({
  name: "shaders/softmax/softmax_backward.wgsl",
  source: backwardSource,
  bindings: {
    y: { access: "read", type: "f32" },
    g: { access: "read", type: "f32" },
    dz: { access: "read_write", type: "f32" },
  },
  params: rowParams,
  constants: { LOG: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels }) => ({
    y: pixels * channels,
    g: pixels * channels,
    dz: pixels * channels,
  }),
});

/** Options of the softmax family. */
export interface SoftmaxOptions {
  /** Temperature T > 0: the op applies to z / T. Default 1. */
  readonly temperature?: number;
}

/** [pixels, channels] view of an NHWC shape: channels is the last axis. */
export const channelView = (shape: Shape): { pixels: number; channels: number } => {
  const channels = shape.length > 0 ? shape[shape.length - 1] : 0;
  const total = shape.reduce((a, b) => a * b, 1);
  return { pixels: channels > 0 ? total / channels : 0, channels };
};

/** A BindingError unless the temperature is finite and positive. */
export const checkTemperature = (kernel: string, t: number): BindingError | undefined =>
  Number.isFinite(t) && t > 0
    ? undefined
    : new BindingError({ kernel, binding: "params.inv_t", reason: `temperature ${t} is not > 0` });

const run = (log: boolean, z: Tensor<"f32">, options: SoftmaxOptions) =>
  Effect.gen(function* () {
    const t = options.temperature ?? 1;
    const bad = checkTemperature(softmaxKernel.name, t);
    if (bad) return yield* bad;
    const { pixels, channels } = channelView(z.shape);
    if (channels === 0) {
      return yield* new BindingError({
        kernel: softmaxKernel.name,
        binding: "z",
        reason: `no channels in shape [${z.shape.join(", ")}]`,
      });
    }
    const gpu = yield* Gpu;
    const y = yield* empty(z.shape, "f32");
    yield* gpu.recorder.dispatch(softmaxKernel, { z, y }, { pixels, channels, inv_t: 1 / t }, {
      LOG: log ? 1 : 0,
    });
    return y;
  });

/** softmax(z / T) over the last (channel) axis. */
export const softmax = (
  z: Tensor<"f32">,
  options: SoftmaxOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> => run(false, z, options);

/** log-softmax(z / T) over the last (channel) axis. */
export const logSoftmax = (
  z: Tensor<"f32">,
  options: SoftmaxOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> => run(true, z, options);

/**
 * Gradient with respect to z of softmax (`log` false) or log-softmax (`log`
 * true), from the forward output `y` and the output gradient `g`.
 */
export const softmaxBackward = (
  y: Tensor<"f32">,
  g: Tensor<"f32">,
  log: boolean,
  options: SoftmaxOptions = {},
): Effect.Effect<Tensor<"f32">, GpuError, Gpu | Scope.Scope> =>
  Effect.gen(function* () {
    const t = options.temperature ?? 1;
    const bad = checkTemperature(softmaxBackwardKernel.name, t);
    if (bad) return yield* bad;
    const { pixels, channels } = channelView(y.shape);
    const gpu = yield* Gpu;
    const dz = yield* empty(y.shape, "f32");
    yield* gpu.recorder.dispatch(
      softmaxBackwardKernel,
      { y, g, dz },
      { pixels, channels, inv_t: 1 / t },
      { LOG: log ? 1 : 0 },
    );
    return dz;
  });
