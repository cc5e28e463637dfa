// Running a model at another parameter point and stopping time: parametric models' blending
// over their box, and the PDE's exact symmetries (intensity scaling).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "blade/error.h"
#include "blade/model.h"

namespace blade {
namespace {

// Knot k's value on each axis: the knots form a grid with the first axis varying slowest.
std::map<std::string, double> KnotPoint(const std::vector<ParamAxis>& axes, std::size_t k) {
  std::map<std::string, double> at;
  for (int a = int(axes.size()) - 1; a >= 0; --a) {
    const std::size_t n = axes[a].knots.size();
    at[axes[a].name] = axes[a].knots[k % n];
    k /= n;
  }
  return at;
}

// Which parameter of a PDE moves by an intensity scaling: the scale a new value needs, its
// inverse (the value a scale reaches), whether time scales with it, and the largest scale
// either way (farther, a model sees contrasts unlike its training photographs'): 3 for PM and
// TV, 1.8 for CED, whose C moves with the fourth power (C from C0 / 10.5 to 10.5 C0; the range
// measured in docs/RESULTS.md).
struct Symmetry {
  const char* pde;
  const char* param;
  double (*scale)(double model_value, double value);
  double (*value)(double model_value, double scale);
  bool scales_time;
  double max_scale;
};

const Symmetry kSymmetries[] = {
    {"pm", "c", [](double c0, double c) { return c0 / c; },
     [](double c0, double s) { return c0 / s; }, false, 3.0},
    {"ced", "C", [](double c0, double c) { return std::pow(c0 / c, 0.25); },
     [](double c0, double s) { return c0 / std::pow(s, 4); }, false, 1.8},
    {"tv", "eps", [](double e0, double e) { return e0 / e; },
     [](double e0, double s) { return e0 / s; }, true, 3.0},
};

void Multiply(Image& u, float a) {
  for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] *= a;
}

bool Same(double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(std::abs(a), 1e-300); }

// Knots are compared to parameters within a relative 1e-9 (values that went through text).
bool Near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(std::abs(a), 1e-300); }

// A model with `from`'s description (form, steps, integrator, constraint, PDE, preset,
// parameters, provenance) and no banks, box or time step.
Model DescribedAs(const Model& from) {
  Model m;
  m.form = from.form;
  m.steps = from.steps;
  m.integrator = from.integrator;
  m.constraint = from.constraint;
  m.scheme_term = from.scheme_term;
  m.pde = from.pde;
  m.preset = from.preset;
  m.pde_params = from.pde_params;
  m.provenance = from.provenance;
  return m;
}

// "c in [0.03, 0.3], time in [1, 10]".
std::string BoxText(const Model& model) {
  std::string out;
  for (const ParamAxis& a : model.axes)
    out += StrCat(out.empty() ? "" : ", ", a.name, " in [", a.knots.front(), ", ", a.knots.back(),
                  "]");
  return out;
}

// The model's default value on an axis: its parameter, or steps x dt for "time".
double DefaultValue(const Model& model, const std::string& axis) {
  if (axis == "time") return model.dt * model.steps;
  const auto it = model.pde_params.find(axis);
  if (it == model.pde_params.end()) Fail("the model has no default for its axis '", axis, "'");
  return it->second;
}

// The symmetry whose parameter is an axis of this parametric model (PM's c; TV's eps, which
// scales time too and so needs a time axis), or null.
const Symmetry* AxisSymmetry(const Model& model) {
  bool has_time = false;
  for (const ParamAxis& a : model.axes) has_time = has_time || a.name == "time";
  for (const Symmetry& s : kSymmetries) {
    if (model.pde != s.pde || (s.scales_time && !has_time)) continue;
    for (const ParamAxis& a : model.axes)
      if (a.name == s.param) return &s;
  }
  return nullptr;
}

const ParamAxis& Axis(const Model& model, const std::string& name) {
  for (const ParamAxis& a : model.axes)
    if (a.name == name) return a;
  Fail("the model has no axis '", name, "'");
}

