// Implicit-GEMM convolution, the fast path: each invocation computes 8
// destination pixels (a row segment; PAIR = 1: 4 columns of two rows, for
// destinations at most 4 columns wide per phase, where a row segment would be
// half empty) x 4 QUADS channels (8 or 16) in registers, reading four source
// channels per vec4 load. Needs source and destination channels per group to
// be multiples of 4 (the host checks; QUADS = 4: destination channels per
// group a multiple of 16). FITS = 1 drops the store bounds checks when the
// shape divides the tile evenly. MODE 1 reads the HWIO filter transposed in
// place: one vec4 of four source (output) channels per destination channel,
// regrouped in registers. On llvmpipe every lane's load is a scalar loop, so
// 16 channels a block (a quarter fewer loads a multiply-add than 8) pay for
// their extra registers; each output's sum runs in the same order either way.
// The source and the filter are read through load_src / load_weight: from
// their storage buffers, or (on CPU adapters) from texture copies, which
// llvmpipe fetches with vector gathers; the values are the same either way.
// HALVES = 2: an invocation computes two consecutive pixel blocks (the second
// with its own accumulators), loading each filter quad once for both: 32
// loads for 256 vec4 FMAs instead of 24 for 128 (CPU adapters, where the
// gathers decide the speed). A tap that one block skips (padding rows, or a
// MODE 1 phase that misses) reads zeros for it while the other block needs it:
// fma(0, w, acc) leaves acc as it was, so every output's sum is the same
// whatever HALVES is.

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

// Where a block's 8 pixels read the source for one tap: quad offsets, and
// which pixels read inside the source (the others read zeros). `any`: some do.
struct TapReads { offsets: array<u32, 8>, inside: array<bool, 8>, any: bool }

// Source rows of block b's (one or two) destination rows for tap row tkh;
// -1: padding, or no block (live false).
fn blockRows(b: PixelBlock, tkh: u32, live: bool) -> vec2<i32> {
  if (!live) { return vec2<i32>(-1); }
  let secondRow = PAIR == 1u && b.h + 1u < params.dst_h;
  return vec2<i32>(sourceRow(b.h, tkh), select(-1, sourceRow(b.h + 1u, tkh), secondRow));
}

// The reads of block b for tap (tkh, tkw), its source rows sr from blockRows.
fn tapReads(b: PixelBlock, sr: vec2<i32>, tkw: u32, srcChannel0: u32) -> TapReads {
  var t: TapReads;
  let cols = sourceColumns(b, tkw);
  t.any = cols.y != 0 && (sr.x >= 0 || sr.y >= 0);
  let rowBase = (vec2<u32>(b.n * params.src_h) + vec2<u32>(max(sr, vec2<i32>(0)))) *
    params.src_w;
  let step = sourceStep();
  for (var j = 0u; j < 8u; j++) {
    let r = pixelRow(j);
    let sc = cols.x + i32(pixelColumn(j)) * step;
    let ok = t.any && sr[r] >= 0 && sc >= 0 && sc < i32(params.src_w);
    t.inside[j] = ok;
    t.offsets[j] = select(0u, ((rowBase[r] + u32(sc)) * params.src_c + srcChannel0) / 4u, ok);
  }
  return t;
}

