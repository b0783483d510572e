// Reduces the middle axis of an [outer, axis, inner] view with one workgroup
// per output element and a tree reduction in workgroup memory (good when the
// axis is long and there are few outputs). OP: 0 sum, 1 mean, 2 max.
var<workgroup> partial: array<f32, WG_X>;

@compute @workgroup_size(WG_X, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
) {
  let o = wid.x + wid.y * groups.x;
  let valid = o < params.outer * params.inner;
  let oc = select(0u, o, valid);
  let outer = oc / params.inner;
  let inner = oc - outer * params.inner;
  let base = outer * params.axis * params.inner + inner;
  var acc: f32 = select(0.0, -3.4028235e38, OP == 2u);
  for (var k = lid.x; k < params.axis; k += WG_X) {
    let v = a[base + k * params.inner];
    if (OP == 2u) { acc = max(acc, v); } else { acc += v; }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var stride = WG_X / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) {
      if (OP == 2u) {
        partial[lid.x] = max(partial[lid.x], partial[lid.x + stride]);
      } else {
        partial[lid.x] = partial[lid.x] + partial[lid.x + stride];
      }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u && valid) {
    var r = partial[0];
    if (OP == 1u) { r = r / f32(params.axis); }
    out[o] = r;
  }
}
