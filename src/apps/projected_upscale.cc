// Upscaling with an exact data constraint (paper eq. 4.7; REFERENCE_SCHEMES.md §6): Fourier u0 and
// projection P0.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/pde.h"
#include "blade/restore.h"
#include "ops/fft.h"

namespace blade {
namespace {

using Complex = std::complex<double>;

// Frequency response of the sampled Gaussian PSF (the taps GaussianBlur uses) at omega radians
// per HR sample. Using the discrete kernel rather than the continuous Gaussian makes u0 and P0
// exact for the same blur that SubsampleOperator applies.
double PsfResponse(const std::vector<double>& taps, double omega) {
  const int r = int(taps.size()) / 2;
  double h = taps[r];
  for (int t = 1; t <= r; ++t) h += 2 * taps[r + t] * std::cos(omega * t);
  return h;
}

// One line of FourierInterpolate: n LR samples -> factor * n HR samples.
void InterpolateLine(const double* in, int n, int factor, const std::vector<double>& taps,
                     double* out) {
  const int n2 = 2 * n, m2 = 2 * n * factor;
  std::vector<double> ext(n2);
  for (int i = 0; i < n; ++i) ext[i] = ext[n2 - 1 - i] = in[i];  // half-sample symmetric
  std::vector<Complex> spec(std::size_t(m2) / 2 + 1, 0.0);
  fftw_execute_dft_r2c(fft::RealToComplex1d(n2), ext.data(),
                       reinterpret_cast<fftw_complex*>(spec.data()));
  for (int k = 0; k <= n; ++k) {
    const double h = PsfResponse(taps, 2 * M_PI * k / m2);
    // A PSF response near zero means the band cannot be recovered; such a PSF is refused
    // upstream (sigma limit), so this only guards rounding.
    spec[k] /= n2 * (std::abs(h) > 1e-12 ? h : 1e-12);
  }
  spec[n] = 0;  // the Nyquist bin of an HS-symmetric signal is zero; drop rounding noise
  std::vector<double> hr(m2);
  fftw_execute_dft_c2r(fft::ComplexToReal1d(m2), reinterpret_cast<fftw_complex*>(spec.data()),
                       hr.data());
  std::copy(hr.begin(), hr.begin() + std::size_t(n) * factor, out);
}

// Half-sample symmetric index into [0, n).
int Reflect(int i, int n) {
  const int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

void CheckPsf(double psf_sigma, int factor) {
  RequireNonNegative(psf_sigma, "PSF sigma");
  // Above about one LR pixel the Gaussian's response at the LR band edge falls below 1e-5 and
  // inverting it (u0) only amplifies rounding; Getreuer's code has the same limit.
  if (psf_sigma > factor)
    Fail("PSF sigma ", psf_sigma, " HR pixels is above one LR pixel (", factor,
         "): the blur removes the band that upscaling must recover");
}

}  // namespace

Image FourierInterpolate(const Image& f, int factor, double psf_sigma) {
  if (factor < 1 || factor > 16) Fail("upscaling factor must be 1..16 (got ", factor, ")");
  CheckPsf(psf_sigma, factor);
  if (f.empty()) Fail("the image to upscale is empty");
  if (!AllFinite(f)) Fail("the image to upscale contains NaN or infinite values");
  CheckUpscaledSize(f, factor);
  const std::vector<double> taps = psf_sigma > 0 ? GaussianTaps(psf_sigma) : std::vector<double>{1};
  const int w = f.width(), h = f.height(), W = w * factor, H = h * factor;
  Image out(W, H, f.channels());
  for (int c = 0; c < f.channels(); ++c) {
    // Rows first (w -> W), then columns (h -> H), in double.
    std::vector<double> rows(std::size_t(W) * h);
    ParallelFor(0, h, [&](int y) {
      std::vector<double> line(f.row(c, y), f.row(c, y) + w);
      InterpolateLine(line.data(), w, factor, taps, &rows[std::size_t(y) * W]);
    });
    ParallelFor(0, W, [&](int x) {
      std::vector<double> col(h), up(H);
      for (int y = 0; y < h; ++y) col[y] = rows[std::size_t(y) * W + x];
      InterpolateLine(col.data(), h, factor, taps, up.data());
      for (int y = 0; y < H; ++y) out.at(c, x, y) = float(up[y]);
    });
  }
  return out;
}

Image ProjectToNullSpace(const Image& v, int factor, double psf_sigma) {
  if (factor < 1 || factor > 16) Fail("upscaling factor must be 1..16 (got ", factor, ")");
  CheckPsf(psf_sigma, factor);
  if (v.width() % factor || v.height() % factor)
    Fail("image ", v.width(), "x", v.height(), " is not divisible by the factor ", factor);
  const std::vector<double> taps = psf_sigma > 0 ? GaussianTaps(psf_sigma) : std::vector<double>{1};
  const int w = v.width(), h = v.height();
  // Symmetric padding of 5 LR pixels (at most the image size), a multiple of the factor so the
  // sampling lattice of the padded grid is the image's.
  const int px = std::min(5 * factor, w / factor * factor),
            py = std::min(5 * factor, h / factor * factor);
  const int nx = w + 2 * px, ny = h + 2 * py, mx = nx / factor, my = ny / factor;
  if (int(taps.size()) / 2 >= std::min(nx, ny) / 2)
    Fail("PSF sigma ", psf_sigma, " is too large for a ", w, "x", h, " image");
  // Per-axis responses of the PSF on the transform grid; the 2-D response is their product.
  std::vector<double> hx(nx), hy(ny);
  for (int k = 0; k < nx; ++k) hx[k] = PsfResponse(taps, 2 * M_PI * k / nx);
  for (int k = 0; k < ny; ++k) hy[k] = PsfResponse(taps, 2 * M_PI * k / ny);
  // Alias energy per residue class: sum over j of h(k + j m)^2, separable.
  std::vector<double> ex(mx, 0.0), ey(my, 0.0);
  for (int k = 0; k < nx; ++k) ex[k % mx] += hx[k] * hx[k];
  for (int k = 0; k < ny; ++k) ey[k % my] += hy[k] * hy[k];
  Image out(w, h, v.channels());
  std::vector<Complex> spec(std::size_t(nx) * ny);
  auto* fs = reinterpret_cast<fftw_complex*>(spec.data());
  for (int c = 0; c < v.channels(); ++c) {
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x)
        spec[std::size_t(y) * nx + x] = v.at(c, Reflect(x - px, w), Reflect(y - py, h));
    fftw_execute_dft(fft::Complex2dInPlace(ny, nx, FFTW_FORWARD), fs, fs);
    // For each alias class (kx mod mx, ky mod my): S = sum h V over the class, then
    // V(k) -= h(k) S / E. The 1/factor^2 of down and up cancel in this ratio.
    ParallelFor(0, my, [&](int ry) {
      for (int rx = 0; rx < mx; ++rx) {
        const double e = ex[rx] * ey[ry];
        if (e <= 1e-300) continue;  // no signal reaches these samples: nothing to remove
        Complex s = 0;
        for (int ky = ry; ky < ny; ky += my)
          for (int kx = rx; kx < nx; kx += mx)
            s += hx[kx] * hy[ky] * spec[std::size_t(ky) * nx + kx];
        const Complex q = s / e;
        for (int ky = ry; ky < ny; ky += my)
          for (int kx = rx; kx < nx; kx += mx)
            spec[std::size_t(ky) * nx + kx] -= hx[kx] * hy[ky] * q;
      }
    });
    fftw_execute_dft(fft::Complex2dInPlace(ny, nx, FFTW_BACKWARD), fs, fs);
    const double norm = 1.0 / (double(nx) * ny);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        out.at(c, x, y) = float(spec[std::size_t(y + py) * nx + x + px].real() * norm);
  }
  return out;
}

Image UpscaleProjected(const Model& model, const Image& f, int factor,
                       const Degradation& degradation, const RestoreOptions& o) {
  if (degradation.kind != Degradation::Kind::kCorner)
    Fail(
        "eq. 4.7 (projected upscaling) is exact for the paper's corner:SIGMA degradation only, "
        "not ",
        DegradationName(degradation), "; use eq. 4.6 (without --project) for it");
  degradation.Validate();
  const double psf_sigma = degradation.sigma;
  if (model.form == ModelForm::kResample)
    Fail("upscaling needs a direct or flux model, not a resampling model");
  o.Validate();  // 1..100000 steps, as every restoration run
  // The same guards as every run (ResolveRun): no step larger than the model's dt, no run past
  // its horizon, unless unsafe. This loop projects each update, so it cannot use RunModel.
  RunOptions guard;
  guard.steps = o.steps;
  guard.dt = o.dt;
  guard.integrator = o.integrator;
  guard.unsafe = o.unsafe;
  const double dt = ResolveRun(model, guard).dt;
  Image u = FourierInterpolate(f, factor, psf_sigma);
  // Every update is projected, so each iterate keeps down(phi * u) = f (eq. 4.7).
  auto step = [&](const Image& at) {
    return ProjectToNullSpace(EvaluateRhs(model, at), factor, psf_sigma);
  };
  for (int k = 1; k <= o.steps; ++k) {
    CheckInterrupt();
    if (o.integrator == Integrator::kEuler) {
      Axpy(float(dt), step(u), u);
    } else {
      Image half = u.Copy();
      Axpy(float(dt / 2), step(u), half);
      Axpy(float(dt), step(half), u);
    }
    if (!AllFinite(u)) throw DivergedError(k, o.steps);
  }
  return u;
}

}  // namespace blade
