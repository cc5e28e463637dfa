// The classical schemes' right-hand sides F(u) and their vector-Jacobian products, for BLADE
// models that filter F(u) beside u (the scheme term, blade/model.h).
#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/parallel.h"
#include "blade/pde.h"
#include "pde/pde_simd.h"
#include "pde/schemes.h"

namespace blade {
namespace {

// d minmod(a, b) / da and / db: 1 for the argument minmod returns, 0 for the other (both 0
// where it returns 0). Ties (|a| = |b|) go to b, as Minmod returns b then.
inline void MinmodGrad(float a, float b, float* da, float* db) {
  *da = *db = 0.f;
  if ((a > 0) != (b > 0) || a == 0 || b == 0) return;
  const bool take_a = a > 0 ? a < b : a > b;
  (take_a ? *da : *db) = 1.f;
}

// One plane's face quantities of TV flow or Perona-Malik at pixel (x, y): the forward and
// backward differences with zero-flux (replicate) borders, as the solvers take them.
struct Diffs {
  float dxp, dxm, dyp, dym;
};
inline Diffs DiffsAt(const float* p, int w, int h, int x, int y) {
  const float* r = p + std::size_t(y) * w;
  const float* up = y > 0 ? r - w : r;
  const float* dn = y + 1 < h ? r + w : r;
  return {x + 1 < w ? r[x + 1] - r[x] : 0.f, x > 0 ? r[x] - r[x - 1] : 0.f, dn[x] - r[x],
          r[x] - up[x]};
}

// The divergence of face fluxes a (x-face x+1/2) and b (y-face y+1/2), zero outside, times rate.
void Divergence(const std::vector<float>& a, const std::vector<float>& b, int w, int h, float rate,
                float* out) {
  ParallelFor(0, h, [&](int y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = std::size_t(y) * w + x;
      out[i] = rate * ((a[i] - (x > 0 ? a[i - 1] : 0.f)) + (b[i] - (y > 0 ? b[i - w] : 0.f)));
    }
  });
}

// The adjoint of Divergence: ga = rate (g_x - g_{x+1}), gb = rate (g_y - g_{y+1}).
void DivergenceAdjoint(const float* g, int w, int h, float rate, std::vector<float>& ga,
                       std::vector<float>& gb) {
  ga.assign(std::size_t(w) * h, 0.f);
  gb.assign(std::size_t(w) * h, 0.f);
  ParallelFor(0, h, [&](int y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = std::size_t(y) * w + x;
      ga[i] = rate * (g[i] - (x + 1 < w ? g[i + 1] : 0.f));
      gb[i] = rate * (g[i] - (y + 1 < h ? g[i + w] : 0.f));
    }
  });
}

// Scatters a face quantity's gradient with respect to the differences at (x, y) onto u.
// Each difference is a difference of two pixels, so the scatter runs serially.
void ScatterDiffs(int w, int h, int x, int y, const Diffs& d, float* gu) {
  const std::size_t i = std::size_t(y) * w + x;
  if (x + 1 < w) {
    gu[i + 1] += d.dxp;
    gu[i] -= d.dxp;
  }
  if (x > 0) {
    gu[i] += d.dxm;
    gu[i - 1] -= d.dxm;
  }
  if (y + 1 < h) {
    gu[i + w] += d.dyp;
    gu[i] -= d.dyp;
  }
  if (y > 0) {
    gu[i] += d.dym;
    gu[i - w] -= d.dym;
  }
}

// g times the gradient of one TV face flux f = D / s, s = sqrt(eps2 + D^2 + minmod(p, q)^2),
// added to the differences it reads: df/dD = (eps2 + m^2) / s^3, df/dm = -D m / s^3, and m's
// gradient goes to the argument minmod returned.
inline void TvFluxGrad(float g, float D, float p, float q, float eps2, float* gD, float* gp,
                       float* gq) {
  const float m = Minmod(p, q);
  const float s2 = eps2 + D * D + m * m, s3 = s2 * std::sqrt(s2);
  float dmp, dmm;
  MinmodGrad(p, q, &dmp, &dmm);
  const float gm = g * (-D * m / s3);
  *gD += g * (eps2 + m * m) / s3;
  *gp += gm * dmp;
  *gq += gm * dmm;
}

