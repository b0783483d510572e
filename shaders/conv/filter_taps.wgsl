// Shared index logic of the filter-gradient kernels (prepended to each).
// dW[tap, ci, co] = sum over pixels x[pixel read by tap, ci] * dy[pixel, co]:
// a GEMM whose reduction runs over N*Ho*Wo. The reduction is split into
// chunks of output rows (split-K); each invocation sums one chunk for one
// register tile and writes a partial [splits, KH*KW*Cin/groups, Cout] slice.
// With one split the slice is the gradient itself; accumulate = 1 then adds it
// into what the output holds.

// The output columns whose tap column `tkw` reads inside the input: [x, y).
// Looping over exactly this range keeps bounds checks out of the inner loop.
fn validColumns(tkw: u32) -> vec2<u32> {
  let shift = i32(params.pad_w) - i32(tkw * params.dil_w);
  let s = i32(params.stride_w);
  // ow * s + tkw * dil - pad in [0, in_w)  <=>  ow in [ceil(shift / s), floor((in_w - 1 + shift) / s)].
  // Only non-negative values are divided: signed / of a negative value is not portable.
  let lo = i32(u32(max(shift + s - 1, 0)) / u32(s));
  let top = i32(params.in_w) - 1 + shift;
  let hi = select(0, i32(u32(max(top, 0)) / u32(s)) + 1, top >= 0);
  return vec2<u32>(u32(lo), u32(clamp(hi, lo, i32(params.out_w))));
}

// The input row read by output row `oh` through tap row `tkh`, or -1 for padding.
fn inputRow(oh: u32, tkh: u32) -> i32 {
  let r = i32(oh * params.stride_h + tkh * params.dil_h) - i32(params.pad_h);
  return select(-1, r, r >= 0 && r < i32(params.in_h));
}

// Block `id` of the kernels' grid: id = ((split * taps + tap) * ci_blocks +
// cib) * co_blocks + cob, the tap split into its row and column. With
// tap_width > 1 a block takes that many taps of a filter row from tkw (the
// row's taps in groups; `tap` is the first one's index).
struct FilterBlock { cob: u32, cib: u32, tap: u32, split: u32, tkh: u32, tkw: u32 }

fn filterBlock(id: u32) -> FilterBlock {
  let cob = id % params.co_blocks;
  let t = id / params.co_blocks;
  let t2 = t / params.ci_blocks;
  let groupsW = (params.k_w + params.tap_width - 1u) / params.tap_width;
  let taps = params.k_h * groupsW;
  let group = t2 % taps;
  let tkh = group / groupsW;
  let tkw = (group % groupsW) * params.tap_width;
  return FilterBlock(cob, t % params.ci_blocks, tkh * params.k_w + tkw, t2 / taps, tkh, tkw);
}

fn linearIndex(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return linear_index(gid, groups);
}
