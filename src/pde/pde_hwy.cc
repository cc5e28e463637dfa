// Highway (runtime dispatch) row kernels of the fast reference-solver steps (see pde_simd.h).
// Highway's foreach_target re-includes this file, so the include order matters.
// clang-format off
#include "pde/pde_simd.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "blade/error.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "pde/pde_hwy.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/cache_control.h>
#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace blade {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// 1/sqrt(v) for v > 0: the hardware estimate and one Newton step (relative error ~3e-7).
HWY_INLINE V RsqrtNewton(D d, V v) {
  const V y = hn::ApproximateReciprocalSqrt(v);
  const V half_v = hn::Mul(hn::Set(d, 0.5f), v);
  // y (1.5 - 0.5 v y^2)
  return hn::Mul(y, hn::NegMulAdd(half_v, hn::Mul(y, y), hn::Set(d, 1.5f)));
}

// 1/v for normal v: the hardware estimate and one Newton step (relative error ~1e-7).
HWY_INLINE V ReciprocalNewton(D d, V v) {
  const V y = hn::ApproximateReciprocal(v);
  return hn::Mul(y, hn::NegMulAdd(v, y, hn::Set(d, 2.f)));
}

// minmod(p, q)^2 = min(p^2, q^2) if p and q have the same strict sign, else 0.
HWY_INLINE V MinmodSq(D d, V p, V q) {
  const V z = hn::Zero(d);
  const auto same =
      hn::Or(hn::And(hn::Gt(p, z), hn::Gt(q, z)), hn::And(hn::Lt(p, z), hn::Lt(q, z)));
  return hn::IfThenElseZero(same, hn::Min(hn::Mul(p, p), hn::Mul(q, q)));
}

// Stores v to out[x, x + lanes) but not past out[w).
HWY_INLINE void StoreClipped(D d, V v, float* HWY_RESTRICT out, int x, int w) {
  const int n = int(hn::Lanes(d));
  if (x + n <= w) {
    hn::StoreU(v, d, out + x);
  } else {
    HWY_ALIGN float tmp[hn::MaxLanes(d)];
    hn::Store(v, d, tmp);
    std::memcpy(out + x, tmp, sizeof(float) * (w - x));
  }
}

void TvFluxRow(const float* HWY_RESTRICT up, const float* HWY_RESTRICT r,
               const float* HWY_RESTRICT dn, int w, float eps2, float* HWY_RESTRICT a,
               float* HWY_RESTRICT b) {
  const D d;
  const int n = int(hn::Lanes(d));
  const V veps2 = hn::Set(d, eps2);
  for (int x = 0; x < w; x += n) {
    const V c = hn::LoadU(d, r + x);
    const V dxp = hn::Sub(hn::LoadU(d, r + x + 1), c);
    const V dxm = hn::Sub(c, hn::LoadU(d, r + x - 1));
    const V dyp = hn::Sub(hn::LoadU(d, dn + x), c);
    const V dym = hn::Sub(c, hn::LoadU(d, up + x));
    const V ma = hn::MulAdd(dxp, dxp, hn::Add(veps2, MinmodSq(d, dyp, dym)));
    const V mb = hn::MulAdd(dyp, dyp, hn::Add(veps2, MinmodSq(d, dxp, dxm)));
    hn::StoreU(hn::Mul(dxp, RsqrtNewton(d, ma)), d, a + x);
    hn::StoreU(hn::Mul(dyp, RsqrtNewton(d, mb)), d, b + x);
  }
}

// g(D^2) D = D / (1 + D^2 / k^2), with an exact division (the same operations as the plain
// loop, so the fast step reproduces it; a reciprocal estimate would change the last bits of
// the PM reference frames that training data is made of).
HWY_INLINE V PmFlux(D d, V diff, V inv_k2) {
  const V one = hn::Set(d, 1.f);
  const V den = hn::MulAdd(hn::Mul(diff, diff), inv_k2, one);
  return hn::Div(diff, den);
}

void PmFluxRow(const float* HWY_RESTRICT r, const float* HWY_RESTRICT dn, int w, float inv_k2,
               float* HWY_RESTRICT fx, float* HWY_RESTRICT fy) {
  const D d;
  const int n = int(hn::Lanes(d));
  const V k = hn::Set(d, inv_k2);
  for (int x = 0; x < w; x += n) {
    const V c = hn::LoadU(d, r + x);
    hn::StoreU(PmFlux(d, hn::Sub(hn::LoadU(d, r + x + 1), c), k), d, fx + x);
    hn::StoreU(PmFlux(d, hn::Sub(hn::LoadU(d, dn + x), c), k), d, fy + x);
  }
}

