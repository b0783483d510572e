// Implicit-GEMM convolution tiled through workgroup memory, for GPUs: a
// workgroup of 256 invocations computes 64 destination pixels x 64
// destination channels of one group. The reduction runs tap by tap over
// chunks of 16 source channels: every invocation loads one quad of the
// source tile (4 channels of one pixel) and one quad of the filter tile into
// workgroup memory, then accumulates 4 pixels x 4 channels from them, so each
// value loaded from storage is used 64 times. Needs source and destination
// channels per group to be multiples of 4 (the host checks). MODE 0 is the
// forward pass, MODE 1 the input gradient (the transposed convolution, its
// filter read transposed in place); taps.wgsl maps pixels to source pixels.
//
// Destination pixels are numbered m = ((n * dst_h + h) * phases + phase) *
// cols + i, column phase + i * phases (MODE 0: one phase, column i); a
// number whose column lies past dst_w (the last phase may be short) or past
// `pixels` is computed on zeros and not stored.

const TILE_M: u32 = 64u;
const TILE_N: u32 = 64u;
const TILE_K: u32 = 16u;

// Source tile: [TILE_K][TILE_M / 4] quads of 4 pixels; filter tile:
// [TILE_K][TILE_N / 4] quads of 4 destination channels.
var<workgroup> sourceTile: array<vec4<f32>, 256>;
var<workgroup> filterTile: array<vec4<f32>, 256>;

// The block (image, row, phase, index along the phase) of destination pixel m.
fn tilePixel(m: u32) -> PixelBlock {
  let i = m % params.cols;
  let t = m / params.cols;
  let phase = t % params.phases;
  let t2 = t / params.phases;
  return PixelBlock(t2 / params.dst_h, t2 % params.dst_h, phase, i);
}

fn storedPixel(m: u32, b: PixelBlock) -> bool {
  return m < params.pixels && destColumn(b, 0u) < params.dst_w;
}

@compute @workgroup_size(256, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let tile = wid.x + wid.y * groups.x;
  if (tile >= params.m_tiles * params.n_tiles) { return; }
  let m0 = (tile / params.n_tiles) * TILE_M;
  let nt = tile % params.n_tiles;
  let perGroup = (params.dst_cg + TILE_N - 1u) / TILE_N;
  let g = nt / perGroup;
  let n0 = (nt % perGroup) * TILE_N;
  let srcChannel0 = g * params.src_cg;
  let dstChannel0 = g * params.dst_cg;

  // This invocation's loads: source pixel m0 + li / 4, channels 4 (li % 4)
  // of the chunk; filter row li / 16 (MODE 1: destination channel li / 4).
  let loadM = m0 + li / 4u;
  let loadBlock = tilePixel(loadM);
  let loadStored = storedPixel(loadM, loadBlock);
  let loadQuad = li % 4u;
  // This invocation's outputs: pixels m0 + 4 tm .. + 3, channels n0 + 4 tn .. + 3.
  let tm = li / 16u;
  let tn = li % 16u;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var tkh = 0u; tkh < params.k_h; tkh++) {
    for (var tkw = 0u; tkw < params.k_w; tkw++) {
      let tap = tkh * params.k_w + tkw;
      let sr = sourceRow(loadBlock.h, tkh);
      let cols = sourceColumns(loadBlock, tkw);
      let inside = loadStored && sr >= 0 && cols.y == 1 && cols.x >= 0 &&
        cols.x < i32(params.src_w);
      let srcPixel = (loadBlock.n * params.src_h + u32(max(sr, 0))) * params.src_w +
        u32(max(cols.x, 0));
      for (var c0 = 0u; c0 < params.src_cg; c0 += TILE_K) {
        // Source quad: channels c0 + 4 loadQuad .. + 3 of pixel loadM.
        let sc = c0 + 4u * loadQuad;
        var xv = vec4<f32>(0.0);
        if (inside && sc < params.src_cg) {
          xv = src[(srcPixel * params.src_c + srcChannel0 + sc) / 4u];
        }
        let column = (li / 4u) / 4u;
        let lane = (li / 4u) % 4u;
        for (var kk = 0u; kk < 4u; kk++) {
          sourceTile[(4u * loadQuad + kk) * (TILE_M / 4u) + column][lane] = xv[kk];
        }
        if (MODE == 0u) {
          // Filter quad: source channel c0 + li / 16, destination channels n0 + 4 (li % 16).
          let k = c0 + li / 16u;
          let dc = n0 + 4u * (li % 16u);
          var wv = vec4<f32>(0.0);
          if (k < params.src_cg && dc < params.dst_cg) {
            wv = weight[((tap * params.src_cg + k) * params.dst_c + dstChannel0 + dc) / 4u];
          }
          filterTile[li] = wv;
        } else {
          // The HWIO filter [tap][destination channel][source channel]: one quad of
          // 4 source channels of destination channel n0 + li / 4, scattered to 4 rows.
          let dc = n0 + li / 4u;
          var wv = vec4<f32>(0.0);
          if (sc < params.src_cg && dc < params.dst_cg) {
            wv = weight[((tap * params.dst_cg + dc) * params.src_c + srcChannel0 + sc) / 4u];
          }
          for (var kk = 0u; kk < 4u; kk++) {
            filterTile[(4u * loadQuad + kk) * (TILE_N / 4u) + (li / 4u) / 4u][(li / 4u) % 4u] =
              wv[kk];
          }
        }
        workgroupBarrier();
        for (var k = 0u; k < TILE_K; k++) {
          let a = sourceTile[k * (TILE_M / 4u) + tm];
          let b = filterTile[k * (TILE_N / 4u) + tn];
          acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
          acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
          acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
          acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
        }
        workgroupBarrier();
      }
    }
  }
  let dc = n0 + 4u * tn;
  if (dc >= params.dst_cg) { return; }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + 4u * tm + i;
    let b = tilePixel(m);
    if (!storedPixel(m, b)) { continue; }
    let pixel = (b.n * params.dst_h + b.h) * params.dst_w + destColumn(b, 0u);
    var v = acc[i];
    if (HAS_BIAS == 1u) { v += bias[(dstChannel0 + dc) / 4u]; }
    dst[(pixel * params.dst_c + dstChannel0 + dc) / 4u] = v;
  }
}
