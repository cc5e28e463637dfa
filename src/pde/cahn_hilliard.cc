// Cahn–Hilliard u_t = Δ(W'(u) - γΔu): the semi-implicit DCT scheme (Bertozzi–Esedoglu–Gillette),
// optionally convexity-split.
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "blade/ops.h"
#include "blade/parallel.h"
#include "ops/dct_float.h"
#include "pde/schemes.h"

namespace blade {
namespace {

// The 5-point Laplacian with Neumann (half-sample symmetric) ghost cells is diagonalised by the
// DCT-II with eigenvalues Λ_{k,l} = (2cos(πk/H) + 2cos(πl/W) - 4) / dx^2 <= 0. Per step:
//   û+ = ((1 - dt C1 Λ) û + dt Λ DCT[W'(u)]) / (1 - dt C1 Λ + dt γ Λ^2)      (C1 = 0: eq. 3.11)
// Λ_{0,0} = 0, so the mean is preserved exactly. W'(u) = 4u^3 - 6u^2 + 2u.
// The plain reference implementation: FFTW REDFT transforms in double.
class CahnHilliardSolverPlain : public PdeSolver {
 public:
  explicit CahnHilliardSolverPlain(const PdeParams& p)
      : gamma_(p.ch_gamma), c1_(p.ch_split ? p.ch_c1 : 0.0) {}

  // Linearised at a with W'' = a <= 2 on [0, 1]: the amplification factor stays >= -1 iff
  // dt <= 8γ/a^2 = 2γ, whatever dx. Convexity splitting with C1 >= a/2 removes the limit.
  double MaxStableDt(double) const override {
    return c1_ > 0 ? std::numeric_limits<double>::infinity() : 2.0 * gamma_;
  }
  // The state overshoots [0, 1] a little, which raises W''; default to a quarter of the bound
  // (also with splitting, whose large steps are stable but over-damped).
  double DefaultDt(double) const override { return 0.5 * gamma_; }

  void Step(Image& u, double dt, double dx) override {
    const int w = u.width(), h = u.height();
    const std::size_t n = u.plane_size();
    Prepare(w, h, dx);
    uhat_.resize(n);
    what_.resize(n);
    buf_.resize(n);
    const double norm = 1.0 / (4.0 * w * h);
    for (int c = 0; c < u.channels(); ++c) {
      float* p = u.plane(c);
      for (std::size_t i = 0; i < n; ++i) {
        const double v = p[i];
        buf_[i] = v;
      }
      Dct2(buf_.data(), uhat_.data(), w, h);
      for (std::size_t i = 0; i < n; ++i) {
        const double v = p[i];
        buf_[i] = ((4 * v - 6) * v + 2) * v;
      }
      Dct2(buf_.data(), what_.data(), w, h);
      ParallelFor(0, h, [&](int k) {
        for (int l = 0; l < w; ++l) {
          const std::size_t i = std::size_t(k) * w + l;
          const double lam = lambda_y_[k] + lambda_x_[l];
          const double explicit_part = 1 - dt * c1_ * lam;
          uhat_[i] = (explicit_part * uhat_[i] + dt * lam * what_[i]) /
                     (explicit_part + dt * gamma_ * lam * lam);
        }
      });
      Dct3(uhat_.data(), buf_.data(), w, h);
      for (std::size_t i = 0; i < n; ++i) p[i] = float(buf_[i] * norm);
    }
  }

 private:
  void Prepare(int w, int h, double dx) {
    if (w == prepared_w_ && h == prepared_h_ && dx == prepared_dx_) return;
    const double pi = 3.14159265358979323846, inv_dx2 = 1.0 / (dx * dx);
    lambda_x_.resize(w);
    lambda_y_.resize(h);
    for (int l = 0; l < w; ++l) lambda_x_[l] = (2 * std::cos(pi * l / w) - 2) * inv_dx2;
    for (int k = 0; k < h; ++k) lambda_y_[k] = (2 * std::cos(pi * k / h) - 2) * inv_dx2;
    prepared_w_ = w;
    prepared_h_ = h;
    prepared_dx_ = dx;
  }

  double gamma_, c1_;
  int prepared_w_ = 0, prepared_h_ = 0;
  double prepared_dx_ = 0;
  std::vector<double> lambda_x_, lambda_y_, uhat_, what_, buf_;
};

// The fast implementation of the same step: float transforms through one real 2-D FFT each
// (FloatDct2d), W'(u) evaluated while the input is reordered, and the per-frequency factors
//   û+ = A û + B DCT[W'(u)],  A = (1 - dt C1 Λ) / D,  B = dt Λ / D,  D = 1 - dt C1 Λ + dt γ Λ^2,
// computed in double once per (size, dt, dx) with the inverse's 1 / (4 W H) folded in. A step
// whose input is bit for bit the previous step's output starts from the spectrum that step
// inverted instead of transforming u again (one forward DCT instead of two); that spectrum is
// the unrounded one, which differs from DCT[u] by the float rounding of u.
class CahnHilliardSolverFast : public PdeSolver {
 public:
  explicit CahnHilliardSolverFast(const PdeParams& p)
      : gamma_(p.ch_gamma), c1_(p.ch_split ? p.ch_c1 : 0.0), plain_(p) {}

