// The SIMD row kernel of adaptive filtering (eq. 2.1) for float images: per-pixel filters gathered
// per tap.
#pragma once

#include <cstdint>

namespace blade {

// Length (a multiple of the vector width, >= size) to which each footprint row of a filter
// is zero-padded for ApplyRowSimd on this machine.
int SimdFilterRowLength(int size);
// out[b * channels + c][x] = sum_{dy, dx} h^b_{sel[b][x]}(dx, dy) p[c][dy * pw + dx + x] for x
// in [0, w), `channels` planes (1 or 3) and `banks` filter banks (1, or 2 with one plane: the
// flux form), where p[c] is the top-left of the first pixel's footprint in padded plane c of row
// pitch pw, and padded_taps[b] holds bank b's filters as `size` rows of
// SimdFilterRowLength(size) floats (zeros past `size`). Every output comes out bit for bit as
// with one plane and one bank. Footprint rows are read as whole vectors: the planes must be
// readable for kSimdForwardSlack floats past their ends.
constexpr int kSimdForwardSlack = 16;
void ApplyRowSimd(const float* const* p, int channels, int banks, int pw, int w,
                  const std::int32_t* const* sel, const float* const* padded_taps, int size,
                  float* const* out);

// Backward pass (eq. 2.9).
// Floats the backward kernels may read past a footprint row (lanes whose products are
// dropped): the padded plane given to TapGradientSimd must be readable that far past its end.
constexpr int kSimdBackwardSlack = 16;
// One filter's tap gradient: out[dy * size + dx] += sum_i g[i] pad[offsets[i] + dy * pw + dx]
// over i in [0, count), in that order, summed in double precision.
void TapGradientSimd(const float* pad, int pw, const std::uint32_t* offsets, const float* g,
                     int count, int size, double* out);
// One padded row of the data gradient: out[x + dx] += sum_{dy in [dy0, dy1)} g_rows[dy][x] *
// h_{sel_rows[dy][x]}(dx, dy) for x in [0, w), with the filters laid out as for ApplyRowSimd.
// `out` must hold w + SimdFilterRowLength(size) floats.
void DataGradientRowSimd(const float* const* g_rows, const std::int32_t* const* sel_rows, int dy0,
                         int dy1, const float* padded_taps, int size, int w, float* out);

}  // namespace blade
