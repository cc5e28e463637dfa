// The documented best training recipe per preset and form, and the protocol's training sequences.
#include <string>
#include <vector>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/train.h"

namespace blade {

TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form) {
  if (form == ModelForm::kResample) Fail("use the resampling trainer for resampling models");
  TrainOptions o;  // the direct form's recipe (the member defaults)
  o.form = form;
  o.selection.rho = preset.selection_rho;
  o.selection.SetBins(preset.selection_bins);
  if (form == ModelForm::kFlux) {
    // Newton's preconditioner is the direct form's one-step curvature; the flux banks are
    // coupled through the divergence, so they are fine-tuned by Adam on whole frames.
    o.footprint = 5;
    o.optimizer = Optimizer::kAdam;
    o.epochs = 40;
    o.crop = 0;
    o.patience = 8;
    o.learning_rate = 5e-4;
  } else if (preset.pde == Pde::kPm) {
    o.ridge = 1e-5;
    o.epochs = 0;
  } else if (preset.pde == Pde::kCed) {
    o.augment_least_squares = true;
  }
  if (preset.pde == Pde::kCh) o.stability_margin = 0.5;
  return o;
}

Image LoadHrLuma(const std::string& path, int scale) {
  return CropToMultiple(ToLuma(ReadImage(path)), scale);
}

std::vector<Sequence> LoadTrainingSequences(const Preset& preset,
                                            const std::vector<std::string>& files,
                                            const std::string& cache_dir,
                                            const std::function<void(int, int)>& on_progress) {
  std::vector<Sequence> data;
  for (std::size_t i = 0; i < files.size(); ++i) {
    data.push_back(CachedReferenceFrames(preset, LoadHrLuma(files[i], preset.scale), cache_dir));
    if (on_progress) on_progress(int(i + 1), int(files.size()));
  }
  return data;
}

}  // namespace blade
