/**
 * PLOP's local POD (arthurdouillard/CVPR2021_PLOP train.py,
 * `features_distillation` with collapse "local" and `_local_pod`). For each
 * distilled map [N, H, W, C]: square it (PLOP's default `pod_prepro="pow"`),
 * then at every spatial scale s (spp_scales 1, 2, 4) split it into s x s
 * regions of side k = W div s and, per region, average each (channel, row)
 * over the region's width and each (channel, column) over its height; the
 * concatenation is the image's embedding. A layer's loss is the mean over
 * images of ||emb(new) - emb(old)||_2 (torch.frobenius_norm over the
 * embedding); PLOP sums factor * layer loss over layers and divides by the
 * number of layers.
 *
 * Faithful details, and deviations:
 * - PLOP forces `normalize = False` at the top of `features_distillation`
 *   and its default `pod_options` never turn it on, so the embeddings are
 *   NOT L2-normalised in PLOP's runs (the paper's text says they are).
 *   `normalize: true` is offered (eps 1e-8 instead of F.normalize's 1e-12).
 * - Regions are clipped like Python slices (PLOP takes k from the width for
 *   both axes; rows or columns beyond s * k are left out). A region that
 *   comes out empty (PLOP: a mean over nothing, NaN) is an error here.
 * - PLOP's layers are the backbone stages, the ASPP head output and the
 *   classifier's logits before upsampling ("pod_logits"), the last with
 *   factor 0.0005 instead of 0.01 and the new logits collapsed to the old
 *   channels ("extra_channels": "sum"): see {@link collapseNewLogits} and
 *   {@link plopLocalPod}. The adaptive factor sqrt(|C_{0:t}| / |C_t|)
 *   (`use_pod_schedule`, on by default) multiplies every layer.
 *
 * The embedding's kernels are in `ops/pod.ts`, its node in `autograd/pod.ts`.
 *
 * @module
 */
import { Effect } from "effect";
import { BindingError } from "../../gpu/errors.ts";
import { add, matmul, reshapeNode, scale } from "../../autograd/basic.ts";
import { distance, l2Normalize } from "../../autograd/distance.ts";
import { podEmbedding } from "../../autograd/pod.ts";
import { constant, type GpuScoped, type Node } from "../../autograd/tape.ts";
import { type LocalPodOptions, podEmbedKernel } from "../../ops/pod.ts";
import { fromArray, type Tensor } from "../../tensor/tensor.ts";

/** One layer of local POD: mean over images of ||emb(new) - emb(old)||; a [1] node. */
export const localPodLayer = (
  newMap: Node,
  oldMap: Tensor<"f32">,
  options: LocalPodOptions = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    if (newMap.value.shape.join(",") !== oldMap.shape.join(",")) {
      return yield* new BindingError({
        kernel: podEmbedKernel.name,
        binding: "map",
        reason: `new [${newMap.value.shape.join(", ")}] vs old [${oldMap.shape.join(", ")}]`,
      });
    }
    let a = yield* podEmbedding(newMap, options);
    let b = yield* podEmbedding(constant(oldMap), options);
    if (options.normalize) {
      a = yield* l2Normalize(a);
      b = yield* l2Normalize(b);
    }
    return yield* distance("l2", a, b);
  });

/**
 * Local POD over layers: (1 / L) sum_l w_l POD_l with weights `weights`
 * (default 1 each), as PLOP averages its layers. The caller applies PLOP's
 * pod factor and {@link podAdaptiveFactor}; a [1] node.
 */
export const localPod = (
  newStages: readonly Node[],
  oldStages: readonly Tensor<"f32">[],
  options: LocalPodOptions & { readonly weights?: readonly number[] } = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    if (newStages.length !== oldStages.length || newStages.length === 0) {
      return yield* new BindingError({
        kernel: podEmbedKernel.name,
        binding: "map",
        reason: `${newStages.length} new and ${oldStages.length} old layers`,
      });
    }
    let total: Node | undefined;
    for (let l = 0; l < newStages.length; l++) {
      const layer = yield* localPodLayer(newStages[l], oldStages[l], options);
      const weighted = yield* scale(layer, (options.weights?.[l] ?? 1) / newStages.length);
      total = total ? yield* add(total, weighted) : weighted;
    }
    return total as Node;
  });

/** PLOP's POD schedule: sqrt(|C_{0:t}| / |C_t|) (seen classes over the step's new ones). */
export const podAdaptiveFactor = (seenClasses: number, newClasses: number): number =>
  Math.sqrt(seenClasses / newClasses);

/**
 * What PLOP's logits layer does with the new classes' logits ("extra_channels"):
 * `sum` adds them into background's (its default), `trim` leaves them out.
 */
