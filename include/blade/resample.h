// Optical-flow resampling (paper §5): classical and BLADE resamplers, burst alignment (the Flow
// type is in blade/image.h, .flo files in blade/io.h, training in blade/train.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/io.h"  // ReadFlo, WriteFlo
#include "blade/model.h"

namespace blade {

enum class ResampleMethod { kBlade, kBicubic, kBilinear, kLanczos3 };
ResampleMethod ParseResampleMethod(const std::string& name);
std::string ResampleMethodName(ResampleMethod method);

// out(x) = in(x + flow(x)) by classical interpolation (clamped borders).
Image ResampleClassical(const Image& in, const Flow& flow, ResampleMethod method);

// BLADE resampling (eq. 5.1-5.5): the displacement's integer part n = round(v) is applied by
// indexing and the fraction d = v - n in [-1/2, 1/2] by the learned filters:
// out(x) = in(x + n) + d_x BLADE^x(in)(x + n) + d_y BLADE^y(in)(x + n)   (order 1, the paper).
// Order 2 and 3 models (beyond the paper) add one bank per higher monomial d_x^a d_y^b,
// a + b <= order, in the order of ResampleMonomials: the first-order model cannot represent
// the (w d)^2 / 2 loss of a fractional shift at frequency w, which costs it against bicubic.
Image ResampleBlade(const Model& model, const Image& in, const Flow& flow);
// The exponents (a, b) of the monomials d_x^a d_y^b of a model of `order` (1..3), bank order.
std::vector<std::pair<int, int>> ResampleMonomials(int order);
int ResampleOrder(const Model& model);  // from the bank count

// `model` is BLADE's (required for kBlade); given with a classical method it would be ignored,
// so it is refused (RequireModelOnlyForBlade, which front ends call before reading anything).
Image Resample(const Image& in, const Flow& flow, ResampleMethod method, const Model* model);
void RequireModelOnlyForBlade(ResampleMethod method, bool model_given);

// The observation model of resampling training and of the synthetic bursts: a high-resolution
// image `hr` seen through a Gaussian PSF of psf_sigma LR pixels and sampled every `factor` HR
// pixels (LR pixel n at HR position factor * n + (factor - 1) / 2, the area-average centre),
// at LR position p(x) = x + shift(x): out(x) = (G * hr)(factor * p(x) + (factor - 1) / 2).
// The Gaussian is sampled exactly at the shifted positions, so no interpolation is involved.
// `shift` may be empty (no shift).
Image ObserveShifted(const Image& hr, int factor, double psf_sigma, const Flow& shift);

// HDR+ pyramid block matching (REFERENCE_SCHEMES.md §7) of `alt` against `ref` (gray or color:
// aligned on luma), tile vectors interpolated bilinearly to a dense flow with ref(x) ~
// alt(x + v(x)). With lk_iterations > 0, that many inverse-compositional Lucas-Kanade
// iterations refine each tile.
struct AlignOptions {
  int lk_iterations = 3;
};
Flow AlignBlockMatching(const Image& ref, const Image& alt, const AlignOptions& options = {});

// The synthetic-burst measurement (docs/RESULTS.md): from a high-resolution luma image, frames
// f_k observed (ObserveShifted, factor 4, PSF 0.5 LR px) along a smooth, spatially varying flow
// F with sub-pixel and integer parts, drawn from `seed`: f0 at x, f1 at x + F(x), f2 at
// x + F(x) + F(x + F(x)), so that f1(x) = f0(x + F(x)) and f2(x) = f1(x + F(x)) exactly in the
// continuous model. Gaussian noise of `noise` is added to the observed f0 and f1. Each method
// resamples noisy f0 by F (scored against clean f1) and that result again by F (against
// clean f2); PSNR over pixels at least 4 from the border. Alignment estimates F from noisy
// (f1, f0) by block matching; its mean end-point error is over pixels at least 8 from the border.
struct BurstScore {
  double psnr_1[4] = {}, psnr_2[4] = {};  // indexed by ResampleMethod
  double epe = 0;
};
BurstScore EvaluateBurst(const Image& hr_luma, const Model* model, std::uint64_t seed,
                         double noise = 1.0 / 255);

}  // namespace blade
