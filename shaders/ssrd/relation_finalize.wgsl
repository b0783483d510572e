// The relation term from the class statistics, one invocation: per class c,
// m_new = student sum / count (0 without pixels), m_old and the mean weight
// wbar likewise from the teacher side; the term is FISS's L1 mean over the C
// classes, (1/C) sum_c |wbar_c (m_new_c - m_old_c)|. coef[c] = sign(wbar_c
// (m_new_c - m_old_c)) wbar_c / (C n_new_c) (0 without student pixels) is
// what the backward multiplies into d m_new_c / d z.
@compute @workgroup_size(1, 1, 1)
fn main() {
  let c_all = params.channels;
  var total = 0.0;
  for (var c = 0u; c < c_all; c++) {
    let n_new = new_counts[c];
    let n_old = old_counts[c];
    let m_new = select(0.0, new_sums[c] / f32(n_new), n_new > 0u);
    let m_old = select(0.0, old_sums[2u * c] / f32(n_old), n_old > 0u);
    let w_bar = select(0.0, old_sums[2u * c + 1u] / f32(n_old), n_old > 0u);
    let d = w_bar * (m_new - m_old);
    total += abs(d);
    coef[c] = select(0.0, sign(d) * w_bar / (f32(c_all) * f32(n_new)), n_new > 0u);
  }
  value[0] = total / f32(c_all);
}
