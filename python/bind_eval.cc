// The Python bindings of the evaluation protocols: kodak4x per image and the applications
// (blade/eval.h).
#include <filesystem>

#include "blade/eval.h"
#include "convert.h"

namespace blade::python {

void BindEval(py::module_& m) {
  m.def(
      "evaluate",
      [](const Model& model, const std::vector<std::string>& images, const std::string& cache,
         std::optional<std::map<std::string, double>> params, std::optional<double> time,
         bool unsafe) {
        ModelPoint point;
        if (params) point.params = *params;
        if (time) point.time = *time;
        const EvalPoint where = ResolveEvalPoint(model, point);
        const Preset& preset = where.preset;
        EvalExtras extras;
        extras.unsafe = unsafe;
        if (where.at_point) extras.point = &where.point;
        py::list rows;
        for (const std::string& f : images) {
          BaselineRow row;
          {
            py::gil_scoped_release r;
            row = EvaluateImage(preset, LoadHrLuma(f, preset.scale),
                                std::filesystem::path(f).filename().string(), &model,
                                CacheDir(cache), extras);
          }
          py::dict d;
          d["name"] = row.image;
          d["blade"] = ScoreDict(row.blade);
          d["identity"] = ScoreDict(row.identity);
          d["classical_lr_10"] = ScoreDict(row.classical_lr10);
          d["classical_lr"] = ScoreDict(row.classical_lr);
          rows.append(d);
        }
        return rows;
      },
      py::arg("model"), py::arg("images"), py::arg("cache") = "default", py::kw_only(),
      py::arg("params") = py::none(), py::arg("time") = py::none(), py::arg("unsafe") = false,
      "The kodak4x protocol per image: BLADE, identity, classical-LR-10, classical-LR scores, at "
      "the model's own point or at params / time (as evaluate_model).");

  m.def(
      "evaluate_model",
      [](const Model& model, const std::vector<std::string>& images, bool cost, int long_steps,
         const std::string& cache, std::optional<std::map<std::string, double>> params,
         std::optional<double> time, const std::vector<std::string>& classical, bool unsafe) {
        ModelEvalOptions o;
        o.cost = cost;
        o.long_steps = long_steps;
        o.unsafe = unsafe;
        for (const std::string& spec : classical)
          o.classical_runs.push_back(ParseClassicalRun(spec));
        o.cache_dir = CacheDir(cache);
        if (params) o.point.params = *params;
        if (time) o.point.time = *time;
        std::string json;
        {
          py::gil_scoped_release r;
          json = ModelEvaluationJson(EvaluateModel(model, images, o));
        }
        return py::module_::import("json").attr("loads")(json);
      },
      py::arg("model"), py::arg("images"), py::kw_only(), py::arg("cost") = false,
      py::arg("long_steps") = 0, py::arg("cache") = "default", py::arg("params") = py::none(),
      py::arg("time") = py::none(), py::arg("classical") = std::vector<std::string>{},
      py::arg("unsafe") = false,
      "The kodak4x protocol over image files, as `blade eval --json` (same numbers); params "
      "and time evaluate at another point (`blade eval --param --time`); classical: runs of the "
      "scheme on finer grids, 'GRID' (converged) or 'GRID:STEPS' (`blade eval --classical`): "
      "{'protocol', 'pde', 'preset', 'form', 'steps', 'rows' (means: blade, identity, "
      "classical_lr_10, classical_lr), 'images' (per image), 'range', 'long_run'}. A model is "
      "refused past its stability horizon unless unsafe=True (`blade eval --unsafe`).");
  m.def(
      "evaluate_resample",
      [](const Model* given, const std::vector<std::string>& images) {
        const auto model = ModelOrShipped(given, Application::kResample);
        std::string json;
        {
          py::gil_scoped_release r;
          json = BurstEvaluationJson(EvaluateBursts(*model, images));
        }
        return py::module_::import("json").attr("loads")(json);
      },
      py::arg("model"), py::arg("images"),
      "Synthetic bursts over image files, as `blade eval-resample` (same numbers): PSNR after "
      "one and two resamplings along a known flow for BLADE (model; None: the shipped "
      "resample3), bicubic, bilinear and Lanczos-3, and the alignment's end-point error. "
      "Returns {'images', 'rows' {method: {'psnr_1', 'psnr_2'}}, 'alignment' {'epe'}, "
      "'per_image'}.");
  m.def(
      "evaluate_app",
      [](const std::string& app, const Model* given, const std::vector<std::string>& images,
         bool color, std::optional<int> iterations, std::optional<double> mu,
         const std::string& integrator, std::optional<int> factor,
         std::optional<std::vector<std::string>> degradations, const std::string& upscaler) {
        AppEvalOptions o;
        o.upscaler = upscaler;
        o.color = color;
        if (iterations) o.iterations = *iterations;
        if (mu) o.mu = *mu;
        o.factor = factor;
        o.degradations = std::move(degradations);
        o.integrator = ParseIntegrator(integrator);
        // None: the application's shipped default, as `blade eval-app` without --model.
        const auto model = ModelOrShipped(given, ParseApplication(app));
        std::string json;
        {
          py::gil_scoped_release r;
          json = AppEvaluationJson(EvaluateApp(app, *model, images, o));
        }
        return py::module_::import("json").attr("loads")(json);
      },
      py::arg("app"), py::arg("model").none(true), py::arg("images"), py::kw_only(),
      py::arg("color") = false, py::arg("iterations") = py::none(), py::arg("mu") = py::none(),
      py::arg("integrator") = "euler", py::arg("factor") = py::none(),
      py::arg("degradations") = py::none(), py::arg("upscaler") = AppEvalOptions().upscaler,
      "An application's protocol over image files, as `blade eval-app` (same numbers): app is "
      "'deconv', 'upscale' (factor, degradations, upscaler: as --factor, --degradation, "
      "--upscaler) or 'segment'; model None: the application's shipped default "
      "(blade.Model.default_for(app)), as without --model. "
      "Returns {'app', 'mode', 'images', 'settings', 'rows' "
      "(means per method), 'per_image'}.");
}

}  // namespace blade::python
