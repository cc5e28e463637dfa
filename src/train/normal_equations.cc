// Per-filter regularised normal equations solved by Eigen's Cholesky (see normal_equations.h).
#include "train/normal_equations.h"

#include <algorithm>

#include "blade/error.h"
#include "blade/parallel.h"

namespace blade {

RidgeCholesky::RidgeCholesky(const double* a, int n, double ridge) {
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::MatrixXd m = Eigen::Map<const RowMajor>(a, n, n);
  const double lambda = ridge * m.diagonal().sum() / n + 1e-12;
  m.diagonal().array() += lambda;
  llt_.compute(m);  // reads the lower triangle only
  ok_ = llt_.info() == Eigen::Success;
}

void RidgeCholesky::Solve(const double* b, double* x) const {
  const Eigen::VectorXd rhs = Eigen::Map<const Eigen::VectorXd>(b, llt_.rows());
  Eigen::Map<Eigen::VectorXd>(x, llt_.rows()) = llt_.solve(rhs);
}

int SolvePerFilterNormalEquations(
    const std::vector<double>& a, const std::vector<double>& b, const std::vector<long>& count,
    int n, double ridge, long min_samples, const std::string& what,
    const std::function<void(int, const std::vector<double>&)>& store) {
  const int filters = int(count.size());
  const std::size_t nn = std::size_t(n) * n;
  // The fallback: the systems pooled over all filters.
  std::vector<double> pooled_a(nn, 0.0), pooled_b(n, 0.0);
  for (int k = 0; k < filters; ++k) {
    for (std::size_t i = 0; i < nn; ++i) pooled_a[i] += a[k * nn + i];
    for (int i = 0; i < n; ++i) pooled_b[i] += b[std::size_t(k) * n + i];
  }
  const RidgeCholesky pooled(pooled_a.data(), n, ridge);
  if (!pooled.ok()) Fail(what, ": no usable training samples");
  std::vector<double> fallback(n);
  pooled.Solve(pooled_b.data(), fallback.data());
  int fallbacks = 0;
  std::vector<double> x(n);
  for (int k = 0; k < filters; ++k) {
    bool solved = false;
    if (count[k] >= min_samples) {
      const RidgeCholesky f(a.data() + k * nn, n, ridge);
      if (f.ok()) {
        f.Solve(b.data() + std::size_t(k) * n, x.data());
        solved = true;
      }
    }
    if (!solved) ++fallbacks;
    store(k, solved ? x : fallback);
  }
  return fallbacks;
}

PatchAccumulator::PatchAccumulator(NormalEquations& ne, std::vector<int> sizes)
    : ne_(ne), sizes_(std::move(sizes)), n_(0), buffer_(ne.filters), filled_(ne.filters, 0) {
  for (int size : sizes_) n_ += size * size;
  if (ne.taps != n_)
    Fail("normal equations of ", ne.taps, " taps do not fit patches of ", n_, " taps");
}

void PatchAccumulator::Add(const std::vector<const Image*>& zs,
                           const std::vector<std::int32_t>& keys, const Image& a, const Image& b,
                           double divisor, int margin) {
  if (zs.size() != sizes_.size() || zs.empty())
    Fail("least-squares samples: ", zs.size(), " inputs for ", sizes_.size(), " patch sizes");
  const int w = zs[0]->width(), h = zs[0]->height();
  for (const Image* z : zs)
    if (z->channels() != 1 || z->width() != w || z->height() != h)
      Fail("least-squares samples: the inputs differ in size or are not gray");
  if (a.width() != w || a.height() != h || b.width() != w || b.height() != h ||
      keys.size() != std::size_t(w) * h)
    Fail("least-squares samples: the patches, targets and filter indices differ in size");
  for (int y = margin; y < h - margin; ++y)
    for (int x = margin; x < w - margin; ++x) {
      const int k = keys[std::size_t(y) * w + x];
      if (k < 0 || k >= ne_.filters)
        Fail("least-squares samples: filter index ", k, " out of range");
      if (buffer_[k].size() == 0) buffer_[k].resize(kBlock, n_);
      double* p = buffer_[k].row(filled_[k]).data();
      int j = 0;
      for (std::size_t in = 0; in < zs.size(); ++in) {
        const int r = sizes_[in] / 2;
        for (int dy = -r; dy <= r; ++dy) {
          const float* row = zs[in]->row(0, std::clamp(y + dy, 0, h - 1));
          for (int dx = -r; dx <= r; ++dx, ++j) p[j] = row[std::clamp(x + dx, 0, w - 1)];
        }
      }
      const double d = (double(a.at(0, x, y)) - b.at(0, x, y)) / divisor;
      double* bk = ne_.b.data() + std::size_t(k) * n_;
      for (int i = 0; i < n_; ++i) bk[i] += p[i] * d;
      ++ne_.count[k];
      if (++filled_[k] == kBlock) Flush(k);
    }
}

void PatchAccumulator::Flush() {
  for (int k = 0; k < ne_.filters; ++k) Flush(k);
}

void PatchAccumulator::Flush(int k) {
  if (filled_[k] == 0) return;
  Eigen::Map<Eigen::MatrixXd> m(ne_.a.data() + std::size_t(k) * n_ * n_, n_, n_);
  m.selfadjointView<Eigen::Upper>().rankUpdate(buffer_[k].topRows(filled_[k]).transpose());
  filled_[k] = 0;
}

FilterBank FitResidualFilters(int filters, int size, int jobs, double ridge, long min_samples,
                              const std::string& what,
                              const std::function<void(int, PatchAccumulator&)>& add,
                              int* fallbacks) {
  const int n = size * size;
  const double chunk_bytes = 8.0 * filters * (double(n) * n + n + 64.0 * n);
  const int chunks = std::clamp(int(2e9 / chunk_bytes), 1, std::max(1, std::min(8, jobs)));
  NormalEquations total(filters, n);
  {
    std::vector<NormalEquations> partial(chunks, NormalEquations(filters, n));
    ParallelFor(0, chunks, [&](int c) {
      PatchAccumulator acc(partial[c], size);
      for (int j = jobs * c / chunks; j < jobs * (c + 1) / chunks; ++j) add(j, acc);
    });
    for (const NormalEquations& p : partial) total.Add(p);
  }
  FilterBank bank(filters, size);  // zero taps
  *fallbacks += SolvePerFilterNormalEquations(
      total.a, total.b, total.count, n, ridge, min_samples > 0 ? min_samples : 4L * n, what,
      [&](int k, const std::vector<double>& x) {
        std::transform(x.begin(), x.end(), bank.filter(k), [](double v) { return float(v); });
      });
  return bank;
}

}  // namespace blade
