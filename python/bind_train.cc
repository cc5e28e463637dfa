// The Python bindings of training with the documented recipe (blade/train.h).
#include <chrono>
#include <ctime>

#include "blade/train.h"
#include "convert.h"

namespace blade::python {
namespace {

// What `blade train` stamps, for a model trained from Python: the data, the date, the source
// revision, the call and the seconds it took (the tool records its command line).
void StampPython(Model& model, const char* call, std::size_t images,
                 std::chrono::steady_clock::time_point start) {
  model.provenance["data"] = StrCat(images, " images (Python blade.", call, ")");
  model.provenance["command"] = StrCat("Python blade.", call, " on ", images, " images");
  model.provenance["train_seconds"] =
      StrCat(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  const std::time_t t = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  model.provenance["date"] = date;
  model.provenance["revision"] = BLADE_REVISION;
}

}  // namespace

void BindTrain(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  m.def(
      "train",
      [](const std::string& pde_name, const std::vector<std::string>& images,
         const std::string& form, std::optional<int> epochs, std::optional<std::string> optimizer,
         std::optional<double> learning_rate, std::optional<int> footprint,
         std::optional<int> scheme_footprint, std::optional<std::vector<int>> bins,
         std::optional<double> rho, std::optional<double> ridge, std::optional<std::uint64_t> seed,
         std::optional<int> patience, std::optional<int> batch, std::optional<int> crop,
         std::optional<int> cg_iterations, std::optional<std::string> constraint,
         std::optional<std::string> integrator, std::optional<double> ssim_weight,
         std::optional<bool> augment_least_squares, std::optional<int> stability_steps,
         std::optional<double> stability_margin, std::optional<double> stability_weight,
         std::optional<int> stability_rollout, const std::string& cache,
         const std::string& checkpoint, const std::string& resume,
         const std::map<std::string, py::object>& params, py::object time, int knots,
         const std::vector<Model>& knot_models, int steps) {
        const Preset preset = PresetWithFrames(DefaultPreset(ParsePde(pde_name)), steps);
        // The box (as `blade train --param/--time`): a value is a point, (lo, hi) a range of
        // `knots` knots, a list the knots themselves.
        std::vector<ParamAxis> axes;
        const auto axis = [&](const std::string& name, const py::object& v) {
          if (py::isinstance<py::tuple>(v)) {
            if (py::len(v) != 2)
              throw Error(StrCat(name, ": a range is a tuple (lo, hi); a list gives the knots"));
            const auto r = v.cast<std::pair<double, double>>();
            axes.push_back({name, AxisKnots(r.first, r.second, knots, preset.Value(name))});
          } else if (py::isinstance<py::str>(v)) {  // as on the command line: "V", "LO:HI", "V1,V2"
            axes.push_back(ParseAxis(name, v.cast<std::string>(), knots, preset.Value(name)));
          } else if (py::isinstance<py::list>(v)) {
            axes.push_back({name, v.cast<std::vector<double>>()});
          } else {
            axes.push_back({name, {v.cast<double>()}});
          }
        };
        for (const auto& [name, v] : params) axis(name, v);
        if (!time.is_none()) axis("time", time);
        // The documented recipe, then what the caller gave (as `blade train` does).
        RecipeChoices choices;
        if (optimizer) choices.optimizer = ParseOptimizer(*optimizer);
        if (constraint) choices.constraint = ParseConstraint(*constraint);
        if (scheme_footprint) choices.scheme_footprint = *scheme_footprint;
        if (ssim_weight) choices.ssim_weight = *ssim_weight;
        TrainOptions o = RecommendedTrainOptions(preset, ParseTrainingForm(form), choices);
        if (epochs) o.epochs = *epochs;
        if (learning_rate) o.learning_rate = *learning_rate;
        if (footprint) o.footprint = *footprint;
        if (bins) o.selection.SetBins(*bins);
        if (rho) {
          o.selection.rho = *rho;
          o.selection_rho_follows_point = false;
        }
        if (ridge) o.ridge = *ridge;
        if (seed) o.seed = *seed;
        if (patience) o.patience = *patience;
        if (batch) o.batch = *batch;
        if (crop) o.crop = *crop;
        if (cg_iterations) o.cg_iterations = *cg_iterations;
        if (integrator) o.integrator = ParseIntegrator(*integrator);
        if (augment_least_squares) o.augment_least_squares = *augment_least_squares;
        if (stability_steps) o.stability_steps = *stability_steps;
        if (stability_margin) o.stability_margin = *stability_margin;
        if (stability_weight) o.stability_weight = *stability_weight;
        if (stability_rollout) o.stability_rollout = *stability_rollout;
        o.ValidateFor(preset.pde);
        const TrainTarget target = ResolveTrainTarget(preset, axes);
        const bool box = target.box;
        if (box && (!checkpoint.empty() || !resume.empty()))
          throw Error("checkpoint and resume train one point model, not a box");
        Checkpoint from;  // outlives the training, which reads it
        if (!resume.empty()) {
          from = LoadCheckpoint(resume);
          ResumeFrom(from, o, target.at);
        }
        if (!checkpoint.empty()) SaveCheckpointsTo(checkpoint, o);
        if (!box && !knot_models.empty())
          throw Error("knot_models needs a box (a range in params or time)");
        const auto start = std::chrono::steady_clock::now();
        py::gil_scoped_release r;
        if (box) {
          Model model =
              TrainParametricModel(preset, axes, images, CacheDir(cache), o, {}, knot_models);
          StampPython(model, "train", images.size(), start);
          return model;
        }
        const Preset& at = target.at;
        Model model =
            TrainModel(at, LoadTrainingSequences(at, images, CacheDir(cache)), o, nullptr);
        model.preset = preset.name;
        StampPython(model, "train", images.size(), start);
        if (const std::string w = TrainedModelWarning(model); !w.empty()) {
          py::gil_scoped_acquire hold;
          WarnCaller(w);
        }
        return model;
      },
      py::arg("pde"), py::arg("images"), py::arg("form") = "direct", py::kw_only(),
      py::arg("epochs") = py::none(), py::arg("optimizer") = py::none(),
      py::arg("learning_rate") = py::none(), py::arg("footprint") = py::none(),
      py::arg("scheme_footprint") = py::none(), py::arg("bins") = py::none(),
      py::arg("rho") = py::none(), py::arg("ridge") = py::none(), py::arg("seed") = py::none(),
      py::arg("patience") = py::none(), py::arg("batch") = py::none(), py::arg("crop") = py::none(),
      py::arg("cg_iterations") = py::none(), py::arg("constraint") = py::none(),
      py::arg("integrator") = py::none(), py::arg("ssim_weight") = py::none(),
      py::arg("augment_least_squares") = py::none(), py::arg("stability_steps") = py::none(),
      py::arg("stability_margin") = py::none(), py::arg("stability_weight") = py::none(),
      py::arg("stability_rollout") = py::none(), py::arg("cache") = "default",
      py::arg("checkpoint") = "", py::arg("resume") = "",
      py::arg("params") = std::map<std::string, py::object>{}, py::arg("time") = py::none(),
      py::arg("knots") = 3, py::arg("knot_models") = std::vector<Model>{}, py::arg("steps") = 0,
      "Trains a model for a PDE's preset from image files (their 4x-reference sequences are "
      "computed or read from `cache`; '' = no cache). Options left as None follow the "
      "documented best recipe for the PDE and form (RecommendedTrainOptions, as `blade train`): "
      "the same request gives the same model from both. epochs=0: least squares only; "
      "ssim_weight w: fine-tuning loss (1 - w) MSE + w (1 - SSIM) per frame; stability_weight: "
      "a penalty on leaving the stability range over rollouts of stability_rollout steps. "
      "checkpoint: save the "
      "current and best models after every epoch; resume: continue from such a checkpoint. "
      "params={'c': 0.05} and time=2.0 train at that point; params={'c': (0.03, 0.3)} and "
      "time=(1, 10) (or lists of knots) train a parametric model over the box, `knots` knots "
      "per range (as `blade train --param/--time/--knots`); knot_models: point models used as the "
      "box's knots at their own points instead of training there (`--knot-model`); steps: BLADE "
      "steps to the stopping time (0: the preset's, 10; `--steps`).");
  m.def(
      "train_upscale",
      [](const std::vector<std::string>& images, int factor, const std::string& degradation,
         std::optional<int> footprint, std::optional<std::vector<int>> bins,
         std::optional<double> rho, std::optional<int> augment, std::optional<int> stages,
         std::optional<int> back_projections, std::optional<double> ridge) {
        // The recipe for the factor and degradation, then what the caller gave (as the CLI).
        UpscaleTrainOptions o = RecommendedUpscaleTrainOptions(factor, degradation);
        if (footprint) o.footprint = *footprint;
        if (bins) o.selection.SetBins(*bins);
        if (rho) o.selection.rho = *rho;
        if (augment) o.augment = *augment;
        if (stages) o.stages = *stages;
        if (back_projections) o.back_projections = *back_projections;
        if (ridge) o.ridge = *ridge;
        o.Validate();
        if (images.empty()) throw Error("train_upscale needs at least one image");
        const auto start = std::chrono::steady_clock::now();
        py::gil_scoped_release r;
        std::vector<Image> hr;
        for (const std::string& f : images) hr.push_back(LoadHrLuma(f, factor));
        Model model = TrainUpscaleModel(hr, o);
        StampPython(model, "train_upscale", images.size(), start);
        return model;
      },
      py::arg("images"), py::arg("factor") = 2, py::kw_only(), py::arg("degradation") = "area",
      py::arg("footprint") = py::none(), py::arg("bins") = py::none(), py::arg("rho") = py::none(),
      py::arg("augment") = py::none(), py::arg("stages") = py::none(),
      py::arg("back_projections") = py::none(), py::arg("ridge") = py::none(),
      "Trains a learned upscaler (RAISR-style BLADE, as `blade train-upscale`) from image files: "
      "each is shrunk by `degradation`, interpolated by Lanczos-3 and passed through the stages "
      "so far; each stage's residual to the original is fitted by least squares, one filter "
      "per selection bin and pixel phase. Options left as None follow the recipe of the shipped "
      "upscalers for the factor.");
  m.def(
      "train_refiner",
      [](const Model& upscaler, const std::vector<std::string>& images, int layers, int width,
         int steps, int batch, int patch, int context, const std::string& init, double rate,
         std::uint64_t seed) {
        RefinerTrainOptions o;
        o.layers = layers;
        o.width = width;
        o.steps = steps;
        o.batch = batch;
        o.patch = patch;
        o.context = context;
        if (init != "pytorch" && init != "he")
          throw Error(StrCat("init must be 'pytorch' or 'he' (got '", init, "')"));
        o.he_init = init == "he";
        o.learning_rate = rate;
        o.seed = seed;
        o.Validate();
        if (images.empty()) throw Error("train_refiner needs at least one image");
        RequireRefinable(upscaler);
        const int factor = upscaler.upscale.factor;
        py::gil_scoped_release r;
        std::vector<Image> hr;
        for (const std::string& f : images) hr.push_back(LoadHrLuma(f, factor));
        Model model = TrainUpscaleRefiner(upscaler, hr, o);
        model.provenance["refiner_data"] =
            StrCat(images.size(), " images (Python blade.train_refiner)");
        model.provenance["refiner_images"] = StrCat(images.size());
        return model;
      },
      py::arg("upscaler"), py::arg("images"), py::kw_only(),
      py::arg("layers") = RefinerTrainOptions().layers,
      py::arg("width") = RefinerTrainOptions().width,
      py::arg("steps") = RefinerTrainOptions().steps,
      py::arg("batch") = RefinerTrainOptions().batch,
      py::arg("patch") = RefinerTrainOptions().patch,
      py::arg("context") = RefinerTrainOptions().context,
      py::arg("init") = RefinerTrainOptions().he_init ? "he" : "pytorch",
      py::arg("rate") = RefinerTrainOptions().learning_rate,
      py::arg("seed") = RefinerTrainOptions().seed,
      "Adds a refiner to a learned upscaler without one (as `blade train-refiner`, the same "
      "options): a small convolutional network on the low-resolution grid, trained by Adam on "
      "patches of the upscaler's output on the image files, that corrects what its per-pixel "
      "filters cannot. context: pixels around each patch that the net reads but the loss does "
      "not score (-1: the net's depth; 0, the default: patches padded at their own edges); "
      "init: 'pytorch' (PyTorch's default uniform, the default) or 'he' (He's normal, for "
      "deeper nets or context). Returns the refined model.");
  m.def(
      "train_denoise",
      [](const std::vector<std::string>& images, std::vector<double> sigmas, bool color,
         int footprint, std::optional<std::vector<int>> bins, double rho, int augment, int stages,
         double ridge, std::uint32_t seed) {
        DenoiseTrainOptions o;
        o.sigmas = std::move(sigmas);
        o.channels = color ? 3 : 1;
        o.footprint = footprint;
        if (bins) o.selection.SetBins(*bins);
        o.selection.rho = rho;
        o.augment = augment;
        o.stages = stages;
        o.ridge = ridge;
        o.seed = seed;
        o.Validate();
        const auto start = std::chrono::steady_clock::now();
        py::gil_scoped_release r;
        std::vector<Image> clean;
        for (const std::string& f : images) {
          Image im = ReadImage(f);
          clean.push_back(color ? ToRgb(im) : ToLuma(im));
        }
        Model model = TrainDenoiseModel(clean, o);
        StampPython(model, "train_denoise", images.size(), start);
        return model;
      },
      py::arg("images"), py::kw_only(), py::arg("sigmas") = DenoiseTrainOptions().sigmas,
      py::arg("color") = false, py::arg("footprint") = DenoiseTrainOptions().footprint,
      py::arg("bins") = py::none(), py::arg("rho") = DenoiseTrainOptions().selection.rho,
      py::arg("augment") = DenoiseTrainOptions().augment,
      py::arg("stages") = DenoiseTrainOptions().stages,
      py::arg("ridge") = DenoiseTrainOptions().ridge, py::arg("seed") = DenoiseTrainOptions().seed,
      "Trains a learned denoiser (as `blade train-denoise`) from clean image files: for each "
      "noise level in sigmas (0-255), each image (its luma, or RGB with color=True) and its "
      "dihedral copies get seeded Gaussian noise, clipped to [0, 1], and pass through the stages "
      "so far; each stage's residual to the clean image is fitted by least squares, one filter "
      "per selection bin. rho 0: each level's own selection scale (1 + sigma / 10 within "
      "[1.5, 3]). The defaults are the shipped denoisers' recipe.");
}

}  // namespace blade::python
