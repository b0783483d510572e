/**
 * The WGSL kernels of GSC's stages (shaders/gsc/), declared once.
 *
 * @module
 */
import { defineKernel, linearGrid } from "../../gpu/kernel.ts";
import sgcTermsSource from "../../../shaders/gsc/sgc_terms.wgsl" with { type: "text" };
import sgcWeightsSource from "../../../shaders/gsc/sgc_weights.wgsl" with { type: "text" };
import pprSource from "../../../shaders/gsc/ppr.wgsl" with { type: "text" };
import onehotSource from "../../../shaders/gsc/class_onehot.wgsl" with { type: "text" };
import countsSource from "../../../shaders/gsc/class_counts.wgsl" with { type: "text" };
import unbiasedSource from "../../../shaders/gsc/unbiased_softmax.wgsl" with { type: "text" };

const WG = 128;

/** SGC pass 1: g^zeta per pixel and its group indicator row. */
export const sgcTermsKernel = defineKernel({
  name: "shaders/gsc/sgc_terms.wgsl",
  source: sgcTermsSource,
  bindings: {
    z: { access: "read", type: "f32" },
    targets: { access: "read", type: "i32" },
    step_of: { access: "read", type: "i32" },
    gz: { access: "read_write", type: "f32" },
    terms: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", channels: "u32", steps: "u32", zeta: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels, steps }) => ({
    z: pixels * channels,
    targets: pixels,
    step_of: channels,
    gz: pixels,
    terms: pixels * 2 * steps,
  }),
});

/** SGC pass 2: the normalised, clipped weights. */
export const sgcWeightsKernel = defineKernel({
  name: "shaders/gsc/sgc_weights.wgsl",
  source: sgcWeightsSource,
  bindings: {
    targets: { access: "read", type: "i32" },
    step_of: { access: "read", type: "i32" },
    gz: { access: "read", type: "f32" },
    totals: { access: "read", type: "f32" },
    weights: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", channels: "u32", steps: "u32", w_min: "f32", w_max: "f32" },
  constants: { CLIP: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels, steps }) => ({
    targets: pixels,
    step_of: channels,
    gz: pixels,
    totals: 2 * steps,
    weights: pixels,
  }),
});

/** PPR: the re-labelled target map. */
export const pprKernel = defineKernel({
  name: "shaders/gsc/ppr.wgsl",
  source: pprSource,
  bindings: {
    labels: { access: "read", type: "i32" },
    old_logits: { access: "read", type: "f32" },
    features: { access: "read", type: "f32" },
    prototypes: { access: "read", type: "f32" },
    valid: { access: "read", type: "u32" },
    targets: { access: "read_write", type: "i32" },
  },
  params: { pixels: "u32", old: "u32", features: "u32", tau: "f32", theta: "f32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, old, features }) => ({
    labels: pixels,
    old_logits: pixels * old,
    features: pixels * features,
    prototypes: old * features,
    valid: old,
    targets: pixels,
  }),
});

/** The transposed (optionally count-normalised) class indicator [classes, pixels]. */
export const classOnehotKernel = defineKernel({
  name: "shaders/gsc/class_onehot.wgsl",
  source: onehotSource,
  bindings: {
    targets: { access: "read", type: "i32" },
    counts: { access: "read", type: "f32" },
    onehot: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", classes: "u32" },
  constants: { NORMALISE: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels, classes }) => linearGrid(pixels * classes, WG),
  minElements: ({ pixels, classes }) => ({
    targets: pixels,
    counts: classes,
    onehot: pixels * classes,
  }),
});

/** Pixels per class and whether the class is present. */
export const classCountsKernel = defineKernel({
  name: "shaders/gsc/class_counts.wgsl",
  source: countsSource,
  bindings: {
    targets: { access: "read", type: "i32" },
    counts: { access: "read_write", type: "f32" },
    present: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", classes: "u32" },
  workgroupSize: [64, 1, 1],
  dispatch: ({ classes }) => [Math.ceil(classes / 64), 1, 1],
  minElements: ({ pixels, classes }) => ({ targets: pixels, counts: classes, present: classes }),
});

/** The unbiased student distribution (BACKWARD 0) and its gradient (BACKWARD 1). */
export const unbiasedSoftmaxKernel = defineKernel({
  name: "shaders/gsc/unbiased_softmax.wgsl",
  source: unbiasedSource,
  bindings: {
    z: { access: "read", type: "f32" },
    q: { access: "read_write", type: "f32" },
    g: { access: "read", type: "f32" },
    dz: { access: "read_write", type: "f32" },
  },
  params: { pixels: "u32", channels: "u32", old: "u32", temperature: "f32" },
  constants: { BACKWARD: "u32" },
  workgroupSize: [WG, 1, 1],
  dispatch: ({ pixels }) => linearGrid(pixels, WG),
  minElements: ({ pixels, channels, old }, { BACKWARD }) => ({
    z: pixels * channels,
    q: pixels * old,
    g: BACKWARD ? pixels * old : 0,
    dz: BACKWARD ? pixels * channels : 0,
  }),
});
