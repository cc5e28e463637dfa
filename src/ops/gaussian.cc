// Sampled, truncated Gaussian filtering with half-sample symmetric extension: direct (the SIMD
// convolution kernels of ops/conv_simd.h) and DCT paths.
#include "ops/gaussian.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "blade/error.h"
#include "blade/image.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "ops/conv_simd.h"

namespace blade {
namespace {

// Keeps the tap count (2 ceil(3 sigma) + 1) a sane allocation and an int.
constexpr double kMaxSigma = 1e6;

void CheckSigma(double sigma) {
  RequireNonNegative(sigma, "Gaussian sigma");
  if (sigma > kMaxSigma) Fail("Gaussian sigma must be at most ", kMaxSigma, " (got ", sigma, ")");
}

// DCT-II eigenvalues of the HS-extended convolution along an axis of length n:
// m[k] = sum_j g_j cos(pi k j / n). Cosines come from a table indexed by (k j) mod 2n, which is
// exact periodic folding, so radii larger than the axis need no special case.
std::vector<double> DctMultipliers(const std::vector<double>& taps, int n) {
  const int r = static_cast<int>(taps.size() / 2);
  const std::int64_t period = 2LL * n;
  std::vector<double> cosines(period);
  for (std::int64_t m = 0; m < period; ++m) cosines[m] = std::cos(std::numbers::pi * m / n);
  // Fold the taps onto offsets [0, n] first so the cost per frequency is at most n + 1:
  // cos(pi k j / n) depends only on j mod 2n, and m and 2n - m share a cosine.
  std::vector<double> folded(std::min(r, n) + 1, 0.0);
  for (int j = 0; j <= r; ++j) {
    std::int64_t m = j % period;
    if (m > n) m = period - m;
    // Only j >= 0 is visited; the symmetric tap -j contributes the same cosine.
    folded[m] += j == 0 ? taps[r] : 2.0 * taps[r + j];
  }
  std::vector<double> multipliers(n);
  for (int k = 0; k < n; ++k) {
    double sum = 0.0;
    for (std::int64_t m = 0; m < std::int64_t(folded.size()); ++m)
      sum += folded[m] * cosines[(k * m) % period];
    multipliers[k] = sum;
  }
  return multipliers;
}

}  // namespace

std::vector<double> GaussianTaps(double sigma) {
  CheckSigma(sigma);
  if (sigma == 0) return {1.0};
  const int radius = static_cast<int>(std::ceil(3.0 * sigma));
  std::vector<double> taps(2 * radius + 1);
  double sum = 0.0;
  for (int k = -radius; k <= radius; ++k) {
    // k / sigma first: 2 sigma^2 would underflow to 0 for tiny sigma and give 0/0 at k = 0.
    const double z = k / sigma;
    taps[k + radius] = std::exp(-0.5 * z * z);
    sum += taps[k + radius];
  }
  for (double& t : taps) t /= sum;
  return taps;
}

Image GaussianBlurDirect(const Image& image, double sigma) {
  CheckSigma(sigma);
  if (sigma == 0) return image.Copy();
  const std::vector<double> taps_d = GaussianTaps(sigma);
  const int r = static_cast<int>(taps_d.size() / 2);
  // The convolution kernels take the centre tap and one side: t[0] = centre, t[k] = tap k.
  const std::vector<float> half(taps_d.begin() + r, taps_d.end());
  const int w = image.width(), h = image.height(), channels = image.channels();

  // Pass 1, along x: each row is copied into a buffer padded by r ghost cells on each side (and
  // the kernel's overrun), so the kernel has no boundary logic; it may write past w, so it
  // writes into scratch and the row is copied out.
  Image tmp(w, h, channels);
  ParallelFor(0, channels * h, [&](int i) {
    const int c = i / h, y = i % h;
    thread_local std::vector<float> padded, row;
    padded.resize(std::size_t(w) + 2 * r + kSimdOverrun);
    row.resize(std::size_t(w) + kSimdOverrun);
    const float* src = image.row(c, y);
    std::copy_n(src, w, padded.data() + r);
    for (int k = 0; k < r; ++k) {
      padded[k] = src[ExtendIndex(k - r, w, Boundary::kHalfSymmetric)];
      padded[r + w + k] = src[ExtendIndex(w + k, w, Boundary::kHalfSymmetric)];
    }
    ConvRowSymSimd(padded.data() + r, half.data(), r, w, row.data());
    std::copy_n(row.data(), w, tmp.row(c, y));
  });

  // Pass 2, along y: whole rows are combined, so only the row indices need the extension.
  Image out(w, h, channels);
  ParallelFor(0, channels * h, [&](int i) {
    const int c = i / h, y = i % h;
    thread_local std::vector<const float*> rows;
    rows.resize(2 * std::size_t(r) + 1);
    for (int k = -r; k <= r; ++k)
      rows[r + k] = tmp.row(c, ExtendIndex(y + k, h, Boundary::kHalfSymmetric));
    ConvColsSymSimd(rows.data(), half.data(), r, w, out.row(c, y));
  });
  return out;
}

Image GaussianBlurDct(const Image& image, double sigma) {
  CheckSigma(sigma);
  if (sigma == 0) return image.Copy();
  const std::vector<double> taps = GaussianTaps(sigma);
  const int w = image.width(), h = image.height();
  const std::vector<double> mx = DctMultipliers(taps, w);
  const std::vector<double> my = DctMultipliers(taps, h);
  // Dct3(Dct2(u)) = 4 W H u; fold the normalisation into the multipliers.
  const double scale = 1.0 / (4.0 * w * h);

  // One 2-D transform pair per plane: measured faster than batches of 1-D line transforms
  // (which would parallelise within a plane) by about 1.5x on one thread.
  Image out(w, h, image.channels());
  ParallelFor(0, image.channels(), [&](int c) {
    std::vector<double> buffer(image.plane(c), image.plane(c) + image.plane_size());
    Dct2(buffer.data(), buffer.data(), w, h);
    for (int l = 0; l < h; ++l) {
      double* row = buffer.data() + std::size_t(l) * w;
      const double fy = my[l] * scale;
      for (int k = 0; k < w; ++k) row[k] *= mx[k] * fy;
    }
    Dct3(buffer.data(), buffer.data(), w, h);
    std::copy(buffer.begin(), buffer.end(), out.plane(c));
  });
  return out;
}

Image GaussianBlur(const Image& image, double sigma) {
  CheckSigma(sigma);
  if (sigma == 0) return image.Copy();
  return sigma <= kGaussianDirectMaxSigma ? GaussianBlurDirect(image, sigma)
                                          : GaussianBlurDct(image, sigma);
}

}  // namespace blade
