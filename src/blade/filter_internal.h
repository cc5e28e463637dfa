// Shared by the adaptive-filtering files (forward, backward, fused with selection): replicate
// padding, the SIMD kernels' filter layout, and the entry points' checks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "blade/filter.h"
#include "blade/image.h"
#include "blade/parallel.h"
#include "filter_simd.h"

namespace blade::filter_internal {

// Row py (0 .. h + 2r) of the replicate-padded plane: image row py - r (clamped), extended by
// r copies of its edge pixels on each side.
template <typename T>
void PadRow(const T* z, int w, int h, int r, int py, T* dst) {
  const T* src = z + std::size_t(std::clamp(py - r, 0, h - 1)) * w;
  for (int x = 0; x < r; ++x) dst[x] = src[0];
  std::copy_n(src, w, dst + r);
  for (int x = 0; x < r; ++x) dst[r + w + x] = src[w - 1];
}

// Copy of a plane extended by r replicated pixels on every side: reads in the kernels below are
// then plain pointer offsets, with no border branches.
// `slack` zeroed elements follow the last row (for vector reads past a footprint's end).
template <typename T, class Alloc>
void PadReplicateInto(const T* z, int w, int h, int r, int slack, std::vector<T, Alloc>& p) {
  const int pw = w + 2 * r, ph = h + 2 * r;
  p.resize(std::size_t(pw) * ph + slack);
  std::fill(p.end() - slack, p.end(), T(0));
  // Bands of rows in parallel: a serial copy of the whole plane kept a second thread idle for
  // a fifth of a filtering pass.
  constexpr int kBand = 64;
  T* base = p.data();
  ParallelFor(0, (ph + kBand - 1) / kBand, [=](int band) {
    for (int y = band * kBand; y < std::min(ph, (band + 1) * kBand); ++y)
      PadRow(z, w, h, r, y, base + std::size_t(y) * pw);
  });
}

template <typename T>
std::vector<T> PadReplicate(const T* z, int w, int h, int r) {
  std::vector<T> p;
  PadReplicateInto(z, w, h, r, 0, p);
  return p;
}

// Fixed row chunks for deterministic reductions: the partition depends only on h, never on the
// number of threads, and partial sums are added in chunk order.
constexpr int kReductionChunks = 16;
constexpr std::size_t kMinChunkPixels = 32768;

// Every entry point checks the footprint once: the kernels dispatch on it unchecked.
void RequireFootprint(int size);

// The number of filters a selection uses (its largest index + 1); fails on a negative index.
// Branch-free min/max in blocks over the threads (it vectorizes; a test and throw inside the
// loop did not, and one serial pass held back the 2-thread speed-up).
int FilterCount(const std::int32_t* sel, std::size_t n);

// Each filter's rows zero-padded to row_len floats (the SIMD kernels' layout).
void PadFilterRows(const float* taps, int count, int size, int row_len,
                   AlignedVector<float>& padded);

// What the SIMD row kernel reads: padded planes and filter banks, prepared by the calling
// thread in its reused (thread_local) buffers, so valid until that thread prepares again.
struct PreparedFilters {
  int channels = 1, banks = 1, w = 0, size = 0, pw = 0;
  const float* planes[3] = {};  // padded planes, or null when each band pads its own rows
  const float* filters[2] = {};

  // Filters rows [y0, y1): bank b's indices of row y at sel[b] + (y - y0) * pitch; the sums of
  // bank b, plane c go to out[b * channels + c] + y * w. Padded row py of plane c is at
  // padded[c] + (py - row0) * pw (default: the prepared planes).
  void Rows(int y0, int y1, const std::int32_t* const* sel, std::size_t pitch, float* const* out,
            const float* const* padded = nullptr, int row0 = 0) const {
    if (padded == nullptr) padded = planes;
    for (int y = y0; y < y1; ++y) {
      const float* rows[3];
      const std::int32_t* row_sel[2];
      float* row_out[6];
      for (int c = 0; c < channels; ++c) rows[c] = padded[c] + std::size_t(y - row0) * pw;
      for (int b = 0; b < banks; ++b) row_sel[b] = sel[b] + std::size_t(y - y0) * pitch;
      for (int j = 0; j < banks * channels; ++j) row_out[j] = out[j] + std::size_t(y) * w;
      ApplyRowSimd(rows, channels, banks, pw, w, row_sel, filters, size, row_out);
    }
  }
};

// Float: the SIMD kernel, with each filter's rows zero-padded to whole vectors (per call,
// unless `prepadded` gives a run's PaddedBank tables). Indices must have been checked: the
// kernel reads unchecked.
// `channels` planes (1 or 3) share the selection and are filtered in one pass, so each
// pixel's filter is read once for all of them; or two banks (taps[b], count[b] filters used)
// filter one plane in one pass, sharing its reads.
PreparedFilters PrepareFilters(const float* const* z, int channels, int w, int h, int banks,
                               const int* count, const float* const* taps, int size,
                               bool pad_planes = true, const float* const* prepadded = nullptr);

// The outputs are out[b * channels + c]; sel[b] is bank b's selection, count[b] its FilterCount.
void ApplyPlanesSimd(const float* const* z, int channels, int w, int h, int banks,
                     const std::int32_t* const* sel, const int* count, const float* const* taps,
                     int size, float* const* out);

// The shape checks every image-level entry point makes on a bank (cheap: not the taps'
// finiteness, which FilterBank::Validate checks once when a model is loaded or built).
void RequireBankShape(const FilterBank& bank);

// The checks of the entry points that take a selection; returns the selection's FilterCount.
int CheckedFilterCount(const FilterBank& bank, const std::vector<std::int32_t>& sel,
                       const Image& z);

}  // namespace blade::filter_internal
