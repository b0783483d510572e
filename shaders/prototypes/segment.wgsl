// Segmented-sum inputs for prototypes: the segment is the pixel's target class
// (255 and out-of-range targets are skipped); the values (value.wgsl,
// value_vec4.wgsl) are its L2-normalised feature vector.
fn segment_of(p: u32) -> i32 {
  let y = targets[p];
  return select(-1i, y, y >= 0i && u32(y) < SEGMENTS);
}
