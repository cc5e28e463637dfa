// Coherence-enhancing diffusion (Weickert 1999) with Weickert–Scharr derivatives and the
// exact-adjoint divergence.
#include <algorithm>
#include <cmath>
#include <vector>

#include "blade/ops.h"
#include "blade/parallel.h"
#include "ops/gaussian.h"
#include "pde/pde_simd.h"
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

// The plain reference implementation: whole-plane passes, GaussianBlur, scalar loops.
class CedSolverPlain : public PdeSolver {
 public:
  explicit CedSolverPlain(const PdeParams& p)
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

// The fast implementation of the same step: four row-parallel passes with SIMD row kernels and
// buffers reused across steps.
//   1. S = G_sigma * u (vertical then horizontal taps, HS extension), stored with ghost columns;
//   2. the WS gradient of S, the tensor products summed over channels, and the horizontal part
//      of G_rho, per row in L1;
//   3. the vertical part of G_rho, the diffusion tensor (float, in a cancellation-free form),
//      the WS gradient of u and the flux j = D grad u;
//   4. div = -(Gx^T j1 + Gy^T j2) (exact adjoint, ghost contributions folded back) and the
//      update.
// A Gaussian above kGaussianDirectMaxSigma (which GaussianBlur does by DCT) uses the plain step.
class CedSolverFast : public PdeSolver {
 public:
  explicit CedSolverFast(const PdeParams& p)
      : alpha_(p.ced_alpha), c_(p.ced_c), sigma_(p.ced_sigma), rho_(p.ced_rho), plain_(p) {}

  double MaxStableDt(double dx) const override { return plain_.MaxStableDt(dx); }
  double DefaultDt(double dx) const override { return plain_.DefaultDt(dx); }

