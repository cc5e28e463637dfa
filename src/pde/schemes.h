// Private: constructors of the four reference schemes and helpers they share.
#pragma once

#include <memory>

#include "blade/pde.h"

namespace blade {

std::unique_ptr<PdeSolver> MakeTvFlowSolver(const PdeParams& params);
std::unique_ptr<PdeSolver> MakePeronaMalikSolver(const PdeParams& params);
std::unique_ptr<PdeSolver> MakeCedSolver(const PdeParams& params);
std::unique_ptr<PdeSolver> MakeCahnHilliardSolver(const PdeParams& params);

// minmod(a, b): 0 if a and b differ in sign, else the one of smaller magnitude.
inline float Minmod(float a, float b) {
  if ((a > 0) != (b > 0) || a == 0 || b == 0) return 0.f;
  return a > 0 ? (a < b ? a : b) : (a > b ? a : b);
}

}  // namespace blade
