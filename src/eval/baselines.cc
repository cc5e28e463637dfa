// The classical rows of the evaluation table: identity, classical-LR-10 (equal cost) and
// classical-LR (converged).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

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
  BaselineRow row;
  row.image = name;
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Image> frames = CachedReferenceFrames(preset, hr, cache_dir);
  row.reference_seconds = SecondsSince(t0);
  const Image& lr0 = frames.front();
  const Image& target = frames.back();
  row.identity = ScoreAgainst(lr0, target);

  // With the cost study, each time is the median of kCostRepeats runs of the solver alone.
  constexpr int kCostRepeats = 5;
  const int repeats = extras.cost ? kCostRepeats : 1;
  Image classical_lr_result;
  // The scheme on `start` with grid spacing dx (in LR pixels), area-downsampled by `factor`.
  auto run_at = [&](const Image& start, double dx, int factor, int steps) {
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
        return factor > 1 ? AreaDownsample(r.u, factor) : std::move(r.u);
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
  auto run = [&](int steps) { return run_at(lr0, 1.0, 1, steps); };
  row.classical_lr10 = run(preset.frames);
  // The converged baseline: the default (largest safe) step at the LR grid.
  auto solver = MakeSolver(preset.pde, preset.params);
  const int stable_steps =
      std::max(1, int(std::ceil(preset.time / solver->DefaultDt(1.0) * (1 - 1e-12))));
  row.classical_lr = run(stable_steps);
  if (extras.pictures) {
    extras.pictures->start = lr0.Copy();
    extras.pictures->target = target.Copy();
    extras.pictures->classical_lr = std::move(classical_lr_result);
  }
  if (extras.cost) {
    if (preset.scale % 2 != 0) Fail("the cost study needs an even protocol scale");
    const Image mid = AreaDownsample(hr, preset.scale / 2);
    const int steps_2x =
        std::max(1, int(std::ceil(preset.time / solver->DefaultDt(0.5) * (1 - 1e-12))));
    row.classical_2x = run_at(mid, 0.5, 2, steps_2x);
    auto t = std::chrono::steady_clock::now();
    CachedReferenceFrames(preset, hr, "");
    row.reference_compute_seconds = SecondsSince(t);
  }
  if (model != nullptr) {
    RunOptions o;
    o.steps = preset.frames;
    o.integrator = model->integrator;
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
