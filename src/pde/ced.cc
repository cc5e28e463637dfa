// Coherence-enhancing diffusion (Weickert 1999) with Weickert–Scharr derivatives and the exact-adjoint divergence.
#include <cmath>
#include <vector>

#include "blade/ops.h"
#include "blade/parallel.h"
#include "pde/schemes.h"

namespace blade {
namespace {

// The WS derivative is separable: Fx = [-1 0 1]/2 along x times [3 10 3]/16 along y (used as a
// correlation, half-sample symmetric extension). A 3-tap operator on one axis of a plane:
// out[i] = k0 in[ext(i-1)] + k1 in[i] + k2 in[ext(i+1)], and its exact adjoint, which sends the
// ghost-cell contributions back to the pixels they mirror (REFERENCE_SCHEMES.md §3, scheme (a)).
struct Taps3 {
  float k0, k1, k2;
};
constexpr Taps3 kDiff = {-0.5f, 0.f, 0.5f};
constexpr Taps3 kSmooth = {3.f / 16, 10.f / 16, 3.f / 16};

// Applies `t` along x (axis 0) or y (axis 1) of a w x h plane.
void Apply3(const float* in, float* out, int w, int h, int axis, Taps3 t) {
  ParallelFor(0, h, [&](int y) {
    float* o = out + std::size_t(y) * w;
    if (axis == 0) {
      const float* r = in + std::size_t(y) * w;
      for (int x = 0; x < w; ++x) {
        const float l = r[x > 0 ? x - 1 : 0], rr = r[x + 1 < w ? x + 1 : w - 1];
        o[x] = t.k0 * l + t.k1 * r[x] + t.k2 * rr;
      }
    } else {
      const float* r = in + std::size_t(y) * w;
      const float* up = y > 0 ? r - w : r;
      const float* dn = y + 1 < h ? r + w : r;
      for (int x = 0; x < w; ++x) o[x] = t.k0 * up[x] + t.k1 * r[x] + t.k2 * dn[x];
    }
  });
}

// Adjoint of Apply3: out[r] = sum over (i, q) with ext(i + q) = r of k_q in[i]. In the interior
// that is the correlation with the reversed taps; at the two ends the ghost terms fold back
// (ghost -1 mirrors index 0, ghost n mirrors n - 1).
inline float Adjoint3(float prev, float cur, float next, bool first, bool last, Taps3 t) {
  float v = t.k1 * cur + t.k0 * next + t.k2 * prev;  // next = in[r+1], prev = in[r-1] (0 if none)
  if (first) v += t.k0 * cur;
  if (last) v += t.k2 * cur;
  return v;
}

void Apply3Adjoint(const float* in, float* out, int w, int h, int axis, Taps3 t) {
  ParallelFor(0, h, [&](int y) {
    const float* r = in + std::size_t(y) * w;
    float* o = out + std::size_t(y) * w;
    if (axis == 0) {
      for (int x = 0; x < w; ++x)
        o[x] = Adjoint3(x > 0 ? r[x - 1] : 0.f, r[x], x + 1 < w ? r[x + 1] : 0.f, x == 0,
                        x == w - 1, t);
    } else {
      for (int x = 0; x < w; ++x)
        o[x] = Adjoint3(y > 0 ? r[x - w] : 0.f, r[x], y + 1 < h ? r[x + w] : 0.f, y == 0,
                        y == h - 1, t);
    }
  });
}

class CedSolver : public PdeSolver {
 public:
  explicit CedSolver(const PdeParams& p)
      : alpha_(p.ced_alpha), c_(p.ced_c), sigma_(p.ced_sigma), rho_(p.ced_rho) {}

  // With ||D|| <= 1 the operator -G^T D G has spectral radius <= max|F^|^2 = 1.0091 / dx^2, so
  // explicit Euler is L2-stable for dt < 2 dx^2 / 1.0091 = 1.98 dx^2 (REFERENCE_SCHEMES.md §3).
  double MaxStableDt(double dx) const override { return 1.98 * dx * dx; }
  // The WS stencil leaves the checkerboard mode undamped and has no maximum principle; runs
  // without an explicit step use 0.5 dx^2 (HALCON's limit; Weickert–Scharr use 0.5 or less).
  double DefaultDt(double dx) const override { return 0.5 * dx * dx; }

