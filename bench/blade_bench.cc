// BLADE throughput: selection, filtering, steps of direct / flux / color models, training backward,
// the learned upscalers with and without their refiner.
#include <benchmark/benchmark.h>

#include <random>

#include "bench_util.h"
#include "blade/model.h"
#include "blade/pde.h"
#include "blade/restore.h"

namespace blade {
namespace {

using bench::BenchImage;
using bench::Setup;

// 216 filters (24 x 3 x 3), 5x5, rho 1: the configuration the performance targets name. With
// a scheme footprint: TV flow's scheme term (3x3 filters of F(u)) beside them.
Model TestModel(ModelForm form, int scheme_footprint = 0) {
  SelectionConfig s;
  s.strength_thresholds = {0.01f, 0.03f};
  s.coherence_thresholds = {0.3f, 0.6f};
  Model m = MakeEmptyModel(form, s, 5, scheme_footprint);
  m.pde = "tv";
  m.pde_params = {{"eps", 0.01}};
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0.f, 0.02f);
  for (Bank& b : m.banks)
    for (float& t : b.filters.taps) t = d(rng);
  m.dt = 0.4;
  return m;
}

void BM_Select(benchmark::State& state) {
  Image u = BenchImage(int(state.range(0)));
  Setup(state, int(state.range(0)), int(state.range(1)));
  Model m = TestModel(ModelForm::kDirect);
  for (auto _ : state) benchmark::DoNotOptimize(Select(m.banks[0].selection, u).data());
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_Select)->Apply(bench::SizesAndThreads);

void BM_ApplyFilters(benchmark::State& state) {
  Image u = BenchImage(int(state.range(0)));
  Setup(state, int(state.range(0)), int(state.range(1)));
  Model m = TestModel(ModelForm::kDirect);
  auto sel = Select(m.banks[0].selection, u);
  for (auto _ : state) benchmark::DoNotOptimize(ApplyFilters(m.banks[0].filters, sel, u).data());
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_ApplyFilters)->Apply(bench::SizesAndThreads);

// The classical right-hand side F(u) a scheme term filters: 0 tv, 1 pm, 2 ch.
template <int kPde>
void BM_ClassicalRhs(benchmark::State& state) {
  const Pde pde = kPde == 0 ? Pde::kTv : kPde == 1 ? Pde::kPm : Pde::kCh;
  Image u = BenchImage(int(state.range(0)));
  Setup(state, int(state.range(0)), int(state.range(1)), PdeName(pde));
  for (auto _ : state) benchmark::DoNotOptimize(ClassicalRhs(pde, PdeParams{}, u).data());
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_ClassicalRhs<0>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_ClassicalRhs<1>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_ClassicalRhs<2>)->Apply(bench::SizesAndThreads);

// Ten Euler steps (a whole BLADE solve, input checks and copies included); items are pixel
// steps, so items/s is the per-step throughput. Kinds: direct gray, flux gray, direct RGB (a TV
// model: channel by channel, RunsChannelByChannel), direct gray with TV's scheme term, direct
// RGB selecting on luma (a CED model).
template <int kKind>
void BM_BladeSteps(benchmark::State& state) {
  const bool rgb = kKind == 2 || kKind == 4;
  Image u = BenchImage(int(state.range(0)), rgb ? 3 : 1);
  Setup(state, int(state.range(0)), int(state.range(1)),
        kKind == 0   ? "direct gray"
        : kKind == 1 ? "flux gray"
        : kKind == 2 ? "direct rgb, channel by channel"
        : kKind == 3 ? "direct gray, scheme term"
                     : "direct rgb, luma selection");
  Model m = TestModel(kKind == 1 ? ModelForm::kFlux : ModelForm::kDirect, kKind == 3 ? 3 : 0);
  if (kKind == 4) m.pde = "ced";
  RunOptions o;
  o.steps = 10;
  for (auto _ : state) benchmark::DoNotOptimize(RunModel(m, u, o).data());
  state.SetItemsProcessed(state.iterations() * u.plane_size() * o.steps);
}
BENCHMARK(BM_BladeSteps<0>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_BladeSteps<1>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_BladeSteps<2>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_BladeSteps<3>)->Apply(bench::SizesAndThreads);
BENCHMARK(BM_BladeSteps<4>)->Apply(bench::SizesAndThreads);

// Training cost: a 10-step rollout and its backward pass on a 120x80 frame (BSDS at 1/4).
void BM_RolloutBackward(benchmark::State& state) {
  SetNumThreads(int(state.range(0)));
  Image u(120, 80);
  {
    Image big = BenchImage(0);
    u = Crop(big, {0, 0, 120, 80});
  }
  Model m = TestModel(ModelForm::kDirect);
  for (auto _ : state) {
    Rollout r(m, u, 10, m.dt, Integrator::kEuler);
    std::vector<Image> g;
    for (int k = 1; k <= 10; ++k) g.push_back(r.states()[k].Copy());
    std::vector<std::vector<double>> dtaps;
    benchmark::DoNotOptimize(r.Backward(g, dtaps).data());
  }
  state.SetItemsProcessed(state.iterations() * u.size() * 10);
}
BENCHMARK(BM_RolloutBackward)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// A shipped model's whole 10-step solve, as `blade eval --cost` times it for kodak4x (the
// 192x128 LR grid) and at 768x512. Models: 0 tv, 1 pm, 2 ced, 3 ch (models/ in the source tree).
void BM_ShippedModel(benchmark::State& state) {
  static const char* const kNames[] = {"tv", "pm", "ced", "ch"};
  const char* name = kNames[state.range(0)];
  Model m = LoadModel(std::string(BLADE_SOURCE_DIR) + "/models/" + name + ".blade");
  Image u = BenchImage(int(state.range(1)));
  Setup(state, int(state.range(1)), int(state.range(2)), name);
  RunOptions o;
  o.steps = 10;
  o.integrator = m.integrator;
  for (auto _ : state) benchmark::DoNotOptimize(RunModel(m, u, o).data());
  state.SetItemsProcessed(state.iterations() * u.plane_size() * o.steps);
}
BENCHMARK(BM_ShippedModel)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The shipped learned upscalers on a 192x128 input (x4: a 768x512 Kodak-sized output; x2:
// 384x256): arg 0 the x2 or x4 area model, arg 1 with (1) or without (0) its refiner, arg 2
// threads. The pair shows what the refiner costs beside the stages; items are output pixels.
void BM_LearnedUpscale(benchmark::State& state) {
  const int factor = int(state.range(0));
  Model m = LoadModel(std::string(BLADE_SOURCE_DIR) + "/models/upscale-x" + std::to_string(factor) +
                      "-area.blade");
  if (state.range(1) == 0) m.upscale.refiner = {};
  const Image f = BenchImage(0);
  Setup(state, 0, int(state.range(2)),
        "x" + std::to_string(factor) + (state.range(1) ? " stages + refiner" : " stages only"));
  for (auto _ : state) benchmark::DoNotOptimize(UpscaleLearned(m, f).data());
  state.SetItemsProcessed(state.iterations() * f.plane_size() * factor * factor);
}
BENCHMARK(BM_LearnedUpscale)
    ->ArgsProduct({{2, 4}, {0, 1}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace blade
