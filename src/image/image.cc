// Image type, size limits and whole-image conversions.
#include "blade/image.h"

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "blade/error.h"
#include "blade/parallel.h"

namespace blade {

void KeepFreedImageMemory() {
  constexpr int kOneGiB = 1 << 30, k32MiB = 32 << 20;
  mallopt(M_MMAP_THRESHOLD, k32MiB);
  mallopt(M_TRIM_THRESHOLD, kOneGiB);
}

std::int64_t MaxPixels() {
  static const std::int64_t limit = [] {
    const char* env = std::getenv("BLADE_MAX_PIXELS");
    if (env != nullptr) {
      char* end = nullptr;
      long long v = std::strtoll(env, &end, 10);
      if (end != env && v > 0) return static_cast<std::int64_t>(v);
    }
    return std::int64_t{1} << 28;
  }();
  return limit;
}

namespace {
// Each side first, so the product cannot overflow.
bool OverPixelLimit(std::int64_t width, std::int64_t height) {
  return width > MaxPixels() || height > MaxPixels() || width * height > MaxPixels();
}
}  // namespace

void CheckImageSize(std::int64_t width, std::int64_t height, int channels) {
  if (width <= 0 || height <= 0) Fail("image size ", width, "x", height, " is empty or negative");
  if (channels != 1 && channels != 3) Fail("images must have 1 or 3 channels (got ", channels, ")");
  if (OverPixelLimit(width, height))
    Fail("image size ", width, "x", height, " exceeds the limit of ", MaxPixels(),
         " pixels (set BLADE_MAX_PIXELS to raise it)");
}

void CheckUpscaledSize(const Image& f, int factor) {
  const std::int64_t w = std::int64_t(f.width()) * factor, h = std::int64_t(f.height()) * factor;
  if (OverPixelLimit(w, h))
    Fail("the x", factor, " output of a ", f.width(), "x", f.height(), " image, ", w, "x", h,
         ", exceeds the limit of ", MaxPixels(), " pixels (set BLADE_MAX_PIXELS to raise it)");
  CheckImageSize(w, h, f.channels());
}

namespace {

// Elementwise work over [0, size) in fixed blocks split over the threads: the partition does
// not depend on the thread count, and a serial pass over a large image held back the 2-thread
// speed-up of every time step (allocation fill, copy, update).
constexpr std::size_t kElementBlock = 1 << 16;

template <class F>
void ForEachBlock(std::size_t size, const F& f) {
  const int blocks = int((size + kElementBlock - 1) / kElementBlock);
  if (blocks <= 1) {
    if (size > 0) f(0, size, 0);
    return;
  }
  ParallelFor(0, blocks, [&](int b) {
    f(std::size_t(b) * kElementBlock, std::min(size, (std::size_t(b) + 1) * kElementBlock), b);
  });
}

}  // namespace

Image Image::Uninitialized(int width, int height, int channels) {
  CheckImageSize(width, height, channels);
  Image image;
  image.width_ = width;
  image.height_ = height;
  image.channels_ = channels;
  try {
    image.data_.resize(std::size_t(width) * height * channels);
  } catch (const std::bad_alloc&) {
    Fail("out of memory allocating a ", width, "x", height, "x", channels, " image");
  }
  return image;
}

Image::Image(int width, int height, int channels) {
  *this = Uninitialized(width, height, channels);
  float* p = data_.data();
  ForEachBlock(data_.size(),
               [=](std::size_t i0, std::size_t i1, int) { std::fill(p + i0, p + i1, 0.f); });
}

Image Image::Copy() const {
  if (empty()) return Image();
  Image out = Uninitialized(width_, height_, channels_);
  const float* src = data_.data();
  float* dst = out.data_.data();
  ForEachBlock(data_.size(), [=](std::size_t i0, std::size_t i1, int) {
    std::copy(src + i0, src + i1, dst + i0);
  });
  return out;
}

PlaneView Image::view(int c, const Rect& r) {
  return {plane(c) + std::size_t(r.y) * width_ + r.x, r.width, r.height, width_};
}

ConstPlaneView Image::view(int c, const Rect& r) const {
  return {plane(c) + std::size_t(r.y) * width_ + r.x, r.width, r.height, width_};
}

Image Crop(const Image& image, const Rect& r) {
  if (r.x < 0 || r.y < 0 || r.width <= 0 || r.height <= 0 || r.x + r.width > image.width() ||
      r.y + r.height > image.height())
    Fail("crop rectangle ", r.width, "x", r.height, "+", r.x, "+", r.y, " is outside the ",
         image.width(), "x", image.height(), " image");
  Image out(r.width, r.height, image.channels());
  for (int c = 0; c < image.channels(); ++c) {
    ConstPlaneView src = image.view(c, r);
    for (int y = 0; y < r.height; ++y) std::copy_n(src.row(y), r.width, out.row(c, y));
  }
  return out;
}

Image CropToMultiple(const Image& image, int factor) {
  if (factor <= 0) Fail("crop factor must be positive (got ", factor, ")");
  int w = image.width() / factor * factor, h = image.height() / factor * factor;
  if (w == 0 || h == 0)
    Fail("image ", image.width(), "x", image.height(), " is smaller than the factor ", factor);
  if (w == image.width() && h == image.height()) return image.Copy();
  return Crop(image, {0, 0, w, h});
}

Image ExtractChannel(const Image& image, int c) {
  Image out(image.width(), image.height(), 1);
  std::copy_n(image.plane(c), image.plane_size(), out.plane(0));
  return out;
}

Image StackChannels(const std::vector<const Image*>& planes) {
  if (planes.empty()) Fail("no planes to stack");
  const Image& first = *planes[0];
  Image out(first.width(), first.height(), int(planes.size()));
  for (std::size_t c = 0; c < planes.size(); ++c) {
    RequireSameShape(first, *planes[c], "stacked planes");
    std::copy_n(planes[c]->plane(0), first.plane_size(), out.plane(int(c)));
  }
  return out;
}

void LumaRow(const float* r, const float* g, const float* b, std::size_t n, float* y) {
  for (std::size_t i = 0; i < n; ++i) y[i] = 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
}

Image ToLuma(const Image& image) {
  if (image.channels() == 1) return image.Copy();
  Image out = Image::Uninitialized(image.width(), image.height(), 1);
  const float *r = image.plane(0), *g = image.plane(1), *b = image.plane(2);
  float* y = out.plane(0);
  ForEachBlock(image.plane_size(), [=](std::size_t i0, std::size_t i1, int) {
    LumaRow(r + i0, g + i0, b + i0, i1 - i0, y + i0);
  });
  return out;
}

Image ToRgb(const Image& image) {
  if (image.channels() == 3) return image.Copy();
  const Image* p = &image;
  return StackChannels({p, p, p});
}

Image Transposed(const Image& image) {
  Image out(image.height(), image.width(), image.channels());
  for (int c = 0; c < image.channels(); ++c)
    for (int y = 0; y < image.height(); ++y)
      for (int x = 0; x < image.width(); ++x) out.at(c, y, x) = image.at(c, x, y);
  return out;
}

Image Dihedral(const Image& image, int t) {
  if (t < 0 || t > 7) Fail("dihedral transform must be 0..7 (got ", t, ")");
  Image out = image.Copy();
  for (int i = 0; i < t % 4; ++i) out = Rotated90(out);
  if (t >= 4) out = Transposed(out);
  return out;
}

Image Rotated90(const Image& image) {
  const int w = image.width();
  Image out(image.height(), w, image.channels());
  for (int c = 0; c < image.channels(); ++c)
    for (int y = 0; y < image.height(); ++y)
      for (int x = 0; x < w; ++x) out.at(c, y, w - 1 - x) = image.at(c, x, y);
  return out;
}

Image Clamped(const Image& image, float lo, float hi) {
  Image out = image.Copy();
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = std::clamp(out.data()[i], lo, hi);
  return out;
}

double Sum(const Image& image) {
  double s = 0;
  for (std::size_t i = 0; i < image.size(); ++i) s += image.data()[i];
  return s;
}

double Mean(const Image& image) { return image.empty() ? 0.0 : Sum(image) / double(image.size()); }

float MinValue(const Image& image) {
  return image.empty() ? 0.f : *std::min_element(image.data(), image.data() + image.size());
}

float MaxValue(const Image& image) {
  return image.empty() ? 0.f : *std::max_element(image.data(), image.data() + image.size());
}

std::string IntensityRangeWarning(const Image& image) {
  // A non-finite image is refused where it is processed, with its own message.
  if (image.empty() || !AllFinite(image)) return {};
  const float lo = MinValue(image), hi = MaxValue(image);
  if (!(lo < -0.5f) && !(hi > 1.5f)) return {};
  return StrCat("values from ", lo, " to ", hi,
                ", but intensities are in [0, 1] (as scikit-image reads images); a float image "
                "in 0-255 must be divided by 255, or every result is at the wrong contrast");
}

bool AllFinite(const Image& image) {
  // NaN and infinities are the floats whose exponent bits are all ones. Blocks of branch-free
  // tests vectorize (a loop that returns at the first bad value does not); runs check every
  // step, so this is on the hot path.
  // Large images are split over the threads (the answer does not depend on how).
  constexpr std::size_t kBlock = 4096, kBlocksPerTask = 16;
  const float* p = image.data();
  const std::size_t blocks = (image.size() + kBlock - 1) / kBlock;
  const int tasks = int((blocks + kBlocksPerTask - 1) / kBlocksPerTask);
  std::vector<unsigned char> finite(tasks, 1);
  auto check = [&](int t) {
    const std::size_t stop = std::min(image.size(), (t + 1) * kBlocksPerTask * kBlock);
    for (std::size_t i = t * kBlocksPerTask * kBlock; i < stop; i += kBlock) {
      const std::size_t end = std::min(stop, i + kBlock);
      std::uint32_t bad = 0;
      for (std::size_t j = i; j < end; ++j) {
        std::uint32_t bits;
        std::memcpy(&bits, p + j, sizeof bits);
        bad |= std::uint32_t((bits & 0x7f800000u) == 0x7f800000u);
      }
      if (bad != 0) {
        finite[t] = 0;
        return;
      }
    }
  };
  if (tasks == 1) {
    check(0);
  } else {
    ParallelFor(0, tasks, check);
  }
  for (unsigned char f : finite)
    if (f == 0) return false;
  return true;
}

double MaxAbsDifference(const Image& a, const Image& b) {
  RequireSameShape(a, b, "compared images");
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::abs(double(a.data()[i]) - double(b.data()[i])));
  return m;
}

