/**
 * What llvmpipe, Mesa's CPU rasteriser, generates code for on this host. Its
 * storage-buffer loads go lane by lane, inserting each value into the vector:
 * cheap with AVX-512, costly with AVX2 alone, which is what decides whether a
 * kernel should read through texture copies (bench/texture_loads.ts).
 *
 * @module
 */

/**
 * Whether llvmpipe here generates AVX-512 code: the CPU reports `avx512f`
 * (Linux's /proc/cpuinfo) and GALLIUM_OVERRIDE_CPU_CAPS, which every level it
 * accepts caps at AVX or below, is not set. False where either cannot be read.
 */
export const llvmpipeUsesAvx512 = (): boolean => {
  try {
    if ((Deno.env.get("GALLIUM_OVERRIDE_CPU_CAPS") ?? "") !== "") return false;
    const flags = Deno.readTextFileSync("/proc/cpuinfo").match(/^flags\s*:(.*)$/m)?.[1] ?? "";
    return flags.split(/\s+/).includes("avx512f");
  } catch {
    return false;
  }
};
