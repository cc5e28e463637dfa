// Highway (runtime dispatch) kernels for adaptive filtering and its backward pass; tested against
// the plain versions. Highway's foreach_target re-includes this file, so the include order matters.
// clang-format off
#include "filter_simd.h"

#include <type_traits>
#include <utility>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "blade/filter_hwy.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/highway.h>
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace blade {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Footprint rows are padded to whole vectors of at most 8 floats.
int RowLength(int size) {
  const hn::CappedTag<float, 8> d;
  const int lanes = int(hn::Lanes(d));
  return (size + lanes - 1) / lanes * lanes;
}

// Calls f(std::integral_constant<int, size>()) for an odd footprint size 3..15 (sizes above 13
// go to 15, as the callers have checked the size): one switch for every fixed-size kernel.
template <class F>
HWY_INLINE void WithFootprint(int size, const F& f) {
  switch (size) {
    case 3:
      return f(std::integral_constant<int, 3>());
    case 5:
      return f(std::integral_constant<int, 5>());
    case 7:
      return f(std::integral_constant<int, 7>());
    case 9:
      return f(std::integral_constant<int, 9>());
    case 11:
      return f(std::integral_constant<int, 11>());
    case 13:
      return f(std::integral_constant<int, 13>());
    default:
      return f(std::integral_constant<int, 15>());
  }
}

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
// out[i] = the sum of the lanes of v[i], i < 8, by a horizontal-add tree (about one
// instruction per pixel instead of a full reduction each).
HWY_INLINE void StoreLaneSums8(const __m256* v, float* out) {
  const __m256 h01 = _mm256_hadd_ps(v[0], v[1]), h23 = _mm256_hadd_ps(v[2], v[3]);
  const __m256 h45 = _mm256_hadd_ps(v[4], v[5]), h67 = _mm256_hadd_ps(v[6], v[7]);
  const __m256 h03 = _mm256_hadd_ps(h01, h23), h47 = _mm256_hadd_ps(h45, h67);
  // h03 holds pixels 0-3 as (low-half sums | high-half sums); likewise h47 for 4-7.
  const __m256 lo = _mm256_permute2f128_ps(h03, h47, 0x20),
               hi = _mm256_permute2f128_ps(h03, h47, 0x31);
  _mm256_storeu_ps(out, _mm256_add_ps(lo, hi));
}
#endif

// Dot product of one pixel's footprint with its filter as one vector (lanes still to be summed):
// one multiply-add per footprint row chunk, taps zero-padded to RowLength. The image lanes past
// the footprint are the next pixels of the padded plane (finite whenever the state is), times
// zero taps; a masked load would avoid reading them but is several times slower.
template <int kSize, class D>
HWY_INLINE hn::Vec<D> FootprintProducts(D d, const float* HWY_RESTRICT h,
                                        const float* HWY_RESTRICT img, int pw) {
  constexpr int kMaxLanes = 8;
  const int lanes = int(hn::Lanes(d));
  const int row_len = (kSize + lanes - 1) / lanes * lanes;
  auto acc0 = hn::Zero(d), acc1 = hn::Zero(d);
  for (int dy = 0; dy < kSize; ++dy, h += row_len, img += pw) {
    for (int off = 0; off < row_len; off += lanes) {
      if ((dy + off / kMaxLanes) % 2 == 0)
        acc0 = hn::MulAdd(hn::LoadU(d, h + off), hn::LoadU(d, img + off), acc0);
      else
        acc1 = hn::MulAdd(hn::LoadU(d, h + off), hn::LoadU(d, img + off), acc1);
    }
  }
  return hn::Add(acc0, acc1);
}

#if HWY_TARGET == HWY_AVX3
// Calls f(std::integral_constant<int, i>()) for i = 0..7 (immediate operands need constants).
template <class F, int... I>
HWY_INLINE void ForEachPixel(const F& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>()), ...);
}

// Lanes kShift .. kShift + 7 of v: the 8 image floats that pixel kShift of a group reads from a
// 16-float load taken at the group's first pixel.
template <int kShift>
HWY_INLINE __m256 Window(__m512 v) {
  const __m512i i = _mm512_castps_si512(v);
  return _mm512_castps512_ps256(_mm512_castsi512_ps(_mm512_alignr_epi32(i, i, kShift)));
}

