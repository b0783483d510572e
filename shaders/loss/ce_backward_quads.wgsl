// ce_backward.wgsl's row gradient over channel quads (entry point:
// ce_pixel.wgsl, whose `base` is p * C): dz = u * w * (softmax(z) -
// onehot(y)), the same values bit for bit, written one channel at a time.
fn ce_row_gradient(base: u32, c: u32, label: u32, u: f32) {
  let b4 = base / 4u;
  let m = logits_max4(b4, c / 4u);
  let s = logits_sum_exp4(b4, c / 4u, m);
  let inv = 1.0 / s;
  for (var q = 0u; q < c / 4u; q++) {
    let v = load_logits(b4 + q);
    for (var j = 0u; j < 4u; j++) {
      let k = 4u * q + j;
      let p = exp(v[j] - m) * inv;
      dz[base + k] = u * (p - select(0.0, 1.0, k == label));
    }
  }
}
