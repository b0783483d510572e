// The prediction of pixel p: the argmax of its C scores, the first index on
// ties (PyTorch's CPU argmax), so GPU and reference agree on exact ties.
fn predictionOf(p: u32) -> u32 {
  let base = p * params.channels;
  var best = logits[base];
  var pred = 0u;
  for (var c = 1u; c < params.channels; c++) {
    let v = logits[base + c];
    if (v > best) { best = v; pred = c; }
  }
  return pred;
}
