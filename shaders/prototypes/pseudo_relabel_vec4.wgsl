// pseudo_relabel.wgsl with the pixel's features held in registers as
// FEATURE_QUADS vec4 (features a multiple of 4) and the prototypes read as
// vec4: the same sums in the same order (each quad's components in turn), so
// the result is bit-identical to the scalar kernel with a quarter of its
// loads. Features and prototypes are read through load_features /
// load_prototypes: from their buffers, or (CPU adapters) from texture copies.
//
// An invocation corrects PIXELS consecutive pixels: each prototype quad is
// loaded once for all of them (on llvmpipe a load from the same address in
// every lane still costs a gather, two thirds of the kernel's time at one
// pixel an invocation). Each pixel's sums keep their order, so the result
// does not depend on PIXELS.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let first = linear_index(gid, groups) * PIXELS;
  if (first >= params.pixels) { return; }
  let last = params.pixels - 1u;
  var h: array<array<vec4<f32>, FEATURE_QUADS>, PIXELS>;
  var h_norm: array<f32, PIXELS>;
  for (var k = 0u; k < PIXELS; k++) {
    // Past the last pixel, a copy of it: computed, never stored.
    let hb = min(first + k, last) * FEATURE_QUADS;
    var hh = 0.0;
    for (var q = 0u; q < FEATURE_QUADS; q++) {
      let v = load_features(hb + q);
      h[k][q] = v;
      hh += v.x * v.x;
      hh += v.y * v.y;
      hh += v.z * v.z;
      hh += v.w * v.w;
    }
    h_norm[k] = max(sqrt(hh), 1e-8);
  }
  // Function-scope arrays, zeroed per class by hand: a `var` declared in a
  // loop body is not reliably zeroed on every iteration once compiled.
  var cosine: array<f32, PIXELS>;
  var dot: array<f32, PIXELS>;
  for (var c = 0u; c < params.old_classes; c++) {
    for (var k = 0u; k < PIXELS; k++) {
      cosine[k] = 0.0;
      dot[k] = 0.0;
    }
    if (is_valid(c)) {
      let eb = c * FEATURE_QUADS;
      var ee = 0.0;
      for (var q = 0u; q < FEATURE_QUADS; q++) {
        let e = load_prototypes(eb + q);
        ee += e.x * e.x;
        ee += e.y * e.y;
        ee += e.z * e.z;
        ee += e.w * e.w;
        for (var k = 0u; k < PIXELS; k++) {
          let v = h[k][q];
          dot[k] += v.x * e.x;
          dot[k] += v.y * e.y;
          dot[k] += v.z * e.z;
          dot[k] += v.w * e.w;
        }
      }
      let e_norm = max(sqrt(ee), 1e-8);
      for (var k = 0u; k < PIXELS; k++) {
        cosine[k] = dot[k] / (h_norm[k] * e_norm);
      }
    }
    for (var k = 0u; k < PIXELS; k++) {
      let p = first + k;
      if (p > last) { break; }
      let at = p * params.old_classes + c;
      corrected[at] = old_logits[at] + cosine[k] / params.tau;
    }
  }
}