  void Step(Image& u, double dt, double dx) override {
    if (sigma_ / dx > kGaussianDirectMaxSigma || rho_ / dx > kGaussianDirectMaxSigma) {
      plain_.Step(u, dt, dx);
      return;
    }
    const int w = u.width(), h = u.height(), channels = u.channels();
    CenterTaps(sigma_ / dx, &taps_s_);
    CenterTaps(rho_ / dx, &taps_r_);
    const int rs = int(taps_s_.size()) - 1, rr = int(taps_r_.size()) - 1;
    const std::size_t stride = std::size_t(w) + 2 * kPad;
    const std::size_t plane = stride * h;
    smooth_.resize(channels * plane);
    j1_.resize(channels * plane);
    j2_.resize(channels * plane);
    h11_.resize(plane);
    h12_.resize(plane);
    h22_.resize(plane);
    const float inv_dx = float(1.0 / dx);
    auto at = [&](std::vector<float>& v, int c, int y) {
      return v.data() + c * plane + std::size_t(y) * stride + kPad;
    };
    auto hs = [](int i, int n) { return ExtendIndex(i, n, Boundary::kHalfSymmetric); };
    // Fills the HS ghosts of a row to radius r (reads only [0, w)).
    auto extend = [w, &hs](float* row, int r) {
      if (r <= w) {  // one reflection: x = -k mirrors k - 1, x = w - 1 + k mirrors w - k
        for (int k = 1; k <= r; ++k) {
          row[-k] = row[k - 1];
          row[w - 1 + k] = row[w - k];
        }
        return;
      }
      for (int k = 1; k <= r; ++k) {
        row[-k] = row[hs(-k, w)];
        row[w - 1 + k] = row[hs(w - 1 + k, w)];
      }
    };
    auto replicate_ghosts = [w](float* row) {
      row[-1] = row[0];
      row[w] = row[w - 1];
    };

    // 1. Pre-smoothing.
    ParallelFor(0, channels * h, [&](int i) {
      const int c = i / h, y = i % h;
      thread_local std::vector<float> buf;
      thread_local std::vector<const float*> rows;
      buf.resize(std::size_t(w) + 2 * rs + kSimdOverrun);
      rows.resize(2 * rs + 1);
      for (int k = -rs; k <= rs; ++k) rows[rs + k] = u.row(c, hs(y + k, h));
      float* t = buf.data() + rs;
      ConvColsSymSimd(rows.data(), taps_s_.data(), rs, w, t);
      extend(t, rs);
      float* out = at(smooth_, c, y);
      ConvRowSymSimd(t, taps_s_.data(), rs, w, out);
      replicate_ghosts(out);
    });

    // 2. Structure-tensor products and the horizontal integration.
    ParallelFor(0, h, [&](int y) {
      thread_local std::vector<float> buf;
      const std::size_t len = std::size_t(w) + 2 * rr + kSimdOverrun;
      buf.resize(3 * len);
      float* p[3] = {buf.data() + rr, buf.data() + len + rr, buf.data() + 2 * len + rr};
      const int ym = std::max(y - 1, 0), yp = std::min(y + 1, h - 1);
      for (int c = 0; c < channels; ++c)
        CedTensorProductsRowSimd(at(smooth_, c, ym), at(smooth_, c, y), at(smooth_, c, yp), w,
                                 inv_dx, c > 0, p[0], p[1], p[2]);
      float* out[3] = {at(h11_, 0, y), at(h12_, 0, y), at(h22_, 0, y)};
      for (int k = 0; k < 3; ++k) {
        extend(p[k], rr);
        ConvRowSymSimd(p[k], taps_r_.data(), rr, w, out[k]);
      }
    });

    // 3. Vertical integration (four rows at a time), diffusion tensor and flux.
    taps_r_full_.assign(2 * rr + 7, 0.f);  // three zeros on each side
    for (int k = -rr; k <= rr; ++k) taps_r_full_[3 + rr + k] = taps_r_[std::abs(k)];
    ParallelFor(0, (h + 3) / 4, [&](int block) {
      const int y0 = 4 * block;
      thread_local std::vector<float> buf;
      thread_local std::vector<const float*> rows;
      const std::size_t len = std::size_t(w) + kPad + kSimdOverrun;
      buf.resize(15 * len);
      rows.resize(2 * rr + 4);
      float* t[15];
      for (int k = 0; k < 15; ++k) t[k] = buf.data() + k * len + kPad;
      // t[4m + j]: integrated component m of row y0 + j.
      std::vector<float>* planes[3] = {&h11_, &h12_, &h22_};
      for (int m = 0; m < 3; ++m) {
        for (int i = 0; i < 2 * rr + 4; ++i) rows[i] = at(*planes[m], 0, hs(y0 - rr + i, h));
        ConvColsBlock4Simd(rows.data(), taps_r_full_.data(), rr, w, t + 4 * m);
      }
      float *a = t[12], *b = t[13], *cc = t[14];
      for (int j = 0; j < 4 && y0 + j < h; ++j) {
        const int y = y0 + j;
        CedDiffusionTensorRowSimd(t[j], t[4 + j], t[8 + j], w, float(alpha_), float(c_), a, b, cc);
        const int ym = std::max(y - 1, 0), yp = std::min(y + 1, h - 1);
        for (int c = 0; c < channels; ++c) {
          float* j1 = at(j1_, c, y);
          float* j2 = at(j2_, c, y);
          CedFluxRowSimd(u.row(c, ym), u.row(c, y), u.row(c, yp), w, inv_dx, a, b, cc, j1, j2);
          j1[-1] = -j1[0];  // antisymmetric ghosts: the adjoint of the x-difference
          j1[w] = -j1[w - 1];
          replicate_ghosts(j2);
        }
      }
    });

    // 4. Divergence and update, in place (u is no longer read by other rows).
    const float rate = float(-dt / dx);
    ParallelFor(0, channels * h, [&](int i) {
      const int c = i / h, y = i % h;
      const int ym = std::max(y - 1, 0), yp = std::min(y + 1, h - 1);
      const float cm = y > 0 ? 0.5f : -0.5f, cp = y + 1 < h ? 0.5f : -0.5f;
      float* row = u.row(c, y);
      CedDivergenceUpdateRowSimd(row, at(j1_, c, ym), at(j1_, c, y), at(j1_, c, yp), at(j2_, c, ym),
                                 at(j2_, c, yp), cm, cp, w, rate, row);
    });
  }

 private:
  static constexpr int kPad = 32;  // ghost columns and SIMD overrun on each side of a row

  // Gaussian taps from the centre outwards (GaussianTaps, as GaussianBlurDirect uses them).
  static void CenterTaps(double sigma, std::vector<float>* out) {
    const std::vector<double> t = GaussianTaps(sigma);
    const int r = int(t.size() / 2);
    out->assign(t.begin() + r, t.end());
  }

  double alpha_, c_, sigma_, rho_;
  CedSolverPlain plain_;
  std::vector<float> taps_s_, taps_r_, taps_r_full_, smooth_, j1_, j2_, h11_, h12_, h22_;
};

}  // namespace

std::unique_ptr<PdeSolver> MakeCedSolver(const PdeParams& params, SchemeImpl impl) {
  if (impl == SchemeImpl::kPlain) return std::make_unique<CedSolverPlain>(params);
  return std::make_unique<CedSolverFast>(params);
}

}  // namespace blade
