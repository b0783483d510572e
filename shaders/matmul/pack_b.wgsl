// Packs B for the vec4 matmul into panels of 64 columns: dst[b][p][k][j] =
// B[k, 64 p + j] (zero past N), read from B stored [K, N] (TRANS_B = 0) or
// [N, K] (TRANS_B = 1). One quad of a panel row per invocation. A panel is
// then one sequential stream for the kernel's lanes: read in place, each row
// of a panel is a separate page once N reaches 1024, which defeats the
// hardware prefetchers and (at power-of-two N) maps a panel's rows to the
// same few cache sets.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linear_index(gid, groups);
  let K = params.k;
  let N = params.n;
  let panels = (N + 63u) / 64u;
  let perBatch = panels * K * 16u;
  if (id >= perBatch * params.batch) { return; }
  let b = id / perBatch;
  let t = id % perBatch;
  let q = t % 16u;
  let k = (t / 16u) % K;
  let p = t / (16u * K);
  let col = p * 64u + q * 4u;
  var v = vec4<f32>(0.0);
  let base = b * params.stride_b;
  for (var i = 0u; i < 4u; i++) {
    if (col + i < N) {
      if (TRANS_B == 1u) { v[i] = src[base + (col + i) * K + k]; } else { v[i] = src[base + k * N + col + i]; }
    }
  }
  dst[(b * params.panels_stride) / 4u + t] = v;
}
