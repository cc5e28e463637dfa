// Private: every FFTW plan in blade, made under one process-wide planner lock and cached.
#pragma once

#include <fftw3.h>

namespace blade::fft {

// FFTW's planner (every fftw_plan_*, fftwf_plan_* and *_destroy_plan) is global state that is
// not thread-safe, and blade is called from several threads at once (Python without the GIL,
// Dask), so planning happens only in fft.cc, under one lock. Plans are made on first use with
// FFTW_ESTIMATE, which always gives the same plan (FFTW_MEASURE chooses by timing, which could
// change the rounding between runs), and are kept for the life of the process. Executing them
// with FFTW's new-array functions (fftw_execute_r2r, fftw_execute_dft, fftw_execute_dft_r2c,
// fftwf_execute_dft_c2r, ...) is thread-safe, also for one plan from many threads, as long as
// the arrays keep the plan's in-place-ness and alignment as stated below. Sizes must be positive.

enum class DctKind { kForward, kInverse };

// 2-D DCT of a row-major width x height double plane: REDFT10 along both axes (kForward, as
// Dct2) or REDFT01 (kInverse, as Dct3). Any alignment. `in_place`: for execution with in == out;
// the out-of-place plan leaves its input unchanged.
fftw_plan Dct2d(DctKind kind, int width, int height, bool in_place);

// 1-D DFT of n reals to n / 2 + 1 complex values, and back (unnormalised; the complex-to-real
// transform overwrites its input). Out of place, any alignment.
fftw_plan RealToComplex1d(int n);
fftw_plan ComplexToReal1d(int n);

// 2-D complex DFT of a row-major n0 x n1 array (n0 the slow axis), unnormalised, in place, any
// alignment; sign is FFTW_FORWARD or FFTW_BACKWARD.
fftw_plan Complex2dInPlace(int n0, int n1, int sign);

// 2-D float DFT of a row-major width x height real plane to its height x (width / 2 + 1) half
// spectrum, and back (unnormalised; the complex-to-real transform overwrites its input). Out of
// place, on arrays from fftwf_alloc_real / fftwf_alloc_complex: these plans may use SIMD, which
// needs the alignment they were planned with.
fftwf_plan FloatRealToComplex2d(int width, int height);
fftwf_plan FloatComplexToReal2d(int width, int height);

}  // namespace blade::fft
