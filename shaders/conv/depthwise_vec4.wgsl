// Depthwise convolution (groups = C, one filter per channel): each invocation
// computes 8 destination pixels x 4 channels from vec4 loads. Memory-bound by
// nature (one multiply per load), so the tile only shares the index work.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let quad = id % params.col_blocks;
  let blk = pixelBlock(id / params.col_blocks, 8u);
  let step = sourceStep();
  var acc: array<vec4<f32>, 8>;
  for (var i = 0u; i < 8u; i++) { acc[i] = vec4<f32>(0.0); }
  for (var tkh = 0u; tkh < params.k_h; tkh++) {
    let sr = sourceRow(blk.h, tkh);
    if (sr < 0) { continue; }
    let rowBase = (blk.n * params.src_h + u32(sr)) * params.src_w;
    for (var tkw = 0u; tkw < params.k_w; tkw++) {
      let cols = sourceColumns(blk, tkw);
      if (cols.y == 0) { continue; }
      let wv = weight[(tkh * params.k_w + tkw) * params.dst_c / 4u + quad];
      for (var j = 0u; j < 8u; j++) {
        let sc = cols.x + i32(j) * step;
        let ok = sc >= 0 && sc < i32(params.src_w);
        let at = select(0u, (rowBase + u32(sc)) * params.src_c / 4u + quad, ok);
        acc[j] = fma(select(vec4<f32>(0.0), src[at], ok), wv, acc[j]);
      }
    }
  }
  let rowOut = (blk.n * params.dst_h + blk.h) * params.dst_w;
  for (var j = 0u; j < 8u; j++) {
    let col = destColumn(blk, j);
    if (col >= params.dst_w) { break; }
    var v = acc[j];
    if (HAS_BIAS == 1u) { v += bias[quad]; }
    dst[(rowOut + col) * params.dst_c / 4u + quad] = v;
  }
}
