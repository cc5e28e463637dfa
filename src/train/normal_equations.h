// Per-filter regularised normal equations (A + lambda I) x = b, solved by Eigen's Cholesky with
// its positive-definiteness check: the one least-squares solver of direct, monotone and
// resampling training.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <functional>
#include <string>
#include <vector>

namespace blade {

// The factor of A + lambda I for one n x n row-major matrix A, of which only the lower triangle
// is read, with lambda = ridge x (mean diagonal of A) + 1e-12 (so a zero matrix still factors).
class RidgeCholesky {
 public:
  RidgeCholesky(const double* a, int n, double ridge);
  // False if A + lambda I is not numerically positive definite.
  bool ok() const { return ok_; }
  // x = (A + lambda I)^-1 b (b and x of length n; they may alias).
  void Solve(const double* b, double* x) const;

 private:
  Eigen::LLT<Eigen::MatrixXd, Eigen::Lower> llt_;
  bool ok_ = false;
};

// Solves every filter's system of `a` (filters x n x n, lower triangles read) and `b`
// (filters x n); a filter with fewer than min_samples samples (count) or a system that is not
// positive definite gets the solution of the systems pooled over all filters (the fallback).
// store(k, x) receives each filter's solution. Fails, naming `what`, if even the pooled system
// cannot be solved. Returns the number of fallback filters.
int SolvePerFilterNormalEquations(
    const std::vector<double>& a, const std::vector<double>& b, const std::vector<long>& count,
    int n, double ridge, long min_samples, const std::string& what,
    const std::function<void(int, const std::vector<double>&)>& store);

}  // namespace blade
