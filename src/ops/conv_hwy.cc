// Highway (runtime dispatch) symmetric convolution rows and columns (see conv_simd.h): the
// separable Gaussians of selection, CED and GaussianBlur.
// Highway's foreach_target re-includes this file, so the include order matters.
// clang-format off
#include "ops/conv_simd.h"

#include <cstring>
#include <type_traits>
#include <utility>

#include "blade/error.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ops/conv_hwy.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/cache_control.h>
#include <hwy/highway.h>
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace blade {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

void ConvRowSym(const float* HWY_RESTRICT p, const float* HWY_RESTRICT taps, int radius, int w,
                float* HWY_RESTRICT out) {
  const D d;
  const int n = int(hn::Lanes(d));
  int x = 0;
  // Four vectors at a time: four independent accumulation chains.
  for (; x + 4 * n <= w; x += 4 * n) {
    const V t0 = hn::Set(d, taps[0]);
    V a0 = hn::Mul(t0, hn::LoadU(d, p + x)), a1 = hn::Mul(t0, hn::LoadU(d, p + x + n));
    V a2 = hn::Mul(t0, hn::LoadU(d, p + x + 2 * n)), a3 = hn::Mul(t0, hn::LoadU(d, p + x + 3 * n));
    for (int k = 1; k <= radius; ++k) {
      const V t = hn::Set(d, taps[k]);
      const float* l = p + x - k;
      const float* r = p + x + k;
      a0 = hn::MulAdd(t, hn::Add(hn::LoadU(d, l), hn::LoadU(d, r)), a0);
      a1 = hn::MulAdd(t, hn::Add(hn::LoadU(d, l + n), hn::LoadU(d, r + n)), a1);
      a2 = hn::MulAdd(t, hn::Add(hn::LoadU(d, l + 2 * n), hn::LoadU(d, r + 2 * n)), a2);
      a3 = hn::MulAdd(t, hn::Add(hn::LoadU(d, l + 3 * n), hn::LoadU(d, r + 3 * n)), a3);
    }
    hn::StoreU(a0, d, out + x);
    hn::StoreU(a1, d, out + x + n);
    hn::StoreU(a2, d, out + x + 2 * n);
    hn::StoreU(a3, d, out + x + 3 * n);
  }
  for (; x < w; x += n) {
    V acc = hn::Mul(hn::Set(d, taps[0]), hn::LoadU(d, p + x));
    for (int k = 1; k <= radius; ++k)
      acc = hn::MulAdd(hn::Set(d, taps[k]),
                       hn::Add(hn::LoadU(d, p + x - k), hn::LoadU(d, p + x + k)), acc);
    hn::StoreU(acc, d, out + x);
  }
}

#if HWY_TARGET == HWY_AVX3
// ConvRowSym for radius kRadius <= 15 from 64-byte aligned vectors: each shifted input is a
// valignd of two aligned loads instead of an unaligned load, which straddles two cache lines
// (two loads' worth) whenever it is not aligned. The same adds and multiply-adds in the same
// order, so bit for bit ConvRowSym's sums.
template <int kRadius>
HWY_INLINE void ConvRowSymAlignedFixed(const float* HWY_RESTRICT p, const float* HWY_RESTRICT taps,
                                       int w, float* HWY_RESTRICT out) {
  __m512 t[kRadius + 1];
  for (int k = 0; k <= kRadius; ++k) t[k] = _mm512_set1_ps(taps[k]);
  __m512i a = _mm512_castps_si512(_mm512_load_ps(p - 16)),
          b = _mm512_castps_si512(_mm512_load_ps(p));
  for (int x = 0; x < w; x += 16) {
    const __m512i c = _mm512_castps_si512(_mm512_load_ps(p + x + 16));
    __m512 acc = _mm512_mul_ps(t[0], _mm512_castsi512_ps(b));
    [&]<int... K>(std::integer_sequence<int, K...>) {
      ((acc = _mm512_fmadd_ps(
            t[K + 1],
            _mm512_add_ps(_mm512_castsi512_ps(_mm512_alignr_epi32(b, a, 16 - (K + 1))),
                          _mm512_castsi512_ps(_mm512_alignr_epi32(c, b, K + 1))),
            acc)),
       ...);
    }
    (std::make_integer_sequence<int, kRadius>());
    _mm512_store_ps(out + x, acc);
    a = b;
    b = c;
  }
}
#endif

void ConvRowSymAligned(const float* HWY_RESTRICT p, const float* HWY_RESTRICT taps, int radius,
                       int w, float* HWY_RESTRICT out) {
#if HWY_TARGET == HWY_AVX3
  if ([&]<int... R>(std::integer_sequence<int, R...>) {
        return (
            (radius == R + 1 ? (ConvRowSymAlignedFixed<R + 1>(p, taps, w, out), true) : false) ||
            ...);
      }(std::make_integer_sequence<int, kConvRowSymAlignedMaxRadius>()))
    return;
#endif
  ConvRowSym(p, taps, radius, w, out);
}

// Four output rows at once (rows[i] is input row y0 - R + i, i < 2R + 4; out[j] is row y0 + j),
// two vectors at a time: each input vector is loaded once for the four rows it feeds, and the
// four taps that apply to it slide along in registers. padded_taps: the 2R + 1 taps in order
// with three zeros before and after.
void ConvColsBlock4(const float* const* rows, const float* HWY_RESTRICT padded_taps, int radius,
                    int w, float* const* out) {
  const D d;
  const int n = int(hn::Lanes(d));
  const int len = 2 * radius + 1;
  // Input row i feeds output row j with tap full[i - j] = padded_taps[3 + i - j].
  auto accumulate = [&](int x, auto nvec) {
    constexpr int kVec = decltype(nvec)::value;
    V acc[4][kVec];
    for (int j = 0; j < 4; ++j)
      for (int v = 0; v < kVec; ++v) acc[j][v] = hn::Zero(d);
    V t0 = hn::Zero(d), t1 = hn::Zero(d), t2 = hn::Zero(d), t3;
    for (int i = 0; i < len + 3; ++i) {
      t3 = t2;
      t2 = t1;
      t1 = t0;
      t0 = hn::Set(d, padded_taps[3 + i]);  // tj = full[i - j]
      for (int v = 0; v < kVec; ++v) {
        const V in = hn::LoadU(d, rows[i] + x + v * n);
        acc[0][v] = hn::MulAdd(t0, in, acc[0][v]);
        acc[1][v] = hn::MulAdd(t1, in, acc[1][v]);
        acc[2][v] = hn::MulAdd(t2, in, acc[2][v]);
        acc[3][v] = hn::MulAdd(t3, in, acc[3][v]);
      }
      // Too many row streams for the hardware prefetcher: fetch half a kilobyte ahead.
      if (kVec == 2) hwy::Prefetch(rows[i] + x + 128);
    }
    for (int j = 0; j < 4; ++j)
      for (int v = 0; v < kVec; ++v) hn::StoreU(acc[j][v], d, out[j] + x + v * n);
  };
  int x = 0;
  for (; x + 2 * n <= w; x += 2 * n) accumulate(x, std::integral_constant<int, 2>());
  for (; x < w; x += n) accumulate(x, std::integral_constant<int, 1>());
}

// Four output rows at once for radius R <= 4, each the same folded sum as ConvColsSym (so bit
// for bit its result): out[j] = t[0] in[j + R] + sum_{k=1..R} t[k] (in[j + R - k] + in[j + R + k]),
// in[i] = rows[i]. The 2R + 4 input vectors are loaded once into registers for the four rows;
// folding then needs R + 1 multiplies or multiply-adds and R adds per output vector where
// ConvColsBlock4 needs 2R + 4 multiply-adds (10 against 4 + 3 at rho 1). Multiply-adds are
// the bound with AVX-512 on Zen 4, whose 512-bit multiply-adds take both multiply-add pipes,
// while the adds go to the two add pipes.
template <int kRadius, int kVec>
HWY_INLINE void ConvColsSym4Fixed(const float* const* rows, const float* HWY_RESTRICT taps, int x,
                                  float* const* out) {
  const D d;
  const int n = int(hn::Lanes(d));
  constexpr int kRows = 2 * kRadius + 4;
  V in[kRows][kVec];
  for (int i = 0; i < kRows; ++i)
    for (int v = 0; v < kVec; ++v) in[i][v] = hn::LoadU(d, rows[i] + x + v * n);
  for (int j = 0; j < 4; ++j)
    for (int v = 0; v < kVec; ++v) {
      V acc = hn::Mul(hn::Set(d, taps[0]), in[j + kRadius][v]);
      for (int k = 1; k <= kRadius; ++k)
        acc = hn::MulAdd(hn::Set(d, taps[k]),
                         hn::Add(in[j + kRadius - k][v], in[j + kRadius + k][v]), acc);
      hn::StoreU(acc, d, out[j] + x + v * n);
    }
}

template <int kRadius>
HWY_INLINE void ConvColsSym4Rows(const float* const* rows, const float* HWY_RESTRICT taps, int w,
                                 float* const* out) {
  const int n = int(hn::Lanes(D()));
  int x = 0;
  for (; x + 2 * n <= w; x += 2 * n) ConvColsSym4Fixed<kRadius, 2>(rows, taps, x, out);
  for (; x < w; x += n) ConvColsSym4Fixed<kRadius, 1>(rows, taps, x, out);
}

void ConvColsSym4(const float* const* rows, const float* HWY_RESTRICT taps, int radius, int w,
                  float* const* out) {
  switch (radius) {
    case 1:
      return ConvColsSym4Rows<1>(rows, taps, w, out);
    case 2:
      return ConvColsSym4Rows<2>(rows, taps, w, out);
    case 3:
      return ConvColsSym4Rows<3>(rows, taps, w, out);
    default:
      return ConvColsSym4Rows<4>(rows, taps, w, out);  // the caller checked radius <= 4
  }
}

void ConvColsSym(const float* const* rows, const float* HWY_RESTRICT taps, int radius, int w,
                 float* HWY_RESTRICT out) {
  const D d;
  const int n = int(hn::Lanes(d));
  const float* const* mid = rows + radius;
  int x = 0;
  for (; x + n <= w; x += n) {
    V acc = hn::Mul(hn::Set(d, taps[0]), hn::LoadU(d, mid[0] + x));
    for (int k = 1; k <= radius; ++k)
      acc = hn::MulAdd(hn::Set(d, taps[k]),
                       hn::Add(hn::LoadU(d, mid[-k] + x), hn::LoadU(d, mid[k] + x)), acc);
    hn::StoreU(acc, d, out + x);
  }
  // The rows may be image rows without slack: read the tail one pixel at a time.
  for (; x < w; ++x) {
    float acc = taps[0] * mid[0][x];
    for (int k = 1; k <= radius; ++k) acc += taps[k] * (mid[-k][x] + mid[k][x]);
    out[x] = acc;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace blade
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace blade {

HWY_EXPORT(ConvRowSym);
HWY_EXPORT(ConvRowSymAligned);
HWY_EXPORT(ConvColsSym);
HWY_EXPORT(ConvColsBlock4);
HWY_EXPORT(ConvColsSym4);

void ConvRowSymSimd(const float* p, const float* taps, int radius, int w, float* out) {
  HWY_DYNAMIC_DISPATCH(ConvRowSym)(p, taps, radius, w, out);
}
void ConvRowSymAlignedSimd(const float* p, const float* taps, int radius, int w, float* out) {
  if (reinterpret_cast<std::uintptr_t>(p) % 64 != 0 ||
      reinterpret_cast<std::uintptr_t>(out) % 64 != 0 || w % 16 != 0)
    Fail("ConvRowSymAlignedSimd: rows must be 64-byte aligned and w a multiple of 16");
  HWY_DYNAMIC_DISPATCH(ConvRowSymAligned)(p, taps, radius, w, out);
}
void ConvColsSymSimd(const float* const* rows, const float* taps, int radius, int w, float* out) {
  HWY_DYNAMIC_DISPATCH(ConvColsSym)(rows, taps, radius, w, out);
}
void ConvColsBlock4Simd(const float* const* rows, const float* padded_taps, int radius, int w,
                        float* const* out) {
  HWY_DYNAMIC_DISPATCH(ConvColsBlock4)(rows, padded_taps, radius, w, out);
}
void ConvColsSym4Simd(const float* const* rows, const float* taps, int radius, int w,
                      float* const* out) {
  if (radius < 1 || radius > kConvColsSym4MaxRadius)
    Fail("ConvColsSym4Simd: radius ", radius, " not in 1..4");
  HWY_DYNAMIC_DISPATCH(ConvColsSym4)(rows, taps, radius, w, out);
}

}  // namespace blade
#endif
