// SGC, pass 2: w = g^zeta / (mean of g^zeta over the pixel's old-step group
// + 1e-6), clipped to [w_min, w_max]; 1 for current-step and ignored pixels.
// `totals` holds the group sums then the group counts.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let y = targets[p];
  weights[p] = 1.0;
  if (y == 255 || y < 0 || u32(y) >= params.channels) { return; }
  let k = step_of[u32(y)];
  if (k < 0 || u32(k) >= params.steps) { return; }
  let count = totals[params.steps + u32(k)];
  let mean = totals[u32(k)] / max(count, 1.0);
  var w = gz[p] / (mean + 1e-6);
  if (CLIP == 1u) { w = clamp(w, params.w_min, params.w_max); }
  weights[p] = w;
}
