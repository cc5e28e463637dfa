// Evaluation protocol kodak4x (DESIGN.md §4): reference targets and the classical baselines.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blade/apps.h"
#include "blade/image.h"
#include "blade/model.h"
#include "blade/preset.h"
#include "blade/resample.h"
#include "blade/restore.h"
#include "blade/train.h"
#include "blade/viz.h"

namespace blade {

// A classical run for the accuracy-for-cost frontier (`blade eval --classical`): the scheme on a
// grid `grid` times finer than the LR grid (1 = LR, up to the preset's scale; the HR image area-
// resized to it, AreaResize), in `steps` steps to T (0: its default stable step, i.e. converged;
// fewer steps are taken as given, stable or not), its result area-resized to LR and scored.
struct ClassicalRun {
  double grid = 1;
  int steps = 0;
};
// "GRID" (converged) or "GRID:STEPS", e.g. "1.5", "2:20"; fails naming the form.
ClassicalRun ParseClassicalRun(const std::string& spec);
// Its row name: "classical_1.5x" (converged) or "classical_1.5x_20".
std::string ClassicalRunName(const ClassicalRun& run);

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
  std::vector<Score> classical_runs;  // EvalExtras::classical_runs, in their order
};

// The pictures behind a row's scores (LR start, HR target, BLADE's and classical-LR's results).
struct EvalPictures {
  Image start, target, blade, classical_lr;
};

struct EvalExtras {
  bool cost = false;                 // also measure classical_2x and reference_compute_seconds
  EvalPictures* pictures = nullptr;  // filled when given
  // The model runs at this point (RunModelAt) instead of its own steps; the preset given to
  // EvaluateImage must be PresetAt the same point.
  const ModelPoint* point = nullptr;
  bool unsafe = false;  // run the model past its stability horizon (RunOptions::unsafe)
  // Also these classical runs. With them or `cost`, each time is the median of 5 runs.
  std::vector<ClassicalRun> classical_runs;
};

// Where a model is evaluated: at `point`, what it leaves out being the model's own point
// (its preset's, unless it was trained elsewhere: `blade train --param`, or a parametric model
// whose default is not the preset's). `preset` is PresetAt that point (the preset itself when
// at_point is false), its frames BLADE's steps there. Refuses a point the model cannot reach
// (PlanModelPoint).
struct EvalPoint {
  Preset preset;
  ModelPoint point;
  bool at_point = false;
};
EvalPoint ResolveEvalPoint(const Model& model, const ModelPoint& point);

// Runs the reference (cached in cache_dir unless it is "") and the classical baselines on one
// HR image, and the model's rollout if `model` is given.
BaselineRow EvaluateImage(const Preset& preset, const Image& hr, const std::string& name,
                          const Model* model = nullptr, const std::string& cache_dir = "",
                          const EvalExtras& extras = {});

// Scores `u` against `target` (PSNR and SSIM, no clipping); non-finite input scores as diverged.
Score ScoreAgainst(const Image& u, const Image& target);

// Receives a captioned side-by-side picture of one evaluated image (the panels are valid during
// the call): (image file, short name of the protocol, panels).
using FigureSink = std::function<void(const std::string& image_file, const std::string& suffix,
                                      const std::vector<Panel>& panels)>;

// ---- The kodak4x protocol over a folder (`blade eval`, Python blade.evaluate_model)

struct ModelEvalOptions {
  std::string cache_dir;  // reference cache ("" = none; the front ends pass DefaultCacheDir())
  bool cost = false;      // EvalExtras::cost: classical 2x and the 4x reference timed
  int long_steps = 0;     // also run this many steps per image (past the horizon) for the range
  bool unsafe = false;    // score the model even past its stability horizon (refused otherwise)
  // Evaluate at another parameter point and stopping time (empty: the model's preset): the
  // reference at PresetAt(point), BLADE by RunModelAt (blade/model.h).
  ModelPoint point;
  std::vector<ClassicalRun> classical_runs;   // rows ClassicalRunName(run) (EvalExtras)
  std::function<void(int, int)> on_progress;  // (images done, total)
  FigureSink on_figure;  // input | reference | BLADE | classical-LR | error, per image
  void Validate() const;
};

