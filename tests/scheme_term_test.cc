// The classical right-hand sides F(u) and BLADE models with a scheme term (blade/model.h):
// F against the schemes' own steps and a plain stencil, its VJP and the models' gradients
// against finite differences, least squares, the file and the refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "blade/error.h"
#include "blade/model.h"
#include "blade/ops.h"
#include "blade/pde.h"
#include "blade/train.h"
#include "pde/schemes.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::RandomImage;
using testing::SyntheticScene;
using testing::TempDir;

SelectionConfig DefaultSelection() {
  SelectionConfig s;
  s.strength_thresholds = {0.01f, 0.05f};
  s.coherence_thresholds = {0.25f, 0.5f};
  return s;
}

// A smooth ramp with a little noise: TV's minmod arguments stay apart (D+y u - D-y u is about
// 0.008, the noise moves it by at most 0.004) and positive, so F is differentiable here.
Image Ramp(int w, int h, std::uint32_t seed) {
  Image u(w, h, 1);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> n(-5e-4f, 5e-4f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      u.at(0, x, y) = 0.03f * x + 0.02f * y + 0.004f * y * y + 0.003f * x * x + n(rng);
  return u;
}

double Dot(const Image& a, const Image& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += double(a.data()[i]) * b.data()[i];
  return s;
}

TEST(ClassicalRhs, ExplicitSchemesStepByIt) {
  for (Pde pde : {Pde::kTv, Pde::kPm})
    for (double dx : {1.0, 0.5}) {
      PdeParams p;
      const Image u = SyntheticScene(23, 17, 3);
      const double dt = 0.5 * MakeSolverImpl(pde, p, SchemeImpl::kPlain)->MaxStableDt(dx);
      Image stepped = u.Copy();
      MakeSolverImpl(pde, p, SchemeImpl::kPlain)->Step(stepped, dt, dx);
      Image ours = u.Copy();
      Axpy(float(dt), ClassicalRhs(pde, p, u, dx), ours);
      EXPECT_LT(MaxAbsDifference(ours, stepped), 2e-6) << PdeName(pde) << " dx " << dx;
    }
}

TEST(ClassicalRhs, FastEqualsPlain) {
  for (Pde pde : {Pde::kTv, Pde::kPm, Pde::kCh})
    for (int w : {1, 5, 37}) {
      PdeParams p;
      const Image u = SyntheticScene(w, 13, 3);
      const Image plain = ClassicalRhsImpl(pde, p, u, 0.8, SchemeImpl::kPlain);
      const Image fast = ClassicalRhsImpl(pde, p, u, 0.8, SchemeImpl::kFast);
      double scale = 0;
      for (std::size_t i = 0; i < plain.size(); ++i)
        scale = std::max(scale, double(std::abs(plain.data()[i])));
      EXPECT_LE(MaxAbsDifference(plain, fast), 1e-5 * std::max(1.0, scale))
          << PdeName(pde) << " width " << w;
    }
}

TEST(ClassicalRhs, CahnHilliardIsTheLaplacianOfTheChemicalPotential) {
  PdeParams p;
  p.ch_gamma = 0.3;
  const Image u = RandomImage(9, 7, 1, 5);
  const int w = u.width(), h = u.height();
  auto at = [&](const std::vector<double>& v, int x, int y) {
    return v[std::clamp(y, 0, h - 1) * w + std::clamp(x, 0, w - 1)];
  };
  auto lap = [&](const std::vector<double>& v) {
    std::vector<double> out(v.size());
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        out[y * w + x] = (at(v, x - 1, y) + at(v, x + 1, y) + at(v, x, y - 1) + at(v, x, y + 1) -
                          4 * at(v, x, y)) /
                         (0.7 * 0.7);
    return out;
  };
  std::vector<double> uu(u.data(), u.data() + u.size());
  std::vector<double> mu = lap(uu);
  for (std::size_t i = 0; i < mu.size(); ++i)
    mu[i] = 4 * std::pow(uu[i], 3) - 6 * uu[i] * uu[i] + 2 * uu[i] - 0.3 * mu[i];
  const std::vector<double> want = lap(mu);
  const Image got = ClassicalRhs(Pde::kCh, p, u, 0.7);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data()[i], want[i], 1e-4);
  // The Neumann Laplacian sums to zero: F keeps the mean.
  double sum = 0;
  for (std::size_t i = 0; i < got.size(); ++i) sum += got.data()[i];
  EXPECT_NEAR(sum, 0.0, 1e-4);
}

