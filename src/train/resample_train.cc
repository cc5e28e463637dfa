// Least-squares training of resampling models (paper §5): shifted observations, the joint
// normal equations of all displacement banks, solved filter by filter.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>

#include "blade/error.h"
#include "blade/parallel.h"
#include "blade/resample.h"
#include "blade/selection.h"
#include "blade/train.h"
#include "train/normal_equations.h"

namespace blade {

void ResampleTrainOptions::Validate() const {
  const ResampleTrainOptions& o = *this;
  if (o.shifts_per_image < 1 || o.shifts_per_image > 1000) Fail("shifts per image must be 1..1000");
  if (o.footprint < 3 || o.footprint > 9 || o.footprint % 2 == 0)
    Fail("footprint must be odd, 3..9 (got ", o.footprint, ")");
  if (o.order < 1 || o.order > 3) Fail("resampling order must be 1, 2 or 3 (got ", o.order, ")");
  RequireNonNegative(o.ridge, "ridge");
}

Model TrainResampleModel(const std::vector<Image>& hr_images, const ResampleTrainOptions& o) {
  o.Validate();
  if (hr_images.size() < 1) Fail("resampling training needs at least one image");
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> half(-0.5, 0.5);
  // Training pairs: the unshifted observation and observations shifted by constant (dx, dy).
  struct Pair {
    int image;
    double dx, dy;
    Image target;  // shifted minus unshifted
  };
  std::vector<Image> base;
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < hr_images.size(); ++i) {
    const Image& hr = hr_images[i];
    if (hr.channels() != 1) Fail("resampling training images must be gray (luma)");
    base.push_back(ObserveShifted(hr, o.factor, o.psf_sigma, Flow()));
    for (int k = 0; k < o.shifts_per_image; ++k) {
      const double dx = half(rng), dy = half(rng);
      Flow shift(base.back().width(), base.back().height());
      std::fill(shift.u.begin(), shift.u.end(), float(dx));
      std::fill(shift.v.begin(), shift.v.end(), float(dy));
      Image t = ObserveShifted(hr, o.factor, o.psf_sigma, shift);
      for (std::size_t j = 0; j < t.size(); ++j) t.data()[j] -= base.back().data()[j];
      pairs.push_back({int(i), dx, dy, std::move(t)});
    }
  }
  SelectionConfig cfg = o.selection;
  {
    std::vector<const Image*> frames;
    for (const Image& b : base) frames.push_back(&b);
    FitThresholds(cfg, frames);
  }
  std::vector<std::vector<std::int32_t>> sel(base.size());
  ParallelFor(0, int(base.size()), [&](int i) { sel[i] = Select(cfg, base[i]); });

