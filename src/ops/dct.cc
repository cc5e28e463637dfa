// 2-D DCT-II / DCT-III of one plane through FFTW, with plans from the shared cache (ops/fft.h).
#include <fftw3.h>

#include "blade/error.h"
#include "blade/ops.h"
#include "ops/fft.h"

namespace blade {
namespace {

void Run(const double* in, double* out, int width, int height, fft::DctKind kind) {
  if (width <= 0 || height <= 0) Fail("DCT size ", width, "x", height, " is empty or negative");
  // FFTW requires the new-array execute functions to keep the plan's in-place-ness.
  fftw_plan plan = fft::Dct2d(kind, width, height, in == out);
  // Executing a plan on new arrays is thread-safe in FFTW; the input is preserved (see fft.h).
  fftw_execute_r2r(plan, const_cast<double*>(in), out);
}

}  // namespace

void Dct2(const double* in, double* out, int width, int height) {
  Run(in, out, width, height, fft::DctKind::kForward);
}

void Dct3(const double* in, double* out, int width, int height) {
  Run(in, out, width, height, fft::DctKind::kInverse);
}

}  // namespace blade
