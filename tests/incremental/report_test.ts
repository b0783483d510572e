import { Effect } from "effect";
import { decodePngRgb } from "../../src/data/image.ts";
import { VOC_PALETTE } from "../../src/data/palette.ts";
import {
  miouPlotSvg,
  parseStepJson,
  plopCsv,
  pythonFloat,
  reportMarkdown,
  stepJson,
  STRIP_GAP,
  stripPng,
  type StripRow,
  writeMiouPlot,
  writePlopCsv,
  writeReportMarkdown,
  writeStepJson,
  writeStrip,
} from "../../src/incremental/report/mod.ts";
import type { RunConfig, StepMetrics } from "../../src/incremental/types.ts";

const assertEquals = (actual: unknown, expected: unknown, label = "") => {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${label}: ${a} !== ${e}`);
};
const assert = (condition: boolean, label: string) => {
  if (!condition) throw new Error(label);
};

// A 4-class task in two steps: {0, 1} then {2, 3}; class 2 has no ground truth at step 1.
const step0: StepMetrics = {
  step: 0,
  seenClasses: [0, 1],
  oldClasses: [0, 1],
  newClasses: [],
  iou: [0.9, 0.625, null, null],
  miouAll: 0.7625,
  miouOld: 0.7625,
  miouNew: null,
  pixelAccuracy: 0.95,
  images: 7,
};
const step1: StepMetrics = {
  step: 1,
  seenClasses: [0, 1, 2, 3],
  oldClasses: [0, 1],
  newClasses: [2, 3],
  iou: [0.5, 1, null, 0.25],
  miouAll: 1.75 / 3,
  miouOld: 0.75,
  miouNew: 0.25,
  pixelAccuracy: 0.8,
  images: 7,
};

Deno.test("PLOP CSV: exact text of a 2-step run, with and without the header", () => {
  const rows = "0,0.9,0.625,x,x,0.7625\n1,0.5,1.0,X,0.25,0.5833333333333334\n";
  assertEquals(plopCsv([step0, step1], 4), rows, "csv");
  assertEquals(
    plopCsv([step0, step1], 4, { header: true }),
    "step,0,1,2,3,mIoU\n" + rows,
    "header",
  );
  assertEquals(plopCsv([{ ...step0, miouAll: null, iou: [null, null] }], 2), "0,X,X,nan\n", "nan");
});

Deno.test("numbers print as Python's str(float) prints them", () => {
  // Expected strings come from CPython 3's repr.
  const cases: [number, string][] = [
    [1e-5, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [0.0001, "0.0001"],
    [0.00012345, "0.00012345"],
    [1, "1.0"],
    [0, "0.0"],
    [-0, "-0.0"],
    [0.1 + 0.2, "0.30000000000000004"],
    [NaN, "nan"],
    [1e16, "1e+16"],
    [123.25, "123.25"],
    [2 / 3, "0.6666666666666666"],
  ];
  for (const [v, text] of cases) assertEquals(pythonFloat(v), text, String(v));
});

Deno.test("step JSON round-trips and rejects records missing a field", () => {
  const text = stepJson(step1, { trainSeconds: 12.5, evalSeconds: 1.25 });
  const back = parseStepJson(text);
  assertEquals(back, { ...step1, trainSeconds: 12.5, evalSeconds: 1.25 }, "round trip");
  const { miouNew: _, ...missing } = step1;
  let threw = false;
  try {
    parseStepJson(JSON.stringify(missing));
  } catch {
    threw = true;
  }
  assert(threw, "a record without miouNew must be rejected");
});

/** Checks tags nest and close; returns every element's tag name and attributes. */
const parseXmlish = (svg: string) => {
  const stack: string[] = [];
  const elements: { name: string; attrs: Record<string, string> }[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-z]+)([^>]*?)(\/?)>/g)) {
    const [, closing, name, rest, selfClosing] = match;
    if (closing) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rest.matchAll(/([A-Za-z-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    elements.push({ name, attrs });
    if (!selfClosing) stack.push(name);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join(">, <")}>`);
  return elements;
};

