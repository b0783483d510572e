// Gradient of the unbiased cross-entropy, one pixel per invocation:
// dz_k = u w (softmax(z)_k - target_k) with target = the softmax over the old
// channels (0 elsewhere) for a background pixel, onehot(y) for a new label;
// u w is the pixel's scale and invalid labels get zeros (ce_pixel.wgsl).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  if (!ce_label_valid(p, base, c)) { return; }
  let label = labels[p];
  let u = ce_pixel_scale(p);
  let den = logits_lse_range(base, 0u, c, false);
  let background = u32(label) < params.old_classes;
  let lse_old = logits_lse_range(base, 0u, params.old_classes, false);
  for (var k = 0u; k < c; k++) {
    var goal = select(0.0, 1.0, k == u32(label));
    if (background) { goal = select(0.0, exp(logits[base + k] - lse_old), k < params.old_classes); }
    dz[base + k] = u * (exp(logits[base + k] - den) - goal);
  }
}
