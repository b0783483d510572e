// MiB's unbiased cross-entropy of one pixel (entry point:
// ce_forward_pixel.wgsl), rows (w * loss, valid). A label below OLD (every
// old class is background for the new step) scores the merged probability
// lse(z_0..z_{OLD-1}) - lse(z); a new label y scores z_y - lse(z).
const ROW_WIDTH: u32 = 2u;

fn ce_row_loss(base: u32, c: u32, label: u32) -> f32 {
  let den = logits_lse_range(base, 0u, c, false);
  var num = 0.0;
  if (label < params.old_classes) {
    num = logits_lse_range(base, 0u, params.old_classes, false);
  } else {
    num = load_logits(base + label);
  }
  return den - num;
}
