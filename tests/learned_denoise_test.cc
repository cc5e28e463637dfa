// Learned denoisers: the stages against a plain loop, the blend between noise levels, training
// (its least squares beat the noisy input, determinism), the model file, defaults and refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/metrics.h"
#include "blade/parallel.h"
#include "blade/restore.h"
#include "blade/train.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::SyntheticScene;

// Small, fast training: three synthetic scenes, two noise levels, 3 x 2 x 2 bins, 5x5 taps.
DenoiseTrainOptions SmallOptions(int channels) {
  DenoiseTrainOptions o;
  o.sigmas = {10, 20};
  o.channels = channels;
  o.selection.SetBins({4, 2, 2});
  o.selection.rho = 0;
  o.footprint = 5;
  o.augment = 2;
  return o;
}

Image Scene(int w, int h, int channels) {
  if (channels == 1) return SyntheticScene(w, h);
  // Three different gray scenes (shifted crops) as R, G, B.
  const Image big = SyntheticScene(w + 8, h + 8);
  std::vector<Image> planes;
  for (int c = 0; c < 3; ++c) planes.push_back(Crop(big, {4 * c, 8 - 4 * c, w, h}));
  return StackChannels({&planes[0], &planes[1], &planes[2]});
}

std::vector<Image> Scenes(int channels) {
  std::vector<Image> out;
  for (int s : {72, 96, 120}) out.push_back(Scene(s, s * 3 / 4, channels));
  return out;
}

Image Noisy(const Image& clean, double sigma255, unsigned seed) {
  Image f = clean.Copy();
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.f, float(sigma255 / 255));
  for (std::size_t i = 0; i < f.size(); ++i)
    f.data()[i] = std::clamp(f.data()[i] + noise(rng), 0.f, 1.f);
  return f;
}

// One stage as a plain loop: u + sum over the footprint of tap x u (clamped indices), the filter
// chosen per pixel by the selection of u (luma for color), every channel alike.
Image PlainStage(const Bank& bank, const Image& u) {
  const std::vector<std::int32_t> sel = Select(bank.selection, u);
  const int r = bank.filters.radius(), w = u.width(), h = u.height();
  Image out = u.Copy();
  for (int c = 0; c < u.channels(); ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double sum = 0;
        for (int dy = -r; dy <= r; ++dy)
          for (int dx = -r; dx <= r; ++dx)
            sum += double(bank.filters.tap(sel[std::size_t(y) * w + x], dx, dy)) *
                   u.at(c, std::clamp(x + dx, 0, w - 1), std::clamp(y + dy, 0, h - 1));
        out.at(c, x, y) += float(sum);
      }
  return out;
}

Image PlainLevel(const Model& m, int level, const Image& f) {
  Image u = f.Copy();
  for (int s = 0; s < m.denoise.stages; ++s)
    u = PlainStage(m.banks[std::size_t(level) * m.denoise.stages + s], u);
  return u;
}

void ExpectNear(const Image& a, const Image& b, float tol) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a.data()[i], b.data()[i], tol) << i;
}

TEST(LearnedDenoise, StagesAndBlendMatchAPlainLoop) {
  for (int channels : {1, 3}) {
    const Model m = TrainDenoiseModel(Scenes(channels), SmallOptions(channels));
    const Image f = Noisy(Scene(45, 37, channels), 15, 7);
    // At a knot: that level's stages alone.
    ExpectNear(DenoiseLearned(m, f, 10), PlainLevel(m, 0, f), 2e-5f);
    ExpectNear(DenoiseLearned(m, f, 20), PlainLevel(m, 1, f), 2e-5f);
    // Between: linear in log sigma, so the geometric mean is the average.
    const Image a = PlainLevel(m, 0, f), b = PlainLevel(m, 1, f);
    Image mid = a.Copy();
    for (std::size_t i = 0; i < mid.size(); ++i) mid.data()[i] = 0.5f * (a.data()[i] + b.data()[i]);
    ExpectNear(DenoiseLearned(m, f, std::sqrt(200.0)), mid, 2e-5f);
    const auto w = DenoiseLevelWeights(m, 15);
    ASSERT_EQ(w.size(), 2u);
    EXPECT_NEAR(w[1].second, std::log(1.5) / std::log(2.0), 1e-12);
    EXPECT_NEAR(w[0].second + w[1].second, 1.0, 1e-12);
    // DenoiseRun is the same.
    const DenoiseResult r = DenoiseRun(m, f, 20);
    ExpectNear(r.image, b, 2e-5f);
    EXPECT_EQ(r.steps, 2);
  }
}

