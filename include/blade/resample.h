// Optical-flow resampling (paper §5): flow fields and .flo files, classical and BLADE resamplers, training, burst alignment.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/model.h"

namespace blade {

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

// Middlebury .flo files: "PIEH" (float 202021.25), int32 width, int32 height, then (u, v)
// float32 pairs row by row, little-endian. Reading checks the magic, the size against the
// file length and the pixel limit, and that every value is finite (Middlebury's "unknown"
// marker, |value| > 1e9, is refused: blade needs a flow at every pixel).
Flow ReadFlo(const std::string& path);
void WriteFlo(const Flow& flow, const std::string& path);  // atomic

// Mean end-point error sqrt(du^2 + dv^2) over pixels at least `margin` from the border.
double EndPointError(const Flow& a, const Flow& b, int margin = 0);

enum class ResampleMethod { kBlade, kBicubic, kBilinear, kLanczos3 };
ResampleMethod ParseResampleMethod(const std::string& name);
std::string ResampleMethodName(ResampleMethod method);

// out(x) = in(x + flow(x)) by classical interpolation (clamped borders).
Image ResampleClassical(const Image& in, const Flow& flow, ResampleMethod method);

// BLADE resampling (eq. 5.1-5.3): the displacement's integer part n = round(v) is applied by
// indexing and the fraction d = v - n in [-1/2, 1/2] by the learned filters:
// out(x) = in(x + n) + d_x BLADE^x(in)(x + n) + d_y BLADE^y(in)(x + n).
Image ResampleBlade(const Model& model, const Image& in, const Flow& flow);

Image Resample(const Image& in, const Flow& flow, ResampleMethod method, const Model* model);

// The observation model of resampling training and of the synthetic bursts: a high-resolution
// image `hr` seen through a Gaussian PSF of psf_sigma LR pixels and sampled every `factor` HR
// pixels (LR pixel n at HR position factor * n + (factor - 1) / 2, the area-average centre),
// at LR position p(x) = x + shift(x): out(x) = (G * hr)(factor * p(x) + (factor - 1) / 2).
// The Gaussian is sampled exactly at the shifted positions, so no interpolation is involved.
// `shift` may be empty (no shift).
Image ObserveShifted(const Image& hr, int factor, double psf_sigma, const Flow& shift);

struct ResampleTrainOptions {
  int factor = 4;
  double psf_sigma = 0.5;       // LR pixels
  int shifts_per_image = 4;     // random (dx, dy) in [-1/2, 1/2]^2 per training photograph
  SelectionConfig selection;    // thresholds empty = fitted as quantiles
  int footprint = 5;
  double ridge = 1e-3;
  std::uint64_t seed = 1;
};

// Fits a resampling model by least squares. The model is linear in both banks and both use the
// same selection (computed from the unshifted frame), so the joint problem separates by filter:
// per filter, the regularised 2 x 25 normal equations of [d_x p, d_y p] . [h^x; h^y] = target.
Model TrainResampleModel(const std::vector<Image>& hr_images, const ResampleTrainOptions& options);

// HDR+ pyramid block matching (REFERENCE_SCHEMES.md §7) of `alt` against `ref` (gray or color:
// aligned on luma), tile vectors interpolated bilinearly to a dense flow with ref(x) ~
// alt(x + v(x)). With lk_iterations > 0, that many inverse-compositional Lucas-Kanade
// iterations refine each tile.
struct AlignOptions {
  int lk_iterations = 3;
};
Flow AlignBlockMatching(const Image& ref, const Image& alt, const AlignOptions& options = {});

}  // namespace blade
