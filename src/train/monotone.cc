// Training under the monotone constraint: projecting onto it, and constrained least squares
// (FISTA).
#include "blade/monotone.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "blade/error.h"
#include "blade/parallel.h"
#include "blade/train.h"

namespace blade {
namespace {

// Projection of v onto {x >= 0, sum x <= cap} (Duchi et al. 2008 for the simplex face).
void ProjectCappedSimplex(std::vector<double>& v, double cap) {
  double sum = 0;
  for (double& x : v) {
    x = std::max(0.0, x);
    sum += x;
  }
  if (sum <= cap) return;
  // On the face sum x = cap: x = max(v - tau, 0) with tau from the sorted values.
  std::vector<double> u(v);
  std::sort(u.begin(), u.end(), std::greater<double>());
  double cumulative = 0, tau = 0;
  for (std::size_t k = 0; k < u.size(); ++k) {
    cumulative += u[k];
    const double t = (cumulative - cap) / double(k + 1);
    if (u[k] - t > 0) tau = t;
  }
  for (double& x : v) x = std::max(0.0, x - tau);
}

}  // namespace

void ProjectMonotoneFilter(float* taps, int size, double cap) {
  const int n = size * size, centre = n / 2;
  std::vector<double> x;
  for (int t = 0; t < n; ++t)
    if (t != centre) x.push_back(taps[t]);
  ProjectCappedSimplex(x, cap);
  // Round down so that the float taps still satisfy the cap after conversion.
  double sum = 0;
  for (int t = 0, j = 0; t < n; ++t) {
    if (t == centre) continue;
    taps[t] = float(x[j++]);
    sum += taps[t];
  }
  if (sum > cap) {
    const double shrink = cap / sum * (1 - 1e-7);
    sum = 0;
    for (int t = 0; t < n; ++t)
      if (t != centre) sum += (taps[t] = float(taps[t] * shrink));
  }
  taps[centre] = float(-sum);
}

void ProjectMonotone(Model& model) {
  if (model.form != ModelForm::kDirect)
    Fail("the monotone constraint is defined for direct models");
  FilterBank& f = model.banks.at(0).filters;
  for (int k = 0; k < f.count; ++k) ProjectMonotoneFilter(f.filter(k), f.size, 1.0 / model.dt);
  model.constraint = Constraint::kMonotone;
}

int SolveMonotoneLeastSquares(Model& model, const NormalEquations& sums, double ridge) {
  if (model.form != ModelForm::kDirect)
    Fail("the monotone constraint is defined for direct models");
  FilterBank& f = model.banks.at(0).filters;
  const int n = f.size * f.size, m = n - 1, centre = n / 2;
  if (sums.filters != f.count || sums.taps != n)
    Fail("normal equations do not fit the model's bank");
  const double cap = 1.0 / model.dt;
  int empty = 0;
  std::vector<int> no_samples(f.count, 0);
  ParallelFor(0, f.count, [&](int k) {
    const double* A = sums.a.data() + std::size_t(k) * n * n;
    const double* b = sums.b.data() + std::size_t(k) * n;
    // Substitute h = T x (h_j = x_j off centre, h_0 = -sum x): Q = T^T A T, c = T^T b.
    auto off = [&](int j) { return j < centre ? j : j + 1; };
    std::vector<double> Q(std::size_t(m) * m), c(m);
    double trace = 0;
    for (int i = 0; i < m; ++i) {
      const int a = off(i);
      c[i] = b[a] - b[centre];
      for (int j = 0; j < m; ++j) {
        const int bb = off(j);
        Q[i * m + j] =
            A[a * n + bb] - A[a * n + centre] - A[centre * n + bb] + A[centre * n + centre];
      }
      trace += Q[i * m + i];
    }
    if (sums.count[k] == 0 || !(trace > 0)) {
      no_samples[k] = 1;  // nothing selects this filter: the zero filter (identity step)
      for (int t = 0; t < n; ++t) f.filter(k)[t] = 0.f;
      return;
    }
    const double lambda = ridge * trace / m + 1e-12;
    for (int i = 0; i < m; ++i) Q[i * m + i] += lambda;
    // Step 1/L with L >= the largest eigenvalue of Q (power iteration, 50 rounds, +5%).
    std::vector<double> v(m, 1.0), w(m);
    double L = 0;
    for (int it = 0; it < 50; ++it) {
      for (int i = 0; i < m; ++i) {
        double s = 0;
        for (int j = 0; j < m; ++j) s += Q[i * m + j] * v[j];
        w[i] = s;
      }
      double norm = 0;
      for (double x : w) norm += x * x;
      norm = std::sqrt(norm);
      if (!(norm > 0)) break;
      L = norm;
      for (int i = 0; i < m; ++i) v[i] = w[i] / norm;
    }
    L *= 1.05;
    if (!(L > 0)) L = trace;
    // FISTA on 0.5 x^T Q x - c^T x over the capped simplex, from the projected current filter.
    std::vector<double> x(m), y, x_prev, grad(m);
    for (int i = 0; i < m; ++i) x[i] = f.filter(k)[off(i)];
    ProjectCappedSimplex(x, cap);
    y = x;
    double t = 1;
    for (int it = 0; it < 2000; ++it) {
      for (int i = 0; i < m; ++i) {
        double s = -c[i];
        for (int j = 0; j < m; ++j) s += Q[i * m + j] * y[j];
        grad[i] = s;
      }
      x_prev = x;
      for (int i = 0; i < m; ++i) x[i] = y[i] - grad[i] / L;
      ProjectCappedSimplex(x, cap);
      const double t_next = 0.5 * (1 + std::sqrt(1 + 4 * t * t));
      double change = 0, size = 0;
      for (int i = 0; i < m; ++i) {
        y[i] = x[i] + (t - 1) / t_next * (x[i] - x_prev[i]);
        change = std::max(change, std::abs(x[i] - x_prev[i]));
        size = std::max(size, std::abs(x[i]));
      }
      t = t_next;
      if (change <= 1e-10 * std::max(size, 1e-12)) break;
    }
    float* h = f.filter(k);
    for (int i = 0; i < m; ++i) h[off(i)] = float(x[i]);
    ProjectMonotoneFilter(h, f.size, cap);
  });
  for (int e : no_samples) empty += e;
  model.constraint = Constraint::kMonotone;
  return empty;
}

}  // namespace blade
