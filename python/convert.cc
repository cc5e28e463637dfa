// NumPy <-> library conversions and the small helpers the binding files share.
#include "convert.h"

#include "blade/metrics.h"
#include "blade/ops.h"

namespace blade::python {

// (H, W) or (H, W, 3) array -> planar Image (one copy).
Image ToImage(const py::array& input, const char* what) {
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

}  // namespace blade::python
