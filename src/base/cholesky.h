// Dense Cholesky factorisation and solves for the small per-filter normal equations of training.
#pragma once

#include <cmath>
#include <vector>

namespace blade {

// Cholesky factorisation in place (lower triangle of a, n x n row-major); false if a is not
// positive definite.
inline bool Cholesky(std::vector<double>& a, int n) {
  for (int j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (int k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[j * n + j] = d;
    for (int i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (int k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / d;
    }
  }
  return true;
}

// Solves L L^T x = b given the factor from Cholesky.
inline void CholeskySolve(const std::vector<double>& a, std::vector<double> b, int n,
                          std::vector<double>& x) {
  for (int i = 0; i < n; ++i) {  // L y = b
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= a[i * n + k] * b[k];
    b[i] = s / a[i * n + i];
  }
  x.assign(n, 0.0);
  for (int i = n - 1; i >= 0; --i) {  // L^T x = y
    double s = b[i];
    for (int k = i + 1; k < n; ++k) s -= a[k * n + i] * x[k];
    x[i] = s / a[i * n + i];
  }
}

// Solves the symmetric positive definite system a x = b by Cholesky; false if a is not SPD.
inline bool SolveSpd(std::vector<double> a, const std::vector<double>& b, int n,
                     std::vector<double>& x) {
  if (!Cholesky(a, n)) return false;
  CholeskySolve(a, b, n, x);
  return true;
}

// Symmetrises from the lower triangle, adds ridge x (mean diagonal), then solves by Cholesky.
inline bool SolveRidge(std::vector<double> a, const std::vector<double>& b, int n, double ridge,
                       std::vector<double>& x) {
  double trace = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < i; ++j) a[j * n + i] = a[i * n + j];
    trace += a[i * n + i];
  }
  for (int i = 0; i < n; ++i) a[i * n + i] += ridge * trace / n + 1e-12;
  return SolveSpd(std::move(a), b, n, x);
}

}  // namespace blade
