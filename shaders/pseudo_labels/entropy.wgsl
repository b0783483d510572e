// PLOP's normalised entropy of the old model at pixel p (OLD channels in
// `old_logits`): -inv_norm * sum_k p_k log(p_k + 1e-8), where the host folds
// PLOP's 1 / (log(OLD + 1e-8) * OLD) (the mean in its entropy()) and
// 1 / log(seen classes) (its max_value) into inv_norm. Also the argmax
// (the first maximum).
struct Certainty { entropy: f32, argmax: u32 }

fn certainty(p: u32) -> Certainty {
  let o = params.old_classes;
  let base = p * o;
  var m = old_logits[base];
  var arg = 0u;
  for (var k = 1u; k < o; k++) {
    let v = old_logits[base + k];
    if (v > m) { m = v; arg = k; }
  }
  let s = old_logits_sum_exp(base, o, m, 1.0);
  var acc = 0.0;
  for (var k = 0u; k < o; k++) {
    let q = exp(old_logits[base + k] - m) / s;
    acc += q * log(q + 1e-8);
  }
  return Certainty(-params.inv_norm * acc, arg);
}
