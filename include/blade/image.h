// The one internal pixel format: planar float32 images (gray or RGB), rectangles and plane views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace blade {

// Allocator of image buffers: 64-byte (cache-line) aligned, so a plane's rows start on a line
// and whole-vector loads at multiples of 16 floats never straddle two lines (which costs a
// second load); new elements are left uninitialized (default-initialized) unless given a
// value, so buffers that a kernel overwrites in full are not first filled with zeros.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  static constexpr std::size_t kAlignment = 64;
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(kAlignment)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ::operator delete(p, n * sizeof(T), std::align_val_t(kAlignment));
  }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// A buffer with image storage's alignment (and no zero fill on growth).
template <class T>
using AlignedVector = std::vector<T, DefaultInitAllocator<T>>;

// A rectangle of pixels: columns [x, x + width), rows [y, y + height).
struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
};

// Read-only view of one plane (or of a rectangle inside it). Rows are `stride` floats apart.
struct ConstPlaneView {
  const float* data = nullptr;
  int width = 0, height = 0;
  std::ptrdiff_t stride = 0;
  const float* row(int y) const { return data + y * stride; }
  float operator()(int x, int y) const { return data[y * stride + x]; }
};

// Writable view of one plane.
struct PlaneView {
  float* data = nullptr;
  int width = 0, height = 0;
  std::ptrdiff_t stride = 0;
  float* row(int y) const { return data + y * stride; }
  float& operator()(int x, int y) const { return data[y * stride + x]; }
  operator ConstPlaneView() const { return {data, width, height, stride}; }
};

// Planar float32 image: `channels` planes of width x height, rows contiguous, value range
// nominally [0, 1] (PDE states may leave it). Move-only; copies are explicit with Copy().
class Image {
 public:
  Image() = default;
  // Zero-filled image. Fails (blade::Error) on non-positive sizes, channels other than 1 or 3,
  // or more pixels than MaxPixels().
  Image(int width, int height, int channels = 1);
  // Same checks, contents unspecified: for outputs that are written in full before being read.
  static Image Uninitialized(int width, int height, int channels = 1);
  Image(Image&&) noexcept = default;
  Image& operator=(Image&&) noexcept = default;
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  Image Copy() const;

  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  bool empty() const { return data_.empty(); }
  std::size_t plane_size() const { return std::size_t(width_) * height_; }
  std::size_t size() const { return data_.size(); }

  float* plane(int c) { return data_.data() + c * plane_size(); }
  const float* plane(int c) const { return data_.data() + c * plane_size(); }
  float* row(int c, int y) { return plane(c) + std::size_t(y) * width_; }
  const float* row(int c, int y) const { return plane(c) + std::size_t(y) * width_; }
  float& at(int c, int x, int y) { return row(c, y)[x]; }
  float at(int c, int x, int y) const { return row(c, y)[x]; }

  PlaneView view(int c) { return {plane(c), width_, height_, width_}; }
  ConstPlaneView view(int c) const { return {plane(c), width_, height_, width_}; }
  PlaneView view(int c, const Rect& r);
  ConstPlaneView view(int c, const Rect& r) const;

  float* data() { return data_.data(); }
  const float* data() const { return data_.data(); }

 private:
  int width_ = 0, height_ = 0, channels_ = 0;
  AlignedVector<float> data_;
};

// Largest pixel count (width * height) any image may have; guards allocations driven by file
// headers. Default 2^28 (268 megapixels); BLADE_MAX_PIXELS in the environment overrides it.
std::int64_t MaxPixels();
// Asks the C allocator (glibc mallopt) to keep freed image-sized blocks up to 32 MiB in the heap
// rather than unmapping them, so each step's temporaries do not page-fault fresh memory
// (measured 10-40% of a BLADE step on small images). Larger blocks are mapped and unmapped:
// kept in the heap, they fragmented it (a 6000x4000 color run held 2.4 GiB resident for 1 GiB
// of live images). Process-wide, so the library never calls it itself; the blade tool, the
// benchmarks and the Python module call it once at start.
void KeepFreedImageMemory();
// Fails with a clear message if width x height is not a valid image size.
void CheckImageSize(std::int64_t width, std::int64_t height, int channels);
// The same for the factor-times-larger output of upscaling f, naming it as the output.
void CheckUpscaledSize(const Image& f, int factor);

