// The classical rows of the evaluation table: identity, classical-LR-10 (equal cost) and
// classical-LR (converged).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/metrics.h"
#include "blade/model.h"
#include "blade/ops.h"
#include "blade/pde.h"
#include "blade/train.h"

namespace blade {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs `solve` (which returns its result) `repeats` times and gives the last result, with the
// median time in *seconds: a run at 192x128 takes about a millisecond, so one run mostly
// measures cold caches, page faults and the scheduler, and the median of several says what a
// typical run takes (the minimum flattered whichever run was luckiest). Scoring is not timed.
template <class F>
auto TimedSolve(int repeats, double* seconds, const F& solve) {
  std::vector<double> times;
  auto t = std::chrono::steady_clock::now();
  auto result = solve();
  times.push_back(SecondsSince(t));
  for (int i = 1; i < repeats; ++i) {
    t = std::chrono::steady_clock::now();
    result = solve();
    times.push_back(SecondsSince(t));
  }
  std::sort(times.begin(), times.end());
  const std::size_t n = times.size();
  *seconds = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
  return result;
}

}  // namespace

ClassicalRun ParseClassicalRun(const std::string& spec) {
  ClassicalRun run;
  const std::size_t colon = spec.find(':');
  const std::string grid = spec.substr(0, colon);
  char* end = nullptr;
  run.grid = std::strtod(grid.c_str(), &end);
  bool ok = !grid.empty() && *end == '\0' && std::isfinite(run.grid) && run.grid >= 1;
  if (colon != std::string::npos) {
    const std::string steps = spec.substr(colon + 1);
    const long n = std::strtol(steps.c_str(), &end, 10);
    ok = ok && !steps.empty() && *end == '\0' && n >= 1 && n <= 1000000;
    run.steps = int(n);
  }
  if (!ok)
    Fail(
        "a classical run is GRID (converged) or GRID:STEPS, GRID >= 1 times the LR resolution "
        "and STEPS 1..1000000 (got '",
        spec, "')");
  return run;
}

std::string ClassicalRunName(const ClassicalRun& run) {
  return StrCat("classical_", run.grid, "x", run.steps > 0 ? StrCat("_", run.steps) : "");
}

Score ScoreAgainst(const Image& u, const Image& target) {
  Score s;
  if (!AllFinite(u)) {
    s.diverged = true;
    return s;
  }
  s.psnr = Psnr(u, target);
  s.ssim = Ssim(u, target);
  return s;
}

