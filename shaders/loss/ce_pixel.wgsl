// The entry point shared by the cross-entropy backward kernels (plain and
// unbiased), one pixel per invocation: a pixel whose label is not a channel
// (ignored or bad) gets a zero gradient row; a valid pixel's row is written
// by the kernel's own ce_row_gradient with the pixel's scale u w, its
// upstream gradient (upstream.wgsl) times its weight, which only scales the
// gradient (a constant of the loss).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let c = params.channels;
  let base = p * c;
  let label = labels[p];
  if (!(label >= 0i && u32(label) < c)) {
    for (var k = 0u; k < c; k++) { dz[base + k] = 0.0; }
    return;
  }
  var u = upstream(p);
  if (HAS_WEIGHT == 1u) { u = u * weights[p]; }
  ce_row_gradient(base, c, u32(label), u);
}
