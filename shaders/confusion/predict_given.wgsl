// The prediction of pixel p, computed by the caller. A negative value
// converts to a huge u32, so cellOf counts it as bad like any value >= K.
fn predictionOf(p: u32) -> u32 {
  return u32(predictions[p]);
}
