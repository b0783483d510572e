/**
 * The optimizer layer: SGD with momentum over parameter groups, the poly
 * learning-rate schedule.
 *
 * @module
 */
export { makeSgd, OptimizerError, sgdKernel, sgdStepInto } from "./sgd.ts";
export type { HostTensor, ParamGroup, Sgd, SgdOptions, SgdState, SgdStepHyper } from "./sgd.ts";
export {
  advancePoly,
  POLY_POWER,
  polyLr,
  polyLrAt,
  polySchedule,
  polyScheduleFromJson,
} from "./poly.ts";
export type { PolySchedule } from "./poly.ts";
