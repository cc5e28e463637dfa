// NumPy <-> library conversions and the small helpers the binding files share.
#include "convert.h"

#include <cmath>

#include "blade/metrics.h"
#include "blade/ops.h"

namespace blade::python {

void WarnCaller(const std::string& message) {
  // Level 1 is the Python frame that called in; the module's own frames in blade/__init__.py
  // (the wrapper of every function, write_image) are skipped, so the user's line is named.
  int level = 1;
  py::object frame =
      py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(PyEval_GetFrame()));
  while (frame && !frame.is_none()) {
    const std::string file = py::str(frame.attr("f_code").attr("co_filename"));
    const std::string own = "/blade/__init__.py";
    if (file.size() < own.size() || file.compare(file.size() - own.size(), own.size(), own) != 0)
      break;
    ++level;
    frame = frame.attr("f_back");
  }
  if (PyErr_WarnEx(PyExc_UserWarning, message.c_str(), level) < 0) throw py::error_already_set();
}

std::string ShapeAndDtype(const py::array& a) {
  std::string shape = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) shape += StrCat(d ? ", " : "", a.shape(d));
  if (a.ndim() == 1) shape += ",";
  return shape + ") " + std::string(py::str(a.dtype()));
}

// (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array -> planar Image (one copy), by scikit-image's
// img_as_float rule.
Image ToImage(const py::array& input, const char* what) {
  const char kind = input.dtype().kind();
  if (kind == 'i' || kind == 'b')
    throw Error(StrCat(what, " has dtype ", std::string(py::str(input.dtype())),
                       kind == 'b' ? ": boolean arrays are not images"
                                   : ": signed integer images are ambiguous (no fixed range)",
                       "; pass floats in [0, 1] or an unsigned integer type (uint8, uint16)"));
  if (kind != 'u' && kind != 'f')
    throw Error(StrCat(what, " must be a numeric array (unsigned integer or float), got ",
                       ShapeAndDtype(input)));
  // img_as_float divides uint32 by 2^32 - 1, which turns the 8- or 16-bit values such arrays
  // usually hold into black; the file readers have no 32-bit integer format either.
  if (kind == 'u' && input.dtype().itemsize() > 2)
    throw Error(StrCat(what, " has dtype ", std::string(py::str(input.dtype())),
                       ": 32- and 64-bit integer images are not read (divided by their type's "
                       "maximum they would be black); pass uint8, uint16 or floats in [0, 1]"));
  // As the image readers: (H, W, 1) is gray, and (H, W, 4)'s alpha is dropped with a warning.
  const py::ssize_t stored = input.ndim() == 3 ? input.shape(2) : 1;
  const bool channels_ok =
      input.ndim() == 2 || (input.ndim() == 3 && (stored == 1 || stored == 3 || stored == 4));
  if (!channels_ok)
    throw Error(StrCat(what, ": expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got ",
                       ShapeAndDtype(input)));
  if (stored == 4)
    WarnCaller(StrCat(what, " has an alpha channel ", ShapeAndDtype(input),
                      "; it was dropped, and the result has none"));
  // Unsigned integers map [0, max of the type] to [0, 1] (uint8 / 255, uint16 / 65535), as
  // skimage.util.img_as_float does; the values are exact in float32 up to 2^24.
  const double max = kind == 'u' ? std::ldexp(1.0, 8 * int(input.dtype().itemsize())) - 1 : 1.0;
  FloatArray a = FloatArray::ensure(input);
  if (!a) throw Error(StrCat(what, " could not be converted to float32: ", ShapeAndDtype(input)));
  auto value = [max, unsigned_ = kind == 'u'](float v) {
    return unsigned_ ? float(double(v) / max) : v;
  };
  const int h = int(a.shape(0)), w = int(a.shape(1)), channels = stored == 1 ? 1 : 3;
  Image im(w, h, channels);
  const float* src = a.data();
  for (int c = 0; c < channels; ++c) {
    float* dst = im.plane(c);
    for (std::size_t i = 0; i < im.plane_size(); ++i) dst[i] = value(src[stored * i + c]);
  }
  return im;
}

Image ToInputImage(const py::array& input, const char* what) {
  Image im = ToImage(input, what);
  if (const std::string w = IntensityRangeWarning(im); !w.empty())
    WarnCaller(StrCat(what, " has ", w));
  return im;
}

// Image -> C-contiguous array: a gray image hands over the library's buffer (no copy); a color
// one is interleaved into (h, w, 3), since NumPy users (OpenCV, PIL, scikit-image) expect
// C-contiguous arrays and the library's planes would make a strided view.
py::array FromImage(Image&& image) {
  if (image.channels() != 1) return FromImageContiguous(image);
  auto* owned = new Image(std::move(image));
  py::capsule free_when_done(owned, [](void* p) { delete static_cast<Image*>(p); });
  const py::ssize_t w = owned->width(), h = owned->height(), f = sizeof(float);
  return py::array_t<float>({h, w}, {w * f, f}, owned->data(), free_when_done);
}

py::array FromImageContiguous(const Image& image) {
  const py::ssize_t w = image.width(), h = image.height();
  if (image.channels() == 1) {
    py::array_t<float> out({h, w});
    std::copy_n(image.data(), image.size(), out.mutable_data());
    return out;
  }
  py::array_t<float> out({h, w, py::ssize_t(3)});
  float* dst = out.mutable_data();
  for (int c = 0; c < 3; ++c) {
    const float* src = image.plane(c);
    for (std::size_t i = 0; i < image.plane_size(); ++i) dst[3 * i + c] = src[i];
  }
  return out;
}

std::shared_ptr<const Model> ModelOrShipped(const Model* given, Application app) {
  if (given != nullptr) return std::shared_ptr<const Model>(std::shared_ptr<const Model>(), given);
  py::gil_scoped_release r;
  return LoadShippedModel(DefaultModelName(app));
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
