// Filter gradient, fast path: each invocation accumulates an 8 (input
// channels) x 4 CO_QUADS (output channels) tile of one tap in registers over
// its chunk of output rows, from two vec4 loads of x and CO_QUADS of dy per
// pixel (8 CO_QUADS vec4 FMAs). Needs Cin/groups and Cout/groups to be
// multiples of 4. On llvmpipe every load costs a per-lane loop, so FMAs per
// load decide the speed: 8x8 beat 4x8 by 1.3-1.6x, and 8x16 (5.3 FMAs a load
// instead of 4) is picked where Cout/groups allows it. x and dy are read
// through load_src / load_grad: from their buffers, or (CPU adapters) from
// texture copies that llvmpipe fetches with vector gathers.
// CI_BLOCKS = 2 or 4: an invocation takes that many consecutive blocks of 8
// input channels (each with its own accumulators), loading each dy quad once
// for all: 12 loads for 128 vec4 FMAs at 4, against 6 for 32 at 1 (CPU
// adapters, where the gathers decide the speed). A block past the group's end
// re-reads the first block's channels and is not stored. Each output's sum
// runs over the same pixels in the same order whatever CI_BLOCKS is.
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
  // Block k's first channel in the group (ci[k]) and its two x quads (q0[k],
  // q1[k]; the second quad of a block at the group's end re-reads the last
  // one and is not stored).
  let ciLocal = b.cib * 8u * CI_BLOCKS;
  var ci: array<u32, 4>;
  var q0: array<u32, 4>;
  var q1: array<u32, 4>;
  for (var k = 0u; k < CI_BLOCKS; k++) {
    ci[k] = select(ciLocal, ciLocal + 8u * k, ciLocal + 8u * k < params.in_cg);
    q0[k] = (g * params.in_cg + ci[k]) / 4u;
    q1[k] = (g * params.in_cg + min(ci[k] + 4u, params.in_cg - 4u)) / 4u;
  }
  let span = validColumns(b.tkw);
  let r0 = b.split * params.rows_per_split;
  let r1 = min(r0 + params.rows_per_split, params.batch * params.out_h);
  let inC4 = params.in_c / 4u;
  let outC4 = params.out_c / 4u;
  // Quads past the group's end re-read the last one; they are not stored.
  var coq: array<u32, 4>;
  for (var h = 0u; h < CO_QUADS; h++) { coq[h] = min(co0 + 4u * h, params.out_c - 4u) / 4u; }
  // acc: block 0; acc2 .. acc4: blocks 1 .. 3.
  var acc: array<vec4<f32>, 32>;
  var acc2: array<vec4<f32>, 32>;
  var acc3: array<vec4<f32>, 32>;
  var acc4: array<vec4<f32>, 32>;
  for (var i = 0u; i < 8u * CO_QUADS; i++) {
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
    for (var ow = span.x; ow < span.y; ow++) {
      let iw = ow * params.stride_w + b.tkw * params.dil_w - params.pad_w;
      let xb = (xRow + iw) * inC4;
      let db = (dyRow + ow) * outC4;
      var d: array<vec4<f32>, 4>;
      for (var h = 0u; h < CO_QUADS; h++) { d[h] = load_grad(db + coq[h]); }
      accumulateBlock(&acc, load_src(xb + q0[0]), load_src(xb + q1[0]), &d);
      if (CI_BLOCKS >= 2u) {
        accumulateBlock(&acc2, load_src(xb + q0[1]), load_src(xb + q1[1]), &d);
      }
      if (CI_BLOCKS == 4u) {
        accumulateBlock(&acc3, load_src(xb + q0[2]), load_src(xb + q1[2]), &d);
        accumulateBlock(&acc4, load_src(xb + q0[3]), load_src(xb + q1[3]), &d);
      }
    }
  }
  storeTile(b, &acc, ciLocal, co0, coEnd);
  // Blocks past the group's end (re-reads of block 0) are not stored.
  if (CI_BLOCKS >= 2u && ciLocal + 8u < params.in_cg) { storeTile(b, &acc2, ciLocal + 8u, co0, coEnd); }
  if (CI_BLOCKS == 4u && ciLocal + 16u < params.in_cg) { storeTile(b, &acc3, ciLocal + 16u, co0, coEnd); }
  if (CI_BLOCKS == 4u && ciLocal + 24u < params.in_cg) { storeTile(b, &acc4, ciLocal + 24u, co0, coEnd); }
}

// acc[CO_QUADS i + h] += x_i * d[h] for the block's 8 channels x_0 .. x_7
// (xa then xc), in that order for every h.
fn accumulateBlock(
  acc: ptr<function, array<vec4<f32>, 32>>,
  xa: vec4<f32>,
  xc: vec4<f32>,
  d: ptr<function, array<vec4<f32>, 4>>,
) {
  for (var h = 0u; h < CO_QUADS; h++) {
    let dh = (*d)[h];
    (*acc)[h] = fma(vec4<f32>(xa.x), dh, (*acc)[h]);
    (*acc)[CO_QUADS + h] = fma(vec4<f32>(xa.y), dh, (*acc)[CO_QUADS + h]);
    (*acc)[2u * CO_QUADS + h] = fma(vec4<f32>(xa.z), dh, (*acc)[2u * CO_QUADS + h]);
    (*acc)[3u * CO_QUADS + h] = fma(vec4<f32>(xa.w), dh, (*acc)[3u * CO_QUADS + h]);
    (*acc)[4u * CO_QUADS + h] = fma(vec4<f32>(xc.x), dh, (*acc)[4u * CO_QUADS + h]);
    (*acc)[5u * CO_QUADS + h] = fma(vec4<f32>(xc.y), dh, (*acc)[5u * CO_QUADS + h]);
    (*acc)[6u * CO_QUADS + h] = fma(vec4<f32>(xc.z), dh, (*acc)[6u * CO_QUADS + h]);
    (*acc)[7u * CO_QUADS + h] = fma(vec4<f32>(xc.w), dh, (*acc)[7u * CO_QUADS + h]);
  }
}

// Writes (or adds, accumulate = 1) one 8 x 4 CO_QUADS tile of block b's split
// slice: input channels ciLocal .. + 7 of the group, output channels co0 .. coEnd.
fn storeTile(
  b: FilterBlock,
  acc: ptr<function, array<vec4<f32>, 32>>,
  ciLocal: u32,
  co0: u32,
  coEnd: u32,
) {
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
