// Segmented-sum inputs of the relation term's student side: segment = the
// class the student predicts (its first argmax), value = its largest softmax
// probability; every pixel counts (FISS's `new_cls_aver`).
fn segment_of(p: u32) -> i32 {
  return i32(logits_first_argmax(p * params.channels, params.channels));
}

fn segment_value(p: u32, j: u32) -> f32 {
  let base = p * params.channels;
  return 1.0 / logits_sum_exp(base, params.channels, logits_max(base, params.channels), 1.0);
}
