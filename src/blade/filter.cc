// Adaptive filtering: forward (eq. 2.1), backward (eq. 2.9), and the plain clamped-index reference.
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
#include "filter_simd.h"

namespace blade {
namespace {

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

}  // namespace

namespace {

// Every entry point checks the footprint once: the kernels dispatch on it unchecked.
void RequireFootprint(int size) {
  if (size < 3 || size > kMaxFootprint || size % 2 == 0)
    Fail("filter footprint must be odd, 3..", kMaxFootprint, " (got ", size, ")");
}

}  // namespace

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

// The number of filters a selection uses (its largest index + 1); fails on a negative index.
// Branch-free min/max in blocks over the threads (it vectorizes; a test and throw inside the
// loop did not, and one serial pass held back the 2-thread speed-up).
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

// Each filter's rows zero-padded to row_len floats (the SIMD kernels' layout).
void PadFilterRows(const float* taps, int count, int size, int row_len,
                   AlignedVector<float>& padded) {
  padded.assign(std::size_t(count) * size * row_len, 0.f);
  for (int k = 0; k < count; ++k)
    for (int dy = 0; dy < size; ++dy)
      std::copy_n(taps + (std::size_t(k) * size + dy) * size, size,
                  padded.data() + (std::size_t(k) * size + dy) * row_len);
}

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
                               bool pad_planes = true, const float* const* prepadded = nullptr) {
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

// The outputs are out[b * channels + c]; sel[b] is bank b's selection, count[b] its FilterCount.
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

// Adds the padded-grid data gradient into dz (overwritten): the adjoint of PadReplicate, which
// folds the replicated border back onto the edge pixels. `dpad` has row pitch dpw.
void FoldPaddedGradient(const float* dpad, int dpw, int w, int h, int r, float* dz) {
  const int ph = h + 2 * r;
  auto fold_row = [=](const float* src, float* dst) {
    for (int x = 0; x < w; ++x) dst[x] += src[x + r];
    for (int x = 0; x < r; ++x) {
      dst[0] += src[x];
      dst[w - 1] += src[w + r + x];
    }
  };
  ParallelFor(0, h, [=](int y) {
    float* dst = dz + std::size_t(y) * w;
    std::fill_n(dst, w, 0.f);
    fold_row(dpad + std::size_t(y + r) * dpw, dst);
  });
  for (int py = 0; py < r; ++py) fold_row(dpad + std::size_t(py) * dpw, dz);
  for (int py = h + r; py < ph; ++py)
    fold_row(dpad + std::size_t(py) * dpw, dz + std::size_t(h - 1) * w);
}

// Float backward: the SIMD kernels. Tap gradients: the pixels are sorted by filter (a counting
// sort, pixel order kept within a filter) and each filter's sum is taken in registers, so
// filters can be split between threads without partial copies of the bank, and every sum runs
// in pixel order whatever the thread count. Data gradient: one padded row per work item.
void ApplyPlaneBackwardSimd(const float* z, int w, int h, const std::int32_t* sel,
                            const float* taps, int size, const float* dout, double* dtaps,
                            float* dz) {
  const int r = size / 2, pw = w + 2 * r, ph = h + 2 * r, n = size * size;
  const std::size_t pixels = std::size_t(w) * h;
  if (std::size_t(pw) * ph > std::numeric_limits<std::uint32_t>::max())
    Fail("image of ", w, "x", h,
         " is too large for the filter gradient (at most 2^32 padded pixels)");
  const int count = FilterCount(sel, pixels);
  thread_local AlignedVector<float> pad, padded, gs, dpad;
  thread_local std::vector<std::uint32_t> start, offsets;
  PadReplicateInto(z, w, h, r, kSimdBackwardSlack, pad);
  start.assign(std::size_t(count) + 1, 0);
  for (std::size_t i = 0; i < pixels; ++i) ++start[sel[i] + 1];
  for (int k = 0; k < count; ++k) start[k + 1] += start[k];
  offsets.resize(pixels);
  gs.resize(pixels);
  {
    std::vector<std::uint32_t> next(start.begin(), start.end() - 1);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const std::size_t i = std::size_t(y) * w + x;
        const std::uint32_t slot = next[sel[i]]++;
        offsets[slot] = std::uint32_t(std::size_t(y) * pw + x);
        gs[slot] = dout[i];
      }
  }
  // Blocks of whole filters with about equal pixel counts (a function of the data only).
  constexpr int kBlocks = 64;
  std::vector<int> first(kBlocks + 1, count);
  first[0] = 0;
  for (int b = 1, k = 0; b < kBlocks; ++b) {
    while (k < count && start[k] < pixels * b / kBlocks) ++k;
    first[b] = k;
  }
  const float* plane = pad.data();
  const std::uint32_t* offs = offsets.data();
  const std::uint32_t* starts = start.data();
  const float* g = gs.data();
  ParallelFor(0, kBlocks, [=](int b) {
    for (int k = first[b]; k < first[b + 1]; ++k)
      if (starts[k + 1] > starts[k])
        TapGradientSimd(plane, pw, offs + starts[k], g + starts[k], int(starts[k + 1] - starts[k]),
                        size, dtaps + std::size_t(k) * n);
  });
  if (dz == nullptr) return;
  const int row_len = SimdFilterRowLength(size), dpw = pw + row_len;
  PadFilterRows(taps, count, size, row_len, padded);
  dpad.assign(std::size_t(dpw) * ph, 0.f);
  const float* filters = padded.data();
  float* grad = dpad.data();
  ParallelFor(0, ph, [=](int py) {
    // Output rows y = py - dy whose footprint row dy lands on padded row py.
    const float* g_rows[kMaxFootprint];
    const std::int32_t* sel_rows[kMaxFootprint];
    const int dy0 = std::max(0, py - (h - 1)), dy1 = std::min(size, py + 1);
    for (int dy = dy0; dy < dy1; ++dy) {
      g_rows[dy] = dout + std::size_t(py - dy) * w;
      sel_rows[dy] = sel + std::size_t(py - dy) * w;
    }
    DataGradientRowSimd(g_rows, sel_rows, dy0, dy1, filters, size, w, grad + std::size_t(py) * dpw);
  });
  FoldPaddedGradient(dpad.data(), dpw, w, h, r, dz);
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
void ApplyPlaneBackward(const T* z, int w, int h, const std::int32_t* sel, const T* taps, int size,
                        const T* dout, double* dtaps, T* dz) {
  RequireFootprint(size);
  if constexpr (std::is_same_v<T, float>)
    return ApplyPlaneBackwardSimd(z, w, h, sel, taps, size, dout, dtaps, dz);
  // Double: the plain version the SIMD one is tested against.
  const int r = size / 2, pw = w + 2 * r, ph = h + 2 * r, n = size * size;
  // dL/dh^k_j = sum over pixels i with s(i) = k of z_{i+j} dout_i: per-chunk partial sums.
  const std::vector<T> pad = PadReplicate(z, w, h, r);
  int max_sel = 0;
  for (std::size_t i = 0; i < std::size_t(w) * h; ++i) max_sel = std::max(max_sel, int(sel[i]));
  const std::size_t bank = std::size_t(max_sel + 1) * n;
  // Chunks of at least kMinChunkPixels: each needs a zeroed copy of the bank's gradient, which
  // for a small training crop would cost as much as the sums themselves. One chunk sums
  // straight into dtaps. The count depends on the size only, so results do not depend on the
  // thread count.
  const int chunks =
      std::clamp(int(std::size_t(w) * h / kMinChunkPixels), 1, std::min(kReductionChunks, h));
  std::vector<std::vector<double>> partial(chunks > 1 ? chunks : 0);
  ParallelFor(0, chunks, [&](int c) {
    double* acc = dtaps;
    if (chunks > 1) {
      partial[c].assign(bank, 0.0);
      acc = partial[c].data();
    }
    const int y0 = h * c / chunks, y1 = h * (c + 1) / chunks;
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < w; ++x) {
        const double g = dout[std::size_t(y) * w + x];
        if (g == 0) continue;
        double* a = acc + std::size_t(sel[std::size_t(y) * w + x]) * n;
        const T* p = pad.data() + std::size_t(y) * pw + x;
        for (int dy = 0; dy < size; ++dy, p += pw, a += size)
          for (int dx = 0; dx < size; ++dx) a[dx] += g * double(p[dx]);
      }
  });
  for (std::size_t c = 0; c < partial.size(); ++c)
    for (std::size_t i = 0; i < bank; ++i) dtaps[i] += partial[c][i];
  if (dz == nullptr) return;
  // dL/dz on the padded grid: each output pixel scatters h^{s(i)}_j dout_i to i + j. Gathered
  // per padded row (rows i - dy) so threads never write the same element.
  std::vector<T> dpad(std::size_t(pw) * ph, T(0));
  ParallelFor(0, ph, [&](int py) {
    T* d = dpad.data() + std::size_t(py) * pw;
    for (int dy = 0; dy < size; ++dy) {
      const int y = py - dy;  // output row whose footprint row dy lands on padded row py
      if (y < 0 || y >= h) continue;
      for (int x = 0; x < w; ++x) {
        const T g = dout[std::size_t(y) * w + x];
        if (g == 0) continue;
        const T* h_k = taps + std::size_t(sel[std::size_t(y) * w + x]) * n + dy * size;
        for (int dx = 0; dx < size; ++dx) d[x + dx] += h_k[dx] * g;
      }
    }
  });
  // Fold the replicated border back onto the edge pixels (adjoint of PadReplicate).
  for (int y = 0; y < h; ++y) std::fill_n(dz + std::size_t(y) * w, w, T(0));
  for (int py = 0; py < ph; ++py) {
    T* dst = dz + std::size_t(std::clamp(py - r, 0, h - 1)) * w;
    const T* src = dpad.data() + std::size_t(py) * pw;
    for (int px = 0; px < pw; ++px) dst[std::clamp(px - r, 0, w - 1)] += src[px];
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
template void ApplyPlaneBackward<float>(const float*, int, int, const std::int32_t*, const float*,
                                        int, const float*, double*, float*);
template void ApplyPlaneBackward<double>(const double*, int, int, const std::int32_t*,
                                         const double*, int, const double*, double*, double*);
template void ApplyPlaneReference<float>(const float*, int, int, const std::int32_t*, const float*,
                                         int, float*);
template void ApplyPlaneReference<double>(const double*, int, int, const std::int32_t*,
                                          const double*, int, double*);

namespace {

// The shape checks every image-level entry point makes on a bank (cheap: not the taps'
// finiteness, which FilterBank::Validate checks once when a model is loaded or built).
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

}  // namespace

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

namespace {

// SelectAndFilter, and with `base`: each filtered band replaced at once (while in cache) by
// base + scale * filtered, its finiteness ANDed into *finite (if given).
std::vector<Image> FusedSelectFilter(const SelectionConfig& cfg,
                                     const std::vector<const FilterBank*>& banks, const Image& z,
                                     const Image* base, float scale, bool* finite,
                                     const float* prepadded = nullptr) {
  if (banks.empty() || banks.size() > 2) Fail("select-and-filter takes one or two filter banks");
  if (base != nullptr && banks.size() != 1) Fail("an update step takes one filter bank");
  if (base != nullptr) RequireSameShape(*base, z, "the step's base and input");
  cfg.Validate();
  for (const FilterBank* b : banks) {
    RequireBankShape(*b);
    // Selection indices are below num_filters() by construction: the kernel needs no scan.
    if (cfg.num_filters() > b->count)
      Fail("the selection defines ", cfg.num_filters(), " filters, but the bank has ", b->count);
  }
  const int w = z.width(), h = z.height(), channels = z.channels();
  const bool together = banks.size() == 1 || (channels == 1 && banks[0]->size == banks[1]->size);
  if (!together) {
    // Two banks on color, or of different footprints: one selection, two filtering passes.
    const std::vector<std::int32_t> sel = Select(cfg, z);
    std::vector<Image> out;
    for (const FilterBank* b : banks) out.push_back(ApplyFilters(*b, sel, z));
    return out;
  }
  const int nb = int(banks.size());
  const float* planes[3] = {};
  for (int c = 0; c < channels; ++c) planes[c] = z.plane(c);
  int count[2];
  const float* taps[2];
  for (int b = 0; b < nb; ++b) {
    count[b] = cfg.num_filters();
    taps[b] = banks[b]->taps.data();
  }
  // Each band pads its own rows (below), while they are in cache, instead of a whole-image copy.
  const PreparedFilters p = PrepareFilters(planes, channels, w, h, nb, count, taps, banks[0]->size,
                                           false, prepadded != nullptr ? &prepadded : nullptr);
  const int r = banks[0]->size / 2;
  std::vector<Image> out;
  float* outs[6] = {};
  for (int b = 0; b < nb; ++b) {
    out.push_back(Image::Uninitialized(w, h, channels));
    for (int c = 0; c < channels; ++c) outs[b * channels + c] = out.back().plane(c);
  }
  std::atomic<bool> all_finite{true};
  // Each band of rows is filtered as soon as its indices exist, by the thread that selected it.
  SelectRows(cfg, z, [&](int y0, int y1, const std::int32_t* sel, std::size_t pitch) {
    const std::int32_t* sels[2] = {sel, sel};
    // Padded rows y0 .. y1 + 2r of each plane (image rows y0 - r .. y1 + r - 1, clamped).
    thread_local AlignedVector<float> band[3];
    const float* padded[3] = {};
    const int rows = y1 - y0 + 2 * r;
    for (int c = 0; c < channels; ++c) {
      band[c].resize(std::size_t(rows) * p.pw + kSimdForwardSlack);
      std::fill(band[c].end() - kSimdForwardSlack, band[c].end(), 0.f);
      for (int i = 0; i < rows; ++i)
        PadRow(planes[c], w, h, r, y0 + i, band[c].data() + std::size_t(i) * p.pw);
      padded[c] = band[c].data();
    }
    p.Rows(y0, y1, sels, pitch, outs, padded, y0);
    if (base == nullptr) return;
    // The update on the rows just written, with AxpyAllFinite's arithmetic.
    const std::size_t i0 = std::size_t(y0) * w, n = std::size_t(y1 - y0) * w;
    for (int c = 0; c < channels; ++c)
      if (!UpdateAllFinite(scale, outs[c] + i0, base->plane(c) + i0, outs[c] + i0, n))
        all_finite = false;
  });
  if (finite != nullptr) *finite = all_finite;
  return out;
}

}  // namespace

std::vector<Image> SelectAndFilter(const SelectionConfig& cfg,
                                   const std::vector<const FilterBank*>& banks, const Image& z) {
  return FusedSelectFilter(cfg, banks, z, nullptr, 1.f, nullptr);
}

Image SelectFilterUpdate(const SelectionConfig& cfg, const FilterBank& bank, const Image& z,
                         const Image& base, float scale, bool* finite) {
  return std::move(FusedSelectFilter(cfg, {&bank}, z, &base, scale, finite)[0]);
}

PaddedBank::PaddedBank(const FilterBank& filters) : bank(filters) {
  RequireBankShape(bank);
  PadFilterRows(bank.taps.data(), bank.count, bank.size, SimdFilterRowLength(bank.size), taps);
}

Image SelectFilterUpdate(const SelectionConfig& cfg, const PaddedBank& bank, const Image& z,
                         const Image& base, float scale, bool* finite) {
  if (bank.taps.size() !=
      bank.bank.taps.size() / bank.bank.size * SimdFilterRowLength(bank.bank.size))
    Fail("the padded filter bank no longer matches its bank (its taps were resized)");
  return std::move(
      FusedSelectFilter(cfg, {&bank.bank}, z, &base, scale, finite, bank.taps.data())[0]);
}

}  // namespace blade
