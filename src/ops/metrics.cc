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

constexpr int kSsimWindow = kSsimMinSize;
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

// The checks and constants both SSIM functions share.
struct SsimSetup {
  std::array<double, kSsimWindow> window;
  double c1, c2;
};
SsimSetup CheckSsimInputs(const Image& a, const Image& b, double data_range) {
  RequireSameShape(a, b, "SSIM inputs");
  RequirePositive(data_range, "SSIM data range");
  if (a.width() < kSsimWindow || a.height() < kSsimWindow)
    Fail("SSIM needs images of at least ", kSsimWindow, "x", kSsimWindow, " pixels (got ",
         a.width(), "x", a.height(), ")");
  return {SsimWindow(), (kSsimK1 * data_range) * (kSsimK1 * data_range),
          (kSsimK2 * data_range) * (kSsimK2 * data_range)};
}

}  // namespace

std::string MetricRangeWarning(double range, const Image& a, const Image& b,
                               const std::string& what) {
  if (a.empty() || b.empty() || !(range > 0)) return "";
  const double lo = std::min(MinValue(a), MinValue(b)), hi = std::max(MaxValue(a), MaxValue(b));
  if (range > 2 && lo >= -0.5 && hi <= 1.5)
    return StrCat(what, " ", range,
                  " but both images lie in [0, 1] (integer samples are read into [0, 1]): the "
                  "PSNR is ",
                  std::round(200 * std::log10(range)) / 10,
                  " dB too high and SSIM's constants are too large; give 1");
  const double reach = std::max(std::abs(lo), std::abs(hi));
  if (reach > 1.5 * range)
    return StrCat("the images reach ", reach, ", beyond the data range ", range, " (", what,
                  "): PSNR and SSIM are meaningless; give the range the values span (255 for "
                  "8-bit values, 1 for images in [0, 1])");
  return "";
}

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
  const SsimSetup setup = CheckSsimInputs(a, b, data_range);
  const std::array<double, kSsimWindow>& g = setup.window;
  const double c1 = setup.c1, c2 = setup.c2;
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

namespace {

// Valid-position Gaussian filtering of a plane given as a w x h array: out[y][x] =
// sum_{i,j} g[i] g[j] in[y+i][x+j], for (w - 10) x (h - 10) outputs.
std::vector<double> SsimFilterValid(const std::vector<double>& in, int w, int h,
                                    const std::array<double, kSsimWindow>& g) {
  const int vw = w - 2 * kSsimRadius, vh = h - 2 * kSsimRadius;
  std::vector<double> across(std::size_t(vw) * h, 0.0), out(std::size_t(vw) * vh, 0.0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < vw; ++x) {
      double s = 0;
      for (int k = 0; k < kSsimWindow; ++k) s += g[k] * in[std::size_t(y) * w + x + k];
      across[std::size_t(y) * vw + x] = s;
    }
  for (int y = 0; y < vh; ++y)
    for (int k = 0; k < kSsimWindow; ++k)
      for (int x = 0; x < vw; ++x)
        out[std::size_t(y) * vw + x] += g[k] * across[std::size_t(y + k) * vw + x];
  return out;
}

// The adjoint of SsimFilterValid: scatters each valid position's value back over its window.
std::vector<double> SsimFilterAdjoint(const std::vector<double>& v, int w, int h,
                                      const std::array<double, kSsimWindow>& g) {
  const int vw = w - 2 * kSsimRadius, vh = h - 2 * kSsimRadius;
  std::vector<double> down(std::size_t(vw) * h, 0.0), out(std::size_t(w) * h, 0.0);
  for (int y = 0; y < vh; ++y)
    for (int k = 0; k < kSsimWindow; ++k)
      for (int x = 0; x < vw; ++x)
        down[std::size_t(y + k) * vw + x] += g[k] * v[std::size_t(y) * vw + x];
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < vw; ++x)
      for (int k = 0; k < kSsimWindow; ++k)
        out[std::size_t(y) * w + x + k] += g[k] * down[std::size_t(y) * vw + x];
  return out;
}

}  // namespace