// The scales s (within the symmetry's limit) that bring the parameter's value (and, when the
// symmetry scales time, the time) into the box: [lo, hi], empty when lo > hi. A scale s runs
// the model at BoxValue(s) on s u.
std::pair<double, double> ScalesIntoBox(const Model& model, const Symmetry& sym, double value,
                                        double time) {
  const ParamAxis& p = Axis(model, sym.param);
  double lo = std::max(1 / sym.max_scale, sym.scale(p.knots.front(), value));
  double hi = std::min(sym.max_scale, sym.scale(p.knots.back(), value));
  if (sym.scales_time) {
    const ParamAxis& t = Axis(model, "time");
    lo = std::max(lo, t.knots.front() / time);
    hi = std::min(hi, t.knots.back() / time);
  }
  return {lo, hi};
}

// The box's parameter value that the scale s moves to `value` (the inverse of sym.scale).
double BoxValue(const Symmetry& sym, double value, double s) { return value / sym.value(1, s); }

// The longest stopping time at which a TV flow model's time axis is blended (within the box):
// a later time runs more steps of the blend at this time. The knots take 10 steps each; as
// T / eps grows the flow is too stiff for such long steps, and the knot at eps 0.01, T 0.4 was
// below the converged classical scheme (RESULTS.md, the TV grid). On the six selection
// photographs, max(20 eps, 0.1) was the best of the routes measured, or within 0.4 dB of it,
// from eps 0.002 to 0.05 and T 0.1 to 0.8, and up to 15 dB above one blend at T (RESULTS.md,
// "TV flow at later times"). What matters is the step, time / steps: a box trained with other
// than 10 steps per knot (`blade train --steps N`) scales with N.
double TvLongestBlendTime(double eps, int steps) { return std::max(20 * eps, 0.1) * steps / 10; }

}  // namespace

std::vector<std::pair<int, double>> BasisWeights(const Model& model,
                                                 const std::map<std::string, double>& values) {
  if (!model.parametric()) Fail("not a parametric model (it has no parameter axes)");
  for (const auto& [name, value] : values) {
    bool found = false;
    for (const ParamAxis& a : model.axes) found = found || a.name == name;
    if (!found) {
      std::string names;
      for (const ParamAxis& a : model.axes) names += (names.empty() ? "" : ", ") + a.name;
      Fail("'", name, "' is not an axis of this parametric model (", names, ")");
    }
  }
  // Per axis: the one or two knots whose hat functions are non-zero at the value.
  std::vector<std::pair<int, double>> out = {{0, 1.0}};
  for (const ParamAxis& a : model.axes) {
    const auto it = values.find(a.name);
    const double v = it != values.end() ? it->second : DefaultValue(model, a.name);
    const double lo = a.knots.front(), hi = a.knots.back();
    // The hint only where a symmetry moves this axis (PM's c; TV's eps and time): PM's time
    // has none, and the hint sent a `blade run --time` user back to `blade run`.
    const Symmetry* sym = AxisSymmetry(model);
    const bool moves =
        sym != nullptr && (a.name == sym->param || (sym->scales_time && a.name == "time"));
    if (!std::isfinite(v) || v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9))
      Fail(a.name, " = ", v, " is outside this model's box: ", BoxText(model),
           moves ? StrCat("; a run of the model (`blade run --param`, Python Model.run(params=)) "
                          "reaches further through ",
                          model.pde, "'s intensity scaling (Python: Model.covers)")
                 : "");
    std::vector<std::pair<int, double>> axis;
    const int n = int(a.knots.size());
    if (n == 1) {
      axis = {{0, 1.0}};
    } else {
      int i = 0;
      while (i + 2 < n && v > a.knots[i + 1]) ++i;
      const double t = std::clamp(
          (std::log(v) - std::log(a.knots[i])) / (std::log(a.knots[i + 1]) - std::log(a.knots[i])),
          0.0, 1.0);
      if (t < 1) axis.push_back({i, 1 - t});
      if (t > 0) axis.push_back({i + 1, t});
    }
    std::vector<std::pair<int, double>> next;
    for (const auto& [k, w] : out)
      for (const auto& [i, wi] : axis) next.push_back({k * n + i, w * wi});
    out = std::move(next);
  }
  return out;
}

