// Gradient of max pool as a gather: one invocation per input (n, h, w, c)
// sums, in a fixed order, the gradients of the outputs whose window holds the
// pixel and whose argmax chose it. No atomics, deterministic.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  let c_count = params.channels;
  if (i >= params.batch * params.in_h * params.in_w * c_count) { return; }
  let c = i % c_count;
  let pixel = i / c_count;
  let w = pixel % params.in_w;
  let rest = pixel / params.in_w;
  let h = rest % params.in_h;
  let n = rest / params.in_h;
  let me = i32(h * params.in_w + w);
  let s = i32(params.stride);
  let k = i32(params.kernel);
  // Outputs o whose window [o*s - p, o*s - p + k) holds the pixel.
  let hp = i32(h + params.padding);
  let wp = i32(w + params.padding);
  // ceil((hp - k + 1) / s) clamped at 0, in unsigned arithmetic: signed / of a
  // negative value is not portable across backends.
  let oh_first = i32(u32(max(0, hp - k + s)) / u32(s));
  let oh_last = min(i32(params.out_h) - 1, i32(u32(hp) / u32(s)));
  let ow_first = i32(u32(max(0, wp - k + s)) / u32(s));
  let ow_last = min(i32(params.out_w) - 1, i32(u32(wp) / u32(s)));
  var acc = 0.0;
  for (var oh = oh_first; oh <= oh_last; oh++) {
    for (var ow = ow_first; ow <= ow_last; ow++) {
      let o = ((n * params.out_h + u32(oh)) * params.out_w + u32(ow)) * c_count + c;
      if (argmax[o] == me) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}
