// Adaptive filtering (eq. 2.1): the filter bank, the forward kernels and their plain
// clamped-index reference, image-level filtering, and the helpers the filtering files share.
#include "blade/filter.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>

#include "blade/error.h"
#include "blade/filter_kernels.h"
#include "blade/parallel.h"
#include "blade/selection_kernels.h"
#include "filter_internal.h"
#include "filter_simd.h"

namespace blade {
namespace filter_internal {

void RequireFootprint(int size) {
  if (size < 3 || size > kMaxFootprint || size % 2 == 0)
    Fail("filter footprint must be odd, 3..", kMaxFootprint, " (got ", size, ")");
}

int FilterCount(const std::int32_t* sel, std::size_t n) {
  constexpr std::size_t kBlock = 1 << 16;
  const int blocks = int((n + kBlock - 1) / kBlock);
  std::vector<std::int32_t> lo(blocks, 0), hi(blocks, -1);
  ParallelFor(0, blocks, [&](int b) {
    const std::int32_t* s = sel + std::size_t(b) * kBlock;
    const int len = int(std::min(kBlock, n - std::size_t(b) * kBlock));
    std::int32_t l = 0, m = -1;
    for (int i = 0; i < len; ++i) {
      l = std::min(l, s[i]);
      m = std::max(m, s[i]);
    }
    lo[b] = l;
    hi[b] = m;
  });
  if (blocks > 0 && *std::min_element(lo.begin(), lo.end()) < 0)
    Fail("negative filter index in the selection");
  return blocks > 0 ? int(*std::max_element(hi.begin(), hi.end())) + 1 : 0;
}

void PadFilterRows(const float* taps, int count, int size, int row_len,
                   AlignedVector<float>& padded) {
  padded.assign(std::size_t(count) * size * row_len, 0.f);
  for (int k = 0; k < count; ++k)
    for (int dy = 0; dy < size; ++dy)
      std::copy_n(taps + (std::size_t(k) * size + dy) * size, size,
                  padded.data() + (std::size_t(k) * size + dy) * row_len);
}

PreparedFilters PrepareFilters(const float* const* z, int channels, int w, int h, int banks,
                               const int* count, const float* const* taps, int size,
                               bool pad_planes, const float* const* prepadded) {
  if (channels != 1 && channels != 3)
    Fail("filtering ", channels, " planes at once (1 or 3 supported)");
  if (banks != 1 && !(banks == 2 && channels == 1)) Fail("two banks at once only for one plane");
  PreparedFilters p;
  p.channels = channels;
  p.banks = banks;
  p.w = w;
  p.size = size;
  const int r = size / 2, row_len = SimdFilterRowLength(size);
  p.pw = w + 2 * r;
  // Per calling thread, reused across calls: fresh large buffers cost page faults every step.
  // Aligned: the kernel's whole-row tap loads then never straddle cache lines.
  thread_local AlignedVector<float> padded[2], pads[3];
  for (int b = 0; b < banks; ++b) {
    if (prepadded != nullptr) {
      p.filters[b] = prepadded[b];
      continue;
    }
    PadFilterRows(taps[b], count[b], size, row_len, padded[b]);
    p.filters[b] = padded[b].data();
  }
  for (int c = 0; c < channels && pad_planes; ++c) {
    PadReplicateInto(z[c], w, h, r, kSimdForwardSlack, pads[c]);
    p.planes[c] = pads[c].data();
  }
  return p;
}

void ApplyPlanesSimd(const float* const* z, int channels, int w, int h, int banks,
                     const std::int32_t* const* sel, const int* count, const float* const* taps,
                     int size, float* const* out) {
  const PreparedFilters p = PrepareFilters(z, channels, w, h, banks, count, taps, size);
  const std::int32_t* sels[2] = {sel[0], banks == 2 ? sel[1] : nullptr};
  float* outs[6] = {};
  std::copy_n(out, banks * channels, outs);
  ParallelFor(0, h, [=, &p](int y) {
    const std::int32_t* row_sel[2] = {sels[0] + std::size_t(y) * w,
                                      sels[1] ? sels[1] + std::size_t(y) * w : nullptr};
    p.Rows(y, y + 1, row_sel, w, outs);
  });
}

void RequireBankShape(const FilterBank& bank) {
  if (bank.taps.size() != std::size_t(bank.count) * bank.size * bank.size)
    Fail("filter bank has ", bank.taps.size(), " taps, expected ",
         std::size_t(bank.count) * bank.size * bank.size);
  RequireFootprint(bank.size);
}

// The checks of the entry points that take a selection; returns the selection's FilterCount.
int CheckedFilterCount(const FilterBank& bank, const std::vector<std::int32_t>& sel,
                       const Image& z) {
  if (sel.size() != z.plane_size()) Fail("selection size does not match the image");
  RequireBankShape(bank);
  const int used = FilterCount(sel.data(), sel.size());
  if (used > bank.count)
    Fail("filter index ", used - 1, " in the selection, but the bank has ", bank.count, " filters");
  return used;
}

}  // namespace filter_internal

using namespace filter_internal;

FilterBank::FilterBank(int count_, int size_) : size(size_), count(count_) {
  Validate();  // before the allocation: an absurd count or size fails instead of allocating
  taps.assign(std::size_t(count) * size * size, 0.f);
}

void FilterBank::Validate() const {
  RequireFootprint(size);
  if (count < 1 || count > 100000) Fail("filter count must be 1..100000 (got ", count, ")");
  if (taps.empty()) return;  // being constructed
  if (taps.size() != std::size_t(count) * size * size)
    Fail("filter bank has ", taps.size(), " taps, expected ", std::size_t(count) * size * size);
  for (float t : taps)
    if (!std::isfinite(t)) Fail("filter bank contains non-finite taps");
}

namespace {

// The footprint is a template parameter so the tap loops unroll; ApplyPlane dispatches on it.
template <typename T, int kSize>
void ApplyPlaneFixed(const T* z, int w, int h, const std::int32_t* sel, const T* taps, T* out) {
  constexpr int r = kSize / 2, n = kSize * kSize;
  const int pw = w + 2 * r;
  const std::vector<T> pad = PadReplicate(z, w, h, r);
  ParallelFor(0, h, [&](int y) {
    const std::int32_t* s = sel + std::size_t(y) * w;
    T* o = out + std::size_t(y) * w;
    const T* row = pad.data() + std::size_t(y) * pw;
    for (int x = 0; x < w; ++x) {
      const T* h_k = taps + std::size_t(s[x]) * n;
      const T* p = row + x;  // top-left of the footprint
      // One partial sum per footprint row: short dependency chains instead of one of n FMAs.
      T acc[kSize];
      for (int dy = 0; dy < kSize; ++dy) {
        acc[dy] = 0;
        for (int dx = 0; dx < kSize; ++dx) acc[dy] += h_k[dy * kSize + dx] * p[dy * pw + dx];
      }
      T sum = 0;
      for (int dy = 0; dy < kSize; ++dy) sum += acc[dy];
      o[x] = sum;
    }
  });
}

}  // namespace

template <typename T>
void ApplyPlane(const T* z, int w, int h, const std::int32_t* sel, const T* taps, int size,
                T* out) {
  RequireFootprint(size);
  if constexpr (std::is_same_v<T, float>) {
    const int count = FilterCount(sel, std::size_t(w) * h);
    return ApplyPlanesSimd(&z, 1, w, h, 1, &sel, &count, &taps, size, &out);
  } else {
    switch (size) {
      case 3:
        return ApplyPlaneFixed<T, 3>(z, w, h, sel, taps, out);
      case 5:
        return ApplyPlaneFixed<T, 5>(z, w, h, sel, taps, out);
      case 7:
        return ApplyPlaneFixed<T, 7>(z, w, h, sel, taps, out);
      case 9:
        return ApplyPlaneFixed<T, 9>(z, w, h, sel, taps, out);
      case 11:
        return ApplyPlaneFixed<T, 11>(z, w, h, sel, taps, out);
      case 13:
        return ApplyPlaneFixed<T, 13>(z, w, h, sel, taps, out);
      default:
        return ApplyPlaneFixed<T, 15>(z, w, h, sel, taps, out);
    }
  }
}

template <typename T>
void ApplyPlaneReference(const T* z, int w, int h, const std::int32_t* sel, const T* taps, int size,
                         T* out) {
  const int r = size / 2;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const T* h_k = taps + std::size_t(sel[y * w + x]) * size * size;
      T acc = 0;
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) {
          const int sx = std::clamp(x + dx, 0, w - 1), sy = std::clamp(y + dy, 0, h - 1);
          acc += h_k[(dy + r) * size + dx + r] * z[sy * w + sx];
        }
      out[y * w + x] = acc;
    }
}

