// The Python bindings of least squares in pieces, which blade.distributed spreads over a Dask
// cluster (blade/train.h).
#include "blade/train.h"
#include "convert.h"

namespace blade::python {

void BindTrainPieces(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
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
      py::arg("pde"), py::arg("footprint") = 5, py::arg("bins") = std::vector<int>{}, py::kw_only(),
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
}

}  // namespace blade::python
