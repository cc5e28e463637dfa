// Provably stable (monotone) BLADE: the constraint and its check (projection and constrained least
// squares, which training uses, are in blade/train.h).
#pragma once

#include <vector>

#include "blade/model.h"

namespace blade {

// A direct model is monotone when every filter h has non-negative off-centre taps, a centre
// tap equal to minus their sum (constants are steady states), and dt * (sum of off-centre
// taps) <= 1. Each Euler step is then, at every pixel, a convex combination of the pixel and
// its neighbours: u' = (1 - dt S) u_0 + sum_j dt h_j u_j with S = sum_j h_j (proof in
// docs/MONOTONE.md), so no step creates a new maximum or minimum, for any input and any number
// of steps. Fails with the first violated condition (tolerances for float rounding: 1e-6
// relative on the centre, 1e-6 on dt * S).
void CheckMonotone(const Model& model);

}  // namespace blade
