// Per-filter regularised normal equations (A + lambda I) x = b, solved by Eigen's Cholesky with
// its positive-definiteness check: the one least-squares solver of direct, monotone and
// resampling training.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/train.h"  // NormalEquations

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

// Accumulates per-filter least-squares samples into `ne`: pixel i's patch of z (size x size,
// replicate borders) against the target (a_i - b_i) / divisor, into the system of filter
// keys[i]. Patches are buffered per filter and added kBlock at a time as one symmetric
// rank-kBlock update (Eigen's blocked kernel): several times faster than a rank-1 update per
// pixel. Only the upper triangle of each column-major matrix (the lower one of the row-major
// layout that RidgeCholesky reads) is summed. Flushed on destruction.
// With several inputs (sizes, one per input image), a sample is the concatenation of the
// inputs' patches, in order: a direct model with a scheme term fits its two banks' filters
// jointly this way (u's patch, then F(u)'s).
class PatchAccumulator {
 public:
  PatchAccumulator(NormalEquations& ne, int size) : PatchAccumulator(ne, std::vector<int>{size}) {}
  PatchAccumulator(NormalEquations& ne, std::vector<int> sizes);
  ~PatchAccumulator() { Flush(); }
  PatchAccumulator(const PatchAccumulator&) = delete;
  PatchAccumulator& operator=(const PatchAccumulator&) = delete;

  // Every pixel at least `margin` from the border of z (gray; a, b and keys of its size).
  void Add(const Image& z, const std::vector<std::int32_t>& keys, const Image& a, const Image& b,
           double divisor, int margin = 0) {
    Add(std::vector<const Image*>{&z}, keys, a, b, divisor, margin);
  }
  // One image per input, all of one size.
  void Add(const std::vector<const Image*>& zs, const std::vector<std::int32_t>& keys,
           const Image& a, const Image& b, double divisor, int margin = 0);
  void Flush();

 private:
  static constexpr int kBlock = 64;
  using RowBlock = Eigen::Matrix<double, kBlock, Eigen::Dynamic, Eigen::RowMajor>;
  void Flush(int k);

  NormalEquations& ne_;
  std::vector<int> sizes_;
  int n_;
  std::vector<RowBlock> buffer_;  // allocated on a filter's first sample
  std::vector<int> filled_;
};

// One stage of the residual-filter trainers (learned upscalers and denoisers): `jobs`
// independent pieces (image x transform) each add their samples through add(j, accumulator);
// the pieces are summed in fixed chunks and the chunks in order, so the result is the same for
// any thread count (at most 8 chunks, as many as about 2 GB of per-chunk sums allow: 8 (taps^2 +
// taps + 64 taps) bytes per filter). Then every filter's regularised system is solved
// (SolvePerFilterNormalEquations; min_samples 0 means 4 x taps). Returns the `filters` filters of
// size x size taps; adds the number of pooled fallbacks to *fallbacks.
FilterBank FitResidualFilters(int filters, int size, int jobs, double ridge, long min_samples,
                              const std::string& what,
                              const std::function<void(int, PatchAccumulator&)>& add,
                              int* fallbacks);

}  // namespace blade
