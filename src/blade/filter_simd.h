// The SIMD row kernel of adaptive filtering (eq. 2.1) for float images: per-pixel filters gathered per tap.
#pragma once

#include <cstdint>

namespace blade {

// Length (a multiple of the vector width, >= size) to which each footprint row of a filter
// is zero-padded for ApplyRowSimd on this machine.
int SimdFilterRowLength(int size);
// out[x] = sum_{dy, dx} h_{sel[x]}(dx, dy) p[dy * pw + dx + x] for x in [0, w), where p is the
// top-left of the first pixel's footprint in a padded plane of row pitch pw, and padded_taps
// holds each filter as `size` rows of SimdFilterRowLength(size) floats (zeros past `size`).
// Each footprint row is read as a whole padded row: the plane must be readable for
// SimdFilterRowLength(size) - size floats past its end.
void ApplyRowSimd(const float* p, int pw, int w, const std::int32_t* sel, const float* padded_taps,
                  int size, float* out);

}  // namespace blade
