// Per pixel, at the soft temperature (params.scale = 1 / Tsoft): the student's
// background logit u_0, the log-normaliser of u, and the teacher's
// log-normaliser; the class sums and the backward read them.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let background = background_logit(p, params.scale);
  stats[3u * p] = background;
  stats[3u * p + 1u] = unbiased_lse(p, params.scale, background);
  stats[3u * p + 2u] = teacher_lse(p, params.scale);
}
