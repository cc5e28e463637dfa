// Reference-solver and Gaussian throughput at three sizes, 1 and 2 threads, in pixels per second.
#include <benchmark/benchmark.h>
#include <fftw3.h>

#include <algorithm>

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
// BM_PdeSteps: ten steps per call through PdeSolver::Steps, as a solve runs them (TV and PM keep
// one team of threads across the steps); items are pixel-steps, so rates compare with BM_PdeStep.
template <int kPde>
void BM_PdeSteps(benchmark::State& state) {
  const Pde pde = Pde(kPde);
  Image u = BenchImage(int(state.range(0)));
  Setup(state, int(state.range(0)), int(state.range(1)), PdeName(pde) + ", 10 steps a call");
  const Preset& preset = DefaultPreset(pde);
  auto solver = MakeSolver(pde, preset.params);
  const double dt = solver->DefaultDt(1.0);
  constexpr int kSteps = 10;
  for (auto _ : state) {
    solver->Steps(u, dt, 1.0, kSteps);
    benchmark::DoNotOptimize(u.data());
  }
  state.SetItemsProcessed(state.iterations() * kSteps * u.size());
}
BENCHMARK(BM_PdeSteps<0>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_PdeSteps<1>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_PdeSteps<2>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_PdeSteps<3>)->Apply(bench::SizesAndThreads);

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

#ifdef BLADE_BENCH_FFTW_OMP
// BM_FftwOwnThreads: a forward and an inverse real 2-D FFT of the benchmark size with FFTW's own
// OpenMP threads, planned for the thread count (FFTW_ESTIMATE, as the CH step plans). Not used by
// blade (so planned, the rounding depends on the thread count); it shows how far the transforms
// that dominate the Cahn–Hilliard step can scale on this machine.
void BM_FftwOwnThreads(benchmark::State& state) {
  static const bool init = fftwf_init_threads() != 0;
  if (!init) {
    state.SkipWithError("fftwf_init_threads failed");
    return;
  }
  const int size = int(state.range(0)), threads = int(state.range(1));
  Image u = BenchImage(size);
  Setup(state, size, threads, "FFTW's threads");
  const int w = u.width(), h = u.height();
  float* real = fftwf_alloc_real(std::size_t(w) * h);
  fftwf_complex* spec = fftwf_alloc_complex(std::size_t(h) * (w / 2 + 1));
  fftwf_plan_with_nthreads(threads);
  fftwf_plan forward = fftwf_plan_dft_r2c_2d(h, w, real, spec, FFTW_ESTIMATE);
  fftwf_plan inverse = fftwf_plan_dft_c2r_2d(h, w, spec, real, FFTW_ESTIMATE);
  std::copy(u.data(), u.data() + u.size(), real);
  const float norm = 1.f / float(w * h);
  for (auto _ : state) {
    fftwf_execute(forward);
    fftwf_execute(inverse);
    state.PauseTiming();
    for (std::size_t i = 0; i < u.size(); ++i) real[i] *= norm;  // keep the data bounded
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * u.size());
  fftwf_destroy_plan(forward);
  fftwf_destroy_plan(inverse);
  fftwf_free(real);
  fftwf_free(spec);
}
BENCHMARK(BM_FftwOwnThreads)->Apply(bench::SizesAndThreads);
#endif

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
