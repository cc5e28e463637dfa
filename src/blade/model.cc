// BLADE right-hand side (direct and flux forms), Euler/midpoint runs, and the unrolled backward
// pass.
#include "blade/model.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <tuple>

#include "blade/error.h"
#include "blade/filter_kernels.h"
#include "blade/monotone.h"
#include "blade/ops.h"
#include "blade/parallel.h"

namespace blade {
namespace {

Image Scaled(float a, const Image& x) {
  Image y = x.Copy();
  for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] *= a;
  return y;
}

void RequireRhsForm(const Model& model) {
  if (model.form == ModelForm::kResample)
    Fail("a resampling model does not estimate du/dt; use it with `blade resample`");
  if (model.form == ModelForm::kUpscale)
    Fail("a learned upscaler does not estimate du/dt; use it with `blade upscale`");
  if (model.form == ModelForm::kDenoise)
    Fail(
        "a learned denoiser does not estimate du/dt; use it with `blade denoise` (Python: "
        "blade.denoise)");
}

// The model's PDE and parameters, at which its scheme term evaluates F(u).
std::pair<Pde, PdeParams> SchemeOf(const Model& model) {
  const Pde pde = ParsePde(model.pde);
  PdeParams params;
  for (const auto& [key, value] : model.pde_params) params.Set(pde, key, value);
  return {pde, params};
}

}  // namespace

std::string FormName(ModelForm form) {
  switch (form) {
    case ModelForm::kDirect:
      return "direct";
    case ModelForm::kFlux:
      return "flux";
    case ModelForm::kResample:
      return "resample";
    case ModelForm::kUpscale:
      return "upscale";
    case ModelForm::kDenoise:
      return "denoise";
  }
  return "?";
}

ModelForm ParseForm(const std::string& name) {
  for (ModelForm f : {ModelForm::kDirect, ModelForm::kFlux, ModelForm::kResample,
                      ModelForm::kUpscale, ModelForm::kDenoise})
    if (name == FormName(f)) return f;
  Fail("unknown model form '", name, "' (expected direct, flux, resample, upscale or denoise)");
}

std::string IntegratorName(Integrator integrator) {
  return integrator == Integrator::kEuler ? "euler" : "midpoint";
}

Integrator ParseIntegrator(const std::string& name) {
  if (name == "euler") return Integrator::kEuler;
  if (name == "midpoint") return Integrator::kMidpoint;
  Fail("unknown integrator '", name, "' (expected euler or midpoint)");
}

std::string ConstraintName(Constraint constraint) {
  return constraint == Constraint::kNone ? "none" : "monotone";
}

Constraint ParseConstraint(const std::string& name) {
  if (name == "none") return Constraint::kNone;
  if (name == "monotone") return Constraint::kMonotone;
  Fail("unknown constraint '", name, "' (expected none or monotone)");
}