TEST(ClassicalRhs, VjpMatchesFiniteDifferences) {
  for (Pde pde : {Pde::kTv, Pde::kPm, Pde::kCh}) {
    PdeParams p;
    p.tv_eps = 0.05;
    const Image u = pde == Pde::kCh ? RandomImage(12, 10, 1, 7) : Ramp(12, 10, 7);
    const Image g = RandomImage(12, 10, 1, 8, -1.f, 1.f);
    const Image gu = ClassicalRhsVjp(pde, p, u, g);
    for (std::uint32_t trial = 0; trial < 4; ++trial) {
      const Image v = RandomImage(12, 10, 1, 20 + trial, -1.f, 1.f);
      const float h = 1e-3f;
      Image up = u.Copy(), um = u.Copy();
      Axpy(h, v, up);
      Axpy(-h, v, um);
      const double numeric =
          (Dot(g, ClassicalRhs(pde, p, up)) - Dot(g, ClassicalRhs(pde, p, um))) / (2 * h);
      EXPECT_NEAR(Dot(gu, v), numeric, 2e-3 * std::max(1.0, std::abs(numeric)))
          << PdeName(pde) << " trial " << trial;
    }
  }
}

TEST(ClassicalRhs, RefusesCed) {
  EXPECT_FALSE(HasClassicalRhs(Pde::kCed));
  EXPECT_THROW(ClassicalRhs(Pde::kCed, PdeParams{}, SyntheticScene(8, 8)), Error);
}

// A direct model whose scheme bank is the identity and whose own filters are zero.
Model SchemeOnlyModel(Pde pde, double dt) {
  Model m = MakeEmptyModel(ModelForm::kDirect, DefaultSelection(), 5, 3);
  for (int k = 0; k < m.banks[1].filters.count; ++k) m.banks[1].filters.tap(k, 0, 0) = 1;
  m.pde = PdeName(pde);
  m.pde_params = PdeParams{}.ToMap(pde);
  m.dt = dt;
  m.steps = 4;
  return m;
}

TEST(SchemeTerm, IdentitySchemeFiltersRunTheClassicalScheme) {
  for (Pde pde : {Pde::kTv, Pde::kPm}) {
    const double dt = 0.9 * MakeSolver(pde, PdeParams{})->MaxStableDt(1.0);
    const Model m = SchemeOnlyModel(pde, dt);
    m.Validate();
    const Image u0 = SyntheticScene(31, 22, 3);
    const Image ours = RunModel(m, u0, RunOptions{});
    Image want = u0.Copy();
    auto solver = MakeSolverImpl(pde, PdeParams{}, SchemeImpl::kPlain);
    for (int k = 0; k < 4; ++k) solver->Step(want, dt, 1.0);
    EXPECT_LT(MaxAbsDifference(ours, want), 1e-5) << PdeName(pde);
  }
}

TEST(SchemeTerm, RolloutGradientMatchesFiniteDifferences) {
  for (Pde pde : {Pde::kPm, Pde::kCh})
    for (Integrator integ : {Integrator::kEuler, Integrator::kMidpoint}) {
      Model m = SchemeOnlyModel(pde, pde == Pde::kCh ? 0.01 : 0.1);
      std::mt19937 rng(4);
      std::normal_distribution<float> d(0.f, 0.05f);
      for (Bank& b : m.banks)
        for (float& t : b.filters.taps) t += d(rng);
      const int steps = 3;
      const Image u0 = SyntheticScene(14, 11);
      std::vector<Image> targets;
      for (int k = 0; k < steps; ++k) targets.push_back(RandomImage(14, 11, 1, 40 + k));
      Rollout base(m, u0, steps, m.dt, integ);
      auto loss = [&](const Model& mm, const Image& start) {
        return testing::RolloutSquaredError(mm, start, targets, base, m.dt, integ);
      };
      const std::vector<Image> grads = testing::RolloutSquaredErrorGradients(base, targets);
      std::vector<std::vector<double>> dtaps(2);
      for (int b = 0; b < 2; ++b) dtaps[b].assign(m.banks[b].filters.taps.size(), 0);
      const Image du0 = base.Backward(grads, dtaps);
      const float eps = 1e-2f;
      const std::vector<std::int32_t> sel = ComputeSelections(m, u0)[0];
      for (int trial = 0; trial < 8; ++trial) {
        // A tap of a filter the first pixels select (others have no gradient).
        const int b = trial % 2, n = m.banks[b].filters.taps_per_filter();
        const std::size_t i = std::size_t(sel[trial * 7]) * n + (trial * 5) % n;
        Model mp = m, mm = m;
        mp.banks[b].filters.taps[i] += eps;
        mm.banks[b].filters.taps[i] -= eps;
        const double numeric = (loss(mp, u0) - loss(mm, u0)) / (2 * eps);
        EXPECT_NEAR(dtaps[b][i], numeric, 3e-3 * std::max(1.0, std::abs(numeric)))
            << PdeName(pde) << " bank " << b << " tap " << i;
      }
      for (int trial = 0; trial < 6; ++trial) {
        const std::size_t i = std::size_t(trial * 23) % u0.size();
        // A smaller step than the taps': Perona-Malik's g bends on the scale of c = 0.1.
        const float e = 2e-3f;
        Image up = u0.Copy(), um = u0.Copy();
        up.data()[i] += e;
        um.data()[i] -= e;
        const double numeric = (loss(m, up) - loss(m, um)) / (2 * e);
        EXPECT_NEAR(du0.data()[i], numeric, 3e-3 * std::max(1.0, std::abs(numeric)))
            << PdeName(pde) << " pixel " << i;
      }
    }
}

