// Channels one f32 at a time (distance and normalisation kernels).
alias V = f32;
const VEC: u32 = 1u;

// s + x y.
fn add_products(s: f32, x: f32, y: f32) -> f32 { return s + x * y; }
