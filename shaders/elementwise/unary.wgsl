// out = f(x) elementwise, f picked by OP:
// 0 scale-shift alpha * x + beta, 1 relu, 2 exp, 3 log, 4 neg, 5 abs, 6 sqrt, 7 square.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let x = a[i];
  var r: f32;
  switch OP {
    case 0u: { r = params.alpha * x + params.beta; }
    // WGSL's max returns the other operand for a NaN, and compilers turn a select on
    // x < 0.0 into that max: a NaN is recognised by its bits and passed on.
    case 1u: { r = select(max(x, 0.0), x, (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u); }
    case 2u: { r = exp(x); }
    case 3u: { r = log(x); }
    case 4u: { r = -x; }
    case 5u: { r = abs(x); }
    case 6u: { r = sqrt(x); }
    default: { r = x * x; }
  }
  out[i] = r;
}
