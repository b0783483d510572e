// SSRD helpers over `logits` (student, [P, channels]), `old_logits` (teacher,
// [P, old_classes]) and `targets`. The unbiased student at temperature T is the
// tempered softmax of z / T with {0} and the new classes [new_start, channels)
// merged into class 0: its logits are u_0 = logsumexp over that group of z / T
// and u_j = z_j / T for the other old classes.
fn background_logit(p: u32, inv_t: f32) -> f32 {
  let base = p * params.channels;
  var m = logits[base] * inv_t;
  for (var c = params.new_start; c < params.channels; c++) { m = max(m, logits[base + c] * inv_t); }
  var s = exp(logits[base] * inv_t - m);
  for (var c = params.new_start; c < params.channels; c++) { s += exp(logits[base + c] * inv_t - m); }
  return m + log(s);
}

fn unbiased_logit(p: u32, j: u32, inv_t: f32, background: f32) -> f32 {
  return select(logits[p * params.channels + j] * inv_t, background, j == 0u);
}

fn unbiased_lse(p: u32, inv_t: f32, background: f32) -> f32 {
  var m = background;
  for (var j = 1u; j < params.old_classes; j++) { m = max(m, unbiased_logit(p, j, inv_t, background)); }
  var s = 0.0;
  for (var j = 0u; j < params.old_classes; j++) { s += exp(unbiased_logit(p, j, inv_t, background) - m); }
  return m + log(s);
}

fn teacher_lse(p: u32, inv_t: f32) -> f32 {
  let base = p * params.old_classes;
  var m = old_logits[base] * inv_t;
  for (var j = 1u; j < params.old_classes; j++) { m = max(m, old_logits[base + j] * inv_t); }
  var s = 0.0;
  for (var j = 0u; j < params.old_classes; j++) { s += exp(old_logits[base + j] * inv_t - m); }
  return m + log(s);
}

// The pixel's old target class, or -1 (current class, ignore, out of range).
fn old_target(p: u32) -> i32 {
  let y = targets[p];
  return select(-1i, y, y >= 0i && u32(y) < params.old_classes);
}