Deno.test("SVG plot: well nested, one polyline per series with one point per value, inside its viewBox", () => {
  const out = { ...step1, step: 2, miouOld: 1.2 }; // out of range: must be clamped into the plot
  const svg = miouPlotSvg([step0, step1, out], "15-1 <plop>", 6);
  const elements = parseXmlish(svg);
  assert(svg.includes("15-1 &lt;plop&gt;"), "title escaped");
  const [width, height] = elements[0].attrs.viewBox.split(" ").slice(2).map(Number);
  const expectedPoints = { old: 3, new: 2, all: 3 } as Record<string, number>;
  for (const series of ["old", "new", "all"]) {
    const lines = elements.filter((e) =>
      e.name === "polyline" && e.attrs["data-series"] === series
    );
    assertEquals(lines.length, 1, `${series} polylines`);
    const points = lines[0].attrs.points.split(" ").map((p) => p.split(",").map(Number));
    assertEquals(points.length, expectedPoints[series], `${series} points`);
    const markers = elements.filter((e) =>
      e.name === "circle" && e.attrs["data-series"] === series
    );
    assertEquals(markers.length, expectedPoints[series], `${series} markers`);
    for (const [x, y] of points) {
      assert(x >= 0 && x <= width && y >= 0 && y <= height, `${series} point ${x},${y} outside`);
    }
  }
  for (const e of elements) {
    for (const key of ["x", "x1", "x2", "cx"]) {
      if (key in e.attrs) assert(+e.attrs[key] >= 0 && +e.attrs[key] <= width, `${e.name} ${key}`);
    }
    for (const key of ["y", "y1", "y2", "cy"]) {
      if (key in e.attrs) assert(+e.attrs[key] >= 0 && +e.attrs[key] <= height, `${e.name} ${key}`);
    }
  }
  // Ticks for every step of the task (0..5), not only the finished ones.
  assert(elements.filter((e) => e.name === "text").length >= 6 + 6 + 2 + 3, "axis labels");
});

const row = (width: number, height: number, label: number, prediction: number): StripRow => ({
  width,
  height,
  rgb: Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7) % 256),
  label: new Int32Array(width * height).fill(label).fill(255, 0, 1),
  prediction: new Int32Array(width * height).fill(prediction),
});

Deno.test("PNG strip decodes to the right size and colours", async () => {
  const rows = [row(5, 3, 1, 15), row(3, 4, 20, 0)];
  const png = await Effect.runPromise(stripPng(rows));
  const image = await Effect.runPromise(decodePngRgb(png, "strip.png"));
  const slot = 5;
  assertEquals([image.width, image.height], [3 * slot + 2 * STRIP_GAP, 3 + 4 + STRIP_GAP], "size");
  const at = (
    x: number,
    y: number,
  ) => [...image.data.slice((y * image.width + x) * 3, (y * image.width + x) * 3 + 3)];
  const panel = (k: number) => k * (slot + STRIP_GAP);
  assertEquals(at(2, 1), [...rows[0].rgb.slice(7 * 3, 7 * 3 + 3)], "image pixel");
  assertEquals(at(panel(1), 0), [255, 255, 255], "label 255 is white");
  assertEquals(at(panel(1) + 4, 2), [...VOC_PALETTE[1]], "label 1");
  assertEquals(at(panel(2) + 3, 1), [...VOC_PALETTE[15]], "prediction 15");
  const second = 3 + STRIP_GAP;
  assertEquals(at(panel(1) + 2, second + 3), [...VOC_PALETTE[20]], "second row label 20");
  assertEquals(at(panel(2), second + 1), [...VOC_PALETTE[0]], "second row prediction 0");
  assertEquals(at(panel(1) - 1, 0), [255, 255, 255], "gap between panels");
  assertEquals(at(4, second), [255, 255, 255], "narrower row padded white");
  const failed = await Effect.runPromise(Effect.result(stripPng([{ ...rows[0], width: 4 }])));
  assert(failed._tag === "Failure", "mismatched sizes must fail");
});

