import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import type { RunEvent, StepMetrics } from "../../src/incremental/types.ts";
import { eventLine, formatDuration, makeProgressReporter } from "../../src/cli/progress.ts";

/** A stream that keeps what was written. */
const buffer = (isTTY: boolean) => {
  const stream = { text: "", isTTY, columns: 120, write: (t: string) => (stream.text += t) };
  return stream;
};

const metrics = (
  step: number,
  old: number | null,
  fresh: number | null,
  all: number,
): StepMetrics => ({
  step,
  seenClasses: [0, 1, 2],
  oldClasses: [0, 1],
  newClasses: [2],
  iou: [0.9, 0.5, null],
  miouAll: all,
  miouOld: old,
  miouNew: fresh,
  pixelAccuracy: 0.91234,
  images: 150,
});

/** Step 1 of a 6-step task: 2 epochs of 3 batches, evaluation, step end, run end. */
const EVENTS: RunEvent[] = [
  { type: "resumed", step: 1, epoch: 0, from: "runs/x/checkpoints/last.safetensors" },
  {
    type: "step-start",
    step: 1,
    steps: 6,
    classes: [16],
    trainImages: 24,
    epochs: 2,
    batchesPerEpoch: 3,
  },
  ...[0, 1].flatMap((epoch): RunEvent[] => [
    ...[0, 1, 2].map((batch): RunEvent => ({
      type: "batch",
      step: 1,
      epoch,
      batch,
      batches: 3,
      loss: 0.5,
      imagesPerSecond: 200,
    })),
    {
      type: "epoch-end",
      step: 1,
      epoch,
      epochs: 2,
      loss: 0.41234,
      seconds: 3.14,
      imagesPerSecond: epoch === 0 ? 212.4 : 7.25,
    },
  ]),
  { type: "eval-start", step: 1, images: 150 },
  { type: "step-end", step: 1, metrics: metrics(1, 0.7123, null, 0.6) },
  { type: "run-end", reportPath: "runs/x/report.md", seconds: 312.4 },
];

Deno.test("without a terminal: one plain line per epoch and per step end, no bar", () => {
  const stream = buffer(false);
  const report = makeProgressReporter({ stream });
  for (const event of EVENTS) report(event);
  report.stop();
  assertEquals(stream.text.split("\n"), [
    "resumed runs/x/checkpoints/last.safetensors at step 1, epoch 1",
    "step 1/5 classes 16  24 images  2 epochs x 3 batches",
    "step 1/5 epoch 1/2  loss 0.4123  212 img/s  3.1 s",
    "step 1/5 epoch 2/2  loss 0.4123  7.3 img/s  3.1 s",
    "step 1/5 evaluating 150 images",
    "step 1/5 mIoU old 71.2  new -  all 60.0  (pixel acc 91.2, 150 images)",
    "done in 5m12s; report runs/x/report.md",
    "",
  ]);
});

Deno.test("quiet prints nothing", () => {
  const stream = buffer(true);
  const report = makeProgressReporter({ stream, quiet: true });
  for (const event of EVENTS) report(event);
  report.stop();
  assertEquals(stream.text, "");
});

Deno.test("on a terminal: a bar with ETA during batches, cleared before every line and by stop()", () => {
  const stream = buffer(true);
  let clock = 0;
  const report = makeProgressReporter({ stream, now: () => clock });
  report(EVENTS[1]);
  for (let batch = 0; batch < 3; batch++) {
    report({
      type: "batch",
      step: 1,
      epoch: 0,
      batch,
      batches: 3,
      loss: 0.5,
      imagesPerSecond: 200,
    });
    clock += 2000;
  }
  const barText = stream.text;
  assert(barText.includes("step 1/5 "), "bar label");
  assert(barText.includes("epoch 1/2 batch 1/3  loss 0.5000  200 img/s  ETA ?"), "first draw");
  report(EVENTS[5]); // epoch-end: the bar is drawn a last time, cleared, then the line follows
  // 6 batches in the step, the first one the time origin: at the third, 4 s / 2 batches x 3 left.
  assert(
    stream.text.includes("epoch 1/2 batch 3/3  loss 0.5000  200 img/s  ETA 6s"),
    "final draw with the ETA",
  );
  const afterLine = stream.text.slice(barText.length);
  assert(afterLine.includes("\x1b[2K"), "bar line cleared");
  assert(afterLine.endsWith("step 1/5 epoch 1/2  loss 0.4123  212 img/s  3.1 s\n"));
  // An error mid-epoch: stop() clears the bar and cancels its timer (the test's sanitizer checks).
  report({
    type: "batch",
    step: 1,
    epoch: 1,
    batch: 0,
    batches: 3,
    loss: 0.5,
    imagesPerSecond: 200,
  });
  report.stop();
  assert(stream.text.endsWith("\x1b[2K"), "the last thing written clears the bar line");
  report.stop();
});

Deno.test("durations read as seconds, minutes or hours", () => {
  assertEquals([0, 42.4, 59.6, 187, 3725].map(formatDuration), [
    "0s",
    "42s",
    "1m00s",
    "3m07s",
    "1h02m",
  ]);
});

Deno.test("a step's line names its classes, or its cities on a domain-incremental task", () => {
  const start = EVENTS[1] as Extract<RunEvent, { type: "step-start" }>;
  const classLine = eventLine(start, 6) ?? "";
  const cityLine = eventLine({ ...start, cities: ["dusseldorf", "hamburg"] }, 6) ?? "";
  if (!classLine.includes("classes 16") || classLine.includes("cities")) throw new Error(classLine);
  if (!cityLine.includes("cities dusseldorf,hamburg") || cityLine.includes("classes")) {
    throw new Error(cityLine);
  }
});
