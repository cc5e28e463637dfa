// Application subcommands: `blade segment` (Chan–Vese with BLADE TV or the reference scheme).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/restore.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {

void AddSegmentCommand(CLI::App& app) {
  struct Args {
    std::string model, input, output, overlay;
    bool reference = false;
    double mu = kChanVeseMuBlade;
    int iters = ChanVeseParams().iterations;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "segment", "Chan-Vese segmentation (color: Chan-Sandberg-Vese) with a BLADE TV model");
  cmd->add_option("--model", args->model, "TV flow model (required unless --reference)");
  cmd->add_flag("--reference", args->reference, "Use the classical IPOL scheme instead");
  CLI::Option* mu =
      cmd->add_option("--mu", args->mu,
                      StrCat("Length penalty (default ", kChanVeseMuBlade, " with BLADE, ",
                             kChanVeseMuReference, " with --reference)"));
  cmd->add_option("--iters", args->iters, "Iterations")->capture_default_str();
  cmd->add_option("--overlay", args->overlay, "Also write the image with the contour in red");
  cmd->add_option("input", args->input, "Image (gray or color)")->required();
  cmd->add_option("mask", args->output, "Output mask (white = phi >= 0)")->required();
  cmd->callback([args, mu] {
    if (!args->reference && args->model.empty())
      throw UsageError("segment needs --model (a TV flow model) or --reference");
    ChanVeseParams p;
    p.mu = mu->count() ? args->mu : args->reference ? kChanVeseMuReference : kChanVeseMuBlade;
    RequireNonNegative(p.mu, "--mu");
    p.iterations = args->iters;
    p.Validate();
    CheckOutputPath(args->output);
    if (!args->overlay.empty()) CheckOutputPath(args->overlay);
    Model model;
    if (!args->reference) model = LoadModel(args->model);
    Image f = ReadImage(args->input);
    Progress progress("segment", ProgressEnabled());
    auto on_progress = [&](int done, int total) { progress.Update(done, total); };
    const auto t0 = std::chrono::steady_clock::now();
    Image phi = args->reference ? ChanVeseReference(f, p, on_progress)
                                : ChanVeseBlade(f, model, p, on_progress);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.Finish();
    Image mask = SegmentationMask(phi);
    if (!args->overlay.empty()) WriteImage(SegmentationOverlay(f, mask), args->overlay);
    WriteImage(mask, args->output);
    Note(StrCat("segmented with ", args->reference ? "the reference scheme" : "BLADE TV", " (mu ",
                p.mu, ", ", p.iterations, " iterations) in ", seconds, " s -> ", args->output));
  });
}

}  // namespace blade::cli

namespace blade::cli {

// `blade eval-app segment|deconv|upscale`: measure an application over a folder (the protocols
// live in the library: blade/eval.h EvaluateApp).
void AddEvalAppCommand(CLI::App& app) {
  struct Args {
    std::string app, model, images, json, figures, integrator = "euler";
    bool gray = false, color = false;
    int limit = 0;
    AppEvalOptions options;
  };
  auto args = std::make_shared<Args>();
  AppEvalOptions& o = args->options;
  CLI::App* cmd = app.add_subcommand("eval-app", "Measure an application over a folder of images");
  cmd->add_option("app", args->app, "segment, deconv or upscale")->required();
  cmd->add_option("--model", args->model, "Model file")->required();
  cmd->add_option("--images", args->images, "Folder of images")->required();
  cmd->add_flag("--gray", args->gray, "Use the luma of each image (default)");
  cmd->add_flag("--color", args->color, "Use the color images");
  cmd->add_option("--limit", args->limit, "Use only the first N images");
  cmd->add_option("--iters", o.iterations, "Iterations (segment)")->capture_default_str();
  cmd->add_option("--mu", o.mu, "BLADE length weight (segment; the paper's)")
      ->capture_default_str();
  cmd->add_option("--integrator", args->integrator, "deconv: euler or midpoint for BLADE")
      ->capture_default_str();
  cmd->add_option("--json", args->json, "Write the results as JSON");
  cmd->add_option("--figures", args->figures,
                  "Write a captioned side-by-side picture per image into this folder (created)");
  cmd->callback([args] {
    if (args->gray && args->color) throw UsageError("give --gray or --color, not both");
    AppEvalOptions o = args->options;
    o.color = args->color;
    o.integrator = ParseIntegrator(args->integrator);
    o.Validate();
    if (!args->json.empty()) CheckOutputDirectory(args->json);
    Model model = LoadModel(args->model);
    std::vector<std::string> files = ListImages(args->images, args->limit);
    if (!args->figures.empty()) {
      std::filesystem::create_directories(args->figures);
      o.on_figure = [&](const std::string& file, const std::string& suffix,
                        const std::vector<Panel>& panels) {
        WriteFigure(args->figures, file, suffix, panels);
      };
    }
    Progress progress(args->app, ProgressEnabled());
    o.on_progress = [&](int done, int total) { progress.Update(done, total); };
    const AppEvaluation e = EvaluateApp(args->app, model, files, o);
    progress.Finish();
    std::printf("%s", AppEvaluationTable(e).c_str());
    if (!args->json.empty())
      WriteTextFileAtomically(args->json, AppEvaluationJson(e, {{"model", args->model}}));
  });
}

}  // namespace blade::cli

