// Sharp term rows, one invocation per pixel: on pixels with an old target,
// (KL(softmax(z' / Tsharp) || q), 1) with q the unbiased student at T = 1
// (params.scale = 1 / Tsharp); (0, 0) elsewhere. The mean is the rows' column
// sums' ratio.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = gid.x + gid.y * groups.x * WG_X;
  if (p >= params.pixels) { return; }
  if (old_target(p) < 0i) {
    rows[2u * p] = 0.0;
    rows[2u * p + 1u] = 0.0;
    return;
  }
  let background = background_logit(p, 1.0);
  let lse = unbiased_lse(p, 1.0, background);
  let t_lse = teacher_lse(p, params.scale);
  var kl = 0.0;
  for (var j = 0u; j < params.old_classes; j++) {
    let log_t = old_logits[p * params.old_classes + j] * params.scale - t_lse;
    let log_q = unbiased_logit(p, j, 1.0, background) - lse;
    kl += exp(log_t) * (log_t - log_q);
  }
  rows[2u * p] = kl;
  rows[2u * p + 1u] = 1.0;
}
