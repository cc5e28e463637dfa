// Learned denoising: per noise level, a few BLADE stages from the noisy image; levels between the
// model's knots blended in log sigma.
#include <cmath>
#include <utility>
#include <vector>

#include "blade/error.h"
#include "blade/filter.h"
#include "blade/restore.h"

namespace blade {
namespace {

void RequireDenoiser(const Model& model) {
  if (model.form != ModelForm::kDenoise)
    Fail("learned denoising needs a denoise model (`blade train-denoise`); this is a ",
         FormName(model.form), " model");
}

Image DenoiseAtLevel(const Model& model, int level, const Image& f) {
  Image u = f.Copy();
  for (int s = 0; s < model.denoise.stages; ++s) DenoiseStage(model, level, s, u);
  return u;
}

}  // namespace

void DenoiseStage(const Model& model, int level, int stage, Image& u) {
  RequireDenoiser(model);
  if (level < 0 || level >= int(model.denoise.sigmas.size()) || stage < 0 ||
      stage >= model.denoise.stages)
    Fail("this learned denoiser has ", model.denoise.sigmas.size(), " noise level(s) of ",
         model.denoise.stages, " stage(s); there is no level ", level, " stage ", stage);
  const Bank& bank = model.banks[std::size_t(level) * model.denoise.stages + stage];
  const Image correction = ApplyFilters(bank.filters, Select(bank.selection, u), u);
  Axpy(1.f, correction, u);
}

std::vector<std::pair<int, double>> DenoiseLevelWeights(const Model& model, double sigma255) {
  RequireDenoiser(model);
  const std::vector<double>& k = model.denoise.sigmas;
  // Knots are stored as decimals; a level typed as the same decimal is that knot.
  const double tol = 1e-9;
  if (!(sigma255 >= k.front() * (1 - tol) && sigma255 <= k.back() * (1 + tol)))
    Fail("this learned denoiser covers noise sigma ",
         k.size() == 1 ? StrCat(k[0], " only") : StrCat(k.front(), " to ", k.back()),
         " (0-255 units; got ", sigma255,
         "); the TV model (the shipped tv-plain, the default "
         "outside the learned levels) covers (0, ",
         kMaxDenoiseSigma, "]");
  for (std::size_t j = 0; j < k.size(); ++j)
    if (std::abs(sigma255 - k[j]) <= tol * k[j]) return {{int(j), 1.0}};
  std::size_t j = 0;
  while (sigma255 > k[j + 1]) ++j;
  const double w = std::log(sigma255 / k[j]) / std::log(k[j + 1] / k[j]);
  return {{int(j), 1 - w}, {int(j + 1), w}};
}

Image DenoiseLearned(const Model& model, const Image& f, double sigma255) {
  RequireDenoiser(model);
  const auto weights = DenoiseLevelWeights(model, sigma255);
  if (!AllFinite(f)) Fail("the noisy image contains NaN or infinite values");
  if (model.denoise.channels == 3 && f.channels() != 3)
    Fail("this learned denoiser was trained on color images; a ", f.channels(),
         "-channel image needs a gray one (the shipped denoise-gray)");
  if (model.denoise.channels == 1 && f.channels() != 1) {
    // Each channel is a gray image with the same noise.
    std::vector<Image> planes;
    for (int c = 0; c < f.channels(); ++c)
      planes.push_back(DenoiseLearned(model, ExtractChannel(f, c), sigma255));
    std::vector<const Image*> ptrs;
    for (const Image& p : planes) ptrs.push_back(&p);
    return StackChannels(ptrs);
  }
  Image u = DenoiseAtLevel(model, weights[0].first, f);
  if (weights.size() == 2) {
    // (1 - w) u + w v = u + w (v - u).
    const Image v = DenoiseAtLevel(model, weights[1].first, f);
    const float w = float(weights[1].second);
    for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] += w * (v.data()[i] - u.data()[i]);
  }
  return u;
}

}  // namespace blade
