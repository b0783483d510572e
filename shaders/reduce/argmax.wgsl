// Index of the largest value along the middle axis of an [outer, axis, inner]
// view (the first one on ties, like PyTorch's CPU argmax).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let o = linear_index(gid, groups);
  if (o >= params.outer * params.inner) { return; }
  let outer = o / params.inner;
  let inner = o - outer * params.inner;
  let base = outer * params.axis * params.inner + inner;
  var best = a[base];
  var index = 0u;
  for (var k = 1u; k < params.axis; k++) {
    let v = a[base + k * params.inner];
    if (v > best) { best = v; index = k; }
  }
  out[o] = i32(index);
}
