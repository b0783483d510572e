// Shared by the cross-entropy backward kernels (plain and unbiased): a pixel
// whose label is not a channel (ignored or bad) gets a zero gradient row and
// is skipped; a valid pixel's scale is its upstream gradient (upstream.wgsl)
// times its weight, which only scales the gradient (a constant of the loss).
fn ce_label_valid(p: u32, base: u32, c: u32) -> bool {
  let label = labels[p];
  if (label >= 0i && u32(label) < c) { return true; }
  for (var k = 0u; k < c; k++) { dz[base + k] = 0.0; }
  return false;
}

fn ce_pixel_scale(p: u32) -> f32 {
  var u = upstream(p);
  if (HAS_WEIGHT == 1u) { u = u * weights[p]; }
  return u;
}
