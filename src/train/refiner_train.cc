// Training of the learned upscalers' refiner (blade/convnet.h): backpropagation through the 3x3
// layers and Adam on random patches of the upscaler's own output.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <random>

#include "blade/convnet.h"
#include "blade/error.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/restore.h"
#include "blade/train.h"

namespace blade {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A net of `like`'s shape with every weight and bias zero.
ConvNet ZerosLike(const ConvNet& like) {
  ConvNet z = like;
  for (ConvLayer& l : z.layers) {
    std::fill(l.weights.begin(), l.weights.end(), 0.f);
    std::fill(l.bias.begin(), l.bias.end(), 0.f);
  }
  return z;
}

// One sample's loss (sum of squared errors over its scored pixels) and its gradient added to
// *grad; *scored gets the number of high-resolution pixels scored.
double SampleLossGradient(const ConvNet& net, const RefinerSample& s, int factor, ConvNet* grad,
                          double* scored) {
  const int depth = int(net.layers.size());
  if (s.hr.channels() != 1 || s.hr.width() != s.u.width() || s.hr.height() != s.u.height())
    Fail("a refiner sample's original must be gray and of its upscale's size (", s.hr.width(), "x",
         s.hr.height(), "x", s.hr.channels(), " against ", s.u.width(), "x", s.u.height(), ")");
  if (!s.scored.empty() && (s.scored.channels() != 1 || s.scored.width() != s.f.width() ||
                            s.scored.height() != s.f.height()))
    Fail("a refiner sample's score mask must be gray and of its patch's size");
  std::vector<Planes> act;  // act[0] the input, act[l + 1] layer l's output (after max(0, .))
  act.push_back(RefinerInput(s.f, s.u, factor));
  const int w = act[0].width, h = act[0].height;
  for (int l = 0; l < depth; ++l) {
    Planes out(net.layers[l].out, w, h);
    ConvLayerRows(net.layers[l], act[l], 0, h, 0, l + 1 < depth, out);
    act.push_back(std::move(out));
  }
  // d loss / d output planes: 2 (u + correction - hr) at each plane's phase.
  Planes d(factor * factor, w, h);
  double loss = 0;
  *scored = 0;
  for (int py = 0; py < factor; ++py)
    for (int px = 0; px < factor; ++px) {
      const int c = py * factor + px;
      const float* r = act[depth].plane(c);
      float* g = d.plane(c);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          if (!s.scored.empty() && s.scored.at(0, x, y) == 0) continue;  // d stays 0
          const int X = x * factor + px, Y = y * factor + py;
          const double e = double(s.u.at(0, X, Y)) + r[std::size_t(y) * w + x] - s.hr.at(0, X, Y);
          loss += e * e;
          *scored += 1;
          g[std::size_t(y) * w + x] = float(2 * e);
        }
    }
  std::vector<float> cols;
  const std::size_t n = std::size_t(w) * h;
  for (int l = depth - 1; l >= 0; --l) {
    const ConvLayer& layer = net.layers[l];
    ConvLayer& gl = grad->layers[l];
    if (l + 1 < depth)  // through max(0, .): zero where the output was clipped
      for (std::size_t i = 0; i < d.data.size(); ++i)
        if (act[l + 1].data[i] <= 0) d.data[i] = 0;
    GatherWindows(act[l], 0, h, 0, h, cols);
    const Eigen::Map<const RowMatrix> windows(cols.data(), 9 * layer.in, n);
    const Eigen::Map<const RowMatrix> dy(d.data.data(), layer.out, n);
    Eigen::Map<RowMatrix>(gl.weights.data(), layer.out, 9 * layer.in).noalias() +=
        dy * windows.transpose();
    // A plain sum: Eigen's vectorised sum would depend on the rows' memory alignment, and so
    // would the trained weights.
    for (int o = 0; o < layer.out; ++o) {
      double b = 0;
      for (std::size_t i = 0; i < n; ++i) b += d.plane(o)[i];
      gl.bias[o] += float(b);
    }
    if (l == 0) break;
    // d windows = W^T dy, then each window sample's gradient back to the pixel it was read
    // from (ScatterWindows: the adjoint of GatherWindows).
    const Eigen::Map<const RowMatrix> weights(layer.weights.data(), layer.out, 9 * layer.in);
    const RowMatrix dwin = weights.transpose() * dy;
    Planes dx(layer.in, w, h);
    ScatterWindows(dwin.data(), dx);
    d = std::move(dx);
  }
  return loss;
}

