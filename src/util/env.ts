/**
 * Process switches read from the environment.
 *
 * @module
 */

/** Whether environment variable `name` is "1" (false without environment access). */
export const envFlag = (name: string): boolean => {
  try {
    return Deno.env.get(name) === "1";
  } catch {
    return false;
  }
};