void Model::Validate() const {
  if (form == ModelForm::kResample) {
    // One bank per monomial dx^a dy^b, 1 <= a + b <= order: 2, 5 or 9 banks for order 1, 2, 3.
    if (banks.size() != 2 && banks.size() != 5 && banks.size() != 9)
      Fail("a resample model needs 2, 5 or 9 filter banks (order 1, 2 or 3), found ", banks.size());
  } else if (form == ModelForm::kUpscale) {
    if (banks.empty() || banks.size() > 4)
      Fail("an upscale model needs 1..4 filter banks (stages), found ", banks.size());
  } else if (form == ModelForm::kDenoise) {
    const DenoiseSpec& d = denoise;
    if (d.sigmas.empty() || d.sigmas.size() > 16)
      Fail("a denoise model needs 1..16 noise levels, found ", d.sigmas.size());
    for (std::size_t k = 0; k < d.sigmas.size(); ++k)
      if (!(d.sigmas[k] > 0 && d.sigmas[k] <= kMaxDenoiseSigma) ||
          (k > 0 && d.sigmas[k] <= d.sigmas[k - 1]))
        Fail("a denoise model's noise levels must ascend within (0, ", kMaxDenoiseSigma, "]");
    if (d.stages < 1 || d.stages > 4)
      Fail("a denoise model needs 1..4 stages per noise level (got ", d.stages, ")");
    if (d.channels != 1 && d.channels != 3)
      Fail("a denoise model is trained on gray (1) or color (3) images (got ", d.channels, ")");
    if (banks.size() != d.sigmas.size() * d.stages)
      Fail("a denoise model with ", d.sigmas.size(), " noise level(s) of ", d.stages,
           " stage(s) needs ", d.sigmas.size() * d.stages, " filter banks, found ", banks.size());
  } else {
    const std::size_t want = form == ModelForm::kFlux || scheme_term ? 2 : 1;
    if (banks.size() != want)
      Fail("a ", FormName(form), " model", scheme_term ? " with a scheme term" : "", " needs ",
           want, " filter bank(s), found ", banks.size());
  }
  if (scheme_term) {
    if (form != ModelForm::kDirect) Fail("only direct models can have a scheme term");
    if (constraint != Constraint::kNone) Fail("a monotone model cannot have a scheme term");
    if (pde.empty() || !HasClassicalRhs(ParsePde(pde)))
      Fail("a scheme term needs the model's PDE to be tv, pm or ch (this model's: '", pde, "')");
    const SelectionConfig &s = banks[0].selection, &t = banks[1].selection;
    if (s.orientations != t.orientations || s.strengths != t.strengths ||
        s.coherences != t.coherences || s.intensities != t.intensities || s.rho != t.rho ||
        s.joint_color != t.joint_color || s.strength_thresholds != t.strength_thresholds ||
        s.coherence_thresholds != t.coherence_thresholds ||
        s.intensity_thresholds != t.intensity_thresholds)
      Fail("a scheme term's bank must select by the same rule as the model's");
  }
  // A learned upscaler has one filter per selection index and pixel phase.
  int phases = 1;
  if (form == ModelForm::kUpscale) {
    if (upscale.factor < 2 || upscale.factor > 8)
      Fail("an upscale model's factor must be 2..8 (got ", upscale.factor, ")");
    ParseDegradation(upscale.degradation);  // fails on an unknown one
    if (upscale.back_projections < 0 || upscale.back_projections > 100)
      Fail("an upscale model's back_projections must be 0..100 (got ", upscale.back_projections,
           ")");
    phases = upscale.factor * upscale.factor;
    if (!upscale.refiner.empty()) ValidateRefiner(upscale.refiner, upscale.factor);
  } else if (!upscale.refiner.empty()) {
    Fail("only a learned upscaler can have a refiner");
  }
  for (const Bank& b : banks) {
    b.selection.Validate();
    b.filters.Validate();
    if (b.filters.taps.empty()) Fail("model filter bank has no taps");
    if (b.filters.count != b.selection.num_filters() * phases)
      Fail("model has ", b.filters.count, " filters but its selection defines ",
           b.selection.num_filters() * phases);
  }
  if (!std::isfinite(dt) || dt <= 0) Fail("model time step dt must be positive and finite");
  if (steps < 1 || steps > 1000000) Fail("model steps must be 1..1000000");
  if (safe_steps < -1) Fail("model safe_steps must be -1 (not measured) or a step count");
  if (!std::isfinite(safe_range[0]) || !std::isfinite(safe_range[1]) ||
      safe_range[0] > safe_range[1])
    Fail("model safe_range must be two finite numbers, low <= high");
  if (constraint == Constraint::kMonotone) CheckMonotone(*this);  // verified on every load
  if (parametric()) ValidateBox();
}