// The hidden layers drawn as RefinerTrainOptions::he_init says, the last layer zero. PyTorch's
// values are drawn from `rng` either way, so the patches drawn after them are the same for both
// initialisations; He's then replace them, from an engine of their own.
ConvNet InitialRefiner(int factor, const RefinerTrainOptions& o, std::mt19937_64& rng) {
  ConvNet net;
  std::mt19937_64 he_rng(o.seed ^ 0x9e3779b97f4a7c15ull);
  for (int l = 0; l < o.layers; ++l) {
    ConvLayer layer;
    layer.in = l == 0 ? 1 + factor * factor : o.width;
    layer.out = l + 1 == o.layers ? factor * factor : o.width;
    layer.weights.assign(std::size_t(layer.in) * layer.out * 9, 0.f);
    layer.bias.assign(layer.out, 0.f);
    if (l + 1 < o.layers) {
      std::uniform_real_distribution<float> u(-1, 1);
      const float bound = float(1 / std::sqrt(9.0 * layer.in));
      for (float& v : layer.weights) v = bound * u(rng);
      for (float& v : layer.bias) v = bound * u(rng);
      if (o.he_init) {
        std::normal_distribution<double> g(0, std::sqrt(2 / (9.0 * layer.in)));
        for (float& v : layer.weights) v = float(g(he_rng));
        std::fill(layer.bias.begin(), layer.bias.end(), 0.f);
      }
    }
    net.layers.push_back(std::move(layer));
  }
  return net;
}

}  // namespace

void RefinerTrainOptions::Validate() const {
  // The bounds keep training's memory (a gradient copy per sample, the windows of a patch per
  // thread) under about 0.5 GB.
  if (width < 1 || width > 128) Fail("refiner width must be 1..128 (got ", width, ")");
  if (layers < 2 || layers > 8) Fail("refiner layers must be 2..8 (got ", layers, ")");
  if (steps < 1 || steps > 10000000) Fail("refiner steps must be 1..10000000 (got ", steps, ")");
  if (batch < 1 || batch > 64) Fail("refiner batch must be 1..64 (got ", batch, ")");
  if (patch < 4 || patch > 64) Fail("refiner patch must be 4..64 (got ", patch, ")");
  if (context < -1 || context > 16)
    Fail("refiner context must be -1 (the net's depth) or 0..16 (got ", context, ")");
  if (!(learning_rate > 0 && learning_rate <= 1))
    Fail("refiner learning rate must be in (0, 1] (got ", learning_rate, ")");
}

void RequireRefinable(const Model& upscaler) {
  if (upscaler.form != ModelForm::kUpscale)
    Fail("a refiner is trained for a learned upscaler (`blade train-upscale`); this is a ",
         FormName(upscaler.form), " model");
  if (!upscaler.upscale.refiner.empty())
    Fail("this upscaler already has a refiner; train one for the upscaler without it");
}

RefinerSample CutRefinerSample(const Image& f, const Image& u, const Image& hr, int factor, int x,
                               int y, int patch, int context, int transform) {
  const int F = factor;
  if (x < 0 || y < 0 || x + patch > f.width() || y + patch > f.height() || context < 0)
    Fail("a refiner patch must lie inside its image");
  const int x0 = std::max(0, x - context), y0 = std::max(0, y - context);
  const int x1 = std::min(f.width(), x + patch + context);
  const int y1 = std::min(f.height(), y + patch + context);
  const Rect lr{x0, y0, x1 - x0, y1 - y0}, big{x0 * F, y0 * F, lr.width * F, lr.height * F};
  RefinerSample s;
  s.f = Dihedral(Crop(f, lr), transform);
  s.u = Dihedral(Crop(u, big), transform);
  s.hr = Dihedral(Crop(hr, big), transform);
  if (context > 0) {
    Image scored(lr.width, lr.height, 1);
    for (int yy = y; yy < y + patch; ++yy)
      for (int xx = x; xx < x + patch; ++xx) scored.at(0, xx - x0, yy - y0) = 1;
    s.scored = Dihedral(scored, transform);
  }
  return s;
}

double RefinerLossGradient(const ConvNet& net, const std::vector<RefinerSample>& samples,
                           int factor, ConvNet* gradient) {
  ValidateRefiner(net, factor);
  if (samples.empty()) Fail("the refiner's loss needs at least one sample");
  std::vector<ConvNet> grads(samples.size(), ZerosLike(net));
  std::vector<double> losses(samples.size()), scored(samples.size());
  ParallelFor(0, int(samples.size()), [&](int i) {
    losses[i] = SampleLossGradient(net, samples[i], factor, &grads[i], &scored[i]);
  });
  // Summed in sample order: the same result for any thread count.
  *gradient = ZerosLike(net);
  double loss = 0, pixels = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    loss += losses[i];
    pixels += scored[i];
    for (std::size_t l = 0; l < net.layers.size(); ++l) {
      ConvLayer &g = gradient->layers[l], &gi = grads[i].layers[l];
      for (std::size_t k = 0; k < g.weights.size(); ++k) g.weights[k] += gi.weights[k];
      for (std::size_t k = 0; k < g.bias.size(); ++k) g.bias[k] += gi.bias[k];
    }
  }
  if (pixels == 0) Fail("the refiner's samples have no scored pixel");
  for (ConvLayer& g : gradient->layers) {
    for (float& v : g.weights) v = float(v / pixels);
    for (float& v : g.bias) v = float(v / pixels);
  }
  return loss / pixels;
}

