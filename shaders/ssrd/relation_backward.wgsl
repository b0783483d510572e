// Gradient of the relation term with respect to the student logits, one
// invocation per pixel: only m_new of the pixel's predicted class c depends
// on z, through its largest probability p_c, so
// dz_j = grad coef[c] p_c (delta_jc - p_j).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c_all = params.channels;
  let base = p * c_all;
  let c = logits_first_argmax(base, c_all);
  let m = logits_max(base, c_all);
  let s = logits_sum_exp(base, c_all, m, 1.0);
  let p_c = 1.0 / s;
  let g = grad[0] * coef[c] * p_c;
  for (var j = 0u; j < c_all; j++) {
    let p_j = exp(logits[base + j] - m) / s;
    dz[base + j] = g * (select(0.0, 1.0, j == c) - p_j);
  }
}
