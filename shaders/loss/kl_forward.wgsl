// Per-pixel KL(p || q) over channels, one pixel per invocation. Writes rows
// [P, 2] = (w * KL, w) with w the pixel's mask weight, so the column sums give
// the masked sum and the mean's denominator.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  let w = row_weight(p);
  var kl = 0.0;
  // A masked-out pixel contributes exactly 0, whatever its inputs hold.
  if (w != 0.0) { kl = w * pixel_kl(base, c, teacher_shift(base, c), student_shift(base, c)); }
  rows[2u * p] = kl;
  rows[2u * p + 1u] = w;
}
