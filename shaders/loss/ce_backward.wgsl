// Gradient of the cross-entropy with respect to the logits, one pixel per
// invocation: dz = u * w * (softmax(z) - onehot(y)) on valid pixels, 0 on
// ignored and bad ones; u is the upstream gradient of the pixel (upstream.wgsl).
// The weight w only scales the gradient: it is a constant of the loss.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  let label = labels[p];
  if (!(label >= 0i && u32(label) < c)) {
    for (var k = 0u; k < c; k++) { dz[base + k] = 0.0; }
    return;
  }
  var u = upstream(p);
  if (HAS_WEIGHT == 1u) { u = u * weights[p]; }
  let m = logits_max(base, c);
  let s = logits_sum_exp(base, c, m, 1.0);
  let inv = 1.0 / s;
  for (var k = 0u; k < c; k++) {
    let q = exp(logits[base + k] - m) * inv;
    dz[base + k] = u * (q - select(0.0, 1.0, k == u32(label)));
  }
}
