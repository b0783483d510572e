// Reduces the middle axis of an [outer, axis, inner] view; one invocation per
// output element (good when outer * inner is large). OP: 0 sum, 1 mean, 2 max.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = linear_index(gid, groups);
  if (o >= params.outer * params.inner) { return; }
  let outer = o / params.inner;
  let inner = o - outer * params.inner;
  let base = outer * params.axis * params.inner + inner;
  var acc: f32 = select(0.0, -3.4028235e38, OP == 2u);
  for (var k = 0u; k < params.axis; k++) {
    let v = a[base + k * params.inner];
    if (OP == 2u) { acc = max(acc, v); } else { acc += v; }
  }
  if (OP == 1u) { acc = acc / f32(params.axis); }
  out[o] = acc;
}
