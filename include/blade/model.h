// BLADE models (direct and flux forms), the Euler and midpoint steppers with backward passes, and
// the model file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "blade/convnet.h"
#include "blade/filter.h"
#include "blade/image.h"
#include "blade/pde.h"  // kMaxSteps
#include "blade/selection.h"

namespace blade {

// direct: BLADE(u) estimates du/dt (eq. 2.6).
// flux:   two banks estimate the face fluxes G^x_{m+1/2,n}, G^y_{m,n+1/2} (eq. 3.14–3.15) and
//         du/dt is their divergence with zero flux through the border (eq. 3.16): mass is
//         conserved exactly.
// resample: two banks BLADE^x, BLADE^y for fractional displacements (paper §5).
// upscale:  one bank per stage (1..4), each applied once, from the Lanczos-3 interpolation of a
//           low-resolution image: u <- u + BLADE(u), each pixel's filter chosen by u's
//           selection index and the pixel's phase on the high-resolution grid (RAISR, the
//           paper's reference [21]), then back-projected onto the data (blade/restore.h,
//           UpscaleLearned).
// denoise:  a learned denoiser: for each noise level it was trained at (DenoiseSpec), a few
//           stages u <- u + BLADE(u) from the noisy image, each applied once (blade/restore.h,
//           DenoiseLearned).
enum class ModelForm { kDirect, kFlux, kResample, kUpscale, kDenoise };
std::string FormName(ModelForm form);
ModelForm ParseForm(const std::string& name);

enum class Integrator { kEuler, kMidpoint };
std::string IntegratorName(Integrator integrator);
Integrator ParseIntegrator(const std::string& name);

// none, or monotone: every filter in the monotone set (blade/monotone.h), so the model obeys the
// discrete maximum principle; checked whenever such a model is loaded or validated.
enum class Constraint { kNone, kMonotone };
std::string ConstraintName(Constraint constraint);
Constraint ParseConstraint(const std::string& name);

// What a learned upscaler (ModelForm::kUpscale) was trained for: the factor F, the degradation
// that made its low-resolution inputs (a Degradation spec, blade/ops.h) and the number of
// back-projections after the filtering. Its bank holds F^2 filters per selection index: filter
// index = selection index x F^2 + (y mod F) F + (x mod F) for high-resolution pixel (x, y).
// Optionally a refiner (empty: none), a small network on the low-resolution grid applied after
// the stages (blade/restore.h UpscaleRefine, blade/convnet.h): 1 + F^2 planes in (f and the
// space-to-depth of u, each less 0.5), F^2 out (added to u by depth-to-space).
struct UpscaleSpec {
  int factor = 0;
  std::string degradation;
  int back_projections = 0;
  ConvNet refiner;
};

// What a learned denoiser (ModelForm::kDenoise) was trained for: Gaussian noise of standard
// deviation `sigmas` (0-255 units, ascending; the knots a level between them is blended from),
// on gray (channels 1) or color (3) images, `stages` banks per level. Bank k * stages + s is
// stage s of level k.
// Noise levels run from just above 0 to kMaxDenoiseSigma (0-255 units), for every denoiser.
inline constexpr double kMaxDenoiseSigma = 100;
struct DenoiseSpec {
  std::vector<double> sigmas;
  int stages = 0;
  int channels = 1;
};

// One selection rule and its filter bank.
struct Bank {
  SelectionConfig selection;
  FilterBank filters;
};

// ---- Parametric models (issue 25): one model over a box of PDE parameters and stopping times.
// Each axis is a PDE parameter (the presets' names: eps; c; alpha, C, sigma, rho; gamma) or
// "time", with ascending positive knots. The model holds a point model's banks at every knot of
// the tensor-product grid (a KnotModel), and its banks at a point theta are the blend
//   h(theta) = sum_k phi_k(theta) H_k,
// phi_k the tensor product of piecewise-linear hat functions in the log of each axis (every
// parameter here is scale-like and positive). The selection thresholds blend the same way, so a
// knot's selection and filters are exactly its own at the knot, and the per-pixel cost of a
// step does not change: the bank is blended once, before the first step (BlendModelAt).
struct ParamAxis {
  std::string name;  // a PDE parameter, or "time"
  std::vector<double> knots;
};
struct KnotModel {
  std::vector<Bank> banks;  // as Model::banks
  double dt = 0;            // the knot's step (its time / the model's steps)
  int safe_steps = -1;      // its stability horizon (Model::safe_steps)
  float safe_range[2] = {0, 0};
};

struct Model {
  static constexpr int kFormatVersion = 1;
  ModelForm form = ModelForm::kDirect;
  std::vector<Bank> banks;  // direct: 1 (2 with a scheme term); flux and resample: 2 (x, y);
                            // upscale: its stages; denoise: its levels' stages
  double dt = 0;            // the time step it was trained with
  int steps = 10;           // steps to the preset's stopping time
  Integrator integrator = Integrator::kEuler;
  Constraint constraint = Constraint::kNone;
  // Direct form only: the step also filters the classical scheme's right-hand side F(u) on the
  // model's grid (blade/pde.h ClassicalRhs, at the model's pde and pde_params):
  //   du/dt = BLADE_0(u) + BLADE_1(F(u)),
  // banks[1] a small bank (3x3) selected by the same rule as banks[0]. The learned filters then
  // correct the coarse-grid scheme instead of standing in for its nonlinearity (TV flow's
  // 1/|grad u|, Perona-Malik's g, Cahn-Hilliard's cubic), which a filter linear in u per bin can
  // only approximate (docs/RESULTS.md, issue 26). TV flow, Perona-Malik and Cahn-Hilliard.
  bool scheme_term = false;
  // Stability horizon, measured when the model was trained (MeasureStability): runs of up to
  // safe_steps steps stayed finite and inside safe_range on held-out images. -1 = not
  // measured. `blade run` refuses longer runs unless told otherwise.
  int safe_steps = -1;
  float safe_range[2] = {0, 0};
  std::string pde, preset;  // what it approximates
  std::map<std::string, double> pde_params;
  std::map<std::string, std::string> provenance;  // data, loss, date, revision, command, ...
  UpscaleSpec upscale;                            // upscale form only
  DenoiseSpec denoise;                            // denoise form only
  // Parametric models only (empty otherwise): the box's axes and the knots' models, the first
  // axis varying slowest. `banks`, `dt`, `pde_params`, `safe_steps` and `safe_range` then hold
  // the blend at the model's default point (its pde_params and steps x dt), which lies inside
  // the box.
  std::vector<ParamAxis> axes;
  std::vector<KnotModel> knots;

