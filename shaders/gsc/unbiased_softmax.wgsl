// The unbiased student distribution over the old classes at temperature T:
// q_0 = sum over {0} and the new classes [old, C) of softmax(z / T), the
// old classes 1..old-1 as they are. Forward (BACKWARD 0) writes q [P, old];
// backward (BACKWARD 1) takes g = dL/dq and writes
// dz_j = (1/T) s_j (g_G(j) - sum_G q_G g_G), G(j) the group of class j.
fn group_of(c: u32) -> u32 { return select(0u, c, c < params.old); }

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let base = p * params.channels;
  let qb = p * params.old;
  let inv_t = 1.0 / params.temperature;
  var m = -3.0e38;
  for (var c = 0u; c < params.channels; c++) { m = max(m, z[base + c] * inv_t); }
  var s = 0.0;
  for (var c = 0u; c < params.channels; c++) { s += exp(z[base + c] * inv_t - m); }
  if (BACKWARD == 0u) {
    for (var c = 0u; c < params.old; c++) { q[qb + c] = 0.0; }
    for (var c = 0u; c < params.channels; c++) {
      q[qb + group_of(c)] += exp(z[base + c] * inv_t - m) / s;
    }
    return;
  }
  var dot = 0.0;
  for (var c = 0u; c < params.old; c++) { dot += q[qb + c] * g[qb + c]; }
  for (var c = 0u; c < params.channels; c++) {
    let sc = exp(z[base + c] * inv_t - m) / s;
    dz[base + c] = inv_t * sc * (g[qb + group_of(c)] - dot);
  }
}
