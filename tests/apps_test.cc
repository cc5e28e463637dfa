// Applications: Chan–Vese reference and BLADE variants on synthetic scenes with known regions.
#include "blade/apps.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "blade/error.h"
#include "test_util.h"

namespace blade {
namespace {

// Two regions: a disc and an oblique band on a background, plus noise. Truth: 1 inside.
Image TwoRegionScene(int w, int h, int channels, Image* truth) {
  Image f(w, h, channels);
  *truth = Image(w, h);
  Image noise = testing::RandomImage(w, h, channels, 3, -0.15f, 0.15f);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const bool inside = std::hypot(x - 0.4 * w, y - 0.5 * h) < 0.25 * h || (x + y) % 97 < 12;
      truth->at(0, x, y) = inside ? 1.f : 0.f;
      for (int c = 0; c < channels; ++c) {
        // Color: the regions differ in the green channel only.
        const float base =
            channels == 1 ? (inside ? 0.7f : 0.3f) : (c == 1 ? (inside ? 0.8f : 0.2f) : 0.5f);
        f.at(c, x, y) = base + noise.at(c, x, y);
      }
    }
  return f;
}

// Chan–Vese labels are defined up to which region is "inside": compare both ways.
double Agreement(const Image& mask, const Image& truth) {
  const double a = MaskAgreement(mask, truth);
  return std::max(a, 1 - a);
}

TEST(AppsChanVese, ReferenceFindsTheRegionsGrayAndColor) {
  for (int channels : {1, 3}) {
    Image truth;
    Image f = TwoRegionScene(96, 72, channels, &truth);
    ChanVeseParams p;
    p.iterations = 100;
    Image mask = SegmentationMask(ChanVeseReference(f, p), f);
    EXPECT_GT(Agreement(mask, truth), 0.98) << channels << " channel(s)";
  }
}

// The mask is white on the brighter region whichever side each solver leaves at phi >= 0: the
// scene's regions (inside brighter) and its negative (inside darker), with both solvers.
TEST(AppsChanVese, TheMaskIsWhiteOnTheBrighterRegion) {
  const Model tv = LoadModel(testing::SourcePath("models/tv.blade"));
  for (int channels : {1, 3}) {
    Image truth;
    const Image f = TwoRegionScene(96, 72, channels, &truth);
    Image negative = f.Copy();
    for (std::size_t i = 0; i < negative.size(); ++i) negative.data()[i] = 1 - f.data()[i];
    ChanVeseParams ref;
    ref.iterations = 100;
    ChanVeseParams blade = ref;
    blade.mu = kChanVeseMuBlade;
    for (const Image* image : {&f, static_cast<const Image*>(&negative)}) {
      const bool inside_brighter = image == &f;
      for (const bool reference : {true, false}) {
        const Image phi =
            reference ? ChanVeseReference(*image, ref) : ChanVeseBlade(*image, tv, blade);
        const double agreement = MaskAgreement(SegmentationMask(phi, *image), truth);
        EXPECT_GT(inside_brighter ? agreement : 1 - agreement, 0.95)
            << channels << " channel(s), " << (inside_brighter ? "scene" : "negative") << ", "
            << (reference ? "reference" : "BLADE");
      }
    }
  }
  // Equal means (two colours of one luma): white on the smaller region, whatever phi's sign.
  {
    Image two(10, 10, 3), small_inside(10, 10), small_outside(10, 10);
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 10; ++x) {
        const bool object = x < 3;                         // 30 of 100 pixels
        two.at(0, x, y) = object ? 0.f : 0.299f / 0.587f;  // equal luma, other colours
        two.at(1, x, y) = object ? 1.f : 0.f;
        two.at(2, x, y) = 0.f;
        small_inside.at(0, x, y) = object ? 1.f : -1.f;
        small_outside.at(0, x, y) = object ? -1.f : 1.f;
      }
    for (const Image* phi : {&small_inside, &small_outside}) {
      const Image mask = SegmentationMask(*phi, two);
      EXPECT_EQ(mask.at(0, 0, 0), 1.f);
      EXPECT_EQ(mask.at(0, 9, 9), 0.f);
    }
  }
  RequireNoModelForReference(false, true);
  EXPECT_THROW(RequireNoModelForReference(true, true), Error);
  // One empty side: the mask is phi's, all white or all black.
  Image flat(8, 8), phi(8, 8);
  for (std::size_t i = 0; i < phi.size(); ++i) phi.data()[i] = 1;
  EXPECT_EQ(MaxValue(SegmentationMask(phi, flat)), 1.f);
  EXPECT_EQ(MinValue(SegmentationMask(phi, flat)), 1.f);
}

