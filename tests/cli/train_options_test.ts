import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import fc from "fast-check";
import { GSC_DEFAULTS } from "../../src/cli/defaults.ts";
import { helpText } from "../../src/cli/help.ts";
import { parseTrainOptions, validTasks } from "../../src/cli/train_options.ts";
import { failure, ok, tempDir } from "./support.ts";

const train = (...argv: string[]) => ok(parseTrainOptions(argv));
const trainError = (...argv: string[]) => failure(parseTrainOptions(argv));

Deno.test("synth defaults: the recipe measured on the synthetic val split", () => {
  const { config, resume, quiet } = train();
  assertEquals(config, {
    dataset: "synth",
    dataRoot: "data/synthetic-voc",
    task: "15-1",
    overlap: true,
    method: "gsc",
    backbone: "small",
    outputStride: 8,
    pretrained: "weights/small-synthetic.safetensors",
    epochs: 12,
    epochsNext: 2,
    batchSize: 8,
    scaleMin: 0.75,
    scaleMax: 1.25,
    crop: 64,
    lr: 0.05,
    lrNext: 0.01,
    momentum: 0.9,
    nesterov: true,
    weightDecay: 1e-4,
    headLrMultiplier: 1,
    freezeBnNext: false,
    seed: 0,
    out: "runs/synth-15-1-overlap-gsc-s0",
    evalSplit: "test",
    trainSplit: "train",
    strips: 4,
    kdWeight: 0,
    featureWeight: 0,
    podFactor: 0.01,
    podLogitsFactor: 0.0005,
    podNewLogits: "sum",
    gsc: GSC_DEFAULTS,
  });
  assertEquals([resume, quiet], [false, false]);
  assertEquals(GSC_DEFAULTS, {
    sgc: true,
    ssrd: true,
    ppr: true,
    pprTau: 4,
    pprQuantile: false,
    protoMinPixels: 16,
    sgcMin: 0.5,
    sgcMax: 1.2,
    sgcSplit: false,
    lambdaSoft: 0.3,
    lambdaEntropy: 0.1,
    lambdaRelation: 0,
  });
});

Deno.test("real datasets default to the standard recipe", () => {
  const root = tempDir();
  try {
    // Epochs, task, and the rates of step 0 and later steps (Cityscapes: RCIL's domain scripts).
    const expected = {
      voc: [30, "15-1", 0.01, 0.001],
      ade: [60, "100-50", 0.01, 0.001],
      cityscapes: [50, "11-5", 0.02, 0.002],
    } as const;
    for (const [dataset, [epochs, task, lr, lrNext]] of Object.entries(expected)) {
      const { config } = train("--dataset", dataset, "--data-root", root.path);
      assertEquals(
        [config.backbone, config.outputStride, config.crop, config.batchSize],
        ["resnet101", 16, 512, 24],
      );
      assertEquals([config.lr, config.lrNext, config.evalSplit], [lr, lrNext, "val"]);
      assertEquals([config.epochs, config.epochsNext, config.task], [epochs, epochs, task]);
      assertEquals(config.out, `runs/${dataset}-${task}-overlap-gsc-s0`);
    }
  } finally {
    root.remove();
  }
});

Deno.test("method weights follow MiB's and PLOP's defaults", () => {
  const weights = (...argv: string[]) => {
    const { config } = train(...argv);
    return [config.kdWeight, config.featureWeight, config.podFactor, config.podLogitsFactor];
  };
  assertEquals(weights("--method", "ft"), [0, 0, 0, 0.0005]);
  assertEquals(weights("--method", "lwf"), [100, 0, 0, 0.0005]);
  assertEquals(weights("--method", "ilt"), [100, 100, 0, 0.0005]);
  assertEquals(weights("--method", "mib", "--task", "15-5"), [10, 0, 0, 0.0005]);
  assertEquals(weights("--method", "mib", "--task", "15-1"), [100, 0, 0, 0.0005]);
  assertEquals(weights("--method", "mib", "--task", "15-5s"), [100, 0, 0, 0.0005]);
  assertEquals(weights("--method", "plop"), [0, 0, 0.01, 0.0005]);
  assertEquals(weights("--method", "gsc"), [0, 0, 0.01, 0.0005]);
});

