// Filter gradient tiled through workgroup memory, for GPUs: a workgroup of
// 256 invocations sums a 64 (input channels) x 64 (output channels) tile of
// one tap over its split's chunk of output rows, 16 pixels at a time. Every
// invocation loads one quad of x (4 input channels of one pixel, through the
// tap) and one quad of dy into workgroup memory, then accumulates 4 x 4
// products from them. Needs Cin/groups and Cout/groups to be multiples of 4.
// Blocks: id = ((split * taps + tap) * ci_blocks + cib) * co_blocks + cob,
// ci_blocks and co_blocks counting 64-channel tiles.

const TILE_C: u32 = 64u;
const TILE_K: u32 = 16u;

// [TILE_K pixels][TILE_C / 4 quads] of x and of dy.
var<workgroup> xTile: array<vec4<f32>, 256>;
var<workgroup> dyTile: array<vec4<f32>, 256>;

@compute @workgroup_size(256, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let id = wid.x + wid.y * groups.x;
  if (id >= params.blocks) { return; }
  let b = filterBlock(id);
  let perGroup = (params.out_cg + TILE_C - 1u) / TILE_C;
  let g = b.cob / perGroup;
  let coLocal0 = (b.cob % perGroup) * TILE_C;
  let ciLocal0 = b.cib * TILE_C;
  let r0 = b.split * params.rows_per_split;
  let r1 = min(r0 + params.rows_per_split, params.batch * params.out_h);
  let pixels = select(0u, (r1 - r0) * params.out_w, r1 > r0);

  // This invocation's loads: pixel li / 16 of the chunk, quad li % 16 of the
  // tile's input channels and of its output channels.
  let loadPixel = li / 16u;
  let quad = li % 16u;
  let ci = ciLocal0 + 4u * quad;
  let co = coLocal0 + 4u * quad;
  let ciOk = ci < params.in_cg;
  let coOk = co < params.out_cg;
  // This invocation's sums: input channels ciLocal0 + 4 ti .. + 3, output channels coLocal0 + 4 tc .. + 3.
  let ti = li / 16u;
  let tc = li % 16u;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }

  for (var q0 = 0u; q0 < pixels; q0 += TILE_K) {
    let q = q0 + loadPixel;
    var xv = vec4<f32>(0.0);
    var dv = vec4<f32>(0.0);
    if (q < pixels) {
      let r = r0 + q / params.out_w;
      let ow = q % params.out_w;
      let n = r / params.out_h;
      let ih = inputRow(r % params.out_h, b.tkh);
      let iw = i32(ow * params.stride_w + b.tkw * params.dil_w) - i32(params.pad_w);
      if (ciOk && ih >= 0 && iw >= 0 && iw < i32(params.in_w)) {
        let inPixel = (n * params.in_h + u32(ih)) * params.in_w + u32(iw);
        xv = src[(inPixel * params.in_c + g * params.in_cg + ci) / 4u];
      }
      if (coOk) {
        dv = grad[((r * params.out_w + ow) * params.out_c + g * params.out_cg + co) / 4u];
      }
    }
    xTile[li] = xv;
    dyTile[li] = dv;
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      let a = xTile[k * (TILE_C / 4u) + ti];
      let d = dyTile[k * (TILE_C / 4u) + tc];
      acc[0] = fma(vec4<f32>(a.x), d, acc[0]);
      acc[1] = fma(vec4<f32>(a.y), d, acc[1]);
      acc[2] = fma(vec4<f32>(a.z), d, acc[2]);
      acc[3] = fma(vec4<f32>(a.w), d, acc[3]);
    }
    workgroupBarrier();
  }
  let outCo = coLocal0 + 4u * tc;
  if (outCo >= params.out_cg) { return; }
  let sliceBase = b.split * params.taps_size;
  for (var i = 0u; i < 4u; i++) {
    let outCi = ciLocal0 + 4u * ti + i;
    if (outCi >= params.in_cg) { break; }
    let at = (sliceBase + (b.tap * params.in_cg + outCi) * params.out_c + g * params.out_cg + outCo) /
      4u;
    var v = acc[i];
    if (params.accumulate == 1u) { v = partial[at] + v; }
    partial[at] = v;
  }
}
