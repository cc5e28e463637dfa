// The SIMD row kernel of filter selection: smoothed tensor rows to flat filter indices (eq. 2.5).
#pragma once

#include <cstdint>

namespace blade {

// Bin counts and thresholds (ascending, at most 15 each) of a SelectionConfig, as plain arrays.
struct QuantizeTables {
  int orientations = 24, strengths = 1, coherences = 1;
  int strength_count = 0, coherence_count = 0, intensity_count = 0;
  float strength[16] = {}, coherence[16] = {}, intensity[16] = {};
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
