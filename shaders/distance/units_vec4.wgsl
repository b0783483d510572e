// Channels four at a time as vec4 (distance and normalisation kernels, C % 4
// == 0): a quad's products are added one component after the other, in
// channel order, so every sum is the f32 form's, bit for bit.
alias V = vec4<f32>;
const VEC: u32 = 4u;

// s + x.x y.x + x.y y.y + x.z y.z + x.w y.w, added left to right.
fn add_products(s: f32, x: V, y: V) -> f32 {
  var t = s;
  t += x.x * y.x;
  t += x.y * y.y;
  t += x.z * y.z;
  t += x.w * y.w;
  return t;
}
