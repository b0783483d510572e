// Filter [KH, KW, Cin/g, Cout] -> [KH, KW, Cout/g, Cin] per group, so the
// input gradient runs as a convolution of dy with the same kernels.
@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WG_X;
  let total = params.taps * params.in_cg * params.out_c;
  if (i >= total) { return; }
  // i indexes the source: tap, local input channel, output channel.
  let co = i % params.out_c;
  let t = i / params.out_c;
  let ci = t % params.in_cg;
  let tap = t / params.in_cg;
  let g = co / params.out_cg;
  let coLocal = co % params.out_cg;
  let inC = params.in_cg * (params.out_c / params.out_cg);
  out[(tap * params.out_cg + coLocal) * inC + g * params.in_cg + ci] = weight[i];
}
