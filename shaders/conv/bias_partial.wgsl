// First pass of the bias gradient: per chunk of pixels, the sum of dy over
// the chunk for each channel. Neighbouring invocations read neighbouring
// channels of the same pixel.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let id = linear_index(gid, groups);
  if (id >= params.splits * params.channels) { return; }
  let c = id % params.channels;
  let split = id / params.channels;
  let p0 = split * params.pixels_per_split;
  let p1 = min(p0 + params.pixels_per_split, params.pixels);
  var total = 0.0;
  for (var p = p0; p < p1; p++) { total += grad[p * params.channels + c]; }
  partial[id] = total;
}
