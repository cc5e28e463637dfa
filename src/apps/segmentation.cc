// Chan–Vese segmentation: the IPOL reference scheme and the BLADE TV variant (eq. 4.10–4.11).
#include "blade/segmentation.h"

#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/parallel.h"
#include "blade/pde.h"

namespace blade {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Region averages with the sharp Heaviside: c1 over phi >= 0, c2 over phi < 0 (0 if empty).
// Branch-free; `omp simd` lets the sums be split across vector lanes (a fixed split for a
// given build, whatever the thread count), so the loop vectorizes.
void RegionAverages(const Image& f, const Image& phi, std::vector<double>& c1,
                    std::vector<double>& c2) {
  c1.assign(f.channels(), 0.0);
  c2.assign(f.channels(), 0.0);
  const std::size_t size = f.plane_size();
  const float* pp = phi.plane(0);
  for (int c = 0; c < f.channels(); ++c) {
    double s1 = 0, s2 = 0, n1 = 0;
    const float* fp = f.plane(c);
#pragma omp simd reduction(+ : s1, s2, n1)
    for (std::size_t i = 0; i < size; ++i) {
      const double inside = pp[i] >= 0 ? 1.0 : 0.0, v = fp[i];
      s1 += inside * v;
      s2 += (1 - inside) * v;
      n1 += inside;
    }
    const double n2 = double(size) - n1;
    c1[c] = n1 > 0 ? s1 / n1 : 0;
    c2[c] = n2 > 0 ? s2 / n2 : 0;
  }
}

// One channel's share of the data term: -lambda1 (v - a)^2 + lambda2 (v - b)^2.
inline double ChannelDataTerm(double v, double a, double b, const ChanVeseParams& p) {
  return -p.lambda1 * ((v - a) * (v - a)) + p.lambda2 * ((v - b) * (v - b));
}

// The data term -lambda1 |f - c1|^2 + lambda2 |f - c2|^2 at pixel i (summed over channels).
inline double DataTerm(const Image& f, std::size_t i, const std::vector<double>& c1,
                       const std::vector<double>& c2, const ChanVeseParams& p) {
  double sum = 0;
  for (int c = 0; c < f.channels(); ++c) sum += ChannelDataTerm(f.plane(c)[i], c1[c], c2[c], p);
  return sum;
}

void CheckInput(const Image& f) {
  if (f.empty()) Fail("the image to segment is empty");
  if (!AllFinite(f)) Fail("the image to segment contains NaN or infinite values");
  // A flat image has no two regions: the level set would follow its checkerboard start and the
  // curvature term alone, giving an arbitrary mask.
  bool flat = true;  // every channel constant (a flat color too)
  for (int c = 0; c < f.channels() && flat; ++c) {
    const float* p = f.plane(c);
    const auto [lo, hi] = std::minmax_element(p, p + f.plane_size());
    flat = *hi - *lo < 1e-6f;
  }
  if (flat) Fail("the image to segment is constant: there are no two regions to separate");
}

}  // namespace

void ChanVeseParams::Validate() const {
  RequireNonNegative(mu, "Chan-Vese mu");
  RequireFinite(nu, "Chan-Vese nu");
  RequireNonNegative(lambda1, "Chan-Vese lambda1");
  RequireNonNegative(lambda2, "Chan-Vese lambda2");
  RequirePositive(dt, "Chan-Vese dt");
  RequireNonNegative(tolerance, "Chan-Vese tolerance");
  if (iterations < 1 || iterations > 1000000) Fail("Chan-Vese iterations must be 1..1000000");
}

Image ChanVeseInitialPhi(int width, int height) {
  Image phi(width, height);
  for (int n = 0; n < height; ++n)
    for (int m = 0; m < width; ++m)
      phi.at(0, m, n) = float(std::sin(kPi * m / 5.0) * std::sin(kPi * n / 5.0));
  return phi;
}

