// Filter gradient when only the output channels per group are multiples of 4
// (an RGB stem: 3 input channels): each invocation accumulates 4 input
// channels (scalar loads, clamped at the group's edge) x CO_QUADS quads of
// output channels (vec4 loads; a quad past the group's end re-reads its last
// quad and is not stored) of TAPS taps along a filter row (1 to 4, from
// b.tkw; taps past the row's end are not stored) over its chunk of output
// rows. The taps share each pixel's dy loads: 3 TAPS + CO_QUADS loads for 12
// TAPS vec4 FMAs at an RGB stem. Each tap sums the pixels of filter.wgsl's
// order; a pixel whose source column one tap reads in the padding (while
// another's is inside) adds fma(0, dy, acc) = acc for it, so the results are
// the same. CI_USED (1 to 4) is how many of the 4 input channels are
// accumulated: the group's channels when it has fewer than 4 (an RGB stem:
// 3), so no lane repeats one.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let b = filterBlock(id);
  let coTile = 4u * CO_QUADS;
  let perGroup = (params.out_cg + coTile - 1u) / coTile;
  let g = b.cob / perGroup;
  let co0 = g * params.out_cg + (b.cob % perGroup) * coTile;
  let coEnd = g * params.out_cg + params.out_cg;
  let ciLocal = b.cib * 4u;
  var ins: vec4<u32>;
  for (var i = 0u; i < 4u; i++) { ins[i] = g * params.in_cg + min(ciLocal + i, params.in_cg - 1u); }
  var quads: array<u32, 4>;
  for (var q = 0u; q < CO_QUADS; q++) { quads[q] = min(co0 + 4u * q, coEnd - 4u) / 4u; }
  // Tap t's output columns [spans[t].x, spans[t].y); the block walks their union.
  let live = min(TAPS, params.k_w - b.tkw);
  var spans: array<vec2<u32>, 4>;
  var lo = params.out_w;
  var hi = 0u;
  for (var t = 0u; t < TAPS; t++) {
    spans[t] = select(vec2<u32>(0u), validColumns(b.tkw + t), t < live);
    if (spans[t].x < spans[t].y) {
      lo = min(lo, spans[t].x);
      hi = max(hi, spans[t].y);
    }
  }
  let r0 = b.split * params.rows_per_split;
  let r1 = min(r0 + params.rows_per_split, params.batch * params.out_h);
  let outQuads = params.out_c / 4u;
  // acc[4 q + i]: input channel ciLocal + i, output quad q; acc2 .. acc4: taps 1 .. 3.
  var acc: array<vec4<f32>, 16>;
  var acc2: array<vec4<f32>, 16>;
  var acc3: array<vec4<f32>, 16>;
  var acc4: array<vec4<f32>, 16>;
  for (var i = 0u; i < 16u; i++) {
    acc[i] = vec4<f32>(0.0);
    acc2[i] = vec4<f32>(0.0);
    acc3[i] = vec4<f32>(0.0);
    acc4[i] = vec4<f32>(0.0);
  }
  for (var r = r0; r < r1; r++) {
    let n = r / params.out_h;
    let ih = inputRow(r % params.out_h, b.tkh);
    if (ih < 0) { continue; }
    let xRow = (n * params.in_h + u32(ih)) * params.in_w;
    let dyRow = r * params.out_w;
    for (var ow = lo; ow < hi; ow++) {
      let db = (dyRow + ow) * outQuads;
      var d: array<vec4<f32>, 4>;
      for (var q = 0u; q < CO_QUADS; q++) { d[q] = load_grad(db + quads[q]); }
      accumulateTap(&acc, sourceValues(xRow, ow, b.tkw, spans[0], ins), &d);
      if (TAPS >= 2u) { accumulateTap(&acc2, sourceValues(xRow, ow, b.tkw + 1u, spans[1], ins), &d); }
      if (TAPS >= 3u) { accumulateTap(&acc3, sourceValues(xRow, ow, b.tkw + 2u, spans[2], ins), &d); }
      if (TAPS >= 4u) { accumulateTap(&acc4, sourceValues(xRow, ow, b.tkw + 3u, spans[3], ins), &d); }
    }
  }
  storeTap(b, 0u, live, &acc, ciLocal, co0, coEnd);
  if (TAPS >= 2u) { storeTap(b, 1u, live, &acc2, ciLocal, co0, coEnd); }
  if (TAPS >= 3u) { storeTap(b, 2u, live, &acc3, ciLocal, co0, coEnd); }
  if (TAPS >= 4u) { storeTap(b, 3u, live, &acc4, ciLocal, co0, coEnd); }
}

// The CI_USED source values tap column tkw reads for output column ow (zeros
// where ow is outside the tap's valid columns `span`).
fn sourceValues(xRow: u32, ow: u32, tkw: u32, span: vec2<u32>, ins: vec4<u32>) -> vec4<f32> {
  var xv = vec4<f32>(0.0);
  if (ow >= span.x && ow < span.y) {
    let iw = ow * params.stride_w + tkw * params.dil_w - params.pad_w;
    let xb = (xRow + iw) * params.in_c;
    for (var i = 0u; i < CI_USED; i++) { xv[i] = load_src(xb + ins[i]); }
  }
  return xv;
}

// acc[4 q + i] += xv[i] * d[q] for the accumulated channels.
fn accumulateTap(acc: ptr<function, array<vec4<f32>, 16>>, xv: vec4<f32>, d: ptr<function, array<vec4<f32>, 4>>) {
  for (var q = 0u; q < CO_QUADS; q++) {
    for (var i = 0u; i < CI_USED; i++) {
      (*acc)[4u * q + i] = fma(vec4<f32>(xv[i]), (*d)[q], (*acc)[4u * q + i]);
    }
  }
}

// Writes (or adds, accumulate = 1) tap b.tap + t's tile of b's split slice
// when the tap is one of the row's (t < live).
fn storeTap(
  b: FilterBlock,
  t: u32,
  live: u32,
  acc: ptr<function, array<vec4<f32>, 16>>,
  ciLocal: u32,
  co0: u32,
  coEnd: u32,
) {
  if (t >= live) { return; }
  let sliceBase = b.split * params.taps_size;
  for (var i = 0u; i < 4u; i++) {
    let ci = ciLocal + i;
    if (ci >= params.in_cg) { break; }
    let rowBase = (sliceBase + ((b.tap + t) * params.in_cg + ci) * params.out_c) / 4u;
    for (var q = 0u; q < CO_QUADS; q++) {
      let co = co0 + 4u * q;
      if (co >= coEnd) { break; }
      var v = (*acc)[4u * q + i];
      if (params.accumulate == 1u) { v = partial[rowBase + co / 4u] + v; }
      partial[rowBase + co / 4u] = v;
    }
  }
}
