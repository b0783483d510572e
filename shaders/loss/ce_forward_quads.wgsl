// ce_forward.wgsl's row loss over channel quads (entry point:
// ce_forward_pixel.wgsl, whose `base` is p * C): the same values bit for bit.
const ROW_WIDTH: u32 = 3u;

fn ce_row_loss(base: u32, c: u32, label: u32) -> f32 {
  let b4 = base / 4u;
  let m = logits_max4(b4, c / 4u);
  let s = logits_sum_exp4(b4, c / 4u, m);
  return log(s) - (load_logits(b4 + label / 4u)[label % 4u] - m);
}
