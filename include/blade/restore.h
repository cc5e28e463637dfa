// Restoration with a trained model as regulariser (paper eq. 2.10, 4.1–4.5): linear operators with
// adjoints, deconvolution.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/model.h"
#include "blade/ops.h"

namespace blade {

// A linear degradation operator A as the pair (apply, adjoint), acting on every channel, and
// where the operator discards pixels, the first iterate to start from.
struct LinearOperator {
  std::string name;
  std::function<Image(const Image&)> apply, adjoint;
  // u0 from the observation f (empty: f itself). A diffusion moves information about one pixel
  // per step, so a hole wider than a few pixels is filled before the PDE refines it.
  std::function<Image(const Image&)> start;
  // The result from the last iterate u and f (empty: u itself): where the operator keeps
  // pixels exactly, they are put back (the data term only pulls towards them).
  std::function<Image(Image&&, const Image&)> finish;
  // What the data term compares A u with, from f (empty: f itself, an observation made by A).
  // A mask's f is the image at its known pixels, not a product with A: its data is A f.
  std::function<Image(const Image&)> data;
};

// Gaussian blur with half-sample symmetric borders: self-adjoint (the HS-extended symmetric
// convolution matrix is symmetric; tested).
LinearOperator BlurOperator(double sigma);
// Masking (inpainting), mask values in [0, 1]: how much of each pixel is known (1: all, 0:
// none). A = diag(sqrt(mask)), self-adjoint, and its data A f, so that the data term is
// lambda mask (f - u): each pixel pulled towards f by its known fraction (binary masks: the
// usual diag(mask)). Its start fills the unknown pixels with FillFromKnown, its finish puts the
// known ones back (u <- mask f + (1 - mask) u). Fails when no pixel is known.
LinearOperator MaskOperator(const Image& mask);
// A mask that had an alpha channel (a file's or an array's, `what` naming it) is refused: holes
// painted as transparency are lost when the alpha is dropped, and nothing would be filled.
void RequireMaskWithoutAlpha(bool had_alpha, const std::string& what);
// Push-pull interpolation (Gortler et al., "The Lumigraph", 1996): `weight` (gray, f's size,
// values in [0, 1]) says how much each pixel of f is known. Push: halve the image repeatedly,
// each coarse pixel the weighted mean of its 2x2 block, with weight min(1, the block's weight
// sum). Pull: from the coarsest level up, each pixel becomes w v + (1 - w) (the coarser level,
// bilinearly interpolated at the pixel's centre). Pixels of weight 1 keep f's value; holes get a
// smooth blend of their surroundings, at a cost linear in the pixels. Fails when no weight is
// positive.
Image FillFromKnown(const Image& f, const Image& weight);
// Blur then keep every factor-th sample from index 0 (the Roussos–Maragos lattice); the adjoint
// inserts zeros and blurs. Sizes must be divisible by the factor.
LinearOperator SubsampleOperator(double sigma, int factor);
// Parses restoration's operators, "blur:sigma=S" and "mask:FILE" (white = known pixels); the
// size-changing subsampling is upscaling's (blade/restore.h Upscale).
LinearOperator ParseOperator(const std::string& spec);

// The extra term lambda A^T (f - A u) of eq. 4.1, for RunModel.
ExtraTerm FidelityTerm(const LinearOperator& op, const Image& f, double lambda);

// The applications' defaults (paper §4), shown by both front ends: data weights lambda,
// deconvolution's PSF and upscaling's factor and PSF (in HR pixels).
// Restoration's data weight: kRestoreLambda (below 0, the default) asks for lambda =
// kRestoreDataStep / dt (RestoreLambda), the same pull toward the data per step whatever the
// model's dt (TV's 0.01, PM's and CED's 0.4); 0.7 was chosen on six held-out photographs, where
// every shipped TV, PM and CED model then improves PSNR and SSIM (docs/RESULTS.md; the former
// fixed lambda 1 left TV's data term 40 times weaker than the others' and made photos worse).
inline constexpr double kRestoreLambda = -1, kRestoreDataStep = 0.7;
inline constexpr double kDeconvLambda = 2, kDeconvSigma = 1;
// Upscaling's data weight: kUpscaleLambda (below 0, the default) asks for one exact
// back-projection of the residual per step, lambda = 1 / (dt DegradationGain) (UpscaleLambda),
// chosen on held-out photographs (docs/RESULTS.md); it beats the paper's kPaperUpscaleLambda in
// the paper's own corner:0.4 setting too (8 Kodak images, x2, lambda 139: 27.43 dB against
// 26.09).
inline constexpr double kUpscaleLambda = -1, kPaperUpscaleLambda = 0.35, kUpscalePsfSigma = 0.4;
inline constexpr int kUpscaleFactor = 4;
// What upscaling assumes by default: area averaging, the usual way a photo is shrunk (PIL BOX,
// skimage downscale_local_mean, OpenCV INTER_AREA); eq. 4.7 has the paper's corner lattice.
inline constexpr const char* kUpscaleDegradation = "area";
inline constexpr const char* kProjectedUpscaleDegradation = "corner:0.4";

// The factor and degradation of an upscaling run, from what the caller gave (no factor and an
// empty degradation: not given). A learned upscaler runs only at its own, so what is not given
// is its own; otherwise kUpscaleFactor and kUpscaleDegradation (kProjectedUpscaleDegradation
// with eq. 4.7's projection). `model` null: none chosen yet (the shipped default follows from
// the result). Fails on a factor outside 2..16 (x1 is no upscaling).
struct UpscaleSetting {
  int factor = kUpscaleFactor;
  Degradation degradation;
};
UpscaleSetting ResolveUpscaleSetting(const Model* model, std::optional<int> factor,
                                     const std::string& degradation, bool project);

// What one upscaling call asks for beyond the model (the command line's --project, --fast,
// --lambda, --steps, --dt and --unsafe; Python's arguments of the same names).
// CheckUpscaleRequest checks the combination against the model, one rule for both front ends: a
// learned upscaler takes none of the PDE forms' options, fast needs a learned upscaler, eq. 4.7
// (project) a PDE model and a corner degradation; *note gets one line when fast changes nothing
// (a model without a refiner). A fast run then runs the model with `upscale.refiner` cleared.
struct UpscaleRequest {
  bool project = false, fast = false;
  bool lambda_given = false, steps_given = false, dt_given = false, unsafe = false;
};
void CheckUpscaleRequest(const Model& model, const Degradation& degradation,
                         const UpscaleRequest& request, std::string* note);

struct RestoreOptions {
  double lambda = kRestoreLambda;
  int steps = 10;
  double dt = 0;  // 0: the model's dt
  Integrator integrator = Integrator::kEuler;
  bool unsafe = false;  // run past the model's stability horizon (RunOptions::unsafe)
  // Fails unless 1 <= steps <= 100000 and dt is 0 or positive (a run's own steps: 0 would
  // quietly mean the model's).
  void Validate() const;
};

// Eq. 4.2: u <- u + dt (BLADE(u) + lambda A^T (d - A u)), d = op.data(f) (f itself without), from
// u = op.start(f) (f itself without), then op.finish(u, f) where the operator has one.
Image Restore(const Model& model, const LinearOperator& op, const Image& f,
              const RestoreOptions& options);
// The lambda a restoration run uses: options.lambda, or below 0 kRestoreDataStep / dt for the
// run's dt (options.dt or the model's).
double RestoreLambda(const Model& model, const RestoreOptions& options);

// The largest PSF sigma deconvolution takes: phi's taps reach ceil(3 sigma) pixels, its
// autocorrelation twice that, and the result must fit kMaxFootprint: ceil(3 sigma) <= 3.
inline constexpr double kMaxDeconvolutionSigma = double((kMaxFootprint - 1) / 4) / 3;
// Eq. 4.4: the model's filters minus lambda phi~ * phi, enlarged to the footprint the
// autocorrelation of the sampled Gaussian phi (taps to 3 sigma) needs. Direct models only.
// Fails if the footprint would exceed kMaxFootprint (sigma > kMaxDeconvolutionSigma).
Model AbsorbDeconvolution(const Model& model, double sigma, double lambda);

// Eq. 4.5 with absorbed filters: u <- u + dt (BLADE_deconv(u) + lambda phi~ * f), from u = f.
Image Deconvolve(const Model& model, const Image& f, double sigma, const RestoreOptions& options);
// The same, with the observation moved in as the first state (one image less held).
Image Deconvolve(const Model& model, Image&& f, double sigma, const RestoreOptions& options);

// Upscaling by an integer factor of an image made by `degradation` (the operator A,
// blade/ops.h). With a learned upscaler (ModelForm::kUpscale) it is UpscaleLearned; the model
// must have been trained for this factor and degradation (refused otherwise), and `options`
// are not used. With a PDE model it is eq. 4.6: u0 = Lanczos-3 interpolation of f on the
// degradation's lattice, then u <- u + dt (BLADE(u) + lambda A^T (f - A u)), lambda from
// UpscaleLambda, 10 steps. Paper §4.2 has lambda 0.35 with the degradation corner:0.4.
Image Upscale(const Model& model, const Image& f, int factor, const Degradation& degradation,
              const RestoreOptions& options);
// Eq. 4.6 alone (a direct or flux PDE model).
Image UpscaleRegularised(const Model& model, const Image& f, int factor,
                         const Degradation& degradation, const RestoreOptions& options);
// Learned upscaling (RAISR, the paper's reference [21], with BLADE's selection): u = Lanczos-3
// interpolation of f on the degradation's lattice, back-projected as below (UpscaleStart),
// then per stage (bank) of the model
// (UpscaleStage): u <- u + BLADE(u) with each pixel's filter chosen by u's selection index and
// its phase (UpscaleFilterIndices), then the model's number of back-projections
// u <- u + A^T (f - A u) / |A A^T| (exact for area: A u = f afterwards). Color: selection on
// luma, every channel filtered. With a refiner (UpscaleSpec), UpscaleRefine and the
// back-projections follow the stages.
Image UpscaleLearned(const Model& model, const Image& f);
Image UpscaleStart(const Image& f, int factor, const Degradation& degradation,
                   int back_projections);
void UpscaleStage(const Bank& stage, const Image& f, int factor, const Degradation& degradation,
                  int back_projections, Image& u);
// u <- u + DepthToSpace(net([f; SpaceToDepth(u)] - 0.5)) for each channel of f and u (u of
// f's size times the factor): the refiner's correction (docs/DESIGN.md §23).
void UpscaleRefine(const ConvNet& net, const Image& f, int factor, Image& u);
// The refiner's input planes for one gray f and its upscaled u: f - 0.5, then u's
// space-to-depth - 0.5 (the same for training, blade/train.h TrainUpscaleRefiner).
Planes RefinerInput(const Image& f, const Image& u, int factor);
// The filter of every high-resolution pixel (x, y) of u0: selection index x F^2 +
// (y mod F) F + (x mod F), F = factor (the model file's layout, blade/model.h UpscaleSpec).
std::vector<std::int32_t> UpscaleFilterIndices(const SelectionConfig& selection, int factor,
                                               const Image& u0);
// u <- u + A^T (f - A u) / |A A^T|, `iterations` times (Landweber steps at the largest stable
// size; one is the exact projection onto A u = f for area).
void BackProject(Image& u, const Image& f, int factor, const Degradation& degradation,
                 int iterations);

// The lambda an upscaling run uses: options.lambda, or below 0 the back-projection weight
// 1 / (dt DegradationGain(degradation, factor)) for the run's dt (options.dt or the model's).
double UpscaleLambda(const Model& model, int factor, const Degradation& degradation,
                     const RestoreOptions& options);

// Eq. 4.7 (noise-free upscaling, REFERENCE_SCHEMES.md §6), on the same corner lattice and with
// the same sampled Gaussian PSF phi (psf_sigma HR pixels) as SubsampleOperator, A = down(phi *):
// FourierInterpolate builds u0 with A u0 = f (per axis: half-sample symmetric extension, DFT,
// division by phi's response, zero padding); ProjectToNullSpace is the orthogonal projection
// P0 = I - A^T (A A^T)^-1 A, applied on a grid padded symmetrically by 5 LR pixels;
// UpscaleProjected runs u <- u + dt P0(BLADE(u)) from u0, so every iterate keeps A u = f.
// Exact away from the borders (within the PSF's radius of a border the symmetric extensions of
// the two grids differ).
Image FourierInterpolate(const Image& f, int factor, double psf_sigma);
Image ProjectToNullSpace(const Image& v, int factor, double psf_sigma);
// The degradation must be corner:SIGMA (refused otherwise): the projection is exact for that
// lattice only.
Image UpscaleProjected(const Model& model, const Image& f, int factor,
                       const Degradation& degradation, const RestoreOptions& options);

// Denoising (paper §4 with A = identity; the flow itself removes the noise, so there is no data
// term): the TV model run to a stopping time set from the noise's standard deviation sigma255
// (0-255 units, in (0, 100]) by DenoiseTime, a rule fitted on BSDS500 training photographs
// (scripts/fit_denoise_rule.py), separately for gray and color (a color image's channels share
// one structure tensor, so the same time smooths it more).
// The model runs at its PDE parameters `params` (a parametric model's blend there, as every
// application) in DenoiseSteps: the nearest whole number of steps, each at most its dt (at
// sigma 10, 3 steps in gray, 2 in color).
// Running a parametric model's short-time knots instead (RunModelAt, 10 steps) was measured: +0.2
// dB at gray sigma 10 and none from sigma 20 on training photographs, at 3 times the cost, and
// lower SSIM on held-out ones (docs/RESULTS.md). How the denoising run decides when to stop:
// - kRule: at DenoiseTime(sigma255, channels), the same time for every image of a noise level;
// - kSure: at the step that minimises Stein's unbiased estimate of the mean squared error
//   against the clean image (SURE, in Ramani, Blu and Unser's Monte-Carlo form), which needs
//   only the noisy image f and sigma: mean((u - f)^2) - s^2 + 2 s^2 div/N, s = sigma255 / 255,
//   the divergence b . (u(f + eps b) - u(f)) / eps for one fixed +-1 probe b and
//   eps = kSureProbeScale s: a second run from the perturbed image beside the first. (The
//   Jacobian carried through the steps' filters alone, without the selection's switches, was
//   tried: it underestimates the divergence by a quarter near the optimum and stops early.)
//   Summed only where the image's local mean lies kSureClipMargin sigmas inside [0, 1] (clipped
//   noise is not Gaussian).
//   The runs go on until the estimate has risen for kSurePatience steps past its minimum (at
//   most to kSureMaxTimeFactor times the rule's time) and return the state at the minimum.
//   The runs take the rule's own step (DenoiseSteps), so the search
//   passes through the rule's result. 3 to 4 times the rule's run; it picks a time per image,
//   and on training photographs recovered most of what the best time per image (chosen with the
//   clean image) gains over the rule (docs/RESULTS.md).
enum class DenoiseStop { kRule, kSure };
// "rule" or "sure" (the front ends' spelling); fails on anything else.
DenoiseStop ParseDenoiseStop(const std::string& name);
inline constexpr int kSurePatience = 1;
inline constexpr double kSureProbeScale = 0.05;
inline constexpr double kSureClipMargin = 2.0;
inline constexpr double kSureMaxTimeFactor = 4.0;
struct DenoiseOptions {
  double time = 0;  // kRule: 0 means DenoiseTime(sigma255, channels); kSure: must stay 0
  DenoiseStop stop = DenoiseStop::kRule;
  std::map<std::string, double> params;  // PDE parameters (a parametric model's axes)
  bool unsafe = false;                   // past the stability horizon (RunOptions::unsafe)
};
// Whether the options ask for what only a PDE model's run has (a time, SURE stopping, PDE
// parameters, running past a horizon): a learned denoiser refuses them (DenoiseRun) and the
// default model is then the TV model (DefaultDenoiseModelName). Empty if not, else what.
std::string DenoiseNeedsPdeModel(const DenoiseOptions& options);
// Fails unless 0 < sigma255 <= kMaxDenoiseSigma (0-255 units), printing it in full.
void RequireDenoiseSigma(double sigma255);
// One line when sigma255 is below 1 (below one 8-bit level, where denoising changes almost
// nothing): most likely a fraction of the range, scikit-image's unit (estimate_sigma), given
// where 0-255 units are expected. Empty otherwise.
std::string DenoiseSigmaWarning(double sigma255);
// Fitted for the default model, tv-plain (the TV model without the scheme term), on the 200
// training photographs. tv.blade, with the scheme term, denoises worse at its own refitted rule
// (docs/RESULTS.md, sixth session), so it is not the default.
inline constexpr double kDenoiseGrayTimeScale = 0.00176, kDenoiseGrayTimePower = 1.166;
inline constexpr double kDenoiseColorTimeScale = 0.00208, kDenoiseColorTimePower = 1.029;
// time = scale * sigma255^power, gray (1 channel) or color (3; others are refused). A time given by
// the user (DenoiseOptions::time) is a PDE stopping time and is reached exactly (ModelStepsFor).
double DenoiseTime(double sigma255, int channels);
// A denoising time as a run: the nearest whole number k of steps (at least one), each
// min(dt, time / k), so the run may stop up to half a step early. The time is a fitted amount of
// smoothing, not a PDE's stopping time, and one more, smaller step smooths less than the
// fitted time meant: at color sigma 10 on the 200 training photographs, 3 steps of 0.0074
// gave 32.673 dB where 2 steps of just under dt gave 32.707 (scripts/fit_denoise_rule.py).
// Never a step larger than dt (ResolveRun refuses those).
struct DenoiseStepping {
  int steps = 1;
  double dt = 0;
};
DenoiseStepping DenoiseSteps(double time, double model_dt);
struct DenoiseResult {
  Image image;
  double time = 0;  // the stopping time reached (steps x dt); 0 for a learned denoiser
  int steps = 0;    // a learned denoiser's: its stages per noise level
  double sure = 0;  // kSure: the estimated mean squared error at that step (0-1 units); else 0
};
// With a learned denoiser (ModelForm::kDenoise) it is DenoiseLearned; options other than the
// defaults are refused.
DenoiseResult DenoiseRun(const Model& model, const Image& f, double sigma255,
                         const DenoiseOptions& options = {});
// DenoiseRun(...).image.
Image Denoise(const Model& model, const Image& f, double sigma255,
              const DenoiseOptions& options = {});

// Learned denoising (ModelForm::kDenoise, trained by TrainDenoiseModel): at each noise level the
// model was trained for, its stages u <- u + BLADE_s(u) from u = f, each pixel's filter chosen
// by u's selection index (color: selection on luma, every channel filtered). At a level between
// two of its knots the two results are blended linearly in log sigma (weights from
// DenoiseLevelWeights); a level outside its knots is refused, naming them. A gray model denoises
// each channel of a color image as a gray image; a color model refuses a gray image.
// DenoiseRun calls it for such a model (the rule's time, SURE and PDE parameters do not apply
// and are refused).
Image DenoiseLearned(const Model& model, const Image& f, double sigma255);
// The knots (noise-level indices) and weights, summing to 1, that DenoiseLearned blends at
// sigma255: one knot with weight 1 at a knot, else the two around it.
std::vector<std::pair<int, double>> DenoiseLevelWeights(const Model& model, double sigma255);
// Stage `stage` of noise level `level` (bank level x stages + stage), in place.
void DenoiseStage(const Model& model, int level, int stage, Image& u);

// The noise level denoising runs at when the user does not know it (`blade denoise --sigma
// auto`, Python sigma=None): EstimateNoiseSigma(f) (blade/metrics.h). Fails on an image with no
// measurable noise (under 0.01: constant or noiseless) or more than kMaxDenoiseSigma.
double AutoDenoiseSigma(const Image& f);

// The same restoration formula with the classical reference scheme of `pde` in place of BLADE
// (u <- Step(u, dt) + dt lambda A^T (f - A u)), for comparison at equal steps.
Image RestoreClassical(const std::string& pde, const std::map<std::string, double>& params,
                       const LinearOperator& op, const Image& f, const RestoreOptions& options);

}  // namespace blade
