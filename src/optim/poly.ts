/**
 * The poly learning-rate schedule used per iteration by the segmentation
 * reference codes: lr_t = baseLr * (1 - t / maxIters)^power. The schedule is
 * a plain JSON-serialisable value whose `iteration` is its whole state, so a
 * checkpoint stores it and a resumed run continues at the same position.
 *
 * @module
 */

/** A poly schedule and its position. */
export interface PolySchedule {
  readonly baseLr: number;
  /** Iterations of the whole run; the rate reaches 0 at `maxIters`. */
  readonly maxIters: number;
  readonly power: number;
  /** Optimizer steps taken so far (the schedule's position). */
  readonly iteration: number;
}

/** The default exponent of the poly schedule. */
export const POLY_POWER = 0.9;

/** A schedule at iteration 0; throws a RangeError for a non-positive `maxIters` or a negative rate. */
export const polySchedule = (
  baseLr: number,
  maxIters: number,
  power: number = POLY_POWER,
): PolySchedule => {
  if (!(Number.isInteger(maxIters) && maxIters > 0)) {
    throw new RangeError(`maxIters must be a positive integer, got ${maxIters}`);
  }
  if (!(baseLr >= 0) || !(power >= 0)) {
    throw new RangeError(`baseLr and power must be >= 0, got ${baseLr} and ${power}`);
  }
  return { baseLr, maxIters, power, iteration: 0 };
};

/** The learning rate at an iteration; past `maxIters` it stays 0. */
export const polyLrAt = (schedule: PolySchedule, iteration: number): number => {
  const t = Math.min(Math.max(iteration, 0), schedule.maxIters);
  return schedule.baseLr * Math.pow(1 - t / schedule.maxIters, schedule.power);
};

/** The learning rate for the schedule's current step. */
export const polyLr = (schedule: PolySchedule): number => polyLrAt(schedule, schedule.iteration);

/** The schedule one step later (call once per optimizer step). */
export const advancePoly = (schedule: PolySchedule): PolySchedule => ({
  ...schedule,
  iteration: schedule.iteration + 1,
});

/**
 * Reads a schedule back from plain data (a parsed checkpoint field),
 * checking every field; throws a RangeError naming the bad one.
 */
export const polyScheduleFromJson = (value: unknown): PolySchedule => {
  const record = (value ?? {}) as Record<string, unknown>;
  const field = (name: keyof PolySchedule): number => {
    const v = record[name];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`poly schedule field ${name} is not a finite number`);
    }
    return v;
  };
  const schedule = polySchedule(field("baseLr"), field("maxIters"), field("power"));
  const iteration = field("iteration");
  if (!Number.isInteger(iteration) || iteration < 0) {
    throw new RangeError(`poly schedule iteration must be a non-negative integer`);
  }
  return { ...schedule, iteration };
};
