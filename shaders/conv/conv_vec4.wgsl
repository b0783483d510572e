// Implicit-GEMM convolution, the fast path: each invocation computes 8
// destination pixels (a row segment; PAIR = 1: 4 columns of two rows, for
// destinations at most 4 columns wide per phase, where a row segment would be
// half empty) x 8 channels in registers, reading four source channels per
// vec4 load. Needs source and destination channels per group to be multiples
// of 4 (the host checks). FITS = 1 drops the store bounds checks when the
// shape divides the tile evenly. MODE 1 reads the HWIO filter transposed in
// place: one vec4 of four source (output) channels per destination channel,
// regrouped in registers.

// The block of invocation `index`: pixelBlock's, or with PAIR a pair of rows
// (h, h + 1) and 4 columns.
fn blockOf(index: u32) -> PixelBlock {
  if (PAIR == 0u) { return pixelBlock(index, 8u); }
  let rb = index % params.row_blocks;
  let t = index / params.row_blocks;
  let phase = t % params.phases;
  let t2 = t / params.phases;
  let pairs = (params.dst_h + 1u) / 2u;
  return PixelBlock(t2 / pairs, (t2 % pairs) * 2u, phase, rb * 4u);
}

// Row offset (0 or 1) and column index within the block of pixel j.
fn pixelRow(j: u32) -> u32 { return select(0u, j / 4u, PAIR == 1u); }
fn pixelColumn(j: u32) -> u32 { return select(j, j % 4u, PAIR == 1u); }

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let cb = id % params.col_blocks;
  let blk = blockOf(id / params.col_blocks);
  let perGroup = (params.dst_cg + 7u) / 8u;
  let g = cb / perGroup;
  let dc0 = g * params.dst_cg + (cb % perGroup) * 8u;
  let dcEnd = dc0 - (cb % perGroup) * 8u + params.dst_cg;
  // The second half of a block at the end of the channels reads the last
  // valid quad instead; it is not stored.
  let dc1 = min(dc0 + 4u, params.dst_c - 4u);
  let srcChannel0 = g * params.src_cg;
  let step = sourceStep();
  // MODE 1: quad offsets of destination channel dc0 + i in the HWIO filter
  // (the unused half of an edge block re-reads the group's last channel).
  var wRows: array<u32, 8>;
  let dcLocal = dc0 - g * params.dst_cg;
  for (var i = 0u; i < 8u; i++) {
    wRows[i] = (min(dcLocal + i, params.dst_cg - 1u) * params.src_c + srcChannel0) / 4u;
  }
  let tapStride = params.dst_cg * params.src_c / 4u;
  var acc: array<vec4<f32>, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }
  let secondRow = PAIR == 1u && blk.h + 1u < params.dst_h;
  for (var tkh = 0u; tkh < params.k_h; tkh++) {
    // Source rows of the block's (one or two) destination rows; -1: padding.
    let sr = vec2<i32>(sourceRow(blk.h, tkh), select(-1, sourceRow(blk.h + 1u, tkh), secondRow));
    if (sr.x < 0 && sr.y < 0) { continue; }
    let rowBase = (vec2<u32>(blk.n * params.src_h) + vec2<u32>(max(sr, vec2<i32>(0)))) *
      params.src_w;
    for (var tkw = 0u; tkw < params.k_w; tkw++) {
      let cols = sourceColumns(blk, tkw);
      if (cols.y == 0) { continue; }
      var offsets: array<u32, 8>;
      var inside: array<bool, 8>;
      for (var j = 0u; j < 8u; j++) {
        let r = pixelRow(j);
        let sc = cols.x + i32(pixelColumn(j)) * step;
        let ok = sr[r] >= 0 && sc >= 0 && sc < i32(params.src_w);
        inside[j] = ok;
        offsets[j] = select(0u, ((rowBase[r] + u32(sc)) * params.src_c + srcChannel0) / 4u, ok);
      }
      let tapRow = (tkh * params.k_w + tkw) * params.src_cg;
      let tapQuad = (tkh * params.k_w + tkw) * tapStride;
      for (var c = 0u; c < params.src_cg; c += 4u) {
        var xv: array<vec4<f32>, 8>;
        for (var j = 0u; j < 8u; j++) {
          xv[j] = select(vec4<f32>(0.0), src[offsets[j] + c / 4u], inside[j]);
        }
        var wv: array<vec4<f32>, 8>;
        if (MODE == 0u) {
          for (var kk = 0u; kk < 4u; kk++) {
            let row = (tapRow + c + kk) * params.dst_c;
            wv[2u * kk] = weight[(row + dc0) / 4u];
            wv[2u * kk + 1u] = weight[(row + dc1) / 4u];
          }
        } else {
          // u[i][kk] = w[tap, dc0 + i, c + kk]; wv[2 kk + h][j] = u[4 h + j][kk].
          let at = tapQuad + c / 4u;
          var u: array<vec4<f32>, 8>;
          for (var i = 0u; i < 8u; i++) { u[i] = weight[wRows[i] + at]; }
          wv[0] = vec4<f32>(u[0].x, u[1].x, u[2].x, u[3].x);
          wv[1] = vec4<f32>(u[4].x, u[5].x, u[6].x, u[7].x);
          wv[2] = vec4<f32>(u[0].y, u[1].y, u[2].y, u[3].y);
          wv[3] = vec4<f32>(u[4].y, u[5].y, u[6].y, u[7].y);
          wv[4] = vec4<f32>(u[0].z, u[1].z, u[2].z, u[3].z);
          wv[5] = vec4<f32>(u[4].z, u[5].z, u[6].z, u[7].z);
          wv[6] = vec4<f32>(u[0].w, u[1].w, u[2].w, u[3].w);
          wv[7] = vec4<f32>(u[4].w, u[5].w, u[6].w, u[7].w);
        }
        for (var j = 0u; j < 8u; j++) {
          let a = xv[j];
          acc[2u * j] = fma(vec4<f32>(a.x), wv[0], acc[2u * j]);
          acc[2u * j + 1u] = fma(vec4<f32>(a.x), wv[1], acc[2u * j + 1u]);
          acc[2u * j] = fma(vec4<f32>(a.y), wv[2], acc[2u * j]);
          acc[2u * j + 1u] = fma(vec4<f32>(a.y), wv[3], acc[2u * j + 1u]);
          acc[2u * j] = fma(vec4<f32>(a.z), wv[4], acc[2u * j]);
          acc[2u * j + 1u] = fma(vec4<f32>(a.z), wv[5], acc[2u * j + 1u]);
          acc[2u * j] = fma(vec4<f32>(a.w), wv[6], acc[2u * j]);
          acc[2u * j + 1u] = fma(vec4<f32>(a.w), wv[7], acc[2u * j + 1u]);
        }
      }
    }
  }
  for (var j = 0u; j < 8u; j++) {
    let row = blk.h + pixelRow(j);
    let col = destColumn(blk, pixelColumn(j));
    if (FITS == 0u && (col >= params.dst_w || row >= params.dst_h)) { continue; }
    let base = ((blk.n * params.dst_h + row) * params.dst_w + col) * params.dst_c;
    for (var half = 0u; half < 2u; half++) {
      let c0 = dc0 + 4u * half;
      if (FITS == 0u && c0 >= dcEnd) { break; }
      var v = acc[2u * j + half];
      if (HAS_BIAS == 1u) { v += bias[c0 / 4u]; }
      dst[(base + c0) / 4u] = v;
    }
  }
}
