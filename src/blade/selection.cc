// Structure-tensor features, their quantization, and threshold fitting for BLADE's filter
// selection.
#include "blade/selection.h"

#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "quantize.h"
// The symmetric Gaussian row and column kernels are the reference solvers' (same sums).
#include "blade/selection_kernels.h"
#include "ops/conv_simd.h"

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
    Fail("selection has ", bins, " ", what, " bins but ", t.size(), " thresholds (need ", bins - 1,
         ")");
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(t[i])) Fail("selection ", what, " threshold is not finite");
    if (i > 0 && !(t[i] >= t[i - 1])) Fail("selection ", what, " thresholds are not ascending");
  }
}

}  // namespace

Features ComputeFeatures(const Image& image, double rho, bool joint_color) {
  RequirePositive(rho, "selection rho");
  // A NaN spreads through the structure tensor's blur into every feature around it.
  if (!AllFinite(image)) Fail("the image contains NaN or infinite values");
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
                     &f.orientation.at(0, x, y), &f.strength.at(0, x, y), &f.coherence.at(0, x, y));
  });
  return f;
}

void SelectionConfig::SetBins(const std::vector<int>& bins) {
  if (bins.size() != 3 && bins.size() != 4)
    Fail(
        "selection bins are orientation, strength and coherence counts (and optionally "
        "intensity): 3 or 4 values, got ",
        bins.size());
  orientations = bins[0];
  strengths = bins[1];
  coherences = bins[2];
  intensities = bins.size() > 3 ? bins[3] : 1;
  strength_thresholds.clear();
  coherence_thresholds.clear();
  intensity_thresholds.clear();
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

namespace {

// Fills the tables' derived fields from strength[], coherence[] and the orientation count.
void FinishTables(QuantizeTables& t) {
  for (int k = 0; k < t.strength_count; ++k) {
    const double v = t.strength[k];
    t.strength_sq[k] = v > 0 ? float(v * v) : -INFINITY;
  }
  for (int k = 0; k < t.coherence_count; ++k) {
    const double v = t.coherence[k];
    t.coherence_a[k] = v > 1 ? -1.f : v <= -1 ? 1.f : float((1 - v) * (1 - v));
    t.coherence_b[k] = v > 1 || v <= -1 ? 0.f : float((1 + v) * (1 + v));
    t.coherence_flat[k] = v <= 0;
  }
  t.octant_count = -1;
  if (t.orientations % 8 == 0) {
    t.octant_count = t.orientations / 8 - 1;
    for (int k = 0; k < t.octant_count; ++k)
      t.octant_tan[k] = float(std::tan(2 * kPi * (k + 1) / t.orientations));
  }
}

}  // namespace

int OrientationBin(float theta, int n) {
  const double q = std::floor(double(theta) / kPi * n);
  if (!(q >= 0)) return 0;  // also NaN
  return q >= n ? n - 1 : int(q);
}

int ThresholdBin(float value, const std::vector<float>& thresholds) {
  return int(std::upper_bound(thresholds.begin(), thresholds.end(), value) - thresholds.begin());
}

namespace {

QuantizeTables MakeTables(const SelectionConfig& cfg) {
  QuantizeTables t;
  t.orientations = cfg.orientations;
  t.strengths = cfg.strengths;
  t.coherences = cfg.coherences;
  auto copy = [](const std::vector<float>& v, float* dst, int* count, const char* what) {
    if (v.size() > 15) Fail("selection has more than 15 ", what, " thresholds");
    std::copy(v.begin(), v.end(), dst);
    *count = int(v.size());
  };
  copy(cfg.strength_thresholds, t.strength, &t.strength_count, "strength");
  copy(cfg.coherence_thresholds, t.coherence, &t.coherence_count, "coherence");
  if (cfg.intensities > 1)
    copy(cfg.intensity_thresholds, t.intensity, &t.intensity_count, "intensity");
  FinishTables(t);
  return t;
}

// Rows of selection are computed in bands of up to this many rows, each band independently (its
// tensor rows plus a halo of the blur radius), so the working set stays in cache and the
// result does not depend on the thread count.
constexpr int kBandRows = 64;
// Larger blur radii use the whole-image path (GaussianBlur, which may switch to the DCT).
constexpr int kMaxFusedRadius = 64;

}  // namespace

// The structure tensor's gradient products at x in [x0, x1) of row r (rows up and dn above and
// below), written to p11, p12, p22 or, with kAdd, added to them: central differences, no border
// tests. The restrict qualifiers tell the compiler the rows do not overlap, so it vectorizes.
template <bool kAdd>
static void TensorProducts(const float* __restrict r, const float* __restrict up,
                           const float* __restrict dn, int x0, int x1, float* __restrict p11,
                           float* __restrict p12, float* __restrict p22) {
  for (int x = x0; x < x1; ++x) {
    const float gx = 0.5f * (r[x + 1] - r[x - 1]);
    const float gy = 0.5f * (dn[x] - up[x]);
    p11[x] = kAdd ? p11[x] + gx * gx : gx * gx;
    p12[x] = kAdd ? p12[x] + gx * gy : gx * gy;
    p22[x] = kAdd ? p22[x] + gy * gy : gy * gy;
  }
}

std::vector<std::int32_t> Select(const SelectionConfig& cfg, const Image& image) {
  std::vector<std::int32_t> sel(std::size_t(image.width()) * image.height());
  const int w = image.width();
  std::int32_t* dst = sel.data();
  SelectRows(cfg, image, [=](int y0, int y1, const std::int32_t* rows, std::size_t pitch) {
    for (int y = y0; y < y1; ++y) std::copy_n(rows + (y - y0) * pitch, w, dst + std::size_t(y) * w);
  });
  return sel;
}

void SelectRows(const SelectionConfig& cfg, const Image& image, const SelectedRows& on_rows) {
  RequirePositive(cfg.rho, "selection rho");
  const int w = image.width(), h = image.height();
  const QuantizeTables tables = MakeTables(cfg);
  const bool joint = image.channels() == 3 && cfg.joint_color;
  const bool use_intensity = cfg.intensities > 1;
  // A color image's luma, where selection needs it, is made a band of rows at a time (below)
  // rather than as a whole image: a step on a large color image holds a third of an image less.
  const bool needs_luma = image.channels() == 3 && (!joint || use_intensity);
  // Rows padded to whole vectors of the quantization kernel and of ConvRowSymAlignedSimd.
  const int pad = std::max(QuantizeRowPadding(), 16);
  const int wp = (w + pad - 1) / pad * pad;
  const std::vector<double> gd = GaussianTaps(cfg.rho);
  const int R = int(gd.size()) / 2;

  if (R > kMaxFusedRadius || cfg.rho > kGaussianDirectMaxSigma) {
    Image luma;
    if (needs_luma) luma = ToLuma(image);
    const float* intensity_plane = image.channels() == 1 ? image.plane(0)
                                   : luma.empty()        ? nullptr
                                                         : luma.plane(0);
    std::vector<const float*> planes;
    if (joint) {
      for (int c = 0; c < 3; ++c) planes.push_back(image.plane(c));
    } else {
      planes.push_back(intensity_plane);
    }
    Image tensor(w, h, 3);
    for (const float* p : planes) AccumulateTensor(p, w, h, tensor);
    tensor = GaussianBlur(tensor, cfg.rho);
    ParallelFor(0, h, [&](int y) {
      thread_local std::vector<float> rows;
      thread_local std::vector<std::int32_t> out;
      rows.assign(4 * std::size_t(wp), 0.f);
      out.resize(wp);
      for (int c = 0; c < 3; ++c) std::copy_n(tensor.row(c, y), w, rows.data() + c * wp);
      if (use_intensity) std::copy_n(intensity_plane + std::size_t(y) * w, w, rows.data() + 3 * wp);
      QuantizeTensorRow(rows.data(), rows.data() + wp, rows.data() + 2 * wp, rows.data() + 3 * wp,
                        w, tables, out.data());
      on_rows(y, y + 1, out.data(), wp);
    });
    return;
  }

  // Fused path: per band, the gradient outer products of each needed row are blurred along x
  // into H, then each output row blurs H along y and is quantized straight away.
  const std::vector<float> g(gd.begin(), gd.end());
  // Radii up to 4 (rho <= 1.33) take the folded four-row kernel (bit for bit ConvColsSymSimd,
  // in registers); larger ones the streaming kernel, with its layout: three zeros, the taps,
  // three zeros.
  const bool folded = R <= kConvColsSym4MaxRadius;
  std::vector<float> g4(g.size() + 6, 0.f);
  std::copy(g.begin(), g.end(), g4.begin() + 3);
  // The half-sample symmetric extension's source columns of the 2R halo pixels, the same for
  // every row: looked up once here, not per row (ExtendIndex weighed several percent of a
  // step at small sizes).
  std::vector<int> halo_src(2 * std::size_t(R));
  for (int k = 1; k <= R; ++k) {
    halo_src[k - 1] = ExtendIndex(-k, w, Boundary::kHalfSymmetric);
    halo_src[R + k - 1] = ExtendIndex(w - 1 + k, w, Boundary::kHalfSymmetric);
  }
  // Likewise the extended row of each row index y in [-R - 4, h + R + 4) (rows_of below).
  std::vector<int> row_src(std::size_t(h) + 2 * R + 8);
  for (int i = 0; i < int(row_src.size()); ++i)
    row_src[i] = ExtendIndex(i - R - 4, h, Boundary::kHalfSymmetric);
  // Bands of at most kBandRows rows, their count rounded up to a multiple of the thread count
  // (a 192-row image is 4 bands of 48 on two threads, not 3 of 64, one thread idle a third of
  // the time). Band heights are multiples of 4, so every band's four-row blocks start on the
  // same rows whatever the banding: the results do not depend on the thread count.
  const int threads = std::max(1, NumThreads());
  const int bands =
      std::max(1, ((h + kBandRows - 1) / kBandRows + threads - 1) / threads * threads);
  const int band_rows = ((h + bands - 1) / bands + 3) / 4 * 4;
  ParallelFor(0, bands, [&](int band) {
    const int y0 = std::min(h, band * band_rows), y1 = std::min(h, y0 + band_rows);
    if (y0 == y1) return;
    const int lo = std::max(0, y0 - R), hi = std::min(h, y1 + R), rows = hi - lo;
    // A product row with its half-sample symmetric halo, in a margin of whole vectors (so the
    // row starts 64-byte aligned, for ConvRowSymAlignedSimd) that leaves room for the vector
    // kernel to read past the padded width (those outputs are discarded).
    const int margin = (R + 15) / 16 * 16;
    const int lw = wp + 2 * margin;
    // Aligned, with rows a whole number of vectors apart: the vector loads never straddle lines.
    thread_local AlignedVector<float> buffer;
    thread_local AlignedVector<std::int32_t> out;   // the band's indices, rows wp apart
    thread_local std::vector<const float*> rows_y;  // rows y - R .. y + R + 3 of H
    // The planes the tensor is made of, as row pointers: the image's own, or the luma of rows
    // lo - 1 .. hi (the central differences read one row beyond), made here for this band.
    thread_local std::vector<float> band_luma;
    const int luma_lo = std::max(0, lo - 1), luma_hi = std::min(h, hi + 1);
    const float* planes[3] = {};
    int num_planes = 1;
    if (needs_luma) {
      band_luma.resize(std::size_t(luma_hi - luma_lo) * w);
      const std::size_t at = std::size_t(luma_lo) * w, n = std::size_t(luma_hi - luma_lo) * w;
      LumaRow(image.plane(0) + at, image.plane(1) + at, image.plane(2) + at, n, band_luma.data());
    }
    if (joint) {
      num_planes = 3;
      for (int c = 0; c < 3; ++c) planes[c] = image.plane(c);
    } else {
      planes[0] = image.channels() == 1 ? image.plane(0) : nullptr;
    }
    // Row y of plane i (of the band's luma, whose rows luma_lo .. luma_hi - 1 are all read).
    auto plane_row = [&](int i, int y) {
      return planes[i] != nullptr ? planes[i] + std::size_t(y) * w
                                  : band_luma.data() + std::size_t(y - luma_lo) * w;
    };
    auto intensity_row = [&](int y) {
      return image.channels() == 1 ? image.plane(0) + std::size_t(y) * w
                                   : band_luma.data() + std::size_t(y - luma_lo) * w;
    };
    rows_y.resize(2 * R + 4);
    buffer.resize(3 * std::size_t(rows) * wp + 3 * std::size_t(lw) + 13 * std::size_t(wp));
    out.resize(std::size_t(band_rows) * wp);
    float* H = buffer.data();
    float* line = H + 3 * std::size_t(rows) * wp;
    float* V = line + 3 * std::size_t(lw);  // 3 components x 4 rows
    float* lrow = V + 12 * std::size_t(wp);
    for (int yy = lo; yy < hi; ++yy) {
      float* p11 = line + margin;
      float* p12 = p11 + lw;
      float* p22 = p12 + lw;
      for (int i = 0; i < num_planes; ++i) {
        const float* r = plane_row(i, yy);
        const float* up = yy > 0 ? r - w : r;
        const float* dn = yy + 1 < h ? r + w : r;
        // Central differences with replicated borders, as AccumulateTensor; the interior loop
        // has no border tests so it vectorizes. The first plane writes, later ones add.
        const bool first = i == 0;
        auto border = [&](int x, float gx) {
          const float gy = 0.5f * (dn[x] - up[x]);
          p11[x] = (first ? 0.f : p11[x]) + gx * gx;
          p12[x] = (first ? 0.f : p12[x]) + gx * gy;
          p22[x] = (first ? 0.f : p22[x]) + gy * gy;
        };
        border(0, 0.5f * (r[w > 1 ? 1 : 0] - r[0]));
        if (first)
          TensorProducts<false>(r, up, dn, 1, w - 1, p11, p12, p22);
        else
          TensorProducts<true>(r, up, dn, 1, w - 1, p11, p12, p22);
        if (w > 1) border(w - 1, 0.5f * (r[w - 1] - r[w - 2]));
      }
      for (int c = 0; c < 3; ++c) {
        float* p = line + c * lw + margin;
        for (int k = 1; k <= R; ++k) {
          p[-k] = p[halo_src[k - 1]];
          p[w - 1 + k] = p[halo_src[R + k - 1]];
        }
        float* dst = H + (std::size_t(c) * rows + (yy - lo)) * wp;
        ConvRowSymAlignedSimd(p, g.data() + R, R, wp, dst);
        std::fill(dst + w, dst + wp, 0.f);
      }
    }
    // Output rows four at a time: each H row loaded once feeds four outputs (2R + 4 loads for
    // four rows instead of 2R + 1 for each).
    auto rows_of = [&](int c, int first) {
      const float* Hc = H + std::size_t(c) * rows * wp;
      for (int i = 0; i < int(rows_y.size()); ++i)
        rows_y[i] = Hc + std::size_t(row_src[first + i + R + 4] - lo) * wp;
    };
    auto quantize = [&](int y, const float* v11, const float* v12, const float* v22) {
      if (use_intensity) {
        std::copy_n(intensity_row(y), w, lrow);
        std::fill(lrow + w, lrow + wp, 0.f);
      }
      QuantizeTensorRow(v11, v12, v22, lrow, w, tables, out.data() + std::size_t(y - y0) * wp);
    };
    int y = y0;
    for (; y + 4 <= y1; y += 4) {
      float* outs[3][4];
      for (int c = 0; c < 3; ++c) {
        for (int j = 0; j < 4; ++j) outs[c][j] = V + (std::size_t(c) * 4 + j) * wp;
        rows_of(c, y - R);
        if (folded)
          ConvColsSym4Simd(rows_y.data(), g.data() + R, R, wp, outs[c]);
        else
          ConvColsBlock4Simd(rows_y.data(), g4.data(), R, wp, outs[c]);
      }
      for (int j = 0; j < 4; ++j) quantize(y + j, outs[0][j], outs[1][j], outs[2][j]);
    }
    for (; y < y1; ++y) {
      for (int c = 0; c < 3; ++c) {
        rows_of(c, y - R);
        ConvColsSymSimd(rows_y.data(), g.data() + R, R, wp, V + std::size_t(c) * wp);
      }
      quantize(y, V, V + wp, V + 2 * wp);
    }
    on_rows(y0, y1, out.data(), wp);
  });
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
      const int v =
          cfg.intensities > 1 ? ThresholdBin(luma.at(0, x, y), cfg.intensity_thresholds) : 0;
      sel[y * w + x] = o + cfg.orientations * (s + cfg.strengths * (c + cfg.coherences * v));
    }
  return sel;
}

std::vector<float> QuantileThresholds(std::vector<float> values, int bins) {
  if (bins < 1) Fail("quantile bins must be positive");
  std::vector<float> t;
  if (bins == 1) return t;
  if (values.empty()) Fail("no data to compute selection thresholds from");
  // The order statistics one after another, each selected in the part above the previous one
  // (nth_element partitions around it): the values a full sort would give, in O(n * bins).
  std::size_t from = 0;
  for (int k = 1; k < bins; ++k) {
    const std::size_t i = std::min(values.size() - 1, values.size() * k / bins);
    std::nth_element(values.begin() + from, values.begin() + i, values.end());
    t.push_back(values[i]);
    from = i;
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
  if (cfg.strength_thresholds.empty())
    cfg.strength_thresholds = QuantileThresholds(strength, cfg.strengths);
  if (cfg.coherence_thresholds.empty())
    cfg.coherence_thresholds = QuantileThresholds(coherence, cfg.coherences);
  if (cfg.intensity_thresholds.empty())
    cfg.intensity_thresholds = QuantileThresholds(intensity, cfg.intensities);
}

}  // namespace blade
