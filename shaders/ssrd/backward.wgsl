// Gradient of one SSRD term (mean over its M = totals[1] pixels) with respect
// to the student logits, one invocation per pixel; g = grad / M / C.
// TERM 0 (soft label): dz_c = g (p_c - q_c) (q sums to 1); 0 on 255 pixels.
// TERM 1 (entropy): with S = sum_k p_k log p_k, dz_c = -g p_c (log p_c - S).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c_all = params.channels;
  let base = p * c_all;
  let count = totals[1];
  if ((TERM == 0u && !soft_pixel(p)) || count == 0.0) {
    for (var c = 0u; c < c_all; c++) { dz[base + c] = 0.0; }
    return;
  }
  let g = grad[0] / count / f32(c_all);
  let m = logits_max(base, c_all);
  let lse = m + log(logits_sum_exp(base, c_all, m, 1.0));
  if (TERM == 0u) {
    let norm = soft_target_norm(p);
    for (var c = 0u; c < c_all; c++) {
      let q = exp(soft_target(p, c) - norm.x) / norm.y;
      dz[base + c] = g * (exp(load_logits(base + c) - lse) - q);
    }
  } else {
    var s = 0.0;
    for (var c = 0u; c < c_all; c++) {
      let log_p = load_logits(base + c) - lse;
      s += exp(log_p) * log_p;
    }
    for (var c = 0u; c < c_all; c++) {
      let log_p = load_logits(base + c) - lse;
      dz[base + c] = -g * exp(log_p) * (log_p - s);
    }
  }
}
