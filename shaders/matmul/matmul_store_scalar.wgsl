// storeQuad for any N (c_out bound as f32): C[rowStart + col + i] = v[i] for
// the columns inside C, or + v[i] when accumulate = 1 (C is only read then).
fn storeQuad(rowStart: u32, col: u32, v: vec4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (col + i >= params.n) { break; }
    let at = rowStart + col + i;
    var out = v[i];
    if (params.accumulate == 1u) { out = c_out[at] + v[i]; }
    c_out[at] = out;
  }
}
