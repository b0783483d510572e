// SGC's per-pixel quantities, shared by the group sums and the weights.
// sgc_group: the old step k = class_step[y] whose group the pixel joins, or -1
// for current-step pixels and for ignored (255) / out-of-range targets.
// gain_power: HFC's compressed gain log(1 + g^zeta) with g = 1 - softmax(z)[y],
// computed as the mass of the other classes so that a confident pixel keeps
// its small g exactly.
fn sgc_group(p: u32) -> i32 {
  let y = targets[p];
  if (y < 0i || u32(y) >= params.channels) { return -1i; }
  let k = class_step[u32(y)];
  return select(-1i, k, k >= 0i && u32(k) < params.step);
}

fn gain_power(p: u32) -> f32 {
  let y = u32(targets[p]);
  let base = p * params.channels;
  let m = logits_max(base, params.channels);
  var total = 0.0;
  var rest = 0.0;
  for (var c = 0u; c < params.channels; c++) {
    let e = exp(logits[base + c] - m);
    total += e;
    if (c != y) { rest += e; }
  }
  let g = rest / total;
  // pow(0, zeta) would go through log2(0); 0 is the limit for zeta > 0.
  return log(1.0 + select(0.0, pow(g, params.scale), g > 0.0));
}