TEST(LearnedDenoise, GrayModelDenoisesEachChannelOfAColorImage) {
  const Model m = TrainDenoiseModel(Scenes(1), SmallOptions(1));
  const Image f = Noisy(Scene(40, 30, 3), 10, 3);
  const Image u = DenoiseLearned(m, f, 20);  // a knot: level 1 alone
  for (int c = 0; c < 3; ++c)
    ExpectNear(ExtractChannel(u, c), PlainLevel(m, 1, ExtractChannel(f, c)), 2e-5f);
}

// The least squares TrainDenoiseModel solves, rebuilt in plain loops from its training inputs
// (DenoiseTrainingInput) for one stage with one filter: sum over every pixel a radius from the
// border of p p^T and p (clean - noisy), p the noisy patch, the ridge 1e-3 x mean diagonal
// (+1e-12) added, solved by Gaussian elimination. Color: each channel a sample of the filter.
TEST(LearnedDenoise, TrainingSolvesTheLeastSquaresProblemOfItsNoisyInputs) {
  for (int channels : {1, 3}) {
    DenoiseTrainOptions o;
    o.sigmas = {15};
    o.channels = channels;
    o.selection.SetBins({1, 1, 1});
    o.footprint = 3;
    o.augment = 2;
    o.stages = 1;
    const std::vector<Image> clean = Scenes(channels);
    const Model m = TrainDenoiseModel(clean, o);
    const int n = 9, r = 1;
    std::vector<double> a(n * n, 0.0), b(n, 0.0);
    for (std::size_t i = 0; i < clean.size(); ++i)
      for (int t = 0; t < o.augment; ++t) {
        const Image c = Dihedral(clean[i], t);
        const Image u = DenoiseTrainingInput(c, o, 0, int(i), t);
        for (int ch = 0; ch < channels; ++ch)
          for (int y = r; y < u.height() - r; ++y)
            for (int x = r; x < u.width() - r; ++x) {
              double p[9];
              for (int dy = -r; dy <= r; ++dy)
                for (int dx = -r; dx <= r; ++dx)
                  p[(dy + r) * 3 + dx + r] = u.at(ch, x + dx, y + dy);
              const double target = double(c.at(ch, x, y)) - u.at(ch, x, y);
              for (int j = 0; j < n; ++j) {
                b[j] += p[j] * target;
                for (int k = 0; k < n; ++k) a[j * n + k] += p[j] * p[k];
              }
            }
      }
    double trace = 0;
    for (int j = 0; j < n; ++j) trace += a[j * n + j];
    for (int j = 0; j < n; ++j) a[j * n + j] += 1e-3 * trace / n + 1e-12;
    // Gaussian elimination with partial pivoting.
    for (int col = 0; col < n; ++col) {
      int pivot = col;
      for (int row = col + 1; row < n; ++row)
        if (std::abs(a[row * n + col]) > std::abs(a[pivot * n + col])) pivot = row;
      for (int k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
      std::swap(b[col], b[pivot]);
      for (int row = col + 1; row < n; ++row) {
        const double f = a[row * n + col] / a[col * n + col];
        for (int k = col; k < n; ++k) a[row * n + k] -= f * a[col * n + k];
        b[row] -= f * b[col];
      }
    }
    std::vector<double> x(n);
    for (int row = n - 1; row >= 0; --row) {
      double s = b[row];
      for (int k = row + 1; k < n; ++k) s -= a[row * n + k] * x[k];
      x[row] = s / a[row * n + row];
    }
    const float* taps = m.banks[0].filters.filter(0);
    for (int j = 0; j < n; ++j) EXPECT_NEAR(taps[j], x[j], 1e-4 * (1 + std::abs(x[j]))) << j;
  }
}

TEST(LearnedDenoise, TrainingBeatsTheNoisyInputAndIsThreadCountInvariant) {
  for (int channels : {1, 3}) {
    const std::vector<Image> clean = Scenes(channels);
    const DenoiseTrainOptions o = SmallOptions(channels);
    SetNumThreads(1);
    const Model one = TrainDenoiseModel(clean, o);
    SetNumThreads(2);
    const Model two = TrainDenoiseModel(clean, o);
    SetNumThreads(0);
    ASSERT_EQ(one.banks.size(), 4u);
    for (std::size_t b = 0; b < one.banks.size(); ++b)
      ASSERT_EQ(one.banks[b].filters.taps, two.banks[b].filters.taps);
    EXPECT_EQ(one.banks[0].filters.count, 4 * 2 * 2);
    // rho 0, the default, asks for each level's own scale.
    EXPECT_EQ(DenoiseTrainOptions().selection.rho, 0.0);
    EXPECT_EQ(one.banks[0].selection.rho, DenoiseSelectionRho(10));
    EXPECT_EQ(one.banks[2].selection.rho, DenoiseSelectionRho(20));
    EXPECT_EQ(DenoiseSelectionRho(5), 1.5);
    EXPECT_EQ(DenoiseSelectionRho(10), 2.0);
    EXPECT_EQ(DenoiseSelectionRho(50), 3.0);
    // Each stage minimises the squared residual over its training data, the zero filter (the
    // noisy input itself) among the candidates; on fresh noise of these scenes it must still
    // gain clearly.
    for (double sigma : {10.0, 20.0}) {
      double gain = 0;
      for (std::size_t i = 0; i < clean.size(); ++i) {
        const Image f = Noisy(clean[i], sigma, 100 + unsigned(i));
        gain += Psnr(DenoiseLearned(one, f, sigma), clean[i]) - Psnr(f, clean[i]);
      }
      EXPECT_GT(gain / clean.size(), 3.0) << channels << " " << sigma;
    }
  }
}

TEST(LearnedDenoise, ModelFileRoundTripsAndRejectsInconsistentSpecs) {
  const Model m = TrainDenoiseModel(Scenes(3), SmallOptions(3));
  const Model back = ParseModel(SerializeModel(m), "m");
  ASSERT_EQ(back.form, ModelForm::kDenoise);
  EXPECT_EQ(back.denoise.sigmas, m.denoise.sigmas);
  EXPECT_EQ(back.denoise.stages, 2);
  EXPECT_EQ(back.denoise.channels, 3);
  ASSERT_EQ(back.banks.size(), m.banks.size());
  for (std::size_t b = 0; b < m.banks.size(); ++b)
    EXPECT_EQ(back.banks[b].filters.taps, m.banks[b].filters.taps);
  Model bad = m;
  bad.denoise.sigmas = {20, 10};
  EXPECT_THROW(bad.Validate(), Error);
  bad = m;
  bad.denoise.sigmas = {10, 20, 30};  // 3 levels x 2 stages, 4 banks
  EXPECT_THROW(bad.Validate(), Error);
  bad = m;
  bad.denoise.channels = 2;
  EXPECT_THROW(bad.Validate(), Error);
  bad = m;
  bad.denoise.stages = 0;
  EXPECT_THROW(bad.Validate(), Error);
  EXPECT_THROW(MakeEmptyModel(ModelForm::kDenoise, m.banks[0].selection, 5), Error);
  DenoiseTrainOptions o = SmallOptions(1);
  o.sigmas = {10, 10};
  EXPECT_THROW(o.Validate(), Error);
  o = SmallOptions(1);
  o.sigmas = {0};
  EXPECT_THROW(o.Validate(), Error);
  o = SmallOptions(2);
  EXPECT_THROW(o.Validate(), Error);
  // Training images of the wrong channel count.
  EXPECT_THROW(TrainDenoiseModel(Scenes(3), SmallOptions(1)), Error);
}

TEST(LearnedDenoise, RefusedWhereItDoesNotBelongAndChosenByDefault) {
  const Model m = TrainDenoiseModel(Scenes(3), SmallOptions(3));
  const Image color = Noisy(Scene(40, 30, 3), 10, 1);
  // Outside its levels, on a gray image, with a TV model's options.
  EXPECT_THROW(DenoiseLearned(m, color, 9.9), Error);
  EXPECT_THROW(DenoiseLearned(m, color, 21), Error);
  EXPECT_THROW(DenoiseLearned(m, SyntheticScene(40, 30), 10), Error);
  DenoiseOptions sure;
  sure.stop = DenoiseStop::kSure;
  EXPECT_THROW(DenoiseRun(m, color, 10, sure), Error);
  DenoiseOptions timed;
  timed.time = 0.01;
  EXPECT_THROW(DenoiseRun(m, color, 10, timed), Error);
  DenoiseOptions params;
  params.params = {{"eps", 0.1}};
  EXPECT_THROW(DenoiseRun(m, color, 10, params), Error);
  DenoiseOptions unsafe;
  unsafe.unsafe = true;
  EXPECT_THROW(DenoiseRun(m, color, 10, unsafe), Error);
  Image nan = color.Copy();
  nan.data()[5] = std::nanf("");
  EXPECT_THROW(DenoiseLearned(m, nan, 10), Error);
  // Stages and levels out of range, and another model form.
  Image u = color.Copy();
  EXPECT_THROW(DenoiseStage(m, 0, 2, u), Error);
  EXPECT_THROW(DenoiseStage(m, 2, 0, u), Error);
  EXPECT_THROW(DenoiseStage(m, -1, 0, u), Error);
  EXPECT_THROW(DenoiseStage(*LoadShippedModel("tv-plain"), 0, 0, u), Error);
  // It is not a PDE model.
  EXPECT_THROW(RunModel(m, color, {}), Error);
  for (Application app : {Application::kRestore, Application::kDeconvolve, Application::kSegment,
                          Application::kUpscale, Application::kResample})
    EXPECT_THROW(RequireModelFor(app, m), Error);
  EXPECT_NO_THROW(RequireModelFor(Application::kDenoise, m));
  // The default: the learned denoiser for the channels inside its levels with the rule, else TV.
  EXPECT_EQ(DefaultDenoiseModelName(20, 1, {}), "denoise-gray");
  EXPECT_EQ(DefaultDenoiseModelName(2, 3, {}), "denoise-color");
  EXPECT_EQ(DefaultDenoiseModelName(100, 3, {}), "denoise-color");
  EXPECT_EQ(DefaultDenoiseModelName(1.9, 1, {}), "tv-plain");
  EXPECT_EQ(DefaultDenoiseModelName(0.5, 3, {}), "tv-plain");
  EXPECT_EQ(DefaultDenoiseModelName(20, 1, sure), "tv-plain");
  EXPECT_EQ(DefaultDenoiseModelName(20, 1, timed), "tv-plain");
  EXPECT_EQ(DefaultDenoiseModelName(20, 1, params), "tv-plain");
  EXPECT_EQ(DefaultDenoiseModelName(20, 1, unsafe), "tv-plain");
  // The shipped denoisers cover exactly the range the default assumes, for their channels.
  for (const char* name : {"denoise-gray", "denoise-color"}) {
    const std::shared_ptr<const Model> shipped = LoadShippedModel(name);
    ASSERT_EQ(shipped->form, ModelForm::kDenoise) << name;
    EXPECT_EQ(shipped->denoise.sigmas.front(), kShippedDenoiseSigmas[0]) << name;
    EXPECT_EQ(shipped->denoise.sigmas.back(), kShippedDenoiseSigmas[1]) << name;
    EXPECT_EQ(shipped->denoise.channels, std::string(name) == "denoise-gray" ? 1 : 3);
  }
}

}  // namespace
}  // namespace blade