double SsimGradient(const Image& a, const Image& b, Image* grad_a, double data_range) {
  const SsimSetup setup = CheckSsimInputs(a, b, data_range);
  const std::array<double, kSsimWindow>& g = setup.window;
  const double c1 = setup.c1, c2 = setup.c2;
  const int w = a.width(), h = a.height(), channels = a.channels();
  const int vw = w - 2 * kSsimRadius, vh = h - 2 * kSsimRadius;
  // The mean is over channels x valid positions; every map entry carries this weight.
  const double weight = 1.0 / (double(channels) * vw * vh);
  *grad_a = Image(w, h, channels);
  std::vector<double> channel_sums(channels);
  ParallelFor(0, channels, [&](int c) {
    const std::size_t n = std::size_t(w) * h;
    std::vector<double> x(n), y(n), xx(n), yy(n), xy(n);
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = a.plane(c)[i];
      y[i] = b.plane(c)[i];
      xx[i] = x[i] * x[i];
      yy[i] = y[i] * y[i];
      xy[i] = x[i] * y[i];
    }
    const std::vector<double> mx = SsimFilterValid(x, w, h, g), my = SsimFilterValid(y, w, h, g);
    const std::vector<double> ex = SsimFilterValid(xx, w, h, g), ey = SsimFilterValid(yy, w, h, g);
    const std::vector<double> exy = SsimFilterValid(xy, w, h, g);
    // S = A1 A2 / (B1 B2) with A1 = 2 mx my + c1, A2 = 2 (exy - mx my) + c2,
    // B1 = mx^2 + my^2 + c1, B2 = (ex - mx^2) + (ey - my^2) + c2. Its partial derivatives with
    // respect to the filtered moments mx, ex = G*(x^2) and exy = G*(xy):
    //   dS/dex = -S / B2, dS/dexy = 2 S / A2,
    //   dS/dmx = S (2 my / A1 - 2 my / A2 - 2 mx / B1 + 2 mx / B2).
    std::vector<double> d_mx(mx.size()), d_ex(mx.size()), d_exy(mx.size());
    double sum = 0;
    for (std::size_t i = 0; i < mx.size(); ++i) {
      const double a1 = 2 * mx[i] * my[i] + c1, a2 = 2 * (exy[i] - mx[i] * my[i]) + c2;
      const double b1 = mx[i] * mx[i] + my[i] * my[i] + c1;
      const double b2 = (ex[i] - mx[i] * mx[i]) + (ey[i] - my[i] * my[i]) + c2;
      const double s = a1 * a2 / (b1 * b2);
      sum += s;
      d_ex[i] = -s / b2 * weight;
      d_exy[i] = 2 * s / a2 * weight;
      d_mx[i] = s * (2 * my[i] / a1 - 2 * my[i] / a2 - 2 * mx[i] / b1 + 2 * mx[i] / b2) * weight;
    }
    channel_sums[c] = sum;
    // Chain rule through the filtering (its adjoint) and the products x^2 and xy.
    const std::vector<double> g_mx = SsimFilterAdjoint(d_mx, w, h, g);
    const std::vector<double> g_ex = SsimFilterAdjoint(d_ex, w, h, g);
    const std::vector<double> g_exy = SsimFilterAdjoint(d_exy, w, h, g);
    float* out = grad_a->plane(c);
    for (std::size_t i = 0; i < n; ++i)
      out[i] = float(g_mx[i] + 2 * x[i] * g_ex[i] + y[i] * g_exy[i]);
  });
  double total = 0;
  for (int c = 0; c < channels; ++c) total += channel_sums[c] / (double(vw) * vh);
  return total / channels;
}

double EstimateNoiseSigma(const Image& image) {
  if (image.width() < 8 || image.height() < 8)
    Fail("noise estimation needs at least 8x8 pixels (got ", image.width(), "x", image.height(),
         ")");
  if (!AllFinite(image)) Fail("the image contains NaN or infinite values");
  // Daubechies-2 decomposition high-pass (pywt's dec_hi), reversed: coefficient (i, j) is
  // sum_ab g[a] g[b] x(2j + b, 2i + a), as pywt.dwtn's away from the border.
  static constexpr double kG[4] = {-0.12940952255126037, -0.2241438680420134, 0.8365163037378079,
                                   -0.48296291314469025};
  constexpr double kQuartile = 0.6744897501960817;  // Phi^-1(3/4)
  double sum = 0;
  int measured = 0;
  for (int c = 0; c < image.channels(); ++c) {
    std::vector<double> d;
    d.reserve(std::size_t((image.width() - 2) / 2) * ((image.height() - 2) / 2));
    for (int y = 0; y + 3 < image.height(); y += 2)
      for (int x = 0; x + 3 < image.width(); x += 2) {
        double v = 0;
        for (int a = 0; a < 4; ++a) {
          const float* row = image.row(c, y + a);
          v += kG[a] *
               (kG[0] * row[x] + kG[1] * row[x + 1] + kG[2] * row[x + 2] + kG[3] * row[x + 3]);
        }
        if (v != 0) d.push_back(std::abs(v));
      }
    if (d.empty()) continue;  // a constant channel: no noise, and not counted in the mean
    // The median (numpy's: the mean of the two middle values for an even count).
    const std::size_t mid = d.size() / 2;
    std::nth_element(d.begin(), d.begin() + mid, d.end());
    double median = d[mid];
    if (d.size() % 2 == 0) median = 0.5 * (median + *std::max_element(d.begin(), d.begin() + mid));
    sum += median / kQuartile;
    ++measured;
  }
  return measured == 0 ? 0.0 : 255 * sum / measured;
}

}  // namespace blade
