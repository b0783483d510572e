// A strided block copy: `rows` rows of `cols` elements, from src at
// src_offset + r * src_stride to dst at dst_offset + r * dst_stride.
// Slicing and concatenation along any axis reduce to this.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = linear_index(gid, groups);
  if (i >= params.rows * params.cols) { return; }
  let r = i / params.cols;
  let c = i - r * params.cols;
  dst[params.dst_offset + r * params.dst_stride + c] = src[params.src_offset + r * params.src_stride + c];
}
