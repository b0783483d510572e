// unary.wgsl four elements at a time (`n` counts quads): the same operation
// on each component, so the results are bit-identical to unary.wgsl's.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let x = a[i];
  var r: vec4<f32>;
  switch OP {
    case 0u: { r = params.alpha * x + params.beta; }
    case 1u: {
      let nan = (bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
      r = select(max(x, vec4<f32>(0.0)), x, nan);
    }
    case 2u: { r = exp(x); }
    case 3u: { r = log(x); }
    case 4u: { r = -x; }
    case 5u: { r = abs(x); }
    case 6u: { r = sqrt(x); }
    default: { r = x * x; }
  }
  out[i] = r;
}
