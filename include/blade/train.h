// Training BLADE models (paper §2.3): cached reference sequences, least-squares initialisation,
// unrolled fine-tuning.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/model.h"
#include "blade/monotone.h"
#include "blade/preset.h"

namespace blade {

// Bumped whenever a reference scheme's numerics change, so cached sequences are recomputed.
inline constexpr int kSolverVersion = 2;  // 2: the fast (Highway, float-DCT) solvers

// Where reference sequences are cached: $BLADE_CACHE, else $XDG_CACHE_HOME/blade, else
// ~/.cache/blade, else a "blade-cache" folder in the system temporary directory.
std::string DefaultCacheDir();

// ReferenceFrames (blade/preset.h) with an on-disk cache keyed by a hash of the image's pixels,
// every preset field that affects the result, and kSolverVersion. cache_dir "" disables caching.
std::vector<Image> CachedReferenceFrames(const Preset& preset, const Image& hr,
                                         const std::string& cache_dir);

// One training example: the LR frames u_0 .. u_frames of a reference run.
using Sequence = std::vector<Image>;

// Fine-tuning optimisers (TrainOptions::optimizer).
enum class Optimizer { kAdam, kNewton };
std::string OptimizerName(Optimizer optimizer);
Optimizer ParseOptimizer(const std::string& name);

// Training options. Start from RecommendedTrainOptions(preset, form), the documented best recipe
// that both front ends use for every option the caller leaves unset; the member defaults below
// are that recipe's direct-form values (7x7 filters, newton fine-tuning for 20 epochs).
// The smallest training frame on the model's grid: SSIM's window (the losses and `blade eval`
// need it), and room for the selection's structure tensor and a 9x9 filter.
inline constexpr int kMinTrainingSide = 11;

// Where a fine-tuning run stands after an epoch: what a checkpoint records to resume it.
struct TrainingState {
  int epoch = 0;         // the last epoch run
  int best_epoch = 0;    // the best model's epoch (0: the least-squares fit; -1: not recorded)
  int since_best = 0;    // epochs run since then (early stopping's count)
  bool stopped = false;  // the run ended before its epochs (early stopping, or no step helps)
  double ls_train_loss = NAN, ls_validation_loss = NAN;  // after least squares (NaN: unknown)
  // The settings a resumed run must share with this one, as "name=value;..." (empty in
  // checkpoints written before they were recorded).
  std::string settings;
};

struct TrainOptions {
  ModelForm form = ModelForm::kDirect;
  Integrator integrator = Integrator::kEuler;
  SelectionConfig selection;  // thresholds empty = fitted as quantiles of the training data
  // The recipe's: the selection's structure-tensor scale is the training point's
  // (Preset::selection_rho, which for CED follows the PDE's rho; PresetAt), not selection.rho.
  // Giving a scale (--rho) clears it. Measured on CED at rho 2, T 8: selecting at the preset's
  // scale 4 instead of the point's 2 cost 1.4 dB on Kodak (docs/RESULTS.md).
  bool selection_rho_follows_point = false;
  int footprint = 7;  // odd, 3..9
  // Project the trained filters acting on u to zero sum where the selection ignores the level
  // (SelectionIgnoresLevel, blade/model.h): the model then keeps constants, as the PDE does.
  bool zero_sum = true;
  // > 0 (odd, 3..9): the model also filters the classical scheme's right-hand side with filters
  // of this size (Model::scheme_term; TV flow, Perona-Malik, Cahn-Hilliard); 0: it does not.
  int scheme_footprint = 0;
  double ridge = 1e-3;     // least-squares regularisation, relative to the mean diagonal
  int min_samples = 0;     // 0 = 4 x taps per filter; fewer samples -> fallback (see docs)
  int cg_iterations = 60;  // flux form: conjugate-gradient iterations (least squares, newton)
  int epochs = 20;         // unrolled fine-tuning epochs (0 = least squares only)
  int batch = 8;           // sequences per Adam step
  int crop = 64;           // random crop side for fine-tuning (0 = whole frames)
  bool augment = true;     // fine-tuning sees random flips and quarter turns of each sequence
  bool augment_least_squares = false;  // the least-squares fit sees all 8 of them
  // Fine-tuning optimiser. "adam": minibatch Adam on random crops. "newton": full-batch
  // steps preconditioned by the one-step curvature (DirectPreconditioner; FluxPreconditioner
  // for flux models, by cg_iterations conjugate-gradient iterations per step) with a
  // backtracking line search, so the training loss never rises.
  Optimizer optimizer = Optimizer::kNewton;
  // "monotone": constrained least squares and projected fine-tuning steps keep every filter in
  // the monotone set (blade/monotone.h), so the model obeys the discrete maximum principle.
  Constraint constraint = Constraint::kNone;
  // Fine-tuning loss per frame: (1 - w) x mean squared error + w x (1 - SSIM), with SSIM as
  // blade::Ssim (Wang 2004; paper §2.3 suggests it). 0 = eq. 2.8; needs frames or crops of at
  // least 11x11 when > 0. The least-squares initialisation is always the squared error.
  double ssim_weight = 0;
  double learning_rate = 1;  // Adam's rate; newton: the first step's fraction of the full step
  // Adam steps over which the learning rate ramps linearly up from ~0: Adam's first updates
  // move every tap by about the full rate whatever its gradient's scale, which can throw a
  // good least-squares start off before the moment estimates settle.
  int warmup_steps = 20;
  int patience = 5;  // early stopping: epochs without validation improvement
  double validation_fraction = 0.15;
  // After training, the stability horizon (Model::safe_steps) is measured on the validation
  // images' first frames by runs of up to this many steps (0: not measured). A run fails when
  // it leaves the training frames' value range widened by stability_margin x its span.
  int stability_steps = 1000;
  double stability_margin = 0.1;
  // Stability term of the fine-tuning loss (0: none): each rollout goes on past the reference
  // frames to `stability_rollout` steps and adds stability_weight x the mean squared excess of u
  // beyond the horizon's range ([lo - margin x span, hi + margin x span] of the training
  // frames), averaged over all its frames. It penalises what ends the horizon.
  double stability_weight = 0;
  int stability_rollout = 40;
  std::uint64_t seed = 1;
  std::function<void(const std::string&)> on_status;  // one-line status messages
  // (epoch, epochs, train loss, validation loss, seconds elapsed) after each epoch.
  std::function<void(int, int, double, double, double)> on_epoch;
  // Checkpointing: called after every fine-tuning epoch with (where the run stands, current
  // model, best model so far), e.g. to save both.
  std::function<void(const TrainingState&, const Model&, const Model&)> on_checkpoint;
  // Resuming: when resume_from is set, its selection and filters replace the thresholds and
  // least squares, and fine-tuning continues at epoch resume_state.epoch + 1 with resume_best
  // (or resume_from) as the best model so far, early stopping's count and the least-squares
  // losses carried over from resume_state. Optimiser state (Adam moments, conjugate
  // directions) starts afresh, so a resumed run is close to, not identical with, an
  // uninterrupted one.
  const Model* resume_from = nullptr;
  const Model* resume_best = nullptr;
  TrainingState resume_state;

