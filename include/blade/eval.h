// Evaluation protocol kodak4x (DESIGN.md §4): reference targets and the classical baselines.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/model.h"
#include "blade/preset.h"
#include "blade/train.h"

namespace blade {

// One method's score on one image: PSNR/SSIM against target frame `frames`, and its run time.
struct Score {
  double psnr = 0, ssim = 0, seconds = 0;
  int steps = 0;
  bool diverged = false;  // a non-finite result: scores are meaningless
};

struct BaselineRow {
  std::string image;
  Score blade;                         // the model's 10 steps (only when a model is evaluated)
  float blade_min = 0, blade_max = 0;  // value range of the model's output
  Score identity;                      // LR initial condition vs. target
  Score classical_lr10;          // the scheme at LR, T in exactly `frames` steps (may be unstable)
  Score classical_lr;            // the scheme at LR with its default stable step
  double reference_seconds = 0;  // the HR reference run (or reading it from the cache)
  // Only with EvalExtras::cost: the scheme at twice the LR resolution (stable step, area-
  // downsampled to LR), and the HR reference computed afresh (timed, never from the cache).
  Score classical_2x;
  double reference_compute_seconds = 0;
};

// The pictures behind a row's scores (LR start, HR target, BLADE's and classical-LR's results).
struct EvalPictures {
  Image start, target, blade, classical_lr;
};

struct EvalExtras {
  bool cost = false;                 // also measure classical_2x and reference_compute_seconds
  EvalPictures* pictures = nullptr;  // filled when given
};

// Runs the reference (cached in cache_dir unless it is "") and the classical baselines on one
// HR image, and the model's rollout if `model` is given.
BaselineRow EvaluateImage(const Preset& preset, const Image& hr, const std::string& name,
                          const Model* model = nullptr, const std::string& cache_dir = "",
                          const EvalExtras& extras = {});

// Scores `u` against `target` (PSNR and SSIM, no clipping); non-finite input scores as diverged.
Score ScoreAgainst(const Image& u, const Image& target);

}  // namespace blade
