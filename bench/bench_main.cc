// Benchmark entry point: the allocator setting the blade tool uses, then Google Benchmark.
#include <benchmark/benchmark.h>

#include "blade/image.h"

int main(int argc, char** argv) {
  blade::KeepFreedImageMemory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
