/**
 * PLOP's local POD embedding as a differentiable node (the kernels are in
 * `ops/pod.ts`).
 *
 * @module
 */
import { Effect } from "effect";
import { type LocalPodOptions, podEmbed, podEmbedBackward } from "../ops/pod.ts";
import { type GpuScoped, type Node, record } from "./tape.ts";

/** PLOP's local POD embedding [N, D] of a map [N, H, W, C], differentiable. */
export const podEmbedding = (x: Node, options: LocalPodOptions = {}): GpuScoped<Node> =>
  Effect.gen(function* () {
    const embed = yield* podEmbed(x.value, options);
    return record(
      embed.emb,
      [x],
      (gemb) => Effect.map(podEmbedBackward(x.value, embed, gemb), (dmap) => [dmap]),
      "podEmbedding",
    );
  });
