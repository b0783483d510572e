// Per-pixel cross-entropy of logits [P, C] against labels [P] (entry point:
// ce_forward_pixel.wgsl), rows (w * CE, valid, bad).
const ROW_WIDTH: u32 = 3u;

// -log softmax at the label = log(sum exp(z - m)) - (z_y - m).
fn ce_row_loss(base: u32, c: u32, label: u32) -> f32 {
  let m = logits_max(base, c);
  let s = logits_sum_exp(base, c, m, 1.0);
  return log(s) - (load_logits(base + label) - m);
}
