// Learned upscaling (RAISR-style BLADE): a Lanczos-3 start, stages of adaptive filtering keyed
// by the selection index and the pixel phase, the refiner network, back-projection onto the data.
#include <algorithm>

#include "blade/convnet.h"
#include "blade/error.h"
#include "blade/filter.h"
#include "blade/parallel.h"
#include "blade/restore.h"

namespace blade {

std::vector<std::int32_t> UpscaleFilterIndices(const SelectionConfig& selection, int factor,
                                               const Image& u0) {
  std::vector<std::int32_t> keys = Select(selection, u0);
  const int w = u0.width(), h = u0.height(), phases = factor * factor;
  ParallelFor(0, h, [&](int y) {
    std::int32_t* row = keys.data() + std::size_t(y) * w;
    const int py = (y % factor) * factor;
    for (int x = 0; x < w; ++x) row[x] = row[x] * phases + py + x % factor;
  });
  return keys;
}

Image UpscaleStart(const Image& f, int factor, const Degradation& degradation,
                   int back_projections) {
  Image u =
      ResizeLanczos3(f, f.width() * factor, f.height() * factor, DegradationLattice(degradation));
  BackProject(u, f, factor, degradation, back_projections);
  return u;
}

void UpscaleStage(const Bank& stage, const Image& f, int factor, const Degradation& degradation,
                  int back_projections, Image& u) {
  {
    const Image correction =
        ApplyFilters(stage.filters, UpscaleFilterIndices(stage.selection, factor, u), u);
    Axpy(1.f, correction, u);
  }
  BackProject(u, f, factor, degradation, back_projections);
}

Planes RefinerInput(const Image& f, const Image& u, int factor) {
  if (f.channels() != 1 || u.channels() != 1 || u.width() != f.width() * factor ||
      u.height() != f.height() * factor)
    Fail("the refiner needs a gray image and its x", factor, " upscale");
  Planes in(1 + factor * factor, f.width(), f.height());
  std::copy_n(f.plane(0), f.plane_size(), in.plane(0));
  SpaceToDepth(u, factor, in, 1);
  for (float& v : in.data) v -= 0.5f;
  return in;
}

void UpscaleRefine(const ConvNet& net, const Image& f, int factor, Image& u) {
  if (u.channels() != f.channels()) Fail("the refiner needs f and u of the same channels");
  if (u.channels() == 1) {
    AddDepthToSpace(ConvNetForward(net, RefinerInput(f, u, factor)), factor, u);
    return;
  }
  for (int c = 0; c < u.channels(); ++c) {
    const Image fc = ExtractChannel(f, c);
    Image uc = ExtractChannel(u, c);
    AddDepthToSpace(ConvNetForward(net, RefinerInput(fc, uc, factor)), factor, uc);
    std::copy_n(uc.plane(0), uc.plane_size(), u.plane(c));
  }
}

Image UpscaleLearned(const Model& model, const Image& f) {
  if (model.form != ModelForm::kUpscale)
    Fail("learned upscaling needs an upscale model (`blade train-upscale`); this is a ",
         FormName(model.form), " model");
  if (!AllFinite(f)) Fail("the image to upscale contains NaN or infinite values");
  const int factor = model.upscale.factor;
  const Degradation degradation = ParseDegradation(model.upscale.degradation);
  CheckUpscaledSize(f, factor);
  Image u = UpscaleStart(f, factor, degradation, model.upscale.back_projections);
  for (const Bank& stage : model.banks)
    UpscaleStage(stage, f, factor, degradation, model.upscale.back_projections, u);
  if (!model.upscale.refiner.empty()) {
    UpscaleRefine(model.upscale.refiner, f, factor, u);
    BackProject(u, f, factor, degradation, model.upscale.back_projections);
  }
  return u;
}

UpscaleSetting ResolveUpscaleSetting(const Model* model, std::optional<int> factor,
                                     const std::string& degradation, bool project) {
  const bool learned = model != nullptr && model->form == ModelForm::kUpscale;
  UpscaleSetting s;
  s.factor = factor ? *factor : learned ? model->upscale.factor : kUpscaleFactor;
  if (s.factor < 2 || s.factor > 16)
    Fail("the upscaling factor must be 2..16 (got ", s.factor, ")");
  s.degradation = ParseDegradation(!degradation.empty() ? degradation
                                   : learned            ? model->upscale.degradation
                                   : project            ? kProjectedUpscaleDegradation
                                                        : kUpscaleDegradation);
  return s;
}

void CheckUpscaleRequest(const Model& model, const Degradation& degradation,
                         const UpscaleRequest& r, std::string* note) {
  const bool learned = model.form == ModelForm::kUpscale;
  if (learned && r.project)
    Fail("project (--project, eq. 4.7) needs a PDE regulariser, not a learned upscaler");
  if (r.project && degradation.kind != Degradation::Kind::kCorner)
    Fail("project (--project, eq. 4.7) needs a corner:SIGMA degradation, not ",
         DegradationName(degradation));
  if (r.fast && !learned)
    Fail(
        "fast (--fast) skips a learned upscaler's refiner network; this is a PDE regulariser "
        "(eq. 4.6)");
  if (learned && (r.lambda_given || r.steps_given || r.dt_given || r.unsafe))
    Fail(
        "lambda, steps, dt and unsafe (--lambda, --steps, --dt, --unsafe) belong to the "
        "PDE-regularised forms; a learned upscaler filters once and back-projects");
  if (r.fast && model.upscale.refiner.empty() && note != nullptr)
    *note = "this learned upscaler has no refiner network: fast changes nothing";
}

Image Upscale(const Model& model, const Image& f, int factor, const Degradation& degradation,
              const RestoreOptions& options) {
  if (model.form != ModelForm::kUpscale)
    return UpscaleRegularised(model, f, factor, degradation, options);
  if (factor != model.upscale.factor ||
      DegradationName(degradation) != DegradationName(ParseDegradation(model.upscale.degradation)))
    Fail("this learned upscaler was trained for x", model.upscale.factor, " ",
         model.upscale.degradation, " inputs, not x", factor, " ", DegradationName(degradation),
         " (give the factor and degradation it was trained for, or another model)");
  return UpscaleLearned(model, f);
}

}  // namespace blade
