// `blade train` and `blade eval`: train a model on a folder of photographs, and score it with
// kodak4x.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/model.h"
#include "blade/ops.h"
#include "blade/train.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {

namespace {

// As printf's %.4g.
std::string Format4(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

}  // namespace
namespace {

// `blade train --param NAME=LO:HI ... --time LO:HI`: a point model per knot, then the blend.
void TrainBox(const Preset& preset, const std::vector<ParamAxis>& axes, TrainOptions o,
              const std::string& images, int limit, const std::string& cache,
              const std::vector<std::string>& knot_models, const std::string& out) {
  std::vector<Model> given;
  for (const std::string& path : knot_models) given.push_back(LoadModelArg(path));
  const std::vector<std::string> files = ListImages(images, limit);
  std::string box;
  for (const ParamAxis& a : axes) {
    box += StrCat(box.empty() ? "" : "; ", a.name, " at");
    for (double k : a.knots) box += StrCat(" ", k);
  }
  Note("parametric " + PdeName(preset.pde) + " model over " + box);
  o.on_status = [](const std::string& s) { Note("  " + s); };
  const auto t0 = std::chrono::steady_clock::now();
  Model model = TrainParametricModel(
      preset, axes, files, cache, o,
      [](int k, int count, const Preset& at, bool is_given) {
        Note(StrCat("knot ", k + 1, "/", count, ": ", at.name, is_given ? " (given)" : ""));
      },
      given);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  model.provenance["data"] = images + " (" + std::to_string(files.size()) + " images)";
  StampProvenance(model.provenance);
  model.provenance["command"] = CommandLine();
  model.provenance["train_seconds"] = StrCat(seconds);
  SaveModel(model, out);
  std::printf("trained parametric %s %s model (%zu knots: %s) -> %s in %.1f s\n",
              PdeName(preset.pde).c_str(), FormName(model.form).c_str(), model.knots.size(),
              box.c_str(), out.c_str(), seconds);
}

}  // namespace

void AddTrainCommand(CLI::App& app) {
  // Every training option's value lives in a TrainOptions; those the user does not give come
  // from RecommendedTrainOptions (the documented recipe for the preset and form), which is only
  // known after parsing, so the options are bound to a scratch copy and applied if given.
  struct Args {
    std::string pde, preset, images, out, form = "direct", integrator = "euler", cache, log,
                                          checkpoint, resume, loss = "l2", optimizer, constraint;
    bool no_cache = false, no_augment = false, augment_ls = false;
    int limit = 0, knots = 3, steps = 0;
    std::vector<std::string> params, knot_models;
    std::string time;
    double ssim_weight = 0.5;
    std::vector<int> bins;
    TrainOptions given;  // values of the options given on the command line
  };
  auto args = std::make_shared<Args>();
  TrainOptions& g = args->given;
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a BLADE model for a PDE preset. Options not given follow the documented best "
      "recipe for the PDE and form (blade/train.h RecommendedTrainOptions, models/README.md)");
  cmd->add_option("--pde", args->pde, "tv, pm, ced or ch");
  cmd->add_option("--preset", args->preset, "Preset name (default: the PDE's own)");
  cmd->add_option("--images", args->images, "Folder of training photographs")->required();
  cmd->add_option("--out", args->out, "Output model file (.blade)")->required();
  cmd->add_option("--param", args->params,
                  "NAME=V trains at that value of a PDE parameter instead of the preset's; "
                  "NAME=LO:HI (or NAME=V1,V2,...) trains a parametric model over that range "
                  "(docs/DESIGN.md), repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--time", args->time,
                  "Stopping time: T, or a range LO:HI (or T1,T2,...) for a parametric model");
  cmd->add_option("--steps", args->steps,
                  "BLADE steps to the stopping time (default: the preset's, 10); more, smaller "
                  "steps or fewer, larger ones, trained for")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--knots", args->knots,
                  "Knots per LO:HI range, evenly spaced in log, the preset's value among them "
                  "when inside (default 3)");
  cmd->add_option("--knot-model", args->knot_models,
                  "A point model (.blade) to use as the box's knot at its own point instead of "
                  "training one there (e.g. a shipped model, kept bit for bit), repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--constraint", args->constraint,
                  "none, or monotone: a provably stable model (maximum principle; "
                  "docs/MONOTONE.md)");
  cmd->add_option("--checkpoint", args->checkpoint,
                  "After every fine-tuning epoch, save the current model here (.blade) and the "
                  "best so far next to it (NAME.best.blade)");
  cmd->add_option("--resume", args->resume,
                  "Continue an interrupted training from its --checkpoint file (same options)");
  cmd->add_option("--log", args->log,
                  "Write the training curve (loss per epoch, training and validation) as JSON");
  cmd->add_option("--loss", args->loss,
                  "Fine-tuning loss per frame: l2 (eq. 2.8), ssim (1 - SSIM) or mix "
                  "((1 - W) x MSE + W x (1 - SSIM), W = --ssim-weight)");
  cmd->add_option("--ssim-weight", args->ssim_weight, "SSIM weight W of --loss mix, in (0, 1)");
  cmd->add_option("--form", args->form, "direct or flux");
  cmd->add_option("--integrator", args->integrator, "euler or midpoint");
  cmd->add_option("--epochs", g.epochs,
                  "Unrolled fine-tuning epochs (0: least squares only; recipe: 20, "
                  "Perona-Malik direct 0, which an SSIM loss needs raised)")
      ->default_str("");
  cmd->add_option("--seed", g.seed, "Random seed (same seed, same model)")->check(SeedValidator());
  cmd->add_option("--limit", args->limit, "Use only the first N images");
  cmd->add_option("--batch", g.batch, "Sequences per Adam step (recipe: 8)");
  cmd->add_option("--crop", g.crop,
                  "Adam: random crop side for fine-tuning (0: whole frames; recipe: 64, flux 0)")
      ->default_str("");
  cmd->add_option("--optimizer", args->optimizer,
                  "adam (minibatches) or newton (full batch, curvature-preconditioned) "
                  "(recipe: newton, or adam for an SSIM loss with a scheme term; adam's own "
                  "rate, patience and crop follow unless given)");
  cmd->add_option("--learning-rate", g.learning_rate,
                  "Adam learning rate; newton: first step fraction (recipe: newton 1, adam 5e-4)")
      ->default_str("");
  cmd->add_option("--warmup", g.warmup_steps, "Adam steps of linear learning-rate warm-up");
  cmd->add_option("--patience", g.patience,
                  "Early stopping patience in epochs (recipe: newton 5, adam 8)")
      ->default_str("");
  cmd->add_option("--ridge", g.ridge,
                  "Least-squares regularisation, relative (recipe: 1e-3; Perona-Malik 1e-5)")
      ->default_str("");
  cmd->add_option("--cg-iterations", g.cg_iterations,
                  "Flux form: least-squares CG iterations (recipe: 60)");
  cmd->add_option("--footprint", g.footprint, "Filter size, odd 3..9 (recipe: direct 7, flux 5)")
      ->default_str("");
  cmd->add_option("--scheme-footprint", g.scheme_footprint,
                  "Also filter the classical scheme's right-hand side with filters of this size "
                  "(odd 3..9; tv, pm, ch; 0: no scheme term; recipe: 3 for direct tv, pm, ch "
                  "models, 0 for flux, CED and monotone ones)")
      ->default_str("");
  cmd->add_option("--rho", g.selection.rho,
                  "Selection structure-tensor scale (recipe: the preset's)")
      ->default_str("");
  cmd->add_option("--bins", args->bins,
                  "Orientation, strength, coherence[, intensity] bins (recipe: the preset's)")
      ->expected(3, 4);
  cmd->add_option("--stability-steps", g.stability_steps,
                  "Longest run when measuring the stability horizon (0: do not measure; recipe: "
                  "1000)");
  cmd->add_option("--stability-margin", g.stability_margin,
                  "Allowed overshoot of the training frames' range, as a fraction of its span "
                  "(recipe: 0.1; Cahn-Hilliard 0.5)")
      ->default_str("");
  cmd->add_option("--stability-weight", g.stability_weight,
                  "Weight of the stability term of the fine-tuning loss: the mean squared excess "
                  "beyond that range over rollouts of --stability-rollout steps (0: none; the "
                  "recipe)");
  cmd->add_option("--stability-rollout", g.stability_rollout,
                  "Length in steps of the stability term's rollouts, at least the training "
                  "sequences' (default 40)");
  cmd->add_option("--cache", args->cache, "Reference sequence cache (default: ~/.cache/blade)");
  cmd->add_flag("--no-augment", args->no_augment, "Fine-tune without random flips and rotations");
  cmd->add_flag("--augment-ls", args->augment_ls,
                "Fit least squares on all 8 flips/rotations of each sequence (recipe: CED)");
  cmd->add_flag("--no-cache", args->no_cache, "Do not read or write the cache");
  cmd->callback([args, cmd] {
    const Preset preset = PresetWithFrames(ChoosePreset(args->pde, args->preset), args->steps);
    CheckModelOutput(args->out);
    auto given = [&](const char* name) { return cmd->count(name) > 0; };
    const TrainOptions& g = args->given;
    RecipeChoices choices;
    if (given("--optimizer")) choices.optimizer = ParseOptimizer(args->optimizer);
    if (given("--constraint")) choices.constraint = ParseConstraint(args->constraint);
    if (given("--scheme-footprint")) choices.scheme_footprint = g.scheme_footprint;
    if (args->loss == "l2") {
      choices.ssim_weight = 0;
    } else if (args->loss == "ssim") {
      choices.ssim_weight = 1;
    } else if (args->loss == "mix") {
      if (!(args->ssim_weight > 0 && args->ssim_weight < 1))
        Fail("--ssim-weight must lie strictly between 0 and 1 (got ", args->ssim_weight, ")");
      choices.ssim_weight = args->ssim_weight;
    } else {
      Fail("unknown --loss '", args->loss, "' (l2, ssim or mix)");
    }
    TrainOptions o = RecommendedTrainOptions(preset, ParseTrainingForm(args->form), choices);
    if (given("--integrator")) o.integrator = ParseIntegrator(args->integrator);
    if (given("--epochs")) o.epochs = g.epochs;
    if (given("--seed")) o.seed = g.seed;
    if (given("--batch")) o.batch = g.batch;
    if (given("--crop")) o.crop = g.crop;
    if (given("--learning-rate")) o.learning_rate = g.learning_rate;
    if (given("--warmup")) o.warmup_steps = g.warmup_steps;
    if (given("--patience")) o.patience = g.patience;
    if (given("--ridge")) o.ridge = g.ridge;
    if (given("--cg-iterations")) o.cg_iterations = g.cg_iterations;
    if (given("--footprint")) o.footprint = g.footprint;
    if (given("--rho")) {
      o.selection.rho = g.selection.rho;
      o.selection_rho_follows_point = false;
    }
    if (given("--bins")) o.selection.SetBins(args->bins);
    if (given("--stability-steps")) o.stability_steps = g.stability_steps;
    if (given("--stability-margin")) o.stability_margin = g.stability_margin;
    if (given("--stability-weight")) o.stability_weight = g.stability_weight;
    if (given("--stability-rollout")) o.stability_rollout = g.stability_rollout;
    if (args->no_augment) o.augment = false;
    if (args->augment_ls) o.augment_least_squares = true;
    // Fail on bad options or a bad checkpoint before the (long) reference computation.
    o.ValidateFor(preset.pde);
    // A point or a box of parameters and stopping times (every axis one knot: a point model).
    std::vector<ParamAxis> axes;
    for (const std::string& p : args->params) {
      const std::size_t eq = p.find('=');
      if (eq == std::string::npos || eq == 0)
        throw UsageError("--param expects NAME=V, NAME=LO:HI or NAME=V1,V2,... (got '" + p + "')");
      const std::string name = p.substr(0, eq);
      for (const ParamAxis& a : axes)
        if (a.name == name) throw UsageError("--param " + name + " is given twice");
      axes.push_back(ParseAxis(name, p.substr(eq + 1), args->knots, preset.Value(name)));
    }
    if (!args->time.empty())
      axes.push_back(ParseAxis("time", args->time, args->knots, preset.time));
    const TrainTarget target = ResolveTrainTarget(preset, axes);
    if (target.box) {
      if (!args->resume.empty() || !args->checkpoint.empty() || !args->log.empty())
        throw UsageError("--checkpoint, --resume and --log train one point model, not a box");
      const std::string cache =
          args->no_cache ? "" : (args->cache.empty() ? DefaultCacheDir() : args->cache);
      TrainBox(preset, axes, o, args->images, args->limit, cache, args->knot_models, args->out);
      return;
    }
    if (!args->knot_models.empty())
      throw UsageError("--knot-model needs a box (--param NAME=LO:HI or --time LO:HI)");
    const Preset& trained_at = target.at;
    Checkpoint resume;  // outlives the training, which reads it
    if (!args->resume.empty()) {
      resume = LoadCheckpoint(args->resume);
      ResumeFrom(resume, o, trained_at);
    }
    if (!args->checkpoint.empty()) {
      CheckModelOutput(args->checkpoint);
      namespace fs = std::filesystem;
      std::error_code ec;  // an unresolvable path is reported when it is written
      const fs::path out = fs::weakly_canonical(args->out, ec);
      if (!ec && (fs::weakly_canonical(args->checkpoint, ec) == out ||
                  fs::weakly_canonical(BestCheckpointPath(args->checkpoint), ec) == out))
        throw UsageError("--out names the checkpoint's own file; give the trained model another");
    }
    std::vector<std::string> files = ListImages(args->images, args->limit);
    const std::string cache =
        args->no_cache ? "" : (args->cache.empty() ? DefaultCacheDir() : args->cache);
    const auto t0 = std::chrono::steady_clock::now();
    Progress loading("reference " + PdeName(preset.pde), ProgressEnabled());
    std::vector<Sequence> data = LoadTrainingSequences(
        trained_at, files, cache, [&](int done, int total) { loading.Update(done, total); });
    loading.Finish();
    const double data_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Note(StrCat("reference sequences for ", files.size(), " images ready in ", data_seconds, " s"));

    Progress progress("train", ProgressEnabled());
    o.on_status = [&](const std::string& s) {
      progress.Finish();
      Note(s);
    };
    if (!args->log.empty()) PrepareTextOutput(args->log);
    if (!args->checkpoint.empty()) SaveCheckpointsTo(args->checkpoint, o);
    nlohmann::json curve = nlohmann::json::array();
    o.on_epoch = [&](int epoch, int epochs, double train, double val, double elapsed) {
      curve.push_back(
          {{"epoch", epoch}, {"train", train}, {"validation", val}, {"seconds", elapsed}});
      progress.Update(epoch, epochs, StrCat("loss ", train, " val ", val));
      if (!ProgressEnabled())
        Note(StrCat("epoch ", epoch, "/", epochs, ": train loss ", train, ", validation loss ",
                    val));
    };
    TrainReport report;
    Model model = TrainModel(trained_at, data, o, &report);
    model.preset = preset.name;  // trained at a point of it (pde_params, dt x steps say which)
    progress.Finish();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    model.provenance["data"] = args->images + " (" + std::to_string(files.size()) + " images)";
    StampProvenance(model.provenance);
    model.provenance["command"] = CommandLine();
    model.provenance["train_seconds"] = StrCat(seconds);
    model.provenance["data_seconds"] = StrCat(data_seconds);
    SaveModel(model, args->out);
    if (const std::string w = TrainedModelWarning(model); !w.empty()) Warn(w);
    // A run resumed from a checkpoint older than its recorded state knows neither the least
    // squares' loss nor the best epoch.
    const std::string ls = std::isfinite(report.ls_validation_loss)
                               ? StrCat(" (least squares ", Format4(report.ls_validation_loss), ")")
                               : "";
    const std::string best =
        report.best_epoch >= 0 ? StrCat("best ", report.best_epoch) : "best: the checkpoint's";
    std::printf(
        "trained %s %s model -> %s in %.1f s (data %.1f s): validation %s %s%s, %d epochs (%s)\n",
        PdeName(preset.pde).c_str(), FormName(model.form).c_str(), args->out.c_str(), seconds,
        data_seconds, o.ssim_weight > 0 || o.stability_weight > 0 ? "loss" : "MSE",
        Format4(report.validation_loss).c_str(), ls.c_str(), report.epochs_run, best.c_str());
    if (!args->log.empty()) {
      // Epoch 0 is the least-squares initialisation; losses are the 10-step training loss
      // (the MSE of eq. 2.8 unless --loss says otherwise).
      curve.insert(curve.begin(), nlohmann::json::object({{"epoch", 0},
                                                          {"train", report.ls_train_loss},
                                                          {"validation", report.ls_validation_loss},
                                                          {"seconds", 0}}));
      nlohmann::json doc = {{"model", args->out},
                            {"pde", PdeName(preset.pde)},
                            {"form", FormName(model.form)},
                            {"optimizer", OptimizerName(o.optimizer)},
                            {"loss", args->loss},
                            {"ssim_weight", o.ssim_weight},
                            {"stability_weight", o.stability_weight},
                            {"stability_rollout", o.stability_rollout},
                            {"images", files.size()},
                            {"best_epoch", report.best_epoch},
                            {"seconds", seconds},
                            {"data_seconds", data_seconds},
                            {"curve", curve}};
      WriteTextOutput(args->log, doc.dump(2) + "\n", "training curve");
    }
  });
}

