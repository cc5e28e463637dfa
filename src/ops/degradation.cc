// How a low-resolution image is made from a high-resolution one (area, PIL's bicubic, Gaussian
// PSF): the operator A of upscaling's data term and its adjoint, row by row with sparse tables.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "blade/error.h"
#include "blade/image.h"
#include "blade/ops.h"
#include "blade/parallel.h"

namespace blade {
namespace {

// A sparse matrix by rows (CSR): row i is sum over k in [start[i], start[i + 1]) of
// weight[k] * x[index[k]].
struct SparseRows {
  std::vector<int> start{0};
  std::vector<int> index;
  std::vector<float> weight;
  int rows() const { return int(start.size()) - 1; }

  // Adds row i's taps, merging repeated indices (a reflected border tap lands on a sample the
  // row already reads) and normalising to sum 1.
  void AddRow(std::vector<std::pair<int, double>> taps) {
    std::sort(taps.begin(), taps.end());
    double sum = 0;
    for (const auto& t : taps) sum += t.second;
    for (std::size_t k = 0; k < taps.size(); ++k) {
      if (k > 0 && taps[k].first == taps[k - 1].first) {
        weight.back() += float(taps[k].second / sum);
        continue;
      }
      index.push_back(taps[k].first);
      weight.push_back(float(taps[k].second / sum));
    }
    start.push_back(int(index.size()));
  }

