// The learning rate of parameter group g (lr times the group's multiplier), for
// sgd_arena.wgsl and sgd_arena_vec4.wgsl.
fn group_lr(g: u32) -> f32 {
  if (g == 1u) { return params.lr_1; }
  if (g == 2u) { return params.lr_2; }
  if (g == 3u) { return params.lr_3; }
  return params.lr_0;
}
