// Student gradient of the distillation, one pixel per invocation:
// dz_k = -(u m / OLD) (own_k - Q softmax_k), Q = sum_c q_c, softmax over the
// channels of the student's denominator; own_k = q_k for an old class, and
// for the merged background channel (unbiased: 0 and the new classes)
// q_0 times the softmax within the merge. Plain KD leaves new channels at 0.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let o = params.old_classes;
  let c = params.channels;
  let base = p * c;
  let tbase = p * o;
  let m = mask_of(p);
  if (m == 0.0) {
    for (var k = 0u; k < c; k++) { dz[base + k] = 0.0; }
    return;
  }
  let u = -upstream(p) * m / f32(o);
  let sh = teacher_shift(tbase);
  var mass = 0.0;
  for (var k = 0u; k < o; k++) { mass += teacher_q(tbase, k, sh); }
  let den = student_den(base);
  let q0 = teacher_q(tbase, 0u, sh);
  var lse_bg = 0.0;
  if (UNBIASED == 1u) { lse_bg = logits_lse_range(base, o, c, true); }
  for (var k = 0u; k < c; k++) {
    if (UNBIASED == 0u && k >= o) {
      dz[base + k] = 0.0;
      continue;
    }
    var own = 0.0;
    if (k > 0u && k < o) {
      own = teacher_q(tbase, k, sh);
    } else if (UNBIASED == 1u) {
      own = q0 * exp(logits[base + k] - lse_bg);
    } else {
      own = q0;
    }
    dz[base + k] = u * (own - mass * exp(logits[base + k] - den));
  }
}
