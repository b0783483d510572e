// The backward of concat_blocks.wgsl: chunk column c of every row of `src`
// (columns [base, base + span) of its `total`) goes to the input whose block
// holds it. The host generates the bindings d0..d{n-1} and
// `block_write(row, c, v)`.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.outer * params.span) { return; }
  let row = i / params.span;
  let c = i - row * params.span;
  block_write(row, c, src[row * params.total + params.base + c]);
}
