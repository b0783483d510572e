// Concatenation of a chunk of up to 7 inputs along one axis in one dispatch.
// Viewed as [outer, width], input k fills columns [base + o_k, base + o_k +
// w_k) of every output row (o_0 = 0; the chunk spans `span` columns of the
// output's `total`). The host generates the bindings s0..s{n-1} and
// `block_read(row, c)`, which picks the input whose block holds chunk column c.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.outer * params.span) { return; }
  let row = i / params.span;
  let c = i - row * params.span;
  dst[row * params.total + params.base + c] = block_read(row, c);
}
