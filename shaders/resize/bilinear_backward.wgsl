// Gradient of the bilinear resize as a gather: one invocation per input
// element (n, h, w, c) sums w_y * w_x * dy over the outputs that tap it, in a
// fixed order (deterministic, no atomics). Elem is f32 (one channel) or
// vec4<f32> (four channels; `channels` then counts quads). Outputs tapping input row h have
// their first tap at h - 1 or h, i.e. a source coordinate in [h - 1, h + 1);
// the candidate range below inverts that with a margin of one output on each
// side, and each candidate's weight is recomputed with the forward's taps.
fn weight_on(t: Taps, i: u32) -> f32 {
  return select(0.0, t.w0, t.i0 == i) + select(0.0, t.w1, t.i1 == i);
}

fn first_candidate(i: u32, scale: f32) -> u32 {
  return u32(max(floor((f32(i) - 0.5) / scale - 0.5) - 1.0, 0.0));
}

fn last_candidate(i: u32, scale: f32, out_size: u32) -> u32 {
  return min(u32(max(ceil((f32(i) + 1.5) / scale - 0.5) + 1.0, 0.0)), out_size - 1u);
}

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
  let oy_first = first_candidate(h, params.scale_h);
  let oy_last = last_candidate(h, params.scale_h, params.out_h);
  let ox_first = first_candidate(w, params.scale_w);
  let ox_last = last_candidate(w, params.scale_w, params.out_w);
  var acc = Elem(0.0);
  for (var oy = oy_first; oy <= oy_last; oy++) {
    let wy = weight_on(taps_of(oy, params.in_h, params.scale_h), h);
    if (wy == 0.0) { continue; }
    let row = (n * params.out_h + oy) * params.out_w;
    var line = Elem(0.0);
    for (var ox = ox_first; ox <= ox_last; ox++) {
      let wx = weight_on(taps_of(ox, params.in_w, params.scale_w), w);
      line += wx * load_dy((row + ox) * c_count + c);
    }
    acc += wy * line;
  }
  dx[i] = acc;
}
