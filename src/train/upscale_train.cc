// Least-squares training of learned upscalers (RAISR-style BLADE): degraded and interpolated
// training photographs against their originals, one system per filter and pixel phase.
#include <algorithm>

#include "blade/error.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/restore.h"
#include "blade/train.h"
#include "train/normal_equations.h"

namespace blade {

SelectionConfig UpscaleTrainOptions::DefaultUpscaleSelection() {
  SelectionConfig s;
  s.SetBins({24, 3, 3});
  return s;
}

UpscaleTrainOptions RecommendedUpscaleTrainOptions(int factor, const std::string& degradation) {
  UpscaleTrainOptions o;
  o.factor = factor;
  o.degradation = degradation;
  o.stages = factor <= 2 ? 3 : 2;
  o.selection.rho = factor <= 2 ? 1.0 : 2.0;
  return o;
}

void UpscaleTrainOptions::Validate() const {
  if (factor < 2 || factor > 8) Fail("upscaling factor must be 2..8 (got ", factor, ")");
  ParseDegradation(degradation);
  if (footprint < 3 || footprint > 11 || footprint % 2 == 0)
    Fail("footprint must be odd, 3..11 (got ", footprint, ")");
  if (augment != 1 && augment != 2 && augment != 4 && augment != 8)
    Fail("augment must be 1, 2, 4 or 8 (got ", augment, ")");
  if (stages < 1 || stages > 4) Fail("stages must be 1..4 (got ", stages, ")");
  if (back_projections < 0 || back_projections > 100)
    Fail("back-projections must be 0..100 (got ", back_projections, ")");
  RequireNonNegative(ridge, "ridge");
  if (min_samples < 0) Fail("min samples must be >= 0");
  if (selection.intensities != 1)
    Fail("a learned upscaler selects by orientation, strength and coherence only");
  if (selection.orientations < 1 || selection.orientations > 64 || selection.strengths < 1 ||
      selection.strengths > 16 || selection.coherences < 1 || selection.coherences > 16)
    Fail("bins must be orientations 1..64, strengths and coherences 1..16");
}

Model TrainUpscaleModel(const std::vector<Image>& hr_images, const UpscaleTrainOptions& o) {
  o.Validate();
  if (hr_images.empty()) Fail("upscaler training needs at least one image");
  const int F = o.factor, size = o.footprint;
  const Degradation degradation = ParseDegradation(o.degradation);
  for (const Image& hr : hr_images) {
    if (hr.width() < 2 * size * F || hr.height() < 2 * size * F)
      Fail("an upscaler training image is ", hr.width(), "x", hr.height(), ": at least ",
           2 * size * F, " pixels on a side are needed (twice the ", size, "-tap footprint at x", F,
           ")");
    if (hr.channels() != 1 || hr.width() % F != 0 || hr.height() % F != 0)
      Fail(
          "upscaler training images must be gray (luma) and a multiple of the factor in size "
          "(got ",
          hr.width(), "x", hr.height(), "x", hr.channels(), ")");
  }
  // The input of stage `stage` for one training image: its degraded observation f, the
  // Lanczos-3 start and the stages already trained (the model `m` so far) applied to it.
  Model m;
  m.form = ModelForm::kUpscale;
  m.upscale.factor = F;
  m.upscale.degradation = DegradationName(degradation);
  m.upscale.back_projections = o.back_projections;
  auto stage_input = [&](const Image& hr, int stage) {
    const Image f = Degrade(hr, F, degradation);
    Image u = UpscaleStart(f, F, degradation, o.back_projections);
    for (int s = 0; s < stage; ++s)
      UpscaleStage(m.banks[s], f, F, degradation, o.back_projections, u);
    return u;
  };
  int fallbacks = 0;
  long filters = 0;
  for (int stage = 0; stage < o.stages; ++stage) {
    SelectionConfig cfg = o.selection;  // each stage's thresholds fit its own inputs
    {
      std::vector<Image> inputs(hr_images.size());
      ParallelFor(0, int(inputs.size()),
                  [&](int i) { inputs[i] = stage_input(hr_images[i], stage); });
      std::vector<const Image*> ptrs;
      for (const Image& s : inputs) ptrs.push_back(&s);
      FitThresholds(cfg, ptrs);
    }
    filters = cfg.num_filters() * F * F;
    // Every (image, transform) pair's samples (x4, 24 x 3 x 3 bins, 7x7 taps: 154 MB a chunk).
    FilterBank bank = FitResidualFilters(
        int(filters), size, int(hr_images.size()) * o.augment, o.ridge, o.min_samples,
        "upscaler least squares",
        [&](int j, PatchAccumulator& acc) {
          const Image hr = Dihedral(hr_images[j / o.augment], j % o.augment);
          const Image u = stage_input(hr, stage);
          acc.Add(u, UpscaleFilterIndices(cfg, F, u), hr, u, 1.0, size / 2);
        },
        &fallbacks);
    m.banks.push_back({cfg, std::move(bank)});
  }
  m.dt = 1;
  m.steps = 1;
  m.provenance["training"] =
      StrCat("least squares, stage by stage, of the residual HR - (stage input) on ",
             hr_images.size(), " images x ", o.augment, " dihedral copies; ", o.stages,
             " stage(s) of ", filters, " filters (", filters / (F * F), " selection bins x ", F * F,
             " phases; ", fallbacks, " pooled fallbacks in all); x", F, ", ",
             DegradationName(degradation), " degradation, ", size, "x", size, " taps, ridge ",
             o.ridge, ", ", o.back_projections, " back-projection(s) per stage");
  return m;
}

}  // namespace blade
