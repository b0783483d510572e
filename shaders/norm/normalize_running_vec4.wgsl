// Eval-mode batch norm in one pass, a channel quad per invocation (channels %
// 4 == 0, `n` counting quads): the inverse std 1 / sqrt(running_var + eps)
// as eval_stats.wgsl computes it, then normalize_vec4.wgsl's arithmetic on
// the running mean, so y is bit for bit that of the two-kernel path. For a
// forward no gradient will pass through (a frozen model's), which needs no
// statistics tensor.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let q = i % (params.channels / 4u);
  let inv = 1.0 / sqrt(load_running_var(q) + params.eps);
  var v = (load_x(i) - load_running_mean(q)) * (inv * load_weight(q)) + load_bias(q);
  if (RELU == 1u) {
    let nan = (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
    v = select(max(v, vec4<f32>(0.0)), v, nan);
  }
  y[i] = v;
}
