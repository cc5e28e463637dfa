// Shared benchmark inputs: the three image sizes, a smooth random test image, thread setup.
#pragma once

#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "blade/image.h"
#include "blade/ops.h"
#include "blade/parallel.h"

namespace blade::bench {

// Size index 0, 1, 2: 192x128 (a Kodak image at 1/4), 768x512 (Kodak), 3840x2160 (4K UHD).
inline int BenchWidth(int index) { return index == 0 ? 192 : index == 1 ? 768 : 3840; }
inline int BenchHeight(int index) { return index == 0 ? 128 : index == 1 ? 512 : 2160; }

// Uniform noise blurred with sigma 1.5: structure at every orientation, values in [0, 1].
inline Image BenchImage(int size_index, int channels = 1) {
  Image u(BenchWidth(size_index), BenchHeight(size_index), channels);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] = d(rng);
  return GaussianBlur(u, 1.5);
}

// Applies the thread count argument and labels the run "WxH, N thread(s)[, extra]".
inline void Setup(benchmark::State& state, int size_index, int threads,
                  const std::string& extra = "") {
  SetNumThreads(threads);
  state.SetLabel(std::to_string(BenchWidth(size_index)) + "x" +
                 std::to_string(BenchHeight(size_index)) + ", " + std::to_string(threads) +
                 (threads == 1 ? " thread" : " threads") + (extra.empty() ? "" : ", " + extra));
}

// Every (size, threads) pair: sizes 0..2, threads 1 and 2.
inline void SizesAndThreads(benchmark::internal::Benchmark* b) {
  b->ArgsProduct({{0, 1, 2}, {1, 2}})->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace blade::bench
