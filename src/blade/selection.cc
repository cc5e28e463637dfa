// Structure-tensor features, their quantization, and threshold fitting for BLADE's filter selection.
#include "blade/selection.h"

#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/ops.h"
#include "blade/parallel.h"

namespace blade {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Eigen-analysis of one smoothed tensor: orientation in [0, pi), strength, coherence.
inline void TensorFeatures(double j11, double j12, double j22, float* ori, float* str, float* coh) {
  const double s = std::sqrt((j11 - j22) * (j11 - j22) + 4 * j12 * j12);
  const double l1 = std::max(0.0, (j11 + j22 + s) / 2), l2 = std::max(0.0, (j11 + j22 - s) / 2);
  double theta = 0.5 * std::atan2(2 * j12, j11 - j22);  // in (-pi/2, pi/2]; atan2(0, 0) = 0
  if (theta < 0) theta += kPi;
  if (theta >= kPi) theta -= kPi;
  const double r1 = std::sqrt(l1), r2 = std::sqrt(l2);
  *ori = float(theta);
  *str = float(r1);
  *coh = r1 + r2 > 0 ? float((r1 - r2) / (r1 + r2)) : 0.f;
}

// atan2 to about 1e-5 rad (a minimax polynomial for atan on [0, 1] and octant folding): the
// orientation bins are pi/24 wide, so this moves a pixel to a neighbouring bin only within
// 1e-5 rad of a bin edge. libm's double atan2 was a third of the selection time.
inline float FastAtan2(float y, float x) {
  const float ax = std::abs(x), ay = std::abs(y);
  const float mx = std::max(ax, ay), mn = std::min(ax, ay);
  if (mx == 0.f) return 0.f;
  const float a = mn / mx, a2 = a * a;
  float r = ((((-0.0117212f * a2 + 0.05265332f) * a2 - 0.11643287f) * a2 + 0.19354346f) * a2 -
             0.33262347f) * a2 + 0.99997726f;
  r *= a;
  if (ay > ax) r = 1.57079637f - r;
  if (x < 0) r = 3.14159274f - r;
  return y < 0 ? -r : r;
}

// Number of thresholds <= v (thresholds ascending; at most 15, so a scan beats a search).
inline int CountAtMost(float v, const std::vector<float>& t) {
  int n = 0;
  for (float th : t) n += th <= v;
  return n;
}

// Adds the outer product of the central-difference gradient of `plane` to the tensor planes.
void AccumulateTensor(const float* p, int w, int h, Image& tensor) {
  ParallelFor(0, h, [&](int y) {
    const float* r = p + std::size_t(y) * w;
    const float* up = y > 0 ? r - w : r;
    const float* dn = y + 1 < h ? r + w : r;
    float* t11 = tensor.row(0, y);
    float* t12 = tensor.row(1, y);
    float* t22 = tensor.row(2, y);
    for (int x = 0; x < w; ++x) {
      const float gx = 0.5f * (r[x + 1 < w ? x + 1 : w - 1] - r[x > 0 ? x - 1 : 0]);
      const float gy = 0.5f * (dn[x] - up[x]);
      t11[x] += gx * gx;
      t12[x] += gx * gy;
      t22[x] += gy * gy;
    }
  });
}

void ValidateThresholds(const std::vector<float>& t, int bins, const char* what) {
  if (int(t.size()) != bins - 1)
    Fail("selection has ", bins, " ", what, " bins but ", t.size(), " thresholds (need ",
         bins - 1, ")");
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(t[i])) Fail("selection ", what, " threshold is not finite");
    if (i > 0 && !(t[i] >= t[i - 1])) Fail("selection ", what, " thresholds are not ascending");
  }
}

}  // namespace