// Least squares on frames of the classical scheme itself: the joint fit (u's patch and F(u)'s)
// reproduces the steps, which no filter of u alone can for Perona-Malik's nonlinear g.
TEST(SchemeTerm, LeastSquaresFitsTheClassicalSchemesSteps) {
  const Pde pde = Pde::kPm;
  const double dt = 0.2;
  std::vector<Sequence> data;
  for (std::uint32_t s = 0; s < 3; ++s) {
    Sequence seq;
    seq.push_back(SyntheticScene(40, 30));
    Axpy(0.2f, RandomImage(40, 30, 1, 60 + s, -0.5f, 0.5f), seq[0]);
    for (int k = 0; k < 3; ++k) {
      Image next = seq.back().Copy();
      MakeSolverImpl(pde, PdeParams{}, SchemeImpl::kPlain)->Step(next, dt, 1.0);
      seq.push_back(std::move(next));
    }
    data.push_back(std::move(seq));
  }
  auto one_step_mse = [&](const Model& m) {
    double e = 0, n = 0;
    for (const Sequence& seq : data)
      for (std::size_t k = 0; k + 1 < seq.size(); ++k) {
        Image pred = seq[k].Copy();
        Axpy(float(dt), EvaluateRhs(m, seq[k]), pred);
        for (std::size_t i = 0; i < pred.size(); ++i, ++n)
          e += std::pow(double(pred.data()[i]) - seq[k + 1].data()[i], 2);
      }
    return e / n;
  };
  TrainOptions o;
  o.ridge = 1e-9;
  SelectionConfig sel = DefaultSelection();
  sel.orientations = 4;
  sel.strengths = 1;
  sel.coherences = 1;
  sel.strength_thresholds.clear();
  sel.coherence_thresholds.clear();
  double mse[2];
  for (int scheme : {0, 1}) {
    Model m = MakeEmptyModel(ModelForm::kDirect, sel, 3, scheme ? 3 : 0);
    m.pde = "pm";
    m.pde_params = PdeParams{}.ToMap(pde);
    m.dt = dt;
    SolveNormalEquations(m, AccumulateNormalEquations(m, data), o);
    mse[scheme] = one_step_mse(m);
  }
  EXPECT_LT(mse[1], 1e-10);
  EXPECT_GT(mse[0], 100 * mse[1]);
}

TEST(SchemeTerm, FileRoundTripsAndRefusesWhatCannotWork) {
  Model m = SchemeOnlyModel(Pde::kTv, 0.002);
  const std::string path = TempDir() + "/scheme.blade";
  SaveModel(m, path);
  const Model back = LoadModel(path);
  EXPECT_TRUE(back.scheme_term);
  ASSERT_EQ(back.banks.size(), 2u);
  EXPECT_EQ(back.banks[1].filters.taps, m.banks[1].filters.taps);
  Model ced = m;
  ced.pde = "ced";
  ced.pde_params = PdeParams{}.ToMap(Pde::kCed);
  EXPECT_THROW(ced.Validate(), Error);
  Model lost = m;
  lost.banks.pop_back();
  EXPECT_THROW(lost.Validate(), Error);
  EXPECT_THROW(MakeEmptyModel(ModelForm::kFlux, DefaultSelection(), 5, 3), Error);
  TrainOptions o;
  o.scheme_footprint = 4;
  EXPECT_THROW(o.Validate(), Error);
  o.scheme_footprint = 3;
  o.constraint = Constraint::kMonotone;
  EXPECT_THROW(o.Validate(), Error);
  o.constraint = Constraint::kNone;
  o.form = ModelForm::kFlux;
  EXPECT_THROW(o.Validate(), Error);
}

}  // namespace
}  // namespace blade