Model TrainUpscaleRefiner(const Model& upscaler, const std::vector<Image>& hr_images,
                          const RefinerTrainOptions& o,
                          const std::function<void(int, int, double)>& on_progress) {
  o.Validate();
  RequireRefinable(upscaler);
  if (hr_images.empty()) Fail("refiner training needs at least one image");
  const int F = upscaler.upscale.factor;
  const Degradation degradation = ParseDegradation(upscaler.upscale.degradation);
  for (std::size_t i = 0; i < hr_images.size(); ++i) {
    const Image& hr = hr_images[i];
    if (hr.width() < o.patch * F || hr.height() < o.patch * F)
      Fail("refiner training image ", i + 1, " of ", hr_images.size(), " is ", hr.width(), "x",
           hr.height(), ": at least ", o.patch * F, " pixels on a side are needed (a ", o.patch,
           "-pixel patch at x", F, "; --patch is smaller)");
    if (hr.channels() != 1 || hr.width() % F != 0 || hr.height() % F != 0)
      Fail(
          "refiner training images must be gray (luma) and a multiple of the factor in size "
          "(image ",
          i + 1, " of ", hr_images.size(), " is ", hr.width(), "x", hr.height(), "x", hr.channels(),
          ")");
  }
  // Each image's observation and the stages' output on it, once.
  std::vector<Image> fs(hr_images.size()), us(hr_images.size());
  ParallelFor(0, int(hr_images.size()), [&](int i) {
    fs[i] = Degrade(hr_images[i], F, degradation);
    us[i] = UpscaleLearned(upscaler, fs[i]);
  });
  std::mt19937_64 rng(o.seed);
  ConvNet net = InitialRefiner(F, o, rng);
  const int context = o.context < 0 ? o.layers : o.context;
  // Adam (beta 0.9, 0.999, epsilon 1e-8) with the rate decayed along a half cosine.
  ConvNet m = ZerosLike(net), v = ZerosLike(net), grad;
  constexpr double kPi = 3.14159265358979323846;
  double running = 0;
  for (int step = 1; step <= o.steps; ++step) {
    CheckInterrupt();
    std::vector<RefinerSample> batch(o.batch);
    for (RefinerSample& s : batch) {
      const int i = int(rng() % hr_images.size()), t = int(rng() % 8);
      const int x = int(rng() % (fs[i].width() - o.patch + 1));
      const int y = int(rng() % (fs[i].height() - o.patch + 1));
      s = CutRefinerSample(fs[i], us[i], hr_images[i], F, x, y, o.patch, context, t);
    }
    const double loss = RefinerLossGradient(net, batch, F, &grad);
    running = step == 1 ? loss : 0.99 * running + 0.01 * loss;
    const double rate = o.learning_rate * 0.5 * (1 + std::cos(kPi * (step - 1) / o.steps));
    const double c1 = 1 - std::pow(0.9, step), c2 = 1 - std::pow(0.999, step);
    for (std::size_t l = 0; l < net.layers.size(); ++l) {
      auto update = [&](std::vector<float>& p, std::vector<float>& g, std::vector<float>& m1,
                        std::vector<float>& m2) {
        for (std::size_t k = 0; k < p.size(); ++k) {
          m1[k] = 0.9f * m1[k] + 0.1f * g[k];
          m2[k] = 0.999f * m2[k] + 0.001f * g[k] * g[k];
          p[k] -= float(rate * (m1[k] / c1) / (std::sqrt(m2[k] / c2) + 1e-8));
        }
      };
      update(net.layers[l].weights, grad.layers[l].weights, m.layers[l].weights,
             v.layers[l].weights);
      update(net.layers[l].bias, grad.layers[l].bias, m.layers[l].bias, v.layers[l].bias);
    }
    if (on_progress && (step % 100 == 0 || step == o.steps)) on_progress(step, o.steps, running);
  }
  net.Validate();  // finite
  Model out = upscaler;
  out.upscale.refiner = std::move(net);
  out.provenance["refiner_training"] =
      StrCat(o.layers, " 3x3 layers, ", o.width, " channels (", out.upscale.refiner.parameters(),
             " parameters), Adam ", o.steps, " steps of ", o.batch, " patches ", o.patch, "x",
             o.patch, " (low resolution, ", context, " pixels of context) from ", hr_images.size(),
             " images and their dihedral copies, rate ", o.learning_rate, " on a half cosine, ",
             o.he_init ? "He" : "PyTorch's default", " initialisation, seed ", o.seed,
             "; final running loss ", running);
  return out;
}

}  // namespace blade
