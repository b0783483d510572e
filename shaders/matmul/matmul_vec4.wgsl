// C[b] = op(A[b]) * op(B[b]) (+ C[b] when accumulate = 1), for logical A [M, K]
// and B [K, N]; op transposes when TRANS_A / TRANS_B is 1 (A stored [K, M],
// B stored [N, K]); `lda` / `ldb` are the stored row lengths (M or K, K or
// N; 64 for B packed into panels by pack_b.wgsl). Each invocation computes an
// 8x8 block of C in registers from vec4 loads, four k at a time. Requires K % 4 == 0, the stored row
// length of each operand a multiple of 4, and batch strides multiples of 4;
// the host falls back to matmul.wgsl otherwise. Edge blocks read clamped
// (in-bounds) data and store only the valid part, through storeQuad: vec4
// stores when N % 4 == 0 (matmul_store_vec4.wgsl), scalar ones otherwise
// (matmul_store_scalar.wgsl). Scalar stores cost as much as vec4 ones on
// llvmpipe, so with small K they decide the speed.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = params.m;
  let N = params.n;
  let row0 = gid.y * 8u;
  let col0 = gid.x * 8u;
  if (row0 >= M || col0 >= N) { return; }
  let aBase = gid.z * params.stride_a;
  let bBase = gid.z * params.stride_b;
  let cBase = gid.z * params.stride_c;
  var acc: array<vec4<f32>, 16>;
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }
  let lastRow = M - 1u;
  let lastCol = N - 1u;
  let lda = params.lda;
  let ldb = params.ldb;
  // TRANS_B = 0: B's 64-column panel p starts at p * b_panel (64 in place, K *
  // 64 when packed by pack_b.wgsl with ldb = 64); c1, c2 are offsets in it. The
  // clamped second quad never leaves the panel (col0 % 64 <= 56, N % 4 == 0).
  let panel = col0 / 64u;
  let panelBase = bBase + panel * params.b_panel;
  let c1 = min(col0, N - 4u) - panel * 64u;
  let c2 = min(col0 + 4u, N - 4u) - panel * 64u;
  for (var k = 0u; k < params.k; k += 4u) {
    // av[r][kk] = A[row0 + r, k + kk]
    var av: array<vec4<f32>, 8>;
    if (TRANS_A == 0u) {
      for (var r = 0u; r < 8u; r++) {
        av[r] = a[(aBase + min(row0 + r, lastRow) * lda + k) / 4u];
      }
    } else {
      let colStart = min(row0, M - 4u);
      let colStart2 = min(row0 + 4u, M - 4u);
      for (var kk = 0u; kk < 4u; kk++) {
        let lo = a[(aBase + (k + kk) * lda + colStart) / 4u];
        let hi = a[(aBase + (k + kk) * lda + colStart2) / 4u];
        av[0][kk] = lo.x; av[1][kk] = lo.y; av[2][kk] = lo.z; av[3][kk] = lo.w;
        av[4][kk] = hi.x; av[5][kk] = hi.y; av[6][kk] = hi.z; av[7][kk] = hi.w;
      }
    }
    // bv[2 * kk + h] = B[k + kk, col0 + 4h .. col0 + 4h + 3]
    var bv: array<vec4<f32>, 8>;
    if (TRANS_B == 0u) {
      for (var kk = 0u; kk < 4u; kk++) {
        bv[2u * kk] = b[(panelBase + (k + kk) * ldb + c1) / 4u];
        bv[2u * kk + 1u] = b[(panelBase + (k + kk) * ldb + c2) / 4u];
      }
    } else {
      var cols: array<vec4<f32>, 8>;
      for (var c = 0u; c < 8u; c++) {
        cols[c] = b[(bBase + min(col0 + c, lastCol) * ldb + k) / 4u];
      }
      for (var kk = 0u; kk < 4u; kk++) {
        bv[2u * kk] = vec4<f32>(cols[0][kk], cols[1][kk], cols[2][kk], cols[3][kk]);
        bv[2u * kk + 1u] = vec4<f32>(cols[4][kk], cols[5][kk], cols[6][kk], cols[7][kk]);
      }
    }
    for (var r = 0u; r < 8u; r++) {
      let ar = av[r];
      acc[2u * r] = fma(vec4<f32>(ar.x), bv[0], acc[2u * r]);
      acc[2u * r + 1u] = fma(vec4<f32>(ar.x), bv[1], acc[2u * r + 1u]);
      acc[2u * r] = fma(vec4<f32>(ar.y), bv[2], acc[2u * r]);
      acc[2u * r + 1u] = fma(vec4<f32>(ar.y), bv[3], acc[2u * r + 1u]);
      acc[2u * r] = fma(vec4<f32>(ar.z), bv[4], acc[2u * r]);
      acc[2u * r + 1u] = fma(vec4<f32>(ar.z), bv[5], acc[2u * r + 1u]);
      acc[2u * r] = fma(vec4<f32>(ar.w), bv[6], acc[2u * r]);
      acc[2u * r + 1u] = fma(vec4<f32>(ar.w), bv[7], acc[2u * r + 1u]);
    }
  }
  // Rows and columns are multiples of 4 where loaded as vec4, so a block that
  // starts inside C never needed its loads shifted: clamping only kept the
  // reads of the unused half in bounds.
  for (var r = 0u; r < 8u; r++) {
    let row = row0 + r;
    if (row >= M) { break; }
    storeQuad(cBase + row * N, col0, acc[2u * r]);
    if (col0 + 4u < N) { storeQuad(cBase + row * N, col0 + 4u, acc[2u * r + 1u]); }
  }
}