void FluxUpdateRow(const float* u, const float* HWY_RESTRICT fx, const float* HWY_RESTRICT fy,
                   const float* HWY_RESTRICT fy_up, int w, float rate, float* out) {
  const D d;
  const int n = int(hn::Lanes(d));
  const V vr = hn::Set(d, rate);
  for (int x = 0; x < w; x += n) {
    const V ax = hn::Sub(hn::LoadU(d, fx + x), hn::LoadU(d, fx + x - 1));
    const V by = hn::Sub(hn::LoadU(d, fy + x), hn::LoadU(d, fy_up + x));
    if (x + n <= w) {
      hn::StoreU(hn::MulAdd(vr, hn::Add(ax, by), hn::LoadU(d, u + x)), d, out + x);
    } else {
      HWY_ALIGN float tmp[hn::MaxLanes(d)] = {};
      std::memcpy(tmp, u + x, sizeof(float) * (w - x));
      StoreClipped(d, hn::MulAdd(vr, hn::Add(ax, by), hn::Load(d, tmp)), out, x, w);
    }
  }
}

// Weickert–Scharr gradient (correlation with [-1 0 1]/2 x [3 10 3]/16) at x..x+lanes.
HWY_INLINE void WsGradient(D d, const float* HWY_RESTRICT up, const float* HWY_RESTRICT r,
                           const float* HWY_RESTRICT dn, int x, V scale, V* gx, V* gy) {
  const V k_side = hn::Set(d, 3.f / 16), k_mid = hn::Set(d, 10.f / 16);
  // Smoothed along y at x - 1 and x + 1, then differenced along x.
  const V sl = hn::MulAdd(k_side, hn::Add(hn::LoadU(d, up + x - 1), hn::LoadU(d, dn + x - 1)),
                          hn::Mul(k_mid, hn::LoadU(d, r + x - 1)));
  const V sr = hn::MulAdd(k_side, hn::Add(hn::LoadU(d, up + x + 1), hn::LoadU(d, dn + x + 1)),
                          hn::Mul(k_mid, hn::LoadU(d, r + x + 1)));
  // Smoothed along x on rows n-1 and n+1, then differenced along y.
  const V su = hn::MulAdd(k_side, hn::Add(hn::LoadU(d, up + x - 1), hn::LoadU(d, up + x + 1)),
                          hn::Mul(k_mid, hn::LoadU(d, up + x)));
  const V sd = hn::MulAdd(k_side, hn::Add(hn::LoadU(d, dn + x - 1), hn::LoadU(d, dn + x + 1)),
                          hn::Mul(k_mid, hn::LoadU(d, dn + x)));
  *gx = hn::Mul(scale, hn::Sub(sr, sl));
  *gy = hn::Mul(scale, hn::Sub(sd, su));
}

void CedTensorProductsRow(const float* HWY_RESTRICT up, const float* HWY_RESTRICT r,
                          const float* HWY_RESTRICT dn, int w, float inv_dx, bool accumulate,
                          float* HWY_RESTRICT j11, float* HWY_RESTRICT j12,
                          float* HWY_RESTRICT j22) {
  const D d;
  const int n = int(hn::Lanes(d));
  const V scale = hn::Set(d, 0.5f * inv_dx);
  for (int x = 0; x < w; x += n) {
    V gx, gy;
    WsGradient(d, up, r, dn, x, scale, &gx, &gy);
    if (accumulate) {
      hn::StoreU(hn::MulAdd(gx, gx, hn::LoadU(d, j11 + x)), d, j11 + x);
      hn::StoreU(hn::MulAdd(gx, gy, hn::LoadU(d, j12 + x)), d, j12 + x);
      hn::StoreU(hn::MulAdd(gy, gy, hn::LoadU(d, j22 + x)), d, j22 + x);
    } else {
      hn::StoreU(hn::Mul(gx, gx), d, j11 + x);
      hn::StoreU(hn::Mul(gx, gy), d, j12 + x);
      hn::StoreU(hn::Mul(gy, gy), d, j22 + x);
    }
  }
}

