// Gradient of the unbiased cross-entropy of one valid pixel (entry point:
// ce_pixel.wgsl): dz_k = u w (softmax(z)_k - target_k) with target = the
// softmax over the old channels (0 elsewhere) for a background pixel,
// onehot(y) for a new label.
fn ce_row_gradient(base: u32, c: u32, label: u32, u: f32) {
  let den = logits_lse_range(base, 0u, c, false);
  let background = label < params.old_classes;
  let lse_old = logits_lse_range(base, 0u, params.old_classes, false);
  for (var k = 0u; k < c; k++) {
    var goal = select(0.0, 1.0, k == label);
    if (background) { goal = select(0.0, exp(load_logits(base + k) - lse_old), k < params.old_classes); }
    dz[base + k] = u * (exp(load_logits(base + k) - den) - goal);
  }
}
