// Teacher and student log-probabilities of one pixel for the KL kernels.
// TEACHER: 0 probabilities, 1 logits (softmax(t / T)); STUDENT: 0 logits
// (log-softmax(s / T)), 1 log-probabilities. A row's shift is its maximum and
// the log of its sum of exp((x - max) / T), so lp = (x - max) / T - log-sum.
struct Shift { m: f32, l: f32 }

fn teacher_shift(base: u32, c: u32) -> Shift {
  if (TEACHER == 0u) { return Shift(0.0, 0.0); }
  let m = teacher_max(base, c);
  return Shift(m, log(teacher_sum_exp(base, c, m, params.inv_t)));
}

fn student_shift(base: u32, c: u32) -> Shift {
  if (STUDENT == 1u) { return Shift(0.0, 0.0); }
  let m = student_max(base, c);
  return Shift(m, log(student_sum_exp(base, c, m, params.inv_t)));
}

// Teacher probability; for logits, exp of the log-probability.
fn teacher_p(i: u32, sh: Shift) -> f32 {
  if (TEACHER == 0u) { return teacher[i]; }
  return exp((teacher[i] - sh.m) * params.inv_t - sh.l);
}

// Teacher log-probability; only read where the probability is positive.
fn teacher_lp(i: u32, sh: Shift) -> f32 {
  if (TEACHER == 0u) { return log(teacher[i]); }
  return (teacher[i] - sh.m) * params.inv_t - sh.l;
}

fn student_lq(i: u32, sh: Shift) -> f32 {
  if (STUDENT == 1u) { return student[i]; }
  return (student[i] - sh.m) * params.inv_t - sh.l;
}

fn row_weight(p: u32) -> f32 {
  if (HAS_MASK == 0u) { return 1.0; }
  return mask_weight(p);
}

// KL(p || q) of one pixel; terms with p = 0 are 0 (the limit of p log p).
fn pixel_kl(base: u32, c: u32, ts: Shift, ss: Shift) -> f32 {
  var kl = 0.0;
  for (var k = 0u; k < c; k++) {
    let p = teacher_p(base + k, ts);
    if (p > 0.0) { kl += p * (teacher_lp(base + k, ts) - student_lq(base + k, ss)); }
  }
  return kl;
}
