// The kodak4x protocol over a folder: every image's rows (EvaluateImage), their means, the output
// ranges, JSON and the text table, shared by `blade eval` and Python's blade.evaluate_model.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <tuple>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/ops.h"
#include "blade/viz.h"

namespace blade {
namespace {

// A row of the table: its name and where each image's score of it lives.
struct Kind {
  std::string name;
  std::function<const Score&(const BaselineRow&)> score;
};

// The rows in table order, with the cost rows and the classical runs only when measured.
std::vector<Kind> Kinds(const ModelEvaluation& e) {
  auto field = [](Score BaselineRow::*f) {
    return [f](const BaselineRow& r) -> const Score& { return r.*f; };
  };
  std::vector<Kind> kinds;
  if (e.has_model) kinds.push_back({"blade", field(&BaselineRow::blade)});
  kinds.push_back({"identity", field(&BaselineRow::identity)});
  kinds.push_back({"classical_lr_10", field(&BaselineRow::classical_lr10)});
  kinds.push_back({"classical_lr", field(&BaselineRow::classical_lr)});
  if (e.cost) kinds.push_back({"classical_2x", field(&BaselineRow::classical_2x)});
  for (std::size_t i = 0; i < e.classical_runs.size(); ++i)
    kinds.push_back({ClassicalRunName(e.classical_runs[i]),
                     [i](const BaselineRow& r) -> const Score& { return r.classical_runs[i]; }});
  return kinds;
}

struct RowMean {
  double psnr = 0, ssim = 0, seconds = 0, steps = 0;
  int diverged = 0;
};

// Each value divided by the count and added in image order (diverged rows count as 0).
RowMean MeanOf(const std::vector<BaselineRow>& rows, const Kind& kind) {
  RowMean m;
  for (const BaselineRow& r : rows) {
    const Score& s = kind.score(r);
    if (s.diverged) ++m.diverged;
    m.psnr += s.psnr / rows.size();
    m.ssim += s.ssim / rows.size();
    m.seconds += s.seconds / rows.size();
    m.steps += double(s.steps) / rows.size();
  }
  return m;
}

double MeanReferenceSeconds(const std::vector<BaselineRow>& rows) {
  double seconds = 0;
  for (const BaselineRow& r : rows) seconds += r.reference_compute_seconds / rows.size();
  return seconds;
}

}  // namespace

void ModelEvalOptions::Validate() const {
  if (long_steps < 0 || long_steps > 100000)
    Fail("the long-run steps must be 0..100000 (got ", long_steps, ")");
  // Each row once: a repeated run, or --classical 2 beside --cost (which adds classical_2x),
  // printed the row twice and merged the two in the JSON.
  std::vector<std::string> names;
  if (cost) names.push_back("classical_2x");
  for (const ClassicalRun& run : classical_runs) {
    if (!(run.grid >= 1) || run.steps < 0)
      Fail("a classical run needs a grid of at least 1 and steps of at least 0 (got ",
           ClassicalRunName(run), ")");
    const std::string name = ClassicalRunName(run);
    if (std::find(names.begin(), names.end(), name) != names.end())
      Fail("the classical run ", name, " is asked for twice",
           cost && name == "classical_2x" ? " (--cost adds it; Python cost=True)" : "");
    names.push_back(name);
  }
}

EvalPoint ResolveEvalPoint(const Model& model, const ModelPoint& point) {
  if (model.preset.empty()) Fail("the model names no preset to evaluate against");
  const Preset& base = FindPreset(model.preset);
  EvalPoint out;
  out.point = point;
  // What the point leaves out is the model's own, not the preset's: a model trained at rho 2 is
  // scored at rho 2 when only the time is given (the run is there), and at its own time when
  // only parameters are.
  const auto preset_params = base.params.ToMap(base.pde);
  for (const auto& [k, v] : model.pde_params) {
    if (out.point.params.count(k)) continue;
    const auto it = preset_params.find(k);
    if (it == preset_params.end() || std::abs(it->second - v) > 1e-9 * std::abs(v))
      out.point.params[k] = v;
  }
  const double model_time = model.dt * model.steps;
  if (point.time == 0 && std::abs(model_time - base.time) > 1e-9 * base.time)
    out.point.time = model_time;
  out.at_point = !out.point.params.empty() || out.point.time != 0;
  // The preset takes BLADE's steps (a model trained for other steps, `blade train --steps`, or
  // run to another time), so that classical-LR at equal cost takes as many. PlanModelPoint
  // refuses what the model cannot reach.
  const Preset own =
      PresetWithFrames(base, out.at_point ? PlanModelPoint(model, out.point).steps : model.steps);
  out.preset = out.at_point ? PresetAt(own, out.point.params, out.point.time) : own;
  return out;
}

ModelEvaluation EvaluateModel(const Model& model, const std::vector<std::string>& files,
                              const ModelEvalOptions& o) {
  o.Validate();
  if (files.empty()) Fail("the evaluation needs at least one image (got none)");
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux)
    Fail("kodak4x needs a direct or flux model (this model's form: ", FormName(model.form),
         "; eval-app and eval-resample score the applications)");
  const EvalPoint where = ResolveEvalPoint(model, o.point);
  const Preset& preset = where.preset;
  const ModelPoint& point = where.point;
  const bool at_point = where.at_point;
  ModelEvaluation e;
  e.pde = model.pde;
  e.preset = preset.name;
  e.form = FormName(model.form);
  e.time = preset.time;
  e.steps = at_point ? PlanModelPoint(model, point).steps : preset.frames;
  e.cost = o.cost;
  e.classical_runs = o.classical_runs;
  e.long_steps = o.long_steps;
  std::tie(e.long_allowed[0], e.long_allowed[1]) = StabilityRange(model);
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (o.on_progress) o.on_progress(int(i), int(files.size()));
    NamingTheFile(files[i], [&] {
      Image hr = LoadHrLuma(files[i], preset.scale);
      EvalPictures pictures;
      EvalExtras extras;
      extras.cost = o.cost;
      extras.classical_runs = o.classical_runs;
      extras.unsafe = o.unsafe;
      if (at_point) extras.point = &point;
      if (o.on_figure) extras.pictures = &pictures;
      e.rows.push_back(EvaluateImage(preset, hr,
                                     std::filesystem::path(files[i]).filename().string(), &model,
                                     o.cache_dir, extras));
      const BaselineRow& r = e.rows.back();
      if (o.on_figure && !r.blade.diverged) {
        Image err = AbsoluteError(pictures.blade, pictures.target);
        std::vector<Panel> panels = {
            {&pictures.start,
             {"input: LR initial condition", ScoreCaption(r.identity.psnr, r.identity.ssim)}},
            {&pictures.target, {StrCat("reference (", preset.scale, "x grid, downsampled)")}},
            {&pictures.blade,
             {StrCat("BLADE, ", e.steps, " steps"), ScoreCaption(r.blade.psnr, r.blade.ssim)}}};
        if (!r.classical_lr.diverged)
          panels.push_back(
              {&pictures.classical_lr,
               {"classical at LR", ScoreCaption(r.classical_lr.psnr, r.classical_lr.ssim)}});
        panels.push_back({&err, {"|BLADE - reference| x 10"}});
        o.on_figure(files[i], model.pde, panels);
      }
      if (!r.blade.diverged) {
        e.range_min = std::min(e.range_min, r.blade_min);
        e.range_max = std::max(e.range_max, r.blade_max);
      }
      if (o.long_steps > 0) {
        RunOptions run;
        run.steps = o.long_steps;
        run.unsafe = true;  // measuring what happens past the horizon is the point
        try {
          Image u = RunModel(model, AreaDownsample(hr, preset.scale), run);
          const float lo = MinValue(u), hi = MaxValue(u);
          e.long_min = std::min(e.long_min, lo);
          e.long_max = std::max(e.long_max, hi);
          if (lo < e.long_allowed[0] || hi > e.long_allowed[1]) ++e.long_left;
        } catch (const Error&) {
          ++e.long_diverged;
          ++e.long_left;
        }
      }
    });
  }
  if (o.on_progress) o.on_progress(int(files.size()), int(files.size()));
  return e;
}

