/**
 * What every phase of a step shares (`step_model.ts`, `step_train.ts`,
 * `step_finish.ts`): the run's configuration and data, the step's classes,
 * the method, the model, the event sink, the run's progress, and the one
 * checkpoint writer of the run.
 *
 * @module
 */
import type { DeepLabV3 } from "../nn/mod.ts";
import type { SgdState } from "../optim/sgd.ts";
import type { RunData } from "./data.ts";
import { type DivergencePlace, guardWrite } from "./divergence.ts";
import type { Method, MethodState, StepInfo } from "./method.ts";
import { type checkpointPaths, type Progress, writeRunCheckpoint } from "./run_state.ts";
import type { RunConfig, RunEvent } from "./types.ts";

/** The run's progress, advanced by the phases (the checkpoints record it as it stands). */
export interface ProgressCell {
  progress: Progress;
}

/** The shared state of one step. */
export interface StepContext {
  readonly config: RunConfig;
  readonly data: RunData;
  readonly info: StepInfo;
  readonly paths: ReturnType<typeof checkpointPaths>;
  readonly method: Method;
  readonly model: DeepLabV3;
  readonly emit: (event: RunEvent) => void;
  readonly run: ProgressCell;
}

/** What a checkpoint holds beside the model: "epoch" (mid-step) or "step" (finished). */
export type CheckpointKind = "epoch" | "step";

/**
 * Writes a checkpoint of the run as it stands to `path`, refusing non-finite
 * values (a {@link DivergencePlace} names where training was).
 */
export const writeStepCheckpoint = (
  step: StepContext,
  path: string,
  kind: CheckpointKind,
  methodState: MethodState | undefined,
  optimizer: SgdState | undefined,
  place: DivergencePlace,
) =>
  guardWrite(
    writeRunCheckpoint(
      path,
      step.model,
      { kind, config: step.config, progress: step.run.progress, classes: step.info.current },
      methodState,
      optimizer,
    ),
    place,
    step.paths.dir,
  );
