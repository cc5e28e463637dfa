// The Python module `blade._blade`: NumPy arrays in and out of the library, GIL released while it
// computes.
//
// Conventions (also in blade/__init__.pyi):
// - Images are NumPy float32 arrays, (H, W) gray or (H, W, 3) color, nominal range [0, 1].
//   Inputs of any numeric dtype and layout are accepted and converted (one copy into the
//   library's planar layout). Outputs are C-contiguous: gray (H, W) hands over the library's
//   buffer without a copy, color is interleaved into (H, W, 3) once.
// - Library errors raise blade.Error (a ValueError and a RuntimeError) with the library's message;
// a run that
//   goes non-finite raises blade.DivergedError (a blade.Error) naming the step.
// - Threads: the library's pool (blade.set_threads); results do not depend on the count.
#include <thread>

#include "blade/parallel.h"
#include "convert.h"

namespace blade::python {

PYBIND11_MODULE(_blade, m) {
  m.doc() = "blade: image PDEs solved with BLADE, a shallow learned adaptive-filter network";
  m.attr("__version__") = BLADE_VERSION;
  KeepFreedImageMemory();
  // A ValueError too, as scikit-image and NumPy raise for a bad value, shape or dtype (most of
  // blade's errors), and still a RuntimeError, as it was first.
  static py::exception<Error> error(
      m, "Error",
      py::make_tuple(py::handle(PyExc_ValueError), py::handle(PyExc_RuntimeError)).release().ptr());
  static py::exception<DivergedError> diverged(m, "DivergedError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const DivergedError& e) {
      diverged(e.what());
    } catch (const NotFoundError& e) {
      // Python's own exception for a missing file, as open() and imageio raise.
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const Error& e) {
      error(e.what());
    }
  });
  // Ctrl-C in a long run (a notebook's interrupt button): the library polls between steps, and
  // Python's pending signal handlers run here, raising KeyboardInterrupt out of the call.
  // Only the thread that imported the module (the main thread, where Python runs signal
  // handlers) checks; others would take the GIL for nothing. Never while the interpreter shuts
  // down: taking the GIL then ends the thread, and unwinding into the binding's GIL release
  // would terminate the process.
  SetInterruptCheck([main = std::this_thread::get_id()] {
    if (std::this_thread::get_id() != main || _Py_IsFinalizing()) return;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  });
  BindIoOpsMetrics(m);
  BindPde(m);
  BindSelection(m);
  BindModel(m);
  BindTrain(m);
  BindTrainPieces(m);
  BindEval(m);
  BindApps(m);
}

}  // namespace blade::python
