/**
 * What `--resume` compares: every field of the run configuration that
 * changes the results, between the checkpoint's saved configuration and the
 * one given now. A difference is reported under the option's command-line
 * name, with both values, e.g. `--batch-size: 2 (checkpoint) vs 4 (now)`.
 *
 * @module
 */
import { scaleRangeOf, trainSplitOf } from "./splits.ts";
import { podLogitsFactorOf, podNewLogitsOf } from "./losses/pod.ts";
import type { RunConfig } from "./types.ts";

/**
 * The fields that do not change results and may differ on resume:
 * - `out`: the run directory itself (it may have been moved or renamed);
 * - `strips`: how many evaluation images are drawn as PNG strips (report only).
 *
 * Everything else is compared, including fields added to {@link RunConfig}
 * later (they are named by their key path until they get an entry in
 * {@link CONFIG_OPTIONS}). A field an older checkpoint lacks counts as a
 * difference unless its default is filled in first (`trainSplit` is).
 */
export const RESUME_IGNORED: readonly string[] = ["out", "strips"];

/** A configuration field's command-line option and how its values read there. */
export interface ConfigOption {
  readonly option: string;
  readonly show?: (value: unknown) => string;
}

const on = (value: unknown) => (value ? "on" : "off");
const off = (value: unknown) => (value ? "off" : "on");

/** Command-line names of the configuration's fields (nested fields by dotted path). */
export const CONFIG_OPTIONS: Readonly<Record<string, ConfigOption>> = {
  dataset: { option: "--dataset" },
  dataRoot: { option: "--data-root" },
  task: { option: "--task" },
  overlap: { option: "--overlap/--disjoint", show: (v) => (v ? "overlap" : "disjoint") },
  method: { option: "--method" },
  backbone: { option: "--backbone" },
  outputStride: { option: "--output-stride" },
  pretrained: { option: "--pretrained" },
  step0: { option: "--step0" },
  epochs: { option: "--epochs" },
  epochsNext: { option: "--epochs-next" },
  batchSize: { option: "--batch-size" },
  crop: { option: "--crop" },
  scaleMin: { option: "--scale-min" },
  scaleMax: { option: "--scale-max" },
  lr: { option: "--lr" },
  lrNext: { option: "--lr-next" },
  momentum: { option: "--momentum" },
  nesterov: { option: "--no-nesterov", show: off },
  weightDecay: { option: "--weight-decay" },
  headLrMultiplier: { option: "--head-lr-mult" },
  freezeBnNext: { option: "--freeze-bn-next", show: on },
  seed: { option: "--seed" },
  out: { option: "--out" },
  evalSplit: { option: "--eval-split" },
  trainSplit: { option: "--train-split" },
  cropVal: { option: "--crop-val", show: on },
  strips: { option: "--strips" },
  kdWeight: { option: "--kd-weight" },
  featureWeight: { option: "--feature-weight" },
  podFactor: { option: "--pod-factor" },
  podLogitsFactor: { option: "--pod-logits-factor" },
  podNewLogits: { option: "--pod-new-logits" },
  "gsc.sgc": { option: "--no-sgc", show: off },
  "gsc.ssrd": { option: "--no-ssrd", show: off },
  "gsc.ppr": { option: "--no-ppr", show: off },
  "gsc.pprTau": { option: "--ppr-tau" },
  "gsc.pprQuantile": { option: "--ppr-quantile", show: on },
  "gsc.protoMinPixels": { option: "--proto-min-pixels" },
  "gsc.sgcMin": { option: "--sgc-min" },
  "gsc.sgcMax": { option: "--sgc-max" },
  "gsc.sgcSplit": { option: "--sgc-split", show: on },
  "gsc.lambdaSoft": { option: "--lambda-soft" },
  "gsc.lambdaEntropy": { option: "--lambda-entropy" },
  "gsc.lambdaRelation": { option: "--lambda-relation" },
};

/** Fields holding a path: compared as the file they name when it exists. */
const PATH_FIELDS = new Set(["dataRoot", "pretrained", "step0"]);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The leaves of a configuration by dotted key path. */
export const configLeaves = (value: unknown, prefix = ""): Map<string, unknown> => {
  const leaves = new Map<string, unknown>();
  if (!isRecord(value)) return leaves;
  for (const [key, v] of Object.entries(value)) {
    const path = prefix + key;
    if (isRecord(v)) { for (const [p, leaf] of configLeaves(v, `${path}.`)) leaves.set(p, leaf); }
    else leaves.set(path, v);
  }
  return leaves;
};

const resolvedPath = (value: unknown): unknown => {
  if (typeof value !== "string") return value;
  try {
    return Deno.realPathSync(value);
  } catch {
    return value;
  }
};

const comparable = (path: string, value: unknown) =>
  JSON.stringify(PATH_FIELDS.has(path) ? resolvedPath(value) : value);

const showValue = (path: string, value: unknown) => {
  if (value === undefined) return "none";
  const show = CONFIG_OPTIONS[path]?.show;
  return show ? show(value) : typeof value === "string" ? value : JSON.stringify(value);
};

/** A configuration with the defaults of fields that older checkpoints lack filled in. */
const withDefaults = (config: RunConfig | undefined) => {
  if (config === undefined) return undefined;
  const [scaleMin, scaleMax] = scaleRangeOf(config);
  // The relation term came later: a checkpoint without it ran with it off.
  const gsc = config.gsc && { ...config.gsc, lambdaRelation: config.gsc.lambdaRelation ?? 0 };
  // So did the logits layer's POD options: such a run used PLOP's 0.0005 and its sum.
  const podLogitsFactor = podLogitsFactorOf(config);
  const podNewLogits = podNewLogitsOf(config);
  return {
    ...config,
    trainSplit: trainSplitOf(config),
    scaleMin,
    scaleMax,
    podLogitsFactor,
    podNewLogits,
    gsc,
  };
};

/**
 * The settings that differ between a checkpoint's saved configuration and
 * the current one, one line each (`--lr: 0.01 (checkpoint) vs 0.02 (now)`),
 * in configuration order. Empty when the run can be resumed.
 */
export const configDifferences = (saved: RunConfig | undefined, now: RunConfig): string[] => {
  const old = configLeaves(withDefaults(saved));
  const current = configLeaves(withDefaults(now));
  const paths = [...new Set([...current.keys(), ...old.keys()])];
  const lines: string[] = [];
  for (const path of paths) {
    if (RESUME_IGNORED.includes(path)) continue;
    const [a, b] = [old.get(path), current.get(path)];
    if (comparable(path, a) === comparable(path, b)) continue;
    const name = CONFIG_OPTIONS[path]?.option ?? path;
    lines.push(`${name}: ${showValue(path, a)} (checkpoint) vs ${showValue(path, b)} (now)`);
  }
  return lines;
};