void Model::ValidateBox() const {
  if (form != ModelForm::kDirect && form != ModelForm::kFlux)
    Fail("only direct and flux models can be parametric");
  std::size_t count = 1;
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const ParamAxis& a = axes[i];
    if (a.name != "time" && !pde_params.count(a.name))
      Fail("parameter axis '", a.name, "' is neither \"time\" nor one of the model's parameters");
    for (std::size_t j = 0; j < i; ++j)
      if (axes[j].name == a.name) Fail("parameter axis '", a.name, "' appears twice");
    if (a.knots.empty() || a.knots.size() > 64)
      Fail("parameter axis '", a.name, "' needs 1..64 knots");
    for (std::size_t k = 0; k < a.knots.size(); ++k)
      if (!std::isfinite(a.knots[k]) || a.knots[k] <= 0 || (k > 0 && a.knots[k] <= a.knots[k - 1]))
        Fail("parameter axis '", a.name, "' needs ascending, positive, finite knots");
    count *= a.knots.size();
    if (count > 4096) Fail("a parametric model holds at most 4096 knots");
  }
  if (knots.size() != count)
    Fail("a parametric model over this box needs ", count, " knot models, found ", knots.size());
  // Every knot's banks have the shapes and bins of the blended ones, so they blend.
  for (const KnotModel& k : knots) {
    if (k.banks.size() != banks.size())
      Fail("a knot model has ", k.banks.size(), " banks, the model ", banks.size());
    for (std::size_t b = 0; b < banks.size(); ++b) {
      const Bank& kb = k.banks[b];
      const SelectionConfig &s = kb.selection, &t = banks[b].selection;
      kb.selection.Validate();
      kb.filters.Validate();
      if (kb.filters.size != banks[b].filters.size || kb.filters.count != banks[b].filters.count ||
          s.orientations != t.orientations || s.strengths != t.strengths ||
          s.coherences != t.coherences || s.intensities != t.intensities ||
          s.joint_color != t.joint_color)
        Fail("the knot models' banks differ in shape or selection bins");
      // Their selection scales may differ (BlendModelAt blends them in log).
      RequirePositive(s.rho, "a knot's selection scale rho");
    }
    if (!std::isfinite(k.dt) || k.dt <= 0) Fail("a knot model's dt must be positive and finite");
    if (k.safe_steps < -1) Fail("a knot model's safe_steps must be -1 or a step count");
  }
  BasisWeights(*this, {});  // the default point lies inside the box
}

Model MakeEmptyModel(ModelForm form, const SelectionConfig& selection, int footprint,
                     int scheme_footprint) {
  selection.Validate();
  if (form == ModelForm::kUpscale)
    Fail("a learned upscaler is made by TrainUpscaleModel (its bank depends on the factor)");
  if (form == ModelForm::kDenoise)
    Fail("a learned denoiser is made by TrainDenoiseModel (its banks depend on the noise levels)");
  if (scheme_footprint > 0 && form != ModelForm::kDirect)
    Fail("only direct models can have a scheme term");
  Model m;
  m.form = form;
  m.scheme_term = scheme_footprint > 0;
  std::vector<int> sizes(form == ModelForm::kDirect ? 1 : 2, footprint);
  if (m.scheme_term) sizes.push_back(scheme_footprint);
  for (int size : sizes) {
    Bank bank{selection, FilterBank(selection.num_filters(), size)};
    bank.filters.taps.assign(std::size_t(bank.filters.count) * size * size, 0.f);
    m.banks.push_back(std::move(bank));
  }
  m.dt = 1;
  return m;
}

namespace {

// The banks whose filters act on u itself (not on the scheme term's F(u)): a denoiser's are all
// its stages'.
int BanksOnU(const Model& model) {
  if (model.form == ModelForm::kDenoise) return int(model.banks.size());
  return model.form == ModelForm::kFlux ? 2 : 1;
}

// Calls f(bank) for each bank acting on u, at the model's point and at every knot.
template <typename Model_, typename F>
void ForEachBankOnU(Model_& model, F f) {
  for (int b = 0; b < BanksOnU(model); ++b) f(model.banks[b]);
  for (auto& knot : model.knots)
    for (int b = 0; b < BanksOnU(model); ++b) f(knot.banks[b]);
}

}  // namespace

bool SelectionIgnoresLevel(const Model& model) {
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux &&
      model.form != ModelForm::kDenoise)
    return false;
  // A PDE model is projected only where its PDE commutes with adding a constant.
  if (model.form != ModelForm::kDenoise && !model.pde.empty() &&
      !CommutesWithAddingConstant(ParsePde(model.pde)))
    return false;
  for (const Bank& bank : model.banks)
    if (bank.selection.intensities > 1) return false;
  return true;
}

double LargestFilterSum(const Model& model) {
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux &&
      model.form != ModelForm::kDenoise)
    return 0;
  double largest = 0;
  ForEachBankOnU(model, [&](const Bank& bank) {
    const FilterBank& f = bank.filters;
    for (int k = 0; k < f.count; ++k) {
      double sum = 0;
      for (int i = 0; i < f.taps_per_filter(); ++i) sum += f.filter(k)[i];
      largest = std::max(largest, std::abs(sum));
    }
  });
  return largest;
}

