// SGC, pass 1. Per pixel: g = 1 - softmax(z)[y] (the CE gradient's size at
// the target logit), raised to zeta, and the old step k = step_of[y] whose
// group it joins (current-step and ignored pixels join none). Row p of
// `terms` is [g^zeta in column k, 0 elsewhere | 1 in column steps + k].
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  let row = p * 2u * params.steps;
  for (var k = 0u; k < 2u * params.steps; k++) { terms[row + k] = 0.0; }
  let y = targets[p];
  if (y == 255 || y < 0 || u32(y) >= params.channels) { gz[p] = 0.0; return; }
  let base = p * params.channels;
  var m = z[base];
  for (var c = 1u; c < params.channels; c++) { m = max(m, z[base + c]); }
  var s = 0.0;
  for (var c = 0u; c < params.channels; c++) { s += exp(z[base + c] - m); }
  let g = max(1.0 - exp(z[base + u32(y)] - m) / s, 0.0);
  // pow(0, zeta) through exp2(zeta * log2(0)) is 0 for zeta > 0; keep it explicit.
  var v = 0.0;
  if (g > 0.0) { v = pow(g, params.zeta); }
  gz[p] = v;
  let k = step_of[u32(y)];
  if (k >= 0 && u32(k) < params.steps) {
    terms[row + u32(k)] = v;
    terms[row + params.steps + u32(k)] = 1.0;
  }
}