  const auto mono = ResampleMonomials(o.order);
  const int nbanks = int(mono.size());
  const int size = o.footprint, r = size / 2, taps = size * size, n = nbanks * taps;
  const int filters = cfg.orientations * cfg.strengths * cfg.coherences * cfg.intensities;
  // Per filter: the 2*taps normal equations of rows [dx p, dy p]. Fixed chunks, summed in
  // order, so the result does not depend on the thread count.
  // Few chunks: each holds filters x n^2 doubles (n = 225 for order 3).
  const int chunks = std::max(1, std::min<int>(o.order == 1 ? 16 : 4, int(pairs.size())));
  const double bytes = 8.0 * filters * double(n) * n * (2 * chunks + 1);
  if (bytes > 3e9)
    Fail("resampling least squares would need ", bytes / 1e9, " GB (", filters, " filters x ", n,
         " unknowns); use fewer bins, a smaller footprint or a lower order");
  struct Normal {
    std::vector<double> a, b;
    std::vector<long> count;
  };
  std::vector<Normal> part(chunks);
  ParallelFor(0, chunks, [&](int c) {
    Normal& ne = part[c];
    ne.a.assign(std::size_t(filters) * n * n, 0.0);
    ne.b.assign(std::size_t(filters) * n, 0.0);
    ne.count.assign(filters, 0);
    std::vector<double> coef(nbanks);
    // Rows are buffered per filter and added to the normal matrix B at a time as one
    // symmetric rank-B update (Eigen's blocked kernel), which is much faster than
    // row-by-row updates once n reaches a few hundred (order 3 with 7x7 filters: n = 441).
    constexpr int kBlock = 64;
    using RowBlock = Eigen::Matrix<double, kBlock, Eigen::Dynamic, Eigen::RowMajor>;
    std::vector<RowBlock> buffer(filters, RowBlock(kBlock, n));
    std::vector<int> filled(filters, 0);
    std::vector<Eigen::MatrixXd> normal(filters, Eigen::MatrixXd::Zero(n, n));
    auto flush = [&](int k) {
      if (filled[k] == 0) return;
      normal[k].selfadjointView<Eigen::Lower>().rankUpdate(
          buffer[k].topRows(filled[k]).transpose());
      filled[k] = 0;
    };
    for (std::size_t q = pairs.size() * c / chunks; q < pairs.size() * (c + 1) / chunks; ++q) {
      const Pair& pr = pairs[q];
      for (int b = 0; b < nbanks; ++b)
        coef[b] = std::pow(pr.dx, mono[b].first) * std::pow(pr.dy, mono[b].second);
      const Image& u = base[pr.image];
      const int w = u.width(), h = u.height();
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const int k = sel[pr.image][std::size_t(y) * w + x];
          double* row = buffer[k].row(filled[k]).data();
          for (int dy = -r, j = 0; dy <= r; ++dy)
            for (int dx = -r; dx <= r; ++dx, ++j) {
              const double z = u.at(0, std::clamp(x + dx, 0, w - 1), std::clamp(y + dy, 0, h - 1));
              for (int b = 0; b < nbanks; ++b) row[b * taps + j] = coef[b] * z;
            }
          const double t = pr.target.at(0, x, y);
          double* bk = ne.b.data() + std::size_t(k) * n;
          for (int i = 0; i < n; ++i) bk[i] += row[i] * t;
          ++ne.count[k];
          if (++filled[k] == kBlock) flush(k);
        }
    }
    for (int k = 0; k < filters; ++k) {
      flush(k);
      double* a = ne.a.data() + std::size_t(k) * n * n;
      for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) a[i * n + j] = normal[k](i, j);
      normal[k].resize(0, 0);
    }
  });
  Normal total{std::vector<double>(std::size_t(filters) * n * n, 0.0),
               std::vector<double>(std::size_t(filters) * n, 0.0), std::vector<long>(filters, 0)};
  for (const Normal& p : part) {
    for (std::size_t i = 0; i < total.a.size(); ++i) total.a[i] += p.a[i];
    for (std::size_t i = 0; i < total.b.size(); ++i) total.b[i] += p.b[i];
    for (int k = 0; k < filters; ++k) total.count[k] += p.count[k];
  }
  // Each filter's regularised system; filters with too few samples (or a singular system) get
  // the system pooled over all filters.
  Model model = MakeEmptyModel(ModelForm::kResample, cfg, size);
  const Bank first = model.banks[0];
  model.banks.resize(nbanks, first);
  const int fallbacks = SolvePerFilterNormalEquations(
      total.a, total.b, total.count, n, o.ridge, 4L * n, "resampling least squares",
      [&](int k, const std::vector<double>& x) {
        for (int b = 0; b < nbanks; ++b)
          for (int j = 0; j < taps; ++j)
            model.banks[b].filters.filter(k)[j] = float(x[b * taps + j]);
      });
  model.dt = 1;
  model.steps = 1;
  model.pde = "resample";
  model.provenance["training"] =
      StrCat("least squares (joint banks, shared selection, order ", o.order,
             " in the displacement) on ", hr_images.size(), " images x ", o.shifts_per_image,
             " random shifts in [-1/2, 1/2]^2; Gaussian PSF ", o.psf_sigma, " LR px, factor ",
             o.factor, "; ", fallbacks, " fallback filters");
  model.provenance["seed"] = std::to_string(o.seed);
  return model;
}

}  // namespace blade
