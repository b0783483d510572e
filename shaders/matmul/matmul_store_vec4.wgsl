// storeQuad for C rows of a multiple of 4 (c_out bound as vec4): C[rowStart +
// col .. + 3] = v, or + v when accumulate = 1 (C is only read then).
fn storeQuad(rowStart: u32, col: u32, v: vec4<f32>) {
  let at = (rowStart + col) / 4u;
  var out = v;
  if (params.accumulate == 1u) { out = c_out[at] + v; }
  c_out[at] = out;
}