ModelEvaluation EvaluateBaselines(const Preset& preset, const std::vector<std::string>& files,
                                  const ModelEvalOptions& o) {
  o.Validate();
  if (files.empty()) Fail("the evaluation needs at least one image (got none)");
  if (!o.point.params.empty() || o.point.time || o.long_steps || o.unsafe || o.on_figure)
    Fail("the baselines have no model: a point, a long run, unsafe or figures concern a model");
  ModelEvaluation e;
  e.has_model = false;
  e.pde = PdeName(preset.pde);
  e.preset = preset.name;
  e.time = preset.time;
  e.steps = preset.frames;
  e.cost = o.cost;
  e.classical_runs = o.classical_runs;
  EvalExtras extras;
  extras.cost = o.cost;
  extras.classical_runs = o.classical_runs;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (o.on_progress) o.on_progress(int(i), int(files.size()));
    NamingTheFile(files[i], [&] {
      e.rows.push_back(EvaluateImage(preset, LoadHrLuma(files[i], preset.scale),
                                     std::filesystem::path(files[i]).filename().string(), nullptr,
                                     o.cache_dir, extras));
    });
  }
  if (o.on_progress) o.on_progress(int(files.size()), int(files.size()));
  return e;
}

std::string ModelEvaluationJson(const ModelEvaluation& e,
                                const std::map<std::string, std::string>& extra) {
  const auto kinds = Kinds(e);
  nlohmann::json rows;
  for (const Kind& kind : kinds) {
    const RowMean m = MeanOf(e.rows, kind);
    rows[kind.name] = {{"psnr", m.psnr},
                       {"ssim", m.ssim},
                       {"seconds", m.seconds},
                       {"steps", m.steps},
                       {"diverged", m.diverged}};
  }
  if (e.cost) rows["reference_4x"] = {{"seconds", MeanReferenceSeconds(e.rows)}};
  nlohmann::json images = nlohmann::json::array();
  for (const BaselineRow& r : e.rows) {
    nlohmann::json j = {{"name", r.image}};
    for (const Kind& kind : kinds) {
      const Score& s = kind.score(r);
      j[kind.name] =
          s.diverged ? nlohmann::json{{"diverged", true}}
                     : nlohmann::json{{"psnr", s.psnr}, {"ssim", s.ssim}, {"seconds", s.seconds}};
    }
    if (e.cost) j["reference_4x"] = {{"seconds", r.reference_compute_seconds}};
    images.push_back(j);
  }
  nlohmann::json doc = {{"protocol", "kodak4x"}, {"pde", e.pde},     {"preset", e.preset},
                        {"time", e.time},        {"steps", e.steps}, {"rows", rows},
                        {"images", images}};
  if (e.has_model) {
    doc["form"] = e.form;
    doc["range"] = {e.range_min, e.range_max};
  }
  for (const auto& [k, v] : extra) doc[k] = v;
  if (e.long_steps > 0)
    doc["long_run"] = {{"steps", e.long_steps},
                       {"range", {e.long_min, e.long_max}},
                       {"allowed", {e.long_allowed[0], e.long_allowed[1]}},
                       {"left_allowed", e.long_left},
                       {"diverged", e.long_diverged}};
  return doc.dump(2) + "\n";
}

