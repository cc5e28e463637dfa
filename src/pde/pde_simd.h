// Highway (runtime dispatch) row kernels of the fast reference-solver steps; each fast step is
// tested against its plain scalar version (tests/pde_test.cc, *MatchesPlain*).
//
// Conventions. A "padded row" p is readable on [-1, w + kSimdOverrun) (or [-R, w + R +
// kSimdOverrun) where a radius R is named) and holds the boundary ghost cells at p[-1] and p[w]
// (and further out to the radius) as each kernel states. Outputs written to scratch buffers may
// be written up to w rounded up to the vector length (so scratch needs kSimdOverrun floats of
// slack); outputs named "exact" are written on [0, w) only.
#pragma once

#include "ops/conv_simd.h"  // kSimdOverrun and the convolution rows

namespace blade {

// TV flow (REFERENCE_SCHEMES.md §1). up, r, dn: old rows n-1, n, n+1 (replicate: the caller
// passes r for a missing neighbour row), padded with replicate ghosts r[-1] = r[0],
// r[w] = r[w-1]. Writes the face fluxes a (x-face m+1/2) and b (y-face n+1/2) on [0, w).
void TvFluxRowSimd(const float* up, const float* r, const float* dn, int w, float eps2, float* a,
                   float* b);

// Perona–Malik (§2). r, dn: old rows n, n+1 (dn = r on the last row), r padded with a replicate
// ghost r[w] = r[w-1]. Writes fx = g(D+x)D+x and fy = g(D+y)D+y on [0, w).
void PmFluxRowSimd(const float* r, const float* dn, int w, float inv_k2, float* fx, float* fy);

// Flux-form update shared by TV and PM: out[x] = u[x] + rate * ((fx[x] - fx[x-1]) + (fy[x] -
// fy_up[x])), with fx[-1] readable (0 at the border), on [0, w) exact. out may equal u.
void FluxUpdateRowSimd(const float* u, const float* fx, const float* fy, const float* fy_up, int w,
                       float rate, float* out);

// CED (§3). Weickert–Scharr gradient of the rows up, r, dn (replicate-padded at x) times inv_dx,
// into the structure-tensor products: j11 = gx^2, j12 = gx gy, j22 = gy^2, or added to them
// if `accumulate` (channels after the first).
void CedTensorProductsRowSimd(const float* up, const float* r, const float* dn, int w, float inv_dx,
                              bool accumulate, float* j11, float* j12, float* j22);
// Diffusion tensor (a, b, c) from the integrated structure tensor (j11, j12, j22).
void CedDiffusionTensorRowSimd(const float* j11, const float* j12, const float* j22, int w,
                               float alpha, float contrast, float* a, float* b, float* c);
// Flux j = D G u / dx from the image rows up, r, dn (no padding needed: read on [0, w) only,
// replicate at the ends).
void CedFluxRowSimd(const float* up, const float* r, const float* dn, int w, float inv_dx,
                    const float* a, const float* b, const float* c, float* j1, float* j2);
// out[x] = u[x] + rate * (Gx^T j1 + Gy^T j2)[x] on [0, w) exact, where j1m/j1c/j1p are the j1
// rows n-1, n, n+1 (replicated at the ends of the column) padded with antisymmetric ghosts
// (j1[-1] = -j1[0], j1[w] = -j1[w-1]), and j2m/j2p the j2 rows n-1, n+1 padded with replicate
// ghosts, weighted by cm, cp: Dy^T j2 = cm j2m - cp j2p (0.5 each in the interior; at an end row
// the missing neighbour is the row itself with weight -0.5, the antisymmetric ghost).
void CedDivergenceUpdateRowSimd(const float* u, const float* j1m, const float* j1c,
                                const float* j1p, const float* j2m, const float* j2p, float cm,
                                float cp, int w, float rate, float* out);

}  // namespace blade