// FootprintProducts for pixel kShift of a group of eight, for kPlanes planes sharing the
// selection and kBanks filter banks (bank b's filter of the pixel at h[b]), from the group's
// image vectors im[(plane * kSize + dy) * kChunks + off / 8] (one 16-float load per footprint
// row chunk): the same multiply-adds in the same order, so each sum is bit for bit that of
// FootprintProducts. The eight pixels share the image loads, the planes share the tap loads,
// and the banks share the image windows, which halves the loads per pixel (the kernel's limit).
template <int kSize, int kShift, int kPlanes, int kBanks>
HWY_INLINE void WindowProducts(const float* const* h, const __m512* im, __m256* sums) {
  constexpr int kRowLen = (kSize + 7) / 8 * 8, kChunks = kRowLen / 8;
  __m256 acc[2][kBanks][kPlanes];
  for (int b = 0; b < kBanks; ++b)
    for (int c = 0; c < kPlanes; ++c) acc[0][b][c] = acc[1][b][c] = _mm256_setzero_ps();
  for (int dy = 0; dy < kSize; ++dy)
    for (int k = 0; k < kChunks; ++k) {
      const int a = (dy + k) % 2;
      __m256 window[kPlanes];
      for (int c = 0; c < kPlanes; ++c)
        window[c] = Window<kShift>(im[(c * kSize + dy) * kChunks + k]);
      for (int b = 0; b < kBanks; ++b) {
        const __m256 taps = _mm256_loadu_ps(h[b] + dy * kRowLen + 8 * k);
        for (int c = 0; c < kPlanes; ++c)
          acc[a][b][c] = _mm256_fmadd_ps(taps, window[c], acc[a][b][c]);
      }
    }
  for (int b = 0; b < kBanks; ++b)
    for (int c = 0; c < kPlanes; ++c)
      sums[(b * kPlanes + c) * 8 + kShift] = _mm256_add_ps(acc[0][b][c], acc[1][b][c]);
}

// Lanes kShift .. kShift + 7 and kShift + 1 .. kShift + 8 of v side by side: the windows of
// pixels kShift and kShift + 1 of a group, in one permutation.
template <int kShift>
HWY_INLINE __m512 WindowPair(__m512 v) {
  constexpr int i = kShift;
  return _mm512_permutexvar_ps(
      _mm512_setr_epi32(i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7, i + 1, i + 2, i + 3,
                        i + 4, i + 5, i + 6, i + 7, i + 8),
      v);
}

// WindowProducts for pixels kShift and kShift + 1 at once, a pixel per 256-bit half (for color:
// one permutation per plane and row serves two pixels where the one-pixel form needs two
// shifts, which bound the three-plane kernel). The same multiply-adds per lane, so the same
// sums bit for bit.
template <int kSize, int kShift, int kPlanes>
HWY_INLINE void WindowProductsPair(const float* h0, const float* h1, const __m512* im,
                                   __m256* sums) {
  constexpr int kRowLen = (kSize + 7) / 8 * 8, kChunks = kRowLen / 8;
  __m512 acc[2][kPlanes];
  for (int c = 0; c < kPlanes; ++c) acc[0][c] = acc[1][c] = _mm512_setzero_ps();
  for (int dy = 0; dy < kSize; ++dy)
    for (int k = 0; k < kChunks; ++k) {
      const int a = (dy + k) % 2;
      const __m512 taps =
          _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(h0 + dy * kRowLen + 8 * k)),
                             _mm256_loadu_ps(h1 + dy * kRowLen + 8 * k), 1);
      for (int c = 0; c < kPlanes; ++c)
        acc[a][c] = _mm512_fmadd_ps(taps, WindowPair<kShift>(im[(c * kSize + dy) * kChunks + k]),
                                    acc[a][c]);
    }
  for (int c = 0; c < kPlanes; ++c) {
    const __m512 sum = _mm512_add_ps(acc[0][c], acc[1][c]);
    sums[c * 8 + kShift] = _mm512_castps512_ps256(sum);
    sums[c * 8 + kShift + 1] = _mm512_extractf32x8_ps(sum, 1);
  }
}

