// Per-filter regularised normal equations solved by Eigen's Cholesky (see normal_equations.h).
#include "train/normal_equations.h"

#include "blade/error.h"

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

}  // namespace blade
