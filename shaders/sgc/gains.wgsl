// SGC's gain of every pixel, one invocation per pixel: log(1 + g^zeta) on an
// old step's pixel (gain_power, params.scale holds zeta), 0 on the others.
// The group sums and the weights then read it instead of each recomputing
// the pixel's softmax (the sums in a serial loop per pixel chunk); the same
// function, so the same bits.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  gains[p] = select(0.0, gain_power(p), sgc_group(p) >= 0i);
}