// Filters pixels x .. x + 7 of kPlanes planes with kBanks banks: p[c] + x is the top-left of
// pixel x's footprint in plane c, sel[b] and taps[b] are bank b's selection and padded filters,
// and out[b * kPlanes + c] + x receives the eight sums.
template <int kSize, int kPlanes, int kBanks>
HWY_INLINE void ApplyEight(const float* const* p, int pw, int x, const std::int32_t* const* sel,
                           const float* const* taps, float* const* out) {
  constexpr int kChunks = (kSize + 7) / 8, kFilterLen = kSize * kChunks * 8;
  __m512 im[kPlanes * kSize * kChunks];
  for (int c = 0; c < kPlanes; ++c)
    for (int dy = 0; dy < kSize; ++dy)
      for (int k = 0; k < kChunks; ++k)
        im[(c * kSize + dy) * kChunks + k] =
            _mm512_loadu_ps(p[c] + x + std::size_t(dy) * pw + 8 * k);
  __m256 sums[kBanks * kPlanes * 8];
  if constexpr (kPlanes == 3 && kBanks == 1) {
    // Measured: pairs of pixels are faster for three planes, single pixels for one.
    ForEachPixel(
        [&](auto pair) {
          constexpr int i = 2 * decltype(pair)::value;
          WindowProductsPair<kSize, i, kPlanes>(
              taps[0] + std::size_t(sel[0][x + i]) * kFilterLen,
              taps[0] + std::size_t(sel[0][x + i + 1]) * kFilterLen, im, sums);
        },
        std::make_integer_sequence<int, 4>());
  } else {
    ForEachPixel(
        [&](auto i) {
          const float* h[kBanks];
          for (int b = 0; b < kBanks; ++b) h[b] = taps[b] + std::size_t(sel[b][x + i]) * kFilterLen;
          WindowProducts<kSize, decltype(i)::value, kPlanes, kBanks>(h, im, sums);
        },
        std::make_integer_sequence<int, 8>());
  }
  for (int j = 0; j < kBanks * kPlanes; ++j) StoreLaneSums8(sums + 8 * j, out[j] + x);
}
#endif

#if HWY_TARGET == HWY_AVX2
// Pixels x .. x + 7 of one plane, their eight lane-sums reduced together by a horizontal-add
// tree (about 1 instruction per pixel instead of a full reduction each).
template <int kSize>
HWY_INLINE void ApplyEightAvx2(const float* HWY_RESTRICT p, int pw, int x,
                               const std::int32_t* HWY_RESTRICT sel,
                               const float* HWY_RESTRICT padded_taps, float* HWY_RESTRICT out) {
  const hn::CappedTag<float, 8> d;
  const int filter_len = kSize * RowLength(kSize);
  __m256 v[8];
  for (int i = 0; i < 8; ++i)
    v[i] = FootprintProducts<kSize>(d, padded_taps + std::size_t(sel[x + i]) * filter_len,
                                    p + x + i, pw)
               .raw;
  StoreLaneSums8(v, out + x);
}
#endif

template <int kSize>
void ApplyRowFixed(const float* HWY_RESTRICT p, int pw, int w, const std::int32_t* HWY_RESTRICT sel,
                   const float* HWY_RESTRICT padded_taps, float* HWY_RESTRICT out) {
  const hn::CappedTag<float, 8> d;
  const int filter_len = kSize * RowLength(kSize);
  int x = 0;
#if HWY_TARGET == HWY_AVX3
  const float* plane = p;
  const std::int32_t* plane_sel = sel;
  const float* filters = padded_taps;
  float* plane_out = out;
  for (; x + 8 <= w; x += 8)
    ApplyEight<kSize, 1, 1>(&plane, pw, x, &plane_sel, &filters, &plane_out);
#elif HWY_TARGET == HWY_AVX2
  for (; x + 8 <= w; x += 8) ApplyEightAvx2<kSize>(p, pw, x, sel, padded_taps, out);
#endif
  for (; x < w; ++x)
    out[x] = hn::GetLane(hn::SumOfLanes(
        d, FootprintProducts<kSize>(d, padded_taps + std::size_t(sel[x]) * filter_len, p + x, pw)));
}

