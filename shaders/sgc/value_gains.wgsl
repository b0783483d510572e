// Segmented-sum inputs for SGC from the precomputed gains (gains.wgsl):
// segment = old step of the pixel's target class, value = its gain.
fn segment_of(p: u32) -> i32 { return sgc_group(p); }

fn segment_value(p: u32, j: u32) -> f32 { return gains[p]; }
