// The learned upscalers' convolutional refiner: the banded forward pass against plain loops,
// the training gradient against finite differences, training, the model file and refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "blade/convnet.h"
#include "blade/error.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/restore.h"
#include "blade/train.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::RandomImage;
using testing::SyntheticScene;

// A net with the given channel counts (channels[0] in, then each layer's out) and weights and
// biases uniform in +-scale.
ConvNet RandomNet(const std::vector<int>& channels, std::uint32_t seed, float scale = 0.3f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  ConvNet net;
  for (std::size_t l = 0; l + 1 < channels.size(); ++l) {
    ConvLayer layer;
    layer.in = channels[l];
    layer.out = channels[l + 1];
    for (int k = 0; k < layer.in * layer.out * 9; ++k) layer.weights.push_back(u(rng));
    for (int k = 0; k < layer.out; ++k) layer.bias.push_back(u(rng));
    net.layers.push_back(layer);
  }
  return net;
}

Planes RandomPlanes(int c, int w, int h, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  Planes p(c, w, h);
  for (float& v : p.data) v = u(rng);
  return p;
}

// The network as written in its header: each layer a 3x3 convolution over its whole input with
// replicated borders, then max(0, .) except after the last; double accumulation.
Planes PlainForward(const ConvNet& net, const Planes& input) {
  Planes cur = input;
  const int w = input.width, h = input.height;
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const ConvLayer& layer = net.layers[l];
    Planes next(layer.out, w, h);
    for (int o = 0; o < layer.out; ++o)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          double s = layer.bias[o];
          for (int c = 0; c < layer.in; ++c)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                const int yy = std::clamp(y + dy, 0, h - 1), xx = std::clamp(x + dx, 0, w - 1);
                s += double(layer.weights[((o * layer.in + c) * 3 + dy + 1) * 3 + dx + 1]) *
                     cur.plane(c)[std::size_t(yy) * w + xx];
              }
          if (l + 1 < net.layers.size()) s = std::max(0.0, s);
          next.plane(o)[std::size_t(y) * w + x] = float(s);
        }
    cur = std::move(next);
  }
  return cur;
}

double MaxDiff(const Planes& a, const Planes& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.data.size(); ++i)
    m = std::max(m, double(std::abs(a.data[i] - b.data[i])));
  return m;
}

TEST(Refiner, ForwardMatchesPlainLoopsAcrossBandsAndThreadCounts) {
  const ConvNet net = RandomNet({5, 6, 7, 4}, 3);
  // 2100 wide: bands of 31 rows, so 70 rows span three bands and their halos; 9 x 5 is one band
  // smaller than the network's receptive field.
  for (auto [w, h] : {std::pair{2100, 70}, std::pair{9, 5}, std::pair{1, 1}}) {
    const Planes in = RandomPlanes(5, w, h, 11);
    const Planes plain = PlainForward(net, in);
    SetNumThreads(1);
    const Planes one = ConvNetForward(net, in);
    SetNumThreads(2);
    const Planes two = ConvNetForward(net, in);
    SetNumThreads(0);
    ASSERT_EQ(one.channels, 4);
    EXPECT_LT(MaxDiff(one, plain), 2e-5) << w << "x" << h;
    EXPECT_EQ(one.data, two.data) << w << "x" << h;
  }
}

TEST(Refiner, SpaceToDepthIsPixelUnshuffleAndDepthToSpaceInvertsIt) {
  const Image u = RandomImage(12, 8, 1, 5);
  Planes p(1 + 16, 3, 2);
  SpaceToDepth(u, 4, p, 1);
  // PyTorch's pixel_unshuffle: plane (y mod F) F + (x mod F) of the coarse grid.
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 12; ++x)
      ASSERT_EQ(p.plane(1 + (y % 4) * 4 + x % 4)[(y / 4) * 3 + x / 4], u.at(0, x, y));
  Planes phases(16, 3, 2);
  std::copy(p.data.begin() + 6, p.data.end(), phases.data.begin());
  Image zero(12, 8, 1);
  AddDepthToSpace(phases, 4, zero);
  EXPECT_EQ(std::vector<float>(zero.data(), zero.data() + zero.size()),
            std::vector<float>(u.data(), u.data() + u.size()));
  EXPECT_THROW(SpaceToDepth(RandomImage(10, 8, 1, 1), 4, p, 1), Error);
}

