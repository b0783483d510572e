// SGC weights, one invocation per pixel: on an old step's pixel,
// w = base * v / (mean of v over the pixel's old-step group), v = log(1 + g^zeta),
// the ratio clamped into [w_min, w_max] when CLIP == 1 (a group whose mean is 0
// gives 1); on current-step and ignored pixels w = base. `base` is PLOP's
// per-image adaptive factor of the pixel. The including kernel defines
// `pixel_gain(p)`: v computed here (gain_power) or read from precomputed gains.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let k = sgc_group(p);
  if (k < 0i) { weights[p] = base[p]; return; }
  let mean = sums[u32(k)] / f32(counts[u32(k)]);
  var w = select(pixel_gain(p) / mean, 1.0, !(mean > 0.0));
  if (CLIP == 1u) { w = clamp(w, params.w_min, params.w_max); }
  weights[p] = base[p] * w;
}
