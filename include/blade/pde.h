// Classical reference solvers for the four image PDEs (REFERENCE_SCHEMES.md §1–4), with grid
// spacing.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "blade/error.h"
#include "blade/image.h"

namespace blade {

enum class Pde { kTv, kPm, kCed, kCh };
inline constexpr Pde kAllPdes[] = {Pde::kTv, Pde::kPm, Pde::kCed, Pde::kCh};

// "tv", "pm", "ced", "ch" <-> Pde. ParsePde fails with the list of known names.
std::string PdeName(Pde pde);
Pde ParsePde(const std::string& name);
// What to add to "'NAME' is not a parameter" when NAME is how users write the stopping time
// ("T", "t"): that it is --time; empty otherwise.
std::string StoppingTimeHint(const std::string& name);
std::string PdeLongName(Pde pde);

// Parameters of every scheme, in operating-grid units: the grid on which a pixel has size
// dx = 1 (the LR grid of the paper). A solver run with dx = 1/4 on a 4x larger image represents
// the same continuous problem (REFERENCE_SCHEMES.md §0), so these values never change with dx.
struct PdeParams {
  double tv_eps = 0.01;      // TV: |grad u|_eps = sqrt(eps^2 + |grad u|^2)
  double pm_c = 0.1;         // Perona–Malik contrast c in g(s) = 1 / (1 + s / c^2)
  double ced_alpha = 0.001;  // CED: smallest diffusivity
  double ced_c = 2.4e-10;    // CED: contrast C in exp(-C / (lambda1 - lambda2)^2)
  double ced_sigma = 0.5;    // CED: pre-smoothing (noise) scale
  double ced_rho = 4.0;      // CED: structure-tensor integration scale
  double ch_gamma = 0.25;    // Cahn–Hilliard interface parameter
  bool ch_split = false;     // Cahn–Hilliard: convexity splitting (unconditionally stable)
  double ch_c1 = 2.0;        // Cahn–Hilliard: splitting constant, >= max W'' / 2

  // Sets a parameter by its command-line key for `pde` (tv: eps; pm: c; ced: alpha, C, sigma,
  // rho; ch: gamma, split, c1). Fails on an unknown key or an invalid (negative, non-finite)
  // value, naming the valid keys.
  void Set(Pde pde, const std::string& key, double value);
  // Key/value pairs that apply to `pde`, for reports and model provenance.
  std::map<std::string, double> ToMap(Pde pde) const;
  // Fails if any parameter used by `pde` is out of range.
  void Validate(Pde pde) const;
};

// `base` with the parameters given by key (PdeParams::Set each), refusing a combination that
// would ignore one: Cahn-Hilliard's c1 is the splitting constant, used only with split = 1.
// The front ends' --param / params= go through it.
PdeParams PdeParamsWith(Pde pde, const PdeParams& base, const std::map<std::string, double>& given);

// One explicit (or semi-implicit) time step of a scheme at grid spacing dx, on every channel.
class PdeSolver {
 public:
  virtual ~PdeSolver() = default;
  // Largest step for which the scheme is stable at spacing dx (may be +infinity).
  virtual double MaxStableDt(double dx) const = 0;
  // The step used when none is given: the largest step with a safety margin where the hard
  // limit is only a linear (L2) bound — CED (WS stencil has no maximum principle) and
  // Cahn–Hilliard (the state overshoots [0, 1], raising W''). Equals MaxStableDt otherwise.
  virtual double DefaultDt(double dx) const { return MaxStableDt(dx); }
  // Advances u by dt in place.
  virtual void Step(Image& u, double dt, double dx) = 0;
  // Advances u by `steps` steps of dt in place: the same result as calling Step that many
  // times. Schemes with short steps (TV flow, Perona–Malik) keep one team of threads across
  // the steps instead of starting and joining threads for each.
  virtual void Steps(Image& u, double dt, double dx, int steps) {
    for (int k = 0; k < steps; ++k) Step(u, dt, dx);
  }
};

std::unique_ptr<PdeSolver> MakeSolver(Pde pde, const PdeParams& params);

// The scheme's right-hand side F(u) on a grid of spacing dx, per channel, for the schemes that
// have an explicit one: TV flow and Perona-Malik (their Step is exactly u + dt F(u)) and
// Cahn-Hilliard (F = Lap(W'(u) - gamma Lap u), the 5-point Neumann Laplacian that its DCT scheme
// diagonalises). CED has none here (fails). A BLADE model with a scheme term (blade/model.h)
// filters it as a second input. ClassicalRhsVjp returns (dF/du)^T g: F is differentiable
// except on the measure-zero set where TV's minmod switches.
bool HasClassicalRhs(Pde pde);
// Whether u + c evolves as u, plus c (TV flow, Perona-Malik, CED): their models may keep that
// exactly with zero-sum filters (blade/model.h ProjectFiltersToZeroSum). Cahn-Hilliard does not:
// its double well W(u) fixes the levels 0 and 1.
bool CommutesWithAddingConstant(Pde pde);
// Whether the scheme couples a color image's channels: CED (one structure tensor, the
// channels' outer products summed, REFERENCE_SCHEMES §3). TV flow, Perona-Malik and
// Cahn-Hilliard evolve each channel on its own.
bool CouplesChannels(Pde pde);
Image ClassicalRhs(Pde pde, const PdeParams& params, const Image& u, double dx = 1.0);
Image ClassicalRhsVjp(Pde pde, const PdeParams& params, const Image& u, const Image& g,
                      double dx = 1.0);

// The most steps a run takes when they are given (Solve's `steps`, RunModel's, the CLI's --steps).
inline constexpr int kMaxSteps = 1000000;

struct SolveOptions {
  double time = 0;  // stopping time T (> 0)
  double dt = 0;    // requested step; 0 = the solver's DefaultDt(dx)
  // If > 0 (at most kMaxSteps): exactly this many equal steps dt = T / steps (overrides dt);
  // refused, with the smallest stable count, if dt exceeds the stability limit (unless force).
  int steps = 0;
  double dx = 1.0;     // grid spacing in operating-grid units
  bool force = false;  // allow a step above the stability limit
  // Called with (step index k, state after k steps) for k = 0 and every frames_every-th step
  // (and the last one), when frames_every > 0.
  int frames_every = 0;
  std::function<void(int, const Image&)> on_frame;
  // Called after each step with (done, total).
  std::function<void(int, int)> on_progress;
};

// The stopping time of a solve from what the caller gave (0: not given): `time`; with `steps`
// and `dt` both given and no time, steps x dt; else `preset_time`. All three given must agree
// (steps x dt = time, to 1e-9 relative), or it fails: one of them would be ignored.
double ResolveSolveTime(double time, int steps, double dt, double preset_time);

struct SolveResult {
  Image u;
  int steps = 0;
  double dt = 0;  // the step actually used (T / steps)
};

// Solves u_t = F(u) from u0 to the stopping time with a whole number of equal steps no larger than
// the requested one. Fails if dt exceeds the stability limit (unless forced or `steps` is set)
// and throws DivergedError if the state becomes non-finite.
SolveResult Solve(Pde pde, const PdeParams& params, const Image& u0, const SolveOptions& options);

}  // namespace blade