  double MaxStableDt(double dx) const override { return plain_.MaxStableDt(dx); }
  double DefaultDt(double dx) const override { return plain_.DefaultDt(dx); }

  void Step(Image& u, double dt, double dx) override {
    const int w = u.width(), h = u.height(), channels = u.channels();
    Prepare(w, h, dt, dx);
    const std::size_t n = u.plane_size();
    if (uhat_.size() != channels * n || valid_.size() != std::size_t(channels)) {
      uhat_.assign(channels * n, 0.f);
      last_.assign(channels * n, 0.f);
      mass_.assign(channels, 0.0);
      valid_.assign(channels, false);
    }
    what_.resize(n);
    for (int c = 0; c < channels; ++c) {
      float* p = u.plane(c);
      float* uh = uhat_.data() + c * n;
      float* last = last_.data() + c * n;
      // If u is exactly what the previous step wrote, its transform is the spectrum that step
      // inverted (kept in uhat_, scaled by 1/(4WH)): no forward transform of u is needed.
      const bool cached = valid_[c] && std::memcmp(p, last, n * sizeof(float)) == 0;
      const double mass = cached ? mass_[c] : Sum(p, n);
      if (!cached) dct_->Forward(p, uh);
      dct_->Forward(p, what_.data(), [](float v) { return ((4 * v - 6) * v + 2) * v; });
      const float* wh = what_.data();
      const float* a = cached ? a_scaled_.data() : a_.data();
      const float* b = b_.data();
      for (std::size_t i = 0; i < n; ++i) uh[i] = a[i] * uh[i] + b[i] * wh[i];
      dct_->Inverse(uh, p);
      // The scheme keeps the mean exactly (Λ_00 = 0); float transforms only to ~1e-7 a step,
      // which would add up over thousands of steps. Restore it (a constant: the k = 0 mode).
      const float shift = float((mass - Sum(p, n)) / double(n));
      for (std::size_t i = 0; i < n; ++i) p[i] += shift;
      uh[0] += shift;  // the k = 0 coefficient of the scaled spectrum is the mean
      std::memcpy(last, p, n * sizeof(float));
      mass_[c] = mass;
      valid_[c] = true;
    }
  }

 private:
  // Sum in double with eight interleaved partial sums (a fixed order: deterministic).
  static double Sum(const float* p, std::size_t n) {
    double acc[8] = {};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
      for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
    for (; i < n; ++i) acc[0] += p[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  }

  void Prepare(int w, int h, double dt, double dx) {
    if (dct_ && dct_->width() == w && dct_->height() == h && dt == prepared_dt_ &&
        dx == prepared_dx_)
      return;
    if (!dct_ || dct_->width() != w || dct_->height() != h) {
      dct_ = std::make_unique<FloatDct2d>(w, h);
      valid_.clear();  // a cached spectrum belongs to the old size
    }
    const double pi = 3.14159265358979323846, inv_dx2 = 1.0 / (dx * dx);
    const double norm = 1.0 / (4.0 * w * h);
    a_.resize(std::size_t(w) * h);
    a_scaled_.resize(std::size_t(w) * h);
    b_.resize(std::size_t(w) * h);
    for (int k = 0; k < h; ++k) {
      const double ly = (2 * std::cos(pi * k / h) - 2) * inv_dx2;
      for (int l = 0; l < w; ++l) {
        const double lam = ly + (2 * std::cos(pi * l / w) - 2) * inv_dx2;
        const double explicit_part = 1 - dt * c1_ * lam;
        const double den = explicit_part + dt * gamma_ * lam * lam;
        a_[std::size_t(k) * w + l] = float(explicit_part / den * norm);
        a_scaled_[std::size_t(k) * w + l] = float(explicit_part / den);  // for û * norm
        b_[std::size_t(k) * w + l] = float(dt * lam / den * norm);
      }
    }
    prepared_dt_ = dt;
    prepared_dx_ = dx;
  }

  double gamma_, c1_;
  CahnHilliardSolverPlain plain_;
  std::unique_ptr<FloatDct2d> dct_;
  double prepared_dt_ = 0, prepared_dx_ = 0;
  std::vector<float> a_, a_scaled_, b_, what_;
  // Per channel: the scaled spectrum of the last output, a copy of that output, its mass.
  std::vector<float> uhat_, last_;
  std::vector<double> mass_;
  std::vector<bool> valid_;
};

}  // namespace

std::unique_ptr<PdeSolver> MakeCahnHilliardSolver(const PdeParams& params, SchemeImpl impl) {
  if (impl == SchemeImpl::kPlain) return std::make_unique<CahnHilliardSolverPlain>(params);
  return std::make_unique<CahnHilliardSolverFast>(params);
}

}  // namespace blade
