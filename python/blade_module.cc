// The Python module `blade._blade`: NumPy arrays in and out of the library, GIL released while it
// computes.
//
// Conventions (also in blade/__init__.pyi):
// - Images are NumPy float32 arrays, (H, W) gray or (H, W, 3) color, nominal range [0, 1].
//   Inputs of any numeric dtype and layout are accepted and converted (one copy into the
//   library's planar layout). Outputs are zero-copy views of the library's buffers: gray is a
//   C-contiguous (H, W) array, color an (H, W, 3) view of the three planes (strides W*4, 4, H*W*4).
// - Library errors raise blade.Error (a RuntimeError) with the library's message; a run that
//   goes non-finite raises blade.DivergedError (a blade.Error) naming the step.
// - Threads: the library's pool (blade.set_threads); results do not depend on the count.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/metrics.h"
#include "blade/model.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/pde.h"
#include "blade/preset.h"
#include "blade/resample.h"
#include "blade/restore.h"
#include "blade/selection.h"
#include "blade/train.h"

namespace py = pybind11;

namespace blade::python {
namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// (H, W) or (H, W, 3) array -> planar Image (one copy).
Image ToImage(const py::array& input, const char* what = "image") {
  FloatArray a = FloatArray::ensure(input);
  if (!a) throw Error(StrCat(what, " must be a numeric array"));
  if (a.ndim() == 2) {
    Image im(int(a.shape(1)), int(a.shape(0)), 1);
    std::copy_n(a.data(), im.size(), im.data());
    return im;
  }
  if (a.ndim() == 3 && a.shape(2) == 3) {
    const int h = int(a.shape(0)), w = int(a.shape(1));
    Image im(w, h, 3);
    const float* src = a.data();
    for (int c = 0; c < 3; ++c) {
      float* dst = im.plane(c);
      for (std::size_t i = 0; i < im.plane_size(); ++i) dst[i] = src[3 * i + c];
    }
    return im;
  }
  throw Error(StrCat(what, " must have shape (H, W) or (H, W, 3), got ndim ", a.ndim()));
}

// Image -> array owning the library's buffer (no copy).
py::array FromImage(Image&& image) {
  auto* owned = new Image(std::move(image));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<Image*>(p); });
  const py::ssize_t w = owned->width(), h = owned->height(), f = sizeof(float);
  if (owned->channels() == 1)
    return py::array_t<float>({h, w}, {w * f, f}, owned->data(), free_when_done);
  return py::array_t<float>({h, w, py::ssize_t(3)}, {w * f, f, w * h * f}, owned->data(),
                            free_when_done);
}

Flow ToFlow(const py::array& input) {
  FloatArray a = FloatArray::ensure(input);
  if (!a || a.ndim() != 3 || a.shape(2) != 2) throw Error("flow must have shape (H, W, 2)");
  Flow flow(int(a.shape(1)), int(a.shape(0)));
  for (std::size_t i = 0; i < flow.u.size(); ++i) {
    flow.u[i] = a.data()[2 * i];
    flow.v[i] = a.data()[2 * i + 1];
  }
  return flow;
}

py::array FromFlow(const Flow& flow) {
  py::array_t<float> out({py::ssize_t(flow.height), py::ssize_t(flow.width), py::ssize_t(2)});
  float* d = out.mutable_data();
  for (std::size_t i = 0; i < flow.u.size(); ++i) {
    d[2 * i] = flow.u[i];
    d[2 * i + 1] = flow.v[i];
  }
  return out;
}

PdeParams ParamsFor(Pde pde, const std::map<std::string, double>& overrides,
                    const PdeParams& base) {
  PdeParams p = base;
  for (const auto& [k, v] : overrides) p.Set(pde, k, v);
  return p;
}

py::dict SelectionDict(const SelectionConfig& s) {
  py::dict d;
  d["orientations"] = s.orientations;
  d["strengths"] = s.strengths;
  d["coherences"] = s.coherences;
  d["intensities"] = s.intensities;
  d["rho"] = s.rho;
  d["joint_color"] = s.joint_color;
  d["strength_thresholds"] = s.strength_thresholds;
  d["coherence_thresholds"] = s.coherence_thresholds;
  d["intensity_thresholds"] = s.intensity_thresholds;
  return d;
}

