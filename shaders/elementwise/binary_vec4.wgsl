// binary.wgsl four elements at a time: out = a (op) b, with `n` and `b_period`
// counting quads (the period is a multiple of 4 elements, so a quad of `a`
// meets one contiguous quad of `b`). The same operation on each component, so
// the results are bit-identical to binary.wgsl's. `a` and `b` are read through
// load_a / load_b: their buffers, or (llvmpipe without AVX-512 code) texture
// copies.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let x = load_a(i);
  let y = load_b(i % params.b_period);
  var r: vec4<f32>;
  switch OP {
    case 0u: { r = x + y; }
    case 1u: { r = x - y; }
    case 2u: { r = x * y; }
    case 3u: { r = x / y; }
    case 4u: { r = max(x, y); }
    case 5u: { r = min(x, y); }
    case 7u: {
      let v = x + y;
      let nan = (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
      r = select(max(v, vec4<f32>(0.0)), v, nan);
    }
    default: { r = select(vec4<f32>(0.0), x, y > vec4<f32>(0.0)); }
  }
  out[i] = r;
}
