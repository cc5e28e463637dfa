// 2-D DCT-II / DCT-III in float via one real 2-D FFT (Makhoul 1980, "A fast cosine transform in
// one and two dimensions").
//
// Reorder each axis (v[m] = x[2m] for 2m < N, v[N-1-m] = x[2m+1]) and take V = DFT2(v). Then
// with a1 = exp(-i pi k1 / 2H), a2 = exp(-i pi k2 / 2W) and V(k1, -k2) = V(k1, W - k2):
//   REDFT10(x)(k1, k2) = 2 Re(a1 (a2 V(k1, k2) + conj(a2) V(k1, -k2))).
// Conversely, for X given, V(k1, k2) = conj(a1 a2) / 4 ((X(k1,k2) - X(H-k1,W-k2))
// - i (X(H-k1,k2) + X(k1,W-k2))) with X = 0 at index H or W, and REDFT01(X) = 4 IDFT2(V)
// un-reordered (IDFT unnormalised). V is Hermitian, so only the half spectrum k2 <= W/2 is
// stored and the real FFTs (r2c, c2r) do the work.
#include "ops/dct_float.h"

#include <fftw3.h>

#include <cmath>
#include <numbers>

#include "blade/error.h"
#include "ops/fft.h"

namespace blade {

namespace {

std::vector<int> Reordering(int n) {
  std::vector<int> p(n);
  for (int m = 0; 2 * m < n; ++m) p[m] = 2 * m;
  for (int m = 0; 2 * m + 1 < n; ++m) p[n - 1 - m] = 2 * m + 1;
  return p;
}

std::vector<std::complex<float>> Twiddles(int n) {
  std::vector<std::complex<float>> t(n);
  for (int k = 0; k < n; ++k)
    t[k] = std::complex<float>(std::polar(1.0, -std::numbers::pi * k / (2.0 * n)));
  return t;
}

}  // namespace

FloatDct2d::FloatDct2d(int width, int height) : w_(width), h_(height), wh_(width / 2 + 1) {
  if (width <= 0 || height <= 0) Fail("DCT size ", width, "x", height, " is empty or negative");
  // Cached per size and shared by every object: executed on this object's arrays, which are
  // fftwf_alloc'd as the plans require. Planned first, so a failure leaves nothing to free.
  plan_r2c_ = fft::FloatRealToComplex2d(w_, h_);
  plan_c2r_ = fft::FloatComplexToReal2d(w_, h_);
  const std::size_t n = std::size_t(w_) * h_;
  real_ = fftwf_alloc_real(n);
  spec_ = reinterpret_cast<std::complex<float>*>(fftwf_alloc_complex(std::size_t(h_) * wh_));
  if (real_ == nullptr || spec_ == nullptr) {
    fftwf_free(real_);  // the destructor does not run for a throwing constructor
    fftwf_free(spec_);
    Fail("out of memory for a ", w_, "x", h_, " DCT");
  }
  perm_h_ = Reordering(h_);
  tw_w_ = Twiddles(w_);
  tw_h_ = Twiddles(h_);
}

FloatDct2d::~FloatDct2d() {
  fftwf_free(real_);
  fftwf_free(spec_);
}

// Complex arithmetic is written out in real and imaginary parts: std::complex's operator*
// checks for NaN results (C Annex G), which costs several times the arithmetic here.
void FloatDct2d::ForwardFromReordered(float* out) {
  fftwf_execute_dft_r2c(static_cast<fftwf_plan>(plan_r2c_), real_,
                        reinterpret_cast<fftwf_complex*>(spec_));
  const float* tw = reinterpret_cast<const float*>(tw_w_.data());
  for (int k1 = 0; k1 < h_; ++k1) {
    const float a1r = tw_h_[k1].real(), a1i = tw_h_[k1].imag();
    const float* A = reinterpret_cast<const float*>(spec_ + std::size_t(k1) * wh_);
    // V(k1, W - k2) = conj(V(H - k1, k2)) for k2 in the stored half.
    const float* B = reinterpret_cast<const float*>(spec_ + std::size_t((h_ - k1) % h_) * wh_);
    float* o = out + std::size_t(k1) * w_;
    o[0] = 4.f * (a1r * A[0] - a1i * A[1]);
    int k2 = 1;
    for (; 2 * k2 < w_; ++k2) {
      const float c = tw[2 * k2], s = tw[2 * k2 + 1];  // a2 = c + i s
      const float ar = A[2 * k2], ai = A[2 * k2 + 1];
      const float br = B[2 * k2], bi = -B[2 * k2 + 1];  // conj(V(H - k1, k2))
      // av = a2 A, bv = conj(a2) B, p = av + bv, m = av - bv.
      const float avr = c * ar - s * ai, avi = c * ai + s * ar;
      const float bvr = c * br + s * bi, bvi = c * bi - s * br;
      const float pr = avr + bvr, pi = avi + bvi, mr = avr - bvr, mi = avi - bvi;
      o[k2] = 2.f * (a1r * pr - a1i * pi);        // 2 Re(a1 p)
      o[w_ - k2] = -2.f * (a1r * mi + a1i * mr);  // 2 Re(i a1 m): a2 at W - k2 is -i conj(a2)
    }
    if (2 * k2 == w_) {
      const float c2 = 2.f * tw[2 * k2];  // a2 + conj(a2)
      o[k2] = 2.f * c2 * (a1r * A[2 * k2] - a1i * A[2 * k2 + 1]);
    }
  }
}

void FloatDct2d::Inverse(const float* in, float* out) {
  const float* tw = reinterpret_cast<const float*>(tw_w_.data());
  for (int k1 = 0; k1 < h_; ++k1) {
    const float* x = in + std::size_t(k1) * w_;
    const float* xm = k1 > 0 ? in + std::size_t(h_ - k1) * w_ : nullptr;  // row H - k1 (0 at H)
    // c1 = conj(a1) / 4 * 4: the final factor 4 of REDFT01 is folded in here.
    const float c1r = tw_h_[k1].real(), c1i = -tw_h_[k1].imag();
    float* o = reinterpret_cast<float*>(spec_ + std::size_t(k1) * wh_);
    // k2 = 0: the columns at W are 0.
    {
      const float zr = x[0] - 0.f, zi = -(xm ? xm[0] : 0.f);
      o[0] = c1r * zr - c1i * zi;
      o[1] = c1r * zi + c1i * zr;
    }
    for (int k2 = 1; k2 < wh_; ++k2) {
      const int n2 = w_ - k2;  // column W - k2
      const float x_nk = xm ? xm[k2] : 0.f, x_nn = xm ? xm[n2] : 0.f;
      const float zr = x[k2] - x_nn, zi = -(x_nk + x[n2]);
      // t = c1 conj(a2), then o = t z.
      const float c = tw[2 * k2], s = -tw[2 * k2 + 1];
      const float tr = c1r * c - c1i * s, ti = c1r * s + c1i * c;
      o[2 * k2] = tr * zr - ti * zi;
      o[2 * k2 + 1] = tr * zi + ti * zr;
    }
  }
  fftwf_execute_dft_c2r(static_cast<fftwf_plan>(plan_c2r_), reinterpret_cast<fftwf_complex*>(spec_),
                        real_);
  // Undo the reordering: x[2m] = v[m], x[2m + 1] = v[W - 1 - m] (and the same along y).
  for (int m1 = 0; m1 < h_; ++m1) {
    float* row = out + std::size_t(perm_h_[m1]) * w_;
    const float* src = real_ + std::size_t(m1) * w_;
    for (int m = 0; 2 * m < w_; ++m) row[2 * m] = src[m];
    for (int m = 0; 2 * m + 1 < w_; ++m) row[2 * m + 1] = src[w_ - 1 - m];
  }
}

}  // namespace blade
