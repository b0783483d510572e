// normalize.wgsl a channel quad per invocation (channels % 4 == 0; `x` and
// `y` as vec4, `n` counting quads, the statistics, weight and bias read a
// quad at a time): the same arithmetic on each component, bit-identical.
// The reads go through load_<name>: storage buffers, or (CPU adapters) the
// small per-channel tensors as uniform blocks and `x` as the adapter reads
// best.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.n) { return; }
  let quads = params.channels / 4u;
  let q = i % quads;
  var v = (load_x(i) - load_stats(q)) * (load_stats(quads + q) * load_weight(q)) + load_bias(q);
  if (RELU == 1u) {
    let nan = (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
    v = select(max(v, vec4<f32>(0.0)), v, nan);
  }
  y[i] = v;
}