  bool parametric() const { return !axes.empty(); }
  // The parametric part of Validate: axes, knot count and shapes, default inside the box.
  void ValidateBox() const;
  // Fails with a clear message on any inconsistency (bank count for the form, sizes, finite
  // values, positive dt, known constraint).
  void Validate() const;
};

// A model with `form`, default selection (24 x 3 x 3, thresholds given) and zero filters;
// scheme_footprint > 0 (direct form) adds the scheme term's bank with filters of that size.
Model MakeEmptyModel(ModelForm form, const SelectionConfig& selection, int footprint,
                     int scheme_footprint = 0);

// ---- Level invariance. TV flow, Perona-Malik and CED commute with adding a constant c to u
// (u + c evolves as u, plus c) and keep constants. A direct or flux model whose selection has no
// intensity bins selects the same filters for u + c, so it does too exactly when every filter
// acting on u (direct: banks[0]; flux: both banks) sums to zero; a nonzero sum s moves a flat
// region by dt s c per step, and in flux form drives a flux of s c through the image's borders.
// With intensity bins (Cahn-Hilliard's presets) the sums carry the PDE's nonlinearity between
// the bins, and projecting them away costs 4 dB on kodak4x (docs/RESULTS.md).
// A learned denoiser's stages (u += BLADE(u)) are the same: denoising commutes with adding a
// constant.
// Whether the model's filters may be projected: direct, flux or denoise form, no intensity bins,
// and (PDE models) a PDE that commutes with adding a constant (CommutesWithAddingConstant).
bool SelectionIgnoresLevel(const Model& model);
// The largest |sum of taps| over the filters acting on u, every knot included (0 when the
// model keeps constants exactly).
double LargestFilterSum(const Model& model);
// Subtracts from each filter acting on u its mean tap (the nearest zero-sum taps in least
// squares; a denoiser's every stage), at the model's point and every knot. Fails where
// SelectionIgnoresLevel is false. Clears the stability horizon (safe_steps, every knot's), which
// was measured for the old filters, keeping the range it was held to. Monotone models are left
// as they are (their centre tap already balances the others).
void ProjectFiltersToZeroSum(Model& model);

// The scheme term's input F(u) of a model with one (Model::scheme_term).
Image SchemeInput(const Model& model, const Image& u);

// The selections a model needs for state u (one per bank; a color u's from its luma, or its
// joint tensor).
std::vector<std::vector<std::int32_t>> ComputeSelections(const Model& model, const Image& u);

// Whether a color image runs channel by channel, each channel selecting its own filters as a
// gray image would: for a direct or flux model of a PDE that evolves each channel on its own
// (TV flow, Perona-Malik, Cahn-Hilliard: !CouplesChannels) whose selection is not joint. The
// shipped PDE models were trained on gray images, and on color photographs selecting on luma
// instead (the paper's rule for color) scored 0.2 (TV) to 1.6 dB (PM) lower against their
// per-channel references and made Cahn-Hilliard's intensity-binned models diverge
// (docs/RESULTS.md, "Color photographs"). A CED model selects on luma: CED's scheme couples the
// channels. Denoising keeps luma (RunOptions::luma_selection).
bool RunsChannelByChannel(const Model& model);

// du/dt estimate BLADE(u) of a direct or flux model, with selections computed from u (channel by
// channel where RunsChannelByChannel) or given (ComputeSelections': one for all channels).
Image EvaluateRhs(const Model& model, const Image& u);
Image EvaluateRhs(const Model& model, const Image& u,
                  const std::vector<std::vector<std::int32_t>>& selections);
// Backward of EvaluateRhs for fixed selections: given dL/drhs, accumulates dL/dtaps per bank
// (dtaps[b] has banks[b].filters.taps.size() entries) and returns dL/du.
Image EvaluateRhsBackward(const Model& model, const Image& u,
                          const std::vector<std::vector<std::int32_t>>& selections,
                          const Image& drhs, std::vector<std::vector<double>>& dtaps);

// An extra right-hand-side term (paper §2.4): add(u, scale, out) adds scale times its value at
// u into out (a right-hand side, scale 1, or straight into an explicit step's update, scale dt,
// so that a run needs no whole-image right-hand side); add_vjp(u, g, gu) adds
// (d term / du)^T g into gu (needed only for backward passes).
struct ExtraTerm {
  std::function<void(const Image& u, float scale, Image& out)> add;
  std::function<void(const Image& u, const Image& g, Image& gu)> add_vjp;
};

// The longest run RunModel takes (the command line's --steps has the same bound as solve's).
inline constexpr int kMaxRunSteps = kMaxSteps;

struct RunOptions {
  int steps = 0;  // 0: the model's steps, or with dt alone the fewest that reach its time
  double dt = 0;  // 0: the model's dt; alone, rounded down to land on the model's time
  std::optional<Integrator> integrator;  // unset: the model's integrator
  // A step larger than the model's dt, or a run to a later time (steps x dt) than its measured
  // stability horizon (Model::safe_steps x Model::dt), is refused (ResolveRun) unless this is set.
  bool unsafe = false;
  // A color image selects every channel's filters on luma even where the model would run it
  // channel by channel (RunsChannelByChannel): denoising, where luma carries about 0.67 of the
  // channels' noise and each noisy channel picks worse filters (the TV rule at sigma 30 on the
  // color selection set: 28.12 dB on luma, 26.97 channel by channel).
  bool luma_selection = false;
  std::vector<ExtraTerm> extra_terms;
  std::function<void(int, const Image&)> on_frame;  // after each step (k = 1..steps), and k = 0
  std::function<void(int, int)> on_progress;
};

// The fewest whole steps of at most dt that reach `time` (> 0): how the library turns a time
// into a run of a model trained with step dt (ResolveRun refuses larger steps).
int ModelStepsFor(double time, double dt);

// A run's steps, step size and integrator once the model's defaults are filled in. Fails on
// nonsensical options and, unless options.unsafe, on a step larger than the model's dt and,
// naming the horizon, on a run to a later time than the model was measured stable to
// (Model::safe_steps steps of Model::dt; unmeasured models, and monotone ones run by Euler
// without extra terms, pass). RunModel calls it; front ends call it to fail before reading their
// input.
struct ResolvedRun {
  int steps = 0;
  double dt = 0;
  Integrator integrator = Integrator::kEuler;
};
ResolvedRun ResolveRun(const Model& model, const RunOptions& options);

// Runs the model from u0: u <- u + dt (BLADE(u) + extra(u)) (Euler, eq. 2.6) or the explicit
// midpoint rule (eq. 2.7). Color input: channel by channel where RunsChannelByChannel (the
// extra terms still see the whole image), else selection on luma (or joint), each channel
// filtered.
// Throws DivergedError (blade/error.h) naming the step if the state becomes non-finite, and
// refuses larger steps than dt and runs past the stability horizon unless options.unsafe
// (ResolveRun). The run holds
// the state and one more image (two for the midpoint rule); pass std::move(u0) when the input
// is no longer needed, and it becomes the state instead of being copied.
Image RunModel(const Model& model, Image&& u0, const RunOptions& options);
Image RunModel(const Model& model, const Image& u0, const RunOptions& options);

// ---- Running a model at another point of its PDE's parameters and stopping time, through the
// PDE's exact symmetries (no retraining; issue 25's first part). With v = s u:
//   Perona-Malik: g depends on |grad u| / c, so PM(c) u = PM(c0)(s u) / s with s = c0 / c;
//   CED: exp(-C / (l1 - l2)^2) with l ~ |grad u|^2, so CED(C) u = CED(C0)(s u) / s with
//        s = (C0 / C)^(1/4);
//   TV flow: TV(eps, T) u = TV(eps0, s T)(s u) / s with s = eps0 / eps (time scales too).
// Cahn-Hilliard has none (gamma is a squared length; the grid is fixed). The other parameters
// (CED's alpha, sigma, rho) must equal the model's.
struct ModelPoint {
  std::map<std::string, double> params;  // names as the presets' (eps; c; C; ...); unset: model's
  double time = 0;                       // the stopping time; 0: the model's (steps x dt)
};
// The intensity scale is kept within [1/3, 3] for PM and TV and [1/1.8, 1.8] for CED (C from
// C0 / 10.5 to 10.5 C0): farther, a model sees contrasts unlike its training photographs'
// (docs/RESULTS.md measures the range).
struct PointPlan {
  double scale = 1;  // the input is multiplied by it before the run, the output divided
  int steps = 0;     // the run: steps of dt to the (scaled) stopping time
  double dt = 0;
  // A parametric model's blend at the point (what runs), or null: the model itself.
  std::shared_ptr<const Model> blended;
};
// Fails naming what is possible on an unknown parameter, one without a symmetry, a scale
// outside the range above, or a nonsensical time. Steps: the model's dt rounded to a whole
// number of steps (dt adjusted to land on the time).
// A parametric model first blends its banks at the point's values of its axes (BlendModelAt;
// a value outside the box is refused with the box); "time" as an axis runs the model's steps
// with dt = time / steps. Parameters that are not axes move by the symmetries as above. A
// symmetry also widens the axis it moves: a point outside the box runs as the box's point
// that the scale s moves to it, on s u (PM: c as s c; TV: (eps, T) as (s eps, s T)), s as near
// 1 as the box allows and within the limits above; beyond that it is refused, stating the box.
PointPlan PlanModelPoint(const Model& model, const ModelPoint& point);
// What a model covers through the symmetries: for each parameter that moves, its range, and
// "time": from one step to the stability horizon (safe_steps x dt; the model's own time when
// the horizon was not measured), at the model's own parameters (TV's time scales with
// eps0 / eps). A parametric model covers its box: each axis's knot range, "time" included
// (plus the symmetric parameters that are not axes), a symmetric axis as far as its symmetry
// reaches (for TV flow, eps and time each at the other's default). For `blade info` and
// Model.covers.
std::map<std::string, std::pair<double, double>> CoveredRanges(const Model& model);
// A warning for a run by steps (`blade run --steps`, Python Model.run(steps=)) of a parametric
// model past the times it covers (CoveredRanges' "time"): stable there, perhaps, but never
// measured for accuracy (ch.blade, trained to T = 8, run 175 steps to T = 70: 12.1 dB against
// the classical scheme's 15.6). Empty when the run ends inside; point models are held to their
// stability horizon instead (ResolveRun).
std::string RunPastCoverageWarning(const Model& model, const ResolvedRun& run);
// The stopping times a parametric model with a time axis runs at `params` (other axes at their
// defaults): the axis's range, widened for TV flow by its symmetry as PlanModelPoint does.
std::pair<double, double> ReachableTimes(const Model& model,
                                         const std::map<std::string, double>& params);
// A PDE model as an application (restore, deconv, denoise, segment, upscale eq. 4.6) uses it at
// PDE parameters `params` (`--param`, the applications' pass-through): a parametric model's
// blend there (its default stopping time; the application chooses its own steps); a point
// model at its own values only. Fails naming the box or the model's values; "time" is refused
// (not a parameter of an application's regulariser).
Model ModelAtParams(const Model& model, const std::map<std::string, double>& params);
// A parametric model's point model at `values` (its axes' names -> values; an axis not named
// takes the model's default): banks, thresholds, dt (time axis: time / steps) and the stability
// horizon (the least of the contributing knots') blended, pde_params set, no axes. Fails on a
// name that is not an axis and, stating the box, on a value outside it.
Model BlendModelAt(const Model& model, const std::map<std::string, double>& values);
// The basis weights phi_k(theta) at `values` (as BlendModelAt), as (knot index, weight) pairs
// with non-zero weight; they sum to 1.
std::vector<std::pair<int, double>> BasisWeights(const Model& model,
                                                 const std::map<std::string, double>& values);
// Whether two banks can be blended position by position: the same filter size and count,
// selection bins and color mode (the thresholds, the selection's scale and the taps may differ;
// BlendModelAt blends them). Empty string if so, else what differs, e.g. "5x5 filters,
// 24x8x3x1 bins against 7x7, ...".
std::string BankLayoutDifference(const Bank& a, const Bank& b);
// A parametric model assembled from point models trained at every knot of `axes` (the first
// axis varying slowest), with its default at `default_values` (inside the box). The point
// models must agree in form, PDE, bank shapes, selection bins and steps; their parameters must
// sit at their knots.
Model MakeParametricModel(const std::vector<ParamAxis>& axes, const std::vector<Model>& knot_models,
                          const std::map<std::string, double>& default_values);
// RunModel at the point (options.steps and options.dt are set from the plan; the stability
// horizon check still applies, to the planned run).
Image RunModelAt(const Model& model, const Image& u0, const ModelPoint& point, RunOptions options);

// An unrolled run that keeps what the backward pass needs (every state and its selections).
class Rollout {
 public:
  // Runs `steps` steps from u0. With `fixed` selections (from an earlier rollout), those are
  // reused instead of recomputed (the state of the selection is held fixed, as in eq. 2.9).
  Rollout(const Model& model, const Image& u0, int steps, double dt, Integrator integrator,
          std::vector<ExtraTerm> extra_terms = {});
  Rollout(const Model& model, const Image& u0, int steps, double dt, Integrator integrator,
          const Rollout& fixed);

