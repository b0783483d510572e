// counts[c] = pixels whose target is c, present[c] = 1 if any; one
// invocation per class walks every pixel (exact for counts below 2^24).
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= params.classes) { return; }
  var n = 0u;
  for (var p = 0u; p < params.pixels; p++) { if (targets[p] == i32(c)) { n++; } }
  counts[c] = f32(n);
  present[c] = select(0.0, 1.0, n > 0u);
}
