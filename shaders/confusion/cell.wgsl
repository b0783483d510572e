const IGNORED: u32 = 0xffffffffu;

// Where pixel p counts in the flattened [K, K] matrix (row = label,
// column = prediction): K * K for a bad pixel (a label or prediction outside
// [0, K) other than the ignore label), IGNORED for label 255. The argmax is
// skipped for ignored and bad labels.
fn cellOf(p: u32) -> u32 {
  let label = labels[p];
  if (label == 255) { return IGNORED; }
  let k = params.classes;
  if (label < 0 || u32(label) >= k) { return k * k; }
  let pred = predictionOf(p);
  if (pred >= k) { return k * k; }
  return u32(label) * k + pred;
}