void ProjectFiltersToZeroSum(Model& model) {
  if (!SelectionIgnoresLevel(model))
    Fail(
        "zero-sum filters keep constants only in direct, flux and denoise models without "
        "intensity bins, of a PDE that commutes with adding a constant (this model: ",
        FormName(model.form), model.pde.empty() ? "" : " of " + model.pde, ")");
  if (model.constraint == Constraint::kMonotone) return;
  // The horizon was measured for the old filters; the range it was held to stays (blade
  // stability --write measures again within it).
  model.safe_steps = -1;
  for (KnotModel& knot : model.knots) knot.safe_steps = -1;
  model.provenance["zero_sum"] =
      "the filters acting on u projected to zero sum (ProjectFiltersToZeroSum): constants kept";
  ForEachBankOnU(model, [](Bank& bank) {
    FilterBank& f = bank.filters;
    const int n = f.taps_per_filter();
    for (int k = 0; k < f.count; ++k) {
      double sum = 0;
      for (int i = 0; i < n; ++i) sum += f.filter(k)[i];
      const float mean = float(sum / n);
      for (int i = 0; i < n; ++i) f.filter(k)[i] -= mean;
    }
  });
}

Image SchemeInput(const Model& model, const Image& u) {
  if (!model.scheme_term) Fail("the model has no scheme term");
  const auto [pde, params] = SchemeOf(model);
  return ClassicalRhs(pde, params, u);
}

namespace {

// Whether two banks select filters by the same rule (then one selection pass serves both).
bool SameRule(const SelectionConfig& a, const SelectionConfig& b) {
  return a.orientations == b.orientations && a.strength_thresholds == b.strength_thresholds &&
         a.coherence_thresholds == b.coherence_thresholds &&
         a.intensity_thresholds == b.intensity_thresholds && a.rho == b.rho &&
         a.joint_color == b.joint_color;
}

}  // namespace

std::vector<std::vector<std::int32_t>> ComputeSelections(const Model& model, const Image& u) {
  std::vector<std::vector<std::int32_t>> sel;
  for (std::size_t b = 0; b < model.banks.size(); ++b) {
    const SelectionConfig& cfg = model.banks[b].selection;
    // Banks with the same rule share one selection pass.
    if (b > 0 && SameRule(cfg, model.banks[0].selection)) {
      sel.push_back(sel[0]);
      continue;
    }
    sel.push_back(Select(cfg, u));
  }
  return sel;
}

bool RunsChannelByChannel(const Model& model) {
  if (model.form != ModelForm::kDirect && model.form != ModelForm::kFlux) return false;
  for (const Bank& b : model.banks)
    if (b.selection.joint_color) return false;
  for (Pde pde : kAllPdes)
    if (model.pde == PdeName(pde)) return !CouplesChannels(pde);
  return false;  // no known PDE: the paper's rule
}

namespace {

// f applied to each channel of a color image as a gray image, the results stacked.
template <typename F>
Image EachChannel(const Image& u, F f) {
  Image out[3];
  for (int c = 0; c < 3; ++c) out[c] = f(ExtractChannel(u, c));
  return StackChannels({&out[0], &out[1], &out[2]});
}

}  // namespace

namespace {

// EvaluateRhs with the color rule given: channel by channel, or one selection (luma or joint)
// for every channel (RunOptions::luma_selection).
Image RhsOf(const Model& model, const Image& u, bool by_channel) {
  if (u.channels() == 3 && by_channel)
    return EachChannel(u, [&](const Image& g) { return RhsOf(model, g, false); });
  if (model.scheme_term) return EvaluateRhs(model, u, ComputeSelections(model, u));
  // Selection and filtering fused band by band (the indices never leave the cache); a flux
  // model's two banks share one selection when they share the rule.
  if (model.form == ModelForm::kDirect)
    return std::move(SelectAndFilter(model.banks[0].selection, {&model.banks[0].filters}, u)[0]);
  if (SameRule(model.banks[0].selection, model.banks[1].selection)) {
    std::vector<Image> g = SelectAndFilter(model.banks[0].selection,
                                           {&model.banks[0].filters, &model.banks[1].filters}, u);
    return DivergenceForward(g[0], g[1]);
  }
  return EvaluateRhs(model, u, ComputeSelections(model, u));
}

}  // namespace

Image EvaluateRhs(const Model& model, const Image& u) {
  RequireRhsForm(model);
  return RhsOf(model, u, RunsChannelByChannel(model));
}

