// Selection fused with filtering band by band, for the steppers: SelectAndFilter,
// SelectFilterUpdate and the run's padded bank.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <type_traits>

#include "blade/error.h"
#include "blade/filter_kernels.h"
#include "blade/parallel.h"
#include "blade/selection_kernels.h"
#include "filter_internal.h"
#include "filter_simd.h"

namespace blade {

using namespace filter_internal;

namespace {

// SelectAndFilter, and with `base`: each filtered band replaced at once (while in cache) by
// base + scale * filtered, its finiteness ANDed into *finite (if given).
std::vector<Image> FusedSelectFilter(const SelectionConfig& cfg,
                                     const std::vector<const FilterBank*>& banks, const Image& z,
                                     const Image* base, float scale, bool* finite,
                                     const float* prepadded = nullptr, Image* into = nullptr) {
  if (banks.empty() || banks.size() > 2) Fail("select-and-filter takes one or two filter banks");
  if (base != nullptr && banks.size() != 1) Fail("an update step takes one filter bank");
  if (base != nullptr) RequireSameShape(*base, z, "the step's base and input");
  if (into != nullptr && (base == nullptr || into == &z || into == base))
    Fail("an update step writes into an image other than its input and base");
  cfg.Validate();
  for (const FilterBank* b : banks) {
    RequireBankShape(*b);
    // Selection indices are below num_filters() by construction: the kernel needs no scan.
    if (cfg.num_filters() > b->count)
      Fail("the selection defines ", cfg.num_filters(), " filters, but the bank has ", b->count);
  }
  const int w = z.width(), h = z.height(), channels = z.channels();
  const bool together = banks.size() == 1 || (channels == 1 && banks[0]->size == banks[1]->size);
  if (!together) {
    // Two banks on color, or of different footprints: one selection, two filtering passes.
    const std::vector<std::int32_t> sel = Select(cfg, z);
    std::vector<Image> out;
    for (const FilterBank* b : banks) out.push_back(ApplyFilters(*b, sel, z));
    return out;
  }
  const int nb = int(banks.size());
  const float* planes[3] = {};
  for (int c = 0; c < channels; ++c) planes[c] = z.plane(c);
  int count[2];
  const float* taps[2];
  for (int b = 0; b < nb; ++b) {
    count[b] = cfg.num_filters();
    taps[b] = banks[b]->taps.data();
  }
  // Each band pads its own rows (below), while they are in cache, instead of a whole-image copy.
  const PreparedFilters p = PrepareFilters(planes, channels, w, h, nb, count, taps, banks[0]->size,
                                           false, prepadded != nullptr ? &prepadded : nullptr);
  const int r = banks[0]->size / 2;
  std::vector<Image> out;
  float* outs[6] = {};
  for (int b = 0; b < nb; ++b) {
    // A run's steps write into the caller's buffer: no image-sized allocation per step.
    if (into != nullptr &&
        (into->width() != w || into->height() != h || into->channels() != channels))
      *into = Image::Uninitialized(w, h, channels);
    out.push_back(into != nullptr ? std::move(*into) : Image::Uninitialized(w, h, channels));
    for (int c = 0; c < channels; ++c) outs[b * channels + c] = out.back().plane(c);
  }
  std::atomic<bool> all_finite{true};
  // Each band of rows is filtered as soon as its indices exist, by the thread that selected it.
  SelectRows(cfg, z, [&](int y0, int y1, const std::int32_t* sel, std::size_t pitch) {
    const std::int32_t* sels[2] = {sel, sel};
    // Padded rows y0 .. y1 + 2r of each plane (image rows y0 - r .. y1 + r - 1, clamped).
    thread_local AlignedVector<float> band[3];
    const float* padded[3] = {};
    const int rows = y1 - y0 + 2 * r;
    for (int c = 0; c < channels; ++c) {
      band[c].resize(std::size_t(rows) * p.pw + kSimdForwardSlack);
      std::fill(band[c].end() - kSimdForwardSlack, band[c].end(), 0.f);
      for (int i = 0; i < rows; ++i)
        PadRow(planes[c], w, h, r, y0 + i, band[c].data() + std::size_t(i) * p.pw);
      padded[c] = band[c].data();
    }
    p.Rows(y0, y1, sels, pitch, outs, padded, y0);
    if (base == nullptr) return;
    // The update on the rows just written, with AxpyAllFinite's arithmetic.
    const std::size_t i0 = std::size_t(y0) * w, n = std::size_t(y1 - y0) * w;
    for (int c = 0; c < channels; ++c)
      if (!UpdateAllFinite(scale, outs[c] + i0, base->plane(c) + i0, outs[c] + i0, n))
        all_finite = false;
  });
  if (finite != nullptr) *finite = all_finite;
  if (into != nullptr) *into = std::move(out[0]);
  return out;
}

}  // namespace

std::vector<Image> SelectAndFilter(const SelectionConfig& cfg,
                                   const std::vector<const FilterBank*>& banks, const Image& z) {
  return FusedSelectFilter(cfg, banks, z, nullptr, 1.f, nullptr);
}

Image SelectFilterUpdate(const SelectionConfig& cfg, const FilterBank& bank, const Image& z,
                         const Image& base, float scale, bool* finite) {
  return std::move(FusedSelectFilter(cfg, {&bank}, z, &base, scale, finite)[0]);
}

PaddedBank::PaddedBank(const FilterBank& filters) : bank(filters) {
  RequireBankShape(bank);
  PadFilterRows(bank.taps.data(), bank.count, bank.size, SimdFilterRowLength(bank.size), taps);
}

Image SelectFilterUpdate(const SelectionConfig& cfg, const PaddedBank& bank, const Image& z,
                         const Image& base, float scale, bool* finite) {
  if (bank.taps.size() !=
      bank.bank.taps.size() / bank.bank.size * SimdFilterRowLength(bank.bank.size))
    Fail("the padded filter bank no longer matches its bank (its taps were resized)");
  Image out;
  SelectFilterUpdate(cfg, bank, z, base, scale, finite, out);
  return out;
}

void SelectFilterUpdate(const SelectionConfig& cfg, const PaddedBank& bank, const Image& z,
                        const Image& base, float scale, bool* finite, Image& out) {
  if (bank.taps.size() !=
      bank.bank.taps.size() / bank.bank.size * SimdFilterRowLength(bank.bank.size))
    Fail("the padded filter bank no longer matches its bank (its taps were resized)");
  FusedSelectFilter(cfg, {&bank.bank}, z, &base, scale, finite, bank.taps.data(), &out);
}

}  // namespace blade
