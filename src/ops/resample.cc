// Area-average downsampling (by an integer factor, or exact box integration to any smaller size)
// and separable Lanczos-3 / bicubic resizing (§9).
#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "blade/error.h"
#include "blade/image.h"
#include "blade/ops.h"
#include "blade/parallel.h"

namespace blade {
namespace {

// Precomputed taps of a 1-D resampling: output sample i reads source indices
// index[i * taps + t] (already clamped to the edge) with weights weight[i * taps + t].
struct ResampleTable {
  int taps = 0;
  std::vector<int> index;
  std::vector<float> weight;
};

ResampleTable MakeTable(int in_size, int out_size, Lattice lattice, double (*kernel)(double),
                        int radius) {
  ResampleTable table;
  table.taps = 2 * radius;
  table.index.resize(std::size_t(out_size) * table.taps);
  table.weight.resize(table.index.size());
  std::vector<double> w(table.taps);
  for (int i = 0; i < out_size; ++i) {
    // Written as products over out_size (not i / s) so that integer positions come out exact,
    // which makes the interpolating cases reproduce the input bit for bit.
    const double x = lattice == Lattice::kCorner ? double(i) * in_size / out_size
                                                 : (i + 0.5) * in_size / out_size - 0.5;
    const int first = static_cast<int>(std::floor(x)) - radius + 1;
    double sum = 0.0;
    for (int t = 0; t < table.taps; ++t) {
      w[t] = kernel(x - (first + t));
      sum += w[t];
    }
    for (int t = 0; t < table.taps; ++t) {
      table.index[std::size_t(i) * table.taps + t] = std::clamp(first + t, 0, in_size - 1);
      table.weight[std::size_t(i) * table.taps + t] = static_cast<float>(w[t] / sum);
    }
  }
  return table;
}

// Box integration: output sample i is the mean of the input over [i s, (i + 1) s), s = in / out
// >= 1, each input pixel weighted by its overlap with that interval (OpenCV's INTER_AREA).
ResampleTable MakeAreaTable(int in_size, int out_size) {
  ResampleTable table;
  table.taps =
      (in_size + out_size - 1) / out_size + 1;  // an interval of length s meets <= ceil(s) + 1
  table.index.resize(std::size_t(out_size) * table.taps);
  table.weight.assign(table.index.size(), 0.f);
  for (int i = 0; i < out_size; ++i) {
    // Interval ends as exact fractions of in_size / out_size, so integer factors come out exact.
    const double lo = double(i) * in_size / out_size, hi = double(i + 1) * in_size / out_size;
    const int first = static_cast<int>(std::floor(lo));
    for (int t = 0; t < table.taps; ++t) {
      const int j = std::min(first + t, in_size - 1);
      const double overlap = std::max(0.0, std::min(hi, j + 1.0) - std::max(lo, double(j)));
      table.index[std::size_t(i) * table.taps + t] = j;
      table.weight[std::size_t(i) * table.taps + t] =
          first + t < in_size ? static_cast<float>(overlap / (hi - lo)) : 0.f;
    }
  }
  return table;
}

// Applies a separable resampling given by its tables (x first, then y).
Image ApplyTables(const Image& image, const ResampleTable& tx, int width, const ResampleTable& ty,
                  int height) {
  const int channels = image.channels(), in_h = image.height();
  // Along x first: (width x in_h) intermediate.
  Image tmp(width, in_h, channels);
  ParallelFor(0, channels * in_h, [&](int r) {
    const int c = r / in_h, y = r % in_h;
    const float* src = image.row(c, y);
    float* dst = tmp.row(c, y);
    for (int x = 0; x < width; ++x) {
      const int* idx = tx.index.data() + std::size_t(x) * tx.taps;
      const float* wt = tx.weight.data() + std::size_t(x) * tx.taps;
      float acc = 0.f;
      for (int t = 0; t < tx.taps; ++t) acc += wt[t] * src[idx[t]];
      dst[x] = acc;
    }
  });

  // Then along y, combining whole rows (vectorises over x).
  Image out(width, height, channels);
  ParallelFor(0, channels * height, [&](int r) {
    const int c = r / height, y = r % height;
    const int* idx = ty.index.data() + std::size_t(y) * ty.taps;
    const float* wt = ty.weight.data() + std::size_t(y) * ty.taps;
    float* dst = out.row(c, y);
    std::fill_n(dst, width, 0.f);
    for (int t = 0; t < ty.taps; ++t) {
      const float* src = tmp.row(c, idx[t]);
      const float weight = wt[t];
      for (int x = 0; x < width; ++x) dst[x] += weight * src[x];
    }
  });
  return out;
}

Image Resize(const Image& image, int width, int height, Lattice lattice, double (*kernel)(double),
             int radius, const char* name) {
  if (image.empty()) Fail("cannot resize an empty image");
  if (width <= 0 || height <= 0)
    Fail(name, " resize target size ", width, "x", height, " must be positive");
  CheckImageSize(width, height, image.channels());
  return ApplyTables(image, MakeTable(image.width(), width, lattice, kernel, radius), width,
                     MakeTable(image.height(), height, lattice, kernel, radius), height);
}

}  // namespace

double Lanczos3Kernel(double x) {
  const double ax = std::abs(x);
  if (ax >= 3.0) return 0.0;
  if (ax == 0.0) return 1.0;
  // sin(pi k) is not exactly 0 in floating point; exact zeros at the nodes keep resizing by an
  // integer factor interpolating.
  if (ax == std::floor(ax)) return 0.0;
  const double px = std::numbers::pi * x;
  return 3.0 * std::sin(px) * std::sin(px / 3.0) / (px * px);
}

double CubicKernel(double x) {
  // Keys (1981) with a = -0.5.
  constexpr double a = -0.5;
  const double ax = std::abs(x);
  if (ax <= 1.0) return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1.0;
  if (ax < 2.0) return ((a * ax - 5.0 * a) * ax + 8.0 * a) * ax - 4.0 * a;
  return 0.0;
}

Image ResizeLanczos3(const Image& image, int width, int height, Lattice lattice) {
  return Resize(image, width, height, lattice, Lanczos3Kernel, 3, "Lanczos-3");
}

Image ResizeBicubic(const Image& image, int width, int height, Lattice lattice) {
  return Resize(image, width, height, lattice, CubicKernel, 2, "bicubic");
}

Image AreaDownsample(const Image& image, int factor) {
  if (factor < 1) Fail("area downsampling factor must be at least 1 (got ", factor, ")");
  const int w = image.width(), h = image.height();
  if (w % factor != 0 || h % factor != 0)
    Fail("area downsampling by ", factor, " needs a size divisible by it (got ", w, "x", h, ")");
  const int ow = w / factor, oh = h / factor;
  Image out(ow, oh, image.channels());
  const double scale = 1.0 / (double(factor) * factor);
  ParallelFor(0, image.channels() * oh, [&](int r) {
    const int c = r / oh, y = r % oh;
    thread_local std::vector<double> sums;
    sums.assign(ow, 0.0);
    for (int j = 0; j < factor; ++j) {
      const float* src = image.row(c, y * factor + j);
      for (int x = 0; x < ow; ++x)
        for (int i = 0; i < factor; ++i) sums[x] += src[x * factor + i];
    }
    float* dst = out.row(c, y);
    for (int x = 0; x < ow; ++x) dst[x] = static_cast<float>(sums[x] * scale);
  });
  return out;
}

Image AreaResize(const Image& image, int width, int height) {
  if (image.empty()) Fail("cannot resize an empty image");
  if (width <= 0 || height <= 0 || width > image.width() || height > image.height())
    Fail("area resizing goes from ", image.width(), "x", image.height(),
         " to a positive size no larger (got ", width, "x", height, ")");
  // An integer factor is AreaDownsample, bit for bit (its block sums are exact in double).
  const int k = image.width() / width;
  if (image.width() == k * width && image.height() == k * height) return AreaDownsample(image, k);
  return ApplyTables(image, MakeAreaTable(image.width(), width), width,
                     MakeAreaTable(image.height(), height), height);
}

}  // namespace blade
