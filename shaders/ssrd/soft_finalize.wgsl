// One workgroup. From the class sums [K, 2K] (teacher then student) and the
// class counts [K]: R'_c and R_c are the sums over n_c; the soft term is
// Tsoft^2 / |present| * sum_c KL(R'_c || R_c) over classes with n_c > 0, and
// coef[c, j] = dL/dq_ij for a pixel i of class c (before the upstream
// gradient): -Tsoft^2 / |present| * R'_cj / R_cj / n_c.
var<workgroup> partial: array<f32, WG_X>;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  let k = params.classes;
  var present = 0.0;
  for (var c = 0u; c < k; c++) { present += select(0.0, 1.0, counts[c] > 0u); }
  let factor = params.t2 / max(present, 1.0);
  var acc = 0.0;
  for (var c = lid.x; c < k; c += WG_X) {
    let n = f32(counts[c]);
    for (var j = 0u; j < k; j++) {
      if (n == 0.0) { coef[c * k + j] = 0.0; continue; }
      let r_old = sums[c * 2u * k + j] / n;
      // A student relation that underflowed would make the log infinite.
      let r_new = max(sums[c * 2u * k + k + j] / n, 1e-30);
      if (r_old > 0.0) { acc += r_old * (log(r_old) - log(r_new)); }
      coef[c * k + j] = -factor * r_old / r_new / n;
    }
  }
  partial[lid.x] = acc;
  workgroupBarrier();
  for (var stride = WG_X / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) { partial[lid.x] += partial[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { soft[0] = factor * partial[0]; }
}
