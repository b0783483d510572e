// Source taps of output coordinate `o` on one axis for PyTorch's bilinear
// interpolation with align_corners=False: half-pixel centres, the source
// coordinate clamped at 0 below, the second tap clamped to the last pixel.
// Shared by the forward and the backward so both see the same taps.
struct Taps { i0: u32, i1: u32, w0: f32, w1: f32 }

fn taps_of(o: u32, size: u32, scale: f32) -> Taps {
  let src = max((f32(o) + 0.5) * scale - 0.5, 0.0);
  let i0 = min(u32(src), size - 1u);
  let i1 = select(i0, i0 + 1u, i0 + 1u < size);
  let w1 = src - f32(i0);
  return Taps(i0, i1, 1.0 - w1, w1);
}