  // Fails with the valid ranges on a nonsensical option, including the footprint and the
  // selection's bin counts (TrainModel calls it first; the front ends call it before computing
  // any training data).
  void Validate() const;
  // Validate, and what depends on the PDE: a scheme term needs tv, pm or ch.
  void ValidateFor(Pde pde) const;
};

// ---- Checkpoints (`blade train --checkpoint/--resume`, Python blade.train(checkpoint=, resume=))

// Where the best model so far is kept next to a checkpoint: DIR/NAME.best.blade for DIR/NAME.blade.
std::string BestCheckpointPath(const std::string& checkpoint);
// Sets options.on_checkpoint to save, after every fine-tuning epoch, the current model to
// `checkpoint` and the best so far to BestCheckpointPath(checkpoint), both atomically and both
// stamped with the TrainingState (provenance "checkpoint_epoch", "checkpoint_best_epoch",
// "checkpoint_since_best", "checkpoint_stopped", "checkpoint_ls_train_loss",
// "checkpoint_ls_validation_loss", "checkpoint_settings"; the losses at round-trip precision).
void SaveCheckpointsTo(const std::string& checkpoint, TrainOptions& options);
// A checkpoint to resume from: the current model, and the best so far when it was saved.
struct Checkpoint {
  Model current, best;  // the best is always there: the pair is written best first
  std::string path;     // the checkpoint file
  TrainingState state;  // checkpoints before the state was kept: the epoch only
};
// Loads a checkpoint written by SaveCheckpointsTo; fails if the file is not one.
Checkpoint LoadCheckpoint(const std::string& checkpoint);
// Points options' resume fields at `checkpoint` (which must outlive the training); fails if it
// is already at or past options.epochs, its run had stopped early, or options and `preset` (the
// one trained at) differ from its run's in a setting other than the epochs (TrainingSettings),
// before any data is loaded; TrainModel compares the image counts too.
void ResumeFrom(const Checkpoint& checkpoint, TrainOptions& options, const Preset& preset);
// What a resumed run must share with the run it resumes, as "name=value;...": the preset, its
// time and steps, the form, filters, bins, rho, optimiser and loss settings, the seed.
std::string TrainingSettings(const TrainOptions& options, const Preset& preset);
// Fails naming the first setting in which `now` differs from `recorded` (a checkpoint's); only
// the settings `now` names are compared, and an empty `recorded` (a checkpoint older than the
// check) passes.
void RequireSameSettings(const std::string& recorded, const std::string& now);

// The best recipe that models/README.md documents (scripts/train_models.sh trains the shipped
// models with it), for a preset and form:
// - every form: the preset's selection rho and bins (presets/presets.json), Euler steps, seed 1;
// - direct: 7x7 filters, least squares, then 20 epochs of full-batch newton steps (rate 1,
//   patience 5); Perona-Malik least squares only with ridge 1e-5 (fine-tuning lowered its
//   validation loss but scored lower on held-out images); CED's least squares on all 8
//   flips/rotations;
// - flux: 5x5 filters, least squares by 60 CG iterations, then 20 epochs of newton steps with
//   the flux curvature (FluxPreconditioner; rate 1, patience 5);
// - Cahn-Hilliard: the stability horizon measured against a range widened by 50% of the span
//   (the reference itself overshoots [0, 1]).
TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form);
// The form a PDE training makes, by name: "direct" or "flux" (the other forms have their own
// trainers: TrainResampleModel, TrainUpscaleModel, TrainDenoiseModel).
ModelForm ParseTrainingForm(const std::string& name);
// The same with another optimiser and that optimiser's own settings: adam runs at rate 5e-4
// with patience 8 (and on whole frames for flux models: crop 0), newton at rate 1, patience 5.
TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form, Optimizer optimizer);
// What a user chooses that changes the recipe itself rather than one option of it. Both front
// ends start from RecommendedTrainOptions(preset, form, choices), then apply the other options
// given. With these choices the recipe
// - leaves out the scheme term for a monotone model (its filters alone must carry the maximum
//   principle; the documented monotone commands failed on the scheme term the recipe added),
//   unless a scheme footprint is given;
// - fine-tunes a loss with an SSIM term by Adam (its settings above) where the recipe would
//   take newton with a scheme term, unless an optimiser is given: newton's curvature is the
//   squared error's, and on TV (40 photographs, 6 epochs of 1 - SSIM) it lowered the validation
//   loss by 1.0% against Adam's 3.9%; before its line search was bounded it stopped at the
//   least-squares start.
struct RecipeChoices {
  std::optional<Optimizer> optimizer;  // given (--optimizer, optimizer=)
  double ssim_weight = 0;              // the loss's SSIM weight (--loss, ssim_weight=)
  Constraint constraint = Constraint::kNone;
  std::optional<int> scheme_footprint;  // given (--scheme-footprint, scheme_footprint=)
};
TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form,
                                     const RecipeChoices& choices);