Features ComputeFeatures(const Image& image, double rho, bool joint_color) {
  RequirePositive(rho, "selection rho");
  const int w = image.width(), h = image.height();
  Image tensor(w, h, 3);
  if (image.channels() == 3 && joint_color) {
    for (int c = 0; c < 3; ++c) AccumulateTensor(image.plane(c), w, h, tensor);
  } else {
    Image luma = ToLuma(image);
    AccumulateTensor(luma.plane(0), w, h, tensor);
  }
  tensor = GaussianBlur(tensor, rho);
  Features f{Image(w, h), Image(w, h), Image(w, h)};
  ParallelFor(0, h, [&](int y) {
    for (int x = 0; x < w; ++x)
      TensorFeatures(tensor.at(0, x, y), tensor.at(1, x, y), tensor.at(2, x, y),
                     &f.orientation.at(0, x, y), &f.strength.at(0, x, y),
                     &f.coherence.at(0, x, y));
  });
  return f;
}

void SelectionConfig::Validate() const {
  if (orientations < 1 || orientations > 64) Fail("selection orientations must be 1..64");
  if (strengths < 1 || strengths > 16 || coherences < 1 || coherences > 16 || intensities < 1 ||
      intensities > 16)
    Fail("selection strength, coherence and intensity bins must be 1..16");
  RequirePositive(rho, "selection rho");
  ValidateThresholds(strength_thresholds, strengths, "strength");
  ValidateThresholds(coherence_thresholds, coherences, "coherence");
  ValidateThresholds(intensity_thresholds, intensities, "intensity");
}

int OrientationBin(float theta, int n) {
  const double q = std::floor(double(theta) / kPi * n);
  if (!(q >= 0)) return 0;  // also NaN
  return q >= n ? n - 1 : int(q);
}

int ThresholdBin(float value, const std::vector<float>& thresholds) {
  return int(std::upper_bound(thresholds.begin(), thresholds.end(), value) - thresholds.begin());
}

std::vector<std::int32_t> Select(const SelectionConfig& cfg, const Image& image) {
  RequirePositive(cfg.rho, "selection rho");
  const int w = image.width(), h = image.height();
  // One pass from the smoothed tensor straight to the index, in float (the features are not
  // stored); SelectReference computes the same in double, one pixel at a time.
  Image tensor(w, h, 3);
  Image luma;
  if (image.channels() == 3 && cfg.joint_color) {
    for (int c = 0; c < 3; ++c) AccumulateTensor(image.plane(c), w, h, tensor);
    if (cfg.intensities > 1) luma = ToLuma(image);
  } else {
    luma = ToLuma(image);
    AccumulateTensor(luma.plane(0), w, h, tensor);
  }
  tensor = GaussianBlur(tensor, cfg.rho);
  std::vector<std::int32_t> sel(std::size_t(w) * h);
  const int no = cfg.orientations, ns = cfg.strengths, nc = cfg.coherences;
  const bool use_intensity = cfg.intensities > 1;
  const float bins_per_radian = float(no / (2 * kPi));
  ParallelFor(0, h, [&](int y) {
    const float *t11 = tensor.row(0, y), *t12 = tensor.row(1, y), *t22 = tensor.row(2, y);
    std::int32_t* out = sel.data() + std::size_t(y) * w;
    for (int x = 0; x < w; ++x) {
      // The eigenvalues in double: l2 = (tr - s) / 2 cancels badly in float where the
      // structure is coherent, and coherence would then change bins.
      const double d = double(t11[x]) - t22[x], e = 2.0 * t12[x], tr = double(t11[x]) + t22[x];
      const double s = std::sqrt(d * d + e * e);
      const float r1 = float(std::sqrt(std::max(0.0, 0.5 * (tr + s))));
      const float r2 = float(std::sqrt(std::max(0.0, 0.5 * (tr - s))));
      // Orientation theta = phi / 2 with phi = atan2(e, d) in (-pi, pi]: bin = phi mod 2 pi
      // over 2 pi, times N.
      float phi = FastAtan2(float(e), float(d));
      if (phi < 0) phi += float(2 * kPi);
      // A state that overflowed gives NaN here; such a pixel takes bin 0 rather than an
      // out-of-range index (the run then stops at its non-finite check).
      const float q = phi * bins_per_radian;
      const int o = q >= 0 && q < float(no) ? std::min(no - 1, int(q)) : 0;
      const float coh = r1 + r2 > 0 ? float((double(r1) - r2) / (double(r1) + r2)) : 0.f;
      const int sb = CountAtMost(r1, cfg.strength_thresholds);
      const int cb = CountAtMost(coh, cfg.coherence_thresholds);
      const int v = use_intensity ? CountAtMost(luma.row(0, y)[x], cfg.intensity_thresholds) : 0;
      out[x] = o + no * (sb + ns * (cb + nc * v));
    }
  });
  return sel;
}

