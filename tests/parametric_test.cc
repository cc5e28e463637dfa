// Parametric models: blending knot models over a box of parameters and stopping times, exact at
// the knots, refusing points outside the box, the gradient with respect to every knot's bank,
// and the file round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "blade/error.h"
#include "blade/model.h"
#include "blade/train.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::SyntheticScene;

// A small random direct Perona-Malik model at (c, time), its thresholds moved by the seed so
// that knots differ in selection as well as in filters.
Model PointModel(double c, double time, std::uint32_t seed) {
  SelectionConfig s;
  s.orientations = 8;
  s.strength_thresholds = {0.01f + 0.001f * float(seed % 7), 0.05f + 0.002f * float(seed % 5)};
  s.coherence_thresholds = {0.25f, 0.5f};
  Model m = MakeEmptyModel(ModelForm::kDirect, s, 3);
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 0.05f);
  for (float& t : m.banks[0].filters.taps) t = d(rng);
  m.pde = "pm";
  m.preset = "pm";
  m.pde_params = {{"c", c}};
  m.steps = 4;
  m.dt = time / m.steps;
  m.safe_steps = 100 + int(seed);
  m.safe_range[0] = -0.1f;
  m.safe_range[1] = 1.1f;
  return m;
}

// Knots c in {0.05, 0.1, 0.2} x time in {1, 4}, the first axis slowest.
Model BoxModel() {
  const std::vector<ParamAxis> axes = {{"c", {0.05, 0.1, 0.2}}, {"time", {1, 4}}};
  std::vector<Model> knots;
  std::uint32_t seed = 1;
  for (double c : axes[0].knots)
    for (double t : axes[1].knots) knots.push_back(PointModel(c, t, seed++));
  return MakeParametricModel(axes, knots, {{"c", 0.1}, {"time", 4}});
}

double MaxDiff(const Image& a, const Image& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    d = std::max(d, double(std::abs(a.data()[i] - b.data()[i])));
  return d;
}

// What a plan with an intensity scale must run: the blend at the box's point `at`, its steps,
// on the scaled image, scaled back.
Image ScaledBlendRun(const Model& m, const std::map<std::string, double>& at, const PointPlan& plan,
                     const Image& u) {
  Image scaled = u.Copy();
  for (std::size_t i = 0; i < scaled.size(); ++i) scaled.data()[i] *= float(plan.scale);
  RunOptions o;
  o.steps = plan.steps;
  o.dt = plan.dt;
  Image out = RunModel(BlendModelAt(m, at), scaled, o);
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] *= float(1 / plan.scale);
  return out;
}

// A TV flow box over eps in {0.005, 0.02} and the times given, its knots PointModel's taking
// `steps` steps each, its default point (0.01, 0.1).
Model TvBox(const std::vector<double>& times, int steps = 4) {
  const std::vector<ParamAxis> axes = {{"eps", {0.005, 0.02}}, {"time", times}};
  std::vector<Model> knots;
  std::uint32_t seed = 1;
  for (double e : axes[0].knots)
    for (double t : axes[1].knots) {
      Model k = PointModel(0.1, t, seed++);
      k.pde = k.preset = "tv";
      k.pde_params = {{"eps", e}};
      k.steps = steps;
      k.dt = t / steps;
      knots.push_back(std::move(k));
    }
  return MakeParametricModel(axes, knots, {{"eps", 0.01}, {"time", 0.1}});
}

// A parametric model with one basis function (every axis one knot) is its point model: the same
// banks, and the same run, bit for bit.
TEST(Parametric, OneBasisFunctionIsThePointModel) {
  const Model point = PointModel(0.1, 2, 3);
  const Model one =
      MakeParametricModel({{"c", {0.1}}, {"time", {2}}}, {point}, {{"c", 0.1}, {"time", 2}});
  ASSERT_TRUE(one.parametric());
  EXPECT_EQ(one.banks[0].filters.taps, point.banks[0].filters.taps);
  EXPECT_EQ(one.dt, point.dt);
  const Image u = SyntheticScene(40, 32);
  RunOptions o;
  const Image a = RunModel(point, u, o);
  const Image b = RunModelAt(one, u, ModelPoint{}, o);
  const Image c = RunModelAt(one, u, ModelPoint{{{"c", 0.1}}, 2.0}, o);
  EXPECT_EQ(MaxDiff(a, b), 0.0);
  EXPECT_EQ(MaxDiff(a, c), 0.0);
}

