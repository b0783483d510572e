// MiB's unbiased cross-entropy, one pixel per invocation. A label below
// OLD (every old class is background for the new step) scores the merged
// probability lse(z_0..z_{OLD-1}) - lse(z); a new label y scores z_y - lse(z);
// 255 and labels outside [0, C) are ignored. Rows [P, 2] = (w * loss, valid).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let label = labels[p];
  var loss = 0.0;
  var valid = 0.0;
  if (label >= 0i && u32(label) < c) {
    let base = p * c;
    let den = logits_lse_range(base, 0u, c, false);
    var num = 0.0;
    if (u32(label) < params.old_classes) {
      num = logits_lse_range(base, 0u, params.old_classes, false);
    } else {
      num = logits[base + u32(label)];
    }
    loss = den - num;
    if (HAS_WEIGHT == 1u) { loss = loss * weights[p]; }
    valid = 1.0;
  }
  rows[2u * p] = loss;
  rows[2u * p + 1u] = valid;
}
