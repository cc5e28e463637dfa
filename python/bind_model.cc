// The Python bindings of models: loading, saving, filters, running (blade/model.h).
#include "blade/apps.h"
#include "blade/model.h"
#include "convert.h"

namespace blade::python {

void BindModel(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  py::class_<Model>(m, "Model",
                    "A trained BLADE model (direct, flux, resampling, learned upscaler or learned "
                    "denoiser).")
      .def("__repr__",
           [](const Model& self) {
             const Bank& b = self.banks.at(0);
             std::string what =
                 self.form == ModelForm::kUpscale
                     ? StrCat("x", self.upscale.factor, " ", self.upscale.degradation,
                              " learned upscaler")
                 : self.form == ModelForm::kDenoise
                     ? StrCat(self.denoise.channels == 1 ? "gray" : "color", " learned denoiser")
                 : self.form == ModelForm::kResample
                     ? std::string("resampling model")
                     : StrCat(self.pde, " ", FormName(self.form), " model, dt ", self.dt, ", ",
                              self.steps, " steps");
             // Banks alike are counted once ("16 banks of 216 9x9"), else listed ("576 7x7 +
             // 576 3x3").
             bool alike = true;
             for (const Bank& other : self.banks)
               alike = alike && other.filters.count == b.filters.count &&
                       other.filters.size == b.filters.size;
             std::string banks;
             if (alike) {
               banks =
                   StrCat(self.banks.size(), self.banks.size() == 1 ? " bank" : " banks", " of ",
                          b.filters.count, " ", b.filters.size, "x", b.filters.size, " filters");
             } else {
               for (const Bank& bank : self.banks)
                 banks += StrCat(banks.empty() ? "" : " + ", bank.filters.count, " ",
                                 bank.filters.size, "x", bank.filters.size);
               banks += " filters";
             }
             return StrCat("<blade.Model ", what, ", ", banks, ">");
           })
      .def(py::pickle([](const Model& self) { return SerializeModel(self); },
                      [](const std::string& text) { return ParseModel(text, "pickled model"); }))
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release r;
            return LoadModel(ResolveModelPath(path));
          },
          py::arg("path"),
          "Reads a model file; a bare name that is not a file (\"tv-plain\", \"denoise-gray\") "
          "names a shipped model.")
      .def_static(
          "default_for",
          [](const std::string& app, std::optional<int> factor,
             std::optional<std::string> degradation, std::optional<double> sigma, int channels) {
            const Application a = ParseApplication(app);
            if ((factor || degradation) && a != Application::kUpscale)
              throw Error("factor and degradation choose upscaling's default only");
            if (sigma && a != Application::kDenoise)
              throw Error("sigma chooses denoising's default only");
            if (sigma) RequireDenoiseSigma(*sigma);
            if (channels != 1 && channels != 3) throw Error("channels must be 1 or 3");
            const std::string name =
                a == Application::kUpscale
                    ? [&] {
                        const UpscaleSetting s = ResolveUpscaleSetting(
                            nullptr, factor, degradation.value_or(""), false);
                        return DefaultUpscaleModelName(s.factor, s.degradation);
                      }()
                : sigma ? DefaultDenoiseModelName(*sigma, channels, DenoiseOptions())
                        : DefaultModelName(a);
            py::gil_scoped_release r;
            return Model(*LoadShippedModel(name));  // a copy the caller may change
          },
          py::arg("app"), py::arg("factor") = py::none(), py::arg("degradation") = py::none(),
          py::arg("sigma") = py::none(), py::arg("channels") = 1,
          "The shipped model an application uses by default ('segment', 'restore', 'deconv', "
          "'upscale', 'resample', 'denoise'), as the command line does without --model; for "
          "'upscale' the learned upscaler for factor (default 4) and degradation (default "
          "'area') where one is shipped, else the TV model; for 'denoise' with a noise sigma "
          "(0-255) the learned denoiser for `channels` (1 or 3) where it covers sigma, else "
          "(and without sigma) the TV model. Found in $BLADE_MODELS_DIR, the installed "
          "share/blade/models or the source tree.")
      .def(
          "save", [](const Model& self, const std::string& path) { SaveModel(self, path); },
          py::arg("path"), "Writes the model file atomically.")
      .def_property_readonly("form", [](const Model& self) { return FormName(self.form); })
      .def_property_readonly("pde", [](const Model& self) { return self.pde; })
      .def_property_readonly("preset", [](const Model& self) { return self.preset; })
      .def_property_readonly(
          "covers", [](const Model& self) { return CoveredRanges(self); },
          "What Model.run(params=, time=) reaches: a parametric model's box (each axis's "
          "range), and otherwise {name: (lo, hi)} for each parameter an exact symmetry moves, "
          "and 'time' (one step to the stability horizon). Model.at and the applications' "
          "params (restore, deconvolve, upscale, segment, denoise) take the box alone: each "
          "axis from its first to its last knot (Model.axes).")
      .def_property_readonly(
          "axes",
          [](const Model& self) {
            std::map<std::string, std::vector<double>> out;
            for (const ParamAxis& a : self.axes) out[a.name] = a.knots;
            return out;
          },
          "A parametric model's axes: {name: knots} ('time' for the stopping time); {} for a "
          "point model.")
      .def(
          "at",
          [](const Model& self, const std::map<std::string, double>& params) {
            return BlendModelAt(self, params);
          },
          py::arg("params"),
          "A parametric model's point model at params ({axis: value}; 'time' for the stopping "
          "time; axes not named keep the default): its knots' banks blended. Refuses a point "
          "outside the box. The result is an ordinary point model: run(time=T) on it takes more "
          "or fewer steps of its own dt (as far as its stability horizon), where the parametric "
          "model's run(params=, time=T) blends the banks trained for T, inside the box only.")
      .def_property_readonly(
          "pde_params", [](const Model& self) { return self.pde_params; },
          "The PDE parameters the model was trained for (the presets' names).")
      .def_property_readonly("dt", [](const Model& self) { return self.dt; })
      .def_property_readonly("steps", [](const Model& self) { return self.steps; })
      .def_property_readonly("integrator",
                             [](const Model& self) { return IntegratorName(self.integrator); })
      .def_property_readonly(
          "scheme_term", [](const Model& self) { return self.scheme_term; },
          "Whether its step also filters the classical scheme's right-hand side (bank 1).")
      .def_property_readonly("safe_steps", [](const Model& self) { return self.safe_steps; })
      .def_property_readonly(
          "stability_range",
          [](const Model& self) {
            const auto [lo, hi] = StabilityRange(self);
            return py::make_tuple(lo, hi);
          },
          "The value range runs are held to: the measured one where the model "
          "has a horizon (safe_steps >= 0), else (-0.1, 1.1).")
      .def_property_readonly(
          "largest_filter_sum", [](const Model& self) { return LargestFilterSum(self); },
          "The largest |sum of taps| over the filters acting on u, every knot included: 0 when "
          "the model keeps constants exactly (blade/model.h, level invariance).")
      .def(
          "project_filters_to_zero_sum", [](Model& self) { ProjectFiltersToZeroSum(self); },
          "Subtract from each filter acting on u its mean tap, at every knot, so the model keeps "
          "constants and commutes with adding one; direct, flux and denoise models without "
          "intensity bins, of a PDE that commutes with adding a constant. The stability horizon "
          "is cleared (its range is kept: `blade stability --write` measures again).")
      .def_property_readonly("provenance", [](const Model& self) { return self.provenance; })
      .def_property_readonly("num_banks", [](const Model& self) { return int(self.banks.size()); })
      .def_property_readonly(
          "upscale",
          [](const Model& self) -> py::object {
            if (self.form != ModelForm::kUpscale) return py::none();
            return py::dict(py::arg("factor") = self.upscale.factor,
                            py::arg("degradation") = self.upscale.degradation,
                            py::arg("back_projections") = self.upscale.back_projections,
                            py::arg("refiner_layers") = self.upscale.refiner.layers.size(),
                            py::arg("refiner_parameters") = self.upscale.refiner.parameters());
          },
          "A learned upscaler's factor, degradation, back-projections per stage and its "
          "refiner's layers and parameters (0 when it has none); None for other models.")
      .def_property_readonly(
          "denoise",
          [](const Model& self) -> py::object {
            if (self.form != ModelForm::kDenoise) return py::none();
            return py::dict(py::arg("sigmas") = self.denoise.sigmas,
                            py::arg("stages") = self.denoise.stages,
                            py::arg("channels") = self.denoise.channels);
          },
          "A learned denoiser's noise levels (0-255), stages per level and channels (1 gray, 3 "
          "color); None for other models.")
      .def(
          "selection",
          [](const Model& self, int bank) { return SelectionDict(BankOf(self, bank).selection); },
          py::arg("bank") = 0, "The bank's selection rule: bins, thresholds, rho.")
      .def(
          "filters",
          [](const Model& self, int bank) {
            const FilterBank& f = BankOf(self, bank).filters;
            py::array_t<float> out(
                {py::ssize_t(f.count), py::ssize_t(f.size), py::ssize_t(f.size)});
            std::copy(f.taps.begin(), f.taps.end(), out.mutable_data());
            return out;
          },
          py::arg("bank") = 0,
          "A copy of the bank's filters, shape (count, size, size); "
          "[k, dy + r, dx + r] multiplies the pixel at offset (dx, dy).")
      .def(
          "set_filters",
          [](Model& self, const py::array& filters, int bank) {
            FloatArray f = FloatArray::ensure(filters);
            BankOf(self, bank);  // range check
            // Its banks are the knots' blend, made again on loading: an edit would be lost.
            if (self.parametric())
              throw Error(
                  "a parametric model's filters are its knots' blend; edit a point model: "
                  "model.at({...})");
            FilterBank& dst = self.banks[bank].filters;
            if (!f || f.ndim() != 3 || f.shape(0) != dst.count || f.shape(1) != dst.size ||
                f.shape(2) != dst.size)
              throw Error(StrCat("filters must have shape (", dst.count, ", ", dst.size, ", ",
                                 dst.size, ")"));
            std::vector<float> old = dst.taps;
            dst.taps.assign(f.data(), f.data() + f.size());
            try {
              self.Validate();
            } catch (...) {
              dst.taps = old;
              throw;
            }
            // The horizon was measured on the old filters: it says nothing of these
            // (`blade stability --write` measures it again).
            self.safe_steps = -1;
            self.safe_range[0] = self.safe_range[1] = 0;
          },
          py::arg("filters"), py::arg("bank") = 0)
      .def(
          "refiner",
          [](const Model& self) {
            py::list layers;
            for (const ConvLayer& l : self.upscale.refiner.layers) {
              py::array_t<float> w(
                  {py::ssize_t(l.out), py::ssize_t(l.in), py::ssize_t(3), py::ssize_t(3)});
              std::copy(l.weights.begin(), l.weights.end(), w.mutable_data());
              py::array_t<float> b(py::ssize_t(l.out));
              std::copy(l.bias.begin(), l.bias.end(), b.mutable_data());
              layers.append(py::make_tuple(w, b));
            }
            return layers;
          },
          "A copy of a learned upscaler's refiner: a list of (weights, bias) per 3x3 layer, "
          "weights of shape (out, in, 3, 3) as PyTorch's Conv2d ([o, c, dy + 1, dx + 1]); each "
          "layer but the last is followed by max(0, x); empty when it has none.")
      .def(
          "set_refiner",
          [](Model& self, const std::vector<std::pair<py::array, py::array>>& layers) {
            ConvNet net;
            for (const auto& [weights, bias] : layers) {
              const FloatArray w = FloatArray::ensure(weights), b = FloatArray::ensure(bias);
              if (!w || w.ndim() != 4 || w.shape(2) != 3 || w.shape(3) != 3 || !b ||
                  b.ndim() != 1 || b.shape(0) != w.shape(0))
                throw Error(
                    "each refiner layer is (weights of shape (out, in, 3, 3), bias of "
                    "shape (out,))");
              net.layers.push_back({int(w.shape(1)), int(w.shape(0)),
                                    std::vector<float>(w.data(), w.data() + w.size()),
                                    std::vector<float>(b.data(), b.data() + b.size())});
            }
            ConvNet old = std::move(self.upscale.refiner);
            self.upscale.refiner = std::move(net);
            try {
              self.Validate();
            } catch (...) {
              self.upscale.refiner = std::move(old);
              throw;
            }
          },
          py::arg("layers"),
          "Replaces a learned upscaler's refiner ([] removes it), in the layout refiner() gives.")
      .def(
          "select",
          [](const Model& self, const py::array& image, int bank) {
            Image im = ToInputImage(image);
            if (!AllFinite(im)) throw Error("the image contains NaN or infinite values");
            const SelectionConfig cfg = BankOf(self, bank).selection;
            std::vector<std::int32_t> sel;
            {
              py::gil_scoped_release r;
              sel = Select(cfg, im);
            }
            py::array_t<std::int32_t> out({py::ssize_t(im.height()), py::ssize_t(im.width())});
            std::copy(sel.begin(), sel.end(), out.mutable_data());
            return out;
          },
          py::arg("image"), py::arg("bank") = 0,
          "The filter index of every pixel, (H, W) int32; on a color image, from its luma (or "
          "joint tensor): what a CED model (or a denoising run) uses, not a TV, PM or CH model's "
          "run, which selects per channel.")
      .def(
          "rhs",
          [](const Model& self, const py::array& image) {
            Image u = ToInputImage(image), out;
            {
              py::gil_scoped_release r;
              out = EvaluateRhs(self, u);
            }
            return FromImage(std::move(out));
          },
          py::arg("image"), "BLADE(u): the model's estimate of du/dt.")
      .def(
          "run",
          [](const Model& self, const py::array& image, std::optional<int> steps,
             std::optional<double> dt, const std::string& integrator, bool unsafe,
             std::optional<std::map<std::string, double>> params, std::optional<double> time,
             bool luma_selection) {
            // None is the model's; a 0 given is refused, not read as the model's.
            if (steps && *steps < 1) Fail("steps must be at least 1 (got ", *steps, ")");
            if (dt) RequirePositive(*dt, "dt");
            if (time) RequirePositive(*time, "time");
            Image u0 = ToInputImage(image), out;
            RunOptions o;
            o.steps = steps.value_or(0);
            o.dt = dt.value_or(0);
            if (!integrator.empty()) o.integrator = ParseIntegrator(integrator);
            o.unsafe = unsafe;
            o.luma_selection = luma_selection;
            const bool at_point = params.has_value() || time.has_value();
            if (at_point && (steps || dt))
              throw Error("give params/time or steps/dt, not both (time sets the steps)");
            ModelPoint point;
            if (params) point.params = *params;
            if (time) point.time = *time;
            if (!at_point)
              if (const std::string w = RunPastCoverageWarning(self, ResolveRun(self, o));
                  !w.empty())
                WarnCaller(w);
            {
              py::gil_scoped_release r;
              out = at_point ? RunModelAt(self, u0, point, o) : RunModel(self, u0, o);
            }
            if (const std::string w =
                    LeftStableRangeWarning(self, {MinValue(u0), MaxValue(u0)}, out);
                !w.empty())
              WarnCaller(w);
            return FromImage(std::move(out));
          },
          py::arg("image"), py::arg("steps") = py::none(), py::arg("dt") = py::none(),
          py::arg("integrator") = "", py::arg("unsafe") = false, py::kw_only(),
          py::arg("params") = py::none(), py::arg("time") = py::none(),
          py::arg("luma_selection") = false,
          "Runs `steps` steps (default: the model's 10) of size dt (default: the model's) with "
          "the model's integrator unless `integrator` is given; dt alone keeps the model's "
          "stopping time in the fewest equal steps of at most dt. Gray or color (TV, PM, CH "
          "models channel by channel, unless luma_selection=True, as denoising runs them; CED "
          "models select on luma). A run past the model's measured "
          "stability horizon "
          "(Model.safe_steps) raises blade.Error unless unsafe=True. params={'c': 0.05} and "
          "time=T run at another parameter point and stopping time through the PDE's exact "
          "symmetry (pm: c, ced: C, tv: eps; an intensity scaling of at most 3x), as "
          "`blade run --param --time`.");
}

}  // namespace blade::python