// At every knot the blend is exactly that knot's model (filters, thresholds, dt, horizon);
// between knots the hat weights are piecewise linear in log and sum to 1.
TEST(Parametric, BlendingIsExactAtTheKnots) {
  const Model m = BoxModel();
  std::uint32_t seed = 1;
  for (double c : {0.05, 0.1, 0.2})
    for (double t : {1.0, 4.0}) {
      const Model knot = PointModel(c, t, seed++);
      const Model b = BlendModelAt(m, {{"c", c}, {"time", t}});
      EXPECT_EQ(b.banks[0].filters.taps, knot.banks[0].filters.taps) << c << " " << t;
      EXPECT_EQ(b.banks[0].selection.strength_thresholds,
                knot.banks[0].selection.strength_thresholds);
      EXPECT_DOUBLE_EQ(b.dt, knot.dt);
      EXPECT_EQ(b.safe_steps, knot.safe_steps);
      EXPECT_DOUBLE_EQ(b.pde_params.at("c"), c);
    }
  // Halfway in log between c = 0.05 and 0.1, a third of the way (in log) from time 1 to 4.
  const auto w = BasisWeights(m, {{"c", std::sqrt(0.05 * 0.1)}, {"time", std::pow(4.0, 1 / 3.0)}});
  ASSERT_EQ(w.size(), 4u);
  double sum = 0;
  for (const auto& [k, v] : w) sum += v;
  EXPECT_NEAR(sum, 1, 1e-12);
  EXPECT_EQ(w[0].first, 0);
  EXPECT_NEAR(w[0].second, 0.5 * 2 / 3.0, 1e-12);  // (c 0.05, time 1)
  EXPECT_EQ(w[3].first, 3);
  EXPECT_NEAR(w[3].second, 0.5 / 3.0, 1e-12);  // (c 0.1, time 4)
  // The blend's taps are that combination; its horizon the least of the four knots'.
  const Model b = BlendModelAt(m, {{"c", std::sqrt(0.05 * 0.1)}, {"time", std::pow(4.0, 1 / 3.0)}});
  for (std::size_t i = 0; i < 50; ++i) {
    double want = 0;
    for (const auto& [k, v] : w) want += v * m.knots[k].banks[0].filters.taps[i];
    EXPECT_NEAR(b.banks[0].filters.taps[i], want, 1e-7);
  }
  EXPECT_EQ(b.safe_steps, 101);
  EXPECT_NEAR(b.dt * b.steps, std::pow(4.0, 1 / 3.0), 1e-12);
}

// TV flow's symmetry ((eps, T) on u is (s eps, s T) on s u) reaches points outside a box with
// eps and time axes: the box's point nearest in scale runs on the scaled image, within a scale
// of 3; farther is refused, stating the box.
TEST(Parametric, TvSymmetryReachesBelowTheTimeBox) {
  const Model m = TvBox({0.05, 0.2});
  // Inside: no scale.
  EXPECT_EQ(PlanModelPoint(m, ModelPoint{{}, 0.07}).scale, 1);
  // Time 0.025 at eps 0.01: s = 2 gives (0.02, 0.05), the box's nearest corner.
  const PointPlan plan = PlanModelPoint(m, ModelPoint{{}, 0.025});
  EXPECT_NEAR(plan.scale, 2, 1e-12);
  EXPECT_NEAR(plan.blended->pde_params.at("eps"), 0.02, 1e-12);
  EXPECT_NEAR(plan.steps * plan.dt, 0.05, 1e-12);
  // The run is the blend at that point on 2 u, halved.
  const Image u = SyntheticScene(24, 24);
  const Image want = ScaledBlendRun(m, {{"eps", 0.02}, {"time", 0.05}}, plan, u);
  EXPECT_LT(MaxDiff(RunModelAt(m, u, ModelPoint{{}, 0.025}, RunOptions{}), want), 1e-6);
  // eps above the box: s < 1.
  EXPECT_NEAR(PlanModelPoint(m, ModelPoint{{{"eps", 0.03}}, 0.1}).scale, 2 / 3.0, 1e-12);
  // The reach at eps 0.01: s in [1/2, 2] -> time in [0.025, 0.4]; eps at time 0.1 likewise.
  EXPECT_NEAR(ReachableTimes(m, {}).first, 0.025, 1e-12);
  EXPECT_NEAR(ReachableTimes(m, {}).second, 0.4, 1e-12);
  EXPECT_NEAR(CoveredRanges(m).at("time").first, 0.025, 1e-12);
  EXPECT_NEAR(CoveredRanges(m).at("eps").first, 0.0025, 1e-12);
  EXPECT_NEAR(CoveredRanges(m).at("eps").second, 0.04, 1e-12);
  // Beyond: time 0.01 at eps 0.01 needs s = 5 (eps 0.05, outside), and eps 0.001 needs s >= 5.
  for (const ModelPoint& p : {ModelPoint{{}, 0.01}, ModelPoint{{{"eps", 0.001}}, 0.1}}) {
    try {
      PlanModelPoint(m, p);
      ADD_FAILURE() << "accepted a point the symmetry does not reach";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("eps in [0.005, 0.02], time in [0.05, 0.2]"),
                std::string::npos)
          << e.what();
    }
  }
}

