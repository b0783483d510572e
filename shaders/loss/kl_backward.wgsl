// Gradients of the per-pixel KL(p || q), one pixel per invocation, scaled by
// u = upstream gradient * mask weight:
//   student logits:      ds_k = u (q_k sum(p) - p_k) / T
//   student log-probs:   ds_k = -u p_k
//   teacher logits:      dt_k = u p_k (lp_k - lq_k - KL) / T   (TEACHER_GRAD == 1)
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  let w = row_weight(p);
  if (w == 0.0) {
    for (var k = 0u; k < c; k++) {
      dstudent[base + k] = 0.0;
      if (TEACHER_GRAD == 1u) { dteacher[base + k] = 0.0; }
    }
    return;
  }
  let u = upstream(p) * w;
  let ts = teacher_shift(base, c);
  let ss = student_shift(base, c);
  var mass = 0.0;
  for (var k = 0u; k < c; k++) { mass += teacher_p(base + k, ts); }
  var kl = 0.0;
  if (TEACHER_GRAD == 1u) { kl = pixel_kl(base, c, ts, ss); }
  for (var k = 0u; k < c; k++) {
    let i = base + k;
    let pk = teacher_p(i, ts);
    let lq = student_lq(i, ss);
    if (STUDENT == 1u) {
      dstudent[i] = -u * pk;
    } else {
      dstudent[i] = u * (exp(lq) * mass - pk) * params.inv_t;
    }
    if (TEACHER_GRAD == 1u) {
      var d = 0.0;
      if (pk > 0.0) { d = u * pk * (teacher_lp(i, ts) - lq - kl) * params.inv_t; }
      dteacher[i] = d;
    }
  }
}
