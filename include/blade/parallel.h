// The threading primitive: a parallel loop over independent indices (rows, planes, images), and
// the thread count.
#pragma once

#include <functional>

namespace blade {

// Runs fn(i) for i in [begin, end) on the thread pool. Work items must be independent; any
// reduction is done by the caller over per-item results in index order, so results are
// bit-identical for every thread count.
void ParallelFor(int begin, int end, const std::function<void(int)>& fn);

// Sets the number of worker threads (at most kMaxThreads, since each thread costs a stack:
// 100,000 exhaust memory). 0 = the default, OpenMP's: OMP_NUM_THREADS when set, else all the
// cores the process may use, so the command-line tool and Python honour the variable alike.
inline constexpr int kMaxThreads = 4096;
void SetNumThreads(int n);
int NumThreads();

}  // namespace blade
