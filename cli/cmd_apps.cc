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
    double mu = -1;
    int iters = 300;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "segment", "Chan-Vese segmentation (color: Chan-Sandberg-Vese) with a BLADE TV model");
  cmd->add_option("--model", args->model, "TV flow model (required unless --reference)");
  cmd->add_flag("--reference", args->reference, "Use the classical IPOL scheme instead");
  cmd->add_option("--mu", args->mu, "Length penalty (default 0.04 with BLADE, 0.2 reference)");
  cmd->add_option("--iters", args->iters, "Iterations (default 300)");
  cmd->add_option("--overlay", args->overlay, "Also write the image with the contour in red");
  cmd->add_option("input", args->input, "Image (gray or color)")->required();
  cmd->add_option("mask", args->output, "Output mask (white = phi >= 0)")->required();
  cmd->callback([args] {
    if (!args->reference && args->model.empty())
      throw UsageError("segment needs --model (a TV flow model) or --reference");
    ChanVeseParams p;
    p.mu = args->mu >= 0 ? args->mu : (args->reference ? 0.2 : 0.04);
    if (args->mu != -1) RequireNonNegative(args->mu, "--mu");
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

struct EvalAppArgs {
  std::string app, model, images, json, figures;
  bool gray = false, color = false;
  int limit = 0, iters = 300;
  double mu = 0.04;                  // segment: BLADE length weight
  std::string integrator = "euler";  // deconv: BLADE's stepping
};

// Deconvolution over a folder (paper Fig. 15 setting): blur sigma 1, noise sigma 5/255 (seeded),
// lambda 2, 10 steps; input, BLADE (absorbed filters) and the classical scheme in eq. 4.2.
void EvalDeconv(const EvalAppArgs& a) {
  if (a.gray && a.color) throw UsageError("give --gray or --color, not both");
  if (!a.json.empty()) CheckOutputDirectory(a.json);
  Model model = LoadModel(a.model);
  if (model.pde.empty()) Fail("model '", a.model, "' names no PDE for the classical comparison");
  std::vector<std::string> files = ListImages(a.images, a.limit);
  RestoreOptions o;
  o.lambda = 2;
  o.steps = 10;
  o.dt = model.dt;
  o.integrator = ParseIntegrator(a.integrator);
  const double sigma = 1.0, noise = 5.0 / 255;
  struct Sum {
    double psnr = 0, ssim = 0, seconds = 0;
  } in, bl, cl;
  nlohmann::json images = nlohmann::json::array();
  Progress progress("deconv", ProgressEnabled());
  for (std::size_t i = 0; i < files.size(); ++i) {
    progress.Update(long(i), long(files.size()));
    Image truth = ReadImage(files[i]);
    if (!a.color) truth = ToLuma(truth);
    Image f = GaussianBlur(truth, sigma);
    std::mt19937 rng(1000 + unsigned(i));
    std::normal_distribution<float> nd(0.f, float(noise));
    for (std::size_t j = 0; j < f.size(); ++j) f.data()[j] += nd(rng);
    auto t0 = std::chrono::steady_clock::now();
    Image ub = Deconvolve(model, f, sigma, o);
    auto t1 = std::chrono::steady_clock::now();
    Image uc = RestoreClassical(model.pde, model.pde_params, BlurOperator(sigma), f, o);
    auto t2 = std::chrono::steady_clock::now();
    const double n = double(files.size());
    const double pi = Psnr(f, truth), si = Ssim(f, truth), pb = Psnr(ub, truth),
                 sb = Ssim(ub, truth);
    const double pc = Psnr(uc, truth), sc = Ssim(uc, truth);
    const double tb = std::chrono::duration<double>(t1 - t0).count();
    const double tc = std::chrono::duration<double>(t2 - t1).count();
    in.psnr += pi / n;
    in.ssim += si / n;
    bl.psnr += pb / n;
    bl.ssim += sb / n;
    bl.seconds += tb / n;
    cl.psnr += pc / n;
    cl.ssim += sc / n;
    cl.seconds += tc / n;
    if (!a.figures.empty()) {
      Image err = AbsoluteError(ub, truth);
      WriteFigure(a.figures, files[i], "deconv",
                  {{&truth, {"original"}},
                   {&f, {"blurred (sigma 1) + noise", ScoreCaption(pi, si)}},
                   {&ub, {"BLADE deconvolution", ScoreCaption(pb, sb)}},
                   {&uc, {"classical, same formula", ScoreCaption(pc, sc)}},
                   {&err, {"|BLADE - original| x 10"}}});
    }
    images.push_back({{"name", std::filesystem::path(files[i]).filename().string()},
                      {"input", {{"psnr", pi}, {"ssim", si}}},
                      {"blade", {{"psnr", pb}, {"ssim", sb}, {"seconds", tb}}},
                      {"classical", {{"psnr", pc}, {"ssim", sc}, {"seconds", tc}}}});
  }
  progress.Finish();
  std::printf("deconv (%s, blur sigma 1, noise 5/255, lambda 2, 10 steps, %zu images)\n",
              a.color ? "color" : "gray", files.size());
  std::printf("%-10s %9s %8s %10s\n", "method", "PSNR dB", "SSIM", "seconds");
  std::printf("%-10s %9.3f %8.4f %10s\n", "input", in.psnr, in.ssim, "");
  std::printf("%-10s %9.3f %8.4f %10.3f\n", "blade", bl.psnr, bl.ssim, bl.seconds);
  std::printf("%-10s %9.3f %8.4f %10.3f\n", "classical", cl.psnr, cl.ssim, cl.seconds);
  if (a.json.empty()) return;
  nlohmann::json doc = {
      {"app", "deconv"},
      {"images", files.size()},
      {"mode", a.color ? "color" : "gray"},
      {"model", a.model},
      {"rows",
       {{"input", {{"psnr", in.psnr}, {"ssim", in.ssim}, {"seconds", 0}}},
        {"blade", {{"psnr", bl.psnr}, {"ssim", bl.ssim}, {"seconds", bl.seconds}}},
        {"classical", {{"psnr", cl.psnr}, {"ssim", cl.ssim}, {"seconds", cl.seconds}}}}},
      {"per_image", images}};
  WriteTextFileAtomically(a.json, doc.dump(2) + "\n");
}

void EvalUpscale(const EvalAppArgs& a);

// `blade eval-app segment|deconv|upscale`: measure an application over a folder.
void AddEvalAppCommand(CLI::App& app) {
  using Args = EvalAppArgs;
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval-app", "Measure an application over a folder of images");
  cmd->add_option("app", args->app, "segment, deconv or upscale")->required();
  cmd->add_option("--model", args->model, "Model file")->required();
  cmd->add_option("--images", args->images, "Folder of images")->required();
  cmd->add_flag("--gray", args->gray, "Use the luma of each image (default)");
  cmd->add_flag("--color", args->color, "Use the color images");
  cmd->add_option("--limit", args->limit, "Use only the first N images");
  cmd->add_option("--iters", args->iters, "Iterations (segment; default 300)");
  cmd->add_option("--mu", args->mu, "BLADE length weight (segment; default 0.04, the paper's)");
  cmd->add_option("--integrator", args->integrator,
                  "deconv: euler (default) or midpoint for BLADE");
  cmd->add_option("--json", args->json, "Write the results as JSON");
  cmd->add_option("--figures", args->figures,
                  "Write a captioned side-by-side picture per image into this folder (created)");
  cmd->callback([args] {
    if (!args->figures.empty()) std::filesystem::create_directories(args->figures);
    if (args->app == "deconv") return EvalDeconv(*args);
    if (args->app == "upscale") return EvalUpscale(*args);
    if (args->app != "segment")
      Fail("unknown application '", args->app, "' (available here: segment, deconv, upscale)");
    if (args->gray && args->color) throw UsageError("give --gray or --color, not both");
    if (!args->json.empty()) CheckOutputDirectory(args->json);
    Model model = LoadModel(args->model);
    if (model.form == ModelForm::kResample) Fail("segment needs a TV flow model");
    std::vector<std::string> files = ListImages(args->images, args->limit);
    ChanVeseParams ref, bl;
    ref.iterations = bl.iterations = args->iters;
    ref.mu = 0.2;
    bl.mu = args->mu;
    RequireNonNegative(bl.mu, "--mu");
    double agree = 0, iou = 0, t_ref = 0, t_blade = 0;
    nlohmann::json images = nlohmann::json::array();
    Progress progress("segment", ProgressEnabled());
    for (std::size_t i = 0; i < files.size(); ++i) {
      progress.Update(long(i), long(files.size()));
      Image f = ReadImage(files[i]);
      if (!args->color) f = ToLuma(f);
      auto t0 = std::chrono::steady_clock::now();
      Image a = SegmentationMask(ChanVeseReference(f, ref));
      auto t1 = std::chrono::steady_clock::now();
      Image b = AlignLabels(a, SegmentationMask(ChanVeseBlade(f, model, bl)));
      auto t2 = std::chrono::steady_clock::now();
      const double ag = MaskAgreement(a, b), io = MaskIou(a, b);
      const double sr = std::chrono::duration<double>(t1 - t0).count();
      const double sb = std::chrono::duration<double>(t2 - t1).count();
      agree += ag / files.size();
      iou += io / files.size();
      t_ref += sr / files.size();
      t_blade += sb / files.size();
      if (!args->figures.empty()) {
        Image oa = SegmentationOverlay(f, a), ob = SegmentationOverlay(f, b);
        Image diff = AbsoluteError(a, b, 1.f);
        auto Seconds = [](double t) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.2f s", t);
          return std::string(buf);
        };
        char line[96];
        std::snprintf(line, sizeof line, "agreement %.4f, IoU %.4f", ag, io);
        WriteFigure(args->figures, files[i], "segment",
                    {{&oa, {"reference Chan-Vese (mu 0.2)", Seconds(sr)}},
                     {&ob, {StrCat("BLADE TV Chan-Vese (mu ", bl.mu, ")"), Seconds(sb)}},
                     {&diff, {"disagreement (white)", line}}});
      }
      images.push_back({{"name", std::filesystem::path(files[i]).filename().string()},
                        {"agreement", ag},
                        {"iou", io},
                        {"reference_seconds", sr},
                        {"blade_seconds", sb}});
    }
    progress.Finish();
    std::printf(
        "segment (%s, %d iterations, %zu images): BLADE TV mu %g vs. reference mu 0.2"
        " (partitions compared up to swapped labels)\n",
        args->color ? "color" : "gray", args->iters, files.size(), bl.mu);
    std::printf("%-10s %10s %8s %10s\n", "method", "agreement", "IoU", "seconds");
    std::printf("%-10s %10.4f %8.4f %10.3f\n", "blade", agree, iou, t_blade);
    std::printf("%-10s %10s %8s %10.3f\n", "reference", "", "", t_ref);
    if (args->json.empty()) return;
    nlohmann::json doc = {{"app", "segment"},
                          {"images", files.size()},
                          {"mode", args->color ? "color" : "gray"},
                          {"iterations", args->iters},
                          {"model", args->model},
                          {"rows",
                           {{"blade", {{"agreement", agree}, {"iou", iou}, {"seconds", t_blade}}},
                            {"reference", {{"seconds", t_ref}}}}},
                          {"per_image", images}};
    WriteTextFileAtomically(args->json, doc.dump(2) + "\n");
  });
}

}  // namespace blade::cli

