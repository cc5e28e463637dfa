// The documented best training recipe per preset and form, the protocol's training sequences,
// and checkpoints.
#include <filesystem>
#include <string>
#include <vector>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/model.h"
#include "blade/train.h"

namespace blade {

TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form) {
  if (form == ModelForm::kResample) Fail("use the resampling trainer for resampling models");
  TrainOptions o;  // the direct form's recipe (the member defaults)
  o.form = form;
  o.selection.rho = preset.selection_rho;
  o.selection_rho_follows_point = true;
  o.selection.SetBins(preset.selection_bins);
  if (form == ModelForm::kFlux) {
    // 5x5 filters, then newton steps as for the direct form, with the joint curvature of the
    // coupled flux banks (FluxPreconditioner). Until 2026-12-06 flux models were fine-tuned by
    // Adam (40 epochs on whole frames, rate 5e-4, patience 8); newton halved their validation
    // loss and made the CED and TV models stable (docs/RESULTS.md).
    o.footprint = 5;
  } else if (preset.pde == Pde::kPm) {
    o.ridge = 1e-5;
    o.epochs = 0;
  } else if (preset.pde == Pde::kCed) {
    o.augment_least_squares = true;
  }
  if (preset.pde == Pde::kCh) o.stability_margin = 0.5;
  // The scheme term (Model::scheme_term) wherever the PDE has an explicit right-hand side:
  // at the presets it gained 6.8 dB (TV), 1.9 dB (Perona-Malik) and 5.5 dB (Cahn-Hilliard) on
  // Kodak, and as much on held-out photographs (docs/RESULTS.md, issue 26).
  if (form == ModelForm::kDirect && HasClassicalRhs(preset.pde)) o.scheme_footprint = 3;
  return o;
}

TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form, Optimizer optimizer) {
  TrainOptions o = RecommendedTrainOptions(preset, form);
  if (optimizer == o.optimizer) return o;
  o.optimizer = optimizer;
  if (optimizer == Optimizer::kAdam) {
    // Adam's per-tap normalised steps need a small rate; a rate of 1 (newton's) throws the
    // least-squares start away.
    o.learning_rate = 5e-4;
    o.patience = 8;
    if (form == ModelForm::kFlux) o.crop = 0;
  } else {
    o.learning_rate = 1;
    o.patience = 5;
  }
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

std::string BestCheckpointPath(const std::string& checkpoint) {
  const std::filesystem::path p(checkpoint);
  return (p.parent_path() / (p.stem().string() + ".best.blade")).string();
}

void SaveCheckpointsTo(const std::string& checkpoint, TrainOptions& options) {
  options.on_checkpoint = [checkpoint](int epoch, const Model& current, const Model& best) {
    Model c = current, b = best;
    c.provenance["checkpoint_epoch"] = std::to_string(epoch);
    b.provenance["checkpoint_epoch"] = std::to_string(epoch);
    // The best first: a checkpoint file always has its best model beside it.
    SaveModel(b, BestCheckpointPath(checkpoint));
    SaveModel(c, checkpoint);
  };
}

Checkpoint LoadCheckpoint(const std::string& path) {
  Checkpoint c;
  c.current = LoadModel(path);
  const auto it = c.current.provenance.find("checkpoint_epoch");
  if (it == c.current.provenance.end())
    Fail("'", path, "' is not a training checkpoint (no checkpoint_epoch)");
  c.epoch = std::atoi(it->second.c_str());
  if (c.epoch < 1) Fail("'", path, "' has an invalid checkpoint epoch");
  if (std::filesystem::exists(BestCheckpointPath(path))) {
    c.best = LoadModel(BestCheckpointPath(path));
    c.has_best = true;
  }
  return c;
}

void ResumeFrom(const Checkpoint& checkpoint, TrainOptions& options) {
  if (checkpoint.epoch >= options.epochs)
    Fail("the checkpoint is already at epoch ", checkpoint.epoch, " of ", options.epochs,
         " epochs");
  options.resume_epoch = checkpoint.epoch;
  options.resume_from = &checkpoint.current;
  options.resume_best = checkpoint.has_best ? &checkpoint.best : nullptr;
}

}  // namespace blade
