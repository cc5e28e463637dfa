// Shared helpers for the unit tests: deterministic random and synthetic images, temp dirs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "blade/image.h"
#include "blade/model.h"

namespace blade::testing {

// Uniform random values in [lo, hi), deterministic for a seed.
Image RandomImage(int width, int height, int channels, std::uint32_t seed, float lo = 0.f,
                  float hi = 1.f);
// A smooth, non-trivial pattern with a few edges (a "natural-like" test image) in [0, 1].
Image SyntheticScene(int width, int height, int channels = 1);
// A fresh empty directory under the build's temporary area, removed at process exit.
std::string TempDir();

// Gradient checks of unrolled rollouts: the summed squared error of a rollout from `start`
// (selections held at `fixed`'s) against targets[k - 1] for frames k = 1.., and the per-frame
// gradients of that loss at `fixed`'s own states, for Rollout::Backward.
double RolloutSquaredError(const Model& model, const Image& start,
                           const std::vector<Image>& targets, const Rollout& fixed, double dt,
                           Integrator integrator);
std::vector<Image> RolloutSquaredErrorGradients(const Rollout& rollout,
                                                const std::vector<Image>& targets);
// Largest |a - b| over pixels at least `margin` from every border, all channels.
double InteriorMaxDiff(const Image& a, const Image& b, int margin);
// Runs `check` once per SIMD target that this build compiled and this CPU supports, with
// runtime dispatch forced to that target (its name is passed), so the fast kernels of every
// target are tested against the plain versions, not only those of the best target.
void ForEachSimdTarget(const std::function<void(const std::string& target)>& check);
// Path of a file in the source tree.
std::string SourcePath(const std::string& relative);

}  // namespace blade::testing