Image EvaluateRhs(const Model& model, const Image& u,
                  const std::vector<std::vector<std::int32_t>>& sel) {
  RequireRhsForm(model);
  if (model.scheme_term) {
    Image r = ApplyFilters(model.banks[0].filters, sel[0], u);
    Axpy(1.f, ApplyFilters(model.banks[1].filters, sel[1], SchemeInput(model, u)), r);
    return r;
  }
  if (model.form == ModelForm::kDirect) return ApplyFilters(model.banks[0].filters, sel[0], u);
  auto [gx, gy] =
      ApplyFilterPair(model.banks[0].filters, sel[0], model.banks[1].filters, sel[1], u);
  return DivergenceForward(gx, gy);
}

Image EvaluateRhsBackward(const Model& model, const Image& u,
                          const std::vector<std::vector<std::int32_t>>& sel, const Image& drhs,
                          std::vector<std::vector<double>>& dtaps) {
  RequireRhsForm(model);
  dtaps.resize(model.banks.size());
  for (std::size_t b = 0; b < model.banks.size(); ++b)
    dtaps[b].resize(model.banks[b].filters.taps.size(), 0.0);
  // Direct: the bank's output is the rhs. Flux: the rhs is div(gx, gy), whose adjoint sends
  // drhs to (-D+x drhs, -D+y drhs) (zero on the last column / row, where the flux is zero).
  // A scheme term's bank filters F(u): its input gradient goes back through F's VJP.
  std::vector<Image> douts;
  if (model.form == ModelForm::kDirect) {
    douts.push_back(drhs.Copy());
    if (model.scheme_term) douts.push_back(drhs.Copy());
  } else {
    douts.push_back(Scaled(-1.f, ForwardDiffX(drhs)));
    douts.push_back(Scaled(-1.f, ForwardDiffY(drhs)));
  }
  const Image scheme_in = model.scheme_term ? SchemeInput(model, u) : Image();
  Image du(u.width(), u.height(), u.channels()), dscheme;
  Image tmp(u.width(), u.height(), 1);
  for (std::size_t b = 0; b < douts.size(); ++b) {
    const FilterBank& f = model.banks[b].filters;
    const bool scheme_bank = model.scheme_term && b == 1;
    const Image& z = scheme_bank ? scheme_in : u;
    Image& dz = scheme_bank ? (dscheme = Image(u.width(), u.height(), u.channels())) : du;
    for (int c = 0; c < u.channels(); ++c) {
      ApplyPlaneBackward(z.plane(c), u.width(), u.height(), sel[b].data(), f.taps.data(), f.size,
                         douts[b].plane(c), dtaps[b].data(), tmp.plane(0));
      float* d = dz.plane(c);
      for (std::size_t i = 0; i < u.plane_size(); ++i) d[i] += tmp.plane(0)[i];
    }
  }
  if (model.scheme_term) {
    const auto [pde, params] = SchemeOf(model);
    Axpy(1.f, ClassicalRhsVjp(pde, params, u, dscheme), du);
  }
  return du;
}

int ModelStepsFor(double time, double dt) {
  if (!(time / dt <= kMaxRunSteps))
    Fail("time ", time, " needs more than ", kMaxRunSteps, " steps of dt ", dt);
  // The relative slack keeps a time that is a whole number of steps (rounded) at that number.
  return std::max(1, int(std::ceil(time / dt * (1 - 1e-9))));
}

