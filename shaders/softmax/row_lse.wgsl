// The stable log-sum-exp of one row of a buffer, shared by every softmax-like
// kernel: ROW is replaced by the buffer's name (`rowLseWgsl` in
// src/ops/softmax.ts), giving ROW_max, ROW_sum_exp and ROW_lse_range.
// lse = m + log(sum_k exp((x_k - m) * inv_t)) with m the row's maximum; the
// kernels combine m and the sum themselves, each in its own order.

// Maximum of ROW[base .. base + c), c >= 1.
fn ROW_max(base: u32, c: u32) -> f32 {
  var m = ROW[base];
  for (var k = 1u; k < c; k++) { m = max(m, ROW[base + k]); }
  return m;
}

// Sum of exp((ROW[base + k] - m) * inv_t) over k in [0, c).
fn ROW_sum_exp(base: u32, c: u32, m: f32, inv_t: f32) -> f32 {
  var s = 0.0;
  for (var k = 0u; k < c; k++) { s += exp((ROW[base + k] - m) * inv_t); }
  return s;
}

// Log-sum-exp over the channel range [first, last) of the row at `base`,
// optionally with channel 0 added (MiB's merges).
fn ROW_lse_range(base: u32, first: u32, last: u32, with_zero: bool) -> f32 {
  var m = -3.4e38;
  if (with_zero) { m = ROW[base]; }
  for (var k = first; k < last; k++) { m = max(m, ROW[base + k]); }
  var s = 0.0;
  if (with_zero) { s = exp(ROW[base] - m); }
  for (var k = first; k < last; k++) { s += exp(ROW[base + k] - m); }
  return m + log(s);
}
