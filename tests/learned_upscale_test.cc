// Learned upscalers: filter indices, back-projection, training (least-squares optimality,
// determinism), the model file, and refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/restore.h"
#include "blade/train.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::SyntheticScene;

// Small, fast training: three synthetic scenes (edges, shading, texture), one copy each.
UpscaleTrainOptions SmallOptions(int factor, const std::string& degradation) {
  UpscaleTrainOptions o = RecommendedUpscaleTrainOptions(factor, degradation);
  o.selection.SetBins({4, 2, 2});
  o.footprint = 5;
  o.augment = 2;
  o.stages = 2;
  return o;
}

double MeanSquare(const Image& a, const Image& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    s += double(a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
  return s / double(a.size());
}

std::vector<Image> Scenes(int factor) {
  std::vector<Image> out;
  for (int s : {96, 120, 144}) out.push_back(CropToMultiple(SyntheticScene(s, s * 3 / 4), factor));
  return out;
}

TEST(LearnedUpscale, FilterIndexIsSelectionTimesPhasesPlusPhase) {
  SelectionConfig cfg;
  cfg.SetBins({6, 2, 2});
  cfg.strength_thresholds = {0.02f};
  cfg.coherence_thresholds = {0.5f};
  const Image u = SyntheticScene(37, 29);
  const std::vector<std::int32_t> sel = Select(cfg, u);
  for (int factor : {2, 3, 4}) {
    const std::vector<std::int32_t> keys = UpscaleFilterIndices(cfg, factor, u);
    for (int y = 0; y < u.height(); ++y)
      for (int x = 0; x < u.width(); ++x) {
        const std::size_t i = std::size_t(y) * u.width() + x;
        ASSERT_EQ(keys[i], sel[i] * factor * factor + (y % factor) * factor + x % factor);
      }
  }
}

TEST(LearnedUpscale, BackProjectionMakesTheResultConsistentWithTheData) {
  const Image hr = CropToMultiple(SyntheticScene(64, 48), 4);
  for (int factor : {2, 4}) {
    const Degradation area = ParseDegradation("area");
    const Image f = Degrade(hr, factor, area);
    Image u = ResizeBicubic(f, hr.width(), hr.height());
    BackProject(u, f, factor, area, 1);
    const Image again = Degrade(u, factor, area);
    for (std::size_t i = 0; i < f.size(); ++i) ASSERT_NEAR(again.data()[i], f.data()[i], 2e-6);
    // Bicubic (Pillow's): Landweber steps at 1 / |A A^T| shrink the data residual.
    const Degradation bicubic = ParseDegradation("bicubic");
    const Image g = Degrade(hr, factor, bicubic);
    Image v = ResizeLanczos3(g, hr.width(), hr.height());
    auto residual = [&](const Image& x) { return MeanSquare(Degrade(x, factor, bicubic), g); };
    const double before = residual(v);
    BackProject(v, g, factor, bicubic, 3);
    EXPECT_LT(residual(v), 0.5 * before) << factor;
  }
}

TEST(LearnedUpscale, TrainingBeatsLanczosOnItsDataAndIsThreadCountInvariant) {
  for (const char* degradation : {"area", "bicubic"}) {
    const UpscaleTrainOptions o = SmallOptions(2, degradation);
    const std::vector<Image> hr = Scenes(2);
    SetNumThreads(1);
    const Model one = TrainUpscaleModel(hr, o);
    SetNumThreads(2);
    const Model two = TrainUpscaleModel(hr, o);
    SetNumThreads(0);
    ASSERT_EQ(one.banks.size(), 2u);
    for (std::size_t b = 0; b < one.banks.size(); ++b)
      ASSERT_EQ(one.banks[b].filters.taps, two.banks[b].filters.taps);
    EXPECT_EQ(one.banks[0].filters.count, 4 * 2 * 2 * 4);
    // Each stage minimises the squared residual of its filters on the training data (the
    // zero filter is one candidate), and back-projection only removes data error, so the
    // learned result must beat its own start, the Lanczos-3 interpolation, clearly.
    const Degradation deg = ParseDegradation(degradation);
    for (const Image& h : hr) {
      const Image f = Degrade(h, 2, deg);
      const double lanczos = Psnr(ResizeLanczos3(f, h.width(), h.height()), h);
      const double learned = Psnr(UpscaleLearned(one, f), h);
      EXPECT_GT(learned, lanczos + 1.0) << degradation;
    }
  }
}

TEST(LearnedUpscale, ModelFileRoundTripsAndRejectsInconsistentSpecs) {
  const Model m = TrainUpscaleModel(Scenes(2), SmallOptions(2, "bicubic"));
  const std::string text = SerializeModel(m);
  std::size_t taps = 0;
  for (const Bank& b : m.banks) taps += b.filters.taps.size();
  // Taps are written as their shortest float decimals (at most 9 digits), not 17-digit doubles.
  EXPECT_LT(text.size(), 16 * taps);
  const Model back = ParseModel(text, "m");
  ASSERT_EQ(back.form, ModelForm::kUpscale);
  EXPECT_EQ(back.upscale.factor, 2);
  EXPECT_EQ(back.upscale.degradation, "bicubic");
  EXPECT_EQ(back.upscale.back_projections, 1);
  ASSERT_EQ(back.banks.size(), m.banks.size());
  for (std::size_t b = 0; b < m.banks.size(); ++b) {
    EXPECT_EQ(back.banks[b].filters.taps, m.banks[b].filters.taps);
    EXPECT_EQ(back.banks[b].selection.strength_thresholds,
              m.banks[b].selection.strength_thresholds);
  }
  Model bad = m;
  bad.upscale.factor = 3;  // the bank holds 4 phases, not 9
  EXPECT_THROW(bad.Validate(), Error);
  bad = m;
  bad.upscale.degradation = "nearest";
  EXPECT_THROW(bad.Validate(), Error);
  bad = m;
  bad.banks.resize(5, m.banks[0]);
  EXPECT_THROW(bad.Validate(), Error);
  EXPECT_THROW(MakeEmptyModel(ModelForm::kUpscale, m.banks[0].selection, 5), Error);
}

TEST(LearnedUpscale, RefusedWhereItDoesNotBelong) {
  const Model m = TrainUpscaleModel(Scenes(2), SmallOptions(2, "area"));
  const Image f = SyntheticScene(40, 30);
  // Another factor or degradation than it was trained for.
  EXPECT_THROW(Upscale(m, f, 4, ParseDegradation("area"), {}), Error);
  EXPECT_THROW(Upscale(m, f, 2, ParseDegradation("bicubic"), {}), Error);
  EXPECT_NO_THROW(Upscale(m, f, 2, ParseDegradation("area"), {}));
  // It is not a PDE model.
  EXPECT_THROW(RunModel(m, f, {}), Error);
  for (Application app : {Application::kRestore, Application::kDeconvolve, Application::kSegment,
                          Application::kDenoise, Application::kResample})
    EXPECT_THROW(RequireModelFor(app, m), Error);
  EXPECT_NO_THROW(RequireModelFor(Application::kUpscale, m));
  // The default upscaler per factor and degradation.
  EXPECT_EQ(DefaultUpscaleModelName(2, ParseDegradation("area")), "upscale-x2-area");
  EXPECT_EQ(DefaultUpscaleModelName(4, ParseDegradation("bicubic")), "upscale-x4-bicubic");
  EXPECT_EQ(DefaultUpscaleModelName(3, ParseDegradation("area")), "tv-plain");
  EXPECT_EQ(DefaultUpscaleModelName(2, ParseDegradation("gaussian:1")), "tv-plain");
}

}  // namespace
}  // namespace blade