TEST(AppsChanVese, InitialisationIsTheCheckerboard) {
  Image phi = ChanVeseInitialPhi(12, 10);
  EXPECT_NEAR(phi.at(0, 2, 3), std::sin(M_PI * 2 / 5) * std::sin(M_PI * 3 / 5), 1e-6);
  EXPECT_EQ(phi.at(0, 0, 7), 0.f);
}

TEST(AppsChanVese, BladeTvAgreesWithTheReference) {
  const std::string model_path = testing::SourcePath("models/tv.blade");
  ASSERT_TRUE(std::filesystem::exists(model_path)) << "the shipped TV model is part of the repo";
  Model tv = LoadModel(model_path);
  for (int channels : {1, 3}) {
    Image truth;
    Image f = TwoRegionScene(96, 72, channels, &truth);
    ChanVeseParams ref;
    ref.iterations = 100;
    ChanVeseParams blade = ref;
    blade.mu = 0.04;
    Image a = SegmentationMask(ChanVeseReference(f, ref), f);
    Image b = SegmentationMask(ChanVeseBlade(f, tv, blade), f);
    EXPECT_GT(MaskAgreement(a, b), 0.95) << channels << " channel(s)";
    EXPECT_GT(MaskIou(a, b), 0.9) << channels << " channel(s)";
  }
}

TEST(AppsChanVese, MetricsAndBadInput) {
  Image a(4, 1), b(4, 1);
  a.data()[0] = a.data()[1] = 1;
  b.data()[1] = b.data()[2] = 1;
  EXPECT_DOUBLE_EQ(MaskAgreement(a, b), 0.5);
  EXPECT_DOUBLE_EQ(MaskIou(a, b), 1.0 / 3);
  Image inverted(4, 1);
  inverted.data()[2] = inverted.data()[3] = 1;
  EXPECT_DOUBLE_EQ(MaskAgreement(a, AlignLabels(a, inverted)), 1.0);
  ChanVeseParams p;
  p.dt = -1;
  EXPECT_THROW(ChanVeseReference(a, p), Error);
  p = {};
  p.iterations = 0;
  EXPECT_THROW(ChanVeseReference(a, p), Error);
  Image nan(8, 8);
  nan.data()[3] = NAN;
  EXPECT_THROW(ChanVeseReference(nan, ChanVeseParams{}), Error);
}

}  // namespace
}  // namespace blade

namespace blade {
namespace {

TEST(ShippedModels, LoadedOncePerFileVersion) {
  const std::string dir = testing::TempDir();
  std::filesystem::copy_file(testing::SourcePath("models/tv.blade"), dir + "/tv.blade");
  const char* before = std::getenv("BLADE_MODELS_DIR");
  const std::string saved = before ? before : "";
  setenv("BLADE_MODELS_DIR", dir.c_str(), 1);
  const auto a = LoadShippedModel("tv");
  EXPECT_EQ(LoadShippedModel("tv").get(), a.get());  // cached
  // A newer file is read again.
  const auto later = std::filesystem::last_write_time(dir + "/tv.blade") + std::chrono::seconds(5);
  std::filesystem::last_write_time(dir + "/tv.blade", later);
  const auto b = LoadShippedModel("tv");
  EXPECT_NE(b.get(), a.get());
  EXPECT_EQ(b->banks[0].filters.taps, a->banks[0].filters.taps);
  EXPECT_THROW(LoadShippedModel("no-such-model"), Error);
  if (before)
    setenv("BLADE_MODELS_DIR", saved.c_str(), 1);
  else
    unsetenv("BLADE_MODELS_DIR");
}

}  // namespace
}  // namespace blade
