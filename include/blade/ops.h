// Discrete operators: boundary extensions, finite differences, Gaussian filtering, resampling, DCT.
#pragma once

#include <string>
#include <vector>

#include "blade/image.h"

namespace blade {

// Named boundary extensions (REFERENCE_SCHEMES.md §0). For index i outside [0, n):
//   kReplicate:   u_{-1} = u_0, u_n = u_{n-1}             (clamp)
//   kHalfSymmetric: u_{-1-i} = u_i, u_{n+i} = u_{n-1-i}   (the extension the DCT-II diagonalises;
//                  repeated reflection for indices more than n outside)
enum class Boundary { kReplicate, kHalfSymmetric };
int ExtendIndex(int i, int n, Boundary boundary);

// Undivided forward/backward differences along x (columns) or y (rows) with ghost cells from
// `boundary`: D+ u_i = u_{i+1} - u_i (0 at the last index for both boundaries),
// D- u_i = u_i - u_{i-1} (0 at the first index). Adjoint: <D+ u, v> = <u, -D- v> only for
// replicate with v vanishing on the last index; DivergenceForward below is the exact adjoint.
Image ForwardDiffX(const Image& u);
Image ForwardDiffY(const Image& u);
Image BackwardDiffX(const Image& u);
Image BackwardDiffY(const Image& u);
// Central differences (u_{i+1} - u_{i-1}) / 2 with the named extension.
Image CentralDiffX(const Image& u, Boundary boundary = Boundary::kReplicate);
Image CentralDiffY(const Image& u, Boundary boundary = Boundary::kReplicate);
// Discrete divergence of face fluxes with zero flux through the border: the exact negative
// adjoint of (ForwardDiffX, ForwardDiffY): <grad u, (px, py)> = -<u, div p>.
// div_{m,n} = px_{m,n} - px_{m-1,n} + py_{m,n} - py_{m,n-1}, with px_{-1} = px_{W-1} := 0.
Image DivergenceForward(const Image& px, const Image& py);

// Gaussian filter (REFERENCE_SCHEMES.md §0): taps exp(-k^2 / (2 sigma^2)) for |k| <= ceil(3 sigma),
// normalised to sum 1, applied separably with half-sample symmetric extension, every channel.
// For sigma <= kGaussianDirectMaxSigma it convolves directly (cost O(sigma) per pixel; faster up
// to sigma ~ 20 at the Kodak size); above it
// applies the identical operator through the DCT-II, which diagonalises a symmetric kernel
// under half-sample symmetric extension (cost O(log n), independent of sigma). Both paths equal
// the sampled, truncated Gaussian with the same extension to float rounding (tested).
// sigma = 0 returns a copy.
constexpr double kGaussianDirectMaxSigma = 20.0;
Image GaussianBlur(const Image& image, double sigma);
// The normalised 1-D taps, index 0 = offset -radius.
std::vector<double> GaussianTaps(double sigma);

// Area-average downsampling by an integer factor (REFERENCE_SCHEMES.md §9): each output pixel is
// the mean of a factor x factor block. Sizes must be divisible by the factor.
Image AreaDownsample(const Image& image, int factor);
// Area averaging to any size no larger than the input's (each output pixel the mean of the input
// over its footprint, pixels cut by the footprint's edge weighted by their overlap: OpenCV's
// INTER_AREA when shrinking; PIL's BOX only at integer factors, as it point-samples otherwise). An
// integer factor (the same for both axes) is AreaDownsample.
Image AreaResize(const Image& image, int width, int height);

// Lattice convention for resampling by a scale factor s:
//   kCentered: output pixel X samples input coordinate (X + 1/2) / s - 1/2 (area ↓ is centred);
//   kCorner:   output pixel X samples input coordinate X / s (Roussos–Maragos, §6).
enum class Lattice { kCentered, kCorner };

// Separable resize to (width, height) with the Lanczos-3 kernel sinc(x) sinc(x/3), |x| < 3,
// weights normalised to sum 1, out-of-range taps replicated from the edge. When shrinking, the
// kernel is not widened (pure interpolation, as used for upscaling). Not clipped.
Image ResizeLanczos3(const Image& image, int width, int height,
                     Lattice lattice = Lattice::kCentered);
// Same with the Keys cubic kernel (a = -0.5), i.e. bicubic interpolation.
Image ResizeBicubic(const Image& image, int width, int height,
                    Lattice lattice = Lattice::kCentered);
double Lanczos3Kernel(double x);
double CubicKernel(double x);

// How a low-resolution image was made from a high-resolution one, factor times larger: the
// operator A that upscaling inverts and its evaluation degrades with (docs/FORMATS.md, resizing).
// Each LR pixel is a weighted mean of HR pixels; the weights of a row are clipped to the image
// and renormalised, as Pillow does.
//   area     the mean of its factor x factor block (PIL BOX, skimage downscale_local_mean,
//            OpenCV INTER_AREA): LR pixel n is centred on HR coordinate factor (n + 1/2) - 1/2;
//   bicubic  Pillow's antialiased BICUBIC downscaling (Keys a = -0.5 stretched by the factor),
//            same centres;
//   gaussian:SIGMA  a Gaussian PSF of SIGMA HR pixels at the same centres;
//   corner:SIGMA    the paper's (Roussos-Maragos) lattice: GaussianBlur, then every
//            factor-th pixel from 0 (LR pixel n on HR pixel factor n); SIGMA 0 is plain
//            subsampling.
struct Degradation {
  enum class Kind { kArea, kBicubic, kGaussian, kCorner };
  Kind kind = Kind::kArea;
  double sigma = 0;  // gaussian and corner: the PSF's sigma in HR pixels
  void Validate() const;
};
// Parses "area", "bicubic", "gaussian:SIGMA", "corner:SIGMA"; DegradationName is its inverse.
Degradation ParseDegradation(const std::string& spec);
std::string DegradationName(const Degradation& degradation);
// The resampling lattice of a degradation's LR pixels (kCorner for corner, else kCentered):
// what an interpolator of its LR images must assume.
Lattice DegradationLattice(const Degradation& degradation);
// A: the LR image (hr size / factor, which must divide it).
Image Degrade(const Image& hr, int factor, const Degradation& degradation);
// hr += scale * A^T lr (the adjoint), without an HR-sized temporary.
void AddDegradeAdjoint(const Image& lr, int factor, const Degradation& degradation, float scale,
                       Image& hr);
// The largest eigenvalue of A A^T (1 / factor^2 for area): a step u += s A^T (f - A u) with
// s = 1 / gain back-projects the residual exactly, and is stable for s < 2 / gain.
double DegradationGain(const Degradation& degradation, int factor);

// 2-D DCT-II / DCT-III of a single plane through FFTW (REDFT10 / REDFT01), unnormalised as FFTW
// defines them: Dct3(Dct2(u)) = 4 * W * H * u. Plans are cached per size and thread-safe.
void Dct2(const double* in, double* out, int width, int height);
void Dct3(const double* in, double* out, int width, int height);

}  // namespace blade