Deno.test("every option is parsed into the config", () => {
  const dir = tempDir();
  const pretrained = `${dir.path}/backbone.safetensors`;
  Deno.writeTextFileSync(pretrained, "x");
  try {
    const { config, resume, quiet } = train(
      ...["--dataset", "voc", "--data-root", dir.path, "--task", "10-1", "--disjoint"],
      ...["--method", "gsc", "--backbone", "resnet50", "--output-stride", "16"],
      ...["--pretrained", pretrained, "--epochs", "7", "--epochs-next", "3", "--batch-size", "5"],
      ...[
        "--crop",
        "33",
        "--scale-min",
        "0.75",
        "--scale-max",
        "1.25",
        "--lr",
        "0.02",
        "--lr-next",
        "2e-4",
        "--momentum",
        "0.8",
        "--no-nesterov",
      ],
      ...["--weight-decay", "0", "--head-lr-mult", "10", "--freeze-bn-next", "--seed", "7"],
      ...["--out", "runs/x", "--eval-split", "train", "--strips", "0"],
      ...["--no-sgc", "--no-ssrd", "--no-ppr", "--ppr-tau", "0.2", "--ppr-quantile"],
      ...["--proto-min-pixels", "3", "--sgc-min", "0.25", "--sgc-max", "4", "--sgc-split"],
      ...["--lambda-soft", "0.5", "--lambda-entropy", "0", "--lambda-relation", "0.5"],
      ...["--pod-logits-factor", "0.001", "--pod-new-logits", "trim"],
      ...["--resume", "--quiet"],
    );
    assertEquals(config, {
      dataset: "voc",
      dataRoot: dir.path,
      task: "10-1",
      overlap: false,
      method: "gsc",
      backbone: "resnet50",
      outputStride: 16,
      pretrained,
      epochs: 7,
      epochsNext: 3,
      batchSize: 5,
      scaleMin: 0.75,
      scaleMax: 1.25,
      crop: 33,
      lr: 0.02,
      lrNext: 2e-4,
      momentum: 0.8,
      nesterov: false,
      weightDecay: 0,
      headLrMultiplier: 10,
      freezeBnNext: true,
      seed: 7,
      out: "runs/x",
      evalSplit: "train",
      trainSplit: "train_aug",
      strips: 0,
      kdWeight: 0,
      featureWeight: 0,
      podFactor: 0.01,
      podLogitsFactor: 0.001,
      podNewLogits: "trim",
      gsc: {
        sgc: false,
        ssrd: false,
        ppr: false,
        pprTau: 0.2,
        pprQuantile: true,
        protoMinPixels: 3,
        sgcMin: 0.25,
        sgcMax: 4,
        sgcSplit: true,
        lambdaSoft: 0.5,
        lambdaEntropy: 0,
        lambdaRelation: 0.5,
      },
    });
    assertEquals([resume, quiet], [true, true]);
  } finally {
    dir.remove();
  }
  const weights = (...argv: string[]) => {
    const { config } = train(...argv);
    return [config.kdWeight, config.featureWeight, config.podFactor, config.podLogitsFactor];
  };
  assertEquals(weights("--method", "ilt", "--kd-weight", "3", "--feature-weight", "4"), [
    3,
    4,
    0,
    0.0005,
  ]);
  assertEquals(weights("--method", "plop", "--pod-factor=0.5"), [0, 0, 0.5, 0.0005]);
  assertEquals(weights("--method", "gsc", "--pod-logits-factor", "0"), [0, 0, 0.01, 0]);
});

Deno.test("`--name=value`, last-wins repeats, aliases and the default run directory", () => {
  assertEquals(train("--epochs=9").config.epochs, 9);
  assertEquals(train("--epochs", "2", "--epochs", "5").config.epochs, 5);
  const { config } = train("--task", "15-5s", "--method", "mib", "--disjoint", "--seed", "3");
  assertEquals(config.task, "15-1");
  assertEquals(config.out, "runs/synth-15-1-disjoint-mib-s3");
  assertEquals(train("--overlap").config.overlap, true);
});