BaselineRow EvaluateImage(const Preset& preset, const Image& hr, const std::string& name,
                          const Model* model, const std::string& cache_dir,
                          const EvalExtras& extras) {
  // Scored on the s-times smaller grid, whose SSIM needs kSsimMinSize pixels a side: say so in
  // the photograph's own size ("at least 11x11 (got 1x1)" named the wrong grid).
  if (hr.width() < kSsimMinSize * preset.scale || hr.height() < kSsimMinSize * preset.scale)
    Fail("the ", preset.name, " protocol scores on the ", preset.scale,
         "x smaller grid, where SSIM needs ", kSsimMinSize, "x", kSsimMinSize,
         " pixels: the photograph must be at least ", kSsimMinSize * preset.scale, "x",
         kSsimMinSize * preset.scale, " (got ", hr.width(), "x", hr.height(), ")");
  BaselineRow row;
  row.image = name;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Image> frames = CachedReferenceFrames(preset, hr, cache_dir);
  row.reference_seconds = SecondsSince(t0);
  const Image& lr0 = frames.front();
  const Image& target = frames.back();
  row.identity = ScoreAgainst(lr0, target);

  // With the cost study or classical runs, each time is the median of kCostRepeats runs of the
  // solver (with the area-averaging of a finer grid's result to LR).
  constexpr int kCostRepeats = 5;
  const int repeats = extras.cost || !extras.classical_runs.empty() ? kCostRepeats : 1;
  Image classical_lr_result;
  // The scheme on `start` with grid spacing dx (in LR pixels), area-resized to the LR grid.
  auto run_at = [&](const Image& start, double dx, int steps) {
    SolveOptions o;
    o.time = preset.time;
    o.steps = steps;
    o.force = steps > 0;  // classical-LR-10 runs at BLADE's step count, stable or not
    o.dx = dx;
    Score s;
    try {
      int taken = 0;
      Image u = TimedSolve(repeats, &s.seconds, [&] {
        SolveResult r = Solve(preset.pde, preset.params, start, o);
        taken = r.steps;
        return r.u.width() != lr0.width() ? AreaResize(r.u, lr0.width(), lr0.height())
                                          : std::move(r.u);
      });
      const double seconds = s.seconds;
      s = ScoreAgainst(u, target);
      s.seconds = seconds;
      s.steps = taken;
      if (extras.pictures) classical_lr_result = std::move(u);
    } catch (const DivergedError& e) {
      s.diverged = true;
      s.steps = steps;
    }
    return s;
  };
  auto run = [&](int steps) { return run_at(lr0, 1.0, steps); };
  row.classical_lr10 = run(preset.frames);
  // The converged runs: the default (largest safe) step at grid spacing dx, here the LR grid's.
  auto solver = MakeSolver(preset.pde, preset.params);
  auto stable_steps_at = [&](double dx) {
    return std::max(1, int(std::ceil(preset.time / solver->DefaultDt(dx) * (1 - 1e-12))));
  };
  row.classical_lr = run(stable_steps_at(1.0));
  if (extras.pictures) {
    extras.pictures->start = lr0.Copy();
    extras.pictures->target = target.Copy();
    extras.pictures->classical_lr = std::move(classical_lr_result);
  }
  if (extras.cost) {
    if (preset.scale % 2 != 0) Fail("the cost study needs an even protocol scale");
    row.classical_2x = run_at(AreaDownsample(hr, preset.scale / 2), 0.5, stable_steps_at(0.5));
    auto t = std::chrono::steady_clock::now();
    CachedReferenceFrames(preset, hr, "");
    row.reference_compute_seconds = SecondsSince(t);
  }
  std::map<double, Image> starts;  // the HR image on each grid, made once for all its runs
  for (const ClassicalRun& c : extras.classical_runs) {
    const double w = lr0.width() * c.grid, h = lr0.height() * c.grid;
    if (c.grid < 1 || c.grid > preset.scale || std::abs(w - std::round(w)) > 1e-6 ||
        std::abs(h - std::round(h)) > 1e-6)
      Fail("a classical run's grid must lie in [1, ", preset.scale, "] and make whole pixels of ",
           name, "'s LR size ", lr0.width(), "x", lr0.height(), " (got ", c.grid, ")");
    auto [it, made] = starts.try_emplace(c.grid);
    if (made) it->second = AreaResize(hr, int(std::round(w)), int(std::round(h)));
    const double dx = 1.0 / c.grid;
    row.classical_runs.push_back(
        run_at(it->second, dx, c.steps > 0 ? c.steps : stable_steps_at(dx)));
  }
  if (model != nullptr) {
    RunOptions o;
    o.steps = preset.frames;
    o.integrator = model->integrator;
    o.unsafe = extras.unsafe;
    double seconds = 0;
    try {
      Image u = TimedSolve(repeats, &seconds, [&] {
        return extras.point ? RunModelAt(*model, lr0, *extras.point, o) : RunModel(*model, lr0, o);
      });
      row.blade = ScoreAgainst(u, target);
      row.blade_min = MinValue(u);
      row.blade_max = MaxValue(u);
      if (extras.pictures) extras.pictures->blade = std::move(u);
    } catch (const DivergedError&) {
      row.blade.diverged = true;
    }
    row.blade.steps = extras.point ? PlanModelPoint(*model, *extras.point).steps : preset.frames;
    row.blade.seconds = seconds;
  }
  return row;
}

}  // namespace blade
