// SSRD rows [P, 2], one invocation per pixel: (the pixel's term, its share of
// the mean's denominator). lse = the student's log-sum-exp, log p_c = z_c - lse.
// TERM 0, FISS's soft-label term: -(1/C) sum_c q_c log p_c with
//   q = softmax(soft_target), on pixels whose target is a class; (0, 0) on 255.
// TERM 1, FISS's entropy term: -(1/C) sum_c p_c log p_c = (lse - sum_c p_c z_c) / C
//   on every pixel.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c_all = params.channels;
  let base = p * c_all;
  if (TERM == 0u && !soft_pixel(p)) {
    rows[2u * p] = 0.0;
    rows[2u * p + 1u] = 0.0;
    return;
  }
  let m = logits_max(base, c_all);
  let lse = m + log(logits_sum_exp(base, c_all, m, 1.0));
  var acc = 0.0;
  if (TERM == 0u) {
    let norm = soft_target_norm(p);
    for (var c = 0u; c < c_all; c++) {
      let q = exp(soft_target(p, c) - norm.x) / norm.y;
      acc -= q * (load_logits(base + c) - lse);
    }
  } else {
    var pz = 0.0;
    for (var c = 0u; c < c_all; c++) { pz += exp(load_logits(base + c) - lse) * load_logits(base + c); }
    acc = lse - pz;
  }
  rows[2u * p] = acc / f32(c_all);
  rows[2u * p + 1u] = 1.0;
}
