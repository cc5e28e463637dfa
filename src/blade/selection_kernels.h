// Selection handed over band by band (for fused filtering), and its plain per-pixel reference
// (private to the blade layer; tests include it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "blade/image.h"
#include "blade/selection.h"

namespace blade {

// The same indices handed over a band of rows at a time, as soon as each band is computed and
// from the thread that computed it: on_rows(y0, y1, sel, pitch) gets rows [y0, y1), row y at
// sel + (y - y0) * pitch, valid only during the call. Bands cover the image once each, in any
// order and in parallel, so a consumer that works row by row (filtering) keeps the indices
// in cache instead of a whole-image array.
using SelectedRows =
    std::function<void(int y0, int y1, const std::int32_t* sel, std::size_t pitch)>;
void SelectRows(const SelectionConfig& config, const Image& image, const SelectedRows& on_rows);
// Plain per-pixel reference of Select (direct formulas, no shared passes); tests compare.
std::vector<std::int32_t> SelectReference(const SelectionConfig& config, const Image& image);

}  // namespace blade