Model BlendModelAt(const Model& model, const std::map<std::string, double>& values) {
  const std::vector<std::pair<int, double>> weights = BasisWeights(model, values);
  Model out = DescribedAs(model);
  out.provenance.erase("knots");
  std::string where;
  for (const ParamAxis& a : model.axes) {
    const auto it = values.find(a.name);
    const double v = it != values.end() ? it->second : DefaultValue(model, a.name);
    where += StrCat(where.empty() ? "" : ", ", a.name, " = ", v);
    if (a.name == "time") {
      out.dt = v / model.steps;
    } else {
      out.pde_params[a.name] = v;
    }
  }
  out.provenance["blended_at"] =
      StrCat(where, " from a parametric model of ", model.knots.size(), " knots");
  // Every knot has the banks' shapes and bins (Validate); blend taps and thresholds in double.
  const auto blend = [&](auto member) {
    const std::size_t n = member(model.knots[weights[0].first]).size();
    std::vector<double> acc(n, 0.0);
    for (const auto& [k, w] : weights) {
      const auto& v = member(model.knots[k]);
      for (std::size_t i = 0; i < n; ++i) acc[i] += w * v[i];
    }
    return std::vector<float>(acc.begin(), acc.end());
  };
  const KnotModel& first = model.knots[weights[0].first];
  for (std::size_t b = 0; b < first.banks.size(); ++b) {
    Bank bank = first.banks[b];
    bank.filters.taps =
        blend([b](const KnotModel& k) -> const auto& { return k.banks[b].filters.taps; });
    SelectionConfig& s = bank.selection;
    s.strength_thresholds = blend([b](const KnotModel& k) -> const auto& {
      return k.banks[b].selection.strength_thresholds;
    });
    s.coherence_thresholds = blend([b](const KnotModel& k) -> const auto& {
      return k.banks[b].selection.coherence_thresholds;
    });
    s.intensity_thresholds = blend([b](const KnotModel& k) -> const auto& {
      return k.banks[b].selection.intensity_thresholds;
    });
    // Knots may select at their own scales (CED: the PDE's rho, TrainOptions); between them the
    // scale is blended in log, so on a log-spaced axis it is the point's own. Equal scales are
    // kept as they are (bit for bit).
    bool same_rho = true;
    double log_rho = 0;
    for (const auto& [k, w] : weights) {
      const double r = model.knots[k].banks[b].selection.rho;
      same_rho = same_rho && r == s.rho;
      log_rho += w * std::log(r);
    }
    if (!same_rho) s.rho = std::exp(log_rho);
    out.banks.push_back(std::move(bank));
  }
  bool has_time = false;
  for (const ParamAxis& a : model.axes) has_time = has_time || a.name == "time";
  if (!has_time) {
    out.dt = 0;
    for (const auto& [k, w] : weights) out.dt += w * model.knots[k].dt;
  }
  // The horizon: the least of the contributing knots' (unmeasured if any is); the range: all.
  out.safe_steps = first.safe_steps;
  out.safe_range[0] = first.safe_range[0];
  out.safe_range[1] = first.safe_range[1];
  for (const auto& [k, w] : weights) {
    const KnotModel& m = model.knots[k];
    out.safe_steps =
        (out.safe_steps < 0 || m.safe_steps < 0) ? -1 : std::min(out.safe_steps, m.safe_steps);
    out.safe_range[0] = std::min(out.safe_range[0], m.safe_range[0]);
    out.safe_range[1] = std::max(out.safe_range[1], m.safe_range[1]);
  }
  return out;
}