TEST(Refiner, ScatterWindowsIsTheAdjointOfGatherWindows) {
  // <Gather(x), y> = <x, Scatter(y)> for random x and y, borders included, down to one pixel
  // wide or tall; and the gathered rows are the clamped windows of the header's layout.
  for (const auto& [w, h] :
       std::vector<std::pair<int, int>>{{7, 5}, {1, 1}, {1, 5}, {7, 1}, {2, 2}}) {
    const Planes x = RandomPlanes(3, w, h, 1);
    std::vector<float> gathered;
    GatherWindows(x, 0, h, 0, h, gathered);
    const std::size_t n = std::size_t(w) * h;
    ASSERT_EQ(gathered.size(), 27 * n);
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 9; ++k)
        for (int yy = 0; yy < h; ++yy)
          for (int xx = 0; xx < w; ++xx)
            ASSERT_EQ(gathered[(9 * c + k) * n + std::size_t(yy) * w + xx],
                      x.plane(c)[std::size_t(std::clamp(yy + k / 3 - 1, 0, h - 1)) * w +
                                 std::clamp(xx + k % 3 - 1, 0, w - 1)])
                << w << "x" << h << " c " << c << " k " << k;
    const Planes y = RandomPlanes(1, 27, int(n), 2);  // 9 x 3 rows by w x h columns of samples
    Planes scattered(3, w, h);
    ScatterWindows(y.data.data(), scattered);
    double left = 0, right = 0;
    for (std::size_t i = 0; i < gathered.size(); ++i) left += double(gathered[i]) * y.data[i];
    for (std::size_t i = 0; i < x.data.size(); ++i) right += double(x.data[i]) * scattered.data[i];
    EXPECT_NEAR(left, right, 1e-4 * std::abs(left) + 1e-4) << w << "x" << h;
  }
}

TEST(Refiner, LossGradientMatchesFiniteDifferences) {
  const int F = 2;
  ConvNet net = RandomNet({1 + F * F, 4, 3, F * F}, 7, 0.4f);
  std::vector<RefinerSample> samples;
  for (std::uint32_t s = 0; s < 2; ++s) {
    RefinerSample r;
    r.f = RandomImage(6, 5, 1, 20 + s);
    r.u = RandomImage(12, 10, 1, 30 + s);
    r.hr = RandomImage(12, 10, 1, 40 + s);
    samples.push_back(std::move(r));
  }
  ConvNet grad;
  const double loss = RefinerLossGradient(net, samples, F, &grad);
  // The loss is the mean squared error of the refined u, computed here without the training code.
  double direct = 0, pixels = 0;
  for (const RefinerSample& s : samples) {
    Image v = s.u.Copy();
    AddDepthToSpace(PlainForward(net, RefinerInput(s.f, s.u, F)), F, v);
    for (std::size_t i = 0; i < v.size(); ++i)
      direct += double(v.data()[i] - s.hr.data()[i]) * (v.data()[i] - s.hr.data()[i]);
    pixels += double(v.size());
  }
  EXPECT_NEAR(loss, direct / pixels, 1e-6 * loss);
  // Central differences on every weight and bias (double-precision loss, float network: the
  // step is large enough that rounding stays well under the tolerance).
  const float eps = 2e-3f;
  int checked = 0;
  for (std::size_t l = 0; l < net.layers.size(); ++l)
    for (int which = 0; which < 2; ++which) {
      std::vector<float>& p = which ? net.layers[l].bias : net.layers[l].weights;
      const std::vector<float>& g = which ? grad.layers[l].bias : grad.layers[l].weights;
      for (std::size_t k = 0; k < p.size(); ++k) {
        const float keep = p[k];
        ConvNet unused;
        p[k] = keep + eps;
        const double plus = RefinerLossGradient(net, samples, F, &unused);
        p[k] = keep - eps;
        const double minus = RefinerLossGradient(net, samples, F, &unused);
        p[k] = keep;
        const double fd = (plus - minus) / (2 * eps);
        EXPECT_NEAR(g[k], fd, 2e-3 + 2e-2 * std::abs(fd)) << "layer " << l << " " << k;
        ++checked;
      }
    }
  EXPECT_EQ(checked, int(net.parameters()));
  // A sample whose original is not of its upscale's size is refused, not read past its end.
  samples[1].hr = RandomImage(10, 10, 1, 9);
  EXPECT_THROW(RefinerLossGradient(net, samples, F, &grad), Error);
}