// The protocol's rows for every image, their means, and the output ranges.
struct ModelEvaluation {
  bool has_model = true;  // false: EvaluateBaselines (no blade row, form, or range)
  std::string pde, preset, form;
  double time = 0;  // the preset's stopping time T
  int steps = 0;
  bool cost = false;
  std::vector<ClassicalRun> classical_runs;
  std::vector<BaselineRow> rows;
  float range_min = 1e30f, range_max = -1e30f;  // BLADE's output over all images
  int long_steps = 0;                           // and after long_steps steps
  float long_min = 1e30f, long_max = -1e30f;
  int long_diverged = 0;  // images whose long run became non-finite
  int long_left = 0;      // images whose long run left long_allowed (diverged ones included)
  float long_allowed[2] = {0, 0};  // the model's StabilityRange
};
ModelEvaluation EvaluateModel(const Model& model, const std::vector<std::string>& files,
                              const ModelEvalOptions& options);
// The same protocol's rows without a model (`blade baselines`): identity, classical_lr_10 (in the
// preset's frames), classical_lr, and the cost and classical runs the options ask for. The
// options' point, long_steps, unsafe and on_figure concern a model and must be left unset.
ModelEvaluation EvaluateBaselines(const Preset& preset, const std::vector<std::string>& files,
                                  const ModelEvalOptions& options);
// {"protocol": "kodak4x", extra fields (e.g. "model"), "pde", "preset", "time", "form", "steps",
// "rows" (means per row: psnr, ssim, seconds, steps taken, diverged count; blade, identity,
// classical_lr_10 (at BLADE's steps), classical_lr, with cost classical_2x, then one row per
// classical run, ClassicalRunName), "images" (per image), "range", "long_run"}; without a model
// no "form", "range" or blade row.
std::string ModelEvaluationJson(const ModelEvaluation& evaluation,
                                const std::map<std::string, std::string>& extra = {});
// The means as the text table `blade eval` prints (times in milliseconds), with a title line.
std::string ModelEvaluationTable(const ModelEvaluation& evaluation, const std::string& model_name);

// ---- Applications measured over a folder (`blade eval-app`, Python blade.evaluate_app)

// One application evaluation: per image, each method's metrics (scores[method][metric], e.g.
// "psnr", "ssim", "seconds"; segmentation: "agreement", "iou"), and their means over images.
struct AppEvaluation {
  std::string app;                              // "deconv", "upscale" or "segment"
  std::string mode;                             // "gray" or "color"
  std::vector<std::string> methods;             // in table order
  std::map<std::string, std::string> settings;  // the protocol's parameters, for the record
  struct ImageScores {
    std::string name;
    std::map<std::string, std::map<std::string, double>> scores;
  };
  std::vector<ImageScores> images;
  // Each method's metrics averaged over the images (in image order).
  std::map<std::string, std::map<std::string, double>> Means() const;
};

// The protocols' settings. Deconvolution (paper Fig. 15): Gaussian blur sigma 1, Gaussian noise
// sigma 5/255 (seeded per image), lambda 2, 10 steps of the model's dt; BLADE with absorbed
// filters (eq. 4.5) against the classical scheme in eq. 4.2. Upscaling x4: the LR input made by
// each degradation in turn (area, PIL's bicubic, and the paper's corner:0.4: Gaussian PSF 0.4
// HR px, every 4th pixel), then bicubic, Lanczos-3 and eq. 4.6 on that degradation's lattice,
// and eq. 4.7 for the corner one (lambda 0.35, 10 steps); methods are named
// "DEGRADATION/METHOD". Segmentation: Chan-Vese with BLADE TV (mu 0.04, the paper's) against the
// reference scheme (mu 0.2), 300 iterations, partitions compared up to swapped labels.
inline const std::vector<std::string> kDefaultUpscaleEvalDegradations = {
    "area", "bicubic", kProjectedUpscaleDegradation};

