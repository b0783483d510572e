// Prototypical pseudo re-labeling, one invocation per pixel. A pixel
// labelled 0 gets the old class c* maximising s_c ∝ p'_c * kappa_c, where
// p' is the old model's softmax and kappa the softmax over classes with a
// valid prototype of -(1 - cos(h', eta_c)) / tau: c* = 0 keeps 0, a score
// >= theta relabels the pixel c*, anything else becomes 255 (uncertain).
// Classes without a prototype get kappa 0. Other labels pass through.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let y = labels[p];
  if (y != 0) { targets[p] = y; return; }
  let old = params.old;
  let zb = p * old;
  let fb = p * params.features;
  var norm = 0.0;
  for (var f = 0u; f < params.features; f++) { norm += features[fb + f] * features[fb + f]; }
  norm = max(sqrt(norm), 1e-12);
  // log p'_c + log kappa_c up to constants, then a softmax over c.
  var zmax = -3.0e38;
  for (var c = 0u; c < old; c++) { zmax = max(zmax, old_logits[zb + c]); }
  var best = -3.0e38;
  var scores_max = -3.0e38;
  // First pass: the largest combined log-score, for a stable softmax.
  for (var c = 0u; c < old; c++) {
    if (valid[c] == 0u) { continue; }
    var dot = 0.0;
    for (var f = 0u; f < params.features; f++) {
      dot += features[fb + f] * prototypes[c * params.features + f];
    }
    let score = (old_logits[zb + c] - zmax) - (1.0 - dot / norm) / params.tau;
    scores_max = max(scores_max, score);
  }
  if (scores_max < -1.0e38) { targets[p] = 0; return; }
  var total = 0.0;
  var arg = 0u;
  for (var c = 0u; c < old; c++) {
    if (valid[c] == 0u) { continue; }
    var dot = 0.0;
    for (var f = 0u; f < params.features; f++) {
      dot += features[fb + f] * prototypes[c * params.features + f];
    }
    let e = exp((old_logits[zb + c] - zmax) - (1.0 - dot / norm) / params.tau - scores_max);
    total += e;
    if (e > best) { best = e; arg = c; }
  }
  let share = best / total;
  if (arg == 0u) { targets[p] = 0; } else if (share >= params.theta) { targets[p] = i32(arg); } else { targets[p] = 255; }
}
