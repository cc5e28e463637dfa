// `blade run` and `blade info`: apply a trained model to an image, and describe a model file.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/model.h"
#include "blade/ops.h"
#include "blade/preset.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {
namespace {

nlohmann::json ModelInfoJson(const Model& m) {
  nlohmann::json banks = nlohmann::json::array();
  for (const Bank& b : m.banks) {
    const SelectionConfig& s = b.selection;
    banks.push_back({{"orientations", s.orientations},
                     {"strengths", s.strengths},
                     {"coherences", s.coherences},
                     {"intensities", s.intensities},
                     {"rho", s.rho},
                     {"joint_color", s.joint_color},
                     {"filters", b.filters.count},
                     {"footprint", b.filters.size}});
  }
  const SelectionConfig& s0 = m.banks[0].selection;
  nlohmann::json upscale = nullptr;  // a learned upscaler's factor, degradation, back-projections
  if (m.form == ModelForm::kUpscale)
    upscale = {{"factor", m.upscale.factor},
               {"degradation", m.upscale.degradation},
               {"back_projections", m.upscale.back_projections},
               {"refiner_layers", m.upscale.refiner.layers.size()},
               {"refiner_parameters", m.upscale.refiner.parameters()}};
  nlohmann::json denoise = nullptr;  // a learned denoiser's noise levels, stages, channels
  if (m.form == ModelForm::kDenoise)
    denoise = {{"sigmas", m.denoise.sigmas},
               {"stages", m.denoise.stages},
               {"channels", m.denoise.channels}};
  nlohmann::json covers = nlohmann::json::object();  // CoveredRanges: name -> [lo, hi]
  for (const auto& [k, r] : CoveredRanges(m)) covers[k] = {r.first, r.second};
  nlohmann::json axes = nlohmann::json::array();  // a parametric model's box and knots
  for (const ParamAxis& a : m.axes) axes.push_back({{"name", a.name}, {"knots", a.knots}});
  return {{"form", FormName(m.form)},
          {"covers", covers},
          {"axes", axes},
          {"upscale", upscale},
          {"denoise", denoise},
          {"pde", m.pde},
          {"preset", m.preset},
          {"pde_params", m.pde_params},
          {"dt", m.dt},
          {"steps", m.steps},
          {"integrator", IntegratorName(m.integrator)},
          {"constraint", ConstraintName(m.constraint)},
          {"scheme_term", m.scheme_term},
          {"safe_steps", m.safe_steps},
          {"safe_range", {m.safe_range[0], m.safe_range[1]}},
          {"bins", {s0.orientations, s0.strengths, s0.coherences, s0.intensities}},
          {"footprint", m.banks[0].filters.size},
          {"rho", s0.rho},
          {"banks", banks},
          {"provenance", m.provenance}};
}

}  // namespace

