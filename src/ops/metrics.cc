// PSNR and mean SSIM exactly as REFERENCE_SCHEMES.md §8 defines them (the tf.image.ssim variant).
#include "blade/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "blade/error.h"
#include "blade/parallel.h"

namespace blade {
namespace {

constexpr int kSsimWindow = 11;
constexpr int kSsimRadius = kSsimWindow / 2;
constexpr double kSsimSigma = 1.5;
constexpr double kSsimK1 = 0.01, kSsimK2 = 0.03;
// Output rows per parallel task: amortises the 10 extra input rows each strip re-filters.
constexpr int kSsimStrip = 32;

// Normalised 1-D Gaussian window; the 2-D window is its outer product (also normalised).
std::array<double, kSsimWindow> SsimWindow() {
  std::array<double, kSsimWindow> g{};
  double sum = 0.0;
  for (int k = 0; k < kSsimWindow; ++k) {
    const double d = k - kSsimRadius;
    g[k] = std::exp(-d * d / (2.0 * kSsimSigma * kSsimSigma));
    sum += g[k];
  }
  for (double& v : g) v /= sum;
  return g;
}

}  // namespace

double Psnr(const Image& a, const Image& b, double peak) {
  RequireSameShape(a, b, "PSNR inputs");
  RequirePositive(peak, "PSNR peak");
  if (a.empty()) Fail("PSNR of empty images");
  const int rows = a.channels() * a.height(), w = a.width();
  // Per-row partial sums, added in row order: the result does not depend on the thread count.
  std::vector<double> row_sums(rows);
  ParallelFor(0, rows, [&](int r) {
    const float* pa = a.data() + std::size_t(r) * w;
    const float* pb = b.data() + std::size_t(r) * w;
    double sum = 0.0;
    for (int x = 0; x < w; ++x) {
      const double d = double(pa[x]) - double(pb[x]);
      sum += d * d;
    }
    row_sums[r] = sum;
  });
  double total = 0.0;
  for (double s : row_sums) total += s;
  const double mse = total / double(a.size());
  if (mse == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(peak * peak / mse);
}

double Ssim(const Image& a, const Image& b, double data_range) {
  RequireSameShape(a, b, "SSIM inputs");
  RequirePositive(data_range, "SSIM data range");
  if (a.width() < kSsimWindow || a.height() < kSsimWindow)
    Fail("SSIM needs images of at least ", kSsimWindow, "x", kSsimWindow, " pixels (got ",
         a.width(), "x", a.height(), ")");
  const std::array<double, kSsimWindow> g = SsimWindow();
  const double c1 = (kSsimK1 * data_range) * (kSsimK1 * data_range);
  const double c2 = (kSsimK2 * data_range) * (kSsimK2 * data_range);
  const int channels = a.channels();
  // Valid window positions only: the window never leaves the image.
  const int vw = a.width() - 2 * kSsimRadius, vh = a.height() - 2 * kSsimRadius;
  const int strips = (vh + kSsimStrip - 1) / kSsimStrip;

  std::vector<double> row_sums(std::size_t(channels) * vh);
  ParallelFor(0, channels * strips, [&](int task) {
    const int c = task / strips;
    const int y0 = (task % strips) * kSsimStrip, y1 = std::min(vh, y0 + kSsimStrip);
    const int in_rows = y1 - y0 + 2 * kSsimRadius;
    // Separable filtering: first along x, for the five moments x, y, x^2, y^2, xy.
    enum { kX, kY, kXX, kYY, kXY, kMoments };
    std::vector<double> h(std::size_t(kMoments) * in_rows * vw);
    auto hrow = [&](int moment, int row) {
      return h.data() + (std::size_t(moment) * in_rows + row) * vw;
    };
    for (int row = 0; row < in_rows; ++row) {
      const float* pa = a.row(c, y0 + row);
      const float* pb = b.row(c, y0 + row);
      double* mx = hrow(kX, row);
      double* my = hrow(kY, row);
      double* mxx = hrow(kXX, row);
      double* myy = hrow(kYY, row);
      double* mxy = hrow(kXY, row);
      for (int x = 0; x < vw; ++x) {
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int k = 0; k < kSsimWindow; ++k) {
          const double va = pa[x + k], vb = pb[x + k], wk = g[k];
          sx += wk * va;
          sy += wk * vb;
          sxx += wk * va * va;
          syy += wk * vb * vb;
          sxy += wk * va * vb;
        }
        mx[x] = sx;
        my[x] = sy;
        mxx[x] = sxx;
        myy[x] = syy;
        mxy[x] = sxy;
      }
    }
    // Then along y (whole rows at a time, so the inner loops run over x), and the SSIM map summed
    // per output row.
    std::vector<double> v(std::size_t(kMoments) * vw);
    for (int y = y0; y < y1; ++y) {
      std::fill(v.begin(), v.end(), 0.0);
      for (int k = 0; k < kSsimWindow; ++k) {
        const double wk = g[k];
        for (int m = 0; m < kMoments; ++m) {
          const double* src = hrow(m, y - y0 + k);
          double* dst = v.data() + std::size_t(m) * vw;
          for (int x = 0; x < vw; ++x) dst[x] += wk * src[x];
        }
      }
      const double* mu_x = v.data() + std::size_t(kX) * vw;
      const double* mu_y = v.data() + std::size_t(kY) * vw;
      const double* exx = v.data() + std::size_t(kXX) * vw;
      const double* eyy = v.data() + std::size_t(kYY) * vw;
      const double* exy = v.data() + std::size_t(kXY) * vw;
      double row_sum = 0.0;
      for (int x = 0; x < vw; ++x) {
        // Population (weighted) statistics, as in Wang et al. and tf.image.ssim.
        const double var_x = exx[x] - mu_x[x] * mu_x[x];
        const double var_y = eyy[x] - mu_y[x] * mu_y[x];
        const double cov = exy[x] - mu_x[x] * mu_y[x];
        row_sum += ((2.0 * mu_x[x] * mu_y[x] + c1) * (2.0 * cov + c2)) /
                   ((mu_x[x] * mu_x[x] + mu_y[x] * mu_y[x] + c1) * (var_x + var_y + c2));
      }
      row_sums[std::size_t(c) * vh + y] = row_sum;
    }
  });

  // Mean over valid positions per channel, then over channels, in a fixed order.
  double total = 0.0;
  for (int c = 0; c < channels; ++c) {
    double channel_sum = 0.0;
    for (int y = 0; y < vh; ++y) channel_sum += row_sums[std::size_t(c) * vh + y];
    total += channel_sum / (double(vw) * vh);
  }
  return total / channels;
}

}  // namespace blade