// The same for the three planes of a color image, which share the selection: each tap row is
// loaded once for the three planes.
template <int kSize, class D>
HWY_INLINE void FootprintProducts3(D d, const float* HWY_RESTRICT h, const float* HWY_RESTRICT r,
                                   const float* HWY_RESTRICT g, const float* HWY_RESTRICT b, int pw,
                                   hn::Vec<D>& sr, hn::Vec<D>& sg, hn::Vec<D>& sb) {
  // The same two interleaved sums per plane as FootprintProducts: the planes come out bit for
  // bit as when filtered alone.
  constexpr int kMaxLanes = 8;
  const int lanes = int(hn::Lanes(d));
  const int row_len = (kSize + lanes - 1) / lanes * lanes;
  auto r0 = hn::Zero(d), g0 = hn::Zero(d), b0 = hn::Zero(d);
  auto r1 = hn::Zero(d), g1 = hn::Zero(d), b1 = hn::Zero(d);
  for (int dy = 0; dy < kSize; ++dy, h += row_len, r += pw, g += pw, b += pw)
    for (int off = 0; off < row_len; off += lanes) {
      const auto taps = hn::LoadU(d, h + off);
      if ((dy + off / kMaxLanes) % 2 == 0) {
        r0 = hn::MulAdd(taps, hn::LoadU(d, r + off), r0);
        g0 = hn::MulAdd(taps, hn::LoadU(d, g + off), g0);
        b0 = hn::MulAdd(taps, hn::LoadU(d, b + off), b0);
      } else {
        r1 = hn::MulAdd(taps, hn::LoadU(d, r + off), r1);
        g1 = hn::MulAdd(taps, hn::LoadU(d, g + off), g1);
        b1 = hn::MulAdd(taps, hn::LoadU(d, b + off), b1);
      }
    }
  sr = hn::Add(r0, r1);
  sg = hn::Add(g0, g1);
  sb = hn::Add(b0, b1);
}

template <int kSize>
void ApplyRow3Fixed(const float* HWY_RESTRICT r, const float* HWY_RESTRICT g,
                    const float* HWY_RESTRICT b, int pw, int w,
                    const std::int32_t* HWY_RESTRICT sel, const float* HWY_RESTRICT padded_taps,
                    float* HWY_RESTRICT out_r, float* HWY_RESTRICT out_g,
                    float* HWY_RESTRICT out_b) {
  const hn::CappedTag<float, 8> d;
  const int filter_len = kSize * RowLength(kSize);
  int x = 0;
#if HWY_TARGET == HWY_AVX3
  const float* planes[3] = {r, g, b};
  float* outs[3] = {out_r, out_g, out_b};
  const std::int32_t* plane_sel = sel;
  const float* filters = padded_taps;
  for (; x + 8 <= w; x += 8) ApplyEight<kSize, 3, 1>(planes, pw, x, &plane_sel, &filters, outs);
#elif HWY_TARGET == HWY_AVX2
  for (; x + 8 <= w; x += 8) {
    __m256 vr[8], vg[8], vb[8];
    for (int i = 0; i < 8; ++i) {
      hn::Vec<decltype(d)> sr, sg, sb;
      FootprintProducts3<kSize>(d, padded_taps + std::size_t(sel[x + i]) * filter_len, r + x + i,
                                g + x + i, b + x + i, pw, sr, sg, sb);
      vr[i] = sr.raw;
      vg[i] = sg.raw;
      vb[i] = sb.raw;
    }
    StoreLaneSums8(vr, out_r + x);
    StoreLaneSums8(vg, out_g + x);
    StoreLaneSums8(vb, out_b + x);
  }
#endif
  for (; x < w; ++x) {
    hn::Vec<decltype(d)> sr, sg, sb;
    FootprintProducts3<kSize>(d, padded_taps + std::size_t(sel[x]) * filter_len, r + x, g + x,
                              b + x, pw, sr, sg, sb);
    out_r[x] = hn::GetLane(hn::SumOfLanes(d, sr));
    out_g[x] = hn::GetLane(hn::SumOfLanes(d, sg));
    out_b[x] = hn::GetLane(hn::SumOfLanes(d, sb));
  }
}

