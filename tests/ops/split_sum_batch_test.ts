/**
 * The batched split sums (src/ops/split_sum_batch.ts) give the filter and
 * bias gradients bit for bit as summing each at once: over random
 * convolutions whose gradients are added into slices of one buffer (with
 * what the slices held before), a weight used twice (its second gradient
 * must wait for the first sum), a gradient in a buffer of its own, and arenas
 * small enough to fill; and through `backward` of a network that uses one
 * filter twice. The batch must have taken the sums (fewer dispatches).
 */
import fc from "fast-check";
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Effect } from "effect";
import { ARENA_ALIGNMENT } from "../../src/autograd/arena.ts";
import { relu, sumAll } from "../../src/autograd/basic.ts";
import { conv2d } from "../../src/autograd/conv.ts";
import { backward, constant, type Node, parameter } from "../../src/autograd/tape.ts";
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dGeometry } from "../../src/ops/conv.ts";
import { CurrentSplitSums, SplitSumBatch, splitSumTuning } from "../../src/ops/split_sum_batch.ts";
import { download, fromArray, slice, type Tensor } from "../../src/tensor/tensor.ts";
import { gpuTestOptions, runGpu } from "../support/gpu.ts";
import { seededValues } from "../support/arbitrary.ts";
import { bits, tracing } from "../support/tracing.ts";

/** The split-sum dispatches among a traced program's kernels: one at a time, and batched. */
const sums = (kernels: readonly string[]) => ({
  each:
    kernels.filter((k) =>
      k.startsWith("shaders/conv/sum_splits.wgsl") || k.startsWith("shaders/conv/sum_splits_vec4")
    ).length,
  batched: kernels.filter((k) => k.startsWith("shaders/conv/sum_splits_batch")).length,
});

/** One gradient: a convolution's filter (or bias) gradient added into a slot. */
const job = fc.record({
  batch: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 4, max: 16 }),
  w: fc.integer({ min: 4, max: 16 }),
  inC: fc.constantFrom(3, 4, 8, 16, 32),
  outC: fc.constantFrom(4, 8, 16, 24),
  k: fc.constantFrom(1, 3),
  stride: fc.integer({ min: 1, max: 2 }),
  bias: fc.boolean(),
  /** Adds into the previous job's slot again (a weight used twice), when the shapes match. */
  shared: fc.boolean(),
  /** A slot in a buffer of its own instead of the shared one. */
  own: fc.boolean(),
});

const cases = fc.record({
  jobs: fc.array(job, { minLength: 1, maxLength: 5 }),
  /** Elements an arena holds at most: small ones fill and flush mid-pass. */
  arena: fc.constantFrom(1024, 16 * 1024, 16 * 1024 * 1024),
  seed: fc.integer({ min: 0, max: 10000 }),
});

type Case = typeof cases extends fc.Arbitrary<infer C> ? C : never;

/** Element offset a slot starts at: a parameter arena's alignment. */
const ALIGN = ARENA_ALIGNMENT;

/** The jobs' gradients added into their slots, with or without a batch: every slot's bits. */
const gradients = (c: Case, batched: boolean) =>
  runGpu(Effect.gen(function* () {
    const plans = c.jobs.map((j) => {
      const filter = [j.k, j.k, j.inC, j.outC];
      return { ...j, filter, size: j.bias ? j.outC : j.k * j.k * j.inC * j.outC };
    });
    // Slots: a job shares the previous slot when asked and the sizes match.
    const slots: { start: number; size: number; own: boolean }[] = [];
    let end = 0;
    for (const [i, p] of plans.entries()) {
      const previous = slots[i - 1];
      if (p.shared && previous && previous.size === p.size && !previous.own) {
        slots.push(previous);
        continue;
      }
      slots.push({ start: p.own ? 0 : end, size: p.size, own: p.own });
      if (!p.own) end = Math.ceil((end + p.size) / ALIGN) * ALIGN;
    }
    const shared = yield* fromArray(
      seededValues(Math.max(end, 4), c.seed),
      [Math.max(end, 4)],
      "f32",
    );
    const owns: Tensor<"f32">[] = [];
    const into = yield* Effect.forEach(slots, (s, i) =>
      Effect.gen(function* () {
        if (!s.own) return slice(shared, s.start, [s.size]);
        const t = yield* fromArray(seededValues(s.size, c.seed + 100 + i), [s.size], "f32");
        owns.push(t);
        return t;
      }));
    const batch = new SplitSumBatch(yield* Effect.scope);
    const run = Effect.forEach(plans, (p, i) =>
      Effect.gen(function* () {
        const padding = (p.k - 1) / 2;
        const input = [p.batch, p.h, p.w, p.inC];
        const g = conv2dGeometry(input, p.filter, { stride: p.stride, padding });
        const x = yield* fromArray(
          seededValues(p.batch * p.h * p.w * p.inC, c.seed + 7 * i + 1),
          input,
          "f32",
        );
        const dyShape = [g.batch, g.outH, g.outW, g.outC];
        const dy = yield* fromArray(
          seededValues(dyShape.reduce((a, b) => a * b), c.seed + 7 * i + 2),
          dyShape,
          "f32",
        );
        if (p.bias) yield* conv2dBackwardBias(dy, into[i]);
        else yield* conv2dBackwardFilter(x, dy, p.filter, { stride: p.stride, padding }, into[i]);
      }), { discard: true });
    const saved = { ...splitSumTuning };
    splitSumTuning.maxArenaElements = c.arena;
    const traced = yield* tracing(
      batched
        ? Effect.andThen(Effect.provideService(run, CurrentSplitSums, batch), batch.flush())
        : run,
    ).pipe(Effect.ensuring(Effect.sync(() => Object.assign(splitSumTuning, saved))));
    const values = [bits(yield* download(shared))];
    for (const t of owns) values.push(bits(yield* download(t)));
    return { values, sums: sums(traced.kernels), deferred: batch.deferred, flushes: batch.flushes };
  }));

