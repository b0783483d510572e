/**
 * The switch of the poisoned pool (see `poison.ts`): on when the environment
 * sets `GSC_POOL_POISON=1`, or when a test turns it on.
 *
 * @module
 */

/** Extra bytes a poisoned tensor gets past its end, poisoned and bound, to catch overreads. */
export const POISON_SLACK_BYTES = 256;

let poisoned: boolean | undefined;

/** Whether the pool is poisoned: `GSC_POOL_POISON=1`, unless a test set it. */
export const poolPoisoned = (): boolean => {
  if (poisoned === undefined) {
    try {
      poisoned = Deno.env.get("GSC_POOL_POISON") === "1";
    } catch {
      poisoned = false;
    }
  }
  return poisoned;
};

/** Turns the poisoned pool on or off (tests); affects tensors allocated from now on. */
export const setPoolPoisoned = (on: boolean): void => {
  poisoned = on;
};
