// First pass of the per-channel batch statistics of an [rows, channels] view
// (NHWC with rows = N*H*W): one invocation per (chunk of rows, channel)
// computes the chunk's mean and sum of squared deviations with a local
// two-pass (the chunk is re-read from cache), so the merge in
// finalize_stats.wgsl is exact and stable (Chan's formula). Neighbouring
// invocations take neighbouring channels, so each row is read contiguously.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.chunks * params.channels) { return; }
  let k = i / params.channels;
  let c = i - k * params.channels;
  let first = k * params.chunk_rows;
  let last = min(first + params.chunk_rows, params.rows);
  var sum = 0.0;
  for (var r = first; r < last; r++) {
    sum += x[r * params.channels + c];
  }
  let mean = sum / f32(last - first);
  var m2 = 0.0;
  for (var r = first; r < last; r++) {
    let d = x[r * params.channels + c] - mean;
    m2 += d * d;
  }
  partial[2u * i] = mean;
  partial[2u * i + 1u] = m2;
}
