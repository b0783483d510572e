// Segmented-sum inputs of the relation term's teacher side: segment = the
// pixel's target (pseudo label or current class; 255 and out-of-range
// targets are skipped), value 0 = the teacher's largest softmax probability
// (FISS's `old_cls_aver`), value 1 = the pixel's SGC weight (the class's mean
// weight, FISS's `efficient_dis_old_class_weight`).
fn segment_of(p: u32) -> i32 {
  let y = targets[p];
  return select(-1i, y, y >= 0i && u32(y) < params.channels);
}

fn segment_value(p: u32, j: u32) -> f32 {
  if (j == 1u) { return weights[p]; }
  let base = p * params.old_classes;
  let m = old_logits_max(base, params.old_classes);
  return 1.0 / old_logits_sum_exp(base, params.old_classes, m, 1.0);
}