// D = mu1 w1 w1^T + mu2 w2 w2^T = mu2 I + (mu1 - mu2) P with P = w1 w1^T the projector onto
// the eigenvector of the larger eigenvalue of J = [[j11, j12], [j12, j22]]. With d = j11 - j22,
// s = lambda1 - lambda2 = sqrt(d^2 + 4 j12^2) and e = s + |d|, P = (J - lambda2 I) / s is
//   P = [[(s + d) / 2s, j12 / s], [j12 / s, (s - d) / 2s]],
// where the entry with s - |d| (cancellation) is rewritten as 2 j12^2 / (s e): all three
// entries share the one reciprocal 1 / (s e). For s^2 below FLT_MIN (J of order 1e-19 or 0)
// mu1 = mu2 = alpha unless C = 0, and D = alpha I (the plain code's choice for s = 0).
void CedDiffusionTensorRow(const float* HWY_RESTRICT j11, const float* HWY_RESTRICT j12,
                           const float* HWY_RESTRICT j22, int w, float alpha, float contrast,
                           float* HWY_RESTRICT a, float* HWY_RESTRICT b, float* HWY_RESTRICT c) {
  const D d;
  const int n = int(hn::Lanes(d));
  const V z = hn::Zero(d), one = hn::Set(d, 1.f), half = hn::Set(d, 0.5f), two = hn::Set(d, 2.f);
  const V valpha = hn::Set(d, alpha), vrest = hn::Set(d, 1.f - alpha);
  const V neg_c = hn::Set(d, -contrast), lower = hn::Set(d, -104.f);
  const V tiny = hn::Set(d, std::numeric_limits<float>::min());
  for (int x = 0; x < w; x += n) {
    const V v11 = hn::LoadU(d, j11 + x), v12 = hn::LoadU(d, j12 + x), v22 = hn::LoadU(d, j22 + x);
    const V diff = hn::Sub(v11, v22);
    const V t12 = hn::Mul(two, v12);
    const V s2 = hn::MulAdd(t12, t12, hn::Mul(diff, diff));
    const auto flat = hn::Lt(s2, tiny);
    const V s = hn::Sqrt(s2);
    const V e = hn::Add(s, hn::Abs(diff));
    const V r = ReciprocalNewton(d, hn::IfThenElse(flat, one, hn::Mul(s, e)));  // 1 / (s e)
    const V p_big = hn::Mul(hn::Mul(half, hn::Mul(e, e)), r);                   // (s + |d|) / 2s
    const V p_small = hn::Mul(hn::Mul(half, hn::Mul(t12, t12)), r);             // (s - |d|) / 2s
    const V q = hn::Mul(hn::Mul(half, hn::Mul(t12, e)), r);                     // j12 / s
    const auto ge = hn::Ge(diff, z);
    const V pxx = hn::IfThenElse(ge, p_big, p_small), pyy = hn::IfThenElse(ge, p_small, p_big);
    // mu2 = alpha + (1 - alpha) exp(-C / s^2) for s > 0; mu1 = alpha.
    const V ex = hn::Exp(d, hn::Max(hn::Mul(neg_c, ReciprocalNewton(d, hn::Max(s2, tiny))), lower));
    const V mu2 = hn::IfThenElse(flat, valpha, hn::MulAdd(vrest, ex, valpha));
    const V delta = hn::Sub(valpha, mu2);  // mu1 - mu2
    hn::StoreU(hn::MulAdd(delta, pxx, mu2), d, a + x);
    hn::StoreU(hn::Mul(delta, q), d, b + x);
    hn::StoreU(hn::MulAdd(delta, pyy, mu2), d, c + x);
  }
}

void CedFluxRow(const float* HWY_RESTRICT up, const float* HWY_RESTRICT r,
                const float* HWY_RESTRICT dn, int w, float inv_dx, const float* HWY_RESTRICT a,
                const float* HWY_RESTRICT b, const float* HWY_RESTRICT c, float* HWY_RESTRICT j1,
                float* HWY_RESTRICT j2) {
  const D d;
  const int n = int(hn::Lanes(d));
  const V scale = hn::Set(d, 0.5f * inv_dx);
  // The rows are image rows without ghosts: vectors that would read x = -1 or past w - 1 read
  // replicate-extended copies instead.
  constexpr int kMax = hn::MaxLanes(d);
  HWY_ALIGN float edge[3][kMax + 2 + kMax];
  auto gradient = [&](int x, V* gx, V* gy) {
    if (x >= 1 && x + n + 1 <= w) return WsGradient(d, up, r, dn, x, scale, gx, gy);
    const float* rows[3] = {up, r, dn};
    for (int k = 0; k < 3; ++k)
      for (int i = 0; i < n + 2; ++i) edge[k][i] = rows[k][std::clamp(x - 1 + i, 0, w - 1)];
    WsGradient(d, edge[0] + 1, edge[1] + 1, edge[2] + 1, 0, scale, gx, gy);
  };
  for (int x = 0; x < w; x += n) {
    V gx, gy;
    gradient(x, &gx, &gy);
    const V va = hn::LoadU(d, a + x), vb = hn::LoadU(d, b + x), vc = hn::LoadU(d, c + x);
    hn::StoreU(hn::MulAdd(va, gx, hn::Mul(vb, gy)), d, j1 + x);
    hn::StoreU(hn::MulAdd(vb, gx, hn::Mul(vc, gy)), d, j2 + x);
  }
}