// Two banks on one plane (the flux form's two fluxes): out_a and out_b bit for bit as filtering
// with each bank alone.
template <int kSize>
void ApplyRowPairFixed(const float* HWY_RESTRICT p, int pw, int w, const std::int32_t* const* sel,
                       const float* const* padded_taps, float* const* out) {
  const hn::CappedTag<float, 8> d;
  const int filter_len = kSize * RowLength(kSize);
  int x = 0;
#if HWY_TARGET == HWY_AVX3
  const float* plane = p;
  for (; x + 8 <= w; x += 8) ApplyEight<kSize, 1, 2>(&plane, pw, x, sel, padded_taps, out);
#elif HWY_TARGET == HWY_AVX2
  // The single-bank kernel's eight-pixel groups, once per bank.
  for (; x + 8 <= w; x += 8)
    for (int b = 0; b < 2; ++b) ApplyEightAvx2<kSize>(p, pw, x, sel[b], padded_taps[b], out[b]);
#endif
  for (; x < w; ++x)
    for (int b = 0; b < 2; ++b)
      out[b][x] = hn::GetLane(hn::SumOfLanes(
          d, FootprintProducts<kSize>(d, padded_taps[b] + std::size_t(sel[b][x]) * filter_len,
                                      p + x, pw)));
}

void ApplyRow(const float* const* p, int channels, int banks, int pw, int w,
              const std::int32_t* const* sel, const float* const* padded_taps, int size,
              float* const* out) {
  WithFootprint(size, [&](auto k) {
    constexpr int kSize = decltype(k)::value;
    if (banks == 2)
      ApplyRowPairFixed<kSize>(p[0], pw, w, sel, padded_taps, out);
    else if (channels == 3)
      ApplyRow3Fixed<kSize>(p[0], p[1], p[2], pw, w, sel[0], padded_taps[0], out[0], out[1],
                            out[2]);
    else
      ApplyRowFixed<kSize>(p[0], pw, w, sel[0], padded_taps[0], out[0]);
  });
}

// ---- Backward pass (eq. 2.9) ----

// dL/dh for one filter: out[dy * kSize + dx] += sum_i g[i] pad[offsets[i] + dy * pw + dx] over
// the pixels listed for it, in list order, summed in double-precision registers (one vector
// per footprint row chunk; lanes past kSize read the next pixels and are dropped).
template <int kSize>
void TapGradientFixed(const float* HWY_RESTRICT pad, int pw,
                      const std::uint32_t* HWY_RESTRICT offsets, const float* HWY_RESTRICT g,
                      int count, double* HWY_RESTRICT out) {
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;
  constexpr int kLanes = int(hn::MaxLanes(dd));
  constexpr int kVecs = (kSize + kLanes - 1) / kLanes;
  static_assert(kVecs * kLanes - kSize <= kSimdBackwardSlack, "backward slack too small");
  hn::Vec<decltype(dd)> acc[kSize * kVecs];
  for (auto& a : acc) a = hn::Zero(dd);
  for (int i = 0; i < count; ++i) {
    const auto gv = hn::Set(dd, double(g[i]));
    const float* p = pad + offsets[i];
    for (int dy = 0; dy < kSize; ++dy, p += pw)
      for (int v = 0; v < kVecs; ++v)
        acc[dy * kVecs + v] =
            hn::MulAdd(gv, hn::PromoteTo(dd, hn::LoadU(df, p + v * kLanes)), acc[dy * kVecs + v]);
  }
  HWY_ALIGN double sums[kSize * kVecs * kLanes];
  for (int j = 0; j < kSize * kVecs; ++j) hn::Store(acc[j], dd, sums + j * kLanes);
  for (int dy = 0; dy < kSize; ++dy)
    for (int dx = 0; dx < kSize; ++dx) out[dy * kSize + dx] += sums[dy * kVecs * kLanes + dx];
}

void TapGradient(const float* pad, int pw, const std::uint32_t* offsets, const float* g, int count,
                 int size, double* out) {
  WithFootprint(
      size, [&](auto k) { TapGradientFixed<decltype(k)::value>(pad, pw, offsets, g, count, out); });
}

