// A team of threads that stays together across the steps of a multi-step loop (private: the
// fast TV and Perona-Malik solvers use it; tests include it).
#pragma once

#include <atomic>
#include <functional>

namespace blade {

// Runs fn(index, count) once on each of count threads at the same time, count = min(max_team,
// NumThreads()) (1 inside another parallel region), so members may wait for one another's
// progress (TeamWait). For loops of short steps, where a ParallelFor per step would pay a start
// and a join each time. fn must not throw (a member that left early would leave the others
// waiting): catch inside, and rethrow after the team ends.
void ParallelTeam(int max_team, const std::function<void(int index, int count)>& fn);
// Waits until flag >= value, for a team member waiting on another's progress (which stores the
// flag with memory_order_release after the data it guards). Spins briefly, then yields: a team
// may have more threads than cores.
void TeamWait(const std::atomic<int>& flag, int value);

}  // namespace blade
