// The Python bindings of the classical reference solvers and presets (blade/pde.h, preset.h).
#include "blade/ops.h"
#include "blade/pde.h"
#include "blade/preset.h"
#include "convert.h"

namespace blade::python {

void BindPde(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  m.def(
      "presets",
      [] {
        py::list out;
        for (const Preset& p : BuiltinPresets()) {
          py::dict d;
          d["name"] = p.name;
          d["pde"] = PdeName(p.pde);
          d["description"] = p.description;
          d["time"] = p.time;
          d["scale"] = p.scale;
          d["hr_steps"] = p.hr_steps;
          d["frames"] = p.frames;
          d["params"] = p.params.ToMap(p.pde);
          d["selection_rho"] = p.selection_rho;
          d["selection_bins"] = p.selection_bins;
          out.append(d);
        }
        return out;
      },
      "The built-in presets: PDE, parameters, stopping time, protocol resolution.");
  m.def(
      "solve",
      [](const py::array& image, const std::string& pde_name, std::optional<double> time_arg,
         std::optional<int> steps_arg, std::optional<double> dt_arg, double dx,
         const std::map<std::string, double>& params, bool force) {
        const Pde pde = ParsePde(pde_name);
        const Preset& preset = DefaultPreset(pde);
        // None is the default; a 0 given is refused, not read as the default (as on the command
        // line).
        if (time_arg) RequirePositive(*time_arg, "time");
        if (dt_arg) RequirePositive(*dt_arg, "dt");
        if (steps_arg && (*steps_arg < 1 || *steps_arg > kMaxSteps))
          Fail("steps must be 1..", kMaxSteps, " (got ", *steps_arg, ")");
        const double time = time_arg.value_or(0), dt = dt_arg.value_or(0);
        const int steps = steps_arg.value_or(0);
        Image u0 = ToInputImage(image);
        SolveOptions o;
        o.time = ResolveSolveTime(time, steps, dt, preset.time);
        o.steps = steps;
        o.dt = dt;
        o.dx = dx;
        o.force = force;
        Image u;
        {
          py::gil_scoped_release r;
          u = Solve(pde, PdeParamsWith(pde, preset.params, params), u0, o).u;
        }
        return FromImage(std::move(u));
      },
      py::arg("image"), py::arg("pde"), py::arg("time") = py::none(), py::arg("steps") = py::none(),
      py::arg("dt") = py::none(), py::arg("dx") = 1.0,
      py::arg("params") = std::map<std::string, double>{}, py::arg("force") = false,
      "Runs a classical reference scheme ('tv', 'pm', 'ced', 'ch') to `time` (default: the "
      "preset's T, or steps x dt when both are given) with the default step (TV, PM: the largest "
      "stable one; CED 0.5 dx^2, within its limit 1.98 dx^2; CH 0.5 gamma at any dx, within 2 "
      "gamma: stable, not converged on a fine grid, where the kodak4x reference takes 160 steps "
      "at dx = 1/4), `steps` equal steps, or `dt` (rounded down to land on the time); a step "
      "above the "
      "stability limit is refused (naming the fewest stable steps) unless force=True.");
  m.def(
      "classical_rhs",
      [](const py::array& image, const std::string& pde_name, double dx,
         const std::map<std::string, double>& params) {
        const Pde pde = ParsePde(pde_name);
        const PdeParams p = PdeParamsWith(pde, DefaultPreset(pde).params, params);
        Image u = ToInputImage(image);
        {
          py::gil_scoped_release r;
          u = ClassicalRhs(pde, p, u, dx);
        }
        return FromImage(std::move(u));
      },
      py::arg("image"), py::arg("pde"), py::arg("dx") = 1.0,
      py::arg("params") = std::map<std::string, double>{},
      "The classical scheme's right-hand side F(u) at grid spacing dx ('tv', 'pm': u + dt F(u) "
      "is their explicit step; 'ch': Lap(W'(u) - gamma Lap u)); what a model's scheme term "
      "filters. Parameters default to the preset's.");
}

}  // namespace blade::python
