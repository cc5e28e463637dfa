// Private: constructors of the four reference schemes and helpers they share.
#pragma once

#include <memory>

#include "blade/pde.h"

namespace blade {

// Each scheme has two implementations of the same discrete step: kFast (the default: SIMD row
// kernels, fused passes, reused buffers) and kPlain (straightforward loops, kept as the
// reference the fast one is tested against; they agree to float rounding).
enum class SchemeImpl { kFast, kPlain };

std::unique_ptr<PdeSolver> MakeTvFlowSolver(const PdeParams& params, SchemeImpl impl);
std::unique_ptr<PdeSolver> MakePeronaMalikSolver(const PdeParams& params, SchemeImpl impl);
std::unique_ptr<PdeSolver> MakeCedSolver(const PdeParams& params, SchemeImpl impl);
std::unique_ptr<PdeSolver> MakeCahnHilliardSolver(const PdeParams& params, SchemeImpl impl);

// MakeSolver with a choice of implementation (for tests and benchmarks).
std::unique_ptr<PdeSolver> MakeSolverImpl(Pde pde, const PdeParams& params, SchemeImpl impl);

// ClassicalRhs (blade/pde.h) with a choice of implementation: kPlain, the scalar loops; kFast,
// the solvers' SIMD flux kernels (TV flow, Perona-Malik; Cahn-Hilliard has only the plain one).
Image ClassicalRhsImpl(Pde pde, const PdeParams& params, const Image& u, double dx,
                       SchemeImpl impl);

// minmod(a, b): 0 if a and b differ in sign, else the one of smaller magnitude.
inline float Minmod(float a, float b) {
  if ((a > 0) != (b > 0) || a == 0 || b == 0) return 0.f;
  return a > 0 ? (a < b ? a : b) : (a > b ? a : b);
}

}  // namespace blade
