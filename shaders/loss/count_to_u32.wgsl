// out[0] = u32(totals[params.index]): an exact count (an integer-valued f32
// sum below 2^24) handed back as an integer tensor.
@compute @workgroup_size(1, 1, 1)
fn main() {
  out[0] = u32(round(totals[params.index]));
}
