// TV flow u_t = div(grad u / |grad u|_eps): the explicit Rudin–Osher–Fatemi scheme with minmod.
#include <cmath>
#include <vector>

#include "blade/parallel.h"
#include "pde/flux_bands.h"
#include "pde/pde_simd.h"
#include "pde/schemes.h"

namespace blade {
namespace {

// Face fluxes a (x-face m+1/2) and b (y-face n+1/2) are computed once per face and then
// differenced, so the update telescopes and the total mass is conserved to rounding.
// With dx, a = D+x u / sqrt((eps dx)^2 + (D+x u)^2 + mm(D+y u, D-y u)^2) is dimensionless and
// u += dt/dx * (a_m - a_{m-1} + b_n - b_{n-1}) (REFERENCE_SCHEMES.md §1 with h = dx).
// The plain reference implementation: two passes over the plane, scalar loops.
class TvFlowSolverPlain : public PdeSolver {
 public:
  explicit TvFlowSolverPlain(const PdeParams& p) : eps_(p.tv_eps) {}

  // Each face coefficient is at most 1/(dx^2 eps); four faces: dt <= eps dx^2 / 4 keeps the
  // update a convex combination (maximum principle).
  double MaxStableDt(double dx) const override { return eps_ * dx * dx / 4.0; }

  void Step(Image& u, double dt, double dx) override {
    const int w = u.width(), h = u.height();
    const float eps2 = float(eps_ * dx * eps_ * dx);
    const float rate = float(dt / dx);
    a_.resize(u.plane_size());
    b_.resize(u.plane_size());
    for (int c = 0; c < u.channels(); ++c) {
      float* p = u.plane(c);
      ParallelFor(0, h, [&](int y) {
        const float* r = p + std::size_t(y) * w;
        const float* up = y > 0 ? r - w : r;
        const float* dn = y + 1 < h ? r + w : r;
        float* a = a_.data() + std::size_t(y) * w;
        float* b = b_.data() + std::size_t(y) * w;
        for (int x = 0; x < w; ++x) {
          const float dxp = x + 1 < w ? r[x + 1] - r[x] : 0.f;
          const float dxm = x > 0 ? r[x] - r[x - 1] : 0.f;
          const float dyp = dn[x] - r[x];
          const float dym = r[x] - up[x];
          const float mx = Minmod(dyp, dym), my = Minmod(dxp, dxm);
          a[x] = dxp / std::sqrt(eps2 + dxp * dxp + mx * mx);
          b[x] = dyp / std::sqrt(eps2 + dyp * dyp + my * my);
        }
      });
      ParallelFor(0, h, [&](int y) {
        float* r = p + std::size_t(y) * w;
        const float* a = a_.data() + std::size_t(y) * w;
        const float* b = b_.data() + std::size_t(y) * w;
        const float* bu = y > 0 ? b - w : nullptr;
        for (int x = 0; x < w; ++x) {
          const float div = (a[x] - (x > 0 ? a[x - 1] : 0.f)) + (b[x] - (bu ? bu[x] : 0.f));
          r[x] += rate * div;
        }
      });
    }
  }

 private:
  double eps_;
  std::vector<float> a_, b_;
};

// The fast implementation of the same step: one fused in-place pass over bands of rows with
// SIMD kernels (1/sqrt from the hardware estimate plus one Newton step, relative error ~3e-7).
class TvFlowSolverFast : public PdeSolver {
 public:
  explicit TvFlowSolverFast(const PdeParams& p) : eps_(p.tv_eps) {}
  double MaxStableDt(double dx) const override { return eps_ * dx * dx / 4.0; }

  void Step(Image& u, double dt, double dx) override { Steps(u, dt, dx, 1); }

  void Steps(Image& u, double dt, double dx, int steps) override {
    const float eps2 = float(eps_ * dx * eps_ * dx);
    const float rate = float(dt / dx);
    const int w = u.width();
    for (int c = 0; c < u.channels(); ++c)
      bands_.Steps(u.plane(c), w, u.height(), rate, steps,
                   [&](const float* up, const float* r, const float* dn, float* a, float* b) {
                     TvFluxRowSimd(up, r, dn, w, eps2, a, b);
                   });
  }

 private:
  double eps_;
  FluxBands bands_;
};

}  // namespace

std::unique_ptr<PdeSolver> MakeTvFlowSolver(const PdeParams& params, SchemeImpl impl) {
  if (impl == SchemeImpl::kPlain) return std::make_unique<TvFlowSolverPlain>(params);
  return std::make_unique<TvFlowSolverFast>(params);
}

}  // namespace blade
