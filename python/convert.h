// Shared by the binding files of the Python module: NumPy <-> library conversions and small
// helpers, and one Bind function per public header.
#pragma once

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/model.h"
#include "blade/pde.h"
#include "blade/preset.h"
#include "blade/selection.h"
#include "blade/train.h"

namespace blade::python {

namespace py = pybind11;

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// (H, W), (H, W, 1) or (H, W, 3) array -> planar Image (one copy; (H, W, 4): alpha dropped with a
// UserWarning, as the image readers do), by scikit-image's img_as_float rule:
// unsigned integers scaled by their type's maximum (uint8 / 255, uint16 / 65535), floats as they
// are, signed integer and boolean arrays refused. Errors give the shape and dtype received.
Image ToImage(const py::array& input, const char* what = "image");
// ToImage for an image an operation processes (not a metric's operand or a file to write): also
// warns (UserWarning) when its values lie far outside [0, 1] (IntensityRangeWarning).
Image ToInputImage(const py::array& input, const char* what = "image");
// A UserWarning pointing at the user's line (past the module's wrapper); raises when the
// warnings filter turns it into an error.
void WarnCaller(const std::string& message);
// "(480, 640, 4) uint8", for messages (never the array's values).
std::string ShapeAndDtype(const py::array& a);
// Image -> C-contiguous array: gray hands over the library's buffer, color is interleaved.
py::array FromImage(Image&& image);
// Image -> C-contiguous (H, W) or interleaved (H, W, 3) float32 array (one copy).
py::array FromImageContiguous(const Image& image);
// The model an application call runs: `given`, or for None the shipped default for `app`
// (DefaultModelName; loaded without the GIL). Holds the shipped model alive; `given` not owned.
std::shared_ptr<const Model> ModelOrShipped(const Model* given, Application app);
// (H, W, 2) array <-> Flow.
Flow ToFlow(const py::array& input);
py::array FromFlow(const Flow& flow);
// Selections and scores as dicts.
py::dict SelectionDict(const SelectionConfig& s);
py::dict ScoreDict(const Score& s);
// A selection with the given bin counts, or the preset's when `bins` is empty, and the preset's
// rho; thresholds are left to the caller.
SelectionConfig SelectionWithBins(const Preset& preset, const std::vector<int>& bins);
// The reference cache a `cache` argument names: "default" = DefaultCacheDir(), "" = none.
std::string CacheDir(const std::string& cache);
// The protocol's reference sequences of image files (computed, or read from the cache).
std::vector<Sequence> Sequences(const Preset& preset, const std::vector<std::string>& files,
                                const std::string& cache);
// The preset a model names, and one of its banks (range-checked).
const Preset& PresetOf(const Model& model);
const Bank& BankOf(const Model& m, int bank);

// The bindings of each public header (one file each, python/bind_*.cc).
void BindIoOpsMetrics(py::module_& m);
void BindPde(py::module_& m);
void BindSelection(py::module_& m);
void BindModel(py::module_& m);
void BindTrain(py::module_& m);
void BindTrainPieces(py::module_& m);
void BindEval(py::module_& m);
void BindApps(py::module_& m);

}  // namespace blade::python
