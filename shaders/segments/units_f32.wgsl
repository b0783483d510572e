// sum.wgsl's unit: one value an invocation, `segment_value(p, j)`.
alias V = f32;
const VEC: u32 = 1u;

fn segment_units(p: u32, q: u32) -> f32 { return segment_value(p, q); }

fn store_partial(at: u32, v: f32) { partials[at] = v; }