// Stores block b's accumulators (8 pixels x QUADS quads from dc0; up to dcEnd).
fn storeBlock(b: PixelBlock, acc: ptr<function, array<vec4<f32>, 8u * QUADS>>, dc0: u32, dcEnd: u32) {
  for (var j = 0u; j < 8u; j++) {
    let row = b.h + pixelRow(j);
    let col = destColumn(b, pixelColumn(j));
    if (FITS == 0u && (col >= params.dst_w || row >= params.dst_h)) { continue; }
    let base = ((b.n * params.dst_h + row) * params.dst_w + col) * params.dst_c;
    for (var h = 0u; h < QUADS; h++) {
      let c0 = dc0 + 4u * h;
      if (FITS == 0u && c0 >= dcEnd) { break; }
      var v = (*acc)[QUADS * j + h];
      if (HAS_BIAS == 1u) { v += bias[c0 / 4u]; }
      dst[(base + c0) / 4u] = v;
    }
  }
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let cb = id % params.col_blocks;
  // Pixel blocks pb (and pb + 1 with HALVES = 2, when there is one).
  let pb = (id / params.col_blocks) * HALVES;
  let blk = blockOf(pb);
  let live2 = HALVES == 2u && pb + 1u < params.pixel_blocks;
  let blk2 = blockOf(select(pb, pb + 1u, live2));
  let width = 4u * QUADS;
  let perGroup = (params.dst_cg + width - 1u) / width;
  let g = cb / perGroup;
  let dc0 = g * params.dst_cg + (cb % perGroup) * width;
  let dcEnd = dc0 - (cb % perGroup) * width + params.dst_cg;
  // Quads past the end of the channels read the last valid quad instead; they
  // are not stored.
  var dcq: array<u32, QUADS>;
  for (var h = 0u; h < QUADS; h++) { dcq[h] = min(dc0 + 4u * h, params.dst_c - 4u); }
  let srcChannel0 = g * params.src_cg;
  // MODE 1: quad offsets of destination channel dc0 + i in the HWIO filter
  // (the unused part of an edge block re-reads the group's last channel).
  var wRows: array<u32, 4u * QUADS>;
  let dcLocal = dc0 - g * params.dst_cg;
  for (var i = 0u; i < width; i++) {
    wRows[i] = (min(dcLocal + i, params.dst_cg - 1u) * params.src_c + srcChannel0) / 4u;
  }
  let tapStride = params.dst_cg * params.src_c / 4u;
  var acc: array<vec4<f32>, 8u * QUADS>;
  var acc2: array<vec4<f32>, 8u * QUADS>;
  for (var i = 0u; i < 8u * QUADS; i++) {
    acc[i] = vec4<f32>(0.0);
    acc2[i] = vec4<f32>(0.0);
  }
  for (var tkh = 0u; tkh < params.k_h; tkh++) {
    let sr = blockRows(blk, tkh, true);
    let sr2 = blockRows(blk2, tkh, live2);
    if (all(sr < vec2<i32>(0)) && all(sr2 < vec2<i32>(0))) { continue; }
    for (var tkw = 0u; tkw < params.k_w; tkw++) {
      let t = tapReads(blk, sr, tkw, srcChannel0);
      var t2: TapReads;
      if (HALVES == 2u) { t2 = tapReads(blk2, sr2, tkw, srcChannel0); }
      if (!t.any && !t2.any) { continue; }
      let tapRow = (tkh * params.k_w + tkw) * params.src_cg;
      let tapQuad = (tkh * params.k_w + tkw) * tapStride;
      for (var c = 0u; c < params.src_cg; c += 4u) {
        var xv: array<vec4<f32>, 8>;
        for (var j = 0u; j < 8u; j++) {
          xv[j] = select(vec4<f32>(0.0), load_src(t.offsets[j] + c / 4u), t.inside[j]);
        }
        var xv2: array<vec4<f32>, 8>;
        if (HALVES == 2u) {
          for (var j = 0u; j < 8u; j++) {
            xv2[j] = select(vec4<f32>(0.0), load_src(t2.offsets[j] + c / 4u), t2.inside[j]);
          }
        }
        // wv[QUADS kk + h] = w[tap, c + kk, dcq[h] .. dcq[h] + 3]
        var wv: array<vec4<f32>, 4u * QUADS>;
        if (MODE == 0u) {
          for (var kk = 0u; kk < 4u; kk++) {
            let row = (tapRow + c + kk) * params.dst_c;
            for (var h = 0u; h < QUADS; h++) { wv[QUADS * kk + h] = load_weight((row + dcq[h]) / 4u); }
          }
        } else {
          // u[i][kk] = w[tap, dc0 + i, c + kk]; wv[QUADS kk + h][j] = u[4 h + j][kk].
          let at = tapQuad + c / 4u;
          var u: array<vec4<f32>, 4u * QUADS>;
          for (var i = 0u; i < width; i++) { u[i] = load_weight(wRows[i] + at); }
          for (var h = 0u; h < QUADS; h++) {
            let q = 4u * h;
            wv[h] = vec4<f32>(u[q].x, u[q + 1u].x, u[q + 2u].x, u[q + 3u].x);
            wv[QUADS + h] = vec4<f32>(u[q].y, u[q + 1u].y, u[q + 2u].y, u[q + 3u].y);
            wv[2u * QUADS + h] = vec4<f32>(u[q].z, u[q + 1u].z, u[q + 2u].z, u[q + 3u].z);
            wv[3u * QUADS + h] = vec4<f32>(u[q].w, u[q + 1u].w, u[q + 2u].w, u[q + 3u].w);
          }
        }
        // Each accumulator adds its four products in kk order, whatever QUADS is.
        for (var j = 0u; j < 8u; j++) {
          let a = xv[j];
          for (var kk = 0u; kk < 4u; kk++) {
            for (var h = 0u; h < QUADS; h++) {
              let at = QUADS * j + h;
              acc[at] = fma(vec4<f32>(a[kk]), wv[QUADS * kk + h], acc[at]);
            }
          }
        }
        if (HALVES == 2u) {
          for (var j = 0u; j < 8u; j++) {
            let a = xv2[j];
            for (var kk = 0u; kk < 4u; kk++) {
              for (var h = 0u; h < QUADS; h++) {
                let at = QUADS * j + h;
                acc2[at] = fma(vec4<f32>(a[kk]), wv[QUADS * kk + h], acc2[at]);
              }
            }
          }
        }
      }
    }
  }
  storeBlock(blk, &acc, dc0, dcEnd);
  if (live2) { storeBlock(blk2, &acc2, dc0, dcEnd); }
}
