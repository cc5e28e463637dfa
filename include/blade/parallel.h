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

// Stopping a long run from outside. Loops that can run for seconds (solver and model steps,
// restoration, Chan-Vese iterations, training epochs and steps) call CheckInterrupt between
// steps; it calls the check a front end installed, at most every 50 ms and never inside a
// ParallelFor, and the check may throw to end the run (Python installs one that raises
// KeyboardInterrupt on Ctrl-C; the command-line tool needs none, a signal ends the process).
void SetInterruptCheck(std::function<void()> check);
void CheckInterrupt();

}  // namespace blade
