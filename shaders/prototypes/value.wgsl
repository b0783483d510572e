// Value j of pixel p (sum.wgsl; `features` bound as f32).
fn segment_value(p: u32, j: u32) -> f32 {
  return features[p * params.values + j];
}
