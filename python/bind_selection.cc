// The Python bindings of selection features and adaptive filtering (blade/selection.h, filter.h).
#include "blade/filter.h"
#include "blade/selection.h"
#include "convert.h"

namespace blade::python {

void BindSelection(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  m.def(
      "features",
      [](const py::array& image, double rho, bool joint_color) {
        Image im = ToInputImage(image);
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
}

}  // namespace blade::python
