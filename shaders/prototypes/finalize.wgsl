// One invocation per class: the L2-normalised mean of the accumulated sums when
// the class has at least min_pixels pixels (and one), else the previous
// prototype and validity (classes beyond the previous ones: zeros, invalid).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.classes) { return; }
  let base = c * params.features;
  let n = count_of(c);
  if (n > 0u && n >= params.min_pixels) {
    // Normalising the sum equals normalising the mean; dividing first keeps the
    // eps comparison on the mean's scale, as in the float64 reference.
    let inv_n = 1.0 / f32(n);
    var s = 0.0;
    for (var f = 0u; f < params.features; f++) {
      let m = sums[base + f] * inv_n;
      s += m * m;
    }
    let inv = 1.0 / max(sqrt(s), 1e-8);
    for (var f = 0u; f < params.features; f++) { prototypes[base + f] = sums[base + f] * inv_n * inv; }
    valid[c] = 1u;
    return;
  }
  let kept = c < params.previous_classes;
  for (var f = 0u; f < params.features; f++) {
    prototypes[base + f] = select(0.0, previous[base + f], kept);
  }
  valid[c] = select(0u, u32(previous_valid[c] != 0u), kept);
}