namespace blade::cli {

namespace {

struct RestoreArgs {
  std::string model, op, input, output;
  double lambda = kRestoreLambda, sigma = kDeconvSigma, dt = 0;
  int steps = RestoreOptions().steps;
  bool unsafe = false;

  // The options both restoration commands share, checked before any work.
  void AddCommon(CLI::App* cmd, const char* lambda_help) {
    cmd->add_option("--lambda", lambda, lambda_help)->capture_default_str();
    cmd->add_option("--steps", steps, "Steps")->capture_default_str();
    cmd->add_option("--dt", dt, "Step (default: the model's)");
    cmd->add_flag("--unsafe", unsafe, "Run past the model's measured stability horizon");
    cmd->add_option("input", input, "Observed image")->required();
    cmd->add_option("output", output, "Restored image")->required();
  }
  RestoreOptions Checked() const {
    RequireNonNegative(lambda, "--lambda");
    if (steps < 1 || steps > 100000) Fail("--steps must be 1..100000");
    if (dt != 0) RequirePositive(dt, "--dt");
    CheckOutputPath(output);
    RestoreOptions o;
    o.lambda = lambda;
    o.steps = steps;
    o.dt = dt;
    o.unsafe = unsafe;
    return o;
  }
};

}  // namespace

void AddRestoreCommands(CLI::App& app) {
  auto r = std::make_shared<RestoreArgs>();
  CLI::App* restore = app.add_subcommand(
      "restore", "Restoration u += dt (BLADE(u) + lambda A^T (f - A u)) (paper eq. 4.2)");
  restore->add_option("--model", r->model, "Regulariser model (TV, PM or CED)")->required();
  restore->add_option("--op", r->op, "blur:sigma=S | mask:FILE")->required();
  r->AddCommon(restore, "Data weight lambda");
  restore->callback([r] {
    RestoreOptions o = r->Checked();
    Model model = LoadModel(r->model);
    LinearOperator op = ParseOperator(r->op);
    WriteImage(Restore(model, op, ReadImage(r->input), o), r->output);
  });

  auto d = std::make_shared<RestoreArgs>();
  d->lambda = kDeconvLambda;
  CLI::App* deconv = app.add_subcommand(
      "deconv", "Non-blind Gaussian deconvolution with filters that absorb the blur (eq. 4.4-4.5)");
  deconv->add_option("--model", d->model, "Direct regulariser model (CED in the paper)")
      ->required();
  deconv->add_option("--sigma", d->sigma, "Gaussian PSF sigma in pixels (at most 1.1)")
      ->capture_default_str();
  d->AddCommon(deconv, "Data weight lambda");
  deconv->callback([d] {
    RequirePositive(d->sigma, "--sigma");
    RestoreOptions o = d->Checked();
    Model model = LoadModel(d->model);
    WriteImage(Deconvolve(model, ReadImage(d->input), d->sigma, o), d->output);
  });

  auto u = std::make_shared<RestoreArgs>();
  u->lambda = kUpscaleLambda;
  u->sigma = kUpscalePsfSigma;
  struct UpscaleArgs {
    int factor = kUpscaleFactor;
    bool project = false;
    std::string unit = "hr";
  };
  auto ua = std::make_shared<UpscaleArgs>();
  CLI::App* upscale = app.add_subcommand(
      "upscale",
      "Upscaling with a BLADE regulariser: Lanczos-3 start and a data term (paper eq. "
      "4.6), or with --project a Fourier start and projected steps (eq. 4.7)");
  upscale->add_option("--model", u->model, "Regulariser model (TV in the paper)")->required();
  upscale->add_option("--factor", ua->factor, "Integer upscaling factor")->capture_default_str();
  upscale->add_option("--psf-sigma", u->sigma, "Gaussian PSF sigma, in --psf-unit")
      ->capture_default_str();
  upscale->add_option("--psf-unit", ua->unit, "Unit of --psf-sigma: hr or lr pixels")
      ->capture_default_str();
  upscale->add_flag("--project", ua->project,
                    "Eq. 4.7: keep down(phi * u) = f exactly (noise-free data; lambda unused)");
  u->AddCommon(upscale, "Data weight lambda");
  upscale->callback([u, ua] {
    RequireNonNegative(u->sigma, "--psf-sigma");
    if (ua->factor < 1 || ua->factor > 16) Fail("--factor must be 1..16 (got ", ua->factor, ")");
    if (ua->unit != "hr" && ua->unit != "lr")
      Fail("--psf-unit must be hr or lr (got '", ua->unit, "')");
    const double sigma_hr = ua->unit == "lr" ? u->sigma * ua->factor : u->sigma;
    RestoreOptions o = u->Checked();
    Model model = LoadModel(u->model);
    Image f = ReadImage(u->input);
    WriteImage(ua->project ? UpscaleProjected(model, f, ua->factor, sigma_hr, o)
                           : Upscale(model, f, ua->factor, sigma_hr, o),
               u->output);
  });
}

}  // namespace blade::cli