ResolvedRun ResolveRun(const Model& model, const RunOptions& o) {
  RequireRhsForm(model);
  if (o.steps < 0) Fail("the number of steps must be positive (got ", o.steps, ")");
  if (o.steps > kMaxRunSteps)
    Fail("the number of steps must be at most ", kMaxRunSteps, " (got ", o.steps, ")");
  ResolvedRun r;
  r.steps = o.steps > 0 ? o.steps : model.steps;
  r.dt = o.dt != 0 ? o.dt : model.dt;
  RequirePositive(r.dt, "the time step dt");
  // A step without a number of steps keeps the model's stopping time (as `blade solve --dt`):
  // the fewest equal steps of at most dt that land on it. Keeping the model's number of steps
  // instead stopped a run with half the step at half the time, silently.
  if (o.steps == 0 && o.dt != 0) {
    const double time = model.steps * model.dt;
    r.steps = ModelStepsFor(time, o.dt);
    r.dt = time / r.steps;
  }
  r.integrator = o.integrator.value_or(model.integrator);
  if (o.unsafe) return r;
  // An explicit step larger than the one the model was trained and measured with is not known
  // to be stable (a step of 100x dt blows up within ten steps, even for a monotone model, whose
  // maximum principle holds for dt times its filters' sums at most 1). Smaller steps are
  // convex combinations of the identity and the trained step. The library's own conversions of
  // a time into steps round up (at most dt; ModelStepsFor).
  // The step asked for (a step alone is rounded down above, which never makes it too large).
  const double asked = o.dt != 0 ? o.dt : r.dt;
  if (asked > model.dt * (1 + 1e-9))
    Fail("a step of dt ", asked, " is larger than the ", model.dt,
         " this model was trained and measured stable with (", asked / model.dt,
         "x); reach a later time with more steps instead, or run it anyway with --unsafe "
         "(Python: unsafe=True)");
  // A monotone model obeys the discrete maximum principle for any number of Euler steps of at
  // most its dt (blade/monotone.h; verified when it is loaded): no horizon applies. Not with
  // extra terms (a data term's pull can break it) or more than the one checked bank.
  if (model.constraint == Constraint::kMonotone && r.integrator == Integrator::kEuler &&
      o.extra_terms.empty() && model.banks.size() == 1)
    return r;
  if (model.safe_steps < 0) return r;
  const double horizon = model.safe_steps * model.dt, run_time = r.steps * r.dt;
  // The relative slack keeps the model's own steps x dt (rounded differently) inside.
  if (run_time <= horizon * (1 + 1e-9)) return r;
  const int steps = r.steps;
  const double dt = r.dt;
  Fail("the ", model.pde.empty() ? "" : model.pde + " ", FormName(model.form),
       " model was measured stable only up to ", model.safe_steps, " steps of dt ", model.dt,
       " (t = ", horizon, "); this run of ", steps, " steps of dt ", dt, " goes to t = ", run_time,
       ", where it may leave [", model.safe_range[0], ", ", model.safe_range[1],
       "] or blow up. Run it anyway with --unsafe (Python: unsafe=True)");
}

Image RunModel(const Model& model, Image&& u0, const RunOptions& o) {
  const auto [steps, dt, integrator] = ResolveRun(model, o);
  if (u0.empty()) Fail("the input image is empty");
  if (!AllFinite(u0)) Fail("the input image contains NaN or infinite values");
  const bool by_channel = u0.channels() == 3 && RunsChannelByChannel(model) && !o.luma_selection;
  // Channel by channel with nothing that needs the whole color state at each step (extra terms,
  // frames): three gray runs, without the per-step copies of the loop below (14% of the time).
  if (by_channel && o.extra_terms.empty() && !o.on_frame) {
    RunOptions gray = o;
    Image out[3];
    for (int c = 0; c < 3; ++c) {
      if (o.on_progress)
        gray.on_progress = [&o, c](int done, int total) {
          o.on_progress(c * total + done, 3 * total);
        };
      out[c] = RunModel(model, ExtractChannel(u0, c), gray);
    }
    return StackChannels({&out[0], &out[1], &out[2]});
  }
  auto add_extra = [&](const Image& at, float scale, Image& out) {
    for (const ExtraTerm& t : o.extra_terms) t.add(at, scale, out);
  };
  auto rhs = [&](const Image& u) {
    Image r = RhsOf(model, u, by_channel);
    add_extra(u, 1.f, r);
    return r;
  };
  // The direct form: each step's update is fused with its selection and filtering
  // (SelectFilterUpdate) and the extra terms are added into the update, so the right-hand side
  // is never a whole image; the steps alternate between two buffers (three for the midpoint
  // rule), so a run holds the state and one more image whatever the number of steps.
  const bool fused = model.form == ModelForm::kDirect && !model.scheme_term;
  const bool extra = !o.extra_terms.empty();
  const SelectionConfig& rule = model.banks[0].selection;
  // The padded filter table once per run, not once per step.
  std::optional<PaddedBank> bank;
  if (fused) bank.emplace(model.banks[0].filters);
  // out = base + scale BLADE(z), fused; channel by channel where the model runs so.
  auto update = [&](const Image& z, const Image& base, float scale, bool* finite, Image& out) {
    if (!by_channel) return SelectFilterUpdate(rule, *bank, z, base, scale, finite, out);
    if (out.width() != z.width() || out.height() != z.height() || out.channels() != 3)
      out = Image::Uninitialized(z.width(), z.height(), 3);
    bool all = true;
    Image zc, bc, oc;
    for (int c = 0; c < 3; ++c) {
      zc = ExtractChannel(z, c);
      if (&base != &z) bc = ExtractChannel(base, c);
      bool fc = true;
      SelectFilterUpdate(rule, *bank, zc, &base != &z ? bc : zc, scale, finite ? &fc : nullptr, oc);
      std::copy_n(oc.data(), oc.size(), out.plane(c));
      all = all && fc;
    }
    if (finite) *finite = all;
  };
  Image u = std::move(u0), next, half;
  if (o.on_frame) o.on_frame(0, u);
  for (int k = 1; k <= steps; ++k) {
    CheckInterrupt();
    bool finite;
    if (fused) {
      if (integrator == Integrator::kEuler) {
        update(u, u, float(dt), &finite, next);
        if (extra) add_extra(u, float(dt), next);
      } else {
        update(u, u, float(dt / 2), nullptr, half);
        if (extra) add_extra(u, float(dt / 2), half);
        update(half, u, float(dt), &finite, next);
        if (extra) add_extra(half, float(dt), next);
      }
      if (extra) finite = AllFinite(next);
      std::swap(u, next);
    } else if (integrator == Integrator::kEuler) {
      finite = AxpyAllFinite(float(dt), rhs(u), u);
    } else {
      Image mid = u.Copy();
      Axpy(float(dt / 2), rhs(u), mid);
      finite = AxpyAllFinite(float(dt), rhs(mid), u);
    }
    if (!finite)
      throw DivergedError(k, steps,
                          "a step larger than the model's, a run past its stability horizon, or "
                          "filters that are not stable: edited or trained without a check");
    if (o.on_frame) o.on_frame(k, u);
    if (o.on_progress) o.on_progress(k, steps);
  }
  return u;
}