Image ChanVeseReference(const Image& f, const ChanVeseParams& p,
                        const std::function<void(int, int)>& on_progress) {
  p.Validate();
  CheckInput(f);
  const int w = f.width(), h = f.height();
  Image phi_img = ChanVeseInitialPhi(w, h);
  // Double precision state: the Gauss–Seidel sweep updates in place, in raster order.
  std::vector<double> phi(phi_img.data(), phi_img.data() + phi_img.size());
  std::vector<double> c1, c2;
  const double eta2 = 1e-16;
  for (int iter = 1; iter <= p.iterations; ++iter) {
    CheckInterrupt();
    for (std::size_t i = 0; i < phi.size(); ++i) phi_img.data()[i] = float(phi[i]);
    RegionAverages(f, phi_img, c1, c2);
    double change = 0;
    for (int n = 0; n < h; ++n) {
      const int up = n > 0 ? n - 1 : 0, dn = n + 1 < h ? n + 1 : h - 1;
      for (int m = 0; m < w; ++m) {
        const int lt = m > 0 ? m - 1 : 0, rt = m + 1 < w ? m + 1 : w - 1;
        const std::size_t i = std::size_t(n) * w + m;
        const double c = phi[i], r = phi[n * std::size_t(w) + rt], l = phi[n * std::size_t(w) + lt];
        const double d = phi[dn * std::size_t(w) + m], u = phi[up * std::size_t(w) + m];
        const double fx = (r - l) / 2, fy = (d - u) / 2;
        const double cr = 1 / std::sqrt(eta2 + (r - c) * (r - c) + fy * fy);
        const double cl = 1 / std::sqrt(eta2 + (c - l) * (c - l) + fy * fy);
        const double cd = 1 / std::sqrt(eta2 + fx * fx + (d - c) * (d - c));
        const double cu = 1 / std::sqrt(eta2 + fx * fx + (c - u) * (c - u));
        const double delta = p.dt / (kPi * (1 + c * c));
        const double next = (c + delta * (p.mu * (cr * r + cl * l + cd * d + cu * u) - p.nu +
                                          DataTerm(f, i, c1, c2, p))) /
                            (1 + delta * p.mu * (cr + cl + cd + cu));
        change += (next - c) * (next - c);
        phi[i] = next;
      }
    }
    if (on_progress) on_progress(iter, p.iterations);
    if (p.tolerance > 0 && iter >= 2 && std::sqrt(change / phi.size()) <= p.tolerance) break;
  }
  for (std::size_t i = 0; i < phi.size(); ++i) phi_img.data()[i] = float(phi[i]);
  return phi_img;
}

namespace {

// acc - lambda1 (v - a)^2 + lambda2 (v - b)^2: one channel's data term added to the force.
inline float AddChannelForce(float acc, float v, float a, float b, float l1, float l2) {
  return acc - l1 * ((v - a) * (v - a)) + l2 * ((v - b) * (v - b));
}

// One block [i0, i1) of the BLADE update phi += dt / (pi (1 + phi^2)) (mu kappa + force), force
// = -nu + the data term over kChannels channels, in float like the state and the curvature
// (double arithmetic and its division took a fifth of a BLADE segmentation); returns the sum
// of squared steps, in double. Restrict pointers in a plain function: through pointers
// captured by a lambda the compiler ran its scalar version of the loop.
template <int kChannels>
double BladeUpdateBlock(float* __restrict state, const float* __restrict kappa,
                        const float* const* fp, const std::vector<double>& c1,
                        const std::vector<double>& c2, const ChanVeseParams& p, std::size_t i0,
                        std::size_t i1) {
  const float nu = float(p.nu), mu = float(p.mu), l1 = float(p.lambda1), l2 = float(p.lambda2);
  const float k = float(p.dt / kPi);
  // Channels 1 and 2 (channel 0 again for gray, where they are not read).
  const int j1 = kChannels == 3 ? 1 : 0, j2 = kChannels == 3 ? 2 : 0;
  const float* __restrict f0 = fp[0];
  const float* __restrict f1 = fp[j1];
  const float* __restrict f2 = fp[j2];
  const float a0 = float(c1[0]), b0 = float(c2[0]);
  const float a1 = float(c1[j1]), b1 = float(c2[j1]);
  const float a2 = float(c1[j2]), b2 = float(c2[j2]);
  double change = 0;
#pragma omp simd reduction(+ : change)
  for (std::size_t i = i0; i < i1; ++i) {
    float force = AddChannelForce(-nu, f0[i], a0, b0, l1, l2);
    if constexpr (kChannels == 3) {
      force = AddChannelForce(force, f1[i], a1, b1, l1, l2);
      force = AddChannelForce(force, f2[i], a2, b2, l1, l2);
    }
    const float c = state[i];
    const float step = k / (1 + c * c) * (mu * kappa[i] + force);
    state[i] = c + step;
    change += double(step) * step;
  }
  return change;
}

}  // namespace