Model ModelAtParams(const Model& model, const std::map<std::string, double>& params) {
  if (params.empty()) return model;
  for (const auto& [name, value] : params)
    if (!std::isfinite(value)) Fail("parameter ", name, " must be finite (got ", value, ")");
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux)
    Fail("--param (Python params=) applies to PDE models only (this is a ", FormName(model.form),
         " model)");
  if (params.count("time"))
    Fail("an application chooses its own steps: --param time is not a PDE parameter");
  if (model.parametric()) {
    std::string names;  // the axes an application may move: every one but time
    for (const ParamAxis& a : model.axes)
      if (a.name != "time") names += (names.empty() ? "" : ", ") + a.name;
    for (const auto& [name, value] : params)
      if (std::none_of(model.axes.begin(), model.axes.end(),
                       [&](const ParamAxis& a) { return a.name == name; }))
        Fail("'", name, "' is not a parameter axis of this ", model.pde, " model (", names,
             "; an application chooses its own time)");
    return BlendModelAt(model, params);
  }
  for (const auto& [name, value] : params) {
    const auto it = model.pde_params.find(name);
    if (it == model.pde_params.end() || !Same(it->second, value))
      Fail("this ", model.pde, " model is a point model (",
           it == model.pde_params.end() ? "no parameter " + name : StrCat(name, " = ", it->second),
           "); an application runs it only there: give a parametric model (blade info shows a "
           "model's box)");
  }
  return model;
}

std::string BankLayoutDifference(const Bank& a, const Bank& b) {
  const auto text = [](const Bank& x) {
    const SelectionConfig& s = x.selection;
    // The selection's scale is not part of the layout: knots may select at their own.
    return StrCat(x.filters.size, "x", x.filters.size, " filters (", x.filters.count, "), ",
                  s.orientations, "x", s.strengths, "x", s.coherences, "x", s.intensities, " bins",
                  s.joint_color ? ", joint color" : "");
  };
  const std::string ta = text(a), tb = text(b);
  return ta == tb ? "" : StrCat(ta, " against ", tb);
}

Model MakeParametricModel(const std::vector<ParamAxis>& axes, const std::vector<Model>& knot_models,
                          const std::map<std::string, double>& default_values) {
  if (axes.empty()) Fail("a parametric model needs at least one axis");
  std::size_t count = 1;
  for (const ParamAxis& a : axes) count *= a.knots.size();
  if (knot_models.size() != count)
    Fail("a parametric model over this box needs ", count, " knot models, got ",
         knot_models.size());
  const Model& first = knot_models[0];
  Model m = DescribedAs(first);
  m.axes = axes;
  // Knot k's value on each axis (the first axis slowest) must be the knot model's own.
  for (std::size_t k = 0; k < count; ++k) {
    const Model& km = knot_models[k];
    if (km.form != m.form || km.pde != m.pde || km.steps != m.steps ||
        km.integrator != m.integrator || km.banks.size() != first.banks.size())
      Fail("knot model ", k, " differs from the first in form, PDE, steps, integrator or banks");
    // Blending adds taps and thresholds position by position: every knot's banks must share
    // the first's layout.
    for (std::size_t b = 0; b < first.banks.size(); ++b) {
      const std::string diff = BankLayoutDifference(km.banks[b], first.banks[b]);
      if (!diff.empty())
        Fail("knot model ", k, "'s bank ", b, " differs from the first knot's: ", diff);
    }
    for (const auto& [name, knot] : KnotPoint(axes, k)) {
      const double have = name == "time" ? km.dt * km.steps : DefaultValue(km, name);
      if (!Near(have, knot))
        Fail("knot model ", k, " has ", name, " = ", have, ", not its knot's ", knot);
    }
    KnotModel knot;
    knot.banks = km.banks;
    knot.dt = km.dt;
    knot.safe_steps = km.safe_steps;
    knot.safe_range[0] = km.safe_range[0];
    knot.safe_range[1] = km.safe_range[1];
    m.knots.push_back(std::move(knot));
  }
  for (const ParamAxis& a : axes) {
    const auto it = default_values.find(a.name);
    if (it == default_values.end()) Fail("no default value for the axis '", a.name, "'");
    if (a.name == "time") {
      m.dt = it->second / m.steps;
    } else {
      m.pde_params[a.name] = it->second;
    }
  }
  Model blended = BlendModelAt(m, {});
  m.banks = std::move(blended.banks);
  m.dt = blended.dt;
  m.safe_steps = blended.safe_steps;
  m.safe_range[0] = blended.safe_range[0];
  m.safe_range[1] = blended.safe_range[1];
  m.Validate();
  return m;
}