  // The transpose: n_cols rows, row j listing (i, weight) for every entry of column j.
  SparseRows Transposed(int n_cols) const {
    SparseRows t;
    t.start.assign(n_cols + 1, 0);
    for (int j : index) ++t.start[j + 1];
    for (int j = 0; j < n_cols; ++j) t.start[j + 1] += t.start[j];
    t.index.resize(index.size());
    t.weight.resize(index.size());
    std::vector<int> fill(t.start.begin(), t.start.end() - 1);
    for (int i = 0; i < rows(); ++i)
      for (int k = start[i]; k < start[i + 1]; ++k) {
        t.index[fill[index[k]]] = i;
        t.weight[fill[index[k]]++] = weight[k];
      }
    return t;
  }
};

// Half-sample symmetric index into [0, n).
int Reflect(int i, int n) {
  const int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

// PIL's antialiased bicubic (Keys, a = -0.5), stretched by the scale when shrinking.
double PilBicubic(double x) {
  constexpr double a = -0.5;
  x = std::abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

// The 1-D operator from n_hr = factor * n_lr samples to n_lr samples.
SparseRows MakeRows(int n_lr, int factor, const Degradation& d) {
  const int n_hr = n_lr * factor;
  SparseRows m;
  for (int i = 0; i < n_lr; ++i) {
    std::vector<std::pair<int, double>> taps;
    switch (d.kind) {
      case Degradation::Kind::kArea:
        for (int k = 0; k < factor; ++k) taps.emplace_back(factor * i + k, 1.0);
        break;
      case Degradation::Kind::kBicubic: {
        // Pillow's ImagingResample (precompute_coeffs): support 2 * scale around the centre
        // (i + 1/2) * scale, clipped to the image and renormalised.
        const double scale = factor, support = 2.0 * scale, centre = (i + 0.5) * scale;
        const int lo = std::max(int(centre - support + 0.5), 0);
        const int hi = std::min(int(centre + support + 0.5), n_hr);
        for (int j = lo; j < hi; ++j) taps.emplace_back(j, PilBicubic((j - centre + 0.5) / scale));
        break;
      }
      case Degradation::Kind::kGaussian: {
        // Centred: LR pixel i at HR coordinate (i + 1/2) factor - 1/2, taps to 3 sigma (at least
        // the two nearest samples), clipped to the image and renormalised.
        const double centre = (i + 0.5) * factor - 0.5, reach = std::max(3 * d.sigma, 0.5);
        for (int j = int(std::ceil(centre - reach)); j <= int(std::floor(centre + reach)); ++j)
          if (j >= 0 && j < n_hr) {
            const double z = (j - centre) / d.sigma;
            taps.emplace_back(j, std::exp(-0.5 * z * z));
          }
        break;
      }
      case Degradation::Kind::kCorner: {
        // The paper's lattice: GaussianBlur (half-sample symmetric borders), then every
        // factor-th sample from 0.
        const std::vector<double> g = GaussianTaps(d.sigma);
        const int r = int(g.size()) / 2;
        for (int t = -r; t <= r; ++t) taps.emplace_back(Reflect(factor * i + t, n_hr), g[t + r]);
        break;
      }
    }
    m.AddRow(std::move(taps));
  }
  return m;
}

// out[i] = sum of weight * in[index] over row i of m, for n = m.rows() outputs.
inline float Gather(const SparseRows& m, int i, const float* in, std::size_t stride = 1) {
  float acc = 0.f;
  for (int k = m.start[i]; k < m.start[i + 1]; ++k)
    acc += m.weight[k] * in[std::size_t(m.index[k]) * stride];
  return acc;
}

void CheckFactor(int factor) {
  if (factor < 1 || factor > 16) Fail("the scale factor must be 1..16 (got ", factor, ")");
}

}  // namespace

Degradation ParseDegradation(const std::string& spec) {
  Degradation d;
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  if (kind == "area" || kind == "bicubic") {
    if (colon != std::string::npos) Fail("degradation '", kind, "' takes no parameter");
    d.kind = kind == "area" ? Degradation::Kind::kArea : Degradation::Kind::kBicubic;
    return d;
  }
  if (kind != "gaussian" && kind != "corner")
    Fail("unknown degradation '", spec,
         "' (expected area, bicubic, gaussian:SIGMA or corner:SIGMA)");
  d.kind = kind == "gaussian" ? Degradation::Kind::kGaussian : Degradation::Kind::kCorner;
  const std::string value = colon == std::string::npos ? "" : spec.substr(colon + 1);
  std::size_t used = 0;
  try {
    d.sigma = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (value.empty() || used != value.size())
    Fail("degradation '", spec, "': give the PSF sigma in HR pixels, as ", kind, ":0.5");
  d.Validate();
  return d;
}

void Degradation::Validate() const {
  if (kind == Kind::kGaussian && !(sigma > 0 && sigma <= 16))
    Fail("a Gaussian degradation needs 0 < sigma <= 16 HR pixels (got ", sigma, ")");
  if (kind == Kind::kCorner && !(sigma >= 0 && sigma <= 16))
    Fail("a corner degradation needs 0 <= sigma <= 16 HR pixels (got ", sigma, ")");
}

std::string DegradationName(const Degradation& d) {
  switch (d.kind) {
    case Degradation::Kind::kArea:
      return "area";
    case Degradation::Kind::kBicubic:
      return "bicubic";
    case Degradation::Kind::kGaussian:
      return StrCat("gaussian:", d.sigma);
    case Degradation::Kind::kCorner:
      return StrCat("corner:", d.sigma);
  }
  return "?";
}

Lattice DegradationLattice(const Degradation& d) {
  return d.kind == Degradation::Kind::kCorner ? Lattice::kCorner : Lattice::kCentered;
}

Image Degrade(const Image& hr, int factor, const Degradation& d) {
  CheckFactor(factor);
  d.Validate();
  if (hr.empty()) Fail("cannot downscale an empty image");
  if (hr.width() % factor || hr.height() % factor)
    Fail("downscaling by ", factor, " needs a size divisible by it (got ", hr.width(), "x",
         hr.height(), "; crop it first)");
  const int w = hr.width() / factor, h = hr.height() / factor, H = hr.height();
  const SparseRows mx = MakeRows(w, factor, d), my = MakeRows(h, factor, d);
  // Along x into a w x H intermediate (1/factor of the HR image), then along y.
  Image tmp = Image::Uninitialized(w, H, hr.channels());
  ParallelFor(0, hr.channels() * H, [&](int r) {
    const int c = r / H, y = r % H;
    const float* src = hr.row(c, y);
    float* dst = tmp.row(c, y);
    for (int x = 0; x < w; ++x) dst[x] = Gather(mx, x, src);
  });
  Image lr = Image::Uninitialized(w, h, hr.channels());
  ParallelFor(0, hr.channels() * h, [&](int r) {
    const int c = r / h, y = r % h;
    float* dst = lr.row(c, y);
    std::fill_n(dst, w, 0.f);
    for (int k = my.start[y]; k < my.start[y + 1]; ++k) {
      const float* src = tmp.row(c, my.index[k]);
      const float wt = my.weight[k];
      for (int x = 0; x < w; ++x) dst[x] += wt * src[x];
    }
  });
  return lr;
}

void AddDegradeAdjoint(const Image& lr, int factor, const Degradation& d, float scale, Image& hr) {
  CheckFactor(factor);
  d.Validate();
  if (hr.width() != lr.width() * factor || hr.height() != lr.height() * factor ||
      hr.channels() != lr.channels())
    Fail("the adjoint of downscaling by ", factor, " maps ", lr.width(), "x", lr.height(), " to ",
         lr.width() * factor, "x", lr.height() * factor, ", not ", hr.width(), "x", hr.height());
  const int w = lr.width(), h = lr.height(), W = hr.width(), H = hr.height();
  const SparseRows tx = MakeRows(w, factor, d).Transposed(W);
  const SparseRows ty = MakeRows(h, factor, d).Transposed(H);
  // A^T r = My^T r Mx, one HR row at a time: along y into a row of LR width, then along x
  // added into the HR row.
  ParallelFor(0, lr.channels() * H, [&](int r) {
    const int c = r / H, y = r % H;
    thread_local std::vector<float> row;
    row.assign(w, 0.f);
    for (int k = ty.start[y]; k < ty.start[y + 1]; ++k) {
      const float* src = lr.row(c, ty.index[k]);
      const float wt = ty.weight[k];
      for (int x = 0; x < w; ++x) row[x] += wt * src[x];
    }
    float* dst = hr.row(c, y);
    for (int x = 0; x < W; ++x) dst[x] += scale * Gather(tx, x, row.data());
  });
}

double DegradationGain(const Degradation& d, int factor) {
  CheckFactor(factor);
  d.Validate();
  // The largest eigenvalue of M M^T per axis by power iteration, on a line long enough that
  // the interior (where M is shift-invariant) dominates; A A^T = (My My^T) x (Mx Mx^T), so the
  // 2-D value is the product of the two axes' (equal) values.
  constexpr int kLine = 64;
  const SparseRows m = MakeRows(kLine, factor, d);
  const int n_hr = kLine * factor;
  std::vector<double> v(kLine, 1.0), hr(n_hr), next(kLine);
  double eig = 0;
  for (int iter = 0; iter < 200; ++iter) {
    std::fill(hr.begin(), hr.end(), 0.0);
    for (int i = 0; i < kLine; ++i)
      for (int k = m.start[i]; k < m.start[i + 1]; ++k) hr[m.index[k]] += m.weight[k] * v[i];
    double norm = 0;
    for (int i = 0; i < kLine; ++i) {
      next[i] = 0;
      for (int k = m.start[i]; k < m.start[i + 1]; ++k) next[i] += m.weight[k] * hr[m.index[k]];
      norm += next[i] * next[i];
    }
    norm = std::sqrt(norm);
    double vnorm = 0;
    for (double x : v) vnorm += x * x;
    eig = norm / std::sqrt(vnorm);
    for (int i = 0; i < kLine; ++i) v[i] = next[i] / norm;
  }
  return eig * eig;
}

}  // namespace blade