// dL/dz on one padded row: out[x + dx] += sum_dy g_rows[dy][x] h_{sel_rows[dy][x]}(dx, dy) for
// dy in [dy0, dy1), where row dy holds the output pixels whose footprint row dy lands here.
// Each pixel's contribution is one register per footprint row chunk (taps padded as in the
// forward kernel, zeros past kSize), added to `out` with one vector read-modify-write. Pixels
// x, x + row_len, ... touch disjoint ranges, so the row is swept in row_len interleaved passes
// and no write waits on the one just before it.
template <int kSize>
void DataGradientRowFixed(const float* const* g_rows, const std::int32_t* const* sel_rows, int dy0,
                          int dy1, const float* HWY_RESTRICT padded_taps, int w,
                          float* HWY_RESTRICT out) {
  const hn::CappedTag<float, 8> d;
  constexpr int kLanes = int(hn::MaxLanes(d));
  constexpr int kRowLen = (kSize + kLanes - 1) / kLanes * kLanes;
  constexpr int kFilterLen = kSize * kRowLen;
  for (int phase = 0; phase < kRowLen; ++phase)
    for (int x = phase; x < w; x += kRowLen)
      for (int off = 0; off < kRowLen; off += kLanes) {
        auto acc0 = hn::Zero(d), acc1 = hn::Zero(d);
        int dy = dy0;
        for (; dy + 1 < dy1; dy += 2) {
          acc0 = hn::MulAdd(hn::Set(d, g_rows[dy][x]),
                            hn::LoadU(d, padded_taps + std::size_t(sel_rows[dy][x]) * kFilterLen +
                                             dy * kRowLen + off),
                            acc0);
          acc1 =
              hn::MulAdd(hn::Set(d, g_rows[dy + 1][x]),
                         hn::LoadU(d, padded_taps + std::size_t(sel_rows[dy + 1][x]) * kFilterLen +
                                          (dy + 1) * kRowLen + off),
                         acc1);
        }
        if (dy < dy1)
          acc0 = hn::MulAdd(hn::Set(d, g_rows[dy][x]),
                            hn::LoadU(d, padded_taps + std::size_t(sel_rows[dy][x]) * kFilterLen +
                                             dy * kRowLen + off),
                            acc0);
        float* o = out + x + off;
        hn::StoreU(hn::Add(hn::LoadU(d, o), hn::Add(acc0, acc1)), d, o);
      }
}

void DataGradientRow(const float* const* g_rows, const std::int32_t* const* sel_rows, int dy0,
                     int dy1, const float* padded_taps, int size, int w, float* out) {
  WithFootprint(size, [&](auto k) {
    DataGradientRowFixed<decltype(k)::value>(g_rows, sel_rows, dy0, dy1, padded_taps, w, out);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace blade
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace blade {

HWY_EXPORT(ApplyRow);
HWY_EXPORT(RowLength);
HWY_EXPORT(TapGradient);
HWY_EXPORT(DataGradientRow);

int SimdFilterRowLength(int size) { return HWY_DYNAMIC_DISPATCH(RowLength)(size); }

void ApplyRowSimd(const float* const* p, int channels, int banks, int pw, int w,
                  const std::int32_t* const* sel, const float* const* padded_taps, int size,
                  float* const* out) {
  HWY_DYNAMIC_DISPATCH(ApplyRow)(p, channels, banks, pw, w, sel, padded_taps, size, out);
}

void TapGradientSimd(const float* pad, int pw, const std::uint32_t* offsets, const float* g,
                     int count, int size, double* out) {
  HWY_DYNAMIC_DISPATCH(TapGradient)(pad, pw, offsets, g, count, size, out);
}

void DataGradientRowSimd(const float* const* g_rows, const std::int32_t* const* sel_rows, int dy0,
                         int dy1, const float* padded_taps, int size, int w, float* out) {
  HWY_DYNAMIC_DISPATCH(DataGradientRow)(g_rows, sel_rows, dy0, dy1, padded_taps, size, w, out);
}

}  // namespace blade
#endif
