// SIMD (Highway, runtime dispatch) eigen-analysis and quantization of smoothed structure tensors
// into filter indices. Highway's foreach_target re-includes this file, so the include order
// matters.
// clang-format off
#include "blade/quantize.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "blade/quantize_hwy.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/highway.h>
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace blade {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Per pixel (lanes independent), float throughout:
//   d = j11 - j22, e = 2 j12, s = sqrt(d^2 + e^2), l1 = (j11 + j22 + s) / 2,
//   l2 = det / l1 with det = j11 j22 - j12^2 evaluated by Kahan's fused difference of products
//   (so l2 does not cancel where the structure is coherent, which (tr - s) / 2 would),
//   strength = sqrt(l1), coherence = (sqrt(l1) - sqrt(l2)) / (sqrt(l1) + sqrt(l2)),
//   orientation bin = floor(atan2(e, d) mod 2 pi / (2 pi) * N): theta = phi / 2 in [0, pi).
// Bins of strength, coherence and intensity count the thresholds <= value (NaN: bin 0).
// Strength and coherence are compared in squared form (QuantizeTables), the orientation bin by
// comparisons against the bin edges when 8 divides N (else a polynomial atan2), and the
// quotients use a refined reciprocal estimate (Newton step, about 1 ulp): one square root per
// pixel and no division.
// kStrengths, kCoherences, kOctants: the threshold and octant-edge counts when known at compile
// time (the loops over them unroll and their constants stay in registers), or -1 to read them
// from the tables.
template <int kStrengths, int kCoherences, int kOctants>
void QuantizeRowImpl(const float* HWY_RESTRICT j11p, const float* HWY_RESTRICT j12p,
                     const float* HWY_RESTRICT j22p, const float* HWY_RESTRICT luma, int n,
                     const QuantizeTables& t, std::int32_t* HWY_RESTRICT out) {
  const int strength_count = kStrengths >= 0 ? kStrengths : t.strength_count;
  const int coherence_count = kCoherences >= 0 ? kCoherences : t.coherence_count;
  const int octant_count = kOctants >= 0 ? kOctants : t.octant_count;
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const int lanes = int(hn::Lanes(df));
  const auto zero = hn::Zero(df), one = hn::Set(df, 1.f), two = hn::Set(df, 2.f),
             half = hn::Set(df, 0.5f);
  const auto half_pi = hn::Set(df, 1.57079637f), pi = hn::Set(df, 3.14159274f),
             two_pi = hn::Set(df, 6.28318548f);
  const auto bins_per_radian = hn::Set(df, t.orientations / 6.28318530717958647692f);
  const auto n_ori = hn::Set(df, float(t.orientations));
  const auto max_ori = hn::Set(df, float(t.orientations - 1));
  const auto c0 = hn::Set(df, -0.0117212f), c1 = hn::Set(df, 0.05265332f),
             c2 = hn::Set(df, -0.11643287f), c3 = hn::Set(df, 0.19354346f),
             c4 = hn::Set(df, -0.33262347f), c5 = hn::Set(df, 0.99997726f);
  // 1 / v for v > 0: the hardware estimate and one Newton step, where every lane is well inside
  // the range that estimate covers (not denormal, not near overflow); else a true division.
  const auto tiny = hn::Set(df, 1e-30f), huge = hn::Set(df, 1e30f);
  auto reciprocal = [&](decltype(one) v) {
    if (!hn::AllTrue(df, hn::And(hn::Ge(v, tiny), hn::Le(v, huge)))) return hn::Div(one, v);
    const auto r = hn::ApproximateReciprocal(v);
    return hn::Mul(r, hn::NegMulAdd(v, r, two));
  };
  // The tables as local constants: read through `t` inside the loop they would be reloaded
  // every vector (the int stores to `out` may alias them as far as the compiler knows).
  using VF = hn::Vec<decltype(df)>;
  VF strength_sq[16], coherence_a[16], coherence_b[16], intensity[16], octant_tan[8];
  bool coherence_flat[16];
  for (int k = 0; k < strength_count; ++k) strength_sq[k] = hn::Set(df, t.strength_sq[k]);
  for (int k = 0; k < coherence_count; ++k) {
    coherence_a[k] = hn::Set(df, t.coherence_a[k]);
    coherence_b[k] = hn::Set(df, t.coherence_b[k]);
    coherence_flat[k] = t.coherence_flat[k];
  }
  const int intensity_count = t.intensity_count;
  for (int k = 0; k < intensity_count; ++k) intensity[k] = hn::Set(df, t.intensity[k]);
  for (int k = 0; k < octant_count; ++k) octant_tan[k] = hn::Set(df, t.octant_tan[k]);
  // The flat index ori + No (sb + Ns (cb + Nc vb)) is summed in float on top of 2^23, where
  // floats are the integers (indices are below 2^18, so every sum is exact): each threshold
  // passed adds its bin's stride, and the index is the float's bits less those of 2^23 (one
  // integer subtraction instead of a conversion with its overflow fix-ups).
  const auto magic = hn::Set(df, 8388608.f);
  const auto magic_bits = hn::BitCast(di, magic);
  const auto strength_step = hn::Set(df, float(t.orientations));
  const auto coherence_step = hn::Set(df, float(t.orientations * t.strengths));
  const auto intensity_step = hn::Set(df, float(t.orientations * t.strengths * t.coherences));
  // Row buffers are padded to a multiple of the widest vector, so no tail loop is needed.
  for (int x = 0; x < n; x += lanes) {
    const auto j11 = hn::LoadU(df, j11p + x), j12 = hn::LoadU(df, j12p + x),
               j22 = hn::LoadU(df, j22p + x);
    const auto d = hn::Sub(j11, j22), e = hn::Add(j12, j12);
    const auto s = hn::Sqrt(hn::MulAdd(d, d, hn::Mul(e, e)));
    const auto l1 = hn::Mul(half, hn::Add(hn::Add(j11, j22), s));
    const auto w = hn::Mul(j12, j12);
    const auto det = hn::Add(hn::MulSub(j11, j22, w), hn::NegMulAdd(j12, j12, w));
    const auto l1_pos = hn::Gt(l1, zero);
    const auto l2 = hn::Max(
        zero,
        hn::IfThenElseZero(l1_pos, hn::Mul(det, reciprocal(hn::IfThenElse(l1_pos, l1, one)))));
    const auto l1c = hn::Max(zero, l1);

    hn::Vec<decltype(df)> ori;
    if (octant_count >= 0) {
      // By comparisons against the bin edges (no arctangent, no division). Fold phi by the
      // plane's symmetries into [0, pi / 4]: the lower half-plane onto the upper (phi - pi; e = 0
      // with d < 0 is phi = pi, so it folds too), the left quadrant onto the right (pi - phi), the
      // upper octant onto the lower (pi / 2 - phi); count the edges below, then unfold the bin.
      const int m = octant_count + 1;  // bins per octant
      const auto lower = hn::Or(hn::Lt(e, zero), hn::And(hn::Eq(e, zero), hn::Lt(d, zero)));
      const auto d1 = hn::IfThenElse(lower, hn::Neg(d), d),
                 e1 = hn::IfThenElse(lower, hn::Neg(e), e);
      const auto left = hn::Lt(d1, zero);
      const auto ax = hn::Abs(d1);
      const auto swap = hn::Gt(e1, ax);
      const auto mx = hn::Max(ax, e1);
      // A flat tensor (d = e = 0) is phi = 0: no edge counts.
      const auto mn = hn::IfThenElse(hn::Gt(mx, zero), hn::Min(ax, e1), hn::Set(df, -1.f));
      auto j = zero;
      for (int k = 0; k < octant_count; ++k)
        j = hn::Add(j, hn::IfThenElseZero(hn::Ge(mn, hn::Mul(octant_tan[k], mx)), one));
      const auto q = hn::IfThenElse(swap, hn::Sub(hn::Set(df, float(2 * m - 1)), j), j);
      const auto half_bin = hn::IfThenElse(left, hn::Sub(hn::Set(df, float(4 * m - 1)), q), q);
      ori = hn::Add(half_bin, hn::IfThenElseZero(lower, hn::Set(df, float(4 * m))));
    } else {
      // atan2(e, d): minimax atan on [0, 1] after folding into the first octant (|err| ~ 1e-5).
      const auto ax = hn::Abs(d), ay = hn::Abs(e);
      const auto mx = hn::Max(ax, ay), mn = hn::Min(ax, ay);
      const auto mx_pos = hn::Gt(mx, zero);
      const auto a = hn::Min(
          one,
          hn::IfThenElseZero(mx_pos, hn::Mul(mn, reciprocal(hn::IfThenElse(mx_pos, mx, one)))));
      const auto a2 = hn::Mul(a, a);
      auto r = hn::MulAdd(c0, a2, c1);
      r = hn::MulAdd(r, a2, c2);
      r = hn::MulAdd(r, a2, c3);
      r = hn::MulAdd(r, a2, c4);
      r = hn::MulAdd(r, a2, c5);
      r = hn::Mul(r, a);
      r = hn::IfThenElse(hn::Gt(ay, ax), hn::Sub(half_pi, r), r);
      r = hn::IfThenElse(hn::Lt(d, zero), hn::Sub(pi, r), r);
      r = hn::IfThenElse(hn::Lt(e, zero), hn::Neg(r), r);
      const auto phi = hn::IfThenElse(hn::Lt(r, zero), hn::Add(r, two_pi), r);
      const auto q = hn::Mul(phi, bins_per_radian);
      // NaN or out of range (an overflowed state) takes bin 0 instead of an invalid index. The bin
      // stays in float until the final index (one conversion per pixel).
      const auto q_ok = hn::And(hn::Ge(q, zero), hn::Lt(q, n_ori));
      ori = hn::Min(hn::Floor(hn::IfThenElseZero(q_ok, q)), max_ori);
    }

    auto index = hn::Add(ori, magic);
    for (int k = 0; k < strength_count; ++k)
      index = hn::Add(index, hn::IfThenElseZero(hn::Ge(l1c, strength_sq[k]), strength_step));
    for (int k = 0; k < coherence_count; ++k) {
      // Where l1 = 0 (so l2 = 0) the comparison holds, and the coherence is 0 there: count such
      // pixels only for thresholds t <= 0.
      auto counted = hn::Ge(hn::Mul(l1c, coherence_a[k]), hn::Mul(l2, coherence_b[k]));
      if (!coherence_flat[k]) counted = hn::And(counted, l1_pos);
      index = hn::Add(index, hn::IfThenElseZero(counted, coherence_step));
    }
    if (intensity_count > 0) {
      const auto v = hn::LoadU(df, luma + x);
      for (int k = 0; k < intensity_count; ++k)
        index = hn::Add(index, hn::IfThenElseZero(hn::Le(intensity[k], v), intensity_step));
    }
    hn::StoreU(hn::Sub(hn::BitCast(di, index), magic_bits), di, out + x);
  }
}

void QuantizeTensorRow(const float* HWY_RESTRICT j11, const float* HWY_RESTRICT j12,
                       const float* HWY_RESTRICT j22, const float* HWY_RESTRICT luma, int n,
                       const QuantizeTables& t, std::int32_t* HWY_RESTRICT out) {
  // Compile-time counts for the common rules: 24 orientations (two edges per octant) with 3
  // coherence bins and 3 or 8 strength bins (the benchmark's and the shipped models').
  if (t.octant_count == 2 && t.coherence_count == 2 && t.strength_count == 2)
    return QuantizeRowImpl<2, 2, 2>(j11, j12, j22, luma, n, t, out);
  if (t.octant_count == 2 && t.coherence_count == 2 && t.strength_count == 7)
    return QuantizeRowImpl<7, 2, 2>(j11, j12, j22, luma, n, t, out);
  QuantizeRowImpl<-1, -1, -1>(j11, j12, j22, luma, n, t, out);
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

int Lanes() { return int(hn::Lanes(hn::ScalableTag<float>())); }

}  // namespace HWY_NAMESPACE
}  // namespace blade
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace blade {

HWY_EXPORT(QuantizeTensorRow);
HWY_EXPORT(TargetName);
HWY_EXPORT(Lanes);

void QuantizeTensorRow(const float* j11, const float* j12, const float* j22, const float* luma,
                       int n, const QuantizeTables& tables, std::int32_t* out) {
  HWY_DYNAMIC_DISPATCH(QuantizeTensorRow)(j11, j12, j22, luma, n, tables, out);
}

const char* QuantizeTarget() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

int QuantizeRowPadding() { return HWY_DYNAMIC_DISPATCH(Lanes)(); }

}  // namespace blade
#endif
