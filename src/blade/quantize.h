// The SIMD row kernel of filter selection: smoothed tensor rows to flat filter indices (eq. 2.5).
#pragma once

#include <cstdint>

namespace blade {

// Bin counts and thresholds (ascending, at most 15 each) of a SelectionConfig, as plain arrays.
struct QuantizeTables {
  int orientations = 24, strengths = 1, coherences = 1;
  int strength_count = 0, coherence_count = 0, intensity_count = 0;
  float strength[16] = {}, coherence[16] = {}, intensity[16] = {};
  // Derived from the thresholds (by the selection's table setup) so the kernel compares
  // without square roots or divisions:
  // sqrt(l1) >= t  <=>  l1 >= strength_sq (t^2, or -inf for t <= 0);
  // coherence >= t  <=>  l1 coherence_a >= l2 coherence_b, from r1 (1 - t) >= r2 (1 + t) squared
  // (a = (1 - t)^2, b = (1 + t)^2 for -1 < t <= 1; a = -1 for t > 1; a = 1, b = 0 for t <= -1);
  // coherence_flat: whether t is counted where l1 = 0 (coherence 0 there, so t <= 0).
  float strength_sq[16] = {}, coherence_a[16] = {}, coherence_b[16] = {};
  bool coherence_flat[16] = {};
  // When 8 divides the orientation count, the orientation bin is found by comparisons: after
  // folding phi into [0, pi / 4] by symmetry, the count of octant_tan[k] = tan(2 pi (k + 1) / N)
  // (k < octant_count = N / 8 - 1) with min(|d|, |e|) >= tan max(|d|, |e|).
  int octant_count = -1;  // -1: not used (the atan2 path)
  float octant_tan[8] = {};
};

// Writes out[0, n) from the tensor rows (and the luma row when intensity_count > 0). Every row
// must be readable, and out writable, up to n rounded up to a multiple of QuantizeRowPadding().
void QuantizeTensorRow(const float* j11, const float* j12, const float* j22, const float* luma,
                       int n, const QuantizeTables& tables, std::int32_t* out);
// Floats per vector of the kernel this machine dispatches to (the padding unit above).
int QuantizeRowPadding();
// The instruction set the dispatcher chose on this machine (e.g. "AVX2", "AVX3_ZEN4").
const char* QuantizeTarget();

}  // namespace blade
