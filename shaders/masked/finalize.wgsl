// out[k] = totals[k] (MEAN == 0) or totals[k] / totals[den_index] (MEAN == 1)
// for k < count. A zero denominator (nothing selected) gives 0, not NaN.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let k = linear_index(gid, groups);
  if (k >= params.count) { return; }
  var r = totals[k];
  if (MEAN == 1u) {
    let den = totals[params.den_index];
    r = select(r / den, 0.0, den == 0.0);
  }
  out[k] = r;
}