Deno.test({
  name: "batched split sums give each gradient's sum bit for bit, with fewer dispatches",
  ...gpuTestOptions,
  fn: async () => {
    let deferred = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const each = await gradients(c, false);
        const batched = await gradients(c, true);
        assertEquals(batched.values, each.values, JSON.stringify(c));
        assertEquals(each.deferred, 0);
        // Every deferred sum left the one-at-a-time kernels; each flush is one batched dispatch.
        assertEquals(batched.sums, {
          each: each.sums.each - batched.deferred,
          batched: batched.flushes,
        });
        assertEquals(each.sums.batched, 0);
        deferred += batched.deferred;
      }),
      { numRuns: 14, seed: 20261202 },
    );
    assert(deferred > 0, "no split sum was batched");
  },
});

/** x -> conv(w) -> relu -> conv(w) -> sum: w's gradient has two contributions. */
const twiceThroughOneFilter = (seed: number) =>
  Effect.gen(function* () {
    const x = constant(
      yield* fromArray(seededValues(2 * 12 * 12 * 16, seed), [2, 12, 12, 16], "f32"),
    );
    const w = parameter(
      yield* fromArray(seededValues(9 * 16 * 16, seed + 1, 0.2), [3, 3, 16, 16], "f32"),
      "w",
    );
    const b = parameter(yield* fromArray(seededValues(16, seed + 2), [16], "f32"), "b");
    const first = yield* relu(yield* conv2d(x, w, b, { padding: 1 }));
    const second = yield* conv2d(first, w, b, { padding: 1 });
    const loss: Node = yield* sumAll(second);
    return { loss, params: [w, b] };
  });

Deno.test({
  name: "backward batches the split sums of a filter used twice, bit for bit",
  ...gpuTestOptions,
  fn: async () => {
    const run = (on: boolean) =>
      runGpu(Effect.gen(function* () {
        const saved = { ...splitSumTuning };
        Object.assign(splitSumTuning, { onCpu: on, onGpu: on });
        try {
          const scope = yield* Effect.scope;
          const { loss, params } = yield* twiceThroughOneFilter(5);
          // Both gradients in one buffer, as an optimizer's arena holds them.
          const arena = yield* fromArray(seededValues(2 * ALIGN + 9 * 16 * 16, 9), [
            2 * ALIGN + 9 * 16 * 16,
          ], "f32");
          params[0].gradSlot = slice(arena, 0, [3, 3, 16, 16]);
          params[1].gradSlot = slice(arena, Math.ceil((9 * 16 * 16) / ALIGN) * ALIGN, [16]);
          // Twice: the first pass sizes the arena (a larger first gradient flushes), the
          // second finds every partial sum room in one.
          yield* Effect.scoped(backward(loss, params, scope));
          const traced = yield* tracing(Effect.scoped(backward(loss, params, scope)));
          return { arena: bits(yield* download(arena)), sums: sums(traced.kernels) };
        } finally {
          Object.assign(splitSumTuning, saved);
        }
      }));
    const each = await run(false);
    const batched = await run(true);
    assertEquals(batched.arena, each.arena);
    // Two filter and two bias gradients summed one at a time; batched, the second filter
    // gradient waits for the first's sum (one dispatch), the rest share the last.
    assertEquals(each.sums, { each: 4, batched: 0 });
    assertEquals(batched.sums, { each: 0, batched: 2 });
  },
});
