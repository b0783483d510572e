// Filter gradient of a depthwise convolution: each invocation accumulates
// one tap of 4 channels (one vec4) over its chunk of output rows, the
// channels of x and dy lining up one to one. Needs C % 4 == 0.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let quad = id % params.co_blocks;
  let t = id / params.co_blocks;
  let taps = params.k_h * params.k_w;
  let tap = t % taps;
  let split = t / taps;
  let tkh = tap / params.k_w;
  let tkw = tap % params.k_w;
  let span = validColumns(tkw);
  let r0 = split * params.rows_per_split;
  let r1 = min(r0 + params.rows_per_split, params.batch * params.out_h);
  let c4 = params.out_c / 4u;
  var acc = vec4<f32>(0.0);
  for (var r = r0; r < r1; r++) {
    let n = r / params.out_h;
    let ih = inputRow(r % params.out_h, tkh);
    if (ih < 0) { continue; }
    let xRow = (n * params.in_h + u32(ih)) * params.in_w;
    let dyRow = r * params.out_w;
    for (var ow = span.x; ow < span.y; ow++) {
      let iw = ow * params.stride_w + tkw * params.dil_w - params.pad_w;
      acc = fma(src[(xRow + iw) * c4 + quad], grad[(dyRow + ow) * c4 + quad], acc);
    }
  }
  let at = (split * params.taps_size + tap * params.out_c) / 4u + quad;
  var v = acc;
  if (params.accumulate == 1u) { v = partial[at] + v; }
  partial[at] = v;
}
