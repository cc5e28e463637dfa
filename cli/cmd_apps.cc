// Application subcommands: `blade segment` (Chan–Vese with BLADE TV or the reference scheme).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
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
    Note(StrCat("segmented with ", args->reference ? "the reference scheme" : "BLADE TV",
                " (mu ", p.mu, ", ", p.iterations, " iterations) in ", seconds, " s -> ",
                args->output));
  });
}

}  // namespace blade::cli

namespace blade::cli {

// `blade eval-app segment`: BLADE vs. reference Chan–Vese over a folder (agreement, IoU, time).
void AddEvalAppCommand(CLI::App& app) {
  struct Args {
    std::string app, model, images, json;
    bool gray = false, color = false;
    int limit = 0, iters = 300;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("eval-app", "Measure an application over a folder of images");
  cmd->add_option("app", args->app, "segment")->required();
  cmd->add_option("--model", args->model, "Model file")->required();
  cmd->add_option("--images", args->images, "Folder of images")->required();
  cmd->add_flag("--gray", args->gray, "Use the luma of each image (default)");
  cmd->add_flag("--color", args->color, "Use the color images");
  cmd->add_option("--limit", args->limit, "Use only the first N images");
  cmd->add_option("--iters", args->iters, "Iterations (segment; default 300)");
  cmd->add_option("--json", args->json, "Write the results as JSON");
  cmd->callback([args] {
    if (args->app != "segment")
      Fail("unknown application '", args->app, "' (available here: segment)");
    if (args->gray && args->color) throw UsageError("give --gray or --color, not both");
    if (!args->json.empty()) CheckOutputPath(args->json + ".png");
    Model model = LoadModel(args->model);
    if (model.form == ModelForm::kResample) Fail("segment needs a TV flow model");
    std::vector<std::string> files = ListImages(args->images);
    if (args->limit > 0 && std::size_t(args->limit) < files.size()) files.resize(args->limit);
    ChanVeseParams ref, bl;
    ref.iterations = bl.iterations = args->iters;
    ref.mu = 0.2;
    bl.mu = 0.04;
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
      images.push_back({{"name", std::filesystem::path(files[i]).filename().string()},
                        {"agreement", ag}, {"iou", io}, {"reference_seconds", sr},
                        {"blade_seconds", sb}});
    }
    progress.Finish();
    std::printf("segment (%s, %d iterations, %zu images): BLADE TV mu 0.04 vs. reference mu 0.2"
                " (partitions compared up to swapped labels)\n",
                args->color ? "color" : "gray", args->iters, files.size());
    std::printf("%-10s %10s %8s %10s\n", "method", "agreement", "IoU", "seconds");
    std::printf("%-10s %10.4f %8.4f %10.3f\n", "blade", agree, iou, t_blade);
    std::printf("%-10s %10s %8s %10.3f\n", "reference", "", "", t_ref);
    if (args->json.empty()) return;
    nlohmann::json doc = {
        {"app", "segment"}, {"images", files.size()}, {"mode", args->color ? "color" : "gray"},
        {"iterations", args->iters}, {"model", args->model},
        {"rows", {{"blade", {{"agreement", agree}, {"iou", iou}, {"seconds", t_blade}}},
                  {"reference", {{"seconds", t_ref}}}}},
        {"per_image", images}};
    WriteTextFileAtomically(args->json, doc.dump(2) + "\n");
  });
}

}  // namespace blade::cli