// Copies of part or all of an image.
Image Crop(const Image& image, const Rect& rect);
// Crops the bottom/right so both sides are multiples of `factor`.
Image CropToMultiple(const Image& image, int factor);
Image ExtractChannel(const Image& image, int c);
// Stacks single-channel images into one multi-channel image (all must share a size).
Image StackChannels(const std::vector<const Image*>& planes);

// Luma Y = 0.299 R + 0.587 G + 0.114 B (BT.601); a gray image is copied unchanged.
Image ToLuma(const Image& image);
// ToLuma's arithmetic on n pixels of three planes (bit for bit the same), for code that makes
// luma a band of rows at a time instead of a whole image.
void LumaRow(const float* r, const float* g, const float* b, std::size_t n, float* y);
// Gray to 3 equal channels; RGB is copied.
Image ToRgb(const Image& image);
Image Transposed(const Image& image);
// Rotated by 90 degrees counter-clockwise (x' = y, y' = W - 1 - x).
Image Rotated90(const Image& image);
// One of the 8 rotations and mirrors (t = 0..7): t % 4 quarter turns (Rotated90), then a
// transposition if t >= 4; training's augmentation.
Image Dihedral(const Image& image, int t);
Image Clamped(const Image& image, float lo = 0.f, float hi = 1.f);

// Simple whole-image statistics (double accumulation, in index order).
double Sum(const Image& image);
double Mean(const Image& image);
float MinValue(const Image& image);
float MaxValue(const Image& image);
bool AllFinite(const Image& image);
// One line when an image's values lie far outside [0, 1], the intensity range every blade
// operation assumes (scikit-image's float convention: a float image in 0-255, say, runs every
// PDE at the wrong contrast); empty otherwise. Ringing and a PDE's overshoot, a little outside
// [0, 1], pass: the line appears beyond [-0.5, 1.5].
std::string IntensityRangeWarning(const Image& image);
double MaxAbsDifference(const Image& a, const Image& b);
// y += a * x elementwise (same shape required).
void Axpy(float a, const Image& x, Image& y);
// The same, and whether every updated y is finite (one pass: the update of a time step and
// its divergence check).
bool AxpyAllFinite(float a, const Image& x, Image& y);
// The same on raw arrays: out[i] = base[i] + a * x[i], i < n (out may be x or base), and
// whether every out[i] is finite.
bool UpdateAllFinite(float a, const float* x, const float* base, float* out, std::size_t n);
// Fails unless a and b have the same width, height and channels.
void RequireSameShape(const Image& a, const Image& b, const char* what);

// A dense flow field. Convention (REFERENCE_SCHEMES.md §7): ref(x) ~ alt(x + v(x)), so
// resampling alt by v warps it onto ref: out(x) = alt(x + v(x)). Units: pixels; x right, y down.
struct Flow {
  int width = 0, height = 0;
  std::vector<float> u, v;  // row-major, width * height each
  Flow() = default;
  Flow(int w, int h);
  float& U(int x, int y) { return u[std::size_t(y) * width + x]; }
  float& V(int x, int y) { return v[std::size_t(y) * width + x]; }
  float U(int x, int y) const { return u[std::size_t(y) * width + x]; }
  float V(int x, int y) const { return v[std::size_t(y) * width + x]; }
};

// Mean end-point error sqrt(du^2 + dv^2) over pixels at least `margin` from the border.
double EndPointError(const Flow& a, const Flow& b, int margin = 0);

}  // namespace blade

namespace blade {

// Tiles images left to right, top to bottom, `columns` per row, `gap` pixels apart on a white
// background; gray images are shown as RGB if any input is RGB. Cells take the largest size.
Image Montage(const std::vector<const Image*>& images, int columns, int gap = 4);

}  // namespace blade
