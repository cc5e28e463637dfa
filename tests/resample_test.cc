// Resampling along flows: .flo files, interpolators, the shifted observation model, BLADE^x/y
// training, block-matching alignment.
#include "blade/resample.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/train.h"
#include "ops/gaussian.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::InteriorMaxDiff;
using testing::RandomImage;
using testing::SyntheticScene;

Flow ConstantFlow(int w, int h, float u, float v) {
  Flow f(w, h);
  std::fill(f.u.begin(), f.u.end(), u);
  std::fill(f.v.begin(), f.v.end(), v);
  return f;
}

double InteriorPsnr(const Image& a, const Image& b, int margin) {
  const Rect r{margin, margin, a.width() - 2 * margin, a.height() - 2 * margin};
  return Psnr(Crop(a, r), Crop(b, r));
}

// A high-resolution scene with detail at every scale: smooth shapes plus blurred noise.
Image DetailedScene(int w, int h, unsigned seed) {
  Image s = SyntheticScene(w, h);
  Image n = GaussianBlur(RandomImage(w, h, 1, seed), 1.5);
  for (std::size_t i = 0; i < s.size(); ++i)
    s.data()[i] = 0.6f * s.data()[i] + 0.8f * (n.data()[i] - 0.5f) + 0.2f;
  return s;
}

TEST(ResampleFlo, RoundTripsAndRejectsDamagedFiles) {
  Flow f(7, 5);
  for (std::size_t i = 0; i < f.u.size(); ++i) {
    f.u[i] = 0.25f * i - 3;
    f.v[i] = -0.5f * i;
  }
  const std::string path = testing::TempDir() + "/f.flo";
  WriteFlo(f, path);
  Flow g = ReadFlo(path);
  EXPECT_EQ(g.width, 7);
  EXPECT_EQ(g.u, f.u);
  EXPECT_EQ(g.v, f.v);
  // Truncated, wrong tag, absurd size, and a non-finite vector.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& name, const std::string& content) {
    std::ofstream(testing::TempDir() + "/" + name, std::ios::binary) << content;
    return testing::TempDir() + "/" + name;
  };
  EXPECT_THROW(ReadFlo(write("t.flo", bytes.substr(0, bytes.size() - 3))), Error);
  EXPECT_THROW(ReadFlo(write("m.flo", "XXXX" + bytes.substr(4))), Error);
  std::string huge = bytes;
  const std::int32_t big = 100000;
  std::memcpy(huge.data() + 4, &big, 4);
  std::memcpy(huge.data() + 8, &big, 4);
  EXPECT_THROW(ReadFlo(write("h.flo", huge)), Error);
  std::string nan = bytes;
  const float q = NAN;
  std::memcpy(nan.data() + 12, &q, 4);
  EXPECT_THROW(ReadFlo(write("n.flo", nan)), Error);
  EXPECT_THROW(ReadFlo(testing::TempDir() + "/missing.flo"), Error);
}

TEST(ResampleClassical, IntegerShiftsAreExactAndConstantsArePreserved) {
  Image im = RandomImage(30, 20, 1, 3);
  Image shifted(30, 20, 1);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 30; ++x)
      shifted.at(0, x, y) = im.at(0, std::clamp(x + 2, 0, 29), std::clamp(y - 1, 0, 19));
  for (auto m : {ResampleMethod::kBilinear, ResampleMethod::kBicubic, ResampleMethod::kLanczos3}) {
    EXPECT_LT(MaxAbsDifference(ResampleClassical(im, ConstantFlow(30, 20, 2, -1), m), shifted),
              1e-6)
        << ResampleMethodName(m);
    Image flat(30, 20, 1);
    std::fill(flat.data(), flat.data() + flat.size(), 0.37f);
    Flow wobbly = ConstantFlow(30, 20, 0.3f, -0.45f);
    for (std::size_t i = 0; i < wobbly.u.size(); ++i) wobbly.u[i] += 0.01f * (i % 17);
    EXPECT_LT(MaxAbsDifference(ResampleClassical(flat, wobbly, m), flat), 1e-6);
  }
  // Bilinear halfway between two pixels is their mean.
  Image half = ResampleClassical(im, ConstantFlow(30, 20, 0.5f, 0), ResampleMethod::kBilinear);
  EXPECT_NEAR(half.at(0, 4, 4), 0.5f * (im.at(0, 4, 4) + im.at(0, 5, 4)), 1e-6);
  EXPECT_THROW(ResampleClassical(im, ConstantFlow(29, 20, 0, 0), ResampleMethod::kBicubic), Error);
}

