// Deterministic test images and temporary directories for the unit tests.
#include "test_util.h"

#include <gtest/gtest.h>
#include <hwy/targets.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace blade::testing {

Image RandomImage(int width, int height, int channels, std::uint32_t seed, float lo, float hi) {
  Image image(width, height, channels);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (std::size_t i = 0; i < image.size(); ++i) image.data()[i] = dist(rng);
  return image;
}

void ForEachSimdTarget(const std::function<void(const std::string& target)>& check) {
  // Restores normal dispatch however the check ends.
  struct Restore {
    ~Restore() { hwy::SetSupportedTargetsForTest(0); }
  } restore;
  for (std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
#if HWY_ARCH_X86
    // The build's baseline is x86-64-v3 (CMakePresets.json), so targets below AVX2 can never
    // be chosen on a CPU that runs the binary; Highway still generates them (its AVX2 baseline
    // also wants AES), and with FMA in the baseline the compiler contracts their separate
    // multiplies and adds differently from one function to the next. Lower bits are better.
    if (target > HWY_AVX2) continue;
#endif
    hwy::SetSupportedTargetsForTest(target);
    const std::string name = hwy::TargetName(target);
    SCOPED_TRACE("SIMD target " + name);
    check(name);
  }
}

Image SyntheticScene(int width, int height, int channels) {
  Image image(width, height, channels);
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        double fx = double(x) / width, fy = double(y) / height;
        double v = 0.5 + 0.2 * std::sin(6.0 * fx + 2.0 * fy + c) * std::cos(5.0 * fy - 1.5 * fx);
        double dx = fx - 0.55, dy = fy - 0.45;
        if (dx * dx + dy * dy < 0.06) v += 0.25;      // a disc: a closed edge
        if (fx + 0.3 * fy > 0.8) v -= 0.2;            // a straight oblique edge
        v += 0.04 * std::sin(40.0 * fx + 23.0 * fy);  // texture
        image.at(c, x, y) = float(std::clamp(v, 0.0, 1.0));
      }
  return image;
}

double InteriorMaxDiff(const Image& a, const Image& b, int margin) {
  double m = 0;
  for (int c = 0; c < a.channels(); ++c)
    for (int y = margin; y < a.height() - margin; ++y)
      for (int x = margin; x < a.width() - margin; ++x)
        m = std::max(m, double(std::abs(a.at(c, x, y) - b.at(c, x, y))));
  return m;
}

std::string TempDir() {
  namespace fs = std::filesystem;
  static const fs::path root = [] {
    fs::path p = fs::temp_directory_path() / ("blade-test-" + std::to_string(::getpid()));
    fs::create_directories(p);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(fs::temp_directory_path() / ("blade-test-" + std::to_string(::getpid())), ec);
    });
    return p;
  }();
  static int counter = 0;
  fs::path dir = root / std::to_string(counter++);
  fs::create_directories(dir);
  return dir.string();
}

std::string SourcePath(const std::string& relative) {
  return std::string(BLADE_SOURCE_DIR) + "/" + relative;
}

double RolloutSquaredError(const Model& model, const Image& start,
                           const std::vector<Image>& targets, const Rollout& fixed, double dt,
                           Integrator integrator) {
  const int steps = int(targets.size());
  Rollout r(model, start, steps, dt, integrator, fixed);
  double l = 0;
  for (int k = 1; k <= steps; ++k)
    for (std::size_t i = 0; i < start.size(); ++i)
      l += std::pow(double(r.states()[k].data()[i]) - targets[k - 1].data()[i], 2);
  return l;
}

std::vector<Image> RolloutSquaredErrorGradients(const Rollout& rollout,
                                                const std::vector<Image>& targets) {
  std::vector<Image> grads;
  for (std::size_t k = 1; k <= targets.size(); ++k) {
    Image g = rollout.states()[k].Copy();
    for (std::size_t i = 0; i < g.size(); ++i)
      g.data()[i] = 2 * (g.data()[i] - targets[k - 1].data()[i]);
    grads.push_back(std::move(g));
  }
  return grads;
}

}  // namespace blade::testing
