// dx = k[c] * (dy - shift[c] - (x - mean[c]) * slope[c]) with the
// coefficients from backward_finalize.wgsl (shift = slope = 0 in eval mode).
// With RELU = 1 the forward ended in ReLU: dy counts only where its output y > 0.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let ch = params.channels;
  let c = i % ch;
  var g = dy[i];
  if (RELU == 1u) { g = select(0.0, g, y[i] > 0.0); }
  dx[i] = coef[c] * (g - coef[ch + c] - (x[i] - stats[c]) * coef[2u * ch + c]);
}
