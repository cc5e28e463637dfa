// Training parametric models (blade/model.h ParamAxis): a point model at every knot of a box of
// PDE parameters and stopping times, assembled into one model that blends them.
#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/train.h"

namespace blade {

std::vector<double> AxisKnots(double lo, double hi, int count, double keep) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo > 0 && hi >= lo))
    Fail("an axis needs 0 < LO <= HI (got ", lo, ":", hi, ")");
  if (lo == hi) return {lo};
  if (count < 2 || count > 16) Fail("an axis from ", lo, " to ", hi, " needs 2..16 knots");
  std::vector<double> knots(count);
  for (int i = 0; i < count; ++i)
    knots[i] = i == 0 ? lo
               : i == count - 1
                   ? hi
                   : std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * i / (count - 1));
  // The interior knot nearest `keep` (in log) moves onto it, when it lies strictly inside.
  if (count > 2 && keep > lo && keep < hi) {
    int best = 1;
    for (int i = 2; i + 1 < count; ++i)
      if (std::abs(std::log(knots[i] / keep)) < std::abs(std::log(knots[best] / keep))) best = i;
    if (keep > knots[best - 1] && keep < knots[best + 1]) knots[best] = keep;
  }
  return knots;
}

ParamAxis ParseAxis(const std::string& name, const std::string& spec, int count, double keep) {
  const auto number = [&](const std::string& text) {
    std::size_t used = 0;
    double v = NAN;
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size() || !std::isfinite(v) || v <= 0)
      Fail(name, "=", spec, ": expected a positive value V, a range LO:HI or knots V1,V2,... (",
           "'", text, "' is not a positive number)");
    return v;
  };
  ParamAxis axis{name, {}};
  const std::size_t colon = spec.find(':');
  if (colon != std::string::npos) {
    axis.knots =
        AxisKnots(number(spec.substr(0, colon)), number(spec.substr(colon + 1)), count, keep);
    return axis;
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = spec.find(',', start);
    axis.knots.push_back(number(spec.substr(start, comma - start)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (std::size_t i = 1; i < axis.knots.size(); ++i)
    if (axis.knots[i] <= axis.knots[i - 1]) Fail(name, "=", spec, ": knots must ascend");
  return axis;
}

TrainTarget ResolveTrainTarget(const Preset& preset, const std::vector<ParamAxis>& axes) {
  TrainTarget t;
  std::map<std::string, double> params;
  double time = 0;
  for (const ParamAxis& a : axes) {
    if (a.knots.empty()) Fail("axis ", a.name, " has no value");
    t.box = t.box || a.knots.size() > 1;
    (a.name == "time" ? time : params[a.name]) = a.knots.front();
  }
  t.at = axes.empty() || t.box ? preset : PresetAt(preset, params, time);
  return t;
}

Model TrainParametricModel(const Preset& base, const std::vector<ParamAxis>& given,
                           const std::vector<std::string>& files, const std::string& cache_dir,
                           const TrainOptions& options,
                           const std::function<void(int, int, const Preset&, bool)>& on_knot,
                           const std::vector<Model>& given_knots) {
  options.ValidateFor(base.pde);
  // An axis of one value is a fixed point of the preset, not a one-knot axis (which would cover
  // that value only): `--param c=0.03:0.3 --time 2` trains every knot to T = 2, and the model
  // reaches other times as a point model does.
  std::map<std::string, double> fixed;
  double fixed_time = 0;
  std::vector<ParamAxis> axes;
  for (std::size_t i = 0; i < given.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (given[i].name == given[j].name) Fail("axis '", given[i].name, "' is given twice");
  for (const ParamAxis& a : given) {
    if (a.knots.size() == 1) {
      (a.name == "time" ? fixed_time : fixed[a.name]) = a.knots[0];
    } else {
      axes.push_back(a);
    }
  }
  if (axes.empty()) Fail("a parametric model needs an axis with at least two knots");
  const Preset preset = PresetAt(base, fixed, fixed_time);
  std::size_t count = 1;
  for (const ParamAxis& a : axes) {
    preset.Value(a.name);  // fails on a name the PDE does not have
    // What Model::Validate will demand of the box, checked before hours of training.
    if (a.knots.empty() || a.knots.size() > 64) Fail("axis '", a.name, "' needs 1..64 knots");
    for (std::size_t i = 0; i < a.knots.size(); ++i)
      if (!(std::isfinite(a.knots[i]) && a.knots[i] > 0) || (i > 0 && a.knots[i] <= a.knots[i - 1]))
        Fail("axis '", a.name, "' needs ascending, positive, finite knots");
    count *= a.knots.size();
  }
  if (count > 4096) Fail("a parametric model needs 1..4096 knots (got ", count, ")");
  // Knot k's point: the first axis varies slowest.
  std::vector<Preset> points;
  for (std::size_t k = 0; k < count; ++k) {
    std::map<std::string, double> params = fixed;
    double time = fixed_time;
    std::size_t rest = k;
    for (int a = int(axes.size()) - 1; a >= 0; --a) {
      const double v = axes[a].knots[rest % axes[a].knots.size()];
      rest /= axes[a].knots.size();
      (axes[a].name == "time" ? time : params[axes[a].name]) = v;
    }
    points.push_back(PresetAt(base, params, time));
  }
  // Each given point model takes the place of the knot at its own point (checked before any
  // training: one that is parametric, of another PDE, or at no knot of the box is refused).
  const auto near = [](double a, double b) {
    return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), 1e-300);
  };
  std::vector<const Model*> given_at(count, nullptr);
  std::string given_text;
  for (const Model& g : given_knots) {
    if (g.parametric()) Fail("a given knot model must be a point model, not a parametric one");
    if (g.pde != PdeName(base.pde))
      Fail("a given knot model is a ", g.pde, " model; the box is ", PdeName(base.pde));
    std::string point;
    for (const auto& [name, v] : g.pde_params) point += StrCat(name, "=", v, ", ");
    point += StrCat("T=", g.dt * g.steps);
    // What the recipe will train elsewhere (checked now, not after hours of training): the
    // knots run the same steps and blend position by position.
    if (g.form != options.form || g.integrator != options.integrator || g.steps != base.frames)
      Fail("a given knot model (", point, ") is ", FormName(g.form), ", ",
           IntegratorName(g.integrator), ", ", g.steps, " steps; the options train ",
           FormName(options.form), ", ", IntegratorName(options.integrator), ", ", base.frames,
           " steps");
    if (g.scheme_term != (options.scheme_footprint > 0))
      Fail("a given knot model (", point, ") ", g.scheme_term ? "has a" : "has no",
           " scheme term; the options train ", options.scheme_footprint > 0 ? "one" : "none",
           " (--scheme-footprint)");
    for (std::size_t b = 0; b < g.banks.size(); ++b) {
      // With a scheme term, bank 1 holds the filters of F(u), of the scheme footprint.
      const int size = g.scheme_term && b == 1 ? options.scheme_footprint : options.footprint;
      const Bank trained{options.selection, FilterBank(options.selection.num_filters(), size)};
      const std::string diff = BankLayoutDifference(g.banks[b], trained);
      if (!diff.empty())
        Fail("a given knot model (", point, ") differs from what the options train: ", diff);
    }
    std::size_t k = 0;
    for (; k < count; ++k) {
      bool same = near(g.dt * g.steps, points[k].time);
      for (const auto& [name, v] : g.pde_params) same = same && near(v, points[k].Value(name));
      if (same) break;
    }
    if (k == count) Fail("a given knot model (", point, ") is at no knot of the box");
    const double rho =
        options.selection_rho_follows_point ? points[k].selection_rho : options.selection.rho;
    for (const Bank& bank : g.banks)
      if (!near(bank.selection.rho, rho))
        Fail("a given knot model (", point, ") selects at scale ", bank.selection.rho,
             "; the options train this knot at ", rho,
             options.selection_rho_follows_point ? " (the point's, the recipe)" : " (--rho)");
    if (given_at[k] != nullptr) Fail("two given knot models are at the same knot (", point, ")");
    given_at[k] = &g;
    given_text += StrCat(given_text.empty() ? "" : "; ", point);
  }
  std::vector<Model> knot_models;
  for (std::size_t k = 0; k < count; ++k) {
    const Preset& at = points[k];
    if (on_knot) on_knot(int(k), int(count), at, given_at[k] != nullptr);
    if (given_at[k] != nullptr) {
      knot_models.push_back(*given_at[k]);
      continue;
    }
    Model m = TrainModel(at, LoadTrainingSequences(at, files, cache_dir), options);
    m.preset = base.name;  // the knots' presets are points of the base preset's
    knot_models.push_back(std::move(m));
  }
  // The default: the preset's point, or on an axis that excludes it, the nearest knot.
  std::map<std::string, double> defaults;
  for (const ParamAxis& a : axes)
    defaults[a.name] = std::clamp(preset.Value(a.name), a.knots.front(), a.knots.back());
  Model model = MakeParametricModel(axes, knot_models, defaults);
  // The knots' own losses and horizons, summarised (knot 0's alone would mislead).
  double lo = INFINITY, hi = -INFINITY;
  int least_safe = -1;
  for (const Model& m : knot_models) {
    const auto it = m.provenance.find("validation_mse");
    if (it != m.provenance.end()) {
      lo = std::min(lo, std::stod(it->second));
      hi = std::max(hi, std::stod(it->second));
    }
    if (m.safe_steps >= 0)
      least_safe = least_safe < 0 ? m.safe_steps : std::min(least_safe, m.safe_steps);
  }
  // Knot 0's own notes (a given knot extracted by Model.at also says where it was blended).
  for (const char* key : {"ls_validation_mse", "validation_mse", "train_mse", "ls_validation_loss",
                          "validation_loss", "train_loss", "blended_at"})
    model.provenance.erase(key);
  if (lo <= hi) model.provenance["knot_validation_mse"] = StrCat(lo, " to ", hi);
  model.provenance["knot_safe_steps"] = StrCat("at least ", least_safe);
  model.provenance["knots"] =
      given_knots.empty()
          ? StrCat(count, " point models, each trained with the recipe")
          : StrCat(count, " point models: ", count - given_knots.size(),
                   " trained with the recipe, ", given_knots.size(), " given at ", given_text);
  return model;
}

double ParametricLossGradient(const Model& model, const std::map<std::string, double>& values,
                              const std::vector<Sequence>& data,
                              std::vector<std::vector<std::vector<double>>>* knot_grads) {
  if (data.empty()) Fail("the loss needs at least one sequence");
  const Model point = BlendModelAt(model, values);
  double loss = 0;
  std::vector<std::vector<double>> grad(point.banks.size());
  for (std::size_t b = 0; b < grad.size(); ++b)
    grad[b].assign(point.banks[b].filters.taps.size(), 0);
  if (!RolloutLossGradientSum(point, data, point.integrator, &loss, &grad)) return INFINITY;
  const double n = double(data.size());
  if (knot_grads != nullptr) {
    knot_grads->assign(model.knots.size(), {});
    for (std::size_t k = 0; k < model.knots.size(); ++k) {
      (*knot_grads)[k].resize(grad.size());
      for (std::size_t b = 0; b < grad.size(); ++b) (*knot_grads)[k][b].assign(grad[b].size(), 0);
    }
    for (const auto& [k, w] : BasisWeights(model, values))
      for (std::size_t b = 0; b < grad.size(); ++b)
        for (std::size_t i = 0; i < grad[b].size(); ++i)
          (*knot_grads)[k][b][i] = w * grad[b][i] / n;
  }
  return loss / n;
}

}  // namespace blade
