// FISS's class relation term (docs/gsc.md §3), per-pixel helpers.
// logits_first_argmax(base, c): the first channel holding the row's maximum.
fn logits_first_argmax(base: u32, c: u32) -> u32 {
  var best = 0u;
  for (var k = 1u; k < c; k++) { if (logits[base + k] > logits[base + best]) { best = k; } }
  return best;
}
