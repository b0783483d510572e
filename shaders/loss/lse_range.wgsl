// Log-sum-exp over channel ranges of one pixel's logits row (`logits`):
// channels [first, last), optionally with channel 0 added (MiB's merges).
fn lse_range(base: u32, first: u32, last: u32, with_zero: bool) -> f32 {
  var m = -3.4e38;
  if (with_zero) { m = logits[base]; }
  for (var k = first; k < last; k++) { m = max(m, logits[base + k]); }
  var s = 0.0;
  if (with_zero) { s = exp(logits[base] - m); }
  for (var k = first; k < last; k++) { s += exp(logits[base + k] - m); }
  return m + log(s);
}
