// The backward pass of adaptive filtering (eq. 2.9): tap and data gradients, SIMD and plain.
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

using namespace filter_internal;

namespace {

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

template void ApplyPlaneBackward<float>(const float*, int, int, const std::int32_t*, const float*,
                                        int, const float*, double*, float*);
template void ApplyPlaneBackward<double>(const double*, int, int, const std::int32_t*,
                                         const double*, int, const double*, double*, double*);

}  // namespace blade