// A TV flow time past max(20 eps, 0.1) runs more steps of the blend at that time, at
// the point's own eps (no intensity scaling where eps is in the box), up to the reach that the
// symmetry gives: the knots' few long steps lose accuracy as T / eps grows.
TEST(Parametric, TvLaterTimesRunMoreStepsOfAShorterBlend) {
  struct Case {
    double eps, time, blend_time;
    int steps;
    int knot_steps = 10;
  };
  // 10-step knots, as the shipped boxes: the blend at time b takes steps of b / 10. With 4-step
  // knots the longest blend time scales to 0.4 of it (the same longest step).
  for (const Case& c :
       {Case{0.01, 0.15, 0.15, 10}, Case{0.01, 0.4, 0.2, 20}, Case{0.005, 0.4, 0.1, 40},
        Case{0.01, 0.8, 0.2, 40}, Case{0.02, 0.8, 0.4, 20}, Case{0.01, 0.4, 0.08, 20, 4}}) {
    const Model m = TvBox({0.05, 0.4}, c.knot_steps);
    const ModelPoint point{{{"eps", c.eps}}, c.time};
    const PointPlan plan = PlanModelPoint(m, point);
    EXPECT_EQ(plan.scale, 1) << c.eps << " " << c.time;
    EXPECT_EQ(plan.steps, c.steps) << c.eps << " " << c.time;
    EXPECT_NEAR(plan.steps * plan.dt, c.time, 1e-12);
    EXPECT_NEAR(plan.blended->dt * plan.blended->steps, c.blend_time, 1e-12);
    const Image u = SyntheticScene(24, 24);
    const Image want = ScaledBlendRun(m, {{"eps", c.eps}, {"time", c.blend_time}}, plan, u);
    EXPECT_EQ(MaxDiff(RunModelAt(m, u, point, RunOptions{}), want), 0);
  }
  // The reach is the symmetry's, as before: time 0.8 at eps 0.01 (s = 1/2 maps it into the
  // box); 1.0 is refused.
  const Model m = TvBox({0.05, 0.4});
  EXPECT_NEAR(ReachableTimes(m, {}).second, 0.8, 1e-12);
  EXPECT_THROW(PlanModelPoint(m, ModelPoint{{}, 1.0}), Error);
}