namespace blade {
namespace {

TEST(NoiseEstimate, RecoversTheLevelOfWhiteNoiseAndRefusesWhatItCannotMeasure) {
  // Pure noise around mid-gray (no clipping, no texture): the robust median recovers sigma.
  for (double sigma : {2.0, 10.0, 40.0}) {
    Image f(256, 192, 3);
    for (std::size_t i = 0; i < f.size(); ++i) f.data()[i] = 0.5f;
    f = Noisy(f, sigma, 11);
    EXPECT_NEAR(EstimateNoiseSigma(f), sigma, 0.03 * sigma) << sigma;
    EXPECT_NEAR(AutoDenoiseSigma(f), sigma, 0.03 * sigma) << sigma;
  }
  // A smooth ramp has no diagonal detail; a constant image none at all.
  Image ramp(64, 48, 1);
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) ramp.at(0, x, y) = 0.01f * x + 0.005f * y;
  EXPECT_LT(EstimateNoiseSigma(ramp), 1e-3);
  Image flat(64, 48, 1);
  EXPECT_EQ(EstimateNoiseSigma(flat), 0.0);
  EXPECT_THROW(AutoDenoiseSigma(flat), Error);
  EXPECT_THROW(EstimateNoiseSigma(Image(7, 40, 1)), Error);
  Image nan = ramp.Copy();
  nan.data()[3] = std::nanf("");
  EXPECT_THROW(EstimateNoiseSigma(nan), Error);
}

}  // namespace
}  // namespace blade