void AddRunCommand(CLI::App& app) {
  struct Args {
    std::string model, input, output, frames_dir, integrator;
    std::vector<std::string> params;
    int steps = 0;
    double dt = 0, time = 0;
    bool luma = false, unsafe = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("run", "Run a trained BLADE model on an image");
  cmd->add_option("--param", args->params,
                  "NAME=VALUE: run at another parameter point: inside a parametric model's box "
                  "(blade info), or through the PDE's exact symmetry (an intensity scaling of at "
                  "most 3x for pm's c and tv's eps, 1.8x for ced's C), repeatable")
      ->allow_extra_args(false);
  cmd->add_option(
      "--time", args->time,
      "Stopping time (default: the model's steps x dt): a parametric model with a time "
      "axis runs its steps to it; others run the fewest whole steps of at most their dt");
  cmd->add_option("--model", args->model, "Model file (.blade)")->required();
  cmd->add_option("--steps", args->steps, "Number of steps (default: the model's)");
  cmd->add_option("--dt", args->dt,
                  "Time step (default: the model's); without --steps the run keeps the model's "
                  "stopping time, in the fewest equal steps of at most this");
  cmd->add_option("--integrator", args->integrator, "euler or midpoint (default: the model's)");
  cmd->add_option("--frames-dir", args->frames_dir,
                  "Write every step as frame_NNNNN.tiff (float) into this folder (created)");
  cmd->add_flag("--luma", args->luma, "Convert a color input to luma (BT.601) first");
  cmd->add_flag(
      "--unsafe", args->unsafe,
      "Run past the model's measured stability horizon, or with a step larger than its dt");
  cmd->add_option("input", args->input, "Input image (gray or color)")->required();
  cmd->add_option("output", args->output, "Output image")->required();
  cmd->callback([args, cmd] {
    // 0 is "the model's" only when --steps is not given.
    if ((cmd->count("--steps") && args->steps < 1) || args->steps < 0 || args->steps > kMaxRunSteps)
      Fail("--steps must be 1..", kMaxRunSteps, " (got ", args->steps, ")");
    if (args->dt != 0) RequirePositive(args->dt, "--dt");
    CheckOutputPath(args->output);
    if (!args->frames_dir.empty()) PrepareOutputFolder(args->frames_dir);
    Model model = LoadModelArg(args->model);
    if (model.form == ModelForm::kResample)
      Fail("'", args->model, "' is a resampling model; `blade run` needs a direct or flux model");
    RunOptions o;
    o.steps = args->steps;
    o.dt = args->dt;
    o.unsafe = args->unsafe;
    if (!args->integrator.empty()) o.integrator = ParseIntegrator(args->integrator);
    // A parameter point and stopping time (blade/model.h RunModelAt), or the model's own.
    ModelPoint point;
    point.params = ParseParams(args->params);
    point.time = args->time;
    const bool at_point = !point.params.empty() || args->time != 0;
    if (at_point && (args->steps != 0 || args->dt != 0))
      Fail("give --param/--time or --steps/--dt, not both (a point sets the steps)");
    PointPlan plan;
    if (at_point) {
      plan = PlanModelPoint(model, point);
      o.steps = plan.steps;
      o.dt = plan.dt;
    }
    // Fails on a run past the horizon before reading the input (RunModel resolves it again),
    // against the model that runs: a parametric model's blend at the point has its own.
    const ResolvedRun run = ResolveRun(plan.blended ? *plan.blended : model, o);
    if (!at_point)
      if (const std::string w = RunPastCoverageWarning(model, run); !w.empty()) Warn(w);
    ImageSource source;
    Image u0 = ReadInput(args->input, &source);
    if (args->luma) u0 = ToLuma(u0);
    const std::pair<float, float> input_range = {MinValue(u0), MaxValue(u0)};
    std::vector<std::pair<int, Image>> frames;
    if (!args->frames_dir.empty())
      o.on_frame = [&](int k, const Image& u) { frames.emplace_back(k, u.Copy()); };
    Progress progress("run", ProgressEnabled());
    o.on_progress = [&](int done, int total) { progress.Update(done, total); };
    const auto t0 = std::chrono::steady_clock::now();
    Image u = at_point ? RunModelAt(model, u0, point, o) : RunModel(model, std::move(u0), o);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    progress.Finish();
    if (const std::string w = LeftStableRangeWarning(model, input_range, u); !w.empty()) Warn(w);
    WriteFrames(frames, args->frames_dir);
    WriteOutput(u, args->output, source);
    // The time reached in the input's own units (a symmetry may have scaled the run's).
    const double reached =
        at_point ? (args->time != 0 ? args->time : model.steps * model.dt) : run.steps * run.dt;
    Note(StrCat("ran ", FormName(model.form), " model (", model.pde.empty() ? "?" : model.pde, ") ",
                run.steps, " ", IntegratorName(run.integrator), " steps of dt ", run.dt,
                " to t = ", reached, " in ", seconds, " s -> ", args->output));
  });
}

void AddInfoCommand(CLI::App& app) {
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("info", "Describe a model file");
  cmd->add_option("model", args->model, "Model file")->required();
  cmd->add_flag("--json", args->json, "Print one JSON object");
  cmd->callback([args] {
    Model m = LoadModelArg(args->model);
    nlohmann::json j = ModelInfoJson(m);
    if (args->json) {
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("model       %s\n", args->model.c_str());
    std::printf("form        %s%s\n", FormName(m.form).c_str(),
                m.scheme_term
                    ? ", with a scheme term (its bank filters the classical right-hand side)"
                    : "");
    const bool upscaler = m.form == ModelForm::kUpscale;
    if (upscaler)
      std::printf(
          "upscales    x%d %s inputs; %zu stage(s), each followed by %d back-projection(s)\n",
          m.upscale.factor, m.upscale.degradation.c_str(), m.banks.size(),
          m.upscale.back_projections);
    if (upscaler && !m.upscale.refiner.empty()) {
      std::string widths = StrCat(m.upscale.refiner.inputs());
      for (const ConvLayer& l : m.upscale.refiner.layers) widths += StrCat(" -> ", l.out);
      std::printf("refiner     %zu 3x3 layers, channels %s, %ld parameters\n",
                  m.upscale.refiner.layers.size(), widths.c_str(), m.upscale.refiner.parameters());
    }
    const bool denoiser = m.form == ModelForm::kDenoise;
    if (denoiser) {
      std::string levels;
      for (double v : m.denoise.sigmas) levels += StrCat(levels.empty() ? "" : ", ", v);
      std::printf("denoises    %s images, Gaussian noise sigma %s (0-255%s); %d stage(s) each\n",
                  m.denoise.channels == 1 ? "gray" : "color", levels.c_str(),
                  m.denoise.sigmas.size() > 1 ? "; blended between" : "", m.denoise.stages);
    }
    const bool resampler = m.form == ModelForm::kResample;
    if (resampler)
      std::printf("resamples   images along a flow (blade resample, eval-resample); %zu banks\n",
                  m.banks.size());
    // A learned upscaler, denoiser or resampler has no PDE, step or horizon.
    if (!upscaler && !denoiser && !resampler) {
      std::printf("pde         %s (preset %s)\n", m.pde.c_str(), m.preset.c_str());
      std::string params;
      for (const auto& [k, v] : m.pde_params) params += StrCat(k, "=", v, " ");
      std::printf("parameters  %s\n", params.c_str());
      std::printf("dt          %g x %d %s steps\n", m.dt, m.steps,
                  IntegratorName(m.integrator).c_str());
      std::printf("constraint  %s\n", ConstraintName(m.constraint).c_str());
      if (m.safe_steps >= 0)
        std::printf("stable      %d steps within [%g, %g] (measured)\n", m.safe_steps,
                    m.safe_range[0], m.safe_range[1]);
      else
        std::printf("stable      not measured\n");
      std::string covers;
      for (const auto& [k, r] : CoveredRanges(m))
        covers += StrCat(covers.empty() ? "" : ", ", k, " in [", r.first, ", ", r.second, "]");
      std::printf("covers      %s (run --param/--time; %s)\n", covers.c_str(),
                  m.parametric() ? "blended knot models, docs/DESIGN.md"
                                 : "exact symmetries, docs/RESULTS.md");
      for (const ParamAxis& a : m.axes) {
        std::string knots;
        for (double k : a.knots) knots += StrCat(" ", k);
        std::printf("axis        %s: knots%s\n", a.name.c_str(), knots.c_str());
      }
      if (m.parametric())
        std::printf("knots       %zu point models, blended at the run's point\n", m.knots.size());
    }
    const int phases = upscaler ? m.upscale.factor * m.upscale.factor : 1;
    // A denoiser's banks are its levels' stages: "sigma 20 stage 2"; the names share one width.
    std::vector<std::string> names;
    for (std::size_t b = 0; b < m.banks.size(); ++b)
      names.push_back(denoiser ? StrCat("sigma ", m.denoise.sigmas[b / m.denoise.stages], " stage ",
                                        b % m.denoise.stages + 1)
                      : upscaler                ? StrCat("stage ", b)
                      : m.scheme_term && b == 1 ? StrCat("scheme ", b)
                                                : StrCat("bank ", b));
    int width = 11;
    for (const std::string& n : names) width = std::max(width, int(n.size()));
    for (std::size_t b = 0; b < m.banks.size(); ++b) {
      const SelectionConfig& s = m.banks[b].selection;
      std::printf(
          "%-*s %d filters = %s%d orientations x %d strengths x %d coherences x %d "
          "intensities%s, %dx%d footprint, rho %g%s\n",
          width, names[b].c_str(), m.banks[b].filters.count, upscaler ? "(" : "", s.orientations,
          s.strengths, s.coherences, s.intensities,
          upscaler ? StrCat(") x ", phases, " pixel phases").c_str() : "", m.banks[b].filters.size,
          m.banks[b].filters.size, s.rho, s.joint_color ? ", joint color tensor" : "");
    }
    for (const auto& [k, v] : m.provenance) std::printf("%-11s %s\n", k.c_str(), v.c_str());
  });
}

void AddStabilityCommand(CLI::App& app) {
  struct Args {
    std::string model, images, write;
    int steps = 1000, limit = 0;
    std::vector<float> range;
    std::vector<std::string> params;
    double time = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "stability",
      "Measure how many steps a model stays finite and in range on a folder of images");
  cmd->add_option("--model", args->model, "Model file (.blade)")->required();
  cmd->add_option("--images", args->images, "Folder of HR images (run from their 1/scale luma)")
      ->required();
  cmd->add_option("--steps", args->steps, "Longest run to try");
  cmd->add_option("--limit", args->limit, "Use only the first N images");
  cmd->add_option("--range", args->range,
                  "Allowed value range LO HI (default: the model's stored range, else -0.1 1.1; "
                  "with --write, each knot's own)")
      ->expected(2);
  cmd->add_option("--write", args->write,
                  "Store the measured horizon and range in this model file (a parametric "
                  "model's at each of its knots)");
  cmd->add_option("--param", args->params,
                  "NAME=V: measure at another parameter point (as blade run --param), repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--time", args->time,
                  "Measure at this stopping time's step (a parametric model's time axis)");
  cmd->callback([args] {
    if (args->steps < 1 || args->steps > 1000000) Fail("--steps must be 1..1000000");
    if (!args->write.empty()) CheckModelOutput(args->write);
    Model model = LoadModelArg(args->model);
    if (model.form == ModelForm::kResample) Fail("'", args->model, "' is a resampling model");
    // The stored horizon is the model's own (a parametric model's, its knots'): not one at
    // another point.
    if (!args->write.empty() && (!args->params.empty() || args->time != 0))
      Fail("--write stores the model's own horizon; it does not take --param or --time");
    // At a point: the blend there (parametric), or the symmetry's scaled input (point models).
    double scale = 1;
    if (!args->params.empty() || args->time != 0) {
      ModelPoint point;
      point.params = ParseParams(args->params);
      point.time = args->time;
      const PointPlan plan = PlanModelPoint(model, point);
      if (plan.blended) model = *plan.blended;
      model.dt = plan.dt;
      scale = plan.scale;
    }
    auto [lo, hi] = StabilityRange(model);
    if (!args->range.empty()) {
      lo = float(args->range[0]);
      hi = float(args->range[1]);
    }
    if (!(std::isfinite(lo) && std::isfinite(hi) && lo < hi)) Fail("--range needs LO < HI");
    const Preset* preset = model.preset.empty() ? nullptr : &FindPreset(model.preset);
    const int protocol_scale = preset ? preset->scale : 4;
    std::vector<Image> starts;
    const std::vector<std::string> files = ListImages(args->images, args->limit);
    for (const std::string& f : files) {
      starts.push_back(AreaDownsample(LoadHrLuma(f, protocol_scale), protocol_scale));
      for (std::size_t i = 0; i < starts.back().size(); ++i)
        starts.back().data()[i] = float(starts.back().data()[i] * scale);
    }
    std::vector<const Image*> ptrs;
    for (const Image& s : starts) ptrs.push_back(&s);
    if (!args->write.empty()) {
      // Without --range, each knot of a parametric model keeps its own stored range.
      std::optional<std::pair<float, float>> given;
      if (!args->range.empty()) given = std::make_pair(lo, hi);
      const int least = StoreMeasuredStability(model, ptrs, args->steps, given);
      model.provenance["stability"] =
          StrCat("measured by `blade stability` on ", starts.size(), " images of ", args->images,
                 ", up to ", args->steps, " steps", model.parametric() ? ", at every knot" : "");
      SaveModel(model, args->write);
      // The same caution as after training (TrainedModelWarning): a horizon from a handful of
      // images may not hold on others.
      if (starts.size() < std::size_t(kFewStabilityStarts))
        Warn(StrCat("the stored horizon was measured on only ", starts.size(),
                    " image(s); it may not hold on others"));
      if (model.parametric() && !given)
        std::printf(
            "%s: %s%d steps stay finite and within each knot's stored range on %zu "
            "images at every knot (the least of them)\n",
            args->model.c_str(), least == args->steps ? "all " : "", least, starts.size());
      else
        std::printf("%s: %s%d steps stay finite and within [%g, %g] on %zu images%s\n",
                    args->model.c_str(), least == args->steps ? "all " : "", least,
                    model.parametric() ? lo : model.safe_range[0],
                    model.parametric() ? hi : model.safe_range[1], starts.size(),
                    model.parametric() ? " at every knot (the least of them)" : "");
      Note(StrCat("model with the measured horizon -> ", args->write));
      return;
    }
    Stability st = MeasureStability(model, ptrs, args->steps, float(lo * scale), float(hi * scale));
    st.min = float(st.min / scale);  // back in the caller's intensities
    st.max = float(st.max / scale);
    // Where the measure stopped: the image and what it reached (the range seen stops before).
    std::string failed;
    if (st.failed_start >= 0)
      failed = std::isfinite(st.failed_min)
                   ? StrCat("; step ", st.safe_steps + 1, " on '", files[st.failed_start],
                            "' reached [", st.failed_min / scale, ", ", st.failed_max / scale, "]")
                   : StrCat("; step ", st.safe_steps + 1, " on '", files[st.failed_start],
                            "' became non-finite");
    std::printf(
        "%s: %s%d steps of dt %g stay finite and within [%g, %g] on %zu images; range "
        "seen [%.4f, %.4f]%s\n",
        args->model.c_str(), st.safe_steps == args->steps ? "all " : "", st.safe_steps, model.dt,
        lo, hi, starts.size(), st.min, st.max, failed.c_str());
  });
}

}  // namespace blade::cli
