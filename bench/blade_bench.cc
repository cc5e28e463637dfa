// BLADE throughput at the Kodak size (768x512 gray): selection, filtering, one Euler step, backward.
#include <benchmark/benchmark.h>

#include <random>

#include "blade/model.h"
#include "blade/ops.h"

namespace blade {
namespace {

Image TestImage(int w, int h, int channels = 1) {
  Image u(w, h, channels);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] = d(rng);
  return GaussianBlur(u, 1.5);
}

Model TestModel(ModelForm form) {
  SelectionConfig s;
  s.strength_thresholds = {0.01f, 0.03f};
  s.coherence_thresholds = {0.3f, 0.6f};
  Model m = MakeEmptyModel(form, s, 5);
  std::mt19937 rng(2);
  std::normal_distribution<float> d(0.f, 0.02f);
  for (Bank& b : m.banks)
    for (float& t : b.filters.taps) t = d(rng);
  m.dt = 0.4;
  return m;
}

void BM_Select(benchmark::State& state) {
  Image u = TestImage(768, 512);
  Model m = TestModel(ModelForm::kDirect);
  for (auto _ : state) benchmark::DoNotOptimize(Select(m.banks[0].selection, u).data());
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_Select)->Unit(benchmark::kMillisecond);

void BM_ApplyFilters(benchmark::State& state) {
  Image u = TestImage(768, 512);
  Model m = TestModel(ModelForm::kDirect);
  auto sel = Select(m.banks[0].selection, u);
  for (auto _ : state) benchmark::DoNotOptimize(ApplyFilters(m.banks[0].filters, sel, u).data());
  state.SetItemsProcessed(state.iterations() * u.size());
}
BENCHMARK(BM_ApplyFilters)->Unit(benchmark::kMillisecond);

// One Euler step of a direct (0) or flux (1) model, gray; 2 = direct on RGB.
void BM_BladeStep(benchmark::State& state) {
  const int kind = int(state.range(0));
  Image u = TestImage(768, 512, kind == 2 ? 3 : 1);
  Model m = TestModel(kind == 1 ? ModelForm::kFlux : ModelForm::kDirect);
  RunOptions o;
  o.steps = 1;
  for (auto _ : state) benchmark::DoNotOptimize(RunModel(m, u, o).data());
  state.SetLabel(kind == 0 ? "direct gray" : kind == 1 ? "flux gray" : "direct rgb");
  state.SetItemsProcessed(state.iterations() * u.plane_size());
}
BENCHMARK(BM_BladeStep)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

// Training cost: a 10-step rollout and its backward pass on a 120x80 frame (BSDS at 1/4).
void BM_RolloutBackward(benchmark::State& state) {
  Image u = TestImage(120, 80);
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
BENCHMARK(BM_RolloutBackward)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace blade
