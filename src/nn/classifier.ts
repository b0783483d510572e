/**
 * The 1x1 classifier's growth between incremental steps with MiB's
 * initialisation: every new class starts as a copy of the background row,
 * and the background probability mass is shared evenly among the background
 * and the k new classes (each bias becomes b_bg - log(k + 1)), so the grown
 * model's background-plus-new probabilities equal the old background's.
 *
 * @module
 */

/** A classifier on the host: HWIO weight [1, 1, inC, classes] and bias [classes]. */
export interface HostClassifier {
  readonly inChannels: number;
  readonly classes: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** The classifier with `added` rows appended, initialised as MiB does; old rows kept. */
export const growMib = (old: HostClassifier, added: number): HostClassifier => {
  if (!Number.isInteger(added) || added < 1) {
    throw new RangeError(`growClassifier needs a positive number of rows, got ${added}`);
  }
  const { inChannels, classes } = old;
  const grown = classes + added;
  const weight = new Float32Array(inChannels * grown);
  for (let i = 0; i < inChannels; i++) {
    for (let o = 0; o < grown; o++) {
      // Old rows keep their weights; new rows copy the background row (row 0).
      weight[i * grown + o] = old.weight[i * classes + (o < classes ? o : 0)];
    }
  }
  const shared = old.bias[0] - Math.log(added + 1);
  const bias = new Float32Array(grown);
  bias.set(old.bias);
  bias[0] = shared;
  bias.fill(shared, classes);
  return { inChannels, classes: grown, weight, bias };
};