Deno.test("an unknown option names it and suggests the closest", () => {
  assertEquals(trainError("--epoch", "3"), "--epoch: unknown option; did you mean --epochs?");
  assertEquals(
    trainError("--batchsize", "3"),
    "--batchsize: unknown option; did you mean --batch-size?",
  );
  assertEquals(trainError("--no-sgcc"), "--no-sgcc: unknown option; did you mean --no-sgc?");
  assertEquals(trainError("--zzzzzzzz"), "--zzzzzzzz: unknown option");
  assertEquals(trainError("-e", "3"), "-e: unknown option");
});

Deno.test("an unknown task lists the dataset's valid tasks", () => {
  assertEquals(
    trainError("--task", "16-1"),
    "--task: unknown task '16-1' for dataset synth; valid: 2-1, 2-2, 5-3, 10-1, 15-1, 15-5, " +
      "15-5s, 19-1",
  );
  assertEquals(validTasks("ade"), ["50-50", "100-5", "100-10", "100-50"]);
  assertEquals(validTasks("cityscapes"), ["1-1", "11-1", "11-5"]);
  assertEquals(
    trainError("--task", "voc/15-1"),
    `--task: unknown task 'voc/15-1' for dataset synth; valid: ${validTasks("synth").join(", ")}`,
  );
});

Deno.test("values that are not numbers or out of range name the option and the bound", () => {
  assertEquals(trainError("--batch-size", "x"), "--batch-size: expected an integer, got 'x'");
  assertEquals(trainError("--batch-size", "0"), "--batch-size: must be >= 1, got 0");
  assertEquals(trainError("--epochs", "1.5"), "--epochs: expected an integer, got '1.5'");
  assertEquals(trainError("--lr", "0"), "--lr: must be > 0, got 0");
  assertEquals(trainError("--lr", "0x10"), "--lr: expected a number, got '0x10'");
  assertEquals(trainError("--lr-next", "Infinity"), "--lr-next: expected a number, got 'Infinity'");
  assertEquals(trainError("--crop", "8"), "--crop: must be >= 16, got 8");
  assertEquals(trainError("--momentum", "1"), "--momentum: must be >= 0 and < 1, got 1");
  assertEquals(trainError("--weight-decay", "-1"), "--weight-decay: must be >= 0, got -1");
  assertEquals(trainError("--seed", "-1"), "--seed: must be in [0, 4294967295], got -1");
  assertEquals(
    trainError("--output-stride", "32"),
    "--output-stride: unknown value '32'; expected one of 8, 16",
  );
  assertEquals(
    trainError("--method", "gsx"),
    "--method: unknown value 'gsx'; expected one of ft, lwf, ilt, mib, plop, gsc, joint (did you mean gsc?)",
  );
  assertEquals(
    trainError("--sgc-min", "2", "--sgc-max", "1"),
    "--sgc-max: must be >= --sgc-min (2), got 1",
  );
  assertEquals(
    trainError("--eval-split", "tset"),
    "--eval-split: unknown value 'tset'; expected one of train, val, test (did you mean test?)",
  );
});

Deno.test("--crop-val: off by default (full images), on for real data, refused for synth", () => {
  const root = tempDir();
  try {
    const real = ["--dataset", "voc", "--data-root", root.path];
    assertEquals(train(...real).config.cropVal, undefined);
    assertEquals(train(...real, "--crop-val").config.cropVal, true);
    assertEquals(
      trainError("--crop-val"),
      "--crop-val: the synthetic set is evaluated at its fixed size; --crop-val is for voc, " +
        "ade and cityscapes",
    );
  } finally {
    root.remove();
  }
});

