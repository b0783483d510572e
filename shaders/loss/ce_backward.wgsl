// Gradient of the cross-entropy with respect to the logits, one pixel per
// invocation: dz = u * w * (softmax(z) - onehot(y)) on valid pixels, 0 on
// ignored and bad ones; u w is the pixel's scale (ce_pixel.wgsl).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  if (!ce_label_valid(p, base, c)) { return; }
  let label = labels[p];
  let u = ce_pixel_scale(p);
  let m = logits_max(base, c);
  let s = logits_sum_exp(base, c, m, 1.0);
  let inv = 1.0 / s;
  for (var k = 0u; k < c; k++) {
    let q = exp(logits[base + k] - m) * inv;
    dz[base + k] = u * (q - select(0.0, 1.0, k == u32(label)));
  }
}
