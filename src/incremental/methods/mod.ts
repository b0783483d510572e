/**
 * The methods by name.
 *
 * @module
 */
import type { Scope } from "effect";
import type { Method } from "../method.ts";
import type { RunConfig } from "../types.ts";
import { fineTuning, ilt, joint, lwf, mib } from "./baselines.ts";
import { gsc } from "./gsc.ts";
import { plop } from "./plop.ts";

export { fineTuning, gsc, ilt, joint, lwf, mib, plop };
export {
  crossEntropyClassification,
  plopClassification,
  unbiasedClassification,
} from "./classification.ts";

/** The configured method; `scope` holds state a method keeps across steps. */
export const makeMethod = (config: RunConfig, scope: Scope.Scope): Method => {
  switch (config.method) {
    case "ft":
      return fineTuning();
    case "lwf":
      return lwf(config);
    case "ilt":
      return ilt(config);
    case "mib":
      return mib(config);
    case "plop":
      return plop(config, scope);
    case "gsc":
      return gsc(config.gsc, scope);
    case "joint":
      return joint();
  }
};
