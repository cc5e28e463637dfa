// The documented best training recipe per preset and form, the protocol's training sequences,
// and checkpoints.
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/model.h"
#include "blade/train.h"

namespace blade {

ModelForm ParseTrainingForm(const std::string& name) {
  if (name == "direct") return ModelForm::kDirect;
  if (name == "flux") return ModelForm::kFlux;
  Fail("a PDE training makes a direct or flux model (got '", name,
       "'); resampling, upscaling and denoising models have their own trainers (blade "
       "train-resample, train-upscale, train-denoise)");
}

TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form) {
  if (form != ModelForm::kDirect && form != ModelForm::kFlux)
    ParseTrainingForm(FormName(form));  // fails, naming the other trainers
  TrainOptions o;                       // the direct form's recipe (the member defaults)
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

TrainOptions RecommendedTrainOptions(const Preset& preset, ModelForm form,
                                     const RecipeChoices& choices) {
  TrainOptions o = choices.optimizer ? RecommendedTrainOptions(preset, form, *choices.optimizer)
                                     : RecommendedTrainOptions(preset, form);
  o.ssim_weight = choices.ssim_weight;
  o.constraint = choices.constraint;
  if (choices.scheme_footprint)
    o.scheme_footprint = *choices.scheme_footprint;
  else if (o.constraint == Constraint::kMonotone)
    o.scheme_footprint = 0;
  if (!choices.optimizer && o.ssim_weight > 0 && o.scheme_footprint > 0 &&
      o.optimizer == Optimizer::kNewton) {
    const TrainOptions adam = RecommendedTrainOptions(preset, form, Optimizer::kAdam);
    o.optimizer = adam.optimizer;
    o.learning_rate = adam.learning_rate;
    o.patience = adam.patience;
    o.crop = adam.crop;
  }
  return o;
}

std::string TrainedModelWarning(const Model& model) {
  if (model.safe_steps < 0) return "";
  if (model.safe_steps < model.steps)
    return StrCat("the model is stable for only ", model.safe_steps, " of its ", model.steps,
                  " steps on the validation photographs: blade run and eval refuse it without "
                  "--unsafe; train on more photographs (the shipped models used 200)");
  const auto it = model.provenance.find("validation_images");
  const int count = it == model.provenance.end() ? -1 : std::atoi(it->second.c_str());
  if (count >= 0 && count < kFewStabilityStarts)
    return StrCat("its stability horizon (", model.safe_steps, " steps) was measured on only ",
                  count,
                  " validation photograph(s); a model trained on few may be unstable on "
                  "others: measure it on yours with `blade stability --model M --images DIR`");
  return "";
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

namespace {

void StampState(const TrainingState& t, Model& m) {
  m.provenance["checkpoint_epoch"] = std::to_string(t.epoch);
  m.provenance["checkpoint_best_epoch"] = std::to_string(t.best_epoch);
  m.provenance["checkpoint_since_best"] = std::to_string(t.since_best);
  m.provenance["checkpoint_stopped"] = t.stopped ? "yes" : "no";
  m.provenance["checkpoint_ls_train_loss"] = RoundTripDecimal(t.ls_train_loss);
  m.provenance["checkpoint_ls_validation_loss"] = RoundTripDecimal(t.ls_validation_loss);
  m.provenance["checkpoint_settings"] = t.settings;
}

// The state stamped on a checkpoint; keys missing from older checkpoints keep their defaults.
TrainingState ReadState(const std::string& path, const Model& m) {
  TrainingState t;
  // Reads `key` into `out` (an int or a double) where the checkpoint has it; false where not.
  auto read = [&](const char* key, auto& out) {
    const auto it = m.provenance.find(key);
    if (it == m.provenance.end()) return false;
    const char* end = it->second.data() + it->second.size();
    const auto r = std::from_chars(it->second.data(), end, out);
    if (r.ec != std::errc() || r.ptr != end || out < 0)
      Fail("'", path, "' has an invalid ", key, " ('", it->second, "')");
    return true;
  };
  if (!read("checkpoint_epoch", t.epoch) || t.epoch < 1)
    Fail("'", path, "' is not a training checkpoint (no checkpoint_epoch of 1 or more)");
  // Older checkpoints lack it: the best epoch is then unknown (-1), not the least squares' 0.
  if (!read("checkpoint_best_epoch", t.best_epoch)) t.best_epoch = -1;
  read("checkpoint_since_best", t.since_best);
  if (t.best_epoch > t.epoch || t.since_best > t.epoch)
    Fail("'", path, "' has a best epoch or early-stopping count past its epoch ", t.epoch);
  const auto stopped = m.provenance.find("checkpoint_stopped");
  t.stopped = stopped != m.provenance.end() && stopped->second == "yes";
  read("checkpoint_ls_train_loss", t.ls_train_loss);  // "nan" reads back as NaN (not < 0)
  read("checkpoint_ls_validation_loss", t.ls_validation_loss);
  const auto settings = m.provenance.find("checkpoint_settings");
  if (settings != m.provenance.end()) t.settings = settings->second;
  return t;
}

}  // namespace

void SaveCheckpointsTo(const std::string& checkpoint, TrainOptions& options) {
  options.on_checkpoint = [checkpoint](const TrainingState& state, const Model& current,
                                       const Model& best) {
    Model c = current, b = best;
    StampState(state, c);
    StampState(state, b);
    // The best first: a checkpoint file always has its best model beside it.
    SaveModel(b, BestCheckpointPath(checkpoint));
    SaveModel(c, checkpoint);
  };
}

Checkpoint LoadCheckpoint(const std::string& path) {
  Checkpoint c;
  c.current = LoadModel(path);
  c.path = path;
  c.state = ReadState(path, c.current);
  // The pair is written best first, so a checkpoint without its best was copied or moved
  // alone: resuming would forget the best model so far.
  const std::string best = BestCheckpointPath(path);
  if (!std::filesystem::exists(best))
    Fail("the checkpoint's best model '", best, "' is missing (a checkpoint is the pair)");
  c.best = LoadModel(best);
  return c;
}

void ResumeFrom(const Checkpoint& checkpoint, TrainOptions& options, const Preset& preset) {
  const TrainingState& t = checkpoint.state;
  if (t.stopped)
    Fail("the checkpoint's run had already stopped after epoch ", t.epoch, " (best epoch ",
         t.best_epoch, "): nothing to resume; its best model is '",
         BestCheckpointPath(checkpoint.path), "'");
  if (t.epoch >= options.epochs)
    Fail("the checkpoint is already at epoch ", t.epoch, " of ", options.epochs, " epochs");
  RequireSameSettings(t.settings, TrainingSettings(options, preset));
  options.resume_state = t;
  options.resume_from = &checkpoint.current;
  options.resume_best = &checkpoint.best;
}

}  // namespace blade
