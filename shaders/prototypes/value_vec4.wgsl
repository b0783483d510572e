// Values 4q .. 4q + 3 of pixel p (sum.wgsl with units_vec4.wgsl; `features` bound as vec4).
fn segment_value4(p: u32, q: u32) -> vec4<f32> {
  return features[p * (params.values / 4u) + q];
}