Image ChanVeseBlade(const Image& f, const Model& model, const ChanVeseParams& p,
                    const std::function<void(int, int)>& on_progress) {
  p.Validate();
  CheckInput(f);
  if (model.form == ModelForm::kResample)
    Fail("segmentation needs a TV flow model (direct or flux), not a resampling model");
  Image phi = ChanVeseInitialPhi(f.width(), f.height());
  std::vector<double> c1, c2;
  const std::size_t size = phi.size();
  // The update in one pass per fixed block of pixels (the data term, the step and its size),
  // split over the threads; the change is summed per block, then over blocks in order, so it
  // does not depend on the thread count.
  constexpr std::size_t kBlock = 1 << 15;
  const int blocks = int((size + kBlock - 1) / kBlock);
  std::vector<double> partial(blocks);
  const int channels = f.channels();
  for (int iter = 1; iter <= p.iterations; ++iter) {
    CheckInterrupt();
    RegionAverages(f, phi, c1, c2);
    Image curvature = EvaluateRhs(model, phi);
    float* ph = phi.data();
    const float* curv = curvature.data();
    const float* fp[3] = {f.plane(0), f.plane(channels == 3 ? 1 : 0),
                          f.plane(channels == 3 ? 2 : 0)};
    ParallelFor(0, blocks, [&](int b) {
      const std::size_t i0 = std::size_t(b) * kBlock, i1 = std::min(size, i0 + kBlock);
      partial[b] = channels == 1 ? BladeUpdateBlock<1>(ph, curv, fp, c1, c2, p, i0, i1)
                                 : BladeUpdateBlock<3>(ph, curv, fp, c1, c2, p, i0, i1);
    });
    double change = 0;
    for (double v : partial) change += v;
    if (!AllFinite(phi)) throw DivergedError(iter, p.iterations);
    if (on_progress) on_progress(iter, p.iterations);
    if (p.tolerance > 0 && iter >= 2 && std::sqrt(change / phi.size()) <= p.tolerance) break;
  }
  return phi;
}

void RequireNoModelForReference(bool reference, bool model_given) {
  if (reference && model_given)
    Fail(
        "the reference scheme takes no model (a model, its parameters or --force-model would be "
        "ignored); leave them out, or drop the reference to run BLADE");
}

Image SegmentationMask(const Image& phi, const Image& f) {
  const Image luma = ToLuma(f);
  RequireSameShape(phi, luma, "level set and image");
  Image mask(phi.width(), phi.height());
  double sum[2] = {0, 0};
  std::size_t count[2] = {0, 0};
  for (std::size_t i = 0; i < phi.size(); ++i) {
    const int in = phi.data()[i] >= 0;
    mask.data()[i] = float(in);
    sum[in] += luma.data()[i];
    ++count[in];
  }
  // Equal means (two colours of one luma): white on the smaller region, an object on its
  // background, rather than on whichever side the solver left at phi >= 0.
  const double in = count[1] ? sum[1] / count[1] : 0, out = count[0] ? sum[0] / count[0] : 0;
  if (count[0] && count[1] && (in < out || (in == out && count[1] > count[0])))
    for (std::size_t i = 0; i < mask.size(); ++i) mask.data()[i] = 1.f - mask.data()[i];
  return mask;
}

Image SegmentationOverlay(const Image& f, const Image& mask) {
  RequireSameShape(ToLuma(f), mask, "image and mask");
  Image out = ToRgb(f);
  const int w = mask.width(), h = mask.height();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const float v = mask.at(0, x, y);
      const bool edge =
          (x + 1 < w && mask.at(0, x + 1, y) != v) || (y + 1 < h && mask.at(0, x, y + 1) != v);
      if (!edge) continue;
      out.at(0, x, y) = 1.f;
      out.at(1, x, y) = 0.f;
      out.at(2, x, y) = 0.f;
    }
  return out;
}

double MaskAgreement(const Image& a, const Image& b) {
  RequireSameShape(a, b, "masks");
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += (a.data()[i] >= 0.5f) == (b.data()[i] >= 0.5f);
  return double(same) / double(a.size());
}

Image AlignLabels(const Image& a, const Image& b) {
  Image out = b.Copy();
  if (MaskAgreement(a, b) >= 0.5) return out;
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = out.data()[i] >= 0.5f ? 0.f : 1.f;
  return out;
}

double MaskIou(const Image& a, const Image& b) {
  RequireSameShape(a, b, "masks");
  std::size_t inter = 0, uni = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool x = a.data()[i] >= 0.5f, y = b.data()[i] >= 0.5f;
    inter += x && y;
    uni += x || y;
  }
  return uni == 0 ? 1.0 : double(inter) / double(uni);
}

}  // namespace blade