TEST(Refiner, PatchWithContextScoresWhatTheWholeImageGives) {
  // A 3-layer net: a patch cut with 3 pixels of context around the scored 5x4 region sees, at
  // those pixels, exactly what the whole image shows, so its loss and gradient equal the whole
  // image's restricted to the region; without context (the region cut alone) they differ.
  const int F = 2, depth = 3;
  const ConvNet net = RandomNet({1 + F * F, 6, 5, F * F}, 3, 0.4f);
  RefinerSample whole;
  whole.f = RandomImage(14, 12, 1, 50);
  whole.u = RandomImage(28, 24, 1, 51);
  whole.hr = RandomImage(28, 24, 1, 52);
  const Rect region{5, 4, 5, 4};
  whole.scored = Image(14, 12, 1);
  for (int y = region.y; y < region.y + region.height; ++y)
    for (int x = region.x; x < region.x + region.width; ++x) whole.scored.at(0, x, y) = 1;
  auto cut = [&](int context) {
    const Rect lr{region.x - context, region.y - context, region.width + 2 * context,
                  region.height + 2 * context};
    const Rect hr{lr.x * F, lr.y * F, lr.width * F, lr.height * F};
    RefinerSample s;
    s.f = Crop(whole.f, lr);
    s.u = Crop(whole.u, hr);
    s.hr = Crop(whole.hr, hr);
    s.scored = Crop(whole.scored, lr);
    return s;
  };
  auto one = [](RefinerSample s) {
    std::vector<RefinerSample> v;
    v.push_back(std::move(s));
    return v;
  };
  ConvNet g_whole, g_patch, g_bare;
  const double l_whole = RefinerLossGradient(
      net, one({whole.f.Copy(), whole.u.Copy(), whole.hr.Copy(), whole.scored.Copy()}), F,
      &g_whole);
  const double l_patch = RefinerLossGradient(net, one(cut(depth)), F, &g_patch);
  const double l_bare = RefinerLossGradient(net, one(cut(0)), F, &g_bare);
  EXPECT_NEAR(l_patch, l_whole, 1e-6 * l_whole);
  EXPECT_GT(std::abs(l_bare - l_whole), 1e-3 * l_whole);
  auto same_gradient = [](const ConvNet& a, const ConvNet& b) {
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
      for (std::size_t k = 0; k < a.layers[l].weights.size(); ++k)
        ASSERT_NEAR(a.layers[l].weights[k], b.layers[l].weights[k],
                    1e-4 * (1 + std::abs(b.layers[l].weights[k])));
      for (std::size_t k = 0; k < a.layers[l].bias.size(); ++k)
        ASSERT_NEAR(a.layers[l].bias[k], b.layers[l].bias[k],
                    1e-4 * (1 + std::abs(b.layers[l].bias[k])));
    }
  };
  same_gradient(g_patch, g_whole);
  // CutRefinerSample, as training draws samples: at the image's corners, edges and inside and
  // for each dihedral transform, the same as the transformed whole image scored on the patch.
  for (const auto& [x, y] :
       std::vector<std::pair<int, int>>{{0, 0}, {10, 8}, {5, 0}, {0, 5}, {6, 3}})
    for (int t = 0; t < 8; ++t) {
      const int patch = 4;
      Image scored(14, 12, 1);
      for (int yy = y; yy < y + patch; ++yy)
        for (int xx = x; xx < x + patch; ++xx) scored.at(0, xx, yy) = 1;
      ConvNet g_cut, g_ref;
      const double l_cut = RefinerLossGradient(
          net, one(CutRefinerSample(whole.f, whole.u, whole.hr, F, x, y, patch, depth, t)), F,
          &g_cut);
      const double l_ref = RefinerLossGradient(net,
                                               one({Dihedral(whole.f, t), Dihedral(whole.u, t),
                                                    Dihedral(whole.hr, t), Dihedral(scored, t)}),
                                               F, &g_ref);
      ASSERT_NEAR(l_cut, l_ref, 1e-6 * l_ref) << x << "," << y << " t " << t;
      same_gradient(g_cut, g_ref);
    }
  EXPECT_TRUE(CutRefinerSample(whole.f, whole.u, whole.hr, F, 2, 2, 4, 0, 0).scored.empty());
  EXPECT_THROW(CutRefinerSample(whole.f, whole.u, whole.hr, F, 11, 0, 4, 1, 0), Error);
  // The mean is over the scored pixels only: the region's loss written out directly.
  Image v = whole.u.Copy();
  AddDepthToSpace(PlainForward(net, RefinerInput(whole.f, whole.u, F)), F, v);
  double direct = 0;
  for (int y = region.y * F; y < (region.y + region.height) * F; ++y)
    for (int x = region.x * F; x < (region.x + region.width) * F; ++x)
      direct += std::pow(double(v.at(0, x, y)) - whole.hr.at(0, x, y), 2);
  EXPECT_NEAR(l_whole, direct / (region.width * region.height * F * F), 1e-6 * l_whole);
  // A mask of the wrong size, or one scoring nothing, is refused.
  RefinerSample bad = cut(depth);
  bad.scored = Image(3, 3, 1);
  EXPECT_THROW(RefinerLossGradient(net, one(std::move(bad)), F, &g_bare), Error);
  RefinerSample none = cut(depth);
  none.scored = Image(none.f.width(), none.f.height(), 1);
  EXPECT_THROW(RefinerLossGradient(net, one(std::move(none)), F, &g_bare), Error);
}

