// ParallelFor over OpenMP: one primitive, static schedule, deterministic per-index work.
#include "blade/parallel.h"

#include <omp.h>

#include <exception>
#include <mutex>

namespace blade {

void ParallelFor(int begin, int end, const std::function<void(int)>& fn) {
  if (end <= begin) return;
  if (end - begin == 1 || omp_get_max_threads() == 1 || omp_in_parallel()) {
    for (int i = begin; i < end; ++i) fn(i);
    return;
  }
  // Exceptions must not escape an OpenMP region: keep the first and rethrow it afterwards.
  std::exception_ptr error;
  std::mutex mutex;
#pragma omp parallel for schedule(static)
  for (int i = begin; i < end; ++i) {
    try {
      fn(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

void SetNumThreads(int n) { omp_set_num_threads(n > 0 ? n : omp_get_num_procs()); }

int NumThreads() { return omp_get_max_threads(); }

}  // namespace blade
