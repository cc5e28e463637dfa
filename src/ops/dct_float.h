// Private: 2-D DCT-II / DCT-III of one float plane through one real 2-D FFT (Makhoul's
// reordering), several times faster than FFTW's own REDFT kinds; used by the fast Cahn–Hilliard
// step.
#pragma once

#include <complex>
#include <vector>

namespace blade {

// Transforms of a fixed width x height with FFTW's scaling: Forward = REDFT10 along both axes
// (as Dct2), Inverse = REDFT01 (as Dct3), so Inverse(Forward(u)) = 4 W H u. Each object owns its
// buffers; its plans are the shared ones of its size (ops/fft.h). One object must not run two
// transforms at once, different objects may.
class FloatDct2d {
 public:
  FloatDct2d(int width, int height);
  ~FloatDct2d();
  FloatDct2d(const FloatDct2d&) = delete;
  FloatDct2d& operator=(const FloatDct2d&) = delete;

  int width() const { return w_; }
  int height() const { return h_; }

  // out = REDFT10(in) (in and out may be the same plane).
  void Forward(const float* in, float* out) {
    Forward(in, out, [](float v) { return v; });
  }
  // out = REDFT10(f(in)) for a pointwise f, applied while the input is reordered.
  template <class F>
  void Forward(const float* in, float* out, const F& f) {
    // v[m] = x[2m], v[W - 1 - m] = x[2m + 1] (and the same along y).
    for (int m1 = 0; m1 < h_; ++m1) {
      const float* row = in + std::size_t(perm_h_[m1]) * w_;
      float* dst = real_ + std::size_t(m1) * w_;
      for (int m = 0; 2 * m < w_; ++m) dst[m] = f(row[2 * m]);
      for (int m = 0; 2 * m + 1 < w_; ++m) dst[w_ - 1 - m] = f(row[2 * m + 1]);
    }
    ForwardFromReordered(out);
  }
  // out = REDFT01(in) (in and out may be the same plane).
  void Inverse(const float* in, float* out);

 private:
  void ForwardFromReordered(float* out);

  int w_, h_, wh_;             // wh_ = w / 2 + 1 complex columns of the half spectrum
  float* real_;                // w x h, the reordered signal
  std::complex<float>* spec_;  // h x wh_
  void* plan_r2c_;  // fftwf_plan from ops/fft.h, not owned (fftw3.h stays out of this header)
  void* plan_c2r_;
  std::vector<int> perm_h_;                       // reordered row m holds input row perm[m]
  std::vector<std::complex<float>> tw_w_, tw_h_;  // exp(-i pi k / (2 N))
};

}  // namespace blade