py::dict ScoreDict(const Score& s) {
  py::dict d;
  d["psnr"] = s.psnr;
  d["ssim"] = s.ssim;
  d["seconds"] = s.seconds;
  d["diverged"] = s.diverged;
  return d;
}

// A selection with the given bin counts (orientation, strength, coherence[, intensity]), or the
// preset's when `bins` is empty, and the preset's rho; thresholds are left to the caller.
SelectionConfig SelectionWithBins(const Preset& preset, const std::vector<int>& bins) {
  SelectionConfig s;
  s.rho = preset.selection_rho;
  s.SetBins(bins.empty() ? preset.selection_bins : bins);
  return s;
}

// The reference cache a `cache` argument names: "default" = DefaultCacheDir(), "" = none.
std::string CacheDir(const std::string& cache) {
  return cache == "default" ? DefaultCacheDir() : cache;
}

// The protocol's reference sequences of image files (computed, or read from the cache).
std::vector<Sequence> Sequences(const Preset& preset, const std::vector<std::string>& files,
                                const std::string& cache) {
  return LoadTrainingSequences(preset, files, CacheDir(cache));
}

const Preset& PresetOf(const Model& model) {
  if (model.preset.empty()) throw Error("the model names no preset");
  return FindPreset(model.preset);
}

const Bank& BankOf(const Model& m, int bank) {
  if (bank < 0 || bank >= int(m.banks.size()))
    throw Error(StrCat("bank ", bank, " out of range: the model has ", m.banks.size()));
  return m.banks[bank];
}

}  // namespace