const config: RunConfig = {
  dataset: "voc",
  dataRoot: "data/voc",
  task: "2-2",
  overlap: true,
  method: "plop",
  backbone: "small",
  outputStride: 16,
  epochs: 2,
  epochsNext: 1,
  batchSize: 4,
  crop: 64,
  lr: 0.01,
  lrNext: 0.001,
  momentum: 0.9,
  nesterov: true,
  weightDecay: 1e-4,
  headLrMultiplier: 10,
  freezeBnNext: true,
  seed: 1,
  out: "runs/x",
  evalSplit: "val",
  strips: 2,
  kdWeight: 10,
  featureWeight: 1,
  podFactor: 0.01,
  gsc: {
    sgc: true,
    ssrd: false,
    ppr: true,
    pprTau: 1,
    pprQuantile: false,
    protoMinPixels: 10,
    sgcMin: 0.5,
    sgcMax: 1.2,
    sgcSplit: false,
    lambdaSoft: 0.3,
    lambdaEntropy: 0.1,
    lambdaRelation: 0,
  },
};

const reportInput = {
  config,
  command: "gsc train --task 2-2",
  adapter: "llvmpipe",
  metrics: [step0, step1],
  stepSeconds: [10.25, 4],
  classNames: ["background", "aero|plane", "bicycle", "bird"],
  steps: [[0, 1], [2, 3]],
};

Deno.test("report.md holds the step table, per-class IoU, config table and links", () => {
  const md = reportMarkdown(reportInput);
  const expected = [
    "| 0 | 0, 1 | 76.3 | – | 76.3 | 95.0 | 10.3 |",
    "| 1 | 2, 3 | 75.0 | 25.0 | 58.3 | 80.0 | 4.0 |",
    "Average of the all-class mIoU over steps (avg): 67.3",
    "| 1 | aero\\|plane | 100.0 |",
    "| 2 | bicycle | – |",
    "| 3 | bird | 25.0 |",
    "| method | plop |",
    "| gsc.sgc | true |",
    "Command: `gsc train --task 2-2`",
    "Adapter: llvmpipe",
    "![mIoU over steps](miou.svg)",
    "[step 1](strips/step-1.png)",
  ];
  for (const line of expected) assert(md.includes(line), `missing: ${line}\n${md}`);
});

Deno.test("report.md adds each class's recall and its largest taker when given the confusions", () => {
  const confusion = [
    { label: 0, pixels: 10, correct: 0.9, taken: [{ as: 3, share: 0.1 }] },
    { label: 1, pixels: 4, correct: 1, taken: [] },
    { label: 3, pixels: 8, correct: 0.25, taken: [{ as: 0, share: 0.625 }] },
  ];
  const md = reportMarkdown({ ...reportInput, confusion });
  const expected = [
    "| class | name | IoU | recall | most of the rest predicted as |",
    "| 0 | background | 50.0 | 90.0 | 3 bird (10.0) |",
    "| 1 | aero\\|plane | 100.0 | 100.0 | – |",
    "| 2 | bicycle | – | – | – |",
    "| 3 | bird | 25.0 | 25.0 | 0 background (62.5) |",
  ];
  for (const line of expected) assert(md.includes(line), `missing: ${line}\n${md}`);
  assert(!reportMarkdown(reportInput).includes("recall"), "no confusion columns without them");
});

Deno.test("writers put every file in the run directory atomically", async () => {
  const out = await Deno.makeTempDir();
  try {
    await Effect.runPromise(Effect.gen(function* () {
      yield* writeStepJson(out, step1, { trainSeconds: 4 });
      yield* writePlopCsv(out, [step0, step1], 4);
      yield* writeMiouPlot(out, [step0, step1]);
      yield* writeStrip(`${out}/strips/step-1.png`, [row(2, 2, 1, 1)]);
      yield* writeStrip(`${out}/strips/step-9.png`, []);
      yield* writeReportMarkdown(out, reportInput);
    }));
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assertEquals(names, ["metrics.csv", "miou.svg", "report.md", "step-1.json", "strips"], "files");
    assertEquals(
      [...Deno.readDirSync(`${out}/strips`)].map((e) => e.name),
      ["step-1.png"],
      "strips",
    );
    assertEquals(
      parseStepJson(Deno.readTextFileSync(`${out}/step-1.json`)).trainSeconds,
      4,
      "json",
    );
    assertEquals(Deno.readTextFileSync(`${out}/metrics.csv`), plopCsv([step0, step1], 4), "csv");
    const failed = await Effect.runPromise(
      Effect.result(writePlopCsv(`${out}/metrics.csv/not-a-dir`, [step0], 4)),
    );
    assert(failed._tag === "Failure", "writing under a file must fail");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
