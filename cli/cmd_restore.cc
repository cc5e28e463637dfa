// `blade restore`, `blade deconv`, `blade denoise`, `blade upscale` (with a BLADE regulariser or a
// learned upscaler) and `blade train-upscale`, `blade train-denoise`.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/io.h"
#include "blade/restore.h"
#include "blade/train.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {

namespace {

struct RestoreArgs {
  std::string model, op, input, output;
  std::vector<std::string> params;  // --param: the model's PDE parameters (ModelAtParams)
  double lambda = kRestoreLambda, sigma = kDeconvSigma, dt = 0;
  int steps = RestoreOptions().steps;
  bool unsafe = false, force_model = false;
  bool lambda_auto = false;  // --lambda auto: the default the help shows, typed back
  CLI::Option* lambda_option = nullptr;

  // The options both restoration commands share, checked before any work.
  void AddCommon(CLI::App* cmd, const char* lambda_help) {
    AddAppParamOption(cmd, &params);
    lambda_option = cmd->add_option("--lambda", lambda, lambda_help)->capture_default_str();
    cmd->add_option("--steps", steps, "Steps")->capture_default_str();
    cmd->add_option(
        "--dt", dt,
        "Step (default: the model's); the steps stay --steps, so the time is --steps x --dt");
    cmd->add_flag(
        "--unsafe", unsafe,
        "Run past the model's measured stability horizon, or with a step larger than its dt");
    cmd->add_flag("--force-model", force_model,
                  "Use a model of a PDE this command was not validated with");
    cmd->add_option("input", input, "Observed image")->required();
    cmd->add_option("output", output, "Restored image")->required();
  }
  // The default lambda is the library's rule (a value below 0), shown as and accepted as "auto".
  void LambdaAuto() {
    lambda_option->default_str("auto");
    lambda_option->transform(
        [this, rule = StrCat(lambda)](std::string s) {
          if (s != "auto") return s;
          lambda_auto = true;
          return rule;
        },
        "", "auto");
  }
  // --lambda with a value (not "auto").
  bool LambdaGiven() const { return lambda_option->count() > 0 && !lambda_auto; }
  RestoreOptions Checked() const {
    // Upscaling's and restoration's default lambda is below 0 (the library's rule); a number
    // given on the command line must not be.
    if (LambdaGiven() || lambda >= 0) RequireNonNegative(lambda, "--lambda");
    CheckOutputPath(output);
    RestoreOptions o;
    o.lambda = lambda;
    o.steps = steps;
    o.dt = dt;
    o.unsafe = unsafe;
    o.Validate();  // before any work
    return o;
  }
};

// A plain decimal number (no hex, no trailing text), as --sigma takes it.
std::optional<double> ParseSigma(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

// After training a learned upscaler or denoiser: its provenance (data, image count, time since
// t0, command line, build), the file, and one line saying what was made.
// `prefix` names the provenance entries of a part trained later ("refiner_": the stages' own
// entries stay).
void SaveTrained(Model& m, const std::string& data, std::size_t images,
                 std::chrono::steady_clock::time_point t0, const std::string& out, const char* what,
                 const std::string& prefix = "") {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.provenance[prefix + "data"] = data;
  m.provenance[prefix + "images"] = std::to_string(images);
  m.provenance[prefix + "train_seconds"] = StrCat(secs);
  m.provenance[prefix + "command"] = CommandLine();
  if (prefix.empty()) StampProvenance(m.provenance);
  SaveModel(m, out);
  Note(StrCat("trained ", what, " -> ", out, " in ", secs, " s (",
              m.provenance[prefix + "training"], ")"));
}

}  // namespace

void AddRestoreCommands(CLI::App& app) {
  auto r = std::make_shared<RestoreArgs>();
  CLI::App* restore = app.add_subcommand(
      "restore", "Restoration u += dt (BLADE(u) + lambda A^T (f - A u)) (paper eq. 4.2)");
  restore->add_option("--model", r->model,
                      "Regulariser model (TV, PM or CED; default: the shipped ced-restore)");
  restore
      ->add_option("--op", r->op,
                   "The degradation A: blur:sigma=S (Gaussian, S pixels) or mask:FILE (inpainting; "
                   "white = known pixels, black = missing, gray = a known fraction: the holes are "
                   "filled from their surroundings first, and white pixels come out as they "
                   "went in, whatever --lambda; no alpha channel)")
      ->required();
  r->AddCommon(restore,
               "Data weight lambda (default: 0.7 / dt, the same pull toward the data per step "
               "whatever the model's dt)");
  r->LambdaAuto();
  restore->callback([r] {
    RestoreOptions o = r->Checked();
    const Model model = LoadAppModel(r->model, Application::kRestore, r->force_model, r->params);
    LinearOperator op = ParseOperator(r->op);
    ImageSource source;
    const Image f = ReadInput(r->input, &source);
    WriteOutput(Restore(model, op, f, o), r->output, source);
    Note(StrCat("restored (", r->op, ", lambda ", RestoreLambda(model, o), ", ", o.steps,
                " steps) -> ", r->output));
  });

  auto d = std::make_shared<RestoreArgs>();
  d->lambda = kDeconvLambda;
  CLI::App* deconv = app.add_subcommand(
      "deconv", "Non-blind Gaussian deconvolution with filters that absorb the blur (eq. 4.4-4.5)");
  deconv->add_option("--model", d->model,
                     "Direct regulariser model (CED in the paper; default: the shipped "
                     "ced-restore)");
  deconv
      ->add_option("--sigma", d->sigma,
                   StrCat("Gaussian PSF sigma in pixels (at most ", kMaxDeconvolutionSigma, ")"))
      ->capture_default_str();
  d->AddCommon(deconv, "Data weight lambda");
  deconv->callback([d] {
    RequirePositive(d->sigma, "--sigma");
    RestoreOptions o = d->Checked();
    const Model model = LoadAppModel(d->model, Application::kDeconvolve, d->force_model, d->params);
    ImageSource source;
    Image f = ReadInput(d->input, &source);
    WriteOutput(Deconvolve(model, std::move(f), d->sigma, o), d->output, source);
    Note(StrCat("deconvolved (sigma ", d->sigma, ", lambda ", o.lambda, ", ", o.steps,
                " steps) -> ", d->output));
  });

  struct DenoiseArgs {
    std::string model, input, output, sigma;
    std::vector<std::string> params;
    double time = 0;
    std::string stop = "rule";
    bool force_model = false, unsafe = false;
  };
  auto n = std::make_shared<DenoiseArgs>();
  CLI::App* denoise = app.add_subcommand(
      "denoise",
      StrCat("Remove Gaussian noise of a known level: by default with the shipped learned "
             "denoiser (BLADE stages trained on noisy photographs, sigma ",
             kShippedDenoiseSigmas[0], " to ", kShippedDenoiseSigmas[1],
             "), else with the TV model (paper §4, A = identity) run to a time set from the "
             "level by a rule fitted on training photographs, or per image by Stein's unbiased "
             "risk estimate (--stop sure)"));
  denoise
      ->add_option("--sigma", n->sigma,
                   "Noise standard deviation in 0-255 units (0 < S <= 100), or auto: estimated "
                   "from the image by the wavelet median rule (printed; texture reads as noise)")
      ->required()
      ->check(CLI::Validator(
          [](const std::string& v) {
            return v == "auto" || ParseSigma(v)
                       ? std::string()
                       : StrCat("must be a number or auto (got '", v, "')");
          },
          "S|auto"));
  denoise->add_option("--model", n->model,
                      StrCat("A learned denoiser or a TV flow model (default: denoise-gray or "
                             "denoise-color for sigma ",
                             kShippedDenoiseSigmas[0], " to ", kShippedDenoiseSigmas[1],
                             " with the rule, else tv-plain)"));
  denoise
      ->add_option("--time", n->time,
                   "TV model: stopping time instead of the rule's, the default (larger: "
                   "smoother; blade denoise prints the rule's)")
      ->default_str("");
  denoise
      ->add_option("--stop", n->stop,
                   "TV model: when to stop: rule (the time fitted per noise level; default) or "
                   "sure (per image, where Stein's unbiased risk estimate of the error is least: "
                   "more accurate, 3 to 4 times the time)")
      ->check(CLI::IsMember({"rule", "sure"}))
      ->capture_default_str();
  denoise->add_flag("--force-model", n->force_model, "Use a model of another PDE than TV flow");
  denoise->add_flag(
      "--unsafe", n->unsafe,
      "Run past the model's measured stability horizon, or with a step larger than its dt");
  AddAppParamOption(denoise, &n->params);
  denoise->add_option("input", n->input, "Noisy image")->required();
  denoise->add_option("output", n->output, "Denoised image")->required();
  denoise->callback([n, denoise] {
    if (n->stop == "sure" && denoise->count("--time"))
      throw UsageError("--time and --stop sure exclude each other: SURE chooses the time");
    if (denoise->count("--time") && !(n->time > 0))
      Fail("--time must be positive (got ", n->time, ")");
    CheckOutputPath(n->output);
    DenoiseOptions o;
    o.params = ParseParams(n->params);
    o.time = n->time;
    o.stop = ParseDenoiseStop(n->stop);
    o.unsafe = n->unsafe;
    const bool automatic = n->sigma == "auto";
    double sigma = automatic ? 0 : *ParseSigma(n->sigma);
    if (!automatic) {
      RequireDenoiseSigma(sigma);  // before any file is read
      if (const std::string w = DenoiseSigmaWarning(sigma); !w.empty()) Warn(w);
    }
    // A given model fails before the input is read; the default depends on its channels.
    std::optional<Model> given;
    if (!n->model.empty())
      given = LoadAppModel(n->model, Application::kDenoise, n->force_model, {});
    ImageSource source;
    const Image f = ReadInput(n->input, &source);
    if (automatic) {
      sigma = AutoDenoiseSigma(f);
      char text[32];
      std::snprintf(text, sizeof text, "%.2f", sigma);
      Note(StrCat("estimated noise sigma ", text, " (0-255 units)"));
    }
    if (!given) {
      const std::string path = ShippedModelPath(DefaultDenoiseModelName(sigma, f.channels(), o));
      HoldNote(StrCat("using the shipped model ", path));
      given = LoadAppModel(path, Application::kDenoise, n->force_model, {});
    }
    const Model& model = *given;
    const DenoiseResult r = DenoiseRun(model, f, sigma, o);
    WriteOutput(r.image, n->output, source);
    if (model.form == ModelForm::kDenoise) {
      Note(StrCat("denoised (sigma ", sigma, ", learned denoiser, ", r.steps, " stages) -> ",
                  n->output));
      return;
    }
    const char* how = o.time > 0 ? "" : o.stop == DenoiseStop::kSure ? " by SURE" : " by the rule";
    Note(StrCat("denoised (sigma ", sigma, ", t = ", r.time, how, ", ", r.steps,
                r.steps == 1 ? " step) -> " : " steps) -> ", n->output));
  });

  auto u = std::make_shared<RestoreArgs>();
  u->lambda = kUpscaleLambda;
  struct UpscaleArgs {
    std::optional<int> factor;  // not given: ResolveUpscaleSetting's
    bool project = false, fast = false;
    std::string degradation;
  };
  auto ua = std::make_shared<UpscaleArgs>();
  CLI::App* upscale = app.add_subcommand(
      "upscale",
      "Upscaling by an integer factor: with a learned upscaler (the default for x2 and x4, area "
      "and bicubic: a Lanczos-3 start, stages of BLADE filtering, a small refiner network and "
      "a back-projection), or with a "
      "PDE regulariser: Lanczos-3 start and a data term (paper eq. 4.6), or with --project a "
      "Fourier start and projected steps (eq. 4.7)");
  upscale->add_option("--model", u->model,
                      "A learned upscaler (`blade train-upscale`) or a regulariser (TV in the "
                      "paper). Default: the shipped upscale-xF-DEGRADATION for x2 and x4 with "
                      "area or bicubic, else the shipped tv-plain (eq. 4.6)");
  upscale
      ->add_option("--factor", ua->factor,
                   "Integer upscaling factor, 2..16 (default: a learned --model's own, else 4)")
      ->default_str(StrCat(kUpscaleFactor))
      ->type_name("INT");
  upscale->add_option(
      "--degradation", ua->degradation,
      StrCat("How the input was shrunk from the image wanted: area (PIL BOX, skimage "
             "downscale_local_mean, OpenCV INTER_AREA), bicubic (PIL BICUBIC), gaussian:SIGMA "
             "(PSF in output pixels), or the paper's corner:SIGMA (every factor-th pixel of a "
             "blur) [default: a learned --model's own, else ",
             kUpscaleDegradation, "; ", kProjectedUpscaleDegradation, " with --project]"));
  upscale->add_flag("--fast", ua->fast,
                    "With a learned upscaler, skip its refiner network: 4 to 11 times faster, "
                    "0.3 to 0.6 dB lower PSNR (docs/RESULTS.md)");
  upscale->add_flag("--project", ua->project,
                    "Eq. 4.7: keep A u = f exactly (noise-free data; lambda unused; corner "
                    "degradations only)");
  u->AddCommon(upscale,
               "Data weight lambda (default: one exact back-projection of the residual per "
               "step, 1 / (dt |A A^T|); the paper used 0.35 with corner:0.4)");
  u->LambdaAuto();
  upscale->callback([u, ua, upscale] {
    UpscaleSetting s = ResolveUpscaleSetting(nullptr, ua->factor, ua->degradation, ua->project);
    RestoreOptions o = u->Checked();
    std::string path = u->model;
    if (path.empty()) {
      path = ShippedModelPath(ua->project ? DefaultModelName(Application::kUpscale)
                                          : DefaultUpscaleModelName(s.factor, s.degradation));
      HoldNote(StrCat("using the shipped model ", path));
    }
    Model model = LoadModelArg(path);
    s = ResolveUpscaleSetting(&model, ua->factor, ua->degradation, ua->project);
    const int factor = s.factor;
    const Degradation& degradation = s.degradation;
    RequireModelFor(Application::kUpscale, model, u->force_model);
    model = ModelAtParams(model, ParseParams(u->params));
    const bool learned = model.form == ModelForm::kUpscale;
    UpscaleRequest request;
    request.project = ua->project;
    request.fast = ua->fast;
    request.lambda_given = u->LambdaGiven();
    request.steps_given = upscale->count("--steps") > 0;
    request.dt_given = upscale->count("--dt") > 0;
    request.unsafe = u->unsafe;
    std::string note;
    CheckUpscaleRequest(model, degradation, request, &note);
    if (!note.empty()) Warn(note);
    if (ua->fast) model.upscale.refiner = {};
    ImageSource source;
    Image f = ReadInput(u->input, &source);
    WriteOutput(ua->project ? UpscaleProjected(model, f, factor, degradation, o)
                            : Upscale(model, f, factor, degradation, o),
                u->output, source);
    Note(StrCat("upscaled x", factor,
                learned       ? " (learned"
                : ua->project ? " (eq. 4.7"
                              : " (eq. 4.6",
                ", ", DegradationName(degradation), " degradation) -> ", u->output));
  });

  // train-upscale: the recipe for the factor and degradation (known after parsing), then the
  // options given, bound to a scratch copy.
  struct TrainUpscaleArgs {
    std::string images, out;
    int limit = 0;
    UpscaleTrainOptions given = RecommendedUpscaleTrainOptions(2, "area");
    std::vector<int> bins;
  };
  auto t = std::make_shared<TrainUpscaleArgs>();
  UpscaleTrainOptions& g = t->given;
  CLI::App* train = app.add_subcommand(
      "train-upscale",
      "Fit a learned upscaler (RAISR-style BLADE: per stage, one filter per selection bin and "
      "pixel phase) by least squares on training photographs shrunk by --degradation. Options "
      "not given follow the recipe of the shipped upscalers for the factor");
  train->add_option("--images", t->images, "Folder of training photographs")->required();
  train->add_option("--out", t->out, "Output model file (.blade)")->required();
  train->add_option("--limit", t->limit, "Use only the first N images");
  train->add_option("--factor", g.factor, "Upscaling factor (2..8)")->capture_default_str();
  train
      ->add_option("--degradation", g.degradation,
                   "How inputs are shrunk: area, bicubic, gaussian:SIGMA, corner:SIGMA")
      ->capture_default_str();
  train->add_option("--footprint", g.footprint, "Filter size (odd, 3..11) [recipe: 7]");
  train->add_option("--bins", t->bins, "Orientation, strength, coherence bins [recipe: 24 3 3]")
      ->expected(3);
  train->add_option("--rho", g.selection.rho,
                    "Structure-tensor smoothing of the selection, in output pixels [recipe: 1 "
                    "for x2, 2 above]");
  train->add_option(
      "--augment", g.augment,
      "Dihedral copies per image (Dihedral, blade/image.h): 1, 2 (a quarter turn), 4 (the "
      "quarter turns) or 8 (and their transposes) [recipe: 8]");
  train->add_option("--stages", g.stages,
                    "Stages (1..4), each trained on the output of the ones before [recipe: 3 for "
                    "x2, 2 above]");
  train->add_option("--back-projections", g.back_projections,
                    "Back-projections onto the data after each stage (stored in the model) "
                    "[recipe: 1]");
  train->add_option("--ridge", g.ridge,
                    "Least-squares regularisation, relative to the mean diagonal [recipe: 1e-3]");
  train->callback([t, train] {
    CheckModelOutput(t->out);
    const UpscaleTrainOptions& g = t->given;
    UpscaleTrainOptions o = RecommendedUpscaleTrainOptions(g.factor, g.degradation);
    auto given = [&](const char* name) { return train->count(name) > 0; };
    if (given("--footprint")) o.footprint = g.footprint;
    if (given("--bins")) o.selection.SetBins(t->bins);
    if (given("--rho")) o.selection.rho = g.selection.rho;
    if (given("--augment")) o.augment = g.augment;
    if (given("--stages")) o.stages = g.stages;
    if (given("--back-projections")) o.back_projections = g.back_projections;
    if (given("--ridge")) o.ridge = g.ridge;
    o.Validate();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Image> hr;
    for (const std::string& f : ListImages(t->images, t->limit))
      hr.push_back(LoadHrLuma(f, o.factor));
    Note(StrCat("fitting on ", hr.size(), " images x ", o.augment, " copies"));
    Model m = TrainUpscaleModel(hr, o);
    SaveTrained(m, t->images, hr.size(), t0, t->out, "learned upscaler");
  });

  // train-denoise: the defaults of DenoiseTrainOptions (the shipped denoisers' recipe).
  struct TrainDenoiseArgs {
    std::string images, out;
    int limit = 0;
    bool color = false;
    DenoiseTrainOptions o;
    std::vector<int> bins;
  };
  auto td = std::make_shared<TrainDenoiseArgs>();
  DenoiseTrainOptions& dn = td->o;
  CLI::App* train_denoise = app.add_subcommand(
      "train-denoise",
      "Fit a learned denoiser (per noise level, BLADE stages u += BLADE(u) from the noisy "
      "image) by least squares on training photographs with added Gaussian noise");
  train_denoise->add_option("--images", td->images, "Folder of clean training photographs")
      ->required();
  train_denoise->add_option("--out", td->out, "Output model file (.blade)")->required();
  train_denoise->add_option("--limit", td->limit, "Use only the first N images");
  train_denoise->add_flag("--color", td->color,
                          "Train on color photographs (default: their luma, a gray denoiser)");
  train_denoise
      ->add_option("--sigmas", dn.sigmas,
                   "Noise levels (0-255, ascending); a level between two is blended from them")
      ->delimiter(',')
      ->capture_default_str();
  train_denoise
      ->add_option("--footprint", dn.footprint,
                   "Filter size (odd, 3..11; training images need twice it on a side)")
      ->capture_default_str();
  train_denoise->add_option("--bins", td->bins, "Orientation, strength, coherence bins [24 3 3]")
      ->expected(3);
  train_denoise->add_option("--rho", dn.selection.rho,
                            "Structure-tensor smoothing of the selection (0: each level's own, "
                            "1 + sigma / 10 within [1.5, 3])");
  train_denoise->add_option("--augment", dn.augment, "Dihedral copies per image: 1, 2, 4 or 8")
      ->capture_default_str();
  train_denoise->add_option("--stages", dn.stages, "Stages per noise level (1..4)")
      ->capture_default_str();
  train_denoise->add_option("--ridge", dn.ridge, "Least-squares regularisation (relative)")
      ->capture_default_str();
  train_denoise->add_option("--seed", dn.seed, "Seed of the training noise")
      ->check(SeedValidator(UINT32_MAX))
      ->capture_default_str();
  train_denoise->callback([td] {
    CheckModelOutput(td->out);
    DenoiseTrainOptions o = td->o;
    o.channels = td->color ? 3 : 1;
    if (!td->bins.empty()) o.selection.SetBins(td->bins);
    o.Validate();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Image> clean;
    int gray = 0;
    for (const std::string& f : ListImages(td->images, td->limit)) {
      Image im = ReadImage(f);
      gray += im.channels() == 1;
      clean.push_back(o.channels == 1 ? ToLuma(im) : ToRgb(im));
    }
    if (o.channels == 3 && gray > 0)
      Warn(StrCat(gray, " of ", clean.size(),
                  " training images are gray: a color denoiser learns nothing about color from "
                  "their three equal channels"));
    Note(StrCat("fitting on ", clean.size(), " images x ", o.augment, " copies, ", o.sigmas.size(),
                " noise level(s)"));
    Model m = TrainDenoiseModel(clean, o);
    SaveTrained(m, td->images, clean.size(), t0, td->out, "learned denoiser");
  });

  // train-refiner: a learned upscaler's stages fixed, its refiner network trained on top.
  struct TrainRefinerArgs {
    std::string model, images, out;
    int limit = 0;
    RefinerTrainOptions o;
    std::string init = "pytorch";
  };
  auto tr = std::make_shared<TrainRefinerArgs>();
  CLI::App* train_refiner = app.add_subcommand(
      "train-refiner",
      "Add a refiner to a learned upscaler: a small convolutional network on the low-resolution "
      "grid, trained by Adam on patches of the upscaler's output, that corrects what its "
      "per-pixel filters cannot (the shipped upscalers have one)");
  train_refiner
      ->add_option("--model", tr->model,
                   "The learned upscaler (`blade train-upscale`), without a refiner")
      ->required();
  train_refiner->add_option("--images", tr->images, "Folder of training photographs")->required();
  train_refiner->add_option("--out", tr->out, "Output model file (.blade)")->required();
  train_refiner->add_option("--limit", tr->limit, "Use only the first N images");
  RefinerTrainOptions& ro = tr->o;
  train_refiner->add_option("--layers", ro.layers, "3x3 convolution layers (2..8)")
      ->capture_default_str();
  train_refiner->add_option("--width", ro.width, "Channels of the hidden layers (1..128)")
      ->capture_default_str();
  train_refiner->add_option("--steps", ro.steps, "Adam steps")->capture_default_str();
  train_refiner->add_option("--batch", ro.batch, "Patches per step (1..64)")->capture_default_str();
  train_refiner
      ->add_option("--patch", ro.patch, "Patch side, in input (low-resolution) pixels (4..64)")
      ->capture_default_str();
  train_refiner
      ->add_option("--context", ro.context,
                   "Input pixels around each patch that the net reads but the loss does not score "
                   "(-1..16; 0: patches padded at their own edges; -1: the net's depth, so "
                   "patches see what whole images show)")
      ->capture_default_str();
  train_refiner
      ->add_option("--init", tr->init,
                   "Initial hidden weights: pytorch (PyTorch's default uniform) or he (He's normal "
                   "for ReLU networks: use it for more than 4 layers or with --context)")
      ->check(CLI::IsMember({"pytorch", "he"}))
      ->capture_default_str();
  train_refiner->add_option("--rate", ro.learning_rate, "Adam's initial learning rate")
      ->capture_default_str();
  train_refiner->add_option("--seed", ro.seed, "Seed of the initial weights and the patches")
      ->check(SeedValidator())
      ->capture_default_str();
  train_refiner->callback([tr] {
    CheckModelOutput(tr->out);
    RefinerTrainOptions o = tr->o;
    o.he_init = tr->init == "he";
    o.Validate();
    const Model upscaler = LoadModelArg(tr->model);
    RequireRefinable(upscaler);
    const int factor = upscaler.upscale.factor;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Image> hr;
    for (const std::string& f : ListImages(tr->images, tr->limit))
      hr.push_back(LoadHrLuma(f, factor));
    Note(StrCat("training a refiner on ", hr.size(), " images, ", o.steps, " steps"));
    Progress bar("refiner", ProgressEnabled());
    Model m = TrainUpscaleRefiner(upscaler, hr, o, [&](int step, int steps, double loss) {
      bar.Update(step, steps, StrCat("loss ", loss));
    });
    bar.Finish();
    SaveTrained(m, tr->images, hr.size(), t0, tr->out, "upscaler refiner", "refiner_");
  });
}

}  // namespace blade::cli
