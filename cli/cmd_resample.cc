// `blade train-resample`, `blade resample`, `blade align`, `blade eval-resample`: optical-flow
// resampling (paper §5).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/ops.h"
#include "blade/resample.h"
#include "blade/train.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {
namespace {

void CheckFloOutput(const std::string& path) {
  if (std::filesystem::path(path).extension() != ".flo")
    Fail("flow output '", path, "' should end in .flo");
  CheckOutputDirectory(path);
}

Model LoadResampleModel(const std::string& path) {
  Model m = LoadModelArg(path);
  if (m.form != ModelForm::kResample)
    Fail("'", path, "' is a ", FormName(m.form),
         " model; resampling needs a resampling model "
         "(models/resample.blade, or `blade train-resample`)");
  return m;
}

}  // namespace

void AddResampleCommands(CLI::App& app) {
  // train-resample
  struct TrainArgs {
    std::string images, out;
    int limit = 0, shifts = 4, footprint = 5, order = 1;
    std::uint64_t seed = 1;
    double ridge = 1e-7;
    std::vector<int> bins{24, 3, 3};
  };
  auto t = std::make_shared<TrainArgs>();
  CLI::App* train = app.add_subcommand(
      "train-resample", "Fit a BLADE resampling model (BLADE^x, BLADE^y) by least squares");
  train->add_option("--images", t->images, "Folder of training photographs")->required();
  train->add_option("--out", t->out, "Output model file (.blade)")->required();
  train->add_option("--limit", t->limit, "Use only the first N images");
  train->add_option("--shifts", t->shifts, "Random sub-pixel shifts per image (default 4)");
  train->add_option("--footprint", t->footprint, "Filter size (odd, 3..9)");
  train->add_option("--bins", t->bins, "Orientation, strength, coherence bins")->expected(3);
  train->add_option("--seed", t->seed, "Random seed")->check(SeedValidator());
  train->add_option("--ridge", t->ridge,
                    "Least-squares regularisation, relative to the mean diagonal");
  train->add_option("--order", t->order,
                    "Polynomial order in the displacement: 1 = paper eq. 5.5 (default), 2 or 3");
  train->callback([t] {
    CheckModelOutput(t->out);
    ResampleTrainOptions o;
    o.shifts_per_image = t->shifts;
    o.footprint = t->footprint;
    o.seed = t->seed;
    o.order = t->order;
    o.ridge = t->ridge;
    o.selection.orientations = t->bins[0];
    o.selection.strengths = t->bins[1];
    o.selection.coherences = t->bins[2];
    o.Validate();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Image> hr;
    for (const std::string& f : ListImages(t->images, t->limit))
      hr.push_back(LoadHrLuma(f, o.factor));
    Note(StrCat("fitting on ", hr.size(), " images x ", o.shifts_per_image, " shifts"));
    Model m = TrainResampleModel(hr, o);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m.provenance["data"] = t->images;
    m.provenance["images"] = std::to_string(hr.size());
    m.provenance["train_seconds"] = StrCat(secs);
    StampProvenance(m.provenance);
    std::string cmd = "blade train-resample --images " + t->images + " --out " + t->out +
                      " --shifts " + std::to_string(t->shifts) + " --footprint " +
                      std::to_string(t->footprint) + " --seed " + std::to_string(t->seed) +
                      " --bins " + std::to_string(t->bins[0]) + " " + std::to_string(t->bins[1]) +
                      " " + std::to_string(t->bins[2]) + " --order " + std::to_string(t->order) +
                      " --ridge " + StrCat(t->ridge);
    if (t->limit > 0) cmd += " --limit " + std::to_string(t->limit);
    m.provenance["command"] = cmd;
    SaveModel(m, t->out);
    Note(StrCat("resampling model -> ", t->out));
    Note(StrCat("trained resampling model -> ", t->out, " in ", secs, " s (",
                m.provenance["training"], ")"));
  });

  // resample
  struct ResampleArgs {
    std::string model, flow, input, output, method = "blade";
  };
  auto r = std::make_shared<ResampleArgs>();
  CLI::App* resample =
      app.add_subcommand("resample", "Resample an image along a flow: out(x) = in(x + flow(x))");
  resample->add_option("--model", r->model,
                       "Resampling model for --method blade (default: the shipped resample3)");
  resample->add_option("--flow", r->flow, "Middlebury .flo file, same size as the image")
      ->required();
  resample->add_option("--method", r->method,
                       "blade, bicubic, bilinear or lanczos (default blade)");
  resample->add_option("input", r->input, "Input image")->required();
  resample->add_option("output", r->output, "Output image")->required();
  resample->callback([r] {
    const ResampleMethod m = ParseResampleMethod(r->method);
    RequireModelOnlyForBlade(m, !r->model.empty());
    CheckOutputPath(r->output);
    Model model;
    if (m == ResampleMethod::kBlade)
      model = LoadResampleModel(ModelOrDefault(r->model, Application::kResample));
    const Flow flow = ReadFlo(r->flow);
    ImageSource source;
    const Image in = ReadInput(r->input, &source);
    WriteOutput(Resample(in, flow, m, m == ResampleMethod::kBlade ? &model : nullptr), r->output,
                source);
    Note(StrCat("resampled (", r->method, ") -> ", r->output));
  });

  // align
  struct AlignArgs {
    std::string ref, alt, flow, warped, model;
    int lk = 3;
  };
  auto a = std::make_shared<AlignArgs>();
  CLI::App* align = app.add_subcommand(
      "align",
      "Estimate the flow v with ref(x) ~ alt(x + v(x)) (HDR+ block matching, Lucas-Kanade)");
  align->add_option("ref", a->ref, "Reference frame")->required();
  align->add_option("alt", a->alt, "Frame to align to the reference")->required();
  align->add_option("--flow", a->flow, "Output .flo file")->required();
  align->add_option("--lk", a->lk, "Lucas-Kanade iterations per tile (default 3; 0: off)");
  align->add_option("--warped", a->warped, "Also write alt resampled onto ref here");
  align->add_option("--model", a->model, "Resampling model for --warped (default: bicubic)");
  align->callback([a] {
    CheckFloOutput(a->flow);
    if (!a->warped.empty()) CheckOutputPath(a->warped);
    Model model;
    if (!a->model.empty()) model = LoadResampleModel(a->model);
    ImageSource source;
    const Image ref = ReadImage(a->ref), alt = ReadInput(a->alt, &source);
    AlignOptions o;
    o.lk_iterations = a->lk;
    const auto t0 = std::chrono::steady_clock::now();
    const Flow flow = AlignBlockMatching(ref, alt, o);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    WriteFlo(flow, a->flow);
    Note(StrCat("aligned ", ref.width(), "x", ref.height(), " in ", secs, " s -> ", a->flow));
    if (!a->warped.empty()) {
      WriteOutput(a->model.empty() ? Resample(alt, flow, ResampleMethod::kBicubic, nullptr)
                                   : Resample(alt, flow, ResampleMethod::kBlade, &model),
                  a->warped, source);
      Note(StrCat("alt resampled onto ref -> ", a->warped));
    }
  });

  // eval-resample
  struct EvalArgs {
    std::string model, images, json;
    int limit = 0;
  };
  auto e = std::make_shared<EvalArgs>();
  CLI::App* eval = app.add_subcommand(
      "eval-resample",
      "Synthetic bursts: resampling PSNR after one and two resamplings, alignment error");
  eval->add_option("--model", e->model, "Resampling model (default: the shipped resample3)");
  eval->add_option("--images", e->images, "Folder of HR images")->required();
  eval->add_option("--limit", e->limit, "Use only the first N images");
  eval->add_option("--json", e->json, "Write the results as JSON (- : standard output)");
  eval->callback([e] {
    if (!e->json.empty()) PrepareTextOutput(e->json);
    const std::string model_path = ModelOrDefault(e->model, Application::kResample);
    const Model model = LoadResampleModel(model_path);
    const std::vector<std::string> files = ListImages(e->images, e->limit);
    Progress progress("bursts", ProgressEnabled());
    const BurstEvaluation result =
        EvaluateBursts(model, files, [&](int done, int total) { progress.Update(done, total); });
    progress.Finish();
    std::printf("%s", BurstEvaluationTable(result).c_str());
    if (!e->json.empty())
      WriteTextOutput(e->json, BurstEvaluationJson(result, {{"model", model_path}}),
                      "burst evaluation");
  });
}

}  // namespace blade::cli