void RequireSameShape(const Image& a, const Image& b, const char* what) {
  if (a.width() == b.width() && a.height() == b.height() && a.channels() != b.channels())
    Fail(what, " differ in channels: ", a.channels(), " vs ", b.channels(),
         " (one gray, one color: compare like with like)");
  if (a.width() != b.width() || a.height() != b.height() || a.channels() != b.channels())
    Fail(what, " differ in size: ", a.width(), "x", a.height(), "x", a.channels(), " vs ",
         b.width(), "x", b.height(), "x", b.channels());
}

}  // namespace blade

namespace blade {

Image Montage(const std::vector<const Image*>& images, int columns, int gap) {
  if (images.empty()) Fail("montage needs at least one image");
  if (columns <= 0) Fail("montage columns must be positive (got ", columns, ")");
  if (gap < 0) Fail("montage gap must not be negative");
  int cell_w = 0, cell_h = 0, channels = 1;
  for (const Image* im : images) {
    cell_w = std::max(cell_w, im->width());
    cell_h = std::max(cell_h, im->height());
    channels = std::max(channels, im->channels());
  }
  const int n = int(images.size()), cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  Image out(cols * cell_w + (cols - 1) * gap, rows * cell_h + (rows - 1) * gap, channels);
  std::fill(out.data(), out.data() + out.size(), 1.f);
  for (int i = 0; i < n; ++i) {
    const Image& im = *images[i];
    const int x0 = (i % cols) * (cell_w + gap), y0 = (i / cols) * (cell_h + gap);
    for (int c = 0; c < channels; ++c) {
      const int src_c = im.channels() == 1 ? 0 : c;
      for (int y = 0; y < im.height(); ++y)
        for (int x = 0; x < im.width(); ++x) out.at(c, x0 + x, y0 + y) = im.at(src_c, x, y);
    }
  }
  return out;
}

void Axpy(float a, const Image& x, Image& y) {
  RequireSameShape(x, y, "Axpy operands");
  const float* xs = x.data();
  float* ys = y.data();
  ForEachBlock(y.size(), [=](std::size_t i0, std::size_t i1, int) {
    for (std::size_t i = i0; i < i1; ++i) ys[i] += a * xs[i];
  });
}

bool UpdateAllFinite(float a, const float* x, const float* base, float* out, std::size_t n) {
  // The exponent test of AllFinite, branch-free in the same vectorized loop as the update.
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = base[i] + a * x[i];
    out[i] = v;
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    bad |= std::uint32_t((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

bool AxpyAllFinite(float a, const Image& x, Image& y) {
  RequireSameShape(x, y, "Axpy operands");
  const float* xs = x.data();
  float* ys = y.data();
  std::vector<unsigned char> bad((y.size() + kElementBlock - 1) / kElementBlock, 0);
  unsigned char* flags = bad.data();
  ForEachBlock(y.size(), [=](std::size_t i0, std::size_t i1, int b) {
    flags[b] = !UpdateAllFinite(a, xs + i0, ys + i0, ys + i0, i1 - i0);
  });
  return std::find(bad.begin(), bad.end(), 1) == bad.end();
}

}  // namespace blade
