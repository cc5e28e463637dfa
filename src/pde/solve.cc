// PDE names, parameters, and the time loop shared by every reference scheme.
#include <algorithm>
#include <cmath>
#include <limits>

#include "blade/parallel.h"
#include "blade/pde.h"
#include "pde/schemes.h"

namespace blade {

std::string PdeName(Pde pde) {
  switch (pde) {
    case Pde::kTv:
      return "tv";
    case Pde::kPm:
      return "pm";
    case Pde::kCed:
      return "ced";
    case Pde::kCh:
      return "ch";
  }
  return "?";
}

std::string PdeLongName(Pde pde) {
  switch (pde) {
    case Pde::kTv:
      return "TV flow";
    case Pde::kPm:
      return "Perona-Malik";
    case Pde::kCed:
      return "coherence-enhancing diffusion";
    case Pde::kCh:
      return "Cahn-Hilliard";
  }
  return "?";
}

Pde ParsePde(const std::string& name) {
  for (Pde p : kAllPdes)
    if (name == PdeName(p)) return p;
  Fail("unknown PDE '", name, "' (expected tv, pm, ced or ch)");
}

std::string StoppingTimeHint(const std::string& name) {
  return name == "T" || name == "t" ? "; the stopping time is --time (Python time=)" : "";
}

namespace {

struct ParamSpec {
  Pde pde;
  const char* key;
  double PdeParams::*field;
  bool strictly_positive;
};

const ParamSpec kParamSpecs[] = {
    {Pde::kTv, "eps", &PdeParams::tv_eps, true},
    {Pde::kPm, "c", &PdeParams::pm_c, true},
    {Pde::kCed, "alpha", &PdeParams::ced_alpha, true},
    {Pde::kCed, "C", &PdeParams::ced_c, false},
    {Pde::kCed, "sigma", &PdeParams::ced_sigma, false},
    {Pde::kCed, "rho", &PdeParams::ced_rho, false},
    {Pde::kCh, "gamma", &PdeParams::ch_gamma, true},
    {Pde::kCh, "c1", &PdeParams::ch_c1, false},
};

std::string KnownKeys(Pde pde) {
  std::string keys;
  for (const ParamSpec& s : kParamSpecs)
    if (s.pde == pde) keys += (keys.empty() ? "" : ", ") + std::string(s.key);
  if (pde == Pde::kCh) keys += ", split";
  return keys;
}

void CheckValue(const ParamSpec& s, double value) {
  std::string name = PdeName(s.pde) + " parameter " + s.key;
  if (s.strictly_positive)
    RequirePositive(value, name.c_str());
  else
    RequireNonNegative(value, name.c_str());
}

}  // namespace

void PdeParams::Set(Pde pde, const std::string& key, double value) {
  if (pde == Pde::kCh && key == "split") {
    if (value != 0 && value != 1) Fail("ch parameter split must be 0 or 1 (got ", value, ")");
    ch_split = value != 0;
    return;
  }
  for (const ParamSpec& s : kParamSpecs) {
    if (s.pde == pde && key == s.key) {
      CheckValue(s, value);
      this->*(s.field) = value;
      if (pde == Pde::kCed && key == "alpha" && value > 1)
        Fail("ced parameter alpha must be in (0, 1] (got ", value, ")");
      return;
    }
  }
  Fail("unknown parameter '", key, "' for ", PdeName(pde), " (known: ", KnownKeys(pde), ")",
       StoppingTimeHint(key));
}

PdeParams PdeParamsWith(Pde pde, const PdeParams& base,
                        const std::map<std::string, double>& given) {
  PdeParams p = base;
  for (const auto& [key, value] : given) p.Set(pde, key, value);
  if (pde == Pde::kCh && given.count("c1") && !p.ch_split)
    Fail(
        "ch parameter c1 is the splitting constant and acts only with split=1 (give --param "
        "split=1 too, Python params={'split': 1, 'c1': ...})");
  return p;
}

std::map<std::string, double> PdeParams::ToMap(Pde pde) const {
  std::map<std::string, double> m;
  for (const ParamSpec& s : kParamSpecs)
    if (s.pde == pde) m[s.key] = this->*(s.field);
  if (pde == Pde::kCh) m["split"] = ch_split ? 1 : 0;
  return m;
}

void PdeParams::Validate(Pde pde) const {
  for (const ParamSpec& s : kParamSpecs)
    if (s.pde == pde) CheckValue(s, this->*(s.field));
  if (pde == Pde::kCed && ced_alpha > 1) Fail("ced parameter alpha must be in (0, 1]");
}

std::unique_ptr<PdeSolver> MakeSolverImpl(Pde pde, const PdeParams& params, SchemeImpl impl) {
  params.Validate(pde);
  switch (pde) {
    case Pde::kTv:
      return MakeTvFlowSolver(params, impl);
    case Pde::kPm:
      return MakePeronaMalikSolver(params, impl);
    case Pde::kCed:
      return MakeCedSolver(params, impl);
    case Pde::kCh:
      return MakeCahnHilliardSolver(params, impl);
  }
  Fail("unknown PDE");
}

std::unique_ptr<PdeSolver> MakeSolver(Pde pde, const PdeParams& params) {
  return MakeSolverImpl(pde, params, SchemeImpl::kFast);
}

double ResolveSolveTime(double time, int steps, double dt, double preset_time) {
  if (steps <= 0 || dt <= 0) return time > 0 ? time : preset_time;
  const double product = steps * dt;
  if (time > 0 && std::abs(product - time) > 1e-9 * time)
    Fail("the time ", time, ", ", steps, " steps and the step ", dt, " disagree (", steps, " x ",
         dt, " = ", product, "): give two of them");
  return product;
}

SolveResult Solve(Pde pde, const PdeParams& params, const Image& u0, const SolveOptions& o) {
  if (u0.empty()) Fail("the initial image is empty");
  RequirePositive(o.time, "the stopping time");
  RequirePositive(o.dx, "the grid spacing dx");
  if (o.dt != 0) RequirePositive(o.dt, "the time step dt");
  if (o.steps < 0 || o.steps > kMaxSteps)
    Fail("the number of steps must be 1..", kMaxSteps, " (got ", o.steps, ")");
  if (!AllFinite(u0)) Fail("the initial image contains NaN or infinite values");
  auto solver = MakeSolver(pde, params);
  const double max_dt = solver->MaxStableDt(o.dx);

  int steps = o.steps;
  if (steps == 0) {
    double dt = o.dt > 0 ? o.dt : solver->DefaultDt(o.dx);
    if (!std::isfinite(dt))
      Fail(PdeName(pde), " has no stability limit here: give --dt or --steps (Python dt=, steps=)");
    if (dt > max_dt * (1 + 1e-12) && !o.force)
      Fail("time step ", dt, " exceeds the stability limit ", max_dt, " of ", PdeName(pde),
           " at dx = ", o.dx, " (--force, Python force=True, runs it anyway)");
    double n = std::ceil(o.time / dt * (1 - 1e-12));
    if (n > 1e8) Fail("the run would take ", n, " steps; refusing (more than 1e8)");
    steps = std::max(1, int(n));
  } else if (o.time / steps > max_dt * (1 + 1e-12) && !o.force) {
    const double fewest = std::ceil(o.time / max_dt * (1 - 1e-12));
    Fail(steps, " steps to T = ", o.time, " are steps of dt = ", o.time / steps,
         ", above the stability limit ", max_dt, " of ", PdeName(pde), " at dx = ", o.dx,
         "; the fewest stable steps are ", fewest, " (--force, Python force=True, runs it anyway)");
  }
  const double dt = o.time / steps;

  SolveResult result{u0.Copy(), steps, dt};
  Image& u = result.u;
  const bool frames = o.frames_every > 0 && o.on_frame;
  if (frames) o.on_frame(0, u);
  // The steps run in chunks through PdeSolver::Steps (TV and PM keep one thread team across a
  // chunk), ending at every frame. The solution is checked for non-finite values once per chunk
  // (the check is a pass over the image of its own). A run that produced one is repeated step by
  // step from u0 with a fresh solver, up to that chunk, so the error names the first bad step:
  // a cost only on the error path, where a copy of each chunk's start would cost every run.
  constexpr int kChunk = 16;
  for (int k = 0; k < steps;) {
    int n = std::min(kChunk, steps - k);
    if (frames) n = std::min(n, o.frames_every - k % o.frames_every);
    CheckInterrupt();
    solver->Steps(u, dt, o.dx, n);
    if (!AllFinite(u)) {
      auto again = MakeSolver(pde, params);
      Image v = u0.Copy();
      for (int j = 1; j <= k + n; ++j) {
        again->Step(v, dt, o.dx);
        if (!AllFinite(v)) throw DivergedError(j, steps);
      }
      throw DivergedError(k + n, steps);  // not reproduced step by step: name the chunk's end
    }
    k += n;
    if (frames && (k % o.frames_every == 0 || k == steps)) o.on_frame(k, u);
    if (o.on_progress) o.on_progress(k, steps);
  }
  return result;
}

}  // namespace blade
