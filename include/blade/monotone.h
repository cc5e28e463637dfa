// Provably stable (monotone) BLADE: the constraint, its check, projection and constrained least
// squares.
#pragma once

#include <vector>

#include "blade/model.h"
#include "blade/train.h"

namespace blade {

// A direct model is monotone when every filter h has non-negative off-centre taps, a centre
// tap equal to minus their sum (constants are steady states), and dt * (sum of off-centre
// taps) <= 1. Each Euler step is then, at every pixel, a convex combination of the pixel and
// its neighbours: u' = (1 - dt S) u_0 + sum_j dt h_j u_j with S = sum_j h_j (proof in
// docs/MONOTONE.md), so no step creates a new maximum or minimum, for any input and any number
// of steps. Fails with the first violated condition (tolerances for float rounding: 1e-6
// relative on the centre, 1e-6 on dt * S).
void CheckMonotone(const Model& model);

// Euclidean projection of one filter's off-centre taps onto {x >= 0, sum x <= cap}, then the
// centre set to -sum x. `taps` is size x size, row-major; cap = 1 / dt.
void ProjectMonotoneFilter(float* taps, int size, double cap);
// Projects every filter of a direct model (and marks it constraint "monotone").
void ProjectMonotone(Model& model);

// Constrained least squares of the one-step problem for a direct model: per filter, minimise
// || sum_j x_j (p_j - p_0) - d ||^2 + ridge || x ||^2 over x >= 0, sum x <= 1 / dt (the
// monotone set) by accelerated projected gradient (FISTA) on the normal equations, from the
// summed normal equations of the unconstrained problem. Returns filters with no samples.
int SolveMonotoneLeastSquares(Model& model, const NormalEquations& sums, double ridge);

}  // namespace blade
