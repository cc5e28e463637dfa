// Highway (runtime dispatch) symmetric convolution kernels, shared by the separable Gaussians of
// GaussianBlur, BLADE's selection and CED; tested against plain sums (tests/ops_test.cc,
// tests/pde_test.cc).
//
// Conventions. A "padded row" p is readable on [-R, w + R + kSimdOverrun) for radius R and holds
// the boundary extension out to the radius. Outputs written to scratch buffers may be written up
// to w rounded up to the vector length (so scratch needs kSimdOverrun floats of slack); outputs
// named "exact" are written on [0, w) only.
#pragma once

namespace blade {

// Slack (in floats) past w that every padded row and scratch buffer must provide.
constexpr int kSimdOverrun = 64;

// Symmetric convolution along x: out[x] = t[0] p[x] + sum_{k=1..R} t[k] (p[x-k] + p[x+k]) on
// [0, w); p padded to radius R.
void ConvRowSymSimd(const float* p, const float* taps, int radius, int w, float* out);
// The same (bit for bit) for 64-byte aligned p and out and w a multiple of 16, with 16 floats
// readable before p and w + 16 from it: faster with AVX-512 for radius <= 15.
constexpr int kConvRowSymAlignedMaxRadius = 15;
void ConvRowSymAlignedSimd(const float* p, const float* taps, int radius, int w, float* out);
// The same along y: rows[R + k] is row y + k (already extended), read on [0, w) only (they may
// be image rows without slack); out[x] on [0, w).
void ConvColsSymSimd(const float* const* rows, const float* taps, int radius, int w, float* out);

// Four rows of the same along y at once: rows[i] is row y0 - R + i for i < 2R + 4 (already
// extended; read up to w rounded up to the vector length), out[j] receives row y0 + j;
// padded_taps holds three zeros, all 2R + 1 taps in order, and three zeros.
void ConvColsBlock4Simd(const float* const* rows, const float* padded_taps, int radius, int w,
                        float* const* out);
// Four rows of ConvColsSymSimd at once (bit for bit its sums where w is a whole number of
// vectors, as in the selection's padded rows; its scalar tail may round differently), for
// radius 1..4: rows as for
// ConvColsBlock4Simd, taps as for ConvColsSymSimd. Fewer arithmetic operations than
// ConvColsBlock4Simd, for rows that sit in cache (selection's bands).
constexpr int kConvColsSym4MaxRadius = 4;
void ConvColsSym4Simd(const float* const* rows, const float* taps, int radius, int w,
                      float* const* out);

}  // namespace blade
