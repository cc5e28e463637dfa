// Reference-solver and Gaussian throughput at three sizes, 1 and 2 threads, in pixels per second.
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "blade/pde.h"
#include "blade/preset.h"

namespace blade {
namespace {

using bench::BenchImage;
using bench::Setup;

// One explicit step of each PDE's reference scheme at its default (largest stable) step, with
// the preset's parameters (CED recomputes its structure tensor every step).
template <int kPde>
void BM_PdeStep(benchmark::State& state) {
  const Pde pde = Pde(kPde);
  Image u = BenchImage(int(state.range(0)));
  Setup(state, int(state.range(0)), int(state.range(1)), PdeName(pde));
  const Preset& preset = DefaultPreset(pde);
  auto solver = MakeSolver(pde, preset.params);
  const double dt = solver->DefaultDt(1.0);
  for (auto _ : state) {
    solver->Step(u, dt, 1.0);
    benchmark::DoNotOptimize(u.data());
  }
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_PdeStep<0>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_PdeStep<1>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_PdeStep<2>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_PdeStep<3>)->Apply(bench::SizesAndThreads);

void BM_GaussianBlur(benchmark::State& state) {
  Image u = BenchImage(1);
  Setup(state, 1, 1, "sigma " + std::to_string(state.range(0)));
  const double sigma = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(GaussianBlur(u, sigma).data());
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_GaussianBlur)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace blade
