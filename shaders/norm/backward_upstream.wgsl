// The gradient reaching batch norm's output at element `at`: dy, or with
// RELU = 1 (the forward ended in ReLU) dy only where its output y > 0.
fn upstream(at: u32) -> f32 {
  if (RELU == 1u) { return select(0.0, dy[at], y[at] > 0.0); }
  return dy[at];
}
