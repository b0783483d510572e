// Filter gradient, fast path: each invocation accumulates an 8 (input
// channels) x 4 CO_QUADS (output channels) tile of one tap in registers over
// its chunk of output rows, from two vec4 loads of x and CO_QUADS of dy per
// pixel (8 CO_QUADS vec4 FMAs). Needs Cin/groups and Cout/groups to be
// multiples of 4. On llvmpipe every load costs a per-lane loop, so FMAs per
// load decide the speed: 8x8 beat 4x8 by 1.3-1.6x, and 8x16 (5.3 FMAs a load
// instead of 4) is picked where Cout/groups allows it. x and dy are read
// through load_src / load_grad: from their buffers, or (CPU adapters) from
// texture copies that llvmpipe fetches with vector gathers.
// HALVES = 2: an invocation takes two consecutive blocks of 8 input channels
// (the second with its own accumulators), loading each dy quad once for both:
// 8 loads for 64 vec4 FMAs instead of 6 for 32 (CPU adapters, where the
// gathers decide the speed). Each output's sum runs over the same pixels in
// the same order whatever HALVES is.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let b = filterBlock(id);
  let tile = 4u * CO_QUADS;
  let perGroup = (params.out_cg + tile - 1u) / tile;
  let g = b.cob / perGroup;
  let co0 = g * params.out_cg + (b.cob % perGroup) * tile;
  let coEnd = co0 - (b.cob % perGroup) * tile + params.out_cg;
  let ciLocal = b.cib * 8u * HALVES;
  let ci0 = (g * params.in_cg + ciLocal) / 4u;
  // The second quad of a block at the group's end re-reads the last one; it is not stored.
  let ci1 = (g * params.in_cg + min(ciLocal + 4u, params.in_cg - 4u)) / 4u;
  // The second block's channels (HALVES = 2; past the group's end: the first's, not stored).
  let live2 = HALVES == 2u && ciLocal + 8u < params.in_cg;
  let ciLocal2 = select(ciLocal, ciLocal + 8u, live2);
  let ci2 = (g * params.in_cg + ciLocal2) / 4u;
  let ci3 = (g * params.in_cg + min(ciLocal2 + 4u, params.in_cg - 4u)) / 4u;
  let span = validColumns(b.tkw);
  let r0 = b.split * params.rows_per_split;
  let r1 = min(r0 + params.rows_per_split, params.batch * params.out_h);
  let inC4 = params.in_c / 4u;
  let outC4 = params.out_c / 4u;
  // Quads past the group's end re-read the last one; they are not stored.
  var coq: array<u32, 4>;
  for (var h = 0u; h < CO_QUADS; h++) { coq[h] = min(co0 + 4u * h, params.out_c - 4u) / 4u; }
  var acc: array<vec4<f32>, 32>;
  var acc2: array<vec4<f32>, 32>;
  for (var i = 0u; i < 8u * CO_QUADS; i++) {
    acc[i] = vec4<f32>(0.0);
    acc2[i] = vec4<f32>(0.0);
  }
  for (var r = r0; r < r1; r++) {
    let n = r / params.out_h;
    let ih = inputRow(r % params.out_h, b.tkh);
    if (ih < 0) { continue; }
    let xRow = (n * params.in_h + u32(ih)) * params.in_w;
    let dyRow = r * params.out_w;
    for (var ow = span.x; ow < span.y; ow++) {
      let iw = ow * params.stride_w + b.tkw * params.dil_w - params.pad_w;
      let xb = (xRow + iw) * inC4;
      let xa = load_src(xb + ci0);
      let xc = load_src(xb + ci1);
      let db = (dyRow + ow) * outC4;
      var d: array<vec4<f32>, 4>;
      for (var h = 0u; h < CO_QUADS; h++) { d[h] = load_grad(db + coq[h]); }
      for (var h = 0u; h < CO_QUADS; h++) {
        acc[h] = fma(vec4<f32>(xa.x), d[h], acc[h]);
        acc[CO_QUADS + h] = fma(vec4<f32>(xa.y), d[h], acc[CO_QUADS + h]);
        acc[2u * CO_QUADS + h] = fma(vec4<f32>(xa.z), d[h], acc[2u * CO_QUADS + h]);
        acc[3u * CO_QUADS + h] = fma(vec4<f32>(xa.w), d[h], acc[3u * CO_QUADS + h]);
        acc[4u * CO_QUADS + h] = fma(vec4<f32>(xc.x), d[h], acc[4u * CO_QUADS + h]);
        acc[5u * CO_QUADS + h] = fma(vec4<f32>(xc.y), d[h], acc[5u * CO_QUADS + h]);
        acc[6u * CO_QUADS + h] = fma(vec4<f32>(xc.z), d[h], acc[6u * CO_QUADS + h]);
        acc[7u * CO_QUADS + h] = fma(vec4<f32>(xc.w), d[h], acc[7u * CO_QUADS + h]);
      }
      if (HALVES == 2u) {
        let xe = load_src(xb + ci2);
        let xg = load_src(xb + ci3);
        for (var h = 0u; h < CO_QUADS; h++) {
          acc2[h] = fma(vec4<f32>(xe.x), d[h], acc2[h]);
          acc2[CO_QUADS + h] = fma(vec4<f32>(xe.y), d[h], acc2[CO_QUADS + h]);
          acc2[2u * CO_QUADS + h] = fma(vec4<f32>(xe.z), d[h], acc2[2u * CO_QUADS + h]);
          acc2[3u * CO_QUADS + h] = fma(vec4<f32>(xe.w), d[h], acc2[3u * CO_QUADS + h]);
          acc2[4u * CO_QUADS + h] = fma(vec4<f32>(xg.x), d[h], acc2[4u * CO_QUADS + h]);
          acc2[5u * CO_QUADS + h] = fma(vec4<f32>(xg.y), d[h], acc2[5u * CO_QUADS + h]);
          acc2[6u * CO_QUADS + h] = fma(vec4<f32>(xg.z), d[h], acc2[6u * CO_QUADS + h]);
          acc2[7u * CO_QUADS + h] = fma(vec4<f32>(xg.w), d[h], acc2[7u * CO_QUADS + h]);
        }
      }
    }
  }
  storeTile(b, &acc, ciLocal, co0, coEnd);
  if (live2) { storeTile(b, &acc2, ciLocal2, co0, coEnd); }
}

// Writes (or adds, accumulate = 1) one 8 x 4 CO_QUADS tile of block b's split
// slice: input channels ciLocal .. + 7 of the group, output channels co0 .. coEnd.
fn storeTile(b: FilterBlock, acc: ptr<function, array<vec4<f32>, 32>>, ciLocal: u32, co0: u32, coEnd: u32) {
  let sliceBase = b.split * params.taps_size;
  for (var i = 0u; i < 8u; i++) {
    let ci = ciLocal + i;
    if (ci >= params.in_cg) { break; }
    let rowBase = sliceBase + (b.tap * params.in_cg + ci) * params.out_c;
    for (var h = 0u; h < CO_QUADS; h++) {
      let c0 = co0 + 4u * h;
      if (c0 >= coEnd) { break; }
      let at = (rowBase + c0) / 4u;
      var v = (*acc)[i * CO_QUADS + h];
      if (params.accumulate == 1u) { v = partial[at] + v; }
      partial[at] = v;
    }
  }
}
