// out = a (op) b, elementwise; b broadcasts by repeating every `b_period` elements
// (b_period = n for same shapes, = channels for a per-channel vector, 1 for a scalar).
// OP: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 a where b > 0 else 0 (relu's backward),
// 7 relu(a + b) (a residual join; a NaN passes, as unary.wgsl's relu passes it).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let x = a[i];
  let y = b[i % params.b_period];
  var r: f32;
  switch OP {
    case 0u: { r = x + y; }
    case 1u: { r = x - y; }
    case 2u: { r = x * y; }
    case 3u: { r = x / y; }
    case 4u: { r = max(x, y); }
    case 5u: { r = min(x, y); }
    case 7u: {
      let v = x + y;
      r = select(max(v, 0.0), v, (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u);
    }
    default: { r = select(0.0, x, y > 0.0); }
  }
  out[i] = r;
}