TEST(ResampleObserve, ShiftsAgreeWithTheSamplingLattice) {
  Image hr = DetailedScene(96, 64, 4);
  Image base = ObserveShifted(hr, 4, 0.5, Flow());
  ASSERT_EQ(base.width(), 24);
  // A shift of one whole LR pixel is an index shift (away from the clamped border).
  Image one = ObserveShifted(hr, 4, 0.5, ConstantFlow(24, 16, 1, 0));
  double m = 0;
  for (int y = 3; y < 13; ++y)
    for (int x = 3; x < 20; ++x)
      m = std::max(m, double(std::abs(one.at(0, x, y) - base.at(0, x + 1, y))));
  EXPECT_LT(m, 1e-6);
  // The unshifted observation is the Gaussian-blurred HR sampled at LR centres 4n + 1.5,
  // computed here independently with the direct Gaussian filter and bilinear sampling
  // between HR pixels 4n + 1 and 4n + 2.
  Image blurred = GaussianBlurDirect(hr, 2.0);
  m = 0;
  for (int y = 3; y < 13; ++y)
    for (int x = 3; x < 21; ++x) {
      const int X = 4 * x + 1, Y = 4 * y + 1;
      const double ref = 0.25 * (blurred.at(0, X, Y) + blurred.at(0, X + 1, Y) +
                                 blurred.at(0, X, Y + 1) + blurred.at(0, X + 1, Y + 1));
      m = std::max(m, std::abs(ref - base.at(0, x, y)));
    }
  // Bilinear sampling of a sigma-2 blur differs from exact sampling by O(h^2 f'') only.
  EXPECT_LT(m, 5e-3);
}

TEST(ResampleBlade, HigherOrderFitsBeatTheFirstOrderAndZeroFlowIsIdentity) {
  std::vector<Image> train;
  for (unsigned s = 0; s < 6; ++s) train.push_back(DetailedScene(160, 128, 10 + s));
  ResampleTrainOptions o;
  o.selection.orientations = 8;
  o.selection.strengths = 2;
  o.selection.coherences = 2;
  o.shifts_per_image = 8;
  Model first = TrainResampleModel(train, o);
  o.order = 3;
  Model third = TrainResampleModel(train, o);
  EXPECT_EQ(first.form, ModelForm::kResample);
  EXPECT_EQ(first.banks.size(), 2u);
  EXPECT_EQ(third.banks.size(), 9u);
  Image hr = DetailedScene(160, 128, 99);
  Image f0 = ObserveShifted(hr, 4, 0.5, Flow());
  EXPECT_LT(MaxAbsDifference(ResampleBlade(third, f0, ConstantFlow(40, 32, 0, 0)), f0), 1e-7);
  // A smooth, spatially varying sub-pixel flow, integer parts included.
  Flow flow(40, 32);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 40; ++x) {
      flow.U(x, y) = float(0.9 * std::sin(0.15 * x + 0.1 * y) + 0.3);
      flow.V(x, y) = float(0.7 * std::cos(0.12 * y - 0.05 * x));
    }
  Image truth = ObserveShifted(hr, 4, 0.5, flow);
  const double p1 = InteriorPsnr(ResampleBlade(first, f0, flow), truth, 4);
  const double p3 = InteriorPsnr(ResampleBlade(third, f0, flow), truth, 4);
  const double bilinear =
      InteriorPsnr(ResampleClassical(f0, flow, ResampleMethod::kBilinear), truth, 4);
  const double bicubic =
      InteriorPsnr(ResampleClassical(f0, flow, ResampleMethod::kBicubic), truth, 4);
  std::printf("resample: BLADE order 1 %.2f dB, order 3 %.2f dB, bilinear %.2f, bicubic %.2f\n", p1,
              p3, bilinear, bicubic);
  // The first-order model (eq. 5.5) is linear in the displacement, like bilinear
  // interpolation, and about as accurate (measured 41.1 vs 40.7 dB here); the cubic model
  // removes most of its (w d)^2 / 2 error and passes bicubic (45.5 vs 44.6 dB).
  EXPECT_GT(p1, bilinear - 0.5);
  EXPECT_GT(p3, p1 + 1.0);
  EXPECT_GT(p3, bicubic);
  Model direct = first;
  direct.form = ModelForm::kDirect;
  direct.banks.resize(1);
  EXPECT_THROW(ResampleBlade(direct, f0, flow), Error);
}

TEST(ResampleBlade, IntegerDisplacementsAreShifts) {
  std::vector<Image> train;
  train.push_back(DetailedScene(96, 96, 3));
  train.push_back(DetailedScene(96, 96, 4));
  ResampleTrainOptions o;
  o.selection.orientations = 4;
  o.selection.strengths = 2;
  o.selection.coherences = 1;
  Model m = TrainResampleModel(train, o);
  Image im = RandomImage(30, 20, 1, 8);
  Image shifted(30, 20, 1);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 30; ++x)
      shifted.at(0, x, y) = im.at(0, std::clamp(x - 3, 0, 29), std::clamp(y + 2, 0, 19));
  EXPECT_EQ(MaxAbsDifference(ResampleBlade(m, im, ConstantFlow(30, 20, -3, 2)), shifted), 0.0);
}

