/**
 * The registry of incremental tasks: every split of the protocols (VOC, ADE20K
 * class-incremental; Cityscapes domain-incremental over cities), looked up by
 * name such as `voc/15-1`. The synthetic benchmark uses the VOC splits under
 * `synthetic/<split>`.
 *
 * @module
 */
import { Effect } from "effect";
import { CITYSCAPES_CLASSES } from "./classes.ts";
import { RCIL_CITY_ORDER } from "./cityscapes_domain.ts";
import { UnknownTaskError } from "./errors.ts";
import type { StepClasses } from "./labels.ts";

/** A class-incremental task: the classes learned at each step (step 0 includes 0). */
export interface ClassTask {
  readonly kind: "class";
  readonly name: string;
  readonly dataset: "voc" | "ade20k" | "synthetic";
  readonly steps: readonly (readonly number[])[];
}

/**
 * A domain-incremental task: every step learns all classes on new domains
 * (cities, in RCIL's `city_to_id` order).
 */
export interface DomainTask {
  readonly kind: "domain";
  readonly name: string;
  readonly dataset: "cityscapes";
  readonly classes: readonly number[];
  readonly steps: readonly (readonly string[])[];
}

/** Any registered task. */
export type Task = ClassTask | DomainTask;

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** "X-Y": classes 0..X first, then Y new classes per step up to `last`. */
export function classSteps(first: number, perStep: number, last: number): number[][] {
  const steps = [range(0, first)];
  for (let start = first + 1; start <= last; start += perStep) {
    steps.push(range(start, Math.min(start + perStep - 1, last)));
  }
  return steps;
}

/** "X-Y" over domains: the first X domains, then Y per step. */
export function domainSteps(
  domains: readonly string[],
  first: number,
  perStep: number,
): string[][] {
  const steps = [domains.slice(0, first)];
  for (let start = first; start < domains.length; start += perStep) {
    steps.push(domains.slice(start, start + perStep));
  }
  return steps;
}

const VOC_SPLITS: Record<string, [number, number]> = {
  "19-1": [19, 1],
  "15-5": [15, 5],
  "15-1": [15, 1],
  "10-1": [10, 1],
  "5-3": [5, 3],
  "2-2": [2, 2],
  "2-1": [2, 1],
};
const ADE_SPLITS: Record<string, [number, number]> = {
  "100-50": [100, 50],
  "100-10": [100, 10],
  "100-5": [100, 5],
  "50-50": [50, 50],
};
const CITYSCAPES_SPLITS: Record<string, [number, number]> = {
  "11-5": [11, 5],
  "11-1": [11, 1],
  "1-1": [1, 1],
};

/** Other names of the same split (15-1 is also called 15-5s). */
const ALIASES: Record<string, string> = {
  "voc/15-5s": "voc/15-1",
  "synthetic/15-5s": "synthetic/15-1",
};

function buildRegistry(): Map<string, Task> {
  const tasks = new Map<string, Task>();
  for (const [split, [first, per]] of Object.entries(VOC_SPLITS)) {
    for (const dataset of ["voc", "synthetic"] as const) {
      const name = `${dataset}/${split}`;
      tasks.set(name, { kind: "class", name, dataset, steps: classSteps(first, per, 20) });
    }
  }
  for (const [split, [first, per]] of Object.entries(ADE_SPLITS)) {
    const name = `ade20k/${split}`;
    tasks.set(name, { kind: "class", name, dataset: "ade20k", steps: classSteps(first, per, 150) });
  }
  for (const [split, [first, per]] of Object.entries(CITYSCAPES_SPLITS)) {
    const name = `cityscapes/${split}`;
    tasks.set(name, {
      kind: "domain",
      name,
      dataset: "cityscapes",
      classes: range(0, CITYSCAPES_CLASSES.length - 1),
      steps: domainSteps(RCIL_CITY_ORDER, first, per),
    });
  }
  return tasks;
}

/** Every registered task by name. */
export const TASKS: ReadonlyMap<string, Task> = buildRegistry();

/** The registered task names (aliases included), sorted. */
export function taskNames(): string[] {
  return [...TASKS.keys(), ...Object.keys(ALIASES)].sort();
}

/** Finds a task by name (`voc/15-1`, `ade20k/100-50`, `cityscapes/11-5`, `synthetic/19-1`). */
export function findTask(name: string): Task | undefined {
  return TASKS.get(ALIASES[name] ?? name);
}

/** Looks a task up; an unknown name fails with the list of valid names. */
export function getTask(name: string): Effect.Effect<Task, UnknownTaskError> {
  const task = findTask(name);
  return task
    ? Effect.succeed(task)
    : Effect.fail(new UnknownTaskError({ name, valid: taskNames() }));
}

/** Number of steps of a task. */
export const stepCount = (task: Task): number => task.steps.length;

/**
 * The classes of step `t`: learned now and learned before. A domain step
 * learns every class (so training keeps every index).
 */
export function stepClasses(task: Task, t: number): StepClasses {
  if (t < 0 || t >= task.steps.length) {
    throw new RangeError(`step ${t} outside 0..${task.steps.length - 1} of ${task.name}`);
  }
  if (task.kind === "domain") return { current: task.classes, old: [] };
  return { current: task.steps[t], old: task.steps.slice(0, t).flat() };
}

/** Every class seen up to and including step `t` (background included). */
export function seenClasses(task: Task, t: number): number[] {
  const { current, old } = stepClasses(task, t);
  return [...old, ...current].sort((a, b) => a - b);
}

/** The domains (cities) of the steps up to and including `t`, for a domain task. */
export function seenDomains(task: DomainTask, t: number): string[] {
  return task.steps.slice(0, t + 1).flat();
}