void CedDivergenceUpdateRow(const float* u, const float* HWY_RESTRICT j1m,
                            const float* HWY_RESTRICT j1c, const float* HWY_RESTRICT j1p,
                            const float* HWY_RESTRICT j2m, const float* HWY_RESTRICT j2p, float cm,
                            float cp, int w, float rate, float* out) {
  const D d;
  const int n = int(hn::Lanes(d));
  const V half = hn::Set(d, 0.5f), k_side = hn::Set(d, 3.f / 16), k_mid = hn::Set(d, 10.f / 16);
  const V vcm = hn::Set(d, cm), vcp = hn::Set(d, cp), vr = hn::Set(d, rate);
  // Dx^T along x: 0.5 (v[x-1] - v[x+1]); Dy^T along y: cm j2m - cp j2p.
  auto dxt = [&](const float* v, int x) {
    return hn::Mul(half, hn::Sub(hn::LoadU(d, v + x - 1), hn::LoadU(d, v + x + 1)));
  };
  auto dyt = [&](int x) {
    return hn::NegMulAdd(vcp, hn::LoadU(d, j2p + x), hn::Mul(vcm, hn::LoadU(d, j2m + x)));
  };
  for (int x = 0; x < w; x += n) {
    // Gx^T j1 = Sy^T Dx^T j1 and Gy^T j2 = Sx^T Dy^T j2 (S symmetric: replicate ghosts).
    const V gxt =
        hn::MulAdd(k_side, hn::Add(dxt(j1m, x), dxt(j1p, x)), hn::Mul(k_mid, dxt(j1c, x)));
    const V gyt = hn::MulAdd(k_side, hn::Add(dyt(x - 1), dyt(x + 1)), hn::Mul(k_mid, dyt(x)));
    const V div = hn::Add(gxt, gyt);
    if (x + n <= w) {
      hn::StoreU(hn::MulAdd(vr, div, hn::LoadU(d, u + x)), d, out + x);
    } else {
      HWY_ALIGN float tmp[hn::MaxLanes(d)] = {};
      std::memcpy(tmp, u + x, sizeof(float) * (w - x));
      StoreClipped(d, hn::MulAdd(vr, div, hn::Load(d, tmp)), out, x, w);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace blade
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace blade {

HWY_EXPORT(TvFluxRow);
HWY_EXPORT(PmFluxRow);
HWY_EXPORT(FluxUpdateRow);
HWY_EXPORT(CedTensorProductsRow);
HWY_EXPORT(CedDiffusionTensorRow);
HWY_EXPORT(CedFluxRow);
HWY_EXPORT(CedDivergenceUpdateRow);

void TvFluxRowSimd(const float* up, const float* r, const float* dn, int w, float eps2, float* a,
                   float* b) {
  HWY_DYNAMIC_DISPATCH(TvFluxRow)(up, r, dn, w, eps2, a, b);
}
void PmFluxRowSimd(const float* r, const float* dn, int w, float inv_k2, float* fx, float* fy) {
  HWY_DYNAMIC_DISPATCH(PmFluxRow)(r, dn, w, inv_k2, fx, fy);
}
void FluxUpdateRowSimd(const float* u, const float* fx, const float* fy, const float* fy_up, int w,
                       float rate, float* out) {
  HWY_DYNAMIC_DISPATCH(FluxUpdateRow)(u, fx, fy, fy_up, w, rate, out);
}
void CedTensorProductsRowSimd(const float* up, const float* r, const float* dn, int w, float inv_dx,
                              bool accumulate, float* j11, float* j12, float* j22) {
  HWY_DYNAMIC_DISPATCH(CedTensorProductsRow)(up, r, dn, w, inv_dx, accumulate, j11, j12, j22);
}
void CedDiffusionTensorRowSimd(const float* j11, const float* j12, const float* j22, int w,
                               float alpha, float contrast, float* a, float* b, float* c) {
  HWY_DYNAMIC_DISPATCH(CedDiffusionTensorRow)(j11, j12, j22, w, alpha, contrast, a, b, c);
}
void CedFluxRowSimd(const float* up, const float* r, const float* dn, int w, float inv_dx,
                    const float* a, const float* b, const float* c, float* j1, float* j2) {
  HWY_DYNAMIC_DISPATCH(CedFluxRow)(up, r, dn, w, inv_dx, a, b, c, j1, j2);
}
void CedDivergenceUpdateRowSimd(const float* u, const float* j1m, const float* j1c,
                                const float* j1p, const float* j2m, const float* j2p, float cm,
                                float cp, int w, float rate, float* out) {
  HWY_DYNAMIC_DISPATCH(CedDivergenceUpdateRow)(u, j1m, j1c, j1p, j2m, j2p, cm, cp, w, rate, out);
}

}  // namespace blade
#endif
