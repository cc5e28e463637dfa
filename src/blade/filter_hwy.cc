// Highway (runtime dispatch) kernel for adaptive filtering rows; tested against the plain version.
#include "filter_simd.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "blade/filter_hwy.cc"
#include <hwy/foreach_target.h>  // re-includes this file once per target
#include <hwy/highway.h>

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

// Dot product of one pixel's footprint with its filter as one vector (lanes still to be summed):
// one multiply-add per footprint row chunk, taps zero-padded to RowLength. The image lanes past
// the footprint are the next pixels of the padded plane (finite whenever the state is), times
// zero taps; a masked load would avoid reading them but is several times slower.
template <int kSize, class D>
HWY_INLINE hn::Vec<D> FootprintProducts(D d, const float* HWY_RESTRICT h, const float* HWY_RESTRICT img,
                                        int pw) {
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

template <int kSize>
void ApplyRowFixed(const float* HWY_RESTRICT p, int pw, int w, const std::int32_t* HWY_RESTRICT sel,
                   const float* HWY_RESTRICT padded_taps, float* HWY_RESTRICT out) {
  const hn::CappedTag<float, 8> d;
  const int filter_len = kSize * RowLength(kSize);
  int x = 0;
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
  const int lanes = int(hn::Lanes(d));
  // Eight pixels at a time, their eight lane-sums reduced together by a horizontal-add tree
  // (about 1 instruction per pixel instead of a full reduction each).
  if (lanes == 8) {
    for (; x + 8 <= w; x += 8) {
      __m256 v[8];
      for (int i = 0; i < 8; ++i)
        v[i] = FootprintProducts<kSize>(d, padded_taps + std::size_t(sel[x + i]) * filter_len,
                                        p + x + i, pw).raw;
      const __m256 h01 = _mm256_hadd_ps(v[0], v[1]), h23 = _mm256_hadd_ps(v[2], v[3]);
      const __m256 h45 = _mm256_hadd_ps(v[4], v[5]), h67 = _mm256_hadd_ps(v[6], v[7]);
      const __m256 h03 = _mm256_hadd_ps(h01, h23), h47 = _mm256_hadd_ps(h45, h67);
      // h03 holds pixels 0-3 as (low-half sums | high-half sums); likewise h47 for 4-7.
      const __m256 lo = _mm256_permute2f128_ps(h03, h47, 0x20), hi = _mm256_permute2f128_ps(h03, h47, 0x31);
      _mm256_storeu_ps(out + x, _mm256_add_ps(lo, hi));
    }
  }
#endif
  for (; x < w; ++x)
    out[x] = hn::GetLane(hn::SumOfLanes(
        d, FootprintProducts<kSize>(d, padded_taps + std::size_t(sel[x]) * filter_len, p + x, pw)));
}

void ApplyRow(const float* p, int pw, int w, const std::int32_t* sel, const float* padded_taps,
              int size, float* out) {
  switch (size) {
    case 3: return ApplyRowFixed<3>(p, pw, w, sel, padded_taps, out);
    case 5: return ApplyRowFixed<5>(p, pw, w, sel, padded_taps, out);
    case 7: return ApplyRowFixed<7>(p, pw, w, sel, padded_taps, out);
    case 9: return ApplyRowFixed<9>(p, pw, w, sel, padded_taps, out);
    case 11: return ApplyRowFixed<11>(p, pw, w, sel, padded_taps, out);
    case 13: return ApplyRowFixed<13>(p, pw, w, sel, padded_taps, out);
    default: return ApplyRowFixed<15>(p, pw, w, sel, padded_taps, out);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace blade
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace blade {

HWY_EXPORT(ApplyRow);
HWY_EXPORT(RowLength);

int SimdFilterRowLength(int size) { return HWY_DYNAMIC_DISPATCH(RowLength)(size); }

void ApplyRowSimd(const float* p, int pw, int w, const std::int32_t* sel, const float* padded_taps,
                  int size, float* out) {
  HWY_DYNAMIC_DISPATCH(ApplyRow)(p, pw, w, sel, padded_taps, size, out);
}

}  // namespace blade
#endif
