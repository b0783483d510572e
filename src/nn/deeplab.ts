/**
 * DeepLabV3 as torchvision builds it (`deeplabv3_resnet*` with
 * `DeepLabHead`, no auxiliary classifier): a ResNet backbone, then ASPP (a
 * 1x1 branch, three dilated 3x3 branches, image pooling), a 1x1 projection,
 * a 3x3 conv, and the 1x1 classifier with bias; logits are resized
 * bilinearly (align_corners=False) to the input size. The forward also
 * returns the logits before that resize (`smallLogits`), for PLOP's POD.
 *
 * Dropout: torchvision's projection ends with Dropout(0.5) in training mode.
 * It is left out here (training differs from torchvision only by that
 * regulariser; eval mode is identical), which keeps a training step
 * deterministic and free of a mask tensor.
 *
 * Parameter names are torchvision's state-dict names (`backbone.layer1.0.conv1.weight`,
 * `classifier.0.convs.1.0.weight`, `classifier.4.bias`, ...).
 *
 * @module
 */
import { Effect, type Scope } from "effect";
import { Gpu } from "../gpu/device.ts";
import type { GpuError } from "../gpu/errors.ts";
import { concat } from "../autograd/concat.ts";
import { globalAvgPool } from "../autograd/pool.ts";
import { resizeBilinear } from "../autograd/resize.ts";
import { arenaOf, packParameters as packInto, type ParameterArena } from "../autograd/arena.ts";
import { constant, type GpuScoped, type Node, type Parameter } from "../autograd/tape.ts";
import { download, downloadAll, release, type Tensor, upload } from "../tensor/tensor.ts";
import { hwioToOihw, oihwToHwio } from "./layout.ts";
import { asppRates, type DeepLabConfig } from "./config.ts";
import { growMib } from "./classifier.ts";
import {
  applyConv,
  type BatchNormLayer,
  convBn,
  type ConvLayer,
  makeParameter,
  type NormContext,
  ParameterStore,
  type StateEntry,
} from "./layers.ts";
import { makeResNet } from "./resnet.ts";

/** What a forward pass returns. */
export interface SegmentationOutput {
  /** [N, H, W, C] at the input size. */
  readonly logits: Node;
  /**
   * [N, h, w, C]: the classifier's output before upsampling, at the output
   * stride (what PLOP's POD distils as its logits layer, `pod_logits`).
   */
  readonly smallLogits: Node;
  /** [N, h, w, F]: the classifier's input (penultimate features), at the output stride. */
  readonly features: Node;
  /** Backbone layer1..layer4 outputs (for PLOP's POD). */
  readonly stages: readonly Node[];
}

/** How a forward runs. */
export interface ForwardOptions {
  readonly mode: "train" | "eval";
  /** In train mode: normalise with the running statistics and leave them unchanged (BN affine still trains). */
  readonly freezeBn?: boolean;
}

