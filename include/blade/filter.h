// BLADE's adaptive filtering (eq. 2.1) and its backward pass (eq. 2.9), with a plain reference
// version.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "blade/image.h"
#include "blade/selection.h"

namespace blade {

// Largest footprint: trained models use 3..9; deconvolution enlarges them to absorb the blur
// (paper eq. 4.4), up to 15.
inline constexpr int kMaxFootprint = 15;

// A bank of `count` square filters with an odd footprint size x size (3..kMaxFootprint). Tap (dx,
// dy) of filter k, dx, dy in [-r, r], r = size / 2, is taps[k * size^2 + (dy + r) * size + (dx +
// r)]: out_i = sum_j h^{s(i)}_j z_{i+j} is a correlation, as in the paper.
struct FilterBank {
  int size = 5;
  int count = 0;
  std::vector<float> taps;

  FilterBank() = default;
  FilterBank(int count, int size);  // zero taps
  int radius() const { return size / 2; }
  int taps_per_filter() const { return size * size; }
  float* filter(int k) { return taps.data() + std::size_t(k) * size * size; }
  const float* filter(int k) const { return taps.data() + std::size_t(k) * size * size; }
  float& tap(int k, int dx, int dy) { return filter(k)[(dy + radius()) * size + dx + radius()]; }
  float tap(int k, int dx, int dy) const {
    return filter(k)[(dy + radius()) * size + dx + radius()];
  }
  void Validate() const;  // odd size 3..15, taps.size() == count * size^2, all finite
};

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

// Image-level forward: the same selection for every channel, each channel filtered.
Image ApplyFilters(const FilterBank& bank, const std::vector<std::int32_t>& sel, const Image& z);
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
// Two banks on the same image (the flux form's two fluxes): the same results as two
// ApplyFilters calls, in one pass for a gray image with equal footprints.
std::pair<Image, Image> ApplyFilterPair(const FilterBank& a, const std::vector<std::int32_t>& sel_a,
                                        const FilterBank& b, const std::vector<std::int32_t>& sel_b,
                                        const Image& z);

}  // namespace blade