// A warning about a model just trained, or "": stable for fewer steps than its own run (every
// run and evaluation will refuse it without --unsafe; a folder of 3 photographs and a README
// gave "stable for 0 steps" and exit 0), or a horizon measured on under 10 validation
// photographs (a TV model from 30 photographs, stable for 57 steps on its 3, left its range at
// the first step on other photographs).
std::string TrainedModelWarning(const Model& model);

// Reads an image as the protocol's HR initial condition: luma, cropped to a multiple of scale.
Image LoadHrLuma(const std::string& path, int scale);

// The protocol's training sequences of image files: each read as the HR luma (LoadHrLuma in
// above), its reference frames computed or read from cache_dir ("" = no cache).
// on_progress(done, total) after each image.
std::vector<Sequence> LoadTrainingSequences(const Preset& preset,
                                            const std::vector<std::string>& files,
                                            const std::string& cache_dir,
                                            const std::function<void(int, int)>& on_progress = {});

struct TrainReport {
  double ls_train_loss = 0, ls_validation_loss = 0;  // after least squares (10-step loss)
  double train_loss = 0, validation_loss = 0;        // final (best validation) model
  int epochs_run = 0, best_epoch = 0;
  int fallback_filters = 0;
  int safe_steps = -1;  // the stability horizon stored in the model (-1: not measured)
  std::vector<double> train_curve, validation_curve;  // per epoch
};