export type NewLogitsMode = "sum" | "trim";

/** The modes of {@link NewLogitsMode}, PLOP's default first. */
export const NEW_LOGITS_MODES: readonly NewLogitsMode[] = ["sum", "trim"];

/**
 * PLOP's "extra_channels" for distilling the logits: the new logits
 * [N, h, w, C] become [N, h, w, old], channels 1..old-1 unchanged and
 * channel 0 = z_0 + the sum of the new classes' logits (`sum`, PLOP's
 * default) or z_0 alone (`trim`); a matmul by a constant 0/1 matrix, so the
 * gradient comes for free.
 */
export const collapseNewLogits = (
  newLogits: Node,
  oldClasses: number,
  mode: NewLogitsMode = "sum",
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const shape = newLogits.value.shape;
    const channels = shape[shape.length - 1] ?? 0;
    if (!Number.isInteger(oldClasses) || oldClasses < 1 || oldClasses > channels) {
      return yield* new BindingError({
        kernel: "collapseNewLogits",
        binding: "oldClasses",
        reason: `${oldClasses} old classes of ${channels} channels`,
      });
    }
    const matrix = new Float32Array(channels * oldClasses);
    for (let k = 0; k < oldClasses; k++) matrix[k * oldClasses + k] = 1;
    if (mode === "sum") { for (let k = oldClasses; k < channels; k++) matrix[k * oldClasses] = 1; }
    const m = constant(yield* fromArray(matrix, [channels, oldClasses], "f32"));
    const rows = newLogits.value.elements / channels;
    const flat = reshapeNode(newLogits, [rows, channels]);
    const collapsed = yield* matmul(flat, m);
    return reshapeNode(collapsed, [...shape.slice(0, -1), oldClasses]);
  });

/** PLOP's factor of the logits layer (its `pod_options`: "after" factor 0.0005). */
export const PLOP_LOGITS_FACTOR = 0.0005;

/**
 * The logits layer's factor of a run: `--pod-logits-factor`, else PLOP's
 * {@link PLOP_LOGITS_FACTOR} (runs written before the option used it).
 */
export const podLogitsFactorOf = (config: { readonly podLogitsFactor?: number }): number =>
  config.podLogitsFactor ?? PLOP_LOGITS_FACTOR;

/**
 * How a run's logits layer takes the new classes: `--pod-new-logits`, else
 * PLOP's `sum` (runs written before the option used it).
 */
export const podNewLogitsOf = (config: { readonly podNewLogits?: NewLogitsMode }): NewLogitsMode =>
  config.podNewLogits ?? "sum";

/** What {@link plopLocalPod} distils. */
export interface PlopPodInputs {
  /** Backbone stages and the ASPP head output of the new model (PLOP's "attentions"). */
  readonly newStages: readonly Node[];
  readonly oldStages: readonly Tensor<"f32">[];
  /** Logits before upsampling [N, h, w, C] and the old model's [N, h, w, old] ("pod_logits"). */
  readonly newLogits?: Node;
  readonly oldLogits?: Tensor<"f32">;
  readonly oldClasses: number;
  /** |C_{0:t}| and |C_t|, for the POD schedule. */
  readonly seenClasses: number;
  readonly newClasses: number;
}

/** PLOP's factors: 0.01 on the stages, 0.0005 on the logits (its default `pod_options`). */
export interface PlopPodFactors {
  readonly podFactor?: number;
  readonly logitsFactor?: number;
  /** The new classes' logits in the logits layer (default PLOP's `sum`). */
  readonly newLogits?: NewLogitsMode;
}

/**
 * PLOP's whole POD term with its default options: (1 / L) sum over layers
 * of factor_l * sqrt(|C_{0:t}| / |C_t|) * POD_l, L counting the logits layer
 * when given; a [1] node. Nothing is left for the caller to scale.
 */
export const plopLocalPod = (
  inputs: PlopPodInputs,
  factors: PlopPodFactors = {},
): GpuScoped<Node> =>
  Effect.gen(function* () {
    const schedule = podAdaptiveFactor(inputs.seenClasses, inputs.newClasses);
    const stageWeight = (factors.podFactor ?? 0.01) * schedule;
    const newLayers = [...inputs.newStages];
    const oldLayers = [...inputs.oldStages];
    const weights = newLayers.map(() => stageWeight);
    if (inputs.newLogits && inputs.oldLogits) {
      newLayers.push(
        yield* collapseNewLogits(inputs.newLogits, inputs.oldClasses, factors.newLogits),
      );
      oldLayers.push(inputs.oldLogits);
      weights.push((factors.logitsFactor ?? PLOP_LOGITS_FACTOR) * schedule);
    }
    return yield* localPod(newLayers, oldLayers, { weights });
  });
