// C[b] = op(A[b]) * op(B[b]) (+ C[b] when accumulate = 1), for logical A [M, K]
// and B [K, N]; op transposes when TRANS_A / TRANS_B is 1 (A stored [K, M],
// B stored [N, K]); `lda` / `ldb` are the stored row lengths (M or K, K or
// N; 64 for B packed into panels by pack_b.wgsl). Each invocation computes an
// 8 x 4 COL_QUADS block of C in registers from vec4 loads, four k at a time
// (COL_QUADS = 4: 24 loads for 128 vec4 FMAs, against 16 for 64 at 2).
// ROW_BLOCKS = 2 or 4 stacks that many 8-row blocks, each with its own
// accumulators, on B's loads: 32 x 16 outputs from 48 loads for 512 vec4 FMAs
// at 4 (llvmpipe: its gathers, not its FMAs, decide the speed). Arrays of 32,
// not one of 64 or more: a larger array is not kept in registers and runs 10x
// slower there. Every output sums over k in the same order whatever
// ROW_BLOCKS is.
// Requires K % 4 == 0, the stored row length of each operand a multiple of 4,
// and batch strides multiples of 4 (B packed: any); the host falls back to
// matmul.wgsl otherwise. Edge blocks read clamped
// (in-bounds) data and store only the valid part, through storeQuad: vec4
// stores when N % 4 == 0 (matmul_store_vec4.wgsl), scalar ones otherwise
// (matmul_store_scalar.wgsl). Scalar stores cost as much as vec4 ones on
// llvmpipe, so with small K they decide the speed.
//
// A and B are read through load_a / load_b: from their buffers, or (CPU
// adapters) from texture copies that llvmpipe fetches with vector gathers.
//
// A workgroup is 64 invocations in a line (llvmpipe spreads its SIMD lanes
// along x only) covering WG_COLS x (64 / WG_COLS) blocks, so narrow C (a
// classifier's 16 or 21 columns) still fills (nearly) every lane.
@compute @workgroup_size(64, 1, 1)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  // COLUMN_ORDER = 1: the n-th workgroup llvmpipe runs (x fastest) takes the
  // n-th block down the columns of blocks instead, so consecutive workgroups
  // share B's columns (cached) and walk A. Each block's sums are unchanged.
  var wid = wg;
  if (COLUMN_ORDER == 1u) {
    let n = wg.y * nwg.x + wg.x;
    wid = vec3<u32>(n / nwg.y, n % nwg.y, wg.z);
  }
  // WG_COLS need not divide 64: the invocations past the last whole row idle.
  if (li >= WG_COLS * (64u / WG_COLS)) { return; }
  let gid = vec3<u32>(
    wid.x * WG_COLS + li % WG_COLS,
    wid.y * (64u / WG_COLS) + li / WG_COLS,
    wid.z,
  );
  let M = params.m;
  let N = params.n;
  let row0 = gid.y * 8u * ROW_BLOCKS;
  let col0 = gid.x * 4u * COL_QUADS;
  if (row0 >= M || col0 >= N) { return; }
  let aBase = gid.z * params.stride_a;
  let bBase = gid.z * params.stride_b;
  let cBase = gid.z * params.stride_c;
  // acc: rows row0 .. + 7; acc2, acc3, acc4: the next 8-row blocks (ROW_BLOCKS 2, 4).
  var acc: array<vec4<f32>, 32>;
  var acc2: array<vec4<f32>, 32>;
  var acc3: array<vec4<f32>, 32>;
  var acc4: array<vec4<f32>, 32>;
  for (var i = 0u; i < 8u * COL_QUADS; i++) {
    acc[i] = vec4<f32>(0.0);
    acc2[i] = vec4<f32>(0.0);
    acc3[i] = vec4<f32>(0.0);
    acc4[i] = vec4<f32>(0.0);
  }
  let lastCol = N - 1u;
  let ldb = params.ldb;
  // TRANS_B = 0: B's 64-column panel p starts at p * b_panel (64 in place, K *
  // 64 when packed by pack_b.wgsl with ldb = 64); cq[h] are quad offsets in
  // it. Clamped quads never leave the panel (col0 % 64 <= 64 - 4 COL_QUADS;
  // b_cols is N, a multiple of 4, in place, and the padded width when packed);
  // they are not stored.
  let panel = col0 / 64u;
  let panelBase = bBase + panel * params.b_panel;
  var cq: array<u32, 4>;
  for (var h = 0u; h < COL_QUADS; h++) {
    cq[h] = min(col0 + 4u * h, params.b_cols - 4u) - panel * 64u;
  }
  for (var k = 0u; k < params.k; k += 4u) {
    // bv[COL_QUADS * kk + h] = B[k + kk, col0 + 4h .. col0 + 4h + 3]
    var bv: array<vec4<f32>, 16>;
    if (TRANS_B == 0u) {
      for (var kk = 0u; kk < 4u; kk++) {
        for (var h = 0u; h < COL_QUADS; h++) {
          bv[COL_QUADS * kk + h] = load_b((panelBase + (k + kk) * ldb + cq[h]) / 4u);
        }
      }
    } else {
      var cols: array<vec4<f32>, 16>;
      for (var c = 0u; c < 4u * COL_QUADS; c++) {
        cols[c] = load_b((bBase + min(col0 + c, lastCol) * ldb + k) / 4u);
      }
      for (var kk = 0u; kk < 4u; kk++) {
        for (var h = 0u; h < COL_QUADS; h++) {
          bv[COL_QUADS * kk + h] = vec4<f32>(
            cols[4u * h][kk],
            cols[4u * h + 1u][kk],
            cols[4u * h + 2u][kk],
            cols[4u * h + 3u][kk],
          );
        }
      }
    }
    multiplyBlock(&acc, rowsOfA(aBase, k, row0), &bv);
    if (ROW_BLOCKS >= 2u) { multiplyBlock(&acc2, rowsOfA(aBase, k, row0 + 8u), &bv); }
    if (ROW_BLOCKS == 4u) {
      multiplyBlock(&acc3, rowsOfA(aBase, k, row0 + 16u), &bv);
      multiplyBlock(&acc4, rowsOfA(aBase, k, row0 + 24u), &bv);
    }
  }
  // Rows and columns are multiples of 4 where loaded as vec4, so a block that
  // starts inside C never needed its loads shifted: clamping only kept the
  // reads of the unused quads in bounds.
  if (!storeBlock(&acc, cBase, row0, col0)) { return; }
  if (ROW_BLOCKS == 1u || !storeBlock(&acc2, cBase, row0 + 8u, col0)) { return; }
  if (ROW_BLOCKS == 2u || !storeBlock(&acc3, cBase, row0 + 16u, col0)) { return; }
  storeBlock(&acc4, cBase, row0 + 24u, col0);
}

