// Implicit-GEMM convolution for any shape (odd channel counts, groups that
// are not multiples of 4): each invocation computes 4 destination pixels x 4
// channels in registers from scalar loads, with bounds checks throughout.
// MODE 1 reads the HWIO filter transposed in place.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let cb = id % params.col_blocks;
  let blk = pixelBlock(id / params.col_blocks, 4u);
  let perGroup = (params.dst_cg + 3u) / 4u;
  let g = cb / perGroup;
  let dc0 = g * params.dst_cg + (cb % perGroup) * 4u;
  let dcEnd = dc0 - (cb % perGroup) * 4u + params.dst_cg;
  let srcChannel0 = g * params.src_cg;
  // Filter offsets per destination channel: MODE 0 its column of a filter
  // row, MODE 1 its row (channels past the group's end re-read its last one).
  var wcols: vec4<u32>;
  for (var i = 0u; i < 4u; i++) {
    let local = min(dc0 + i, dcEnd - 1u) - g * params.dst_cg;
    wcols[i] = select(min(dc0 + i, params.dst_c - 1u), local * params.src_c + srcChannel0, MODE == 1u);
  }
  let tapStride = select(params.src_cg * params.dst_c, params.dst_cg * params.src_c, MODE == 1u);
  let channelStride = select(params.dst_c, 1u, MODE == 1u);
  let step = sourceStep();
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }
  for (var tkh = 0u; tkh < params.k_h; tkh++) {
    let sr = sourceRow(blk.h, tkh);
    if (sr < 0) { continue; }
    let rowBase = (blk.n * params.src_h + u32(sr)) * params.src_w;
    for (var tkw = 0u; tkw < params.k_w; tkw++) {
      let cols = sourceColumns(blk, tkw);
      if (cols.y == 0) { continue; }
      var offsets: vec4<u32>;
      var inside: vec4<bool>;
      for (var j = 0u; j < 4u; j++) {
        let sc = cols.x + i32(j) * step;
        let ok = sc >= 0 && sc < i32(params.src_w);
        inside[j] = ok;
        offsets[j] = select(0u, (rowBase + u32(sc)) * params.src_c + srcChannel0, ok);
      }
      let tapBase = (tkh * params.k_w + tkw) * tapStride;
      for (var c = 0u; c < params.src_cg; c++) {
        var xv: vec4<f32>;
        for (var j = 0u; j < 4u; j++) {
          xv[j] = select(0.0, src[offsets[j] + c], inside[j]);
        }
        let row = tapBase + c * channelStride;
        let wv = vec4<f32>(
          weight[row + wcols.x], weight[row + wcols.y], weight[row + wcols.z], weight[row + wcols.w],
        );
        for (var j = 0u; j < 4u; j++) { acc[j] = fma(vec4<f32>(xv[j]), wv, acc[j]); }
      }
    }
  }
  let rowOut = (blk.n * params.dst_h + blk.h) * params.dst_w;
  for (var j = 0u; j < 4u; j++) {
    let col = destColumn(blk, j);
    if (col >= params.dst_w) { break; }
    let base = (rowOut + col) * params.dst_c;
    for (var i = 0u; i < 4u; i++) {
      let c = dc0 + i;
      if (c >= dcEnd) { break; }
      var v = acc[j][i];
      if (HAS_BIAS == 1u) { v += bias[c]; }
      dst[base + c] = v;
    }
  }
}
