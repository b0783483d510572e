// pseudo_relabel.wgsl with the pixel's features held in registers as
// FEATURE_QUADS vec4 (features a multiple of 4) and the prototypes read as
// vec4: the same sums in the same order (each quad's components in turn), so
// the result is bit-identical to the scalar kernel with a quarter of its
// loads. Features and prototypes are read through load_features /
// load_prototypes: from their buffers, or (CPU adapters) from texture copies.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let hb = p * FEATURE_QUADS;
  var h: array<vec4<f32>, FEATURE_QUADS>;
  var hh = 0.0;
  for (var q = 0u; q < FEATURE_QUADS; q++) {
    let v = load_features(hb + q);
    h[q] = v;
    hh += v.x * v.x;
    hh += v.y * v.y;
    hh += v.z * v.z;
    hh += v.w * v.w;
  }
  let h_norm = max(sqrt(hh), 1e-8);
  for (var c = 0u; c < params.old_classes; c++) {
    var cosine = 0.0;
    if (is_valid(c)) {
      let eb = c * FEATURE_QUADS;
      var dot = 0.0;
      var ee = 0.0;
      for (var q = 0u; q < FEATURE_QUADS; q++) {
        let e = load_prototypes(eb + q);
        let v = h[q];
        dot += v.x * e.x;
        ee += e.x * e.x;
        dot += v.y * e.y;
        ee += e.y * e.y;
        dot += v.z * e.z;
        ee += e.z * e.z;
        dot += v.w * e.w;
        ee += e.w * e.w;
      }
      cosine = dot / (h_norm * max(sqrt(ee), 1e-8));
    }
    let at = p * params.old_classes + c;
    corrected[at] = old_logits[at] + cosine / params.tau;
  }
}
