// PPR's prototype-corrected old logits, one invocation per pixel:
//   a_c = z'_c + cos(h', eta_c) / tau
// so that softmax(a) = p' * kappa / sum(p' * kappa) with kappa = softmax(cos / tau):
// the old posterior corrected by the prototypes. A class without a valid
// prototype takes cos = 0 (it is neither favoured nor removed); without any
// valid prototype softmax(a) is the old posterior. Norms use max(norm, 1e-8).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let hb = p * params.features;
  var hh = 0.0;
  for (var f = 0u; f < params.features; f++) { hh += features[hb + f] * features[hb + f]; }
  let h_norm = max(sqrt(hh), 1e-8);
  for (var c = 0u; c < params.old_classes; c++) {
    var cosine = 0.0;
    if (is_valid(c)) {
      let eb = c * params.features;
      var dot = 0.0;
      var ee = 0.0;
      for (var f = 0u; f < params.features; f++) {
        let e = prototypes[eb + f];
        dot += features[hb + f] * e;
        ee += e * e;
      }
      cosine = dot / (h_norm * max(sqrt(ee), 1e-8));
    }
    let at = p * params.old_classes + c;
    corrected[at] = old_logits[at] + cosine / params.tau;
  }
}
