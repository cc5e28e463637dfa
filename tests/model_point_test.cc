// Models at other parameter points: the symmetry rules against the classical schemes, the run
// they plan, and refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/model.h"
#include "blade/pde.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::SourcePath;
using testing::SyntheticScene;

// The classical scheme of the model's PDE at `params` to `time`, equal steps of about dt.
Image Classical(const Model& m, const std::map<std::string, double>& params, const Image& u,
                double time, int steps) {
  const Pde pde = ParsePde(m.pde);
  PdeParams p;
  for (const auto& [k, v] : params) p.Set(pde, k, v);
  SolveOptions o;
  o.time = time;
  o.steps = steps;
  return Solve(pde, p, u, o).u;
}

Image Times(const Image& u, double a) {
  Image v = u.Copy();
  for (std::size_t i = 0; i < v.size(); ++i) v.data()[i] = float(v.data()[i] * a);
  return v;
}

double MaxDiff(const Image& a, const Image& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    d = std::max(d, double(std::abs(a.data()[i] - b.data()[i])));
  return d;
}

// The plan's scale and time are the PDE's exact symmetry: the classical scheme at the point
// equals the scheme at the model's parameters on the scaled image, scaled back (the schemes
// are discretisations that keep the symmetry, so to float rounding).
TEST(ModelPoint, PlansFollowTheSchemesSymmetries) {
  const Image u = SyntheticScene(48, 40);
  struct Case {
    const char* model;
    const char* param;
    double value, time;
    int steps;
  };
  for (const Case& c : {Case{"pm", "c", 0.05, 2.0, 200}, Case{"pm", "c", 0.25, 2.0, 200},
                        Case{"ced", "C", 3e-11, 4.0, 80}, Case{"ced", "C", 2e-9, 4.0, 80},
                        Case{"tv", "eps", 0.005, 0.02, 400}, Case{"tv", "eps", 0.025, 0.02, 400}}) {
    // Point models at the presets (the shipped pm, ced and tv are parametric, their -monotone
    // siblings point models).
    const Model m = LoadModel(SourcePath(std::string("models/") + c.model + "-monotone.blade"));
    ModelPoint point;
    point.params[c.param] = c.value;
    point.time = c.time;
    const PointPlan plan = PlanModelPoint(m, point);
    const double run_time = plan.steps * plan.dt;  // the model's time for this point
    std::map<std::string, double> at = m.pde_params;
    at[c.param] = c.value;
    const Image direct = Classical(m, at, u, c.time, c.steps);
    const int steps = std::max(1, int(std::lround(c.steps * run_time / c.time)));
    const Image via =
        Times(Classical(m, m.pde_params, Times(u, plan.scale), run_time, steps), 1 / plan.scale);
    // Float rounding over hundreds of steps (TV's are stiff): 1e-4 of the unit range.
    EXPECT_LT(MaxDiff(direct, via), 1e-4) << c.model << " " << c.param << "=" << c.value;
    // Not vacuous: the parameter moves the result ten times farther than that.
    EXPECT_GT(MaxDiff(direct, Classical(m, m.pde_params, u, c.time, c.steps)), 1e-3)
        << c.model << " " << c.param << "=" << c.value;
  }
}

TEST(ModelPoint, RunsTheModelOnTheScaledImage) {
  const Model m = LoadModel(SourcePath("models/pm-monotone.blade"));  // a point model, c = 0.1
  const Image u = SyntheticScene(40, 32);
  ModelPoint point;
  point.params["c"] = 0.05;
  point.time = 2.0;
  const PointPlan plan = PlanModelPoint(m, point);
  EXPECT_DOUBLE_EQ(plan.scale, 2.0);
  EXPECT_EQ(plan.steps, 5);  // 2.0 / dt 0.4
  RunOptions o;
  o.steps = plan.steps;
  o.dt = plan.dt;
  const Image want = Times(RunModel(m, Times(u, 2.0), o), 0.5);
  EXPECT_LT(MaxDiff(RunModelAt(m, u, point, {}), want), 1e-6);
  // The model's own point is its own run.
  EXPECT_EQ(MaxDiff(RunModelAt(m, u, {}, {}), RunModel(m, u, {})), 0);
  // A time between whole steps: the step is adjusted to land on it.
  point.params.clear();
  point.time = 3.0;
  const PointPlan p3 = PlanModelPoint(m, point);
  EXPECT_EQ(p3.steps, 8);
  EXPECT_DOUBLE_EQ(p3.steps * p3.dt, 3.0);
}

