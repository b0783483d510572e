// Segmented-sum inputs for SSRD's class relations: segment = old target class;
// values j < K: the teacher's softmax(z' / Tsoft)_j, values K + j: the unbiased
// student's q_j at Tsoft (K = old classes, params.scale = 1 / Tsoft).
fn segment_of(p: u32) -> i32 { return old_target(p); }

fn segment_value(p: u32, j: u32) -> f32 {
  let k = params.old_classes;
  if (j < k) { return exp(old_logits[p * k + j] * params.scale - stats[3u * p + 2u]); }
  let u = unbiased_logit(p, j - k, params.scale, stats[3u * p]);
  return exp(u - stats[3u * p + 1u]);
}
