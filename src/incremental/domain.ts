/**
 * The domain-incremental side of a run (Cityscapes' `11-5`, `11-1`, `1-1`):
 * every step learns the same 19 classes on new cities. Which images a step
 * trains on and which are evaluated after it follow RCIL's code
 * (`src/data/cityscapes_domain.ts`); the classifier never grows, the old
 * model has every class, and the step's {@link StepInfo} says so (`old` =
 * `seen` = 19 after step 0, `backgroundShift` false, the cities in `domains`).
 *
 * @module
 */
import { type DomainTask, type SampleRef, seenDomains, type Task } from "../data/mod.ts";
import { rcilDomainSubset, rcilListOrder } from "../data/cityscapes_domain.ts";
import type { StepInfo } from "./method.ts";
import type { RunConfig } from "./types.ts";

/** Whether a task is domain-incremental. */
export const isDomainTask = (task: Task): task is DomainTask => task.kind === "domain";

/**
 * A domain step's bookkeeping: all classes at every step, "old" = every class
 * once a step has been learned (PLOP's and RCIL's `old_classes = num_classes`
 * for `cityscapes_domain` at step > 0), every class introduced at step 0.
 */
export const domainStepInfo = (task: DomainTask, config: RunConfig, t: number): StepInfo => {
  const classes = task.classes.length;
  return {
    step: t,
    steps: task.steps.length,
    seen: classes,
    old: t > 0 ? classes : 0,
    current: task.classes,
    classStep: new Int32Array(classes),
    backgroundShift: false,
    domains: { current: task.steps[t], seen: seenDomains(task, t) },
    config,
  };
};

/** The samples in RCIL's list order (computed once per run). */
const orderCache = new WeakMap<readonly SampleRef[], SampleRef[]>();
const ordered = (samples: readonly SampleRef[]) => {
  let list = orderCache.get(samples);
  if (!list) {
    list = rcilListOrder(samples);
    orderCache.set(samples, list);
  }
  return list;
};

/** Step t's training images: the first 80% of RCIL's shuffle of the step's cities. */
export const domainTrainSamples = (
  task: DomainTask,
  samples: readonly SampleRef[],
  t: number,
): SampleRef[] => rcilDomainSubset(ordered(samples), task.steps[t], "train");

/**
 * The test images after step t, one group per step g <= t (the images of
 * step g's cities): RCIL's test set (the last 20% of its shuffle of every
 * city seen so far), split by the step that brought each city.
 */
export const domainTestGroups = (
  task: DomainTask,
  samples: readonly SampleRef[],
  t: number,
): SampleRef[][] => {
  const test = rcilDomainSubset(ordered(samples), seenDomains(task, t), "test");
  return task.steps.slice(0, t + 1).map((cities) => {
    const wanted = new Set(cities);
    return test.filter((s) => s.domain !== undefined && wanted.has(s.domain));
  });
};
