// Reference-solver and Gaussian throughput at three sizes, 1 and 2 threads, in pixels per second.
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "blade/pde.h"
#include "blade/preset.h"
#include "pde/schemes.h"

namespace blade {
namespace {

using bench::BenchImage;
using bench::Setup;

// One explicit step of each PDE's reference scheme at its default (largest stable) step, with
// the preset's parameters (CED recomputes its structure tensor every step).
// BM_PdeStepPlain: the same step with the plain reference loops that the fast implementation is
// tested against (Kodak size only), for a before/after comparison in one run.
template <int kPde, bool kPlain = false>
void BM_PdeStep(benchmark::State& state) {
  const Pde pde = Pde(kPde);
  Image u = BenchImage(int(state.range(0)));
  Setup(state, int(state.range(0)), int(state.range(1)), PdeName(pde) + (kPlain ? " plain" : ""));
  const Preset& preset = DefaultPreset(pde);
  auto solver = MakeSolverImpl(pde, preset.params, kPlain ? SchemeImpl::kPlain : SchemeImpl::kFast);
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
template <int kPde>
void BM_PdeStepPlain(benchmark::State& state) {
  BM_PdeStep<kPde, true>(state);
}
void KodakSize(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{1}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
}
BENCHMARK(BM_PdeStepPlain<0>)->Apply(KodakSize);
BENCHMARK(BM_PdeStepPlain<1>)->Apply(KodakSize);
BENCHMARK(BM_PdeStepPlain<2>)->Apply(KodakSize);
BENCHMARK(BM_PdeStepPlain<3>)->Apply(KodakSize);

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
