// Image quality metrics exactly as REFERENCE_SCHEMES.md §8 defines them.
#pragma once

#include <string>

#include "blade/image.h"

namespace blade {

// PSNR = 10 log10(peak^2 / MSE) over all pixels and channels; +inf for identical images.
double Psnr(const Image& a, const Image& b, double peak = 1.0);

// One line when a metric's data range does not fit the images, empty otherwise; `what` names the
// option ("--peak"). Either a range above 2 for images that lie in [-0.5, 1.5], as integer files
// and arrays read into [0, 1] do (a peak of 255 there adds 48 dB to the PSNR and makes SSIM near
// 1), or images whose values reach beyond 1.5 times the range (a float image in 0-255 scored
// with the range 1, or 8-bit values with a range of 1 in 8-bit units).
std::string MetricRangeWarning(double range, const Image& a, const Image& b,
                               const std::string& what);

// Mean SSIM (Wang et al. 2004, as tf.image.ssim): 11x11 Gaussian window, sigma 1.5, normalised
// weights, population statistics, K1 = 0.01, K2 = 0.03, L = data_range, averaged over "valid"
// window positions only (no padding), then over channels. Both images need >= 11x11 pixels
// (kSsimMinSize).
inline constexpr int kSsimMinSize = 11;
double Ssim(const Image& a, const Image& b, double data_range = 1.0);

// The same mean SSIM and its gradient with respect to every pixel of `a` (the training loss
// 1 - SSIM needs it; issue 11). Plain double-precision sums: the value equals Ssim() to
// rounding. grad_a gets a's shape.
double SsimGradient(const Image& a, const Image& b, Image* grad_a, double data_range = 1.0);

// The standard deviation of additive white Gaussian noise in an image, in 0-255 units:
// Donoho and Johnstone's robust median, median(|d|) / Phi^-1(3/4), over the finest diagonal
// (HH) Daubechies-2 wavelet coefficients d that are not exactly zero, per channel and averaged
// over the channels that have any (scikit-image's estimate_sigma with channel_axis=-1,
// average_sigmas=True, which gives NaN for a constant channel; the coefficients are pywt.dwtn's
// away from the border, where it extends the image). 0 for a constant image. Texture reads
// as noise (a clean photograph gives about 1 to 3), and noise clipped at 0 or 1 reads low.
// Needs at least 8x8 pixels and finite values.
double EstimateNoiseSigma(const Image& image);

}  // namespace blade