// The 10-step loss of eq. 2.8 as mean squared error per pixel and frame, averaged over
// sequences; rollouts that go non-finite count as +infinity. With ssim_weight w > 0 each frame
// counts (1 - w) x its mean squared error + w x (1 - its SSIM) instead.
double RolloutLoss(const Model& model, const std::vector<Sequence>& data, Integrator integrator,
                   double ssim_weight = 0);

// The whole fine-tuning loss per sequence: the frame loss above over the reference frames and,
// with a stability weight (TrainOptions::stability_weight), a penalty on leaving [lo, hi]: the
// rollout goes on to `stability_rollout` steps and adds stability_weight x the mean squared
// excess of u beyond [lo, hi], averaged over all its frames (the reference frames' too).
struct RolloutObjective {
  Integrator integrator = Integrator::kEuler;
  double ssim_weight = 0;
  double stability_weight = 0;
  int stability_rollout = 0;
  float lo = 0, hi = 0;

  int Steps(int reference_steps) const;  // the rollout's length
};
double RolloutLoss(const Model& model, const std::vector<Sequence>& data,
                   const RolloutObjective& objective);

// Fine-tuning as sums over sequences, for training spread over machines: the sum over `data` of
// each sequence's 10-step loss and of its gradient with respect to every bank's taps (layout as
// the banks' taps). RolloutLoss and the full-batch gradient are these sums divided by the
// number of sequences. Returns false (sums meaningless) if a rollout went non-finite.
bool RolloutLossGradientSum(const Model& model, const std::vector<Sequence>& data,
                            Integrator integrator, double* loss_sum,
                            std::vector<std::vector<double>>* gradient_sum, double ssim_weight = 0);
bool RolloutLossGradientSum(const Model& model, const std::vector<Sequence>& data,
                            const RolloutObjective& objective, double* loss_sum,
                            std::vector<std::vector<double>>* gradient_sum);

// Least-squares fit of the one-step (teacher-forced) problem: u_{k+1} - u_k = dt * rhs(u_k).
// Direct form: per-filter regularised normal equations. Flux form: the joint problem solved by
// conjugate gradients on the normal equations. Returns the number of fallback filters.
int FitLeastSquares(Model& model, const std::vector<Sequence>& data, const TrainOptions& options);

// The direct form's least squares as a sum, for training spread over machines: the per-filter
// normal equations A_k = sum p p^T, b_k = sum p d (patches p, targets d = (u_{k+1} - u_k) / dt)
// and sample counts add over any split of the sequences, so shards are accumulated where their
// data is, added, and solved once. Accumulate + Add + Solve equals FitLeastSquares up to the
// order of the floating-point sums.
struct NormalEquations {
  int filters = 0, taps = 0;
  std::vector<double> a, b;  // filters x taps x taps (symmetric), filters x taps
  std::vector<long> count;   // samples per filter
  NormalEquations() = default;
  NormalEquations(int filters, int taps);
  void Add(const NormalEquations& other);  // fails unless the shapes match
};
NormalEquations AccumulateNormalEquations(const Model& model, const std::vector<Sequence>& data);
// Solves each filter's regularised system into the model's bank (filters with fewer than
// min_samples samples, or singular systems, get the fit to all samples pooled); returns the
// number of such fallback filters.
int SolveNormalEquations(Model& model, const NormalEquations& sums, const TrainOptions& options);

