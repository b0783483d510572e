// The gradient reaching element i of a per-pixel loss map, by the loss's
// reduction (REDUCTION: 0 none, 1 sum, 2 mean): `grad` is the upstream
// gradient ([P] for none, [1] otherwise) and totals[params.den_index] the
// mean's denominator (a count or a mask sum; 0 selects nothing, gradient 0).
fn upstream(i: u32) -> f32 {
  if (REDUCTION == 0u) { return grad[i]; }
  if (REDUCTION == 1u) { return grad[0]; }
  let den = totals[params.den_index];
  return select(grad[0] / den, 0.0, den == 0.0);
}