Deno.test("missing data root and pretrained file are named", () => {
  assertEquals(
    trainError("--dataset", "voc", "--data-root", "/nonexistent/voc"),
    "--data-root: directory '/nonexistent/voc' not found; pass the folder holding the voc dataset",
  );
  assertEquals(
    trainError("--dataset", "ade"),
    "--data-root: directory 'data/ADEChallengeData2016' not found; pass the folder holding the ade dataset",
  );
  // The synthetic set is written by the engine when missing.
  assertEquals(train("--data-root", "/nonexistent/synth").config.dataRoot, "/nonexistent/synth");
  assertEquals(
    trainError("--pretrained", "/nonexistent/w.safetensors"),
    "--pretrained: file '/nonexistent/w.safetensors' not found",
  );
});

Deno.test("options of another method are refused", () => {
  for (const flag of ["--no-sgc", "--no-ssrd", "--no-ppr"]) {
    assertEquals(
      trainError("--method", "mib", flag),
      `${flag}: applies to --method gsc only (method is mib)`,
    );
  }
  // [method, option, value, the methods it applies to]
  const refused = [
    ["ft", "--lambda-entropy", "0.5", "gsc"],
    ["gsc", "--kd-weight", "1", "lwf|ilt|mib"],
    ["lwf", "--feature-weight", "1", "ilt"],
    ["mib", "--pod-factor", "1", "plop|gsc"],
    ["ft", "--pod-logits-factor", "0", "plop|gsc"],
    ["mib", "--pod-new-logits", "trim", "plop|gsc"],
  ];
  for (const [method, option, value, methods] of refused) {
    assertEquals(
      trainError("--method", method, option, value),
      `${option}: applies to --method ${methods} only (method is ${method})`,
    );
  }
  assertEquals(
    trainError("--method", "plop", "--pod-new-logits", "drop"),
    "--pod-new-logits: unknown value 'drop'; expected one of sum, trim",
  );
});

Deno.test("--method joint: the step-0 recipe over every class; --step0 is refused", () => {
  const { config } = train("--method", "joint", "--epochs", "3", "--lr", "0.02");
  assertEquals(
    [config.method, config.epochs, config.lr, config.kdWeight, config.podFactor],
    ["joint", 3, 0.02, 0, 0],
  );
  assertEquals(config.out, "runs/synth-15-1-overlap-joint-s0");
  const message = trainError("--method", "joint", "--step0", "x");
  assert(message.startsWith("--step0: has no meaning with --method joint"), message);
  assert(message.includes("(the step-0 recipe: --epochs, --lr)"), message);
  const help = helpText("train");
  assert(help.includes("|gsc|joint (joint: the upper bound"), help);
  assert(help.includes("epochs of step 0 (joint: of its one step over every class)"), help);
});

Deno.test("malformed command lines", () => {
  assertEquals(
    trainError("--overlap", "--disjoint"),
    "--disjoint: cannot be combined with --overlap",
  );
  assertEquals(
    trainError("--overlap", "yes"),
    "unexpected argument 'yes' (--overlap takes no value)",
  );
  assertEquals(trainError("extra"), "unexpected argument 'extra'");
  assertEquals(trainError("--overlap=1"), "--overlap: takes no value");
  assertEquals(trainError("--out"), "--out: needs a value (DIR)");
  assertEquals(trainError("--out", "--seed", "1"), "--out: needs a value (DIR)");
  assertEquals(trainError("--", "--seed"), "unexpected `--`: this command takes options only");
});

Deno.test("numeric options: in-range values round-trip, out-of-range ones name the option", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1000, max: 1000 }),
      fc.double({ min: -10, max: 10, noNaN: true }),
      (n, x) => {
        const epochs = parseTrainOptions(["--epochs", String(n)]);
        if (n >= 1) assertEquals(ok(epochs).config.epochs, n);
        else assertEquals(failure(epochs), `--epochs: must be >= 1, got ${n}`);
        const soft = parseTrainOptions(["--lambda-soft", String(x)]);
        if (x >= 0) assertEquals(ok(soft).config.gsc.lambdaSoft, x === 0 ? 0 : x);
        else assert(failure(soft).startsWith("--lambda-soft: "));
      },
    ),
    { seed: 42, numRuns: 200 },
  );
});