PYBIND11_MODULE(_blade, m) {
  m.doc() = "blade: image PDEs solved with BLADE, a shallow learned adaptive-filter network";
  KeepFreedImageMemory();
  static py::exception<Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<DivergedError> diverged(m, "DivergedError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const DivergedError& e) {
      diverged(e.what());
    } catch (const Error& e) {
      error(e.what());
    }
  });
  using release = py::call_guard<py::gil_scoped_release>;

  // ---- threads, I/O, basic operations, metrics
  m.def("set_threads", &SetNumThreads, py::arg("n"), "Worker threads (0 = all cores).");
  m.def("threads", &NumThreads, "Current number of worker threads.");
  m.def(
      "read_image",
      [](const std::string& path) {
        Image im;
        {
          py::gil_scoped_release r;
          im = ReadImage(path);
        }
        return FromImage(std::move(im));
      },
      py::arg("path"), "Reads PNG, JPEG, TIFF (8/16-bit, float) or .npy as float32 in [0, 1].");
  m.def(
      "write_image",
      [](const py::array& image, const std::string& path) {
        Image im = ToImage(image);
        py::gil_scoped_release r;
        WriteImage(im, path);
      },
      py::arg("image"), py::arg("path"),
      "Writes an image atomically; the format follows the extension (.png .jpg .tif .npy).");
  m.def(
      "to_luma", [](const py::array& image) { return FromImage(ToLuma(ToImage(image))); },
      py::arg("image"), "BT.601 luma of a color image (a gray image is returned as is).");
  m.def(
      "gaussian_blur",
      [](const py::array& image, double sigma) {
        Image im = ToImage(image), out;
        {
          py::gil_scoped_release r;
          out = GaussianBlur(im, sigma);
        }
        return FromImage(std::move(out));
      },
      py::arg("image"), py::arg("sigma"), "Gaussian blur, half-sample symmetric borders.");
  m.def(
      "psnr",
      [](const py::array& a, const py::array& b, double peak) {
        Image x = ToImage(a, "a"), y = ToImage(b, "b");
        py::gil_scoped_release r;
        return Psnr(x, y, peak);
      },
      py::arg("a"), py::arg("b"), py::arg("peak") = 1.0, "PSNR in dB (no clipping).");
  m.def(
      "ssim",
      [](const py::array& a, const py::array& b, double data_range) {
        Image x = ToImage(a, "a"), y = ToImage(b, "b");
        py::gil_scoped_release r;
        return Ssim(x, y, data_range);
      },
      py::arg("a"), py::arg("b"), py::arg("data_range") = 1.0,
      "Mean SSIM (Wang 2004, as tf.image.ssim): 11x11 Gaussian window, sigma 1.5, valid "
      "positions.");
  m.def(
      "ssim_gradient",
      [](const py::array& a, const py::array& b, double data_range) {
        Image x = ToImage(a, "a"), y = ToImage(b, "b"), g;
        double value;
        {
          py::gil_scoped_release r;
          value = SsimGradient(x, y, &g, data_range);
        }
        return py::make_tuple(value, FromImage(std::move(g)));
      },
      py::arg("a"), py::arg("b"), py::arg("data_range") = 1.0,
      "(mean SSIM, its gradient with respect to every pixel of a): the SSIM training loss's.");

  // ---- classical reference solvers and presets
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
      [](const py::array& image, const std::string& pde_name, double time, int steps, double dt,
         double dx, const std::map<std::string, double>& params) {
        const Pde pde = ParsePde(pde_name);
        const Preset& preset = DefaultPreset(pde);
        Image u0 = ToImage(image);
        SolveOptions o;
        o.time = time > 0 ? time : preset.time;
        o.steps = steps;
        o.dt = dt;
        o.dx = dx;
        Image u;
        {
          py::gil_scoped_release r;
          u = Solve(pde, ParamsFor(pde, params, preset.params), u0, o).u;
        }
        return FromImage(std::move(u));
      },
      py::arg("image"), py::arg("pde"), py::arg("time") = 0.0, py::arg("steps") = 0,
      py::arg("dt") = 0.0, py::arg("dx") = 1.0, py::arg("params") = std::map<std::string, double>{},
      "Runs a classical reference scheme ('tv', 'pm', 'ced', 'ch') to `time` (default: the "
      "preset's T) with the largest stable step, `steps` equal steps, or `dt`.");

  // ---- selection and filtering
  m.def(
      "features",
      [](const py::array& image, double rho, bool joint_color) {
        Image im = ToImage(image);
        Features f;
        {
          py::gil_scoped_release r;
          f = ComputeFeatures(im, rho, joint_color);
        }
        py::dict d;
        d["orientation"] = FromImage(std::move(f.orientation));
        d["strength"] = FromImage(std::move(f.strength));
        d["coherence"] = FromImage(std::move(f.coherence));
        return d;
      },
      py::arg("image"), py::arg("rho") = 1.0, py::arg("joint_color") = false,
      "Structure-tensor orientation [0, pi), strength sqrt(l1), coherence per pixel.");
  m.def(
      "apply_filters",
      [](const py::array& image, const py::array& filters, const py::array& selection) {
        Image z = ToImage(image);
        FloatArray f = FloatArray::ensure(filters);
        auto sel =
            py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>::ensure(selection);
        if (!f || f.ndim() != 3 || f.shape(1) != f.shape(2))
          throw Error("filters must have shape (count, size, size)");
        if (!sel || sel.ndim() != 2 || sel.shape(0) != z.height() || sel.shape(1) != z.width())
          throw Error("selection must be an (H, W) integer array matching the image");
        FilterBank bank(int(f.shape(0)), int(f.shape(1)));
        bank.taps.assign(f.data(), f.data() + f.size());
        bank.Validate();
        std::vector<std::int32_t> s(sel.data(), sel.data() + sel.size());
        for (std::int32_t k : s)
          if (k < 0 || k >= bank.count) throw Error(StrCat("selection index ", k, " out of range"));
        Image out;
        {
          py::gil_scoped_release r;
          out = ApplyFilters(bank, s, z);
        }
        return FromImage(std::move(out));
      },
      py::arg("image"), py::arg("filters"), py::arg("selection"),
      "out[y, x] = sum_ij filters[sel[y, x], i, j] * image[y + i - r, x + j - r] (replicated "
      "borders; every channel).");

  // ---- models
  py::class_<Model>(m, "Model", "A trained BLADE model (direct, flux or resampling form).")
      .def(py::pickle([](const Model& self) { return SerializeModel(self); },
                      [](const std::string& text) { return ParseModel(text, "pickled model"); }))
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release r;
            return LoadModel(path);
          },
          py::arg("path"))
      .def(
          "save", [](const Model& self, const std::string& path) { SaveModel(self, path); },
          py::arg("path"), "Writes the model file atomically.")
      .def_property_readonly("form", [](const Model& self) { return FormName(self.form); })
      .def_property_readonly("pde", [](const Model& self) { return self.pde; })
      .def_property_readonly("preset", [](const Model& self) { return self.preset; })
      .def_property_readonly("dt", [](const Model& self) { return self.dt; })
      .def_property_readonly("steps", [](const Model& self) { return self.steps; })
      .def_property_readonly("integrator",
                             [](const Model& self) { return IntegratorName(self.integrator); })
      .def_property_readonly("safe_steps", [](const Model& self) { return self.safe_steps; })
      .def_property_readonly("provenance", [](const Model& self) { return self.provenance; })
      .def_property_readonly("num_banks", [](const Model& self) { return int(self.banks.size()); })
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
          },
          py::arg("filters"), py::arg("bank") = 0)
      .def(
          "select",
          [](const Model& self, const py::array& image, int bank) {
            Image im = ToImage(image);
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
          py::arg("image"), py::arg("bank") = 0, "The filter index of every pixel, (H, W) int32.")
      .def(
          "rhs",
          [](const Model& self, const py::array& image) {
            Image u = ToImage(image), out;
            {
              py::gil_scoped_release r;
              out = EvaluateRhs(self, u);
            }
            return FromImage(std::move(out));
          },
          py::arg("image"), "BLADE(u): the model's estimate of du/dt.")
      .def(
          "run",
          [](const Model& self, const py::array& image, int steps, double dt,
             const std::string& integrator, bool unsafe) {
            Image u0 = ToImage(image), out;
            RunOptions o;
            o.steps = steps;
            o.dt = dt;
            if (!integrator.empty()) o.integrator = ParseIntegrator(integrator);
            o.unsafe = unsafe;
            {
              py::gil_scoped_release r;
              out = RunModel(self, u0, o);
            }
            return FromImage(std::move(out));
          },
          py::arg("image"), py::arg("steps") = 0, py::arg("dt") = 0.0, py::arg("integrator") = "",
          py::arg("unsafe") = false,
          "Runs `steps` steps (default: the model's 10) of size dt (default: the model's) with "
          "the model's integrator unless `integrator` is given; gray or color (selection on "
          "luma, every channel filtered). A run past the model's measured stability horizon "
          "(Model.safe_steps) raises blade.Error unless unsafe=True.");

  // ---- training and evaluation
  m.def(
      "train",
      [](const std::string& pde_name, const std::vector<std::string>& images,
         const std::string& form, std::optional<int> epochs, std::optional<std::string> optimizer,
         std::optional<double> learning_rate, std::optional<int> footprint,
         std::optional<std::vector<int>> bins, std::optional<double> rho,
         std::optional<double> ridge, std::optional<std::uint64_t> seed,
         std::optional<int> patience, std::optional<int> batch, std::optional<int> crop,
         std::optional<int> cg_iterations, std::optional<std::string> constraint,
         std::optional<std::string> integrator, std::optional<double> ssim_weight,
         std::optional<bool> augment_least_squares, std::optional<int> stability_steps,
         std::optional<double> stability_margin, const std::string& cache) {
        const Preset& preset = DefaultPreset(ParsePde(pde_name));
        // The documented recipe, then what the caller gave (as `blade train` does).
        TrainOptions o = RecommendedTrainOptions(preset, ParseForm(form));
        if (epochs) o.epochs = *epochs;
        if (optimizer) o.optimizer = *optimizer;
        if (learning_rate) o.learning_rate = *learning_rate;
        if (footprint) o.footprint = *footprint;
        if (bins) o.selection.SetBins(*bins);
        if (rho) o.selection.rho = *rho;
        if (ridge) o.ridge = *ridge;
        if (seed) o.seed = *seed;
        if (patience) o.patience = *patience;
        if (batch) o.batch = *batch;
        if (crop) o.crop = *crop;
        if (cg_iterations) o.cg_iterations = *cg_iterations;
        if (constraint) o.constraint = *constraint;
        if (integrator) o.integrator = ParseIntegrator(*integrator);
        if (ssim_weight) o.ssim_weight = *ssim_weight;
        if (augment_least_squares) o.augment_least_squares = *augment_least_squares;
        if (stability_steps) o.stability_steps = *stability_steps;
        if (stability_margin) o.stability_margin = *stability_margin;
        o.Validate();
        if (images.empty()) throw Error("train needs at least one image");
        py::gil_scoped_release r;
        Model model =
            TrainModel(preset, LoadTrainingSequences(preset, images, CacheDir(cache)), o, nullptr);
        model.provenance["data"] = StrCat(images.size(), " images (Python blade.train)");
        return model;
      },
      py::arg("pde"), py::arg("images"), py::arg("form") = "direct", py::kw_only(),
      py::arg("epochs") = py::none(), py::arg("optimizer") = py::none(),
      py::arg("learning_rate") = py::none(), py::arg("footprint") = py::none(),
      py::arg("bins") = py::none(), py::arg("rho") = py::none(), py::arg("ridge") = py::none(),
      py::arg("seed") = py::none(), py::arg("patience") = py::none(), py::arg("batch") = py::none(),
      py::arg("crop") = py::none(), py::arg("cg_iterations") = py::none(),
      py::arg("constraint") = py::none(), py::arg("integrator") = py::none(),
      py::arg("ssim_weight") = py::none(), py::arg("augment_least_squares") = py::none(),
      py::arg("stability_steps") = py::none(), py::arg("stability_margin") = py::none(),
      py::arg("cache") = "default",
      "Trains a model for a PDE's preset from image files (their 4x-reference sequences are "
      "computed or read from `cache`; '' = no cache). Options left as None follow the "
      "documented best recipe for the PDE and form (RecommendedTrainOptions, as `blade train`): "
      "the same request gives the same model from both. epochs=0: least squares only; "
      "ssim_weight w: fine-tuning loss (1 - w) MSE + w (1 - SSIM) per frame.");
  m.def(
      "evaluate",
      [](const Model& model, const std::vector<std::string>& images, const std::string& cache) {
        if (model.preset.empty()) throw Error("the model names no preset to evaluate against");
        const Preset& preset = FindPreset(model.preset);
        py::list rows;
        for (const std::string& f : images) {
          BaselineRow row;
          {
            py::gil_scoped_release r;
            row = EvaluateImage(preset, LoadHrLuma(f, preset.scale),
                                std::filesystem::path(f).filename().string(), &model,
                                CacheDir(cache));
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
      py::arg("model"), py::arg("images"), py::arg("cache") = "default",
      "The kodak4x protocol per image: BLADE, identity, classical-LR-10, classical-LR scores.");

  m.def(
      "evaluate_app",
      [](const std::string& app, const Model& model, const std::vector<std::string>& images,
         bool color, std::optional<int> iterations, std::optional<double> mu,
         const std::string& integrator) {
        AppEvalOptions o;
        o.color = color;
        if (iterations) o.iterations = *iterations;
        if (mu) o.mu = *mu;
        o.integrator = ParseIntegrator(integrator);
        std::string json;
        {
          py::gil_scoped_release r;
          json = AppEvaluationJson(EvaluateApp(app, model, images, o));
        }
        return py::module_::import("json").attr("loads")(json);
      },
      py::arg("app"), py::arg("model"), py::arg("images"), py::kw_only(), py::arg("color") = false,
      py::arg("iterations") = py::none(), py::arg("mu") = py::none(),
      py::arg("integrator") = "euler",
      "An application's protocol over image files, as `blade eval-app` (same numbers): app is "
      "'deconv', 'upscale' or 'segment'. Returns {'app', 'mode', 'images', 'settings', 'rows' "
      "(means per method), 'per_image'}.");

  // ---- least squares in pieces (blade.distributed spreads these over a Dask cluster)
  m.def(
      "empty_model",
      [](const std::string& pde_name, int footprint, std::vector<int> bins,
         const std::vector<float>& strength_thresholds,
         const std::vector<float>& coherence_thresholds) {
        const Preset& preset = DefaultPreset(ParsePde(pde_name));
        SelectionConfig s = SelectionWithBins(preset, bins);
        if (s.intensities > 1)
          throw Error(
              "empty_model takes no intensity thresholds: pass bins=[orientations, strengths, "
              "coherences]");
        s.strength_thresholds = strength_thresholds;
        s.coherence_thresholds = coherence_thresholds;
        Model model = MakeEmptyModel(ModelForm::kDirect, s, footprint);
        model.dt = preset.dt();
        model.steps = preset.frames;
        model.pde = PdeName(preset.pde);
        model.preset = preset.name;
        model.pde_params = preset.params.ToMap(preset.pde);
        return model;
      },
      py::arg("pde"), py::arg("footprint") = 5, py::arg("bins") = std::vector<int>{},
      py::arg("strength_thresholds"), py::arg("coherence_thresholds"),
      "A direct model of the PDE's preset with zero filters and the given selection thresholds.");
  m.def(
      "selection_features",
      [](const std::string& pde_name, const std::vector<std::string>& images, double rho,
         const std::string& cache) {
        const Preset& preset = DefaultPreset(ParsePde(pde_name));
        std::vector<float> strength, coherence;
        {
          py::gil_scoped_release r;
          for (const Sequence& s : Sequences(preset, images, cache))
            for (std::size_t k = 0; k + 1 < s.size(); ++k) {
              const Features f = ComputeFeatures(s[k], rho > 0 ? rho : preset.selection_rho);
              strength.insert(strength.end(), f.strength.data(),
                              f.strength.data() + f.strength.size());
              coherence.insert(coherence.end(), f.coherence.data(),
                               f.coherence.data() + f.coherence.size());
            }
        }
        return py::make_tuple(py::array_t<float>(strength.size(), strength.data()),
                              py::array_t<float>(coherence.size(), coherence.data()));
      },
      py::arg("pde"), py::arg("images"), py::arg("rho") = 0.0, py::arg("cache") = "default",
      "(strength, coherence) values of every training frame (all but the last of each "
      "reference sequence): the data selection thresholds are quantiles of.");
  m.def(
      "quantile_thresholds",
      [](const py::array& values, int bins) {
        FloatArray v = FloatArray::ensure(values);
        if (!v) throw Error("values must be numeric");
        return QuantileThresholds(std::vector<float>(v.data(), v.data() + v.size()), bins);
      },
      py::arg("values"), py::arg("bins"), "Equal-population thresholds: the (k / bins)-quantiles.");
  m.def(
      "accumulate_normal_equations",
      [](const Model& model, const std::vector<std::string>& images, const std::string& cache) {
        NormalEquations ne;
        {
          py::gil_scoped_release r;
          ne = AccumulateNormalEquations(model, Sequences(PresetOf(model), images, cache));
        }
        const py::ssize_t k = ne.filters, n = ne.taps;
        py::dict d;
        d["a"] = py::array_t<double>({k, n, n}, ne.a.data());
        d["b"] = py::array_t<double>({k, n}, ne.b.data());
        d["count"] = py::array_t<long>(k, ne.count.data());
        return d;
      },
      py::arg("model"), py::arg("images"), py::arg("cache") = "default",
      "The direct form's normal equations over these images: {'a': (K, n, n), 'b': (K, n), "
      "'count': (K,)}; sums over shards add up to the whole.");
  m.def(
      "solve_normal_equations",
      [](Model& model, const py::array& a, const py::array& b, const py::array& count,
         double ridge) {
        auto A = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
        auto B = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(b);
        auto C = py::array_t<long, py::array::c_style | py::array::forcecast>::ensure(count);
        if (!A || !B || !C || A.ndim() != 3 || B.ndim() != 2 || C.ndim() != 1)
          throw Error("normal equations must be a (K, n, n), b (K, n), count (K,)");
        NormalEquations ne(int(A.shape(0)), int(A.shape(1)));
        if (A.size() != py::ssize_t(ne.a.size()) || B.size() != py::ssize_t(ne.b.size()) ||
            C.size() != ne.filters)
          throw Error("normal equation arrays of inconsistent shapes");
        std::copy_n(A.data(), ne.a.size(), ne.a.begin());
        std::copy_n(B.data(), ne.b.size(), ne.b.begin());
        std::copy_n(C.data(), ne.count.size(), ne.count.begin());
        TrainOptions o;
        o.ridge = ridge;
        py::gil_scoped_release r;
        return SolveNormalEquations(model, ne, o);
      },
      py::arg("model"), py::arg("a"), py::arg("b"), py::arg("count"), py::arg("ridge") = 1e-3,
      "Solves the summed normal equations into the model's filters; returns the fallback count.");
  m.def(
      "fit_least_squares",
      [](Model& model, const std::vector<std::string>& images, double ridge,
         const std::string& cache) {
        TrainOptions o;
        o.ridge = ridge;
        py::gil_scoped_release r;
        return FitLeastSquares(model, Sequences(PresetOf(model), images, cache), o);
      },
      py::arg("model"), py::arg("images"), py::arg("ridge") = 1e-3, py::arg("cache") = "default",
      "Single-process least squares over these images (the reference for the distributed fit).");

  m.def(
      "rollout_loss_gradient",
      [](const Model& model, const std::vector<std::string>& images, const std::string& cache,
         double ssim_weight) {
        double loss = 0;
        std::vector<std::vector<double>> g;
        bool finite;
        {
          py::gil_scoped_release r;
          finite = RolloutLossGradientSum(model, Sequences(PresetOf(model), images, cache),
                                          model.integrator, &loss, &g, ssim_weight);
        }
        if (!finite) throw Error("a training rollout went non-finite with these filters");
        py::list grads;
        for (std::size_t b = 0; b < g.size(); ++b) {
          const FilterBank& f = model.banks[b].filters;
          grads.append(py::array_t<double>(
              {py::ssize_t(f.count), py::ssize_t(f.size), py::ssize_t(f.size)}, g[b].data()));
        }
        return py::make_tuple(loss, grads, images.size());
      },
      py::arg("model"), py::arg("images"), py::arg("cache") = "default",
      py::arg("ssim_weight") = 0.0,
      "(sum of the images' 10-step losses, [sum of their gradients per bank, shaped like "
      "filters()], number of images): fine-tuning's sums, which add over shards.");
  m.def(
      "rollout_loss",
      [](const Model& model, const std::vector<std::string>& images, const std::string& cache,
         double ssim_weight) {
        py::gil_scoped_release r;
        const std::vector<Sequence> data = Sequences(PresetOf(model), images, cache);
        return RolloutLoss(model, data, model.integrator, ssim_weight) * double(data.size());
      },
      py::arg("model"), py::arg("images"), py::arg("cache") = "default",
      py::arg("ssim_weight") = 0.0,
      "Sum of the images' 10-step losses (mean squared error per pixel and step; with "
      "ssim_weight w, (1 - w) MSE + w (1 - SSIM) per frame).");

  // ---- applications
  m.def(
      "deconvolve",
      [](const Model& model, const py::array& image, double sigma, double lam, int steps) {
        Image f = ToImage(image), out;
        RestoreOptions o;
        o.lambda = lam;
        o.steps = steps;
        {
          py::gil_scoped_release r;
          out = Deconvolve(model, f, sigma, o);
        }
        return FromImage(std::move(out));
      },
      py::arg("model"), py::arg("image"), py::arg("sigma") = kDeconvSigma,
      py::arg("lam") = kDeconvLambda, py::arg("steps") = RestoreOptions().steps,
      "Non-blind Gaussian deconvolution, blur absorbed into the filters (eq. 4.4-4.5).");
  m.def(
      "restore",
      [](const Model& model, const py::array& image, const std::string& op, double lam, int steps) {
        Image f = ToImage(image), out;
        RestoreOptions o;
        o.lambda = lam;
        o.steps = steps;
        LinearOperator A = ParseOperator(op);
        {
          py::gil_scoped_release r;
          out = Restore(model, A, f, o);
        }
        return FromImage(std::move(out));
      },
      py::arg("model"), py::arg("image"), py::arg("op"), py::arg("lam") = kRestoreLambda,
      py::arg("steps") = RestoreOptions().steps,
      "Restoration u += dt (BLADE(u) + lam A^T (f - A u)) with op 'blur:sigma=S' or 'mask:FILE' "
      "(eq. 4.2).");
  m.def(
      "upscale",
      [](const Model& model, const py::array& image, int factor, double psf_sigma, double lam,
         int steps, bool project) {
        Image f = ToImage(image), out;
        RestoreOptions o;
        o.lambda = lam;
        o.steps = steps;
        {
          py::gil_scoped_release r;
          out = project ? UpscaleProjected(model, f, factor, psf_sigma, o)
                        : Upscale(model, f, factor, psf_sigma, o);
        }
        return FromImage(std::move(out));
      },
      py::arg("model"), py::arg("image"), py::arg("factor") = kUpscaleFactor,
      py::arg("psf_sigma") = kUpscalePsfSigma, py::arg("lam") = kUpscaleLambda,
      py::arg("steps") = RestoreOptions().steps, py::arg("project") = false,
      "Upscaling with a BLADE regulariser: eq. 4.6, or eq. 4.7 with project=True.");
  m.def(
      "segment",
      [](const py::array& image, const Model* model, std::optional<double> mu, int iterations) {
        Image f = ToImage(image), mask;
        ChanVeseParams p;
        p.iterations = iterations;
        p.mu = mu ? *mu : model ? kChanVeseMuBlade : kChanVeseMuReference;
        {
          py::gil_scoped_release r;
          mask = SegmentationMask(model ? ChanVeseBlade(f, *model, p) : ChanVeseReference(f, p));
        }
        return FromImage(std::move(mask));
      },
      py::arg("image"), py::arg("model") = nullptr, py::arg("mu") = py::none(),
      py::arg("iterations") = ChanVeseParams().iterations,
      "Chan-Vese (color: Chan-Sandberg-Vese) mask in {0, 1}: with a BLADE TV model (eq. 4.10, "
      "mu 0.04) or, without one, the reference scheme (mu 0.2).");
  m.def(
      "align",
      [](const py::array& ref, const py::array& alt) {
        Image a = ToImage(ref, "ref"), b = ToImage(alt, "alt");
        Flow flow;
        {
          py::gil_scoped_release r;
          flow = AlignBlockMatching(a, b);
        }
        return FromFlow(flow);
      },
      py::arg("ref"), py::arg("alt"), "Flow (H, W, 2) with ref(x) ~ alt(x + flow(x)).");
  m.def(
      "resample",
      [](const py::array& image, const py::array& flow, const Model* model,
         const std::string& method) {
        Image in = ToImage(image), out;
        const Flow f = ToFlow(flow);
        {
          py::gil_scoped_release r;
          out = Resample(in, f, ParseResampleMethod(method), model);
        }
        return FromImage(std::move(out));
      },
      py::arg("image"), py::arg("flow"), py::arg("model") = nullptr, py::arg("method") = "blade",
      "out(x) = image(x + flow(x)) by a BLADE resampling model or 'bicubic', 'bilinear', "
      "'lanczos'.");
}

}  // namespace blade::python