void AddEvalCommand(CLI::App& app) {
  struct Args {
    std::string model, images, json, figures, figure_captions = "picture", cache;
    std::vector<std::string> params, classical;
    int limit = 0, long_steps = 0;
    double time = 0;
    bool cost = false, unsafe = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval", "Score a model with the kodak4x protocol");
  cmd->add_option("--param", args->params,
                  "NAME=VALUE: evaluate at another parameter point (the reference at it; the "
                  "model inside its box or through the PDE's exact symmetry, as `blade run "
                  "--param`), repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--time", args->time,
                  "Evaluate at this stopping time (default: the model's own, steps x dt)");
  cmd->footer(kKodak4xTerms);
  AddFigureOptions(cmd, &args->figures, &args->figure_captions,
                   "input | reference | BLADE | classical-LR | error pictures per image");
  cmd->add_flag("--cost", args->cost,
                "Also time the scheme at 2x resolution and the 4x reference computed afresh "
                "(accuracy against cost); the solver times become the median of 5 runs");
  cmd->add_option("--long-steps", args->long_steps,
                  "Also run this many steps per image and report the value range (stability)");
  cmd->add_flag("--unsafe", args->unsafe,
                "Score the model even where its run goes past its measured stability horizon");
  cmd->add_option("--classical", args->classical,
                  "GRID[:STEPS]: also run the classical scheme on a grid GRID times finer than "
                  "the LR grid (1 to the protocol's 4; the HR image area-resized to it), converged "
                  "or in STEPS steps, its result area-resized to LR; row classical_GRIDx[_STEPS], "
                  "times the median of 5 runs (the accuracy-for-cost frontier), repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--cache", args->cache, "Reference sequence cache (default: ~/.cache/blade)");
  cmd->add_option("--model", args->model, "Model file")->required();
  cmd->add_option("--images", args->images,
                  "Folder of evaluation images (HR: full resolution; the protocol makes the LR "
                  "start from them)")
      ->required();
  cmd->add_option("--limit", args->limit, "Use only the first N images");
  cmd->add_option("--json", args->json, "Write the results as JSON (- : standard output)");
  cmd->callback([args] {
    ModelEvalOptions o;
    o.cost = args->cost;
    o.long_steps = args->long_steps;
    o.unsafe = args->unsafe;
    o.cache_dir = args->cache.empty() ? DefaultCacheDir() : args->cache;
    for (const std::string& spec : args->classical)
      o.classical_runs.push_back(ParseClassicalRun(spec));
    o.point.params = ParseParams(args->params);
    o.point.time = args->time;
    o.Validate();
    Model model = LoadModelArg(args->model);
    if (!args->json.empty()) PrepareTextOutput(args->json);
    std::vector<std::string> files = ListImages(args->images, args->limit);
    o.on_figure = FigureWriter(args->figures, args->figure_captions);
    Progress progress("eval", ProgressEnabled());
    o.on_progress = [&](int done, int total) { progress.Update(done, total); };
    const ModelEvaluation e = EvaluateModel(model, files, o);
    progress.Finish();
    std::printf("%s", ModelEvaluationTable(e, args->model).c_str());
    if (!args->json.empty())
      WriteTextOutput(args->json, ModelEvaluationJson(e, {{"model", args->model}}),
                      "kodak4x evaluation");
  });
}

}  // namespace blade::cli
