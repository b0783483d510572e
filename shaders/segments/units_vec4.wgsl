// sum.wgsl's unit: a quad of values an invocation (values a multiple of 4,
// FT at least 4), `segment_value4(p, q)`: values 4q .. 4q + 3 of pixel p.
alias V = vec4<f32>;
const VEC: u32 = 4u;

fn segment_units(p: u32, q: u32) -> vec4<f32> { return segment_value4(p, q); }

fn store_partial(at: u32, v: vec4<f32>) {
  partials[at] = v.x;
  partials[at + 1u] = v.y;
  partials[at + 2u] = v.z;
  partials[at + 3u] = v.w;
}