// A small learned upscaler (as in learned_upscale_test.cc) to refine.
Model SmallUpscaler(int factor, const std::vector<Image>& hr) {
  UpscaleTrainOptions o = RecommendedUpscaleTrainOptions(factor, "area");
  o.selection.SetBins({4, 2, 2});
  o.footprint = 5;
  o.augment = 2;
  o.stages = 1;
  return TrainUpscaleModel(hr, o);
}

// The mean PSNR gain of `refined` over `base` on x2 area inputs made from `hr`.
double MeanPsnrGain(const Model& base, const Model& refined, const std::vector<Image>& hr) {
  const Degradation area = ParseDegradation("area");
  double gain = 0;
  for (const Image& h : hr) {
    const Image f = Degrade(h, 2, area);
    gain += Psnr(UpscaleLearned(refined, f), h) - Psnr(UpscaleLearned(base, f), h);
  }
  return gain / double(hr.size());
}

RefinerTrainOptions SmallRefinerOptions() {
  RefinerTrainOptions o;
  o.width = 8;
  o.layers = 3;
  o.steps = 1000;
  o.batch = 4;
  o.patch = 12;
  o.learning_rate = 1e-3;
  return o;
}

TEST(Refiner, TrainingLowersTheErrorDeterministicallyAndTheFileKeepsIt) {
  std::vector<Image> hr;
  for (int s : {96, 120}) hr.push_back(CropToMultiple(SyntheticScene(s, s * 3 / 4), 2));
  const Model base = SmallUpscaler(2, hr);
  const RefinerTrainOptions o = SmallRefinerOptions();
  SetNumThreads(1);
  const Model one = TrainUpscaleRefiner(base, hr, o);
  SetNumThreads(2);
  const Model two = TrainUpscaleRefiner(base, hr, o);
  SetNumThreads(0);
  ASSERT_EQ(one.upscale.refiner.layers.size(), 3u);
  for (std::size_t l = 0; l < 3; ++l)
    ASSERT_EQ(one.upscale.refiner.layers[l].weights, two.upscale.refiner.layers[l].weights);
  EXPECT_EQ(one.banks[0].filters.taps, base.banks[0].filters.taps);  // the stages are kept
  EXPECT_EQ(one.provenance.count("refiner_training"), 1u);
  // On the images it was trained on, the refined upscaler's error is clearly lower (+0.76 dB a
  // picture when written; the stages alone are at 37 dB).
  const Degradation area = ParseDegradation("area");
  EXPECT_GT(MeanPsnrGain(base, one, hr), 0.4);
  // The model file keeps every weight exactly, so the output is the same.
  const Model back = ParseModel(SerializeModel(one), "refined");
  const Image f = Degrade(hr[0], 2, area);
  const Image a = UpscaleLearned(one, f), b = UpscaleLearned(back, f);
  EXPECT_EQ(std::vector<float>(a.data(), a.data() + a.size()),
            std::vector<float>(b.data(), b.data() + b.size()));
  // Color: each channel refined as a gray image of its own.
  const Image rgb = SyntheticScene(30, 24, 3);
  const Image color = UpscaleLearned(one, rgb);
  for (int c = 0; c < 3; ++c) {
    const Image fc = ExtractChannel(rgb, c);
    Image uc = ExtractChannel(UpscaleLearned(base, rgb), c);
    UpscaleRefine(one.upscale.refiner, fc, 2, uc);
    BackProject(uc, fc, 2, area, one.upscale.back_projections);
    EXPECT_LT(testing::InteriorMaxDiff(ExtractChannel(color, c), uc, 0), 1e-5) << c;
  }
}