// TV flow (tv_flow.cc): a = D+x u / sqrt(eps^2 dx^2 + (D+x u)^2 + mm(D+y u, D-y u)^2), b likewise,
// F = (a_x - a_{x-1} + b_y - b_{y-1}) / dx.
void TvPlane(const float* p, int w, int h, double eps, double dx, float* out, const float* g,
             float* gu) {
  const float eps2 = float(eps * dx * eps * dx), rate = float(1.0 / dx);
  std::vector<float> a(std::size_t(w) * h), b(a.size());
  if (g == nullptr) {
    ParallelFor(0, h, [&](int y) {
      for (int x = 0; x < w; ++x) {
        const Diffs d = DiffsAt(p, w, h, x, y);
        const float mx = Minmod(d.dyp, d.dym), my = Minmod(d.dxp, d.dxm);
        a[std::size_t(y) * w + x] = d.dxp / std::sqrt(eps2 + d.dxp * d.dxp + mx * mx);
        b[std::size_t(y) * w + x] = d.dyp / std::sqrt(eps2 + d.dyp * d.dyp + my * my);
      }
    });
    Divergence(a, b, w, h, rate, out);
    return;
  }
  DivergenceAdjoint(g, w, h, rate, a, b);  // a, b now hold dL/da, dL/db
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::size_t i = std::size_t(y) * w + x;
      const Diffs d = DiffsAt(p, w, h, x, y);
      Diffs gd{0, 0, 0, 0};
      TvFluxGrad(a[i], d.dxp, d.dyp, d.dym, eps2, &gd.dxp, &gd.dyp, &gd.dym);
      TvFluxGrad(b[i], d.dyp, d.dxp, d.dxm, eps2, &gd.dyp, &gd.dxp, &gd.dxm);
      ScatterDiffs(w, h, x, y, gd, gu);
    }
}

// Perona-Malik (perona_malik.cc): face flux D / (1 + D^2 / (c dx)^2), F = their divergence / dx^2.
void PmPlane(const float* p, int w, int h, double c, double dx, float* out, const float* g,
             float* gu) {
  const float k = float(1.0 / (c * dx * c * dx)), rate = float(1.0 / (dx * dx));
  std::vector<float> a(std::size_t(w) * h), b(a.size());
  if (g == nullptr) {
    ParallelFor(0, h, [&](int y) {
      for (int x = 0; x < w; ++x) {
        const Diffs d = DiffsAt(p, w, h, x, y);
        a[std::size_t(y) * w + x] = d.dxp / (1.f + d.dxp * d.dxp * k);
        b[std::size_t(y) * w + x] = d.dyp / (1.f + d.dyp * d.dyp * k);
      }
    });
    Divergence(a, b, w, h, rate, out);
    return;
  }
  DivergenceAdjoint(g, w, h, rate, a, b);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const std::size_t i = std::size_t(y) * w + x;
      const Diffs d = DiffsAt(p, w, h, x, y);
      auto slope = [k](float t) {
        const float q = 1.f + t * t * k;
        return (1.f - t * t * k) / (q * q);
      };
      ScatterDiffs(w, h, x, y, {a[i] * slope(d.dxp), 0.f, b[i] * slope(d.dyp), 0.f}, gu);
    }
}

// The 5-point Laplacian with replicate (Neumann) borders, / dx^2: symmetric, so its own adjoint.
void Laplacian(const float* p, int w, int h, float rate, float* out) {
  ParallelFor(0, h, [&](int y) {
    const float* r = p + std::size_t(y) * w;
    const float* up = y > 0 ? r - w : r;
    const float* dn = y + 1 < h ? r + w : r;
    for (int x = 0; x < w; ++x) {
      const float l = x > 0 ? r[x - 1] : r[x], rt = x + 1 < w ? r[x + 1] : r[x];
      out[std::size_t(y) * w + x] = rate * (l + rt + up[x] + dn[x] - 4.f * r[x]);
    }
  });
}

// Cahn-Hilliard: F = L(W'(u) - gamma L u), W'(u) = 4u^3 - 6u^2 + 2u;
// (dF/du)^T g = W''(u) (L g) - gamma L L g, W''(u) = 12u^2 - 12u + 2.
void ChPlane(const float* p, int w, int h, double gamma, double dx, float* out, const float* g,
             float* gu) {
  const float rate = float(1.0 / (dx * dx)), gm = float(gamma);
  const std::size_t n = std::size_t(w) * h;
  std::vector<float> t(n), lt(n);
  if (g == nullptr) {
    Laplacian(p, w, h, rate, lt.data());
    for (std::size_t i = 0; i < n; ++i) {
      const float u = p[i];
      t[i] = u * (u * (4.f * u - 6.f) + 2.f) - gm * lt[i];
    }
    Laplacian(t.data(), w, h, rate, out);
    return;
  }
  Laplacian(g, w, h, rate, lt.data());
  Laplacian(lt.data(), w, h, rate, t.data());
  for (std::size_t i = 0; i < n; ++i) {
    const float u = p[i];
    gu[i] += (u * (12.f * u - 12.f) + 2.f) * lt[i] - gm * t[i];
  }
}