struct AppEvalOptions {
  bool color = false;  // the color images, else their luma
  // deconv
  double blur_sigma = kDeconvSigma, noise_sigma = 5.0 / 255, deconv_lambda = kDeconvLambda;
  Integrator integrator = Integrator::kEuler;  // BLADE's stepping (deconv)
  // upscale
  // Not given: a learned upscaler file's own factor (--upscaler FILE), else kUpscaleFactor.
  std::optional<int> factor;
  // Not given: kDefaultUpscaleEvalDegradations, and a learned upscaler file's own degradation
  // where it is none of them.
  std::optional<std::vector<std::string>> degradations;
  double upscale_lambda = kUpscaleLambda;  // below 0: UpscaleLambda's back-projection rule
  // The learned upscaler scored beside eq. 4.6 ("learned" rows): "shipped" = for each
  // degradation the shipped one trained for it and the factor, where one is shipped
  // (DefaultUpscaleModelName); "none"; or a model file, scored on the degradation it was
  // trained for.
  std::string upscaler = "shipped";
  int steps = 10;  // deconv and upscale
  // segment
  int iterations = 300;
  double mu = kChanVeseMuBlade, reference_mu = kChanVeseMuReference;
  bool force_model =
      false;  // RequireModelFor: a model of a PDE the application was not validated with
  std::function<void(int, int)> on_progress;  // (images done, total)
  FigureSink on_figure;                       // a captioned side-by-side picture per image
  void Validate() const;
};

AppEvaluation EvaluateDeconvolution(const Model& model, const std::vector<std::string>& files,
                                    const AppEvalOptions& options);
AppEvaluation EvaluateUpscaling(const Model& model, const std::vector<std::string>& files,
                                const AppEvalOptions& options);
AppEvaluation EvaluateSegmentation(const Model& tv_model, const std::vector<std::string>& files,
                                   const AppEvalOptions& options);
// One of the three by name ("deconv", "upscale", "segment"); fails on another name.
AppEvaluation EvaluateApp(const std::string& app, const Model& model,
                          const std::vector<std::string>& files, const AppEvalOptions& options);

// The evaluation as one JSON document: {"app", "mode", "images" (count), "settings", "rows"
// (the means, per method), "per_image"}; extra top-level string fields (e.g. "model") first.
std::string AppEvaluationJson(const AppEvaluation& evaluation,
                              const std::map<std::string, std::string>& extra = {});
// The means as a fixed-width text table (one row per method), with a title line.
std::string AppEvaluationTable(const AppEvaluation& evaluation);

// ---- Synthetic bursts over a folder (`blade eval-resample`, Python blade.evaluate_resample)

// Per image (its HR luma, cropped to a multiple of 4): EvaluateBurst (blade/resample.h) with the
// seed 1000 + its index; and the means over the images.
struct BurstEvaluation {
  std::vector<std::string> names;
  std::vector<BurstScore> scores;
  BurstScore mean;
};
BurstEvaluation EvaluateBursts(const Model& model, const std::vector<std::string>& files,
                               const std::function<void(int, int)>& on_progress = {});
// {"images" (count), extra fields (e.g. "model"), "rows" {method: {psnr_1, psnr_2}},
// "alignment" {"epe"}, "per_image" [{"name", "epe", method: {psnr_1, psnr_2}}]}.
std::string BurstEvaluationJson(const BurstEvaluation& evaluation,
                                const std::map<std::string, std::string>& extra = {});
// The means as the text table `blade eval-resample` prints.
std::string BurstEvaluationTable(const BurstEvaluation& evaluation);

}  // namespace blade
