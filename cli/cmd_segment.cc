// `blade segment`: Chan–Vese segmentation with a BLADE TV model or the reference scheme.
#include <chrono>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/io.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {

void AddSegmentCommand(CLI::App& app) {
  struct Args {
    std::string model, input, output, overlay;
    std::vector<std::string> params;
    bool reference = false, force_model = false;
    double mu = kChanVeseMuBlade;
    int iters = ChanVeseParams().iterations;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "segment", "Chan-Vese segmentation (color: Chan-Sandberg-Vese) with a BLADE TV model");
  cmd->add_option("--model", args->model, "TV flow model (default: the shipped tv-plain)");
  cmd->add_flag("--reference", args->reference, "Use the classical IPOL scheme instead");
  cmd->footer(
      "Either solver's mask is white on the brighter region, so the two are comparable pixel by "
      "pixel.");
  cmd->add_flag("--force-model", args->force_model, "Use a model of another PDE than TV flow");
  AddAppParamOption(cmd, &args->params);
  CLI::Option* mu =
      cmd->add_option("--mu", args->mu,
                      StrCat("Length penalty (default ", kChanVeseMuBlade, " with BLADE, ",
                             kChanVeseMuReference, " with --reference)"));
  cmd->add_option("--iters", args->iters, "Iterations")->capture_default_str();
  cmd->add_option("--overlay", args->overlay, "Also write the image with the contour in red");
  cmd->add_option("input", args->input, "Image (gray or color)")->required();
  cmd->add_option("mask", args->output,
                  "Output mask: white (1) on the region with the brighter mean, black on the other")
      ->required();
  cmd->callback([args, mu] {
    ChanVeseParams p;
    RequireNoModelForReference(args->reference,
                               !args->model.empty() || !args->params.empty() || args->force_model);
    p.mu = mu->count() ? args->mu : DefaultChanVeseMu(args->reference);
    RequireNonNegative(p.mu, "--mu");
    p.iterations = args->iters;
    p.Validate();
    CheckOutputPath(args->output);
    if (!args->overlay.empty()) CheckOutputPath(args->overlay);
    // A mask or an overlay is not the photograph: written over it (a swapped argument), the
    // input would be lost; and two outputs in one file would leave only the last.
    for (const std::string* out : {&args->output, &args->overlay})
      if (!out->empty() && SameFile(*out, args->input))
        Fail("'", *out, "' is the input image; give the ",
             out == &args->output ? "mask" : "overlay", " another file");
    if (!args->overlay.empty() && SameFile(args->overlay, args->output))
      Fail("the mask and the overlay are both '", args->output, "'; give them different files");
    Model model;
    if (!args->reference) {
      model = LoadAppModel(args->model, Application::kSegment, args->force_model, args->params);
    }
    ImageSource source;
    Image f = ReadInput(args->input, &source);
    Progress progress("segment", ProgressEnabled());
    auto on_progress = [&](int done, int total) { progress.Update(done, total); };
    const auto t0 = std::chrono::steady_clock::now();
    Image phi = args->reference ? ChanVeseReference(f, p, on_progress)
                                : ChanVeseBlade(f, model, p, on_progress);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.Finish();
    Image mask = SegmentationMask(phi, f);
    if (!args->overlay.empty()) WriteOutput(SegmentationOverlay(f, mask), args->overlay, source);
    WriteOutput(mask, args->output, source);
    Note(StrCat("segmented with ", args->reference ? "the reference scheme" : "BLADE TV", " (mu ",
                p.mu, ", ", p.iterations, " iterations) in ", seconds, " s -> ", args->output));
  });
}

}  // namespace blade::cli
