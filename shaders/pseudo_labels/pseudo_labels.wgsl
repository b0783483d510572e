// PLOP's entropy pseudo labels: a pixel whose label is an old class (below
// OLD; background after the step's remapping) takes the old argmax when its
// normalised entropy is below that class's threshold, else 255. Counts per
// image (background pixels, confident ones) for the adaptive factor.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let p = linear_index(gid, groups);
  if (p >= params.pixels) { return; }
  let y = labels[p];
  if (!(y >= 0i && u32(y) < params.old_classes)) {
    targets[p] = y;
    return;
  }
  let n = p / params.image_pixels;
  let cert = certainty(p);
  let ok = cert.entropy < thresholds[cert.argmax];
  atomicAdd(&counts[2u * n], 1u);
  if (ok) {
    atomicAdd(&counts[2u * n + 1u], 1u);
    targets[p] = i32(cert.argmax);
  } else {
    targets[p] = 255i;
  }
}
