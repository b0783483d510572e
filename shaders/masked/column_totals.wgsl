// Stage 2 of a column reduction: workgroup c sums the `groups` partial sums of
// column c (laid out [cols + 1, groups]) with a tree reduction.
var<workgroup> partial: array<f32, WG_X>;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let col = wid.x;
  if (col > params.cols) { return; }
  var acc = 0.0;
  for (var g = lid.x; g < params.groups; g += WG_X) { acc += partials[col * params.groups + g]; }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var stride = WG_X / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) { partial[lid.x] = partial[lid.x] + partial[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { totals[col] = partial[0]; }
}
