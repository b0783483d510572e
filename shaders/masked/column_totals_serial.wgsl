// Stage 2 of a column reduction without workgroup memory (CPU adapters):
// invocation c sums the `groups` partial sums of column c in order.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let col = linear_index(gid, groups);
  if (col > params.cols) { return; }
  var acc = 0.0;
  for (var g = 0u; g < params.groups; g++) { acc += partials[col * params.groups + g]; }
  totals[col] = acc;
}