std::vector<std::int32_t> SelectReference(const SelectionConfig& cfg, const Image& image) {
  const int w = image.width(), h = image.height();
  Image luma = ToLuma(image);
  const bool joint = cfg.joint_color && image.channels() == 3;
  const int planes = joint ? 3 : 1;
  // Unsmoothed tensor, then the Gaussian with explicit taps and HS extension, pixel by pixel.
  std::vector<double> t11(w * h), t12(w * h), t22(w * h);
  for (int c = 0; c < planes; ++c) {
    const Image& src = joint ? image : luma;
    const int pc = joint ? c : 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const double gx =
            (double(src.at(pc, std::min(x + 1, w - 1), y)) - src.at(pc, std::max(x - 1, 0), y)) / 2;
        const double gy =
            (double(src.at(pc, x, std::min(y + 1, h - 1))) - src.at(pc, x, std::max(y - 1, 0))) / 2;
        t11[y * w + x] += gx * gx;
        t12[y * w + x] += gx * gy;
        t22[y * w + x] += gy * gy;
      }
  }
  const std::vector<double> g = GaussianTaps(cfg.rho);
  const int r = int(g.size()) / 2;
  std::vector<std::int32_t> sel(w * h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double j[3] = {0, 0, 0};
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) {
          const int sx = ExtendIndex(x + dx, w, Boundary::kHalfSymmetric);
          const int sy = ExtendIndex(y + dy, h, Boundary::kHalfSymmetric);
          const double wgt = g[dx + r] * g[dy + r];
          j[0] += wgt * t11[sy * w + sx];
          j[1] += wgt * t12[sy * w + sx];
          j[2] += wgt * t22[sy * w + sx];
        }
      float ori, str, coh;
      TensorFeatures(j[0], j[1], j[2], &ori, &str, &coh);
      const int o = OrientationBin(ori, cfg.orientations);
      const int s = ThresholdBin(str, cfg.strength_thresholds);
      const int c = ThresholdBin(coh, cfg.coherence_thresholds);
      const int v = cfg.intensities > 1 ? ThresholdBin(luma.at(0, x, y), cfg.intensity_thresholds) : 0;
      sel[y * w + x] = o + cfg.orientations * (s + cfg.strengths * (c + cfg.coherences * v));
    }
  return sel;
}

std::vector<float> QuantileThresholds(std::vector<float> values, int bins) {
  if (bins < 1) Fail("quantile bins must be positive");
  std::vector<float> t;
  if (bins == 1) return t;
  if (values.empty()) Fail("no data to compute selection thresholds from");
  std::sort(values.begin(), values.end());
  for (int k = 1; k < bins; ++k) {
    const std::size_t i = std::min(values.size() - 1, values.size() * k / bins);
    t.push_back(values[i]);
  }
  return t;
}

void FitThresholds(SelectionConfig& cfg, const std::vector<const Image*>& images) {
  std::vector<float> strength, coherence, intensity;
  for (const Image* im : images) {
    Features f = ComputeFeatures(*im, cfg.rho, cfg.joint_color);
    strength.insert(strength.end(), f.strength.data(), f.strength.data() + f.strength.size());
    coherence.insert(coherence.end(), f.coherence.data(), f.coherence.data() + f.coherence.size());
    if (cfg.intensities > 1) {
      Image luma = ToLuma(*im);
      intensity.insert(intensity.end(), luma.data(), luma.data() + luma.size());
    }
  }
  if (cfg.strength_thresholds.empty()) cfg.strength_thresholds = QuantileThresholds(strength, cfg.strengths);
  if (cfg.coherence_thresholds.empty()) cfg.coherence_thresholds = QuantileThresholds(coherence, cfg.coherences);
  if (cfg.intensity_thresholds.empty()) cfg.intensity_thresholds = QuantileThresholds(intensity, cfg.intensities);
}

}  // namespace blade
