// Prototypical pseudo re-labeling, one invocation per pixel. Other labels
// than 0 pass through. On a background pixel, for each old class c with a
// valid prototype, the fused log-score is
//   a_c = z'_c + cos(h', eta_c) / tau  (= log(p'_c kappa_c) + a per-pixel constant),
// so s_c = softmax over valid c of a_c equals p'_c kappa_c / sum_j p'_j kappa_j,
// with kappa the softmax of -d / tau over the valid classes. One online pass
// keeps the running maximum, the sum of exp(a - max) and the first argmax;
// s_{c*} = 1 / sum. c* = 0 keeps 0, s >= theta relabels c*, else 255. Without
// any valid prototype the pixel keeps 0.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let y = labels[p];
  if (y != 0i) { targets[p] = y; return; }
  let hb = p * params.features;
  var hh = 0.0;
  for (var f = 0u; f < params.features; f++) { hh += features[hb + f] * features[hb + f]; }
  let h_norm = max(sqrt(hh), 1e-8);
  var best = -3.4e38;
  var best_class = -1i;
  var total = 0.0;
  for (var c = 0u; c < params.old_classes; c++) {
    if (!is_valid(c)) { continue; }
    let eb = c * params.features;
    var dot = 0.0;
    var ee = 0.0;
    for (var f = 0u; f < params.features; f++) {
      let e = prototypes[eb + f];
      dot += features[hb + f] * e;
      ee += e * e;
    }
    let cosine = dot / (h_norm * max(sqrt(ee), 1e-8));
    let a = old_logits[p * params.old_classes + c] + cosine / params.tau;
    if (best_class < 0i || a > best) {
      // Rescale the running sum to the new maximum (0 before the first class).
      total = select(0.0, total * exp(best - a), best_class >= 0i) + 1.0;
      best = a;
      best_class = i32(c);
    } else {
      total += exp(a - best);
    }
  }
  if (best_class <= 0i) { targets[p] = 0i; return; }
  targets[p] = select(255i, best_class, 1.0 / total >= params.theta);
}
