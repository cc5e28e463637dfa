// Applications of a trained model without retraining (paper §4, §5): one header for all of them.
#pragma once

#include "blade/model.h"
#include "blade/resample.h"      // resampling along optical flows, burst alignment
#include "blade/restore.h"       // restoration, deconvolution, upscaling
#include "blade/segmentation.h"  // Chan–Vese segmentation

namespace blade {

// The applications that take a PDE model as their regulariser.
enum class Application { kSegment, kRestore, kDeconvolve, kUpscale };

// Fails, saying what the application needs, unless the model's PDE is one the application was
// validated with (docs/RESULTS.md): segmentation and upscaling TV flow, deconvolution CED,
// restoration TV, Perona-Malik or CED. `force` (--force-model) skips the PDE check; a
// resampling model is refused always.
void RequireModelFor(Application app, const Model& model, bool force = false);

}  // namespace blade
