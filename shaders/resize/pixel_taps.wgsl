// The source taps of output pixel `pixel` (n, oy, ox) of the forward resize:
// the element offsets of the first channel of its four source pixels (a, b on
// the upper row, d, e on the lower; c_count elements a pixel) and the two
// axes' weights. Shared by bilinear.wgsl and bilinear_pixels.wgsl, so both
// compute each channel alike.
struct PixelTaps { a: u32, b: u32, d: u32, e: u32, tx: Taps, ty: Taps }

fn pixel_taps(pixel: u32, c_count: u32) -> PixelTaps {
  let ox = pixel % params.out_w;
  let rest = pixel / params.out_w;
  let oy = rest % params.out_h;
  let n = rest / params.out_h;
  let ty = taps_of(oy, params.in_h, params.scale_h);
  let tx = taps_of(ox, params.in_w, params.scale_w);
  let base = n * params.in_h;
  let row0 = (base + ty.i0) * params.in_w;
  let row1 = (base + ty.i1) * params.in_w;
  return PixelTaps(
    (row0 + tx.i0) * c_count,
    (row0 + tx.i1) * c_count,
    (row1 + tx.i0) * c_count,
    (row1 + tx.i1) * c_count,
    tx,
    ty,
  );
}
