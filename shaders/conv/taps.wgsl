// Shared index logic of the forward and input-gradient kernels (prepended to
// each of them). A kernel maps a block of destination pixels (one row segment)
// to the source pixels each filter tap reads.
//
// MODE 0 is the forward convolution: source = input x, destination = output y.
// MODE 1 is the transposed convolution that computes the input gradient:
// source = output gradient dy, destination = input gradient dx, weights
// transposed to [KH, KW, Cout/groups, Cin]. Its destination columns are
// visited one stride phase at a time (`phases` = stride_w), so every pixel of a
// block agrees on which taps hit a source pixel and no work goes to the zeros a
// strided transposed convolution would otherwise multiply.

struct PixelBlock { n: u32, h: u32, phase: u32, first: u32 }

// The block's image, destination row, column phase and first index along the phase.
fn pixelBlock(index: u32, size: u32) -> PixelBlock {
  let rb = index % params.row_blocks;
  let t = index / params.row_blocks;
  let phase = t % params.phases;
  let t2 = t / params.phases;
  return PixelBlock(t2 / params.dst_h, t2 % params.dst_h, phase, rb * size);
}

// Destination column of pixel j of a block.
fn destColumn(b: PixelBlock, j: u32) -> u32 {
  return b.phase + (b.first + j) * params.phases;
}

// Source row read by tap row `tkh`, or -1 when it reads padding (MODE 1: or
// falls between two strided rows).
fn sourceRow(h: u32, tkh: u32) -> i32 {
  if (MODE == 0u) {
    let r = i32(h * params.stride_h + tkh * params.dil_h) - i32(params.pad_h);
    return select(-1, r, r >= 0 && r < i32(params.src_h));
  }
  let num = i32(h + params.pad_h) - i32(tkh * params.dil_h);
  if (num < 0) { return -1; }
  // Unsigned arithmetic only: signed / and % of negative values differ between backends.
  let r = u32(num) / params.stride_h;
  let hit = u32(num) % params.stride_h == 0u && r < params.src_h;
  return select(-1, i32(r), hit);
}

// Source column of pixel 0 of the block for tap column `tkw` (pixel j reads
// column x + j * sourceStep()), and y = 0 when the tap misses every pixel.
fn sourceColumns(b: PixelBlock, tkw: u32) -> vec2<i32> {
  if (MODE == 0u) {
    let c = i32(b.first * params.stride_w + tkw * params.dil_w) - i32(params.pad_w);
    return vec2<i32>(c, 1);
  }
  let num = i32(b.phase + params.pad_w) - i32(tkw * params.dil_w);
  // num is a multiple of the stride exactly when the tap lands on a source
  // column. Signed / and % of a negative num are not portable (WGSL defines
  // them, but GLSL leaves them undefined and some backends emit them as is), so
  // divide its magnitude and restore the sign.
  let magnitude = u32(abs(num));
  let q = i32(magnitude / params.stride_w);
  let quotient = select(-q, q, num >= 0);
  return vec2<i32>(quotient + i32(b.first), select(0, 1, magnitude % params.stride_w == 0u));
}

// Column distance in the source between neighbouring pixels of a block.
fn sourceStep() -> i32 {
  return select(1, i32(params.stride_w), MODE == 0u);
}

// Linear invocation index over a grid folded into two dimensions.
fn linearIndex(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return linear_index(gid, groups);
}
