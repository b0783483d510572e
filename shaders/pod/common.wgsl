// PLOP's local POD layout. `segments` holds, per pooled strip, six u32:
// (offset in the embedding, kind, y0, y1, x0, x1). Kind 0 averages each
// (channel, row) over the region's columns, kind 1 each (channel, column)
// over its rows; a strip's values are channel-major. POW = 1 squares the
// map first (PLOP's "pow" pre-processing).
fn seg(s: u32, field: u32) -> u32 { return segments[6u * s + field]; }

fn prepro(v: f32) -> f32 {
  if (POW == 1u) { return v * v; }
  return v;
}