Image RunModel(const Model& model, const Image& u0, const RunOptions& o) {
  ResolveRun(model, o);  // refuses before the copy
  return RunModel(model, u0.Copy(), o);
}

std::pair<float, float> StabilityRange(const Model& model) {
  if (model.safe_steps >= 0) return {model.safe_range[0], model.safe_range[1]};
  return {kDefaultStabilityRange[0], kDefaultStabilityRange[1]};
}

std::string LeftStableRangeWarning(const Model& model, std::pair<float, float> input_range,
                                   const Image& result) {
  // A parametric model runs a blend whose range spans its contributing knots': every knot's.
  auto [lo, hi] = StabilityRange(model);
  for (const KnotModel& k : model.knots)
    if (k.safe_steps >= 0) lo = std::min(lo, k.safe_range[0]), hi = std::max(hi, k.safe_range[1]);
  if (input_range.first < lo || input_range.second > hi) return "";
  const float mn = MinValue(result), mx = MaxValue(result);
  if (mn >= lo && mx <= hi) return "";
  return StrCat("the result spans [", mn, ", ", mx, "], outside the [", lo, ", ", hi,
                "] this model's stability is measured in: the run has likely become unstable on "
                "this image; run fewer steps or an earlier time");
}

Stability MeasureStability(const Model& model, const std::vector<const Image*>& starts,
                           int max_steps, float lo, float hi) {
  RequireRhsForm(model);
  if (max_steps < 1) Fail("stability: the number of steps must be positive");
  // Per start: the first failing step (max_steps + 1 if none) and the range before it.
  std::vector<int> fail_at(starts.size(), max_steps + 1);
  std::vector<std::vector<std::pair<float, float>>> ranges(starts.size());
  std::vector<std::pair<float, float>> failed(starts.size());
  ParallelFor(0, int(starts.size()), [&](int s) {
    Image u = starts[s]->Copy();
    for (int k = 1; k <= max_steps; ++k) {
      if (model.integrator == Integrator::kEuler) {
        Axpy(float(model.dt), EvaluateRhs(model, u), u);
      } else {
        Image half = u.Copy();
        Axpy(float(model.dt / 2), EvaluateRhs(model, u), half);
        Axpy(float(model.dt), EvaluateRhs(model, half), u);
      }
      float mn = INFINITY, mx = -INFINITY;
      bool finite = true;
      for (std::size_t i = 0; i < u.size(); ++i) {
        const float v = u.data()[i];
        finite = finite && std::isfinite(v);
        mn = std::min(mn, v);
        mx = std::max(mx, v);
      }
      if (!finite || mn < lo || mx > hi) {
        fail_at[s] = k;
        failed[s] = finite ? std::make_pair(mn, mx) : std::make_pair(NAN, NAN);
        return;
      }
      ranges[s].emplace_back(mn, mx);
    }
  });
  Stability st;
  const auto first = std::min_element(fail_at.begin(), fail_at.end());
  st.safe_steps = *first - 1;
  if (st.safe_steps < max_steps) {
    st.failed_start = int(first - fail_at.begin());
    std::tie(st.failed_min, st.failed_max) = failed[st.failed_start];
  }
  st.min = INFINITY;
  st.max = -INFINITY;
  for (const Image* start : starts)  // the range seen includes the starts themselves
    for (std::size_t i = 0; i < start->size(); ++i) {
      st.min = std::min(st.min, start->data()[i]);
      st.max = std::max(st.max, start->data()[i]);
    }
  for (const auto& r : ranges)
    for (int k = 0; k < st.safe_steps; ++k) {
      st.min = std::min(st.min, r[k].first);
      st.max = std::max(st.max, r[k].second);
    }
  return st;
}

