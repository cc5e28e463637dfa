// Least-squares training of learned denoisers: training photographs with seeded Gaussian noise
// against their originals, one system per filter, stage by stage and noise level by level.
#include <algorithm>
#include <cmath>
#include <random>

#include "blade/error.h"
#include "blade/parallel.h"
#include "blade/restore.h"
#include "blade/train.h"
#include "train/normal_equations.h"

namespace blade {

SelectionConfig DenoiseTrainOptions::DefaultDenoiseSelection() {
  SelectionConfig s;
  s.SetBins({24, 3, 3});
  s.rho = 0;
  return s;
}

Image DenoiseTrainingInput(const Image& clean, const DenoiseTrainOptions& o, int level, int image,
                           int transform) {
  const double sigma = o.sigmas.at(level);
  Image f = clean.Copy();
  std::seed_seq seq{o.seed, std::uint32_t(std::lround(sigma * 1000)), std::uint32_t(image),
                    std::uint32_t(transform)};
  std::mt19937 rng(seq);
  std::normal_distribution<float> noise(0.f, float(sigma / 255));
  for (std::size_t j = 0; j < f.size(); ++j)
    f.data()[j] = std::clamp(f.data()[j] + noise(rng), 0.f, 1.f);
  return f;
}

double DenoiseSelectionRho(double sigma255) { return std::clamp(1 + sigma255 / 10, 1.5, 3.0); }

void DenoiseTrainOptions::Validate() const {
  if (sigmas.empty() || sigmas.size() > 16)
    Fail("give 1..16 noise levels (got ", sigmas.size(), ")");
  for (std::size_t k = 0; k < sigmas.size(); ++k)
    if (!(sigmas[k] > 0 && sigmas[k] <= kMaxDenoiseSigma) || (k > 0 && sigmas[k] <= sigmas[k - 1]))
      Fail("noise levels must ascend within (0, ", kMaxDenoiseSigma, "] (0-255 units)");
  if (channels != 1 && channels != 3) Fail("channels must be 1 (gray) or 3 (color)");
  if (footprint < 3 || footprint > 11 || footprint % 2 == 0)
    Fail("footprint must be odd, 3..11 (got ", footprint, ")");
  if (augment != 1 && augment != 2 && augment != 4 && augment != 8)
    Fail("augment must be 1, 2, 4 or 8 (got ", augment, ")");
  if (stages < 1 || stages > 4) Fail("stages must be 1..4 (got ", stages, ")");
  RequireNonNegative(ridge, "ridge");
  if (min_samples < 0) Fail("min samples must be >= 0");
  if (selection.intensities != 1)
    Fail("a learned denoiser selects by orientation, strength and coherence only");
  if (selection.orientations < 1 || selection.orientations > 64 || selection.strengths < 1 ||
      selection.strengths > 16 || selection.coherences < 1 || selection.coherences > 16)
    Fail("bins must be orientations 1..64, strengths and coherences 1..16");
  if (!(selection.rho >= 0 && std::isfinite(selection.rho)))
    Fail("rho must be positive, or 0 for each noise level's own");
}

Model TrainDenoiseModel(const std::vector<Image>& clean_images, const DenoiseTrainOptions& o) {
  o.Validate();
  if (clean_images.empty()) Fail("denoiser training needs at least one image");
  const int size = o.footprint;
  for (std::size_t i = 0; i < clean_images.size(); ++i) {
    const Image& c = clean_images[i];
    if (c.channels() != o.channels)
      Fail("denoiser training image ", i + 1, " of ", clean_images.size(), " has ", c.channels(),
           " channel(s); a ", o.channels == 1 ? "gray" : "color", " denoiser needs ", o.channels);
    // Every pixel a footprint radius from the border is a sample; this leaves at least half.
    if (c.width() < 2 * size || c.height() < 2 * size)
      Fail("denoiser training image ", i + 1, " of ", clean_images.size(), " is ", c.width(), "x",
           c.height(), "; ", size, "x", size, " filters need at least ", 2 * size,
           " pixels on a side");
  }
  Model m;
  m.form = ModelForm::kDenoise;
  m.denoise = {o.sigmas, o.stages, o.channels};
  // The input of stage `stage` of level k: image i's dihedral copy t with its noise (the same
  // draw at every stage) through the stages trained so far.
  auto stage_input = [&](const Image& clean, int k, int i, int t, int stage) {
    Image u = DenoiseTrainingInput(clean, o, k, i, t);
    for (int s = 0; s < stage; ++s) DenoiseStage(m, k, s, u);
    return u;
  };
  int fallbacks = 0;
  const int filters = o.selection.num_filters();
  std::string rhos;
  for (int k = 0; k < int(o.sigmas.size()); ++k) {
    SelectionConfig base = o.selection;
    if (base.rho == 0) base.rho = DenoiseSelectionRho(o.sigmas[k]);
    rhos += StrCat(k ? ", " : "", base.rho);
    for (int stage = 0; stage < o.stages; ++stage) {
      SelectionConfig cfg = base;  // each stage's thresholds fit its own inputs
      {
        std::vector<Image> inputs(clean_images.size());
        ParallelFor(0, int(inputs.size()),
                    [&](int i) { inputs[i] = stage_input(clean_images[i], k, i, 0, stage); });
        std::vector<const Image*> ptrs;
        for (const Image& s : inputs) ptrs.push_back(&s);
        FitThresholds(cfg, ptrs);
      }
      // Every (image, transform) pair's samples (24 x 3 x 3 bins, 9x9 taps: 20 MB a chunk); a
      // color image's channels are samples of the same filters.
      FilterBank bank = FitResidualFilters(
          filters, size, int(clean_images.size()) * o.augment, o.ridge, o.min_samples,
          "denoiser least squares",
          [&](int j, PatchAccumulator& acc) {
            const int i = j / o.augment, t = j % o.augment;
            const Image clean = Dihedral(clean_images[i], t);
            const Image u = stage_input(clean, k, i, t, stage);
            const std::vector<std::int32_t> keys = Select(cfg, u);
            if (o.channels == 1) {
              acc.Add(u, keys, clean, u, 1.0, size / 2);
              return;
            }
            for (int ch = 0; ch < o.channels; ++ch) {
              const Image uc = ExtractChannel(u, ch);
              acc.Add(uc, keys, ExtractChannel(clean, ch), uc, 1.0, size / 2);
            }
          },
          &fallbacks);
      m.banks.push_back({cfg, std::move(bank)});
    }
  }
  m.dt = 1;
  m.steps = 1;
  std::string levels;
  for (std::size_t k = 0; k < o.sigmas.size(); ++k) levels += StrCat(k ? ", " : "", o.sigmas[k]);
  m.provenance["training"] = StrCat(
      "least squares, level by level and stage by stage, of the residual clean - (stage input) "
      "on ",
      clean_images.size(), o.channels == 1 ? " gray" : " color", " images x ", o.augment,
      " dihedral copies, each with seeded Gaussian noise (seed ", o.seed,
      ", clipped to [0, 1]) of sigma ", levels, " (0-255); ", o.stages, " stage(s) of ", filters,
      " filters per level (", fallbacks, " pooled fallbacks in all), ", size, "x", size,
      " taps, selection rho ", rhos, ", ridge ", o.ridge);
  if (o.zero_sum) ProjectFiltersToZeroSum(m);
  return m;
}

}  // namespace blade