  const std::vector<Image>& states() const { return states_; }  // u_0 .. u_steps
  // Given dL/du_k for k = 1..steps (grads[k - 1]; empty images count as zero), returns dL/du_0
  // and adds dL/dtaps per bank into dtaps.
  Image Backward(const std::vector<Image>& grads, std::vector<std::vector<double>>& dtaps) const;

 private:
  void Run(const Image& u0, const Rollout* fixed);

  const Model& model_;
  int steps_;
  double dt_;
  Integrator integrator_;
  std::vector<ExtraTerm> extra_;
  std::vector<Image> states_, half_states_;  // half states: midpoint only
  std::vector<std::vector<std::vector<std::int32_t>>> sel_, half_sel_;
};

// How long a model stays well-behaved: each start is run for up to max_steps steps (Euler or
// midpoint, the model's dt); a run fails at the first step whose state is non-finite or
// leaves [lo, hi]. Returns the largest step count at which no run had failed, and the
// value range seen up to then, the starts included (so never empty, even at 0 steps).
// The value range a run is held to: the model's measured one (Model::safe_range) where it has
// a horizon, else kDefaultStabilityRange (a little room around [0, 1] for an edge's overshoot).
inline constexpr float kDefaultStabilityRange[2] = {-0.1f, 1.1f};
std::pair<float, float> StabilityRange(const Model& model);
// A warning when a run from an input inside the range the model's stability is measured
// against (`input_range`: its min and max) ends outside it: by the model's own test the run has
// become unstable on this image, even inside its horizon, which was measured on other images
// (ch.blade, 175 steps on a 512x512 photograph: values up to 6090, finite, written clipped
// without a word). Empty otherwise (an input already outside gets its own warning).
std::string LeftStableRangeWarning(const Model& model, std::pair<float, float> input_range,
                                   const Image& result);
struct Stability {
  int safe_steps = 0;
  float min = 0, max = 0;  // the range seen up to safe_steps (the starts included)
  // The run that failed first (-1: none): its start's index and the range of its failing state
  // (NaN where it became non-finite), which the range above leaves out.
  int failed_start = -1;
  float failed_min = 0, failed_max = 0;
};
Stability MeasureStability(const Model& model, const std::vector<const Image*>& starts,
                           int max_steps, float lo, float hi);
// Measures and stores the horizon: a point model's safe_steps and safe_range; a parametric
// model's at every knot (each at its own parameters and step), the default point's then blended
// from them as on loading. Within `range` where given, else each its own stored range (its
// safe_range where one is stored, even with the horizon cleared; else kDefaultStabilityRange).
// Returns the least horizon found.
// Fewer starts than this and a measured horizon is said to be weak (training, `blade stability
// --write`): a TV model stable for 57 steps on its 3 validation photographs left its range at the
// first step on others.
inline constexpr int kFewStabilityStarts = 10;
int StoreMeasuredStability(Model& model, const std::vector<const Image*>& starts, int max_steps,
                           std::optional<std::pair<float, float>> range = std::nullopt);

// Model files: one JSON document (see docs/FORMATS.md). Loading validates everything, and
// refuses a file over kMaxModelBytes (the largest shipped model is 9 MB) without reading it all.
inline constexpr std::size_t kMaxModelBytes = std::size_t(256) << 20;
Model LoadModel(const std::string& path);
Model ParseModel(const std::string& text, const std::string& name);
std::string SerializeModel(const Model& model);
void SaveModel(const Model& model, const std::string& path);  // atomic

}  // namespace blade
