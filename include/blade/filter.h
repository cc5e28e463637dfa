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

// Image-level forward: the same selection for every channel, each channel filtered.
Image ApplyFilters(const FilterBank& bank, const std::vector<std::int32_t>& sel, const Image& z);

}  // namespace blade
