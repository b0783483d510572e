// A pixel's logits row of C channels (C % 4 == 0) read a quad at a time
// through load_logits (vec4), for the cross-entropy's quad kernels: the
// maximum and the sum of exp(z_k - m) over k in channel order, each
// component in turn, so every value is bit for bit that of row_lse.wgsl's
// logits_max and logits_sum_exp (whose inv_t = 1 multiplies exactly).
fn logits_max4(b4: u32, quads: u32) -> f32 {
  var m = load_logits(b4).x;
  for (var q = 0u; q < quads; q++) {
    let v = load_logits(b4 + q);
    if (q > 0u) { m = max(m, v.x); }
    m = max(m, v.y);
    m = max(m, v.z);
    m = max(m, v.w);
  }
  return m;
}

fn logits_sum_exp4(b4: u32, quads: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var q = 0u; q < quads; q++) {
    let v = load_logits(b4 + q);
    s += exp(v.x - m);
    s += exp(v.y - m);
    s += exp(v.z - m);
    s += exp(v.w - m);
  }
  return s;
}