  void Step(Image& u, double dt, double dx) override {
    const int w = u.width(), h = u.height();
    const std::size_t n = u.plane_size();
    tmp_.resize(n);
    gx_.resize(n);
    gy_.resize(n);
    // Structure tensor of the pre-smoothed image, summed over channels, then integrated.
    Image smoothed = GaussianBlur(u, sigma_ / dx);
    Image tensor(w, h, 3);
    const float inv_dx = float(1.0 / dx);
    for (int c = 0; c < u.channels(); ++c) {
      Gradient(smoothed.plane(c), w, h, inv_dx);
      float *j11 = tensor.plane(0), *j12 = tensor.plane(1), *j22 = tensor.plane(2);
      for (std::size_t i = 0; i < n; ++i) {
        j11[i] += gx_[i] * gx_[i];
        j12[i] += gx_[i] * gy_[i];
        j22[i] += gy_[i] * gy_[i];
      }
    }
    tensor = GaussianBlur(tensor, rho_ / dx);
    // Diffusion tensor D = mu1 w1 w1^T + mu2 w2 w2^T, stored as (a, b, c) in `tensor`.
    ParallelFor(0, h, [&](int y) {
      for (int x = 0; x < w; ++x) {
        const std::size_t i = std::size_t(y) * w + x;
        DiffusionTensor(tensor.plane(0)[i], tensor.plane(1)[i], tensor.plane(2)[i],
                        &tensor.plane(0)[i], &tensor.plane(1)[i], &tensor.plane(2)[i]);
      }
    });
    // Flux j = D grad u (from u itself) and u += dt * div, div = -(Gx^T j1 + Gy^T j2) / dx.
    const float* a = tensor.plane(0);
    const float* b = tensor.plane(1);
    const float* cc = tensor.plane(2);
    div_.resize(n);
    for (int c = 0; c < u.channels(); ++c) {
      float* p = u.plane(c);
      Gradient(p, w, h, inv_dx);
      for (std::size_t i = 0; i < n; ++i) {
        const float j1 = a[i] * gx_[i] + b[i] * gy_[i];
        const float j2 = b[i] * gx_[i] + cc[i] * gy_[i];
        gx_[i] = j1;
        gy_[i] = j2;
      }
      // Gx^T j1 = Sy^T Dx^T j1 and Gy^T j2 = Sx^T Dy^T j2.
      Apply3Adjoint(gx_.data(), tmp_.data(), w, h, 0, kDiff);
      Apply3Adjoint(tmp_.data(), div_.data(), w, h, 1, kSmooth);
      Apply3Adjoint(gy_.data(), tmp_.data(), w, h, 1, kDiff);
      Apply3Adjoint(tmp_.data(), gx_.data(), w, h, 0, kSmooth);
      const float rate = float(-dt / dx);
      for (std::size_t i = 0; i < n; ++i) p[i] += rate * (div_[i] + gx_[i]);
    }
  }

 private:
  // gx_ = Gx v / dx, gy_ = Gy v / dx with the WS filters.
  void Gradient(const float* v, int w, int h, float inv_dx) {
    Apply3(v, tmp_.data(), w, h, 1, kSmooth);
    Apply3(tmp_.data(), gx_.data(), w, h, 0, kDiff);
    Apply3(v, tmp_.data(), w, h, 0, kSmooth);
    Apply3(tmp_.data(), gy_.data(), w, h, 1, kDiff);
    for (std::size_t i = 0; i < std::size_t(w) * h; ++i) {
      gx_[i] *= inv_dx;
      gy_[i] *= inv_dx;
    }
  }

  // Eigen-analysis of J = [[j11, j12], [j12, j22]] and Weickert's diffusivities (eq. 3.6–3.8).
  void DiffusionTensor(double j11, double j12, double j22, float* a, float* b, float* c) const {
    const double s = std::sqrt((j11 - j22) * (j11 - j22) + 4 * j12 * j12);
    double wx = 2 * j12, wy = j22 - j11 + s;
    const double norm = std::sqrt(wx * wx + wy * wy);
    if (norm > 1e-30) {
      wx /= norm;
      wy /= norm;
    } else {
      wx = 1;  // j12 = 0 and j11 >= j22: the dominant direction is x
      wy = 0;
    }
    const double mu1 = alpha_;
    const double mu2 = s > 0 ? alpha_ + (1 - alpha_) * std::exp(-c_ / (s * s)) : alpha_;
    *a = float(mu1 * wx * wx + mu2 * wy * wy);
    *b = float((mu1 - mu2) * wx * wy);
    *c = float(mu1 * wy * wy + mu2 * wx * wx);
  }

  double alpha_, c_, sigma_, rho_;
  std::vector<float> tmp_, gx_, gy_, div_;
};

}  // namespace

std::unique_ptr<PdeSolver> MakeCedSolver(const PdeParams& params) {
  return std::make_unique<CedSolver>(params);
}

}  // namespace blade
