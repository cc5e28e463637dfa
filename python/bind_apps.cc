// The Python bindings of the applications (blade/apps.h, restore.h, resample.h).
#include "blade/apps.h"
#include "blade/resample.h"
#include "blade/restore.h"
#include "convert.h"

namespace blade::python {

namespace {

// A mask given as an array, refused with an alpha channel as a mask file is (ParseOperator):
// holes drawn as transparency would be lost when the alpha is dropped.
LinearOperator MaskArrayOperator(const py::array& mask) {
  RequireMaskWithoutAlpha(mask.ndim() == 3 && mask.shape(2) == 4, ShapeAndDtype(mask));
  return MaskOperator(ToImage(mask, "mask"));
}

// A restoration run's own options, as the command line's --steps, --dt and --unsafe.
RestoreOptions RunOptionsOf(int steps, std::optional<double> dt, bool unsafe) {
  RestoreOptions o;
  o.steps = steps;
  if (dt) {
    RequirePositive(*dt, "dt");
    o.dt = *dt;
  }
  o.unsafe = unsafe;
  o.Validate();
  return o;
}

}  // namespace

#define RUN_OPTIONS_DOC                                                                       \
  "dt: the step (None: the model's; larger is refused unless unsafe); unsafe=True runs past " \
  "the model's measured stability horizon or with a larger step."

void BindApps(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  m.def(
      "deconvolve",
      [](const Model* given, const py::array& image, double sigma, double lam, int steps,
         bool force_model, std::optional<double> dt, bool unsafe) {
        const auto ref = ModelOrShipped(given, Application::kDeconvolve);
        const Model& model = *ref;
        RequireModelFor(Application::kDeconvolve, model, force_model);
        Image f = ToInputImage(image), out;
        RestoreOptions o = RunOptionsOf(steps, dt, unsafe);
        o.lambda = lam;
        {
          py::gil_scoped_release r;
          out = Deconvolve(model, f, sigma, o);
        }
        return FromImage(std::move(out));
      },
      py::arg("model"), py::arg("image"), py::arg("sigma") = kDeconvSigma,
      py::arg("lam") = kDeconvLambda, py::arg("steps") = RestoreOptions().steps,
      py::arg("force_model") = false, py::kw_only(), py::arg("dt") = py::none(),
      py::arg("unsafe") = false,
      "Non-blind Gaussian deconvolution, blur absorbed into the filters (eq. 4.4-4.5). model "
      "None: the shipped default (blade.Model.default_for('deconv')). " RUN_OPTIONS_DOC);
  m.def(
      "restore",
      [](const Model* given, const py::array& image, const py::object& op,
         std::optional<double> lam, int steps, bool force_model, std::optional<double> dt,
         bool unsafe) {
        const auto ref = ModelOrShipped(given, Application::kRestore);
        const Model& model = *ref;
        RequireModelFor(Application::kRestore, model, force_model);
        RestoreOptions o = RunOptionsOf(steps, dt, unsafe);
        if (lam) RequireNonNegative(*lam, "lam");
        o.lambda = lam.value_or(kRestoreLambda);
        // The operator as the command line spells it, or a mask given as an array.
        LinearOperator A = py::isinstance<py::str>(op) ? ParseOperator(op.cast<std::string>())
                                                       : MaskArrayOperator(op.cast<py::array>());
        Image f = ToInputImage(image), out;
        {
          py::gil_scoped_release r;
          out = Restore(model, A, f, o);
        }
        return FromImage(std::move(out));
      },
      py::arg("model"), py::arg("image"), py::arg("op"), py::arg("lam") = py::none(),
      py::arg("steps") = RestoreOptions().steps, py::arg("force_model") = false, py::kw_only(),
      py::arg("dt") = py::none(), py::arg("unsafe") = false,
      "Restoration u += dt (BLADE(u) + lam A^T (f - A u)) with op 'blur:sigma=S', 'mask:FILE' or "
      "a mask array (H, W) (eq. 4.2); lam defaults to 0.7 / dt (the same pull toward the data "
      "per step for every model). model None: the shipped default "
      "(blade.Model.default_for('restore')). With a mask (white = known, gray = a known "
      "fraction), the holes are first filled from their surroundings (push-pull) and the known "
      "pixels are put back at the end, whatever lam. " RUN_OPTIONS_DOC);
  m.def(
      "denoise",
      [](const py::array& image, const py::object& sigma_arg, const Model* model, bool force_model,
         std::optional<double> time, std::optional<std::map<std::string, double>> params,
         const std::string& stop, bool unsafe) {
        DenoiseOptions o;
        if (time) {
          if (!(*time > 0))
            throw Error("time must be positive (got " + std::to_string(*time) + ")");
          o.time = *time;
        }
        if (params) o.params = *params;
        o.stop = ParseDenoiseStop(stop);
        o.unsafe = unsafe;
        // None or "auto" (as the command line's --sigma auto): estimated from the image.
        std::optional<double> sigma_given;
        if (py::isinstance<py::str>(sigma_arg)) {
          if (sigma_arg.cast<std::string>() != "auto")
            throw Error("sigma must be a number, None or 'auto' (got '" +
                        sigma_arg.cast<std::string>() + "')");
        } else if (!sigma_arg.is_none()) {
          try {
            sigma_given = sigma_arg.cast<double>();
          } catch (const py::cast_error&) {
            throw Error("sigma must be a number, None or 'auto'");
          }
        }
        if (sigma_given) {
          RequireDenoiseSigma(*sigma_given);  // before the image is converted
          if (const std::string w = DenoiseSigmaWarning(*sigma_given); !w.empty()) WarnCaller(w);
        }
        Image f = ToInputImage(image), out;
        const double sigma = sigma_given ? *sigma_given : AutoDenoiseSigma(f);
        std::shared_ptr<const Model> shipped;
        if (model == nullptr)
          shipped = LoadShippedModel(DefaultDenoiseModelName(sigma, f.channels(), o));
        const Model& m = model ? *model : *shipped;
        RequireModelFor(Application::kDenoise, m, force_model);
        {
          py::gil_scoped_release r;
          out = Denoise(m, f, sigma, o);
        }
        return FromImage(std::move(out));
      },
      py::arg("image"), py::arg("sigma") = py::none(), py::arg("model") = nullptr,
      py::arg("force_model") = false, py::kw_only(), py::arg("time") = py::none(),
      py::arg("params") = py::none(), py::arg("stop") = "rule", py::arg("unsafe") = false,
      "Removes Gaussian noise of standard deviation sigma (0-255 units; None or 'auto': "
      "estimated from the image, blade.estimate_noise). By default with the "
      "shipped learned denoiser for the image's channels (denoise-gray, denoise-color: BLADE "
      "stages trained on noisy photographs) where it covers sigma (blade.Model.default_for"
      "('denoise', sigma=...) says which) and no time, "
      "params or stop='sure' is given; else (or with a TV model) with the TV model run to the "
      "time blade.denoise_time(sigma, channels) gives (the rule fitted on training photographs) "
      "or to `time`; stop='sure' stops each image where Stein's unbiased risk estimate is least "
      "instead (3 to 4 times the time); params: the model's PDE parameters; unsafe=True runs "
      "past the model's stability horizon.");
  m.def("denoise_time", &DenoiseTime, py::arg("sigma"), py::arg("channels"),
        "The stopping time blade.denoise uses for noise sigma (0-255 units) on an image of "
        "`channels` channels (1: gray; otherwise color).");
  m.def(
      "upscale",
      [](const Model* model, const py::array& image, std::optional<int> factor_arg,
         std::optional<std::string> spec, std::optional<double> lam, std::optional<int> steps,
         bool project, bool force_model, bool fast, std::optional<double> dt, bool unsafe) {
        // As the command line: the shipped upscaler for this factor and degradation by default,
        // and a learned upscaler's own factor and degradation when not given.
        const UpscaleSetting s =
            ResolveUpscaleSetting(model, factor_arg, spec.value_or(""), project);
        const int factor = s.factor;
        const Degradation& degradation = s.degradation;
        std::shared_ptr<const Model> shipped;
        if (model == nullptr) {
          const std::string name = project ? DefaultModelName(Application::kUpscale)
                                           : DefaultUpscaleModelName(factor, degradation);
          py::gil_scoped_release r;
          shipped = LoadShippedModel(name);
        }
        const Model& given = model != nullptr ? *model : *shipped;
        RequireModelFor(Application::kUpscale, given, force_model);
        UpscaleRequest request;
        request.project = project;
        request.fast = fast;
        request.lambda_given = lam.has_value();
        request.steps_given = steps.has_value();
        request.dt_given = dt.has_value();
        request.unsafe = unsafe;
        std::string note;
        CheckUpscaleRequest(given, degradation, request, &note);
        if (!note.empty()) WarnCaller(note);
        RestoreOptions o = RunOptionsOf(steps.value_or(RestoreOptions().steps), dt, unsafe);
        if (lam) RequireNonNegative(*lam, "lam");
        o.lambda = lam.value_or(kUpscaleLambda);
        // fast: the stages and back-projection alone (a copy without the refiner); otherwise the
        // model as given, not copied.
        std::optional<Model> without_refiner;
        if (fast) {
          without_refiner = given;
          without_refiner->upscale.refiner = {};
        }
        const Model& m = fast ? *without_refiner : given;
        Image f = ToInputImage(image), out;
        {
          py::gil_scoped_release r;
          out = project ? UpscaleProjected(m, f, factor, degradation, o)
                        : Upscale(m, f, factor, degradation, o);
        }
        return FromImage(std::move(out));
      },
      py::arg("model"), py::arg("image"), py::arg("factor") = py::none(),
      py::arg("degradation") = py::none(), py::arg("lam") = py::none(),
      py::arg("steps") = py::none(), py::arg("project") = false, py::arg("force_model") = false,
      py::kw_only(), py::arg("fast") = false, py::arg("dt") = py::none(), py::arg("unsafe") = false,
      "Upscaling by an integer factor (2..16; default: a learned model's own, else 4). model "
      "None: the shipped learned upscaler for the factor and degradation (x2 and x4, area and "
      "bicubic), else the shipped TV model (eq. 4.6), as "
      "the command line does. A learned upscaler (blade.train_upscale) filters the Lanczos-3 "
      "start once and back-projects; a PDE model runs eq. 4.6 (lam, steps: default 10), or eq. "
      "4.7 with project=True. degradation: how the image was shrunk, 'area' (default, unless a "
      "learned model has another; PIL BOX, "
      "skimage downscale_local_mean, OpenCV INTER_AREA), 'bicubic' (PIL BICUBIC), "
      "'gaussian:SIGMA' or the paper's 'corner:SIGMA' (the default, corner:0.4, with "
      "project=True, which needs it). fast=True skips a learned upscaler's refiner network "
      "(4 to 11 times faster, 0.3 to 0.6 dB lower; the command line's --fast). dt, unsafe: as "
      "restore's, for the PDE forms.");
  m.def(
      "segment",
      [](const py::array& image, const Model* model, std::optional<double> mu, int iterations,
         bool force_model, bool reference) {
        RequireNoModelForReference(reference, model != nullptr || force_model);
        if (model) RequireModelFor(Application::kSegment, *model, force_model);
        Image f = ToInputImage(image), mask;
        ChanVeseParams p;
        p.iterations = iterations;
        p.mu = mu ? *mu : DefaultChanVeseMu(reference);
        RequireNonNegative(p.mu, "mu");
        p.Validate();
        std::shared_ptr<const Model> tv;
        if (!reference) tv = ModelOrShipped(model, Application::kSegment);
        {
          py::gil_scoped_release r;
          mask =
              SegmentationMask(reference ? ChanVeseReference(f, p) : ChanVeseBlade(f, *tv, p), f);
        }
        return FromImage(std::move(mask));
      },
      py::arg("image"), py::arg("model") = nullptr, py::arg("mu") = py::none(),
      py::arg("iterations") = ChanVeseParams().iterations, py::arg("force_model") = false,
      py::arg("reference") = false,
      "Chan-Vese (color: Chan-Sandberg-Vese) mask in {0, 1}, white (1) on the region with the "
      "brighter mean, as `blade segment`: with a BLADE TV model (eq. 4.10, mu 0.04; None: the "
      "shipped tv-plain) or, with reference=True, the classical scheme (mu 0.2).");
  m.def(
      "align",
      [](const py::array& ref, const py::array& alt, int lk) {
        Image a = ToInputImage(ref, "ref"), b = ToInputImage(alt, "alt");
        AlignOptions o;
        o.lk_iterations = lk;
        Flow flow;
        {
          py::gil_scoped_release r;
          flow = AlignBlockMatching(a, b, o);
        }
        return FromFlow(flow);
      },
      py::arg("ref"), py::arg("alt"), py::arg("lk") = AlignOptions().lk_iterations,
      "Flow (H, W, 2) with ref(x) ~ alt(x + flow(x)): HDR+ block matching, then lk "
      "Lucas-Kanade iterations per tile (0: off; the command line's --lk).");
  m.def(
      "resample",
      [](const py::array& image, const py::array& flow, const Model* model,
         const std::string& method) {
        const ResampleMethod how = ParseResampleMethod(method);
        RequireModelOnlyForBlade(how, model != nullptr);
        std::shared_ptr<const Model> shipped;  // the CLI's default, when BLADE has none given
        if (model == nullptr && how == ResampleMethod::kBlade)
          shipped = LoadShippedModel(DefaultModelName(Application::kResample));
        Image in = ToInputImage(image), out;
        const Flow f = ToFlow(flow);
        {
          py::gil_scoped_release r;
          out = Resample(in, f, how, model ? model : shipped.get());
        }
        return FromImage(std::move(out));
      },
      py::arg("image"), py::arg("flow"), py::arg("model") = nullptr, py::arg("method") = "blade",
      "out(x) = image(x + flow(x)) by a BLADE resampling model (default: the shipped resample3) "
      "or 'bicubic', 'bilinear', 'lanczos'.");
}

}  // namespace blade::python
