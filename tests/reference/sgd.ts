/**
 * Float64 references of the optimizer: one SGD update (PyTorch semantics) and
 * the poly learning-rate schedule, in plain TypeScript for the tests.
 *
 * @module
 */

/** Hyper-parameters of one SGD update of one tensor (the group's effective values). */
export interface SgdUpdateHyper {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

/** A parameter's values and its momentum buffer (`undefined` before its first step). */
export interface SgdReferenceState {
  readonly weight: readonly number[];
  readonly buffer: readonly number[] | undefined;
}

/**
 * One SGD step of PyTorch's `torch.optim.SGD` in float64: returns the new
 * weight and momentum buffer (the buffer stays `undefined` when momentum is 0).
 */
export const sgdStepReference = (
  state: SgdReferenceState,
  grad: readonly number[],
  hyper: SgdUpdateHyper,
): SgdReferenceState => {
  const { lr, momentum, dampening, weightDecay, nesterov } = hyper;
  const weight: number[] = [];
  const buffer: number[] = [];
  for (let i = 0; i < state.weight.length; i++) {
    const w = state.weight[i];
    let d = grad[i] + weightDecay * w;
    if (momentum !== 0) {
      const b = state.buffer === undefined ? d : momentum * state.buffer[i] + (1 - dampening) * d;
      buffer.push(b);
      d = nesterov ? d + momentum * b : b;
    }
    weight.push(w - lr * d);
  }
  return { weight, buffer: momentum !== 0 ? buffer : undefined };
};

/** lr_t = baseLr * (1 - t / maxIters)^power, with t clamped to [0, maxIters]. */
export const polyLrReference = (
  baseLr: number,
  t: number,
  maxIters: number,
  power: number,
): number => {
  const clamped = Math.min(Math.max(t, 0), maxIters);
  return baseLr * Math.pow(1 - clamped / maxIters, power);
};
