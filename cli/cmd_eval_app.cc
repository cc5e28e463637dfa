// `blade eval-app`: an application's protocol over a folder (the library's EvaluateApp).
#include <cstdio>
#include <filesystem>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {

// `blade eval-app segment|deconv|upscale`: measure an application over a folder (the protocols
// live in the library: blade/eval.h EvaluateApp).
void AddEvalAppCommand(CLI::App& app) {
  struct Args {
    std::string app, model, images, json, figures, figure_captions = "picture",
                                                   integrator = "euler";
    bool gray = false, color = false, force_model = false;
    int limit = 0;
    std::vector<std::string> degradations;  // empty: the library's default
    AppEvalOptions options;
  };
  auto args = std::make_shared<Args>();
  AppEvalOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand("eval-app", "Measure an application over a folder of images");
  cmd->add_option("app", args->app, "segment, deconv or upscale")->required();
  cmd->add_option("--model", args->model,
                  "Model file (default: the application's shipped model: deconv ced-restore, "
                  "upscale and segment tv-plain)");
  cmd->add_option("--images", args->images, "Folder of images")->required();
  cmd->add_flag("--gray", args->gray, "Use the luma of each image (default)");
  cmd->add_flag("--color", args->color, "Use the color images");
  cmd->add_option("--limit", args->limit, "Use only the first N images");
  cmd->add_option("--iters", o.iterations, "Iterations (segment)")->capture_default_str();
  cmd->add_option("--mu", o.mu, "BLADE length weight (segment; the paper's)")
      ->capture_default_str();
  cmd->add_option("--integrator", args->integrator, "deconv: euler or midpoint for BLADE")
      ->capture_default_str();
  cmd->add_option("--factor", o.factor,
                  StrCat("upscale: the scale factor (default: the --upscaler file's own, else ",
                         kUpscaleFactor, ")"));
  std::string default_degradations;
  for (const std::string& d : kDefaultUpscaleEvalDegradations)
    default_degradations += (default_degradations.empty() ? "" : " ") + d;
  cmd->add_option("--degradation", args->degradations,
                  StrCat("upscale: how the LR inputs are made, one or more of area, bicubic, "
                         "gaussian:SIGMA, corner:SIGMA (each reported; default: ",
                         default_degradations, ", and the --upscaler file's own)"));
  cmd->add_option("--upscaler", o.upscaler,
                  "upscale: the learned upscaler scored beside eq. 4.6: shipped (the one for "
                  "each degradation, where one is shipped), none, or a model file")
      ->capture_default_str();
  cmd->add_flag("--force-model", args->force_model,
                "Use a model of a PDE the application was not validated with");
  cmd->add_option("--json", args->json, "Write the results as JSON (- : standard output)");
  AddFigureOptions(cmd, &args->figures, &args->figure_captions);
  cmd->callback([args] {
    if (args->gray && args->color) throw UsageError("give --gray or --color, not both");
    AppEvalOptions o = args->options;
    if (!args->degradations.empty()) o.degradations = args->degradations;
    o.color = args->color;
    o.force_model = args->force_model;
    o.integrator = ParseIntegrator(args->integrator);
    o.Validate();
    if (!args->json.empty()) PrepareTextOutput(args->json);
    const std::string model_path = ModelOrDefault(args->model, ParseApplication(args->app));
    Model model = LoadModelArg(model_path);
    std::vector<std::string> files = ListImages(args->images, args->limit);
    o.on_figure = FigureWriter(args->figures, args->figure_captions);
    Progress progress(args->app, ProgressEnabled());
    o.on_progress = [&](int done, int total) { progress.Update(done, total); };
    const AppEvaluation e = EvaluateApp(args->app, model, files, o);
    progress.Finish();
    std::printf("%s", AppEvaluationTable(e).c_str());
    if (!args->json.empty())
      WriteTextOutput(args->json, AppEvaluationJson(e, {{"model", model_path}}),
                      args->app + " evaluation");
  });
}

}  // namespace blade::cli