// Every request outside the box is refused, stating the box, by every entry point.
TEST(Parametric, RefusesEveryPointOutsideTheBox) {
  const Model m = BoxModel();
  const Image u = SyntheticScene(24, 24);
  const std::vector<ModelPoint> outside = {{{{"c", 0.016}}, 0}, {{{"c", 0.61}}, 0},
                                           {{}, 0.99},          {{}, 4.01},
                                           {{{"c", 0.03}}, 8},  {{{"c", -1}}, 0}};
  for (const ModelPoint& p : outside) {
    try {
      PlanModelPoint(m, p);
      ADD_FAILURE() << "accepted a point outside the box";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("c in [0.05, 0.2], time in [1, 4]"), std::string::npos)
          << e.what();
    }
    EXPECT_THROW(RunModelAt(m, u, p, RunOptions{}), Error);
  }
  // A NaN is named as such, not as a point outside the box.
  for (const ModelPoint& p : {ModelPoint{{{"c", NAN}}, 0}, ModelPoint{{}, NAN}}) {
    try {
      PlanModelPoint(m, p);
      ADD_FAILURE() << "accepted a NaN";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("must be finite"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(PlanModelPoint(m, ModelPoint{{{"eps", 0.01}}, 0}), Error);
  // Inside, at the box's corners and between knots, it runs with the model's steps.
  for (const ModelPoint& p : {ModelPoint{{{"c", 0.05}}, 1}, ModelPoint{{{"c", 0.2}}, 4},
                              ModelPoint{{{"c", 0.07}}, 2.5}}) {
    const PointPlan plan = PlanModelPoint(m, p);
    EXPECT_EQ(plan.steps, m.steps);
    EXPECT_NEAR(plan.dt * plan.steps, p.time, 1e-12);
    EXPECT_EQ(plan.scale, 1);
    ASSERT_TRUE(plan.blended);
  }
  // Outside the knots but within PM's symmetry: c = 0.025 is the box's c = 0.05 on 2 u.
  const PointPlan low = PlanModelPoint(m, ModelPoint{{{"c", 0.025}}, 2});
  EXPECT_NEAR(low.scale, 2, 1e-12);
  EXPECT_NEAR(low.blended->pde_params.at("c"), 0.05, 1e-15);
  const Image want = ScaledBlendRun(m, {{"c", 0.05}, {"time", 2}}, low, u);
  EXPECT_LT(MaxDiff(RunModelAt(m, u, ModelPoint{{{"c", 0.025}}, 2}, RunOptions{}), want), 1e-6);
  EXPECT_NEAR(PlanModelPoint(m, ModelPoint{{{"c", 0.5}}, 0}).scale, 0.4, 1e-12);  // c 0.2 on 0.4 u
}

// Knots are blended position by position, so knots of another layout are refused naming it.
TEST(Parametric, RefusesKnotsOfAnotherLayout) {
  const std::vector<ParamAxis> axes = {{"c", {0.05, 0.2}}};
  for (int change = 0; change < 3; ++change) {
    Model odd = PointModel(0.2, 4, 2);
    if (change == 0) {
      odd.banks[0].filters = FilterBank(odd.banks[0].filters.count, 5);
    } else if (change == 1) {
      odd.banks[0].selection.joint_color = !odd.banks[0].selection.joint_color;
    } else {
      odd.banks[0].selection.orientations = 4;
      odd.banks[0].filters = FilterBank(odd.banks[0].selection.num_filters(), 3);
    }
    try {
      MakeParametricModel(axes, {PointModel(0.05, 4, 1), odd}, {{"c", 0.1}});
      ADD_FAILURE() << "accepted knots of different layouts (" << change << ")";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("differs from the first knot's"), std::string::npos)
          << e.what();
    }
  }
}

// Knots may select at their own structure-tensor scales (CED's follows its rho): the blend's
// scale is theirs at the knots and their log-blend between them; equal scales stay bit for bit.
TEST(Parametric, BlendsTheSelectionScaleInLog) {
  const std::vector<ParamAxis> axes = {{"c", {0.05, 0.2}}};
  Model a = PointModel(0.05, 4, 1), b = PointModel(0.2, 4, 2);
  a.banks[0].selection.rho = 1;
  b.banks[0].selection.rho = 4;
  const Model m = MakeParametricModel(axes, {a, b}, {{"c", 0.1}});
  EXPECT_EQ(BlendModelAt(m, {{"c", 0.05}}).banks[0].selection.rho, 1.0);
  EXPECT_DOUBLE_EQ(BlendModelAt(m, {{"c", 0.2}}).banks[0].selection.rho, 4.0);
  for (double c : {0.07, 0.1, 0.15}) {
    double log_rho = 0;
    for (const auto& [k, w] : BasisWeights(m, {{"c", c}}))
      log_rho += w * std::log(k == 0 ? 1.0 : 4.0);
    EXPECT_NEAR(BlendModelAt(m, {{"c", c}}).banks[0].selection.rho, std::exp(log_rho), 1e-12) << c;
  }
  b.banks[0].selection.rho = 1;
  const Model same = MakeParametricModel(axes, {a, b}, {{"c", 0.1}});
  EXPECT_EQ(BlendModelAt(same, {{"c", 0.1}}).banks[0].selection.rho, 1.0);
}

// dL/dH_k = phi_k dL/dh: the gradient of the 10-step loss at a point between knots with respect
// to each knot's taps, against central finite differences of the loss of the blended model.
TEST(Parametric, KnotGradientsMatchFiniteDifferences) {
  const Model m = BoxModel();
  const std::map<std::string, double> at = {{"c", 0.07}, {"time", 2.0}};
  // Two short sequences: a scene and its diffusion by a fixed smoothing (any targets serve).
  std::vector<Sequence> data;
  for (int s = 0; s < 2; ++s) {
    Sequence seq;
    seq.push_back(SyntheticScene(20, 18 + 2 * s));
    for (int k = 0; k < 4; ++k) {
      Image next = seq.back().Copy();
      for (std::size_t i = 0; i < next.size(); ++i) next.data()[i] = 0.9f * next.data()[i] + 0.05f;
      seq.push_back(std::move(next));
    }
    data.push_back(std::move(seq));
  }
  std::vector<std::vector<std::vector<double>>> grads;
  const double loss = ParametricLossGradient(m, at, data, &grads);
  ASSERT_TRUE(std::isfinite(loss));
  const Model blend = BlendModelAt(m, at);
  EXPECT_NEAR(loss, RolloutLoss(blend, data, blend.integrator), 1e-12 + 1e-9 * loss);
  // The loss written out, selections held at the base rollout's (piecewise constant, so the
  // gradient ignores them; finite differences must not cross a jump).
  const int steps = int(data[0].size()) - 1;
  std::vector<Rollout> base;
  for (const Sequence& seq : data)
    base.emplace_back(blend, seq[0], steps, blend.dt, Integrator::kEuler);
  const auto rollout_loss = [&](const Model& mm) {
    const Model b = BlendModelAt(mm, at);
    double total = 0;
    for (std::size_t s = 0; s < data.size(); ++s) {
      Rollout r(b, data[s][0], steps, b.dt, Integrator::kEuler, base[s]);
      for (int k = 1; k <= steps; ++k)
        for (std::size_t i = 0; i < data[s][k].size(); ++i)
          total += std::pow(double(r.states()[k].data()[i]) - data[s][k].data()[i], 2) /
                   (double(data[s][k].size()) * steps * data.size());
    }
    return total;
  };
  EXPECT_NEAR(rollout_loss(m), loss, 1e-6 * loss);
  const auto weights = BasisWeights(m, at);
  ASSERT_EQ(weights.size(), 4u);
  ASSERT_EQ(grads.size(), m.knots.size());
  for (std::size_t k = 0; k < m.knots.size(); ++k) {
    bool contributes = false;
    for (const auto& [i, w] : weights) contributes = contributes || i == int(k);
    const std::vector<double>& g = grads[k][0];
    // Knots without weight at the point get no gradient.
    if (!contributes) {
      for (double v : g) EXPECT_EQ(v, 0.0);
      continue;
    }
    // The three taps with the largest gradients.
    std::vector<std::size_t> idx(g.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::partial_sort(idx.begin(), idx.begin() + 3, idx.end(), [&](std::size_t a, std::size_t b) {
      return std::abs(g[a]) > std::abs(g[b]);
    });
    for (int j = 0; j < 3; ++j) {
      const std::size_t i = idx[j];
      const float h = 1e-2f;
      Model plus = m, minus = m;
      plus.knots[k].banks[0].filters.taps[i] += h;
      minus.knots[k].banks[0].filters.taps[i] -= h;
      const double fd = (rollout_loss(plus) - rollout_loss(minus)) /
                        (double(plus.knots[k].banks[0].filters.taps[i]) -
                         double(minus.knots[k].banks[0].filters.taps[i]));
      EXPECT_NEAR(g[i], fd, 1e-2 * std::abs(fd) + 1e-9) << "knot " << k << " tap " << i;
    }
  }
}

// The file keeps the box and every knot; the loaded model blends to the same banks anywhere.
TEST(Parametric, FileRoundTrip) {
  const Model m = BoxModel();
  const Model back = ParseModel(SerializeModel(m), "box");
  ASSERT_EQ(back.axes.size(), 2u);
  EXPECT_EQ(back.axes[0].knots, m.axes[0].knots);
  ASSERT_EQ(back.knots.size(), m.knots.size());
  EXPECT_EQ(back.banks[0].filters.taps, m.banks[0].filters.taps);
  const std::map<std::string, double> at = {{"c", 0.13}, {"time", 3.0}};
  EXPECT_EQ(BlendModelAt(back, at).banks[0].filters.taps,
            BlendModelAt(m, at).banks[0].filters.taps);
  // c by PM's symmetry (the intensity scale within [1/3, 3]) beyond its knots 0.05 to 0.2.
  EXPECT_NEAR(CoveredRanges(back).at("c").first, 0.05 / 3, 1e-15);
  EXPECT_NEAR(CoveredRanges(back).at("c").second, 0.2 * 3, 1e-15);
  EXPECT_EQ(CoveredRanges(back).at("time"), std::make_pair(1.0, 4.0));
  // The knots' taps travel as base64 binary32, bit for bit (non-finite values included, which
  // Validate then refuses); damaged base64 is refused with the key's name.
  const std::string text = SerializeModel(m);
  EXPECT_NE(text.find("\"taps_f32\""), std::string::npos);
  EXPECT_EQ(text.find("\"taps\""), std::string::npos);
  for (std::size_t k = 0; k < m.knots.size(); ++k)
    EXPECT_EQ(back.knots[k].banks[0].filters.taps, m.knots[k].banks[0].filters.taps);
  for (const char* bad : {"AAAA*AAA", "AAA", "AA=A", "AAA="}) {
    nlohmann::json doc = nlohmann::json::parse(text);
    doc.erase("checksum");  // else the checksum, not the decoder, refuses it
    doc["knots"][1]["banks"][0]["taps_f32"] = bad;
    try {
      ParseModel(doc.dump(), "box");
      ADD_FAILURE() << "accepted taps_f32 " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("taps_f32"), std::string::npos)
          << bad << ": " << e.what();
    }
  }
  // A damaged box is refused: knots out of order, or a knot count that does not match.
  Model bad = m;
  bad.axes[0].knots = {0.1, 0.05, 0.2};
  EXPECT_THROW(bad.Validate(), Error);
  bad = m;
  bad.knots.pop_back();
  EXPECT_THROW(bad.Validate(), Error);
}

// Knots: evenly spaced in log, the preset's value moved onto the nearest interior one; the
// command line's forms of an axis.
TEST(Parametric, AxisKnotsAndSpecs) {
  const std::vector<double> k = AxisKnots(0.03, 0.3, 3, 0.1);
  ASSERT_EQ(k.size(), 3u);
  EXPECT_EQ(k[0], 0.03);
  EXPECT_EQ(k[1], 0.1);
  EXPECT_EQ(k[2], 0.3);
  const std::vector<double> e = AxisKnots(1, 16, 5, 100);  // keep outside: plain log spacing
  EXPECT_NEAR(e[1], 2, 1e-12);
  EXPECT_NEAR(e[3], 8, 1e-12);
  EXPECT_EQ(ParseAxis("c", "0.05", 3, 0.1).knots, std::vector<double>{0.05});
  EXPECT_EQ(ParseAxis("time", "1,2,8", 3, 4).knots, (std::vector<double>{1, 2, 8}));
  EXPECT_EQ(ParseAxis("c", "0.03:0.3", 3, 0.1).knots, k);
  for (const char* bad : {"", "0", "-1", "a", "1:", ":2", "2:1", "1,1", "3,2", "1e400", "0.1x"})
    EXPECT_THROW(ParseAxis("c", bad, 3, 0.1), Error) << bad;
}

}  // namespace
}  // namespace blade
