// Filter gradient when only the output channels per group are multiples of 4
// (an RGB stem: 3 input channels): each invocation accumulates 4 input
// channels (scalar loads, clamped at the group's edge) x CO_QUADS quads of
// output channels (vec4 loads; a quad past the group's end re-reads its last
// quad and is not stored) of one tap over its chunk of output rows. The sums
// run in the order of filter.wgsl's, so the results are the same. CI_USED
// (1 to 4) is how many of the 4 input channels are accumulated: the group's
// channels when it has fewer than 4 (an RGB stem: 3), so no lane repeats one.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linearIndex(gid, groups);
  if (id >= params.blocks) { return; }
  let b = filterBlock(id);
  let coTile = 4u * CO_QUADS;
  let perGroup = (params.out_cg + coTile - 1u) / coTile;
  let g = b.cob / perGroup;
  let co0 = g * params.out_cg + (b.cob % perGroup) * coTile;
  let coEnd = g * params.out_cg + params.out_cg;
  let ciLocal = b.cib * 4u;
  var ins: vec4<u32>;
  for (var i = 0u; i < 4u; i++) { ins[i] = g * params.in_cg + min(ciLocal + i, params.in_cg - 1u); }
  var quads: array<u32, 4>;
  for (var q = 0u; q < CO_QUADS; q++) { quads[q] = min(co0 + 4u * q, coEnd - 4u) / 4u; }
  let span = validColumns(b.tkw);
  let r0 = b.split * params.rows_per_split;
  let r1 = min(r0 + params.rows_per_split, params.batch * params.out_h);
  let outQuads = params.out_c / 4u;
  // acc[4 q + i]: input channel ciLocal + i, output quad q.
  var acc: array<vec4<f32>, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }
  for (var r = r0; r < r1; r++) {
    let n = r / params.out_h;
    let ih = inputRow(r % params.out_h, b.tkh);
    if (ih < 0) { continue; }
    let xRow = (n * params.in_h + u32(ih)) * params.in_w;
    let dyRow = r * params.out_w;
    for (var ow = span.x; ow < span.y; ow++) {
      let iw = ow * params.stride_w + b.tkw * params.dil_w - params.pad_w;
      let xb = (xRow + iw) * params.in_c;
      var xv: vec4<f32>;
      for (var i = 0u; i < CI_USED; i++) { xv[i] = load_src(xb + ins[i]); }
      let db = (dyRow + ow) * outQuads;
      for (var q = 0u; q < CO_QUADS; q++) {
        let dv = load_grad(db + quads[q]);
        for (var i = 0u; i < CI_USED; i++) {
          acc[4u * q + i] = fma(vec4<f32>(xv[i]), dv, acc[4u * q + i]);
        }
      }
    }
  }
  let sliceBase = b.split * params.taps_size;
  for (var i = 0u; i < 4u; i++) {
    let ci = ciLocal + i;
    if (ci >= params.in_cg) { break; }
    let rowBase = (sliceBase + (b.tap * params.in_cg + ci) * params.out_c) / 4u;
    for (var q = 0u; q < CO_QUADS; q++) {
      let co = co0 + 4u * q;
      if (co >= coEnd) { break; }
      var v = acc[4u * q + i];
      if (params.accumulate == 1u) { v = partial[rowBase + co / 4u] + v; }
      partial[rowBase + co / 4u] = v;
    }
  }
}