Rollout::Rollout(const Model& model, const Image& u0, int steps, double dt, Integrator integrator,
                 std::vector<ExtraTerm> extra_terms)
    : model_(model),
      steps_(steps),
      dt_(dt),
      integrator_(integrator),
      extra_(std::move(extra_terms)) {
  Run(u0, nullptr);
}

Rollout::Rollout(const Model& model, const Image& u0, int steps, double dt, Integrator integrator,
                 const Rollout& fixed)
    : model_(model), steps_(steps), dt_(dt), integrator_(integrator), extra_(fixed.extra_) {
  if (fixed.steps_ != steps || fixed.integrator_ != integrator)
    Fail("fixed selections come from a rollout with other steps or integrator");
  Run(u0, &fixed);
}

void Rollout::Run(const Image& u0, const Rollout* fixed) {
  RequireRhsForm(model_);
  auto rhs = [&](const Image& u, const std::vector<std::vector<std::int32_t>>& sel) {
    Image r = EvaluateRhs(model_, u, sel);
    for (const ExtraTerm& t : extra_) t.add(u, 1.f, r);
    return r;
  };
  states_.push_back(u0.Copy());
  for (int k = 0; k < steps_; ++k) {
    const Image& u = states_.back();
    sel_.push_back(fixed ? fixed->sel_[k] : ComputeSelections(model_, u));
    Image next = u.Copy();
    if (integrator_ == Integrator::kEuler) {
      Axpy(float(dt_), rhs(u, sel_.back()), next);
    } else {
      Image half = u.Copy();
      Axpy(float(dt_ / 2), rhs(u, sel_.back()), half);
      half_sel_.push_back(fixed ? fixed->half_sel_[k] : ComputeSelections(model_, half));
      Axpy(float(dt_), rhs(half, half_sel_.back()), next);
      half_states_.push_back(std::move(half));
    }
    states_.push_back(std::move(next));
  }
}

Image Rollout::Backward(const std::vector<Image>& grads,
                        std::vector<std::vector<double>>& dtaps) const {
  const Image& u0 = states_.front();
  // (R + E)^T g at state u with selections sel, and the filter gradient scaled by `scale`.
  auto vjp = [&](const Image& u, const std::vector<std::vector<std::int32_t>>& sel, const Image& g,
                 float scale) {
    Image sg = Scaled(scale, g);
    Image gu = EvaluateRhsBackward(model_, u, sel, sg, dtaps);
    for (const ExtraTerm& t : extra_)
      if (t.add_vjp) t.add_vjp(u, sg, gu);
    return gu;
  };
  Image g(u0.width(), u0.height(), u0.channels());  // dL/du_{k+1}, all paths
  for (int k = steps_ - 1; k >= 0; --k) {
    if (std::size_t(k) < grads.size() && !grads[k].empty()) Axpy(1.f, grads[k], g);
    Image gu = g.Copy();
    if (integrator_ == Integrator::kEuler) {
      Axpy(1.f, vjp(states_[k], sel_[k], g, float(dt_)), gu);
    } else {
      Image gh = vjp(half_states_[k], half_sel_[k], g, float(dt_));
      Axpy(1.f, gh, gu);
      Axpy(1.f, vjp(states_[k], sel_[k], gh, float(dt_ / 2)), gu);
    }
    g = std::move(gu);
  }
  return g;
}

}  // namespace blade
