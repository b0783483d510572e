// FISS's class relation term (docs/gsc.md §3), per-pixel helpers.
// first_argmax(base, c): the first channel holding the row's maximum.
// max_prob: the largest softmax probability of a row, 1 / sum_k exp(x_k - max).
fn logits_first_argmax(base: u32, c: u32) -> u32 {
  var best = 0u;
  for (var k = 1u; k < c; k++) { if (logits[base + k] > logits[base + best]) { best = k; } }
  return best;
}