// The fast forward of TV flow and Perona-Malik: the solvers' own SIMD row kernels for the face
// fluxes (tested against TvPlane / PmPlane), then their divergence as an update of zero.
void FluxRhsPlaneFast(Pde pde, const PdeParams& params, const float* p, int w, int h, double dx,
                      float* out) {
  const int stride = w + 2 + kSimdOverrun;
  // Rows padded with replicate ghosts r[-1] = r[0], r[w] = r[w-1]; fluxes with a zero at [-1].
  std::vector<float> pad(std::size_t(h) * stride), fa(pad.size(), 0.f), fb(pad.size(), 0.f);
  const std::vector<float> zero(stride, 0.f);
  ParallelFor(0, h, [&](int y) {
    float* r = pad.data() + std::size_t(y) * stride + 1;
    std::copy(p + std::size_t(y) * w, p + std::size_t(y + 1) * w, r);
    r[-1] = r[0];
    r[w] = r[w - 1];
  });
  const float eps2 = float(params.tv_eps * dx * params.tv_eps * dx);
  const float inv_k2 = float(1.0 / (params.pm_c * dx * params.pm_c * dx));
  ParallelFor(0, h, [&](int y) {
    const float* r = pad.data() + std::size_t(y) * stride + 1;
    const float* dn = y + 1 < h ? r + stride : r;
    float* a = fa.data() + std::size_t(y) * stride + 1;
    float* b = fb.data() + std::size_t(y) * stride + 1;
    if (pde == Pde::kTv)
      TvFluxRowSimd(y > 0 ? r - stride : r, r, dn, w, eps2, a, b);
    else
      PmFluxRowSimd(r, dn, w, inv_k2, a, b);
  });
  const float rate = float(pde == Pde::kTv ? 1.0 / dx : 1.0 / (dx * dx));
  ParallelFor(0, h, [&](int y) {
    const float* a = fa.data() + std::size_t(y) * stride + 1;
    const float* b = fb.data() + std::size_t(y) * stride + 1;
    FluxUpdateRowSimd(zero.data(), a, b, y > 0 ? b - stride : zero.data(), w, rate,
                      out + std::size_t(y) * w);
  });
}

void RhsPlanes(Pde pde, const PdeParams& params, const Image& u, double dx, const Image* g,
               Image& out, SchemeImpl impl) {
  if (!HasClassicalRhs(pde))
    Fail("the ", PdeName(pde),
         " scheme has no explicit right-hand side here (scheme terms: tv, pm, ch)");
  RequirePositive(dx, "the grid spacing dx");
  if (u.empty()) Fail("the image is empty");
  if (g != nullptr &&
      (g->width() != u.width() || g->height() != u.height() || g->channels() != u.channels()))
    Fail("the gradient's size differs from the image's");
  const int w = u.width(), h = u.height();
  for (int c = 0; c < u.channels(); ++c) {
    const float* gp = g != nullptr ? g->plane(c) : nullptr;
    float* o = g == nullptr ? out.plane(c) : nullptr;
    float* gu = g != nullptr ? out.plane(c) : nullptr;
    if (g == nullptr && impl == SchemeImpl::kFast && pde != Pde::kCh) {
      FluxRhsPlaneFast(pde, params, u.plane(c), w, h, dx, o);
      continue;
    }
    switch (pde) {
      case Pde::kTv:
        TvPlane(u.plane(c), w, h, params.tv_eps, dx, o, gp, gu);
        break;
      case Pde::kPm:
        PmPlane(u.plane(c), w, h, params.pm_c, dx, o, gp, gu);
        break;
      case Pde::kCh:
        ChPlane(u.plane(c), w, h, params.ch_gamma, dx, o, gp, gu);
        break;
      default:
        break;
    }
  }
}

}  // namespace

bool HasClassicalRhs(Pde pde) { return pde == Pde::kTv || pde == Pde::kPm || pde == Pde::kCh; }

bool CommutesWithAddingConstant(Pde pde) { return pde != Pde::kCh; }

bool CouplesChannels(Pde pde) { return pde == Pde::kCed; }

Image ClassicalRhsImpl(Pde pde, const PdeParams& params, const Image& u, double dx,
                       SchemeImpl impl) {
  Image out(u.width(), u.height(), u.channels());
  RhsPlanes(pde, params, u, dx, nullptr, out, impl);
  return out;
}

Image ClassicalRhs(Pde pde, const PdeParams& params, const Image& u, double dx) {
  return ClassicalRhsImpl(pde, params, u, dx, SchemeImpl::kFast);
}

Image ClassicalRhsVjp(Pde pde, const PdeParams& params, const Image& u, const Image& g, double dx) {
  Image out(u.width(), u.height(), u.channels());  // zero-initialised: the VJP accumulates
  RhsPlanes(pde, params, u, dx, &g, out, SchemeImpl::kPlain);
  return out;
}

}  // namespace blade