PointPlan PlanModelPoint(const Model& model, const ModelPoint& point) {
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux)
    Fail("only PDE models (direct or flux) run at parameter points");
  if (point.params.count("time"))
    Fail("the stopping time is given as the time (--time, time=), not as a parameter");
  for (const auto& [name, value] : point.params)
    if (!std::isfinite(value)) Fail("parameter ", name, " must be finite (got ", value, ")");
  if (!std::isfinite(point.time)) Fail("the stopping time must be finite (got ", point.time, ")");
  if (model.parametric()) {
    // The axes' values go to the blend; what remains (symmetric parameters that are not axes,
    // and the time when it is not an axis) is planned on the blended point model.
    std::map<std::string, double> values;
    ModelPoint rest;
    rest.time = point.time;
    for (const auto& [name, value] : point.params) {
      bool axis = false;
      for (const ParamAxis& a : model.axes) axis = axis || a.name == name;
      (axis ? values[name] : rest.params[name]) = value;
    }
    for (const ParamAxis& a : model.axes)
      if (a.name == "time" && point.time != 0) {
        values["time"] = point.time;
        rest.time = 0;
      }
    // Outside the box, the PDE's symmetry may still reach the point exactly: run the box's
    // point (PM: s c; TV: s eps to s T) on s u, with s as near 1 as the box allows.
    double scale = 1;
    if (const Symmetry* sym = AxisSymmetry(model)) {
      const double v =
          values.count(sym->param) ? values[sym->param] : DefaultValue(model, sym->param);
      double t = 1;  // the time matters only where it scales
      if (sym->scales_time) t = values.count("time") ? values["time"] : DefaultValue(model, "time");
      if (std::isfinite(v) && v > 0 && std::isfinite(t) && t > 0) {
        auto [lo, hi] = ScalesIntoBox(model, *sym, v, t);
        if (lo > hi * (1 + 1e-9))
          Fail(sym->param, " = ", v, sym->scales_time ? StrCat(", time = ", t) : "",
               " is outside this model's box: ", BoxText(model), ", and ", model.pde,
               "'s intensity scaling (by at most ", sym->max_scale,
               " either way) does not bring it inside");
        // TV's later times run more steps of a shorter blend (below), so only the box's
        // earliest time and eps bound the scale there.
        if (model.pde == "tv")
          hi = std::min(sym->max_scale, sym->scale(Axis(model, sym->param).knots.back(), v));
        scale = std::clamp(1.0, lo, std::max(lo, hi));
        values[sym->param] = BoxValue(*sym, v, scale);
        if (sym->scales_time) values["time"] = t * scale;
      }
    }
    if (model.pde == "tv" && values.count("time")) {
      const double eps = values.count("eps") ? values["eps"] : DefaultValue(model, "eps");
      const ParamAxis& time_axis = Axis(model, "time");
      const double longest = std::clamp(TvLongestBlendTime(eps, model.steps),
                                        time_axis.knots.front(), time_axis.knots.back());
      if (values["time"] > longest) {
        rest.time = values["time"];
        values["time"] = longest;
      }
    }
    auto blended = std::make_shared<Model>(BlendModelAt(model, values));
    PointPlan plan = PlanModelPoint(*blended, rest);
    plan.scale *= scale;
    plan.blended = std::move(blended);
    return plan;
  }
  PointPlan plan;
  double time_factor = 1;
  for (const auto& [name, value] : point.params) {
    const auto it = model.pde_params.find(name);
    if (it == model.pde_params.end()) {
      std::string names;
      for (const auto& [k, v] : model.pde_params) names += (names.empty() ? "" : ", ") + k;
      Fail("'", name, "' is not a parameter of this ", model.pde, " model (",
           names.empty() ? "it records none" : names, ")", StoppingTimeHint(name));
    }
    // The model's own value passes as it is (Cahn-Hilliard's split is 0, for one); another one
    // must be positive for a symmetry to reach it.
    if (Same(value, it->second)) continue;
    if (!std::isfinite(value) || value <= 0)
      Fail("parameter ", name, " must be positive and finite (got ", value, ")");
    const Symmetry* sym = nullptr;
    for (const Symmetry& s : kSymmetries)
      if (model.pde == s.pde && name == s.param) sym = &s;
    if (sym == nullptr)
      Fail("a ", model.pde, " model runs only at its own ", name, " = ", it->second,
           ": no exact symmetry moves it (",
           model.pde == "ch" ? "none for Cahn-Hilliard" : "only pm's c, ced's C and tv's eps move",
           "); train a model for ", name, " = ", value);
    plan.scale = sym->scale(it->second, value);
    if (sym->scales_time) time_factor = plan.scale;
    if (plan.scale > sym->max_scale || plan.scale < 1 / sym->max_scale) {
      // The covered range of the parameter: the values the scales 1/k and k reach.
      const double a = sym->value(it->second, sym->max_scale),
                   b = sym->value(it->second, 1 / sym->max_scale);
      const double lo = std::min(a, b), hi = std::max(a, b);
      Fail(name, " = ", value, " is outside what this model covers, ", name, " in [", lo, ", ", hi,
           "] (an intensity scale of at most ", sym->max_scale, " either way)");
    }
  }
  const double model_time = model.dt * model.steps;
  const double time = point.time == 0 ? model_time : point.time;
  if (!std::isfinite(time) || time <= 0)
    Fail("the stopping time must be positive (got ", time, ")");
  const double run_time = time * time_factor;
  if (run_time / model.dt > kMaxRunSteps + 0.5)
    Fail("time ", time, " needs ", run_time / model.dt, " steps of the model's dt ", model.dt,
         "; at most ", kMaxRunSteps);
  plan.steps = ModelStepsFor(run_time, model.dt);
  plan.dt = run_time / plan.steps;
  return plan;
}

