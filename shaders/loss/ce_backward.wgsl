// Gradient of the cross-entropy with respect to the logits of one valid pixel
// (entry point: ce_pixel.wgsl): dz = u * w * (softmax(z) - onehot(y)).
fn ce_row_gradient(base: u32, c: u32, label: u32, u: f32) {
  let m = logits_max(base, c);
  let s = logits_sum_exp(base, c, m, 1.0);
  let inv = 1.0 / s;
  for (var k = 0u; k < c; k++) {
    let q = exp(load_logits(base + k) - m) * inv;
    dz[base + k] = u * (q - select(0.0, 1.0, k == label));
  }
}
