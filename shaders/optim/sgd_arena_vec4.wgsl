// sgd_arena.wgsl a quad per invocation: the same chunk table (in elements;
// every chunk starts on a quad, the arena's slots being aligned), each chunk's
// quads updated by sgd_update_quad (sgd_update_vec4.wgsl). A chunk's last
// quad may run into the gap after its parameter: zeros that stay zeros.

@compute @workgroup_size(WG_X, 1, 1)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let chunk = wid.x + wid.y * groups.x;
  if (chunk >= params.chunks) { return; }
  let start = table[chunk * 4u] / 4u;
  let quads = (table[chunk * 4u + 1u] + 3u) / 4u;
  let entry = (params.chunks + table[chunk * 4u + 2u]) * 4u;
  let flags = table[entry + 2u];
  if ((flags & 1u) == 0u) { return; }
  let lr = group_lr(table[entry]);
  let weight_decay = bitcast<f32>(table[entry + 1u]);
  let first_step = (flags & 2u) != 0u;
  for (var j = lid.x; j < quads; j += WG_X) {
    sgd_update_quad(start + j, lr, weight_decay, first_step);
  }
}