// av[r][kk] = A[row0 + r, k + kk] for r < 8 (rows past M re-read the last
// row, or with TRANS_A the last quad; they are not stored).
fn rowsOfA(aBase: u32, k: u32, row0: u32) -> array<vec4<f32>, 8> {
  let M = params.m;
  let lda = params.lda;
  var av: array<vec4<f32>, 8>;
  if (TRANS_A == 0u) {
    for (var r = 0u; r < 8u; r++) {
      av[r] = load_a((aBase + min(row0 + r, M - 1u) * lda + k) / 4u);
    }
    return av;
  }
  // A stored [K, M]: two quads of 4 rows per k, regrouped.
  let colStart = min(row0, M - 4u);
  let colStart2 = min(row0 + 4u, M - 4u);
  for (var kk = 0u; kk < 4u; kk++) {
    let lo = load_a((aBase + (k + kk) * lda + colStart) / 4u);
    let hi = load_a((aBase + (k + kk) * lda + colStart2) / 4u);
    av[0][kk] = lo.x; av[1][kk] = lo.y; av[2][kk] = lo.z; av[3][kk] = lo.w;
    av[4][kk] = hi.x; av[5][kk] = hi.y; av[6][kk] = hi.z; av[7][kk] = hi.w;
  }
  return av;
}

// acc[COL_QUADS r + h] += av[r][kk] * bv[COL_QUADS kk + h], kk = 0 .. 3 in order.
fn multiplyBlock(
  acc: ptr<function, array<vec4<f32>, 32>>,
  av: array<vec4<f32>, 8>,
  bv: ptr<function, array<vec4<f32>, 16>>,
) {
  for (var r = 0u; r < 8u; r++) {
    let ar = av[r];
    for (var kk = 0u; kk < 4u; kk++) {
      for (var h = 0u; h < COL_QUADS; h++) {
        let at = COL_QUADS * r + h;
        (*acc)[at] = fma(vec4<f32>(ar[kk]), (*bv)[COL_QUADS * kk + h], (*acc)[at]);
      }
    }
  }
}

// Stores the 8-row block from row0 (its rows and quads inside C); false when
// C ends inside it (no later block has rows to store).
fn storeBlock(acc: ptr<function, array<vec4<f32>, 32>>, cBase: u32, row0: u32, col0: u32) -> bool {
  let M = params.m;
  let N = params.n;
  for (var r = 0u; r < 8u; r++) {
    let row = row0 + r;
    if (row >= M) { return false; }
    for (var h = 0u; h < COL_QUADS; h++) {
      if (col0 + 4u * h >= N) { break; }
      storeQuad(cBase + row * N, col0 + 4u * h, (*acc)[COL_QUADS * r + h]);
    }
  }
  return true;
}