// On linear ramps a sub-pixel shift is exactly first order, d . grad u, so the least-squares
// fit must find filters whose output is the exact shift: the known answer is recovered.
TEST(ResampleBlade, LeastSquaresRecoversExactShiftsOnRamps) {
  auto ramp = [](int w, int h, double a, double b, double c) {
    Image r(w, h, 1);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) r.at(0, x, y) = float(a * x + b * y + c);
    return r;
  };
  std::vector<Image> train;
  train.push_back(ramp(128, 128, 0.003, 0.001, 0.2));
  train.push_back(ramp(128, 128, -0.002, 0.004, 0.6));
  train.push_back(ramp(128, 128, 0.001, -0.003, 0.5));
  ResampleTrainOptions o;
  o.selection.orientations = 1;
  o.selection.strengths = 1;
  o.selection.coherences = 1;
  o.shifts_per_image = 8;
  o.ridge = 1e-9;
  Model m = TrainResampleModel(train, o);
  Image hr = ramp(128, 128, 0.0025, -0.0015, 0.4);
  Image f0 = ObserveShifted(hr, 4, 0.5, Flow());
  Flow flow = ConstantFlow(32, 32, 0.37f, -0.21f);
  Image truth = ObserveShifted(hr, 4, 0.5, flow);
  // Away from the border, where the HR clamping bends the ramps.
  EXPECT_LT(InteriorMaxDiff(ResampleBlade(m, f0, flow), truth, 6), 1e-4);
}

TEST(ResampleAlign, RecoversAKnownTranslationToSubPixelAccuracy) {
  Image hr = DetailedScene(512, 384, 7);
  Image ref = ObserveShifted(hr, 4, 0.5, ConstantFlow(128, 96, 2.3f, -1.6f));
  Image alt = ObserveShifted(hr, 4, 0.5, Flow());
  // ref(x) = B(x + (2.3, -1.6)) and alt(x) = B(x), so ref(x) = alt(x + v) with v = (2.3, -1.6).
  Flow f = AlignBlockMatching(ref, alt);
  const double epe = EndPointError(f, ConstantFlow(128, 96, 2.3f, -1.6f), 16);
  std::printf("align: end-point error %.3f px\n", epe);
  EXPECT_LT(epe, 0.1);
  AlignOptions no_lk;
  no_lk.lk_iterations = 0;
  const double coarse =
      EndPointError(AlignBlockMatching(ref, alt, no_lk), ConstantFlow(128, 96, 2.3f, -1.6f), 16);
  EXPECT_LT(coarse, 0.75);  // integer block matching alone: within about half a pixel per axis
  EXPECT_GT(coarse, epe);
  EXPECT_THROW(AlignBlockMatching(ref, Crop(alt, {0, 0, 100, 96})), Error);
}

// The largest end-point error in each border strip [margin, margin + 16) of the frame.
double WorstInBorderStrips(const Flow& f, float u, float v, int margin) {
  double worst = 0;
  for (int y = margin; y < f.height - margin; ++y)
    for (int x = margin; x < f.width - margin; ++x) {
      const bool strip = x < margin + 16 || y < margin + 16 || x >= f.width - margin - 16 ||
                         y >= f.height - margin - 16;
      if (strip) worst = std::max(worst, std::hypot(double(f.U(x, y)) - u, double(f.V(x, y)) - v));
    }
  return worst;
}

// Border tiles whose content moves out of the frame keep the true vector (docs/DESIGN.md §26):
// with the reference's huge-constant padding the outer 16 pixels on those sides were all wrong,
// by up to several pixels. Only the few pixels whose source left the frame are excluded.
TEST(ResampleAlign, BorderTilesKeepTheTranslationOnEverySide) {
  Image hr = DetailedScene(512, 384, 11);
  for (const auto& [u, v] : {std::pair{3.f, 2.f}, std::pair{-2.f, -3.f}, std::pair{2.5f, -1.5f}}) {
    Image ref = ObserveShifted(hr, 4, 0.5, ConstantFlow(128, 96, u, v));
    Image alt = ObserveShifted(hr, 4, 0.5, Flow());
    const Flow f = AlignBlockMatching(ref, alt);
    const int margin = int(std::ceil(std::max(std::abs(u), std::abs(v)))) + 1;
    EXPECT_LT(WorstInBorderStrips(f, u, v, margin), 0.25) << u << ", " << v;
    EXPECT_LT(EndPointError(f, ConstantFlow(128, 96, u, v), margin), 0.1) << u << ", " << v;
  }
}

// Identical flat frames align at zero: every offset matches a flat tile equally, and ties go to
// the guess (they went to the most negative offset, (-9, -9) on a 64x64 frame).
TEST(ResampleAlign, IdenticalFlatFramesAlignAtZero) {
  Image flat(64, 64, 1);
  for (std::size_t i = 0; i < flat.size(); ++i) flat.data()[i] = 0.5f;
  const Flow f = AlignBlockMatching(flat, flat);
  EXPECT_EQ(EndPointError(f, Flow(64, 64)), 0.0);
}

}  // namespace
}  // namespace blade
