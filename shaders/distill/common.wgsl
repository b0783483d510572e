// Shared by the distillation kernels. The teacher row (OLD channels) gives
// q = softmax(alpha * t); the student row (C channels, `logits`) gives the
// log-probabilities of the OLD classes: UNBIASED = 1 is MiB's unbiased KD
// (channel 0 merges background and the new classes, over lse of all
// channels), UNBIASED = 0 is MiB's KD for LwF (log-softmax over the first
// OLD channels only).
struct Teacher { m: f32, l: f32 }

fn teacher_shift(tbase: u32) -> Teacher {
  let o = params.old_classes;
  var m = -3.4e38;
  for (var k = 0u; k < o; k++) { m = max(m, params.alpha * teacher[tbase + k]); }
  var s = 0.0;
  for (var k = 0u; k < o; k++) { s += exp(params.alpha * teacher[tbase + k] - m); }
  return Teacher(m, log(s));
}

fn teacher_q(tbase: u32, k: u32, sh: Teacher) -> f32 {
  return exp(params.alpha * teacher[tbase + k] - sh.m - sh.l);
}

fn mask_of(p: u32) -> f32 {
  if (HAS_MASK == 0u) { return 1.0; }
  return mask[p];
}

// log-sum-exp of the student over all channels (unbiased) or the old ones.
fn student_den(base: u32) -> f32 {
  if (UNBIASED == 1u) { return logits_lse_range(base, 0u, params.channels, false); }
  return logits_lse_range(base, 0u, params.old_classes, false);
}
