// The threading primitives: a parallel loop over independent indices (rows, planes, images), and
// a team of threads that stays together across the steps of a multi-step loop.
#pragma once

#include <functional>

namespace blade {

// Runs fn(i) for i in [begin, end) on the thread pool. Work items must be independent; any
// reduction is done by the caller over per-item results in index order, so results are
// bit-identical for every thread count.
void ParallelFor(int begin, int end, const std::function<void(int)>& fn);

// Runs fn(index, count) once on each of count threads at the same time, count = min(max_team,
// NumThreads()) (1 inside another parallel region), so the calls may wait for one another with
// TeamBarrier(). For loops of short steps: a barrier costs about half of ParallelFor's start and
// join. fn must not throw (a thread that left early would leave the others waiting at a barrier):
// catch inside, agree on failure across a barrier, and rethrow after the team ends.
void ParallelTeam(int max_team, const std::function<void(int index, int count)>& fn);
// Waits until every thread of the current ParallelTeam has reached it (nothing outside one).
void TeamBarrier();

// Sets the number of worker threads (0 = all hardware threads). Default: all.
void SetNumThreads(int n);
int NumThreads();

}  // namespace blade
