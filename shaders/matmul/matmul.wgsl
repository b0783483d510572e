// The general matmul: any shapes, strides and transposes, scalar loads with
// bounds handling. C[b] = op(A[b]) * op(B[b]) (+ C[b] when accumulate = 1);
// each invocation computes a 4x4 block of C.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = params.m;
  let N = params.n;
  let K = params.k;
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= M || col0 >= N) { return; }
  let aBase = gid.z * params.stride_a;
  let bBase = gid.z * params.stride_b;
  let cBase = gid.z * params.stride_c;
  var acc: array<vec4<f32>, 4>;
  for (var i = 0u; i < 4u; i++) { acc[i] = vec4<f32>(0.0); }
  var rows: vec4<u32>;
  var cols: vec4<u32>;
  for (var i = 0u; i < 4u; i++) {
    rows[i] = min(row0 + i, M - 1u);
    cols[i] = min(col0 + i, N - 1u);
  }
  for (var k = 0u; k < K; k++) {
    var av: vec4<f32>;
    var bv: vec4<f32>;
    for (var i = 0u; i < 4u; i++) {
      if (TRANS_A == 0u) { av[i] = a[aBase + rows[i] * K + k]; } else { av[i] = a[aBase + k * M + rows[i]]; }
      if (TRANS_B == 0u) { bv[i] = b[bBase + k * N + cols[i]]; } else { bv[i] = b[bBase + cols[i] * K + k]; }
    }
    for (var r = 0u; r < 4u; r++) { acc[r] = fma(vec4<f32>(av[r]), bv, acc[r]); }
  }
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row >= M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let col = col0 + c;
      if (col >= N) { break; }
      let at = cBase + row * N + col;
      let v = acc[r][c];
      c_out[at] = select(v, v + c_out[at], params.accumulate == 1u);
    }
  }
}
