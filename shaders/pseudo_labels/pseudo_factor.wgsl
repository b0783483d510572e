// PLOP's classification adaptive factor per image: confident background
// pixels / background pixels (1 for an image without background, where
// PLOP would divide 0 by 0). Each pixel gets its image's factor; invocation
// 0 also writes the mean over images.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  weights[p] = factor_of(p / params.image_pixels);
  if (p == 0u) {
    let images = params.pixels / params.image_pixels;
    var sum = 0.0;
    for (var n = 0u; n < images; n++) { sum += factor_of(n); }
    mean[0] = sum / f32(images);
  }
}

fn factor_of(n: u32) -> f32 {
  let den = counts[2u * n];
  if (den == 0u) { return 1.0; }
  return f32(counts[2u * n + 1u]) / f32(den);
}