// A model trained elsewhere than its preset (pm at c 0.2, T 2) is scored where it runs: what the
// point leaves out is the model's own value, not the preset's (before, `--time 3` alone scored
// the c = 0.2 run against the reference at the preset's c = 0.1).
TEST(ModelPoint, EvaluationFillsWhatThePointLeavesOutFromTheModel) {
  Model m = LoadModel(SourcePath("models/pm-monotone.blade"));  // a point model at the preset
  EXPECT_FALSE(ResolveEvalPoint(m, ModelPoint{}).at_point);
  const EvalPoint at_time = ResolveEvalPoint(m, ModelPoint{{}, 3});
  EXPECT_EQ(at_time.point.params.size(), 0u);  // c is the preset's: nothing to add
  EXPECT_NEAR(at_time.preset.time, 3, 1e-12);
  m.pde_params["c"] = 0.2;
  m.dt = 2.0 / m.steps;
  const EvalPoint own = ResolveEvalPoint(m, ModelPoint{});
  EXPECT_NEAR(own.point.params.at("c"), 0.2, 1e-15);
  EXPECT_NEAR(own.preset.time, 2, 1e-12);
  const EvalPoint later = ResolveEvalPoint(m, ModelPoint{{}, 3});
  EXPECT_NEAR(later.point.params.at("c"), 0.2, 1e-15);
  EXPECT_NEAR(later.preset.time, 3, 1e-12);
  EXPECT_NEAR(later.preset.params.ToMap(later.preset.pde).at("c"), 0.2, 1e-15);
  const EvalPoint other_c = ResolveEvalPoint(m, ModelPoint{{{"c", 0.15}}, 0});
  EXPECT_NEAR(other_c.point.params.at("c"), 0.15, 1e-15);
  EXPECT_NEAR(other_c.preset.time, 2, 1e-12);
}

TEST(ModelPoint, RefusesWhatNoSymmetryReaches) {
  const Model pm = LoadModel(SourcePath("models/pm-monotone.blade"));  // a point model
  const Model ced = LoadModel(SourcePath("models/ced.blade"));
  const Model ch = LoadModel(SourcePath("models/ch-flux.blade"));  // a point model
  auto plan = [](const Model& m, const std::string& k, double v) {
    ModelPoint p;
    p.params[k] = v;
    return PlanModelPoint(m, p);
  };
  EXPECT_THROW(plan(pm, "eps", 0.01), Error);     // not a PM parameter
  EXPECT_THROW(plan(pm, "c", 0.02), Error);       // scale 5: outside the covered range
  EXPECT_THROW(plan(pm, "c", -1), Error);         // nonsensical
  EXPECT_THROW(plan(ced, "alpha", 0.01), Error);  // no symmetry moves it
  EXPECT_THROW(plan(ch, "gamma", 0.3), Error);    // none for Cahn-Hilliard
  EXPECT_NO_THROW(plan(ch, "gamma", 0.25));       // its own value
  EXPECT_NO_THROW(plan(ch, "split", 0));          // its own value, though not positive
  EXPECT_THROW(plan(ch, "split", 1), Error);      // another one
  // Every recorded parameter at once (how `blade eval` scores a model trained elsewhere).
  ModelPoint own;
  own.params = ch.pde_params;
  own.time = 2 * ch.dt * ch.steps;
  EXPECT_EQ(PlanModelPoint(ch, own).steps, 2 * ch.steps);
  EXPECT_NO_THROW(plan(pm, "c", 0.034));  // scale 2.94
  // The covered ranges are what the plans accept, end points included.
  const auto pm_covers = CoveredRanges(pm);
  ASSERT_EQ(pm_covers.count("c"), 1u);
  EXPECT_NEAR(pm_covers.at("c").first, 0.1 / 3, 1e-12);
  EXPECT_NEAR(pm_covers.at("c").second, 0.3, 1e-12);
  EXPECT_NO_THROW(plan(pm, "c", pm_covers.at("c").first * (1 + 1e-9)));
  EXPECT_THROW(plan(pm, "c", pm_covers.at("c").second * 1.01), Error);
  const auto ch_covers = CoveredRanges(ch);
  EXPECT_EQ(ch_covers.size(), 1u);  // time only
  EXPECT_NEAR(ch_covers.at("time").second, ch.safe_steps * ch.dt, 1e-12);
  ModelPoint late;
  late.time = -1;
  EXPECT_THROW(PlanModelPoint(pm, late), Error);
}

}  // namespace
}  // namespace blade