/** A state-dict entry read back to the host, in torchvision's layout. */
export interface HostStateTensor {
  readonly dtype: "F32" | "I64";
  readonly shape: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** A DeepLabV3 model. */
export interface DeepLabV3 {
  readonly config: DeepLabConfig;
  /** Current classifier rows (grows with {@link DeepLabV3.growClassifier}). */
  readonly numClasses: number;
  /** Whether parameters record gradients (false: a frozen model that records no graph). */
  readonly trainable: boolean;
  /** Every parameter, named by its torchvision state-dict name. */
  parameters(): readonly Parameter[];
  /** Backbone parameters and head (ASPP, head conv, classifier) parameters. */
  parameterGroups(): {
    readonly backbone: readonly Parameter[];
    readonly head: readonly Parameter[];
  };
  /** Forward of NHWC normalised images. */
  forward(images: Tensor<"f32">, options: ForwardOptions): GpuScoped<SegmentationOutput>;
  /**
   * Moves every parameter into one arena (a new one each call, the previous
   * one released), so SGD steps the model in one dispatch. Call it after
   * {@link DeepLabV3.growClassifier} and before making the optimizer. An
   * arena too large for one binding of the adapter is not made: the
   * parameters stay where they are and SGD steps them one by one.
   */
  packParameters(): Effect.Effect<void, GpuError>;
  /** Appends `added` classifier rows with MiB's initialisation (new Parameter objects). */
  growClassifier(added: number): Effect.Effect<void, GpuError, Gpu>;
  /** The state-dict entries (parameters, running stats, counters) in registration order. */
  stateEntries(): readonly StateEntry[];
  /** The state dict on the host in torchvision's layout (conv weights OIHW). */
  stateDict(): Effect.Effect<ReadonlyMap<string, HostStateTensor>, GpuError>;
  /**
   * Writes host values into entries: f32 data in torchvision's layout (conv
   * weights OIHW, converted here) or a counter value. Shapes must already be
   * checked (see src/nn/checkpoint.ts).
   */
  assign(values: ReadonlyMap<string, Float32Array | number>): Effect.Effect<void, GpuError>;
}

/** Options of {@link makeDeepLabV3}. */
export interface MakeDeepLabOptions {
  /** Seeds the initial weights (per tensor name). */
  readonly seed: number;
  /** false: parameters are constants and a forward records no graph (the frozen old model). */
  readonly trainable?: boolean;
  /** Owns the weights; they live until it closes. */
  readonly scope: Scope.Scope;
}

interface Head {
  readonly branches: readonly { conv: ConvLayer; bn: BatchNormLayer }[];
  readonly pooling: { conv: ConvLayer; bn: BatchNormLayer };
  readonly project: { conv: ConvLayer; bn: BatchNormLayer };
  readonly headConv: { conv: ConvLayer; bn: BatchNormLayer };
  readonly classifier: ConvLayer;
}

const CLASSIFIER = "classifier.4";

/** Builds a DeepLabV3 with freshly initialised weights. */
export const makeDeepLabV3 = (
  config: DeepLabConfig,
  options: MakeDeepLabOptions,
): Effect.Effect<DeepLabV3, GpuError, Gpu> =>
  Effect.gen(function* () {
    const gpu = yield* Gpu;
    const trainable = options.trainable ?? true;
    const store = new ParameterStore(options.scope, options.seed, trainable);
    const backbone = yield* makeResNet(config, store, "backbone.");
    const c = config.asppChannels;
    const pair = (conv: ConvLayer, bnName: string, channels: number) =>
      Effect.map(store.batchNorm(bnName, channels), (bn) => ({ conv, bn }));
    const aspp = "classifier.0";
    const branches = [
      yield* pair(
        yield* store.conv(`${aspp}.convs.0.0`, { kernel: 1, cin: backbone.channels, cout: c }),
        `${aspp}.convs.0.1`,
        c,
      ),
    ];
    const rates = asppRates(config.outputStride);
    for (let r = 0; r < 3; r++) {
      const conv = yield* store.conv(`${aspp}.convs.${r + 1}.0`, {
        kernel: 3,
        cin: backbone.channels,
        cout: c,
        padding: rates[r],
        dilation: rates[r],
      });
      branches.push(yield* pair(conv, `${aspp}.convs.${r + 1}.1`, c));
    }
    const head: Head = {
      branches,
      pooling: yield* pair(
        yield* store.conv(`${aspp}.convs.4.1`, { kernel: 1, cin: backbone.channels, cout: c }),
        `${aspp}.convs.4.2`,
        c,
      ),
      project: yield* pair(
        yield* store.conv(`${aspp}.project.0`, { kernel: 1, cin: 5 * c, cout: c }),
        `${aspp}.project.1`,
        c,
      ),
      headConv: yield* pair(
        yield* store.conv("classifier.1", { kernel: 3, cin: c, cout: c, padding: 1 }),
        "classifier.2",
        c,
      ),
      classifier: yield* store.conv(CLASSIFIER, {
        kernel: 1,
        cin: c,
        cout: config.numClasses,
        bias: true,
      }),
    };
    let numClasses = config.numClasses;

    const parameters = (): Parameter[] => {
      const out: Parameter[] = [];
      for (const e of store.entries.values()) if (e.parameter) out.push(e.parameter());
      return out;
    };

    const forward = (images: Tensor<"f32">, opts: ForwardOptions) =>
      Effect.gen(function* () {
        const ctx: NormContext = {
          bnMode: opts.mode === "train" && !opts.freezeBn ? "train" : "eval",
        };
        const [, inH, inW] = images.shape;
        const stages = yield* backbone.forward(constant(images, "images"), ctx);
        const x = stages[3];
        const [, h, w] = x.value.shape;
        const outs: Node[] = [];
        for (const b of head.branches) outs.push(yield* convBn(x, b.conv, b.bn, ctx, true));
        const pooled = yield* convBn(
          yield* globalAvgPool(x),
          head.pooling.conv,
          head.pooling.bn,
          ctx,
          true,
        );
        outs.push(yield* resizeBilinear(pooled, h, w));
        const joined = yield* concat(outs);
        const projected = yield* convBn(joined, head.project.conv, head.project.bn, ctx, true);
        const features = yield* convBn(projected, head.headConv.conv, head.headConv.bn, ctx, true);
        const small = yield* applyConv(features, head.classifier);
        const logits = yield* resizeBilinear(small, inH, inW);
        return { logits, smallLogits: small, features, stages } satisfies SegmentationOutput;
      });

    const growClassifier = (added: number) =>
      Effect.gen(function* () {
        const layer = head.classifier;
        const inChannels = layer.weight.value.shape[2];
        const grown = growMib({
          inChannels,
          classes: numClasses,
          weight: yield* download(layer.weight.value),
          bias: yield* download(layer.bias!.value),
        }, added);
        const weight = yield* store.upload(grown.weight, [1, 1, inChannels, grown.classes]);
        const bias = yield* store.upload(grown.bias, [grown.classes]);
        const previous = [layer.weight.value, layer.bias!.value];
        layer.weight = makeParameter(weight, `${CLASSIFIER}.weight`, trainable);
        layer.bias = makeParameter(bias, `${CLASSIFIER}.bias`, trainable);
        numClasses = grown.classes;
        for (const t of previous) yield* release(t);
      }).pipe(Effect.provideService(Gpu, gpu));

    let arena: ParameterArena | undefined;
    const packParameters = () =>
      Effect.gen(function* () {
        const previous = arena;
        const packed = yield* packInto(parameters(), options.scope);
        // Too large for one binding: the parameters stay where they are.
        if (!packed) return;
        arena = packed;
        // Recorded copies out of it run first, so the pool may hand it on now.
        if (previous) yield* release(previous.values);
      }).pipe(Effect.provideService(Gpu, gpu));

    const stateDict = () =>
      Effect.gen(function* () {
        const out = new Map<string, HostStateTensor>();
        // The packed parameters come back in one download instead of one per tensor.
        const packed = arena ? yield* download(arena.values) : undefined;
        const inArena = (e: StateEntry) => {
          const found = packed && e.parameter ? arenaOf(e.parameter()) : undefined;
          return found && found.arena === arena ? found.slot : undefined;
        };
        // Everything else (batch-norm statistics, unpacked parameters) in one more download.
        const rest = [...store.entries.values()].filter((e) => e.kind !== "count" && !inArena(e));
        const restHost = yield* downloadAll(rest.map((e) => e.tensor()));
        const restOf = new Map(rest.map((e, i) => [e, restHost[i] as Float32Array]));
        const hostOf = (e: StateEntry) => {
          const slot = inArena(e);
          if (!packed || !slot) return restOf.get(e)!;
          return packed.slice(slot.start, slot.start + slot.elements);
        };
        for (const e of store.entries.values()) {
          const shape = e.torchShape();
          if (e.kind === "count") {
            out.set(e.name, {
              dtype: "I64",
              shape,
              data: BigInt64Array.of(BigInt(e.count!.get())),
            });
            continue;
          }
          const host = hostOf(e);
          const data = e.kind === "conv" ? hwioToOihw(host, e.tensor().shape) : host;
          out.set(e.name, { dtype: "F32", shape, data });
        }
        return out as ReadonlyMap<string, HostStateTensor>;
      }).pipe(Effect.provideService(Gpu, gpu));

    const assign = (values: ReadonlyMap<string, Float32Array | number>) =>
      Effect.gen(function* () {
        for (const [name, value] of values) {
          const e = store.entries.get(name);
          if (!e) continue;
          if (e.kind === "count") {
            e.count!.set(typeof value === "number" ? value : 0);
            continue;
          }
          if (typeof value === "number") continue;
          const data = e.kind === "conv" ? oihwToHwio(value, e.torchShape()) : value;
          yield* upload(e.tensor(), data);
        }
      }).pipe(Effect.provideService(Gpu, gpu));

    return {
      config,
      get numClasses() {
        return numClasses;
      },
      trainable,
      parameters,
      parameterGroups: () => {
        const all = parameters();
        return {
          backbone: all.filter((p) => p.name.startsWith("backbone.")),
          head: all.filter((p) => !p.name.startsWith("backbone.")),
        };
      },
      forward,
      packParameters,
      growClassifier,
      stateEntries: () => [...store.entries.values()],
      stateDict,
      assign,
    } satisfies DeepLabV3;
  });
