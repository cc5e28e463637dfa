// Applications of a trained model without retraining (paper §4, §5): one header for all of them.
#pragma once

#include <memory>
#include <string>

#include "blade/model.h"
#include "blade/resample.h"      // resampling along optical flows, burst alignment
#include "blade/restore.h"       // restoration, deconvolution, upscaling
#include "blade/segmentation.h"  // Chan–Vese segmentation

namespace blade {

// The applications that take a PDE model as their regulariser, and resampling along a flow.
enum class Application { kSegment, kRestore, kDeconvolve, kUpscale, kResample, kDenoise };

// The shipped model an application uses when none is given, chosen on held-out photographs
// (models/README.md, docs/RESULTS.md): segment, upscale and denoise "tv-plain" (the TV model
// without the scheme term; denoising prefers a learned denoiser, DefaultDenoiseModelName), restore
// and deconv "ced-restore", resample "resample3".
std::string DefaultModelName(Application app);
// Upscaling's default for a factor and degradation: the shipped learned upscaler trained for
// them ("upscale-x2-area"; x2 and x4, area and bicubic), else DefaultModelName(kUpscale), the
// TV model with eq. 4.6.
std::string DefaultUpscaleModelName(int factor, const Degradation& degradation);
// Denoising's default for a noise level, image and options: the shipped learned denoiser for the
// image's channels ("denoise-gray", "denoise-color"; docs/RESULTS.md) where it covers sigma255
// (kShippedDenoiseSigmas) and the options leave the rule to decide (no time, SURE or PDE
// parameters), else DefaultModelName(kDenoise), the TV model, which covers (0, 100] and takes
// those options.
inline constexpr double kShippedDenoiseSigmas[2] = {2, 100};
std::string DefaultDenoiseModelName(double sigma255, int channels, const DenoiseOptions& options);
// "segment", "restore", "deconv", "upscale", "resample", "denoise" (the command names); fails on
// another.
Application ParseApplication(const std::string& name);
// The file of shipped model `name` ("tv" -> .../tv.blade): from $BLADE_MODELS_DIR if set, else
// the installed share/blade/models, else the source tree's models/ (a build that was not
// installed). Fails naming where it looked.
std::string ShippedModelPath(const std::string& name);
// A model argument as users give it: a path that exists is taken as is; otherwise a bare name
// (no folder; ".blade" optional), e.g. "tv-plain", names a shipped model (ShippedModelPath);
// anything else is returned unchanged, for LoadModel to report as missing.
std::string ResolveModelPath(const std::string& given);
// The shipped model `name`, loaded once per process and file version (its path and modification
// time): parsing a model file takes 10 to 100 ms, as long as a whole denoising run on a small
// photo, so front ends that run many images (Python) share one copy. Thread-safe.
std::shared_ptr<const Model> LoadShippedModel(const std::string& name);

// Fails, saying what the application needs, unless the model's PDE is one the application was
// validated with (docs/RESULTS.md): segmentation and upscaling TV flow, deconvolution CED,
// restoration TV, Perona-Malik or CED. `force` (--force-model) skips the PDE check; a
// resampling model is refused always, except by kResample, which takes only resampling models.
void RequireModelFor(Application app, const Model& model, bool force = false);

}  // namespace blade
