// Running a model at another parameter point and stopping time through the PDE's exact
// symmetries (intensity scaling).
#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/model.h"

namespace blade {
namespace {

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

}  // namespace

PointPlan PlanModelPoint(const Model& model, const ModelPoint& point) {
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux)
    Fail("only PDE models (direct or flux) run at parameter points");
  PointPlan plan;
  double time_factor = 1;
  for (const auto& [name, value] : point.params) {
    const auto it = model.pde_params.find(name);
    if (it == model.pde_params.end()) {
      std::string names;
      for (const auto& [k, v] : model.pde_params) names += (names.empty() ? "" : ", ") + k;
      Fail("'", name, "' is not a parameter of this ", model.pde, " model (",
           names.empty() ? "it records none" : names, ")");
    }
    if (!std::isfinite(value) || value <= 0)
      Fail("parameter ", name, " must be positive and finite (got ", value, ")");
    if (Same(value, it->second)) continue;
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
  plan.steps = std::max(1, int(std::lround(run_time / model.dt)));
  plan.dt = run_time / plan.steps;
  return plan;
}

std::map<std::string, std::pair<double, double>> CoveredRanges(const Model& model) {
  std::map<std::string, std::pair<double, double>> out;
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux) return out;
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

Image RunModelAt(const Model& model, const Image& u0, const ModelPoint& point, RunOptions o) {
  const PointPlan plan = PlanModelPoint(model, point);
  o.steps = plan.steps;
  o.dt = plan.dt;
  if (plan.scale == 1) return RunModel(model, u0, o);
  if (o.on_frame) {  // frames in the caller's intensities
    o.on_frame = [inner = o.on_frame, inverse = float(1 / plan.scale)](int k, const Image& v) {
      Image frame = v.Copy();
      Multiply(frame, inverse);
      inner(k, frame);
    };
  }
  Image u = u0.Copy();
  Multiply(u, float(plan.scale));
  u = RunModel(model, std::move(u), o);
  Multiply(u, float(1 / plan.scale));
  return u;
}

}  // namespace blade
