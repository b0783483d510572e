// SSRD helpers over `logits` (student, [P, channels]), `old_logits` (teacher,
// [P, old_classes]) and `targets` (255 = ignore).
//
// soft_target(p, c): FISS's soft label before its softmax: sigmoid(z'_c) on
// the old classes, and on the current channels the one-hot of the pixel's
// target when it is one of them (zeros otherwise).
fn soft_target(p: u32, c: u32) -> f32 {
  if (c < params.old_classes) {
    return 1.0 / (1.0 + exp(-load_old_logits(p * params.old_classes + c)));
  }
  return select(0.0, 1.0, targets[p] == i32(c));
}

// The pixel takes part in the soft-label term: its target is a class, not 255.
fn soft_pixel(p: u32) -> bool {
  let y = targets[p];
  return y >= 0i && u32(y) < params.channels;
}

// Maximum and sum of exp(x - max) of the soft target row (its softmax's normaliser).
fn soft_target_norm(p: u32) -> vec2<f32> {
  var m = soft_target(p, 0u);
  for (var c = 1u; c < params.channels; c++) { m = max(m, soft_target(p, c)); }
  var s = 0.0;
  for (var c = 0u; c < params.channels; c++) { s += exp(soft_target(p, c) - m); }
  return vec2<f32>(m, s);
}