std::pair<double, double> ReachableTimes(const Model& model,
                                         const std::map<std::string, double>& params) {
  if (!model.parametric()) Fail("not a parametric model (it has no parameter axes)");
  const ParamAxis& ta = Axis(model, "time");  // fails without a time axis
  const Symmetry* sym = AxisSymmetry(model);
  if (sym == nullptr || !sym->scales_time) return {ta.knots.front(), ta.knots.back()};
  const auto it = params.find(sym->param);
  const double v = it != params.end() ? it->second : DefaultValue(model, sym->param);
  const ParamAxis& p = Axis(model, sym->param);
  const double lo = std::max(1 / sym->max_scale, sym->scale(p.knots.front(), v)),
               hi = std::min(sym->max_scale, sym->scale(p.knots.back(), v));
  if (!(lo <= hi)) Fail(sym->param, " = ", v, " is outside this model's box: ", BoxText(model));
  return {ta.knots.front() / hi, ta.knots.back() / lo};
}

std::map<std::string, std::pair<double, double>> CoveredRanges(const Model& model) {
  std::map<std::string, std::pair<double, double>> out;
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux) return out;
  if (model.parametric()) {
    out = CoveredRanges(BlendModelAt(model, {}));  // symmetric parameters that are not axes
    for (const ParamAxis& a : model.axes) out[a.name] = {a.knots.front(), a.knots.back()};
    // The symmetric axis as far as the symmetry reaches (TV: eps at the default time, and time
    // at the default eps).
    if (const Symmetry* sym = AxisSymmetry(model)) {
      const ParamAxis& p = Axis(model, sym->param);
      double lo = 1 / sym->max_scale, hi = sym->max_scale;
      if (sym->scales_time) {
        const ParamAxis& ta = Axis(model, "time");
        const double t = DefaultValue(model, "time");
        lo = std::max(lo, ta.knots.front() / t);
        hi = std::min(hi, ta.knots.back() / t);
        out["time"] = ReachableTimes(model, {});
      }
      out[sym->param] = {sym->value(p.knots.front(), hi), sym->value(p.knots.back(), lo)};
    }
    return out;
  }
  for (const Symmetry& s : kSymmetries) {
    const auto it = model.pde_params.find(s.param);
    if (model.pde != s.pde || it == model.pde_params.end()) continue;
    const double a = s.value(it->second, s.max_scale), b = s.value(it->second, 1 / s.max_scale);
    out[s.param] = {std::min(a, b), std::max(a, b)};
  }
  const int horizon = model.safe_steps >= 0 ? model.safe_steps : model.steps;
  out["time"] = {model.dt, horizon * model.dt};
  return out;
}

