// Implicit-GEMM convolution for few or odd source channels (the RGB stem, say)
// with destination channels per group in multiples of 4: 8 destination
// pixels x 8 channels per invocation, scalar source loads, vec4 filter loads
// and stores.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let cb = id % params.col_blocks;
  let blk = pixelBlock(id / params.col_blocks, 8u);
  let perGroup = (params.dst_cg + 7u) / 8u;
  let g = cb / perGroup;
  let dc0 = g * params.dst_cg + (cb % perGroup) * 8u;
  let dcEnd = dc0 - (cb % perGroup) * 8u + params.dst_cg;
  let dc1 = min(dc0 + 4u, params.dst_c - 4u);
  let srcChannel0 = g * params.src_cg;
  let step = sourceStep();
  var acc: array<vec4<f32>, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }
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
        let w0 = load_weight((row + dc0) / 4u);
        let w1 = load_weight((row + dc1) / 4u);
        for (var j = 0u; j < 8u; j++) {
          let a = vec4<f32>(select(0.0, load_src(offsets[j] + c), inside[j]));
          acc[2u * j] = fma(a, w0, acc[2u * j]);
          acc[2u * j + 1u] = fma(a, w1, acc[2u * j + 1u]);
        }
      }
    }
  }
  let rowOut = (blk.n * params.dst_h + blk.h) * params.dst_w;
  for (var j = 0u; j < 8u; j++) {
    let col = destColumn(blk, j);
    if (col >= params.dst_w) { break; }
    let base = (rowOut + col) * params.dst_c;
    for (var half = 0u; half < 2u; half++) {
      let c0 = dc0 + 4u * half;
      if (c0 >= dcEnd) { break; }
      var v = acc[2u * j + half];
      if (HAS_BIAS == 1u) { v += bias[c0 / 4u]; }
      dst[(base + c0) / 4u] = v;
    }
  }
}