std::string ModelEvaluationTable(const ModelEvaluation& e, const std::string& model_name) {
  std::string out;
  char line[160];
  if (e.has_model)
    std::snprintf(line, sizeof line,
                  "kodak4x: %s (%s %s, %d steps) on %zu images, mean over images\n",
                  model_name.c_str(), e.pde.c_str(), e.form.c_str(), e.steps, e.rows.size());
  else
    std::snprintf(line, sizeof line,
                  "kodak4x baselines: preset %s (%s, T = %g, %d frames) on %zu images, mean over "
                  "images\n",
                  e.preset.c_str(), e.pde.c_str(), e.time, e.steps, e.rows.size());
  out += line;
  // Times in milliseconds: a 10-step run at the protocol's 192x128 takes about one.
  std::snprintf(line, sizeof line, "%-20s %9s %8s %10s %7s\n", "row", "PSNR dB", "SSIM", "ms",
                "steps");
  out += line;
  for (const Kind& kind : Kinds(e)) {
    const RowMean m = MeanOf(e.rows, kind);
    std::snprintf(line, sizeof line, "%-20s %9.3f %8.4f %10.3f %7.0f%s\n", kind.name.c_str(),
                  m.psnr, m.ssim, 1e3 * m.seconds, m.steps,
                  m.diverged ? StrCat("  (", m.diverged, " diverged)").c_str() : "");
    out += line;
  }
  if (e.cost) {
    std::snprintf(line, sizeof line, "%-20s %9s %8s %10.1f\n", "reference_4x", "(target)", "",
                  1e3 * MeanReferenceSeconds(e.rows));
    out += line;
  }
  if (!e.has_model) return out;
  std::snprintf(line, sizeof line,
                "BLADE output range over all images after %d steps: [%.4f, %.4f]\n", e.steps,
                e.range_min, e.range_max);
  out += line;
  if (e.long_steps > 0) {
    std::snprintf(line, sizeof line,
                  "after %d steps: range [%.4f, %.4f]; %d of %zu images left [%g, %g] (%d of them "
                  "non-finite)\n",
                  e.long_steps, e.long_min, e.long_max, e.long_left, e.rows.size(),
                  e.long_allowed[0], e.long_allowed[1], e.long_diverged);
    out += line;
  }
  return out;
}

}  // namespace blade
