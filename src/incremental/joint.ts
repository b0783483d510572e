/**
 * Joint training (`--method joint`), the upper bound the field's tables
 * print: the task's steps flattened into one step that learns every class at
 * once with plain cross-entropy, on every training image with its labels as
 * they are (no incremental filter), for the step-0 recipe (`epochs`, `lr`).
 * Its metrics still split old and new classes by the task's first step, so
 * Joint's old/new/all compare with an incremental run's last step.
 *
 * @module
 */
import type { ClassTask, Task } from "../data/mod.ts";
import type { RunConfig } from "./types.ts";

/** Whether a run trains jointly (every class in one step). */
export const isJointRun = (config: Pick<RunConfig, "method">): boolean => config.method === "joint";

/** A class task's steps flattened into one step of every class (ascending). */
export const jointTask = (task: ClassTask): ClassTask => ({
  ...task,
  steps: [task.steps.flat().sort((a, b) => a - b)],
});

/**
 * The classes a run's metrics call old and new when they are not the run's
 * own steps': a joint run's old classes are the task's first step
 * (background included), its new classes every later step's.
 */
export interface ClassSplit {
  readonly old: readonly number[];
  readonly new: readonly number[];
}

/** The old/new split of a joint run of `task` (the registered, incremental task). */
export const jointSplit = (task: ClassTask): ClassSplit => ({
  old: [...task.steps[0]],
  new: task.steps.slice(1).flat(),
});

/**
 * The task a run trains: the registered task, or for a joint run its steps
 * flattened into one (undefined for a domain task, which has no joint form
 * here: its steps are cities, not classes).
 */
export const runTaskOf = (config: RunConfig, task: Task): Task | undefined =>
  !isJointRun(config) ? task : task.kind === "class" ? jointTask(task) : undefined;
