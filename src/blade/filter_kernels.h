// The kernel level of adaptive filtering (private to the blade layer; tests include it): raw
// per-plane kernels and their backward pass, the plain reference, and selection fused with
// filtering for the steppers.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "blade/filter.h"
#include "blade/image.h"
#include "blade/selection.h"

namespace blade {

// Raw kernels on one plane of width w, height h, templated so tests can run them in double.
// Borders replicate edge pixels. sel[i] in [0, bank count) selects the filter of pixel i.
template <typename T>
void ApplyPlane(const T* z, int w, int h, const std::int32_t* sel, const T* taps, int size, T* out);
// Backward of ApplyPlane given dL/dout: accumulates dL/dtaps (+=) and writes dL/dz
// (dz may be null to skip it). dL/dz_i = sum_j h^{s(i-j)}_j dout_{i-j}, with replicate borders
// folding the contributions of out-of-range reads back onto the edge pixels.
template <typename T>
void ApplyPlaneBackward(const T* z, int w, int h, const std::int32_t* sel, const T* taps, int size,
                        const T* dout, double* dtaps, T* dz);
// Obviously-correct per-pixel versions with clamped indexing (the test oracle).
template <typename T>
void ApplyPlaneReference(const T* z, int w, int h, const std::int32_t* sel, const T* taps, int size,
                         T* out);

// Selection (Select) and filtering with one or two banks fused band by band: each band of
// rows is filtered as soon as its indices are computed, while they are in cache. The same
// images as ApplyFilters(bank, Select(config, z), z) for each bank, bit for bit.
std::vector<Image> SelectAndFilter(const SelectionConfig& config,
                                   const std::vector<const FilterBank*>& banks, const Image& z);
// An explicit step of the direct form in the same pass: base + scale * ApplyFilters(bank,
// Select(config, z), z), each band updated while in cache (the same arithmetic as Axpy);
// *finite (if not null) says whether every value of the result is finite.
Image SelectFilterUpdate(const SelectionConfig& config, const FilterBank& bank, const Image& z,
                         const Image& base, float scale, bool* finite);
// A bank's filters in the SIMD kernels' layout (each filter row zero-padded to whole vectors),
// built once for the many steps of a run instead of at every step (for a 576-filter 7x7 bank,
// 129 KB written per step). It reads `bank` at construction only: rebuild it after changing
// the taps.
struct PaddedBank {
  explicit PaddedBank(const FilterBank& bank);
  const FilterBank& bank;
  AlignedVector<float> taps;
};
// SelectFilterUpdate with the bank already padded: the same result, bit for bit.
Image SelectFilterUpdate(const SelectionConfig& config, const PaddedBank& bank, const Image& z,
                         const Image& base, float scale, bool* finite);
// The same, written into `out` (reused when its shape fits, else reallocated), which must be
// neither z nor base: a run alternates two buffers instead of allocating one per step.
void SelectFilterUpdate(const SelectionConfig& config, const PaddedBank& bank, const Image& z,
                        const Image& base, float scale, bool* finite, Image& out);
// Two banks on the same image (the flux form's two fluxes): the same results as two
// ApplyFilters calls, in one pass for a gray image with equal footprints.
std::pair<Image, Image> ApplyFilterPair(const FilterBank& a, const std::vector<std::int32_t>& sel_a,
                                        const FilterBank& b, const std::vector<std::int32_t>& sel_b,
                                        const Image& z);

}  // namespace blade