namespace blade::cli {

namespace {

struct RestoreArgs {
  std::string model, op, input, output;
  double lambda = 1, sigma = 1, dt = 0;
  int steps = 10;

  // The options both restoration commands share, checked before any work.
  void AddCommon(CLI::App* cmd, const char* lambda_help) {
    cmd->add_option("--lambda", lambda, lambda_help);
    cmd->add_option("--steps", steps, "Steps (default 10)");
    cmd->add_option("--dt", dt, "Step (default: the model's)");
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
    return o;
  }
};

}  // namespace

// Upscaling over a folder: degrade each image (Gaussian PSF, keep every factor-th pixel), upscale
// by bicubic, Lanczos-3, eq. 4.6 and eq. 4.7, and score against the original.
void EvalUpscale(const EvalAppArgs& a) {
  if (a.gray && a.color) throw UsageError("give --gray or --color, not both");
  if (!a.json.empty()) CheckOutputDirectory(a.json);
  Model model = LoadModel(a.model);
  std::vector<std::string> files = ListImages(a.images, a.limit);
  const int factor = 4;
  const double sigma = 0.4;
  RestoreOptions o;
  o.lambda = 0.35;
  o.steps = 10;
  constexpr int kMethods = 4;
  const char* names[kMethods] = {"bicubic", "lanczos", "blade", "blade_project"};
  double psnr[kMethods] = {}, ssim[kMethods] = {}, secs[kMethods] = {};
  nlohmann::json per_image = nlohmann::json::array();
  Progress progress("upscale", ProgressEnabled());
  for (std::size_t i = 0; i < files.size(); ++i) {
    progress.Update(long(i), long(files.size()));
    Image truth = CropToMultiple(ReadImage(files[i]), factor);
    if (!a.color) truth = ToLuma(truth);
    Image f = SubsampleOperator(sigma, factor).apply(truth);
    nlohmann::json entry = {{"name", std::filesystem::path(files[i]).filename().string()}};
    std::vector<Image> results;
    std::vector<std::string> captions;
    for (int m = 0; m < kMethods; ++m) {
      auto t0 = std::chrono::steady_clock::now();
      Image u = m == 0   ? ResizeBicubic(f, truth.width(), truth.height(), Lattice::kCorner)
                : m == 1 ? ResizeLanczos3(f, truth.width(), truth.height(), Lattice::kCorner)
                : m == 2 ? Upscale(model, f, factor, sigma, o)
                         : UpscaleProjected(model, f, factor, sigma, o);
      secs[m] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
                 files.size();
      const double p = Psnr(u, truth), q = Ssim(u, truth);
      psnr[m] += p / files.size();
      ssim[m] += q / files.size();
      entry[names[m]] = {{"psnr", p}, {"ssim", q}};
      if (!a.figures.empty()) {
        results.push_back(std::move(u));
        captions.push_back(ScoreCaption(p, q));
      }
    }
    per_image.push_back(entry);
    if (!a.figures.empty()) {
      const char* titles[kMethods] = {"bicubic", "Lanczos-3", "BLADE TV, eq. 4.6",
                                      "BLADE TV, eq. 4.7"};
      Image err = AbsoluteError(results[3], truth);
      std::vector<Panel> panels = {{&truth, {"original"}}, {&f, {"input (1/4 size)"}}};
      for (int m = 0; m < kMethods; ++m) panels.push_back({&results[m], {titles[m], captions[m]}});
      panels.push_back({&err, {"|eq. 4.7 - original| x 10"}});
      WriteFigure(a.figures, files[i], "upscale", panels);
    }
  }
  progress.Finish();
  std::printf("upscale x%d (%s, PSF sigma %.1f HR px, lambda %.2f, 10 steps, %zu images)\n", factor,
              a.color ? "color" : "gray", sigma, o.lambda, files.size());
  std::printf("%-14s %9s %8s %10s\n", "method", "PSNR dB", "SSIM", "seconds");
  nlohmann::json rows;
  for (int m = 0; m < kMethods; ++m) {
    std::printf("%-14s %9.3f %8.4f %10.3f\n", names[m], psnr[m], ssim[m], secs[m]);
    rows[names[m]] = {{"psnr", psnr[m]}, {"ssim", ssim[m]}, {"seconds", secs[m]}};
  }
  if (a.json.empty()) return;
  nlohmann::json doc = {
      {"app", "upscale"}, {"images", files.size()}, {"mode", a.color ? "color" : "gray"},
      {"model", a.model}, {"rows", rows},           {"per_image", per_image}};
  WriteTextFileAtomically(a.json, doc.dump(2) + "\n");
}

void AddRestoreCommands(CLI::App& app) {
  auto r = std::make_shared<RestoreArgs>();
  CLI::App* restore = app.add_subcommand(
      "restore", "Restoration u += dt (BLADE(u) + lambda A^T (f - A u)) (paper eq. 4.2)");
  restore->add_option("--model", r->model, "Regulariser model (TV, PM or CED)")->required();
  restore->add_option("--op", r->op, "blur:sigma=S | mask:FILE")->required();
  r->AddCommon(restore, "Data weight lambda (default 1)");
  restore->callback([r] {
    RestoreOptions o = r->Checked();
    Model model = LoadModel(r->model);
    LinearOperator op = ParseOperator(r->op);
    WriteImage(Restore(model, op, ReadImage(r->input), o), r->output);
  });

  auto d = std::make_shared<RestoreArgs>();
  d->lambda = 2;
  CLI::App* deconv = app.add_subcommand(
      "deconv", "Non-blind Gaussian deconvolution with filters that absorb the blur (eq. 4.4-4.5)");
  deconv->add_option("--model", d->model, "Direct regulariser model (CED in the paper)")
      ->required();
  deconv->add_option("--sigma", d->sigma, "Gaussian PSF sigma in pixels (default 1, at most 1.1)");
  d->AddCommon(deconv, "Data weight lambda (default 2)");
  deconv->callback([d] {
    RequirePositive(d->sigma, "--sigma");
    RestoreOptions o = d->Checked();
    Model model = LoadModel(d->model);
    WriteImage(Deconvolve(model, ReadImage(d->input), d->sigma, o), d->output);
  });

  auto u = std::make_shared<RestoreArgs>();
  u->lambda = 0.35;
  u->sigma = 0.4;
  struct UpscaleArgs {
    int factor = 4;
    bool project = false;
    std::string unit = "hr";
  };
  auto ua = std::make_shared<UpscaleArgs>();
  CLI::App* upscale = app.add_subcommand(
      "upscale",
      "Upscaling with a BLADE regulariser: Lanczos-3 start and a data term (paper eq. "
      "4.6), or with --project a Fourier start and projected steps (eq. 4.7)");
  upscale->add_option("--model", u->model, "Regulariser model (TV in the paper)")->required();
  upscale->add_option("--factor", ua->factor, "Integer upscaling factor (default 4)");
  upscale->add_option("--psf-sigma", u->sigma, "Gaussian PSF sigma (default 0.4, in --psf-unit)");
  upscale->add_option("--psf-unit", ua->unit, "Unit of --psf-sigma: hr or lr pixels (default hr)");
  upscale->add_flag("--project", ua->project,
                    "Eq. 4.7: keep down(phi * u) = f exactly (noise-free data; lambda unused)");
  u->AddCommon(upscale, "Data weight lambda (default 0.35)");
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
