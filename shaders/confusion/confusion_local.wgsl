// Streaming confusion matrix with a workgroup-local histogram: a workgroup
// counts PER_THREAD * WG_X pixels in workgroup memory (K * K cells plus the
// bad counter), then adds its non-zero cells to the global matrix. Most
// pixels fall in a few cells (background, the diagonal), so this turns
// heavily contended global atomics into cheap local ones.
var<workgroup> histogram: array<atomic<u32>, CELLS>;

@compute @workgroup_size(WG_X, 1, 1)
fn main(
  @builtin(local_invocation_index) lid: u32,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let bins = params.classes * params.classes;
  for (var i = lid; i <= bins; i += WG_X) { atomicStore(&histogram[i], 0u); }
  workgroupBarrier();
  let start = (wid.x + wid.y * groups.x) * WG_X * PER_THREAD;
  for (var k = 0u; k < PER_THREAD; k++) {
    // Neighbouring invocations read neighbouring pixels.
    let p = start + k * WG_X + lid;
    if (p < params.pixels) {
      let cell = cellOf(p);
      if (cell != IGNORED) { atomicAdd(&histogram[cell], 1u); }
    }
  }
  workgroupBarrier();
  for (var i = lid; i < bins; i += WG_X) {
    let count = atomicLoad(&histogram[i]);
    if (count > 0u) { atomicAdd(&confusion[i], count); }
  }
  if (lid == 0u) {
    let count = atomicLoad(&histogram[bins]);
    if (count > 0u) { atomicAdd(&bad[0], count); }
  }
}
