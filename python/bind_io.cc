// The Python bindings of threads, image files, basic operations and metrics (blade/parallel.h,
// io.h, ops.h, metrics.h).
#include "blade/io.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/restore.h"
#include "convert.h"

namespace blade::python {

namespace {

// The metrics' data range in the library's units (arrays read into [0, 1]), by scikit-image's
// rule for data_range: None is the full range (1); a value given with two arrays of one unsigned
// integer dtype is in that dtype's units (uint8 and 255 -> 1, uint16 and 65535 -> 1); with float
// arrays it is taken as it is, with MetricRangeWarning when it cannot fit them. Given with an
// integer and a float array its units are ambiguous: refused.
double MetricRange(std::optional<double> range, const py::array& a, const py::array& b,
                   const Image& x, const Image& y, const char* name) {
  double r = 1.0;
  if (range) {
    RequirePositive(*range, name);
    const bool ia = a.dtype().kind() == 'u', ib = b.dtype().kind() == 'u';
    if (ia && ib && a.dtype().itemsize() == b.dtype().itemsize()) {
      r = *range / (a.dtype().itemsize() == 1 ? 255.0 : 65535.0);
    } else if (ia || ib) {
      Fail(name, "=", *range, " is ambiguous for arrays ", ShapeAndDtype(a), " and ",
           ShapeAndDtype(b), ": give arrays of one dtype (", name,
           " in its units), or float arrays in [0, 1] and leave ", name, " out");
    } else {
      r = *range;
    }
  }
  // In the library's units: a float image in 0-255 left at the full range 1, uint8 arrays given
  // a range of 1 (their units), or 255 for images in [0, 1] (MetricRangeWarning).
  if (const std::string w = MetricRangeWarning(r, x, y, name); !w.empty()) WarnCaller(w);
  return r;
}

}  // namespace

#define METRIC_RANGE_DOC(NAME)                                                                   \
  NAME ": the data range, as scikit-image's data_range: None for the full range (1 for float "   \
       "arrays in [0, 1], the dtype's maximum for integer arrays, which are read into [0, 1]); " \
       "given with two arrays of one integer dtype, in that dtype's units (255 for uint8)."

void BindIoOpsMetrics(py::module_& m) {
  using release = py::call_guard<py::gil_scoped_release>;
  m.def("set_threads", &SetNumThreads, py::arg("n"),
        "Worker threads (0 = the default: OMP_NUM_THREADS, else all cores).");
  m.def("threads", &NumThreads, "Current number of worker threads.");
  m.def("list_images", &ListImages, py::arg("folder"), py::arg("limit") = 0,
        "The image files (png, jpg, jpeg, tif, tiff, npy) in a folder, sorted by name (the first "
        "`limit` when > 0), as `--images DIR` takes them; a file is returned alone. Every "
        "`images` argument also takes a folder this way.");
  m.def(
      "read_image",
      [](const std::string& path, bool with_depth) -> py::object {
        Image im;
        ImageSource source;
        {
          py::gil_scoped_release r;
          im = ReadImage(path, &source);
        }
        for (const std::string& w : ReadWarnings(path, source, im)) WarnCaller(w);
        py::array out = FromImageContiguous(im);
        if (!with_depth) return out;
        // The depth write_image(like=) takes, so a batch keeps 16-bit files 16-bit.
        return py::make_tuple(out, SampleDepthName(source.bit_depth));
      },
      py::arg("path"), py::arg("with_depth") = false,
      "Reads PNG, JPEG, TIFF (8/16-bit, float) or .npy as a C-contiguous float32 array in "
      "[0, 1], (H, W) or (H, W, 3); a missing file raises FileNotFoundError. with_depth=True: "
      "(array, depth), depth '8', '16' or 'float' as the file held it (write_image's like=).");
  m.def(
      "write_image",
      [](const std::string& path, const py::array& image, const std::string& depth, int quality,
         const std::string& like) {
        Image im = ToImage(image);
        // An integer array's type is its depth (uint8: 8, uint16: 16); floats have none, so the
        // format's default applies (PNG 8, TIFF and NPY float), as `blade` does for depth 0,
        // unless `like` names the depth of the file they came from (read_image(with_depth=True)):
        // then that depth where the format holds it, as the tool writes its outputs.
        ImageSource source;
        if (image.dtype().kind() == 'u') source.bit_depth = 8 * int(image.dtype().itemsize());
        if (!like.empty()) source.bit_depth = ParseSampleDepth(like);
        WriteOptions o;
        o.bit_depth = OutputBitDepth(path, source, depth);
        o.jpeg_quality = quality;
        std::vector<std::string> warnings;
        o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
        {
          py::gil_scoped_release r;
          WriteImage(im, path, o);
        }
        for (const std::string& w : warnings) WarnCaller(w);  // clipped pixels, with the count
      },
      py::arg("path"), py::arg("image"), py::arg("depth") = "",
      py::arg("quality") = WriteOptions().jpeg_quality, py::arg("like") = "",
      "Writes an image atomically, path first as imageio, OpenCV and scikit-image do; the format "
      "follows the extension (.png .jpg .tif .npy). uint8/uint16 arrays are scaled by their "
      "type's maximum first (the img_as_float rule). depth: '8', '16' or 'float' (default: a "
      "uint8/uint16 array's own, else the format's); quality: JPEG's, 1-100; clipping to "
      "[0, 1] warns with a count where it changes the picture.");
  m.def(
      "to_luma", [](const py::array& image) { return FromImage(ToLuma(ToImage(image))); },
      py::arg("image"), "BT.601 luma of a color image (a gray image is returned as is).");
  m.def(
      "downscale",
      [](const py::array& image, int factor, const std::string& degradation) {
        const Degradation d = ParseDegradation(degradation);
        Image im = ToImage(image), out;
        {
          py::gil_scoped_release r;
          out = Degrade(im, factor, d);
        }
        return FromImage(std::move(out));
      },
      py::arg("image"), py::arg("factor"), py::arg("degradation") = kUpscaleDegradation,
      "Shrinks by an integer factor (dividing the size) as a degradation does: 'area' (PIL BOX, "
      "skimage downscale_local_mean, OpenCV INTER_AREA), 'bicubic' (PIL BICUBIC), "
      "'gaussian:SIGMA' or 'corner:SIGMA' (docs/FORMATS.md); the A that upscale inverts.");
  m.def(
      "resize_area",
      [](const py::array& image, int width, int height) {
        Image im = ToImage(image), out;
        {
          py::gil_scoped_release r;
          out = AreaResize(im, width, height);
        }
        return FromImage(std::move(out));
      },
      py::arg("image"), py::arg("width"), py::arg("height"),
      "Area averaging to any size no larger than the image's (OpenCV INTER_AREA; "
      "downscale(image, k, 'area') for an integer factor): each output pixel the mean of the "
      "input over its footprint, edge pixels weighted by their overlap.");
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
      "estimate_noise",
      [](const py::array& image) {
        const Image im = ToInputImage(image);
        py::gil_scoped_release r;
        return EstimateNoiseSigma(im);
      },
      py::arg("image"),
      "The standard deviation of white Gaussian noise in the image, in 0-255 units: the median "
      "of the finest diagonal Daubechies-2 wavelet coefficients over 0.6745 (Donoho and "
      "Johnstone), averaged over channels, as scikit-image's estimate_sigma(channel_axis=-1, "
      "average_sigmas=True) x 255. Texture reads as noise; clipped noise reads low.");
  m.def(
      "psnr",
      [](const py::array& a, const py::array& b, std::optional<double> peak) {
        Image x = ToImage(a, "a"), y = ToImage(b, "b");
        const double p = MetricRange(peak, a, b, x, y, "peak");
        py::gil_scoped_release r;
        return Psnr(x, y, p);
      },
      py::arg("a"), py::arg("b"), py::arg("peak") = py::none(),
      "PSNR in dB (no clipping). " METRIC_RANGE_DOC("peak"));
  m.def(
      "ssim",
      [](const py::array& a, const py::array& b, std::optional<double> data_range) {
        Image x = ToImage(a, "a"), y = ToImage(b, "b");
        const double p = MetricRange(data_range, a, b, x, y, "data_range");
        py::gil_scoped_release r;
        return Ssim(x, y, p);
      },
      py::arg("a"), py::arg("b"), py::arg("data_range") = py::none(),
      "Mean SSIM (Wang 2004, as tf.image.ssim): 11x11 Gaussian window, sigma 1.5, valid "
      "positions. " METRIC_RANGE_DOC("data_range"));
  m.def(
      "ssim_gradient",
      [](const py::array& a, const py::array& b, std::optional<double> data_range) {
        Image x = ToImage(a, "a"), y = ToImage(b, "b"), g;
        const double p = MetricRange(data_range, a, b, x, y, "data_range");
        double value;
        {
          py::gil_scoped_release r;
          value = SsimGradient(x, y, &g, p);
        }
        return py::make_tuple(value, FromImage(std::move(g)));
      },
      py::arg("a"), py::arg("b"), py::arg("data_range") = py::none(),
      "(mean SSIM, its gradient with respect to every pixel of a): the SSIM training loss's. "
      "data_range as ssim's.");
}

}  // namespace blade::python
