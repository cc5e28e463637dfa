// Reference-solver and operator throughput at the Kodak size (768x512 gray), in pixels per second.
#include <benchmark/benchmark.h>

#include <random>

#include "blade/ops.h"
#include "blade/pde.h"
#include "blade/preset.h"

namespace blade {
namespace {

Image KodakSizedImage() {
  Image u(768, 512, 1);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] = d(rng);
  return GaussianBlur(u, 1.5);
}

void BM_PdeStep(benchmark::State& state) {
  const Pde pde = Pde(state.range(0));
  const Preset& preset = DefaultPreset(pde);
  auto solver = MakeSolver(pde, preset.params);
  Image u = KodakSizedImage();
  const double dt = solver->DefaultDt(1.0);
  for (auto _ : state) {
    solver->Step(u, dt, 1.0);
    benchmark::DoNotOptimize(u.data());
  }
  state.SetLabel(PdeName(pde));
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_PdeStep)->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

void BM_GaussianBlur(benchmark::State& state) {
  Image u = KodakSizedImage();
  const double sigma = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(GaussianBlur(u, sigma).data());
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_GaussianBlur)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace blade
