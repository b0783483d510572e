// SGC weights, one invocation per pixel: w = g^zeta / (mean of g^zeta over the
// pixel's old-step group + 1e-6), clipped into [w_min, w_max] when CLIP == 1;
// 1 on current-step pixels and on ignored / out-of-range targets (the
// cross-entropy ignores those anyway; 1 keeps the map a neutral multiplier).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let k = sgc_group(p);
  if (k < 0i) { weights[p] = 1.0; return; }
  let mean = sums[u32(k)] / f32(counts[u32(k)]);
  var w = gain_power(p) / (mean + 1e-6);
  if (CLIP == 1u) { w = clamp(w, params.w_min, params.w_max); }
  weights[p] = w;
}
