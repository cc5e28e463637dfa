// Monotone BLADE: projection, the constraint check, the maximum principle, constrained least
// squares.
#include "blade/monotone.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "blade/error.h"
#include "blade/model.h"
#include "blade/train.h"
#include "test_util.h"

namespace blade {
namespace {

SelectionConfig SmallSelection() {
  SelectionConfig s;
  s.orientations = 4;
  s.strengths = 2;
  s.coherences = 2;
  s.strength_thresholds = {0.02f};
  s.coherence_thresholds = {0.4f};
  return s;
}

// A random monotone model: off-centre taps uniform, scaled so that dt * sum lies in (0, 1].
Model RandomMonotoneModel(std::uint32_t seed, int size, double dt) {
  Model m = MakeEmptyModel(ModelForm::kDirect, SmallSelection(), size);
  m.dt = dt;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  FilterBank& f = m.banks[0].filters;
  const int n = size * size;
  for (int k = 0; k < f.count; ++k) {
    const double target = u(rng) / dt;  // dt * sum in (0, 1)
    double sum = 0;
    for (int t = 0; t < n; ++t)
      if (t != n / 2) sum += (f.filter(k)[t] = u(rng) * (u(rng) < 0.3f ? 0.f : 1.f) + 1e-3f);
    for (int t = 0; t < n; ++t)
      if (t != n / 2) f.filter(k)[t] = float(f.filter(k)[t] * target / sum * 0.999);
  }
  ProjectMonotone(m);  // sets the centres and the constraint
  return m;
}

TEST(Monotone, ProjectionLandsInTheSetAndIsIdempotent) {
  std::mt19937 rng(4);
  std::normal_distribution<float> d(0.f, 1.f);
  for (int size : {3, 5, 7}) {
    const int n = size * size;
    std::vector<float> h(n);
    for (float& v : h) v = d(rng);
    ProjectMonotoneFilter(h.data(), size, 2.0);
    double sum = 0;
    for (int t = 0; t < n; ++t)
      if (t != n / 2) {
        EXPECT_GE(h[t], 0.f);
        sum += h[t];
      }
    EXPECT_LE(sum, 2.0 + 1e-6);
    EXPECT_NEAR(h[n / 2], -sum, 1e-6);
    std::vector<float> again = h;
    ProjectMonotoneFilter(again.data(), size, 2.0);
    for (int t = 0; t < n; ++t) EXPECT_NEAR(again[t], h[t], 1e-6);
  }
  // A point far outside: all mass goes to the largest coordinates, the cap is met exactly.
  std::vector<float> big = {5, 1, 0, 0, 0, 0, 0, 0, 9};
  ProjectMonotoneFilter(big.data(), 3, 1.0);
  EXPECT_NEAR(big[8], 1.0, 1e-6);
  EXPECT_NEAR(big[0], 0.0, 1e-6);
}

TEST(Monotone, TheCheckRejectsEveryViolation) {
  Model m = RandomMonotoneModel(1, 3, 0.5);
  EXPECT_NO_THROW(m.Validate());
  Model negative = m;
  negative.banks[0].filters.filter(2)[0] = -1e-3f;
  EXPECT_THROW(negative.Validate(), Error);
  Model centre = m;
  centre.banks[0].filters.filter(3)[4] += 0.01f;
  EXPECT_THROW(centre.Validate(), Error);
  Model too_big = m;
  too_big.dt = 10;  // dt * sum > 1
  EXPECT_THROW(too_big.Validate(), Error);
  Model flux = MakeEmptyModel(ModelForm::kFlux, SmallSelection(), 3);
  flux.constraint = Constraint::kMonotone;
  EXPECT_THROW(flux.Validate(), Error);
  // Round trip through the file format keeps (and re-verifies) the constraint.
  const Model back = ParseModel(SerializeModel(m), "test");
  EXPECT_EQ(back.constraint, Constraint::kMonotone);
}

// The discrete maximum principle: random monotone models, random inputs, many steps.
TEST(Monotone, MaximumPrincipleOnRandomInputs) {
  for (std::uint32_t seed = 0; seed < 12; ++seed) {
    const int size = 3 + 2 * int(seed % 3);
    const Model m = RandomMonotoneModel(seed, size, 0.25 + 0.25 * (seed % 4));
    const int channels = seed % 2 ? 3 : 1;
    Image u0 = testing::RandomImage(29, 23, channels, 100 + seed, -0.3f, 1.7f);
    RunOptions o;
    o.steps = 200;
    const Image u = RunModel(m, u0, o);
    for (int c = 0; c < channels; ++c) {
      const Image a = ExtractChannel(u0, c), b = ExtractChannel(u, c);
      EXPECT_GE(MinValue(b), MinValue(a) - 1e-5f) << seed;
      EXPECT_LE(MaxValue(b), MaxValue(a) + 1e-5f) << seed;
    }
    // Constants are steady states.
    Image flat(17, 13, 1);
    std::fill(flat.data(), flat.data() + flat.size(), 0.37f);
    EXPECT_LT(MaxAbsDifference(RunModel(m, flat, o), flat), 1e-5);
  }
}

// The maximum principle holds for any number of Euler steps of at most the model's dt, so no
// measured horizon applies to a monotone model; a larger step voids it and is refused.
TEST(Monotone, RunsPastTheMeasuredHorizonButNotWithALargerStep) {
  Model m = RandomMonotoneModel(7, 5, 0.5);
  m.safe_steps = 10;
  const Image u0 = testing::RandomImage(21, 17, 1, 7);
  RunOptions o;
  o.steps = 500;
  const Image u = RunModel(m, u0, o);
  EXPECT_GE(MinValue(u), MinValue(u0) - 1e-5f);
  EXPECT_LE(MaxValue(u), MaxValue(u0) + 1e-5f);
  o.dt = m.dt / 3;
  EXPECT_NO_THROW(RunModel(m, u0, o));
  o.dt = m.dt * 1.5;
  EXPECT_THROW(RunModel(m, u0, o), Error);
  o.integrator = Integrator::kMidpoint;  // the guarantee is Euler's: the horizon applies
  o.dt = 0;
  EXPECT_THROW(RunModel(m, u0, o), Error);
  // So it does with an extra term (a data term's pull can break the maximum principle).
  o.integrator = Integrator::kEuler;
  o.extra_terms.push_back({[](const Image&, float, Image&) {}, nullptr});
  EXPECT_THROW(RunModel(m, u0, o), Error);
}

// Constrained least squares: data made by a monotone filter is recovered; on data whose
// unconstrained fit is infeasible the result satisfies the KKT conditions of the QP.
TEST(Monotone, ConstrainedLeastSquaresRecoversAMonotoneFilterAndMeetsKkt) {
  Model truth = MakeEmptyModel(ModelForm::kDirect, SmallSelection(), 3);
  truth.dt = 0.2;
  for (int k = 0; k < truth.banks[0].filters.count; ++k) {  // anisotropic heat kernels
    float* h = truth.banks[0].filters.filter(k);
    h[1] = h[7] = 0.5f + 0.1f * float(k % 4);
    h[3] = h[5] = 1.0f;
    h[4] = -(2 * h[1] + 2 * h[3]);
  }
  truth.constraint = Constraint::kMonotone;
  truth.Validate();
  std::vector<Sequence> data;
  for (int s = 0; s < 3; ++s) {
    Image u0 = testing::SyntheticScene(40, 32);
    RunOptions o;
    Sequence seq;
    seq.push_back(u0.Copy());
    o.steps = 1;
    o.dt = truth.dt;
    for (int k = 0; k < 4; ++k) seq.push_back(RunModel(truth, seq.back(), o));
    data.push_back(std::move(seq));
  }
  Model fit = MakeEmptyModel(ModelForm::kDirect, SmallSelection(), 3);
  fit.dt = truth.dt;
  const NormalEquations ne = AccumulateNormalEquations(fit, data);
  SolveMonotoneLeastSquares(fit, ne, 1e-9);
  EXPECT_NO_THROW(fit.Validate());
  int recovered = 0;
  for (int k = 0; k < fit.banks[0].filters.count; ++k) {
    if (ne.count[k] < 200) continue;  // too few samples to pin the filter down
    ++recovered;
    for (int t = 0; t < 9; ++t)
      EXPECT_NEAR(fit.banks[0].filters.filter(k)[t], truth.banks[0].filters.filter(k)[t], 2e-3)
          << k << " " << t;
  }
  EXPECT_GE(recovered, 8);
  // Targets that need negative taps (a sharpening filter): the fit must sit on the boundary.
  Model sharpen = truth;
  sharpen.constraint = Constraint::kNone;
  for (int k = 0; k < sharpen.banks[0].filters.count; ++k) {
    float* h = sharpen.banks[0].filters.filter(k);
    h[1] = h[7] = -0.3f;
    h[4] = 0.6f;
  }
  std::vector<Sequence> sharp;
  for (const Sequence& s : data) {
    RunOptions o;
    o.steps = 1;
    o.dt = sharpen.dt;
    Sequence seq;
    seq.push_back(s[0].Copy());
    seq.push_back(RunModel(sharpen, s[0], o));
    sharp.push_back(std::move(seq));
  }
  Model c = MakeEmptyModel(ModelForm::kDirect, SmallSelection(), 3);
  c.dt = truth.dt;
  const NormalEquations ns = AccumulateNormalEquations(c, sharp);
  SolveMonotoneLeastSquares(c, ns, 1e-6);
  EXPECT_NO_THROW(c.Validate());
  // KKT for min 0.5 x'Qx - c'x, x >= 0, sum x <= cap: with g = Qx - c there is mu >= 0 with
  // g_i + mu >= 0 everywhere and g_i + mu = 0 where x_i > 0 (mu = 0 when the cap is slack).
  const int n = 9, m = 8, centre = 4;
  int checked = 0, on_boundary = 0;
  for (int k = 0; k < c.banks[0].filters.count; ++k) {
    if (ns.count[k] < 200) continue;
    ++checked;
    const double* A = ns.a.data() + std::size_t(k) * n * n;
    const double* b = ns.b.data() + std::size_t(k) * n;
    auto off = [&](int j) { return j < centre ? j : j + 1; };
    const float* h = c.banks[0].filters.filter(k);
    double trace = 0;
    std::vector<double> g(m);
    for (int i = 0; i < m; ++i) {
      const int a = off(i);
      trace += A[a * n + a] - 2 * A[a * n + centre] + A[centre * n + centre];
    }
    const double lambda = 1e-6 * trace / m + 1e-12;
    double scale = 0;
    for (int i = 0; i < m; ++i) {
      const int a = off(i);
      double s = -(b[a] - b[centre]);
      for (int j = 0; j < m; ++j) {
        const int bb = off(j);
        s += (A[a * n + bb] - A[a * n + centre] - A[centre * n + bb] + A[centre * n + centre] +
              (i == j ? lambda : 0)) *
             h[bb];
      }
      g[i] = s;
      scale = std::max(scale, std::abs(b[a] - b[centre]));
    }
    double sum = 0;
    for (int i = 0; i < m; ++i) sum += h[off(i)];
    double mu = 0;
    for (int i = 0; i < m; ++i) on_boundary += h[off(i)] < 1e-6;
    if (sum * c.dt > 1 - 1e-4)  // the cap is active: mu = -g_i on the support
      for (int i = 0; i < m; ++i)
        if (h[off(i)] > 1e-6) mu = std::max(mu, -g[i]);
    for (int i = 0; i < m; ++i) {
      EXPECT_GE(g[i] + mu, -1e-3 * scale) << k << " " << i;
      if (h[off(i)] > 1e-4) EXPECT_NEAR(g[i] + mu, 0.0, 1e-3 * scale) << k << " " << i;
    }
  }
  EXPECT_GE(checked, 4);
  EXPECT_GT(on_boundary, 0);  // the sharpening target really is outside the set
}

}  // namespace
}  // namespace blade
