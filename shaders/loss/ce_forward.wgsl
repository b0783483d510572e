// Per-pixel cross-entropy of logits [P, C] against labels [P], one pixel per
// invocation. Writes rows [P, 3] = (w * CE, valid, bad): a label in [0, C) is
// valid; 255 is ignored; any other label is ignored too and flagged bad, so
// the column sums give the loss sum, the valid count and the bad-label count.
const IGNORE: i32 = 255i;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let label = labels[p];
  var loss = 0.0;
  var valid = 0.0;
  var bad = 0.0;
  if (label >= 0i && u32(label) < c) {
    let base = p * c;
    let m = logits_max(base, c);
    let s = logits_sum_exp(base, c, m, 1.0);
    // -log softmax at the label = log(sum exp(z - m)) - (z_y - m).
    loss = log(s) - (logits[base + u32(label)] - m);
    if (HAS_WEIGHT == 1u) { loss = loss * weights[p]; }
    valid = 1.0;
  } else if (label != IGNORE) {
    bad = 1.0;
  }
  rows[3u * p] = loss;
  rows[3u * p + 1u] = valid;
  rows[3u * p + 2u] = bad;
}
