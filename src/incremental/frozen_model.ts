/**
 * The one loader of a frozen model from a run checkpoint: the old model a
 * step trains beside, and the model `gsc eval` scores. Parameters are
 * constants (a forward records no graph) and batch norm runs on its running
 * statistics.
 *
 * @module
 */
import { Effect } from "effect";
import { makeDeepLabV3 } from "../nn/mod.ts";
import { modelConfigFor } from "./model_config.ts";
import { readRunCheckpoint, type RunCheckpoint } from "./run_state.ts";
import type { RunConfig } from "./types.ts";

/**
 * The model of `config` with `classes` classifier rows, frozen, with the
 * weights of `checkpoint` (a path, read here, or a checkpoint already read).
 * It lives in the caller's scope.
 */
export const loadFrozenModel = (
  config: RunConfig,
  checkpoint: string | RunCheckpoint,
  classes: number,
) =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope;
    const model = yield* makeDeepLabV3(modelConfigFor(config, classes), {
      seed: 0,
      trainable: false,
      scope,
    });
    const read = typeof checkpoint === "string" ? yield* readRunCheckpoint(checkpoint) : checkpoint;
    yield* read.loadInto(model);
    return model;
  });
