// ParallelFor and ParallelTeam over OpenMP: static schedules, deterministic per-index work.
#include "blade/parallel.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "base/parallel_team.h"
#include "blade/error.h"

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

namespace {
std::function<void()>& InterruptCheck() {
  static std::function<void()> check;
  return check;
}
}  // namespace

void SetInterruptCheck(std::function<void()> check) { InterruptCheck() = std::move(check); }

void CheckInterrupt() {
  const std::function<void()>& check = InterruptCheck();
  if (!check || omp_in_parallel()) return;
  // A check may take a lock of the front end's (Python's GIL): not every few microseconds.
  thread_local std::chrono::steady_clock::time_point last;
  const auto now = std::chrono::steady_clock::now();
  if (now - last < std::chrono::milliseconds(50)) return;
  last = now;
  check();
}

void ParallelTeam(int max_team, const std::function<void(int, int)>& fn) {
  const int want = std::min(max_team, omp_get_max_threads());
  if (want <= 1 || omp_in_parallel()) {
    fn(0, 1);
    return;
  }
  // OpenMP may start fewer threads than asked: every member learns the real count.
#pragma omp parallel num_threads(want)
  fn(omp_get_thread_num(), omp_get_num_threads());
}

void TeamWait(const std::atomic<int>& flag, int value) {
  // A few microseconds of spinning covers a neighbour that is slightly behind (the usual case
  // between steps); beyond that, yield the core.
  for (int spin = 0; flag.load(std::memory_order_acquire) < value; ++spin) {
    if (spin < 2000) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

namespace {

// OpenMP's own default, read before anything sets the count: OMP_NUM_THREADS when the
// environment has it, else the cores this process may run on.
int DefaultThreads() {
  static const int n = std::min(omp_get_max_threads(), kMaxThreads);
  return n;
}

}  // namespace

void SetNumThreads(int n) {
  if (n < 0 || n > kMaxThreads)
    Fail("the number of threads must be 0 (the default: OMP_NUM_THREADS, else all cores) to ",
         kMaxThreads, " (got ", n, ")");
  DefaultThreads();  // remembered before the first change
  omp_set_num_threads(n > 0 ? n : DefaultThreads());
}

int NumThreads() {
  DefaultThreads();
  return omp_get_max_threads();
}

}  // namespace blade
