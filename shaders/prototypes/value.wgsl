// Segmented-sum inputs for prototypes: the segment is the pixel's target class
// (255 and out-of-range targets are skipped), the values its L2-normalised
// feature vector.
fn segment_of(p: u32) -> i32 {
  let y = targets[p];
  return select(-1i, y, y >= 0i && u32(y) < SEGMENTS);
}

fn segment_value(p: u32, j: u32) -> f32 {
  return features[p * params.values + j];
}
