// The entry point shared by the cross-entropy forward kernels (plain and
// unbiased), one pixel per invocation: a label in [0, C) is valid and scores
// the kernel's own ce_row_loss (times the pixel's weight); 255 is ignored;
// any other label is ignored too and, where the rows have a third column
// (ROW_WIDTH 3), flagged bad. Rows [P, ROW_WIDTH] = (w * loss, valid[, bad]),
// so the column sums give the loss sum, the valid count (and the bad count).
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
    loss = ce_row_loss(p * c, c, u32(label));
    if (HAS_WEIGHT == 1u) { loss = loss * weights[p]; }
    valid = 1.0;
  } else if (label != 255i) {
    bad = 1.0;
  }
  rows[ROW_WIDTH * p] = loss;
  rows[ROW_WIDTH * p + 1u] = valid;
  if (ROW_WIDTH == 3u) { rows[ROW_WIDTH * p + 2u] = bad; }
}