// Fine-tuning preconditioner for direct models: the regularised per-filter normal matrices N_k
// of the one-step problem (the Gauss-Newton curvature of one teacher-forced step), factored.
class RidgeCholesky;  // src/train/normal_equations.h

class DirectPreconditioner {
 public:
  DirectPreconditioner(const Model& model, const std::vector<Sequence>& data, double ridge);
  // The same from the normal equations already summed for the least-squares fit (the one-step
  // problem's selections depend on the data only, not on the taps, so they are the same sums).
  DirectPreconditioner(const NormalEquations& sums, double ridge);
  // g <- N^-1 g, filter by filter (g laid out like the bank's taps).
  void Apply(std::vector<double>& g) const;
  // The number of pixel samples summed into the N_k.
  double samples() const { return samples_; }

 private:
  int n_ = 0;
  double samples_ = 0;
  std::vector<std::shared_ptr<const RidgeCholesky>> factors_;  // empty: not positive definite
};

// The same for flux models, whose filters the divergence couples: (F^T F + lambda I)^-1 with F
// the one-step map from taps to the right-hand side over `data`'s frame pairs (selections held
// at the data's), applied approximately by `iterations` diagonally preconditioned conjugate-
// gradient iterations. lambda = ridge x F^T F's mean diagonal. The least-squares fit of a flux
// model is LeastSquares(): F^+ applied to the pairs' (u_{k+1} - u_k) / dt.
class FluxPreconditioner {
 public:
  FluxPreconditioner(const Model& model, const std::vector<Sequence>& data, double ridge,
                     int iterations);
  void Apply(std::vector<std::vector<double>>& g) const;  // per bank, as the banks' taps
  double samples() const;  // the number of pixel samples (pixels x frame pairs)
  std::vector<std::vector<double>> LeastSquares() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Trains a model of `preset` on `data` (frames from CachedReferenceFrames): thresholds, least
// squares, then unrolled fine-tuning (newton or Adam) with early stopping on a validation split.
// Deterministic for a seed, whatever the thread count.
Model TrainModel(const Preset& preset, const std::vector<Sequence>& data,
                 const TrainOptions& options, TrainReport* report = nullptr);

// ---- Parametric models (blade/model.h ParamAxis): a point model at every knot of a box

// Knots for an axis from lo to hi: `count` values evenly spaced in log (hi = lo: the one value),
// with the interior knot nearest `keep` (the preset's value) moved onto it when it lies strictly
// inside, so that the preset's own point is a knot and the model reproduces it exactly.
std::vector<double> AxisKnots(double lo, double hi, int count, double keep);

// An axis from its text (`blade train --param NAME=SPEC`, `--time SPEC`): "V" (one value: a
// point), "LO:HI" (AxisKnots(LO, HI, count, keep)) or "V1,V2,..." (those knots, ascending).
// Fails with the accepted forms.
ParamAxis ParseAxis(const std::string& name, const std::string& spec, int count, double keep);

// What a training request's axes ask for (`blade train --param/--time`, Python blade.train): a
// box when some axis has several knots, else one point, `at` the preset moved there (PresetAt;
// the preset itself without axes).
struct TrainTarget {
  bool box = false;
  Preset at;
};
TrainTarget ResolveTrainTarget(const Preset& preset, const std::vector<ParamAxis>& axes);

// Trains a point model at every knot of the box (the preset moved there by PresetAt, its
// references computed or read from cache_dir per point, each with `options`) and assembles them
// (MakeParametricModel), its default at the preset's point (clamped into the box). Axis names:
// the preset's parameters and "time". on_knot(k, count, preset at the knot, given) before each
// knot. `given_knots`: point models (of the PDE, with the recipe's form, steps and bank layout)
// that take the place of the knots at their own points instead of being trained, e.g. to keep
// a shipped point model bit for bit at its point; one at no knot of the box is refused.
Model TrainParametricModel(const Preset& preset, const std::vector<ParamAxis>& axes,
                           const std::vector<std::string>& files, const std::string& cache_dir,
                           const TrainOptions& options,
                           const std::function<void(int, int, const Preset&, bool)>& on_knot = {},
                           const std::vector<Model>& given_knots = {});

// The 10-step loss (RolloutLoss) of a parametric model at a point of its box (BlendModelAt) and
// its gradient with respect to every knot's taps: dL/dH_k = phi_k(theta) dL/dh(theta), the
// selection held fixed as in fine-tuning; (*knot_grads)[k][b] is laid out like knot k's bank b.
// Returns +infinity (gradients unset) if a rollout went non-finite.
double ParametricLossGradient(const Model& model, const std::map<std::string, double>& values,
                              const std::vector<Sequence>& data,
                              std::vector<std::vector<std::vector<double>>>* knot_grads);

// ---- Resampling models (blade/resample.h), trained by least squares on shifted observations

struct ResampleTrainOptions {
  int factor = 4;
  double psf_sigma = 0.5;     // LR pixels
  int shifts_per_image = 4;   // random (dx, dy) in [-1/2, 1/2]^2 per training photograph
  SelectionConfig selection;  // thresholds empty = fitted as quantiles
  int footprint = 5;
  int order = 1;  // 1: eq. 5.5; 2, 3: higher monomials of the displacement
  // Relative to the mean diagonal. Small, because the monomial columns differ in scale by
  // orders of magnitude (d^3 <= 1/8): 1e-3 cost the order-3 model 2 dB on Kodak bursts.
  double ridge = 1e-7;
  std::uint64_t seed = 1;
  // Fails with the valid range on a nonsensical option (before any image is read).
  void Validate() const;
};

// Fits a resampling model by least squares. The model is linear in all banks and they share one
// selection (computed from the unshifted frame), so the joint problem separates by filter: per
// filter, the regularised normal equations of [m_1(d) p, ..., m_B(d) p] . [h^1; ...; h^B] =
// target, m_b the monomials (B = 2 for order 1).
Model TrainResampleModel(const std::vector<Image>& hr_images, const ResampleTrainOptions& options);

// ---- Learned upscalers (ModelForm::kUpscale, blade/restore.h UpscaleLearned), trained by least
// squares on low- and high-resolution pairs made from training photographs

struct UpscaleTrainOptions {
  int factor = 2;
  std::string degradation = "area";  // how the training inputs are shrunk (blade/ops.h)
  int footprint = 7;
  // Bins (RAISR's 24 x 3 x 3: 24 x 8 x 3 measured 0.02 to 0.03 dB better on held-out
  // photographs for 2.7 times the file); thresholds empty = fitted as quantiles of each stage's
  // inputs' features.
  SelectionConfig selection = DefaultUpscaleSelection();
  // Dihedral copies of each training image (1, 2, 4 or 8: Dihedral's first ones, the quarter
  // turns then their transposes; until 2026-12-07 2 and 4 were the mirrors): a filter per phase
  // sees 8 times the edges for the same photographs.
  int augment = 8;
  // Stages, each trained on the output of those before it (greedy): u <- BP(u + BLADE_s(u)).
  int stages = 1;
  int back_projections = 1;  // stored in the model; applied after each stage's filtering
  double ridge = 1e-3;       // relative to the mean diagonal
  long min_samples = 0;      // fewer samples: the pooled fit; 0 = 4 x taps
  // Fails with the valid range on a nonsensical option (before any image is read).
  void Validate() const;
  static SelectionConfig DefaultUpscaleSelection();
};

// The recipe of the shipped upscalers (models/README.md), chosen on held-out photographs
// (docs/RESULTS.md): 7x7 taps, 24 x 3 x 3 bins, 8 dihedral copies, one back-projection per
// stage; x2: 3 stages, rho 1; larger factors: 2 stages (a third gained 0.02 dB), rho 2 (the
// structure of a 4x-blurred start is coarser; +0.06 dB).
UpscaleTrainOptions RecommendedUpscaleTrainOptions(int factor, const std::string& degradation);

// Fits a learned upscaler, stage by stage: each high-resolution luma image (cropped to a multiple
// of the factor) is degraded, interpolated by Lanczos-3 and passed through the stages trained so
// far (u); every pixel at least a footprint radius from the border contributes its patch of u
// against the residual hr - u to the normal equations of its filter (UpscaleFilterIndices); each
// filter's regularised system is solved (filters with too few samples get the pooled fit).
// Deterministic, whatever the thread count.
Model TrainUpscaleModel(const std::vector<Image>& hr_images, const UpscaleTrainOptions& options);

// ---- The learned upscalers' refiner (blade/convnet.h, UpscaleSpec::refiner), trained by Adam
// on patches of the upscaler's own output (its stages fixed)

// The defaults are the shipped refiners' recipe (docs/RESULTS.md has the alternatives tried).
struct RefinerTrainOptions {
  int width = 32;     // hidden channels
  int layers = 4;     // 3x3 convolutions (the receptive field is 2 layers + 1 input pixels wide)
  int steps = 20000;  // the shipped recipe (6 to 10 minutes on 2 cores)
  int batch = 16;
  int patch = 24;  // low-resolution patch side (the pixels scored)
  // Low-resolution pixels of the image around each patch that the net reads but the loss does
  // not score (where the image has them). 0: each patch padded at its own edges (the shipped
  // refiners); -1: the net's depth, so every scored pixel sees what it sees in a whole image and
  // only the image's own borders are replicated (docs/DESIGN.md §23).
  int context = 0;
  // The hidden layers' initial weights: false, PyTorch's default for a convolution (uniform in
  // +-1/sqrt(fan in), biases too; the shipped refiners); true, He's for ReLU networks (normal,
  // deviation sqrt(2 / fan in), biases zero), which keeps the signal's size through the layers
  // (a deeper net, and one with context, did not get going without it). The last layer starts at
  // zero either way.
  bool he_init = false;
  double learning_rate = 1e-3;  // Adam's, decayed towards 0 along a half cosine
  std::uint64_t seed = 1;       // initial weights and the patches drawn
  // Fails with the valid range on a nonsensical option (before any image is read).
  void Validate() const;
};

// One training sample: a low-resolution patch f, the upscaler's output u on it (factor times
// larger) and the original hr (u's size), all gray; `scored` (f's size), when not empty, marks
// with a non-zero value the low-resolution pixels whose factor x factor outputs the loss counts.
struct RefinerSample {
  Image f, u, hr, scored;
};

// The training sample of the low-resolution patch [x, x + patch) x [y, y + patch) of f (u and hr
// its upscale and original, `factor` times larger): cut with `context` more pixels on each side
// where f has them, scored on the patch only (no mask when context is 0), then transformed by
// Dihedral(., transform) (blade/image.h).
RefinerSample CutRefinerSample(const Image& f, const Image& u, const Image& hr, int factor, int x,
                               int y, int patch, int context, int transform);

// The loss of `net` on `samples`, mean over their scored pixels of (u + DepthToSpace(net(
// RefinerInput)) - hr)^2, and its gradient with respect to every weight and bias into *gradient
// (the net's shape). Each sample's patch has the image border's replicate padding
// (blade/convnet.h).
double RefinerLossGradient(const ConvNet& net, const std::vector<RefinerSample>& samples,
                           int factor, ConvNet* gradient);

// Fails unless `upscaler` is a learned upscaler without a refiner (checked before any image is
// read).
void RequireRefinable(const Model& upscaler);

// Adds a refiner to the learned upscaler `upscaler` (which must have none), trained on the
// high-resolution luma images (cropped to a multiple of the factor): each is degraded and
// upscaled by the model's stages; each step draws `batch` patches at random positions, images
// and dihedral transforms. The last layer starts at zero, so the refined upscaler starts as the
// unrefined one. on_progress(step, steps, running loss) every 100 steps. Deterministic for a
// seed, whatever the thread count.
Model TrainUpscaleRefiner(const Model& upscaler, const std::vector<Image>& hr_images,
                          const RefinerTrainOptions& options,
                          const std::function<void(int, int, double)>& on_progress = {});

// ---- Learned denoisers (ModelForm::kDenoise, blade/restore.h DenoiseLearned), trained by least
// squares on training photographs with added Gaussian noise

struct DenoiseTrainOptions {
  // Noise levels (0-255 units, ascending), one set of stages each; a level between two is
  // blended from them when the model runs.
  std::vector<double> sigmas = {2, 5, 10, 20, 30, 50, 75, 100};
  int channels = 1;  // 1: trained on (and for) luma; 3: on color photographs
  int footprint = 9;
  // Bins (24 x 3 x 3); thresholds fitted as quantiles of each stage's inputs. rho 0 (the
  // default): each level its own, DenoiseSelectionRho(sigma).
  SelectionConfig selection = DefaultDenoiseSelection();
  int augment = 8;  // dihedral copies of each photograph (1, 2, 4 or 8), each with its own noise
  int stages = 2;
  // Project every stage's filters to zero sum when done (ProjectFiltersToZeroSum): a flat
  // image then stays flat, as denoising it should leave it (the shipped ones: +0.0013 and
  // +0.0024 on a flat 0.5 at sigma 20 before).
  bool zero_sum = true;
  double ridge = 1e-3;   // relative to the mean diagonal
  long min_samples = 0;  // fewer samples: the pooled fit; 0 = 4 x taps
  // Of the noise: the same seed gives the same model with the same standard library
  // (std::normal_distribution's algorithm is the library's; libstdc++ here).
  std::uint32_t seed = 1;
  // Fails with the valid range on a nonsensical option (before any image is read).
  void Validate() const;
  static SelectionConfig DefaultDenoiseSelection();  // 24 x 3 x 3, rho 0
};
// The structure-tensor scale of the selection at noise level sigma255 when the options leave
// it at 0: 1 + sigma / 10 within [1.5, 3] (noisier images need a wider average for a stable
// orientation; the probe in docs/RESULTS.md measured rho 2 best at sigma 10, 3 at 20 and 30).
double DenoiseSelectionRho(double sigma255);

// The noisy copy TrainDenoiseModel trains level `level` on for image `image`'s dihedral copy
// `transform` (clean, already transformed): Gaussian noise of sigmas[level] seeded by (seed,
// sigma, image, transform), clipped to [0, 1]. Public so that tests can rebuild the training
// problem.
Image DenoiseTrainingInput(const Image& clean, const DenoiseTrainOptions& options, int level,
                           int image, int transform);

// Fits a learned denoiser, level by level and stage by stage: each clean photograph (gray
// for channels 1, RGB for 3; at least 2 x footprint on a side) and its dihedral copies get
// Gaussian noise of the level (seeded, clipped to [0, 1] as an image file would be) and pass
// through the stages trained so far (u); every pixel at least a footprint radius from the border
// contributes its patch of u against the residual clean - u to the normal equations of its
// filter (selection on u, luma for color; a color image's channels add to the same filter);
// each filter's regularised system is solved (filters with too few samples get the pooled fit).
// Deterministic, whatever the thread count.
Model TrainDenoiseModel(const std::vector<Image>& clean_images, const DenoiseTrainOptions& options);

// ---- The monotone constraint (blade/monotone.h) in training
// Euclidean projection of one filter's off-centre taps onto {x >= 0, sum x <= cap}, then the
// centre set to -sum x. `taps` is size x size, row-major; cap = 1 / dt.
void ProjectMonotoneFilter(float* taps, int size, double cap);
// Projects every filter of a direct model (and marks it constraint "monotone").
void ProjectMonotone(Model& model);

// Constrained least squares of the one-step problem for a direct model: per filter, minimise
// || sum_j x_j (p_j - p_0) - d ||^2 + ridge || x ||^2 over x >= 0, sum x <= 1 / dt (the
// monotone set) by accelerated projected gradient (FISTA) on the normal equations, from the
// summed normal equations of the unconstrained problem. Returns filters with no samples.
int SolveMonotoneLeastSquares(Model& model, const NormalEquations& sums, double ridge);

}  // namespace blade
