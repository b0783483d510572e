// Gradient of one SSRD term with respect to the student logits, one
// invocation per pixel. TERM 0 (soft, at T = Tsoft = 1 / params.scale):
// G_j = grad * coef[y, j] is dL/dq_j, so dL/du_j = q_j (G_j - sum_k q_k G_k).
// TERM 1 (sharp, at T = 1): dL/du_j = grad / M (q_j - t_j), t the teacher at
// Tsharp (params.scale = 1 / Tsharp), M = totals[1] the pixel count. Then
// through u: dz_j = dL/du_j / T for old classes j >= 1, and the background
// group {0} ∪ new classes shares dL/du_0 / T by its softmax of z / T.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let base = p * params.channels;
  for (var c = 0u; c < params.channels; c++) { dz[base + c] = 0.0; }
  let y = old_target(p);
  if (y < 0i) { return; }
  let k = params.old_classes;
  var inv_t = 1.0;
  var background = 0.0;
  var lse = 0.0;
  var dot = 0.0;
  var t_lse = 0.0;
  var upstream = grad[0];
  if (TERM == 0u) {
    inv_t = params.scale;
    background = stats[3u * p];
    lse = stats[3u * p + 1u];
    for (var j = 0u; j < k; j++) {
      let q = exp(unbiased_logit(p, j, inv_t, background) - lse);
      dot += q * coef[u32(y) * k + j];
    }
  } else {
    background = background_logit(p, 1.0);
    lse = unbiased_lse(p, 1.0, background);
    t_lse = teacher_lse(p, params.scale);
    let count = totals[1];
    upstream = select(upstream / count, 0.0, count == 0.0);
  }
  for (var j = 0u; j < k; j++) {
    let q = exp(unbiased_logit(p, j, inv_t, background) - lse);
    var du = 0.0;
    if (TERM == 0u) {
      du = upstream * q * (coef[u32(y) * k + j] - dot);
    } else {
      du = upstream * (q - exp(old_logits[p * k + j] * params.scale - t_lse));
    }
    if (j > 0u) {
      dz[base + j] = du * inv_t;
    } else {
      dz[base] = du * inv_t * exp(logits[base] * inv_t - background);
      for (var c = params.new_start; c < params.channels; c++) {
        dz[base + c] = du * inv_t * exp(logits[base + c] * inv_t - background);
      }
    }
  }
}