TEST(Refiner, InitialWeightsFollowTheChosenDistribution) {
  // One step at a negligible rate leaves the initial weights: PyTorch's uniform in
  // +-1/sqrt(fan in) (biases too), or He's normal with deviation sqrt(2 / fan in) (biases zero);
  // the last layer zero either way. And with context the training still lowers the error.
  std::vector<Image> hr;
  for (int s : {96, 120}) hr.push_back(CropToMultiple(SyntheticScene(s, s * 3 / 4), 2));
  const Model base = SmallUpscaler(2, hr);
  RefinerTrainOptions o = SmallRefinerOptions();
  o.width = 48;
  o.steps = 1;
  o.learning_rate = 1e-9;
  for (bool he : {false, true}) {
    o.he_init = he;
    const ConvNet net = TrainUpscaleRefiner(base, hr, o).upscale.refiner;
    for (std::size_t l = 0; l + 1 < net.layers.size(); ++l) {
      const ConvLayer& layer = net.layers[l];
      const double fan_in = 9.0 * layer.in;
      double sum2 = 0, most = 0, bias = 0;
      for (float v : layer.weights)
        sum2 += double(v) * v, most = std::max(most, double(std::abs(v)));
      for (float v : layer.bias) bias = std::max(bias, double(std::abs(v)));
      const double deviation = std::sqrt(sum2 / double(layer.weights.size()));
      const double expected = he ? std::sqrt(2 / fan_in) : 1 / std::sqrt(3 * fan_in);
      EXPECT_NEAR(deviation, expected, 0.05 * expected) << "layer " << l << " he " << he;
      if (he) {
        EXPECT_GT(most, 3 / std::sqrt(fan_in));  // a normal's tail, beyond the uniform's bound
        EXPECT_LT(bias, 1e-6);
      } else {
        EXPECT_LE(most, 1 / std::sqrt(fan_in) + 1e-6);
        EXPECT_GT(bias, 0.5 / std::sqrt(fan_in));
      }
    }
    for (float v : net.layers.back().weights) ASSERT_LT(std::abs(v), 1e-6);
  }
  o = SmallRefinerOptions();
  o.context = -1;
  o.he_init = true;
  const Model refined = TrainUpscaleRefiner(base, hr, o);
  EXPECT_NE(refined.provenance.at("refiner_training").find("3 pixels of context"),
            std::string::npos);
  EXPECT_GT(MeanPsnrGain(base, refined, hr), 0.4);
}

