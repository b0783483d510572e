// Filter gradient for any shape: each invocation accumulates a 4 (input
// channels) x 4 (output channels) tile of one tap over its chunk of output
// rows from scalar loads, clamping channel indices at the edges.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let b = filterBlock(id);
  let perGroup = (params.out_cg + 3u) / 4u;
  let g = b.cob / perGroup;
  let co0 = g * params.out_cg + (b.cob % perGroup) * 4u;
  let coEnd = co0 - (b.cob % perGroup) * 4u + params.out_cg;
  let ciLocal = b.cib * 4u;
  var ins: vec4<u32>;
  var outs: vec4<u32>;
  for (var i = 0u; i < 4u; i++) {
    ins[i] = g * params.in_cg + min(ciLocal + i, params.in_cg - 1u);
    outs[i] = min(co0 + i, coEnd - 1u);
  }
  let span = validColumns(b.tkw);
  let r0 = b.split * params.rows_per_split;
  let r1 = min(r0 + params.rows_per_split, params.batch * params.out_h);
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }
  for (var r = r0; r < r1; r++) {
    let n = r / params.out_h;
    let ih = inputRow(r % params.out_h, b.tkh);
    if (ih < 0) { continue; }
    let xRow = (n * params.in_h + u32(ih)) * params.in_w;
    let dyRow = r * params.out_w;
    for (var ow = span.x; ow < span.y; ow++) {
      let iw = ow * params.stride_w + b.tkw * params.dil_w - params.pad_w;
      let xb = (xRow + iw) * params.in_c;
      let xv = vec4<f32>(src[xb + ins.x], src[xb + ins.y], src[xb + ins.z], src[xb + ins.w]);
      let db = (dyRow + ow) * params.out_c;
      let dv = vec4<f32>(grad[db + outs.x], grad[db + outs.y], grad[db + outs.z], grad[db + outs.w]);
      for (var i = 0u; i < 4u; i++) { acc[i] = fma(vec4<f32>(xv[i]), dv, acc[i]); }
    }
  }
  let sliceBase = b.split * params.taps_size;
  for (var i = 0u; i < 4u; i++) {
    let ci = ciLocal + i;
    if (ci >= params.in_cg) { break; }
    let rowBase = sliceBase + (b.tap * params.in_cg + ci) * params.out_c;
    for (var j = 0u; j < 4u; j++) {
      let co = co0 + j;
      if (co >= coEnd) { break; }
      var v = acc[i][j];
      if (params.accumulate == 1u) { v = partial[rowBase + co] + v; }
      partial[rowBase + co] = v;
    }
  }
}
