// First pass of the batch-norm backward: one invocation per (chunk of rows,
// channel) sums dy and dy * (x - mean) over its chunk; backward_finalize.wgsl
// adds the chunks up in a fixed order (deterministic, no atomics); upstream
// is in backward_upstream.wgsl.

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.chunks * params.channels) { return; }
  let k = i / params.channels;
  let c = i - k * params.channels;
  let first = k * params.chunk_rows;
  let last = min(first + params.chunk_rows, params.rows);
  let mean = stats[c];
  var sum_dy = 0.0;
  var sum_dy_xc = 0.0;
  for (var r = first; r < last; r++) {
    let at = r * params.channels + c;
    let g = upstream(at);
    sum_dy += g;
    sum_dy_xc += g * (x[at] - mean);
  }
  partial[2u * i] = sum_dy;
  partial[2u * i + 1u] = sum_dy_xc;
}