TEST(Refiner, RefusedWhereItDoesNotFit) {
  std::vector<Image> hr;
  hr.push_back(CropToMultiple(SyntheticScene(96, 72), 2));
  const Model base = SmallUpscaler(2, hr);
  Model bad = base;
  bad.upscale.refiner = RandomNet({5, 4, 9}, 1);  // gives 9 planes: an x3 refiner's
  EXPECT_THROW(bad.Validate(), Error);
  bad.upscale.refiner = RandomNet({4, 4, 4}, 1);  // takes 4 planes, not 1 + 4
  EXPECT_THROW(bad.Validate(), Error);
  bad.upscale.refiner = RandomNet({5, 4, 4}, 1);
  EXPECT_NO_THROW(bad.Validate());
  bad.upscale.refiner.layers[1].in = 3;  // does not chain
  EXPECT_THROW(bad.Validate(), Error);
  bad.upscale.refiner = RandomNet({5, 4, 4}, 1);
  bad.upscale.refiner.layers[0].bias[2] = std::nanf("");
  EXPECT_THROW(bad.Validate(), Error);
  bad.upscale.refiner = RandomNet({5, 4, 4}, 1);
  bad.upscale.refiner.layers[0].bias.pop_back();
  EXPECT_THROW(bad.Validate(), Error);
  bad.upscale.refiner = RandomNet({5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, 1);
  EXPECT_THROW(bad.Validate(), Error);  // 17 layers
  // A damaged file: each refiner layer needs its four keys; the refiner is an array.
  Model good = base;
  good.upscale.refiner = RandomNet({5, 4, 4}, 1);
  const std::string text = SerializeModel(good);
  EXPECT_NO_THROW(ParseModel(text, "good"));
  nlohmann::json doc = nlohmann::json::parse(text);
  doc.erase("checksum");
  nlohmann::json missing = doc;
  missing["upscale"]["refiner"][1].erase("bias_f32");
  try {
    ParseModel(missing.dump(), "m");
    ADD_FAILURE() << "a layer without its biases loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("refiner layer 1 has no 'bias_f32'"), std::string::npos)
        << e.what();
  }
  nlohmann::json scalar = doc;
  scalar["upscale"]["refiner"] = 3;
  EXPECT_THROW(ParseModel(scalar.dump(), "m"), Error);
  // Only a learned upscaler has one, and it is trained once.
  Model pde = MakeEmptyModel(ModelForm::kDirect, base.banks[0].selection, 3);
  pde.upscale.refiner = RandomNet({5, 4, 4}, 1);
  EXPECT_THROW(pde.Validate(), Error);
  EXPECT_THROW(TrainUpscaleRefiner(pde, hr, SmallRefinerOptions()), Error);
  Model refined = base;
  refined.upscale.refiner = RandomNet({5, 4, 4}, 1);
  EXPECT_THROW(TrainUpscaleRefiner(refined, hr, SmallRefinerOptions()), Error);
  // Nonsensical options and images too small for a patch.
  RefinerTrainOptions o = SmallRefinerOptions();
  o.layers = 1;
  EXPECT_THROW(o.Validate(), Error);
  o = SmallRefinerOptions();
  o.learning_rate = 0;
  EXPECT_THROW(o.Validate(), Error);
  o = SmallRefinerOptions();
  o.patch = 60;  // 120 high-resolution pixels: more than 72 rows
  EXPECT_THROW(TrainUpscaleRefiner(base, hr, o), Error);
}

}  // namespace
}  // namespace blade