std::string RunPastCoverageWarning(const Model& model, const ResolvedRun& run) {
  if (!model.parametric()) return "";
  const auto covered = CoveredRanges(model);
  const auto it = covered.find("time");
  const double t = run.steps * run.dt;
  if (it == covered.end() || t <= it->second.second * (1 + 1e-9)) return "";
  return StrCat("this run of ", run.steps, " steps of dt ", run.dt, " goes to t = ", t,
                ", past the times this ", model.pde, " model covers (t in [", it->second.first,
                ", ", it->second.second, "], blade info); its accuracy there was not measured");
}

Image RunModelAt(const Model& model, const Image& u0, const ModelPoint& point, RunOptions o) {
  const PointPlan plan = PlanModelPoint(model, point);
  const Model& run = plan.blended ? *plan.blended : model;
  o.steps = plan.steps;
  o.dt = plan.dt;
  if (plan.scale == 1) return RunModel(run, u0, o);
  if (o.on_frame) {  // frames in the caller's intensities
    o.on_frame = [inner = o.on_frame, inverse = float(1 / plan.scale)](int k, const Image& v) {
      Image frame = v.Copy();
      Multiply(frame, inverse);
      inner(k, frame);
    };
  }
  Image u = u0.Copy();
  Multiply(u, float(plan.scale));
  u = RunModel(run, std::move(u), o);
  Multiply(u, float(1 / plan.scale));
  return u;
}

int StoreMeasuredStability(Model& model, const std::vector<const Image*>& starts, int max_steps,
                           std::optional<std::pair<float, float>> range) {
  // Measures at `point` within the range given or `stored`, and stores both in `into`.
  const auto measure = [&](const Model& point, float(&stored)[2]) {
    std::pair<float, float> r = {kDefaultStabilityRange[0], kDefaultStabilityRange[1]};
    if (range)
      r = *range;
    else if (stored[0] < stored[1])
      r = {stored[0], stored[1]};
    const int steps = MeasureStability(point, starts, max_steps, r.first, r.second).safe_steps;
    stored[0] = r.first;
    stored[1] = r.second;
    return steps;
  };
  if (!model.parametric()) {
    model.safe_steps = measure(model, model.safe_range);
    return model.safe_steps;
  }
  int least = max_steps;
  for (std::size_t k = 0; k < model.knots.size(); ++k) {
    // At knot k's own point the blend is the knot itself.
    KnotModel& knot = model.knots[k];
    knot.safe_steps = measure(BlendModelAt(model, KnotPoint(model.axes, k)), knot.safe_range);
    least = std::min(least, knot.safe_steps);
  }
  const Model blended = BlendModelAt(model, {});
  model.safe_steps = blended.safe_steps;
  model.safe_range[0] = blended.safe_range[0];
  model.safe_range[1] = blended.safe_range[1];
  return least;
}

}  // namespace blade
