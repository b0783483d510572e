// Segmented-sum inputs for SGC: segment = old step of the pixel's target
// class, value = g^zeta (params.scale holds zeta).
fn segment_of(p: u32) -> i32 { return sgc_group(p); }

fn segment_value(p: u32, j: u32) -> f32 { return gain_power(p); }