template void ApplyPlane<float>(const float*, int, int, const std::int32_t*, const float*, int,
                                float*);
template void ApplyPlane<double>(const double*, int, int, const std::int32_t*, const double*, int,
                                 double*);
template void ApplyPlaneReference<float>(const float*, int, int, const std::int32_t*, const float*,
                                         int, float*);
template void ApplyPlaneReference<double>(const double*, int, int, const std::int32_t*,
                                          const double*, int, double*);

Image ApplyFilters(const FilterBank& bank, const std::vector<std::int32_t>& sel, const Image& z) {
  const int used = CheckedFilterCount(bank, sel, z);
  Image out = Image::Uninitialized(z.width(), z.height(), z.channels());
  // The planes of a color image share the selection: one pass filters them all.
  const float* planes[3] = {};
  float* outs[3] = {};
  for (int c = 0; c < z.channels(); ++c) {
    planes[c] = z.plane(c);
    outs[c] = out.plane(c);
  }
  const std::int32_t* s = sel.data();
  const float* taps = bank.taps.data();
  ApplyPlanesSimd(planes, z.channels(), z.width(), z.height(), 1, &s, &used, &taps, bank.size,
                  outs);
  return out;
}

std::pair<Image, Image> ApplyFilterPair(const FilterBank& a, const std::vector<std::int32_t>& sel_a,
                                        const FilterBank& b, const std::vector<std::int32_t>& sel_b,
                                        const Image& z) {
  if (z.channels() != 1 || a.size != b.size)
    return {ApplyFilters(a, sel_a, z), ApplyFilters(b, sel_b, z)};
  const int used[2] = {CheckedFilterCount(a, sel_a, z), CheckedFilterCount(b, sel_b, z)};
  std::pair<Image, Image> out{Image::Uninitialized(z.width(), z.height()),
                              Image::Uninitialized(z.width(), z.height())};
  const float* plane = z.plane(0);
  const std::int32_t* sels[2] = {sel_a.data(), sel_b.data()};
  const float* taps[2] = {a.taps.data(), b.taps.data()};
  float* outs[2] = {out.first.plane(0), out.second.plane(0)};
  ApplyPlanesSimd(&plane, 1, z.width(), z.height(), 2, sels, used, taps, a.size, outs);
  return out;
}

}  // namespace blade
