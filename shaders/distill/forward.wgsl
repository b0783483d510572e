// Per-pixel distillation loss -m_p sum_c q_c lp_c / OLD (MiB's normalisation:
// the mean over the old classes), one pixel per invocation; rows [P, 1].
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let o = params.old_classes;
  let base = p * params.channels;
  let tbase = p * o;
  let m = mask_of(p);
  var loss = 0.0;
  if (m != 0.0) {
    let sh = teacher_shift(tbase);
    let den = student_den(base);
    var inner = 0.0;
    for (var k = 0u; k < o; k++) {
      var lp = logits[base + k] - den;
      if (UNBIASED == 1u && k == 0u) { lp = logits_lse_range(base, o, params.channels, true) - den; }
      inner += teacher_q(tbase, k, sh) * lp;
    }
    loss = -m * inner / f32(o);
  }
  rows[p] = loss;
}
