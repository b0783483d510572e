// Implicit-GEMM convolution for few or odd source channels (the RGB stem, say)
// with destination channels per group in multiples of 4: 8 destination
// pixels x 4 QUADS channels per invocation (QUADS 2, or 4 where destination
// channels per group are a multiple of 16: 12 loads for 32 vec4 FMAs instead
// of 10 for 16), scalar source loads, vec4 filter loads and stores. Each
// output sums its taps and channels in the same order whatever QUADS is.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let cb = id % params.col_blocks;
  let blk = pixelBlock(id / params.col_blocks, 8u);
  let tile = 4u * QUADS;
  let perGroup = (params.dst_cg + tile - 1u) / tile;
  let g = cb / perGroup;
  let dc0 = g * params.dst_cg + (cb % perGroup) * tile;
  let dcEnd = dc0 - (cb % perGroup) * tile + params.dst_cg;
  // Quads past the group's end re-read the last one; they are not stored.
  var dq: array<u32, 4>;
  for (var h = 0u; h < QUADS; h++) { dq[h] = min(dc0 + 4u * h, params.dst_c - 4u); }
  let srcChannel0 = g * params.src_cg;
  let step = sourceStep();
  var acc: array<vec4<f32>, 32>;
  for (var i = 0u; i < 8u * QUADS; i++) { acc[i] = vec4<f32>(0.0); }
  for (var tkh = 0u; tkh < params.k_h; tkh++) {
    let sr = sourceRow(blk.h, tkh);
    if (sr < 0) { continue; }
    let rowBase = (blk.n * params.src_h + u32(sr)) * params.src_w;
    for (var tkw = 0u; tkw < params.k_w; tkw++) {
      let cols = sourceColumns(blk, tkw);
      if (cols.y == 0) { continue; }
      var offsets: array<u32, 8>;
      var inside: array<bool, 8>;
      for (var j = 0u; j < 8u; j++) {
        let sc = cols.x + i32(j) * step;
        let ok = sc >= 0 && sc < i32(params.src_w);
        inside[j] = ok;
        offsets[j] = select(0u, (rowBase + u32(sc)) * params.src_c + srcChannel0, ok);
      }
      let tapRow = (tkh * params.k_w + tkw) * params.src_cg;
      for (var c = 0u; c < params.src_cg; c++) {
        let row = (tapRow + c) * params.dst_c;
        var w: array<vec4<f32>, 4>;
        for (var h = 0u; h < QUADS; h++) { w[h] = load_weight((row + dq[h]) / 4u); }
        for (var j = 0u; j < 8u; j++) {
          let a = vec4<f32>(select(0.0, load_src(offsets[j] + c), inside[j]));
          for (var h = 0u; h < QUADS; h++) {
            acc[QUADS * j + h] = fma(a, w[h], acc[QUADS * j + h]);
          }
        }
      }
    }
  }
  let rowOut = (blk.n * params.dst_h + blk.h) * params.dst_w;
  for (var j = 0u; j < 8u; j++) {
    let col = destColumn(blk, j);
    if (col >= params.dst_w) { break; }
    let base = (rowOut + col) * params.dst_c;
    for (var h = 0u; h < QUADS; h++) {
      let c0 = dc0 + 4u * h;
      if (c0 >= dcEnd) { break; }
      var v = acc[QUADS * j + h];
      if (HAS_BIAS == 1u) { v += bias[c0 / 4u]; }
      dst[(base + c0) / 4u] = v;
    }
  }
}
