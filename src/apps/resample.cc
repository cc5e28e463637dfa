// Resampling along a flow: classical interpolators, BLADE^x/BLADE^y (eq. 5.1-5.3), the shifted
// observation model, the synthetic-burst measurement (training: src/train/resample_train.cc).
#include "blade/resample.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <random>

#include "blade/error.h"
#include "blade/filter.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/selection.h"

namespace blade {
namespace {

void RequireFlowFits(const Image& in, const Flow& flow) {
  if (in.empty()) Fail("the image to resample is empty");
  if (flow.width != in.width() || flow.height != in.height())
    Fail("the flow is ", flow.width, "x", flow.height, " but the image is ", in.width(), "x",
         in.height());
  if (!AllFinite(in)) Fail("the image to resample contains NaN or infinite values");
  for (std::size_t i = 0; i < flow.u.size(); ++i)
    if (!std::isfinite(flow.u[i]) || !std::isfinite(flow.v[i]) || std::abs(flow.u[i]) > 1e6f ||
        std::abs(flow.v[i]) > 1e6f)
      Fail("the flow has a non-finite or absurd vector at pixel ", i);
}

// Separable interpolation at (fx, fy) with a kernel of half-width `radius`, clamped borders.
// Weights are normalised so constants are reproduced exactly (Lanczos does not sum to 1).
template <typename Kernel>
float Interpolate(const float* plane, int w, int h, double fx, double fy, int radius, Kernel k) {
  const int x0 = int(std::floor(fx)), y0 = int(std::floor(fy));
  double wx[8], wy[8], sx = 0, sy = 0;
  for (int i = 0; i < 2 * radius; ++i) {
    wx[i] = k(fx - (x0 - radius + 1 + i));
    wy[i] = k(fy - (y0 - radius + 1 + i));
    sx += wx[i];
    sy += wy[i];
  }
  double acc = 0;
  for (int j = 0; j < 2 * radius; ++j) {
    const float* row = plane + std::size_t(std::clamp(y0 - radius + 1 + j, 0, h - 1)) * w;
    double r = 0;
    for (int i = 0; i < 2 * radius; ++i)
      r += wx[i] * row[std::clamp(x0 - radius + 1 + i, 0, w - 1)];
    acc += wy[j] * r;
  }
  return float(acc / (sx * sy));
}

double Linear(double x) { return std::max(0.0, 1 - std::abs(x)); }

}  // namespace

ResampleMethod ParseResampleMethod(const std::string& name) {
  if (name == "blade") return ResampleMethod::kBlade;
  if (name == "bicubic") return ResampleMethod::kBicubic;
  if (name == "bilinear") return ResampleMethod::kBilinear;
  if (name == "lanczos" || name == "lanczos3") return ResampleMethod::kLanczos3;
  Fail("unknown resampling method '", name, "' (blade, bicubic, bilinear or lanczos)");
}

std::string ResampleMethodName(ResampleMethod m) {
  switch (m) {
    case ResampleMethod::kBlade:
      return "blade";
    case ResampleMethod::kBicubic:
      return "bicubic";
    case ResampleMethod::kBilinear:
      return "bilinear";
    case ResampleMethod::kLanczos3:
      return "lanczos";
  }
  return "?";
}

Image ResampleClassical(const Image& in, const Flow& flow, ResampleMethod method) {
  RequireFlowFits(in, flow);
  const int w = in.width(), h = in.height();
  Image out(w, h, in.channels());
  for (int c = 0; c < in.channels(); ++c) {
    const float* p = in.plane(c);
    ParallelFor(0, h, [&](int y) {
      for (int x = 0; x < w; ++x) {
        const double fx = x + flow.U(x, y), fy = y + flow.V(x, y);
        float v = 0;
        switch (method) {
          case ResampleMethod::kBilinear:
            v = Interpolate(p, w, h, fx, fy, 1, Linear);
            break;
          case ResampleMethod::kBicubic:
            v = Interpolate(p, w, h, fx, fy, 2, CubicKernel);
            break;
          case ResampleMethod::kLanczos3:
            v = Interpolate(p, w, h, fx, fy, 3, Lanczos3Kernel);
            break;
          case ResampleMethod::kBlade:
            Fail("BLADE resampling needs a model");
        }
        out.at(c, x, y) = v;
      }
    });
  }
  return out;
}

std::vector<std::pair<int, int>> ResampleMonomials(int order) {
  if (order < 1 || order > 3) Fail("resampling order must be 1, 2 or 3 (got ", order, ")");
  std::vector<std::pair<int, int>> m;
  for (int degree = 1; degree <= order; ++degree)
    for (int b = 0; b <= degree; ++b) m.push_back({degree - b, b});
  return m;  // (1,0), (0,1), then (2,0), (1,1), (0,2), then degree 3
}

int ResampleOrder(const Model& model) {
  switch (model.banks.size()) {
    case 2:
      return 1;
    case 5:
      return 2;
    case 9:
      return 3;
  }
  Fail("a resampling model has 2, 5 or 9 banks, not ", model.banks.size());
}

Image ResampleBlade(const Model& model, const Image& in, const Flow& flow) {
  if (model.form != ModelForm::kResample)
    Fail("BLADE resampling needs a resampling model (form \"resample\"), not a ",
         FormName(model.form), " model");
  RequireFlowFits(in, flow);
  const auto mono = ResampleMonomials(ResampleOrder(model));
  const auto sel = ComputeSelections(model, in);
  std::vector<Image> terms;
  for (std::size_t b = 0; b < model.banks.size(); ++b)
    terms.push_back(ApplyFilters(model.banks[b].filters, sel[b], in));
  const int w = in.width(), h = in.height();
  Image out(w, h, in.channels());
  for (int c = 0; c < in.channels(); ++c)
    ParallelFor(0, h, [&](int y) {
      for (int x = 0; x < w; ++x) {
        const float u = flow.U(x, y), v = flow.V(x, y);
        const float nu = std::round(u), nv = std::round(v);
        const double du = u - nu, dv = v - nv;
        const int sx = std::clamp(x + int(nu), 0, w - 1), sy = std::clamp(y + int(nv), 0, h - 1);
        // Powers d^0..d^3 once per pixel, not a pow() per bank.
        const double pu[4] = {1, du, du * du, du * du * du}, pv[4] = {1, dv, dv * dv, dv * dv * dv};
        double acc = in.at(c, sx, sy);
        for (std::size_t b = 0; b < mono.size(); ++b)
          acc += pu[mono[b].first] * pv[mono[b].second] * terms[b].at(c, sx, sy);
        out.at(c, x, y) = float(acc);
      }
    });
  return out;
}

void RequireModelOnlyForBlade(ResampleMethod method, bool model_given) {
  if (model_given && method != ResampleMethod::kBlade)
    Fail("a resampling model is for the blade method; ", ResampleMethodName(method),
         " takes none (leave the model out, or use the blade method)");
}

Image Resample(const Image& in, const Flow& flow, ResampleMethod method, const Model* model) {
  RequireModelOnlyForBlade(method, model != nullptr);
  if (method == ResampleMethod::kBlade) {
    if (model == nullptr) Fail("BLADE resampling needs a model");
    return ResampleBlade(*model, in, flow);
  }
  return ResampleClassical(in, flow, method);
}

Image ObserveShifted(const Image& hr, int factor, double psf_sigma, const Flow& shift) {
  if (factor < 1 || factor > 16) Fail("observation factor must be 1..16 (got ", factor, ")");
  RequirePositive(psf_sigma, "PSF sigma");
  if (psf_sigma > 8) Fail("PSF sigma ", psf_sigma, " LR pixels is too large (at most 8)");
  const int w = hr.width() / factor, h = hr.height() / factor;
  if (w < 1 || h < 1) Fail("image ", hr.width(), "x", hr.height(), " is smaller than the factor");
  if (!shift.u.empty() && (shift.width != w || shift.height != h))
    Fail("the shift field is ", shift.width, "x", shift.height, ", the observation ", w, "x", h);
  const double s = psf_sigma * factor, offset = (factor - 1) / 2.0;
  const int radius = int(std::ceil(3 * s)) + 1;
  const int W = hr.width(), H = hr.height();
  Image out(w, h, hr.channels());
  ParallelFor(0, h, [&](int y) {
    std::vector<double> wx(2 * radius + 2), wy(2 * radius + 2);
    for (int x = 0; x < w; ++x) {
      const double px = factor * (x + (shift.u.empty() ? 0.0 : shift.U(x, y))) + offset;
      const double py = factor * (y + (shift.u.empty() ? 0.0 : shift.V(x, y))) + offset;
      const int x0 = int(std::floor(px)) - radius, y0 = int(std::floor(py)) - radius;
      const int n = 2 * radius + 2;
      double sx = 0, sy = 0;
      for (int i = 0; i < n; ++i) {
        wx[i] = std::exp(-(x0 + i - px) * (x0 + i - px) / (2 * s * s));
        wy[i] = std::exp(-(y0 + i - py) * (y0 + i - py) / (2 * s * s));
        sx += wx[i];
        sy += wy[i];
      }
      for (int c = 0; c < hr.channels(); ++c) {
        double acc = 0;
        for (int j = 0; j < n; ++j) {
          const float* row = hr.row(c, std::clamp(y0 + j, 0, H - 1));
          double r = 0;
          for (int i = 0; i < n; ++i) r += wx[i] * row[std::clamp(x0 + i, 0, W - 1)];
          acc += wy[j] * r;
        }
        out.at(c, x, y) = float(acc / (sx * sy));
      }
    }
  });
  return out;
}

BurstScore EvaluateBurst(const Image& hr, const Model* model, std::uint64_t seed, double noise) {
  if (hr.channels() != 1) Fail("the burst measurement works on luma");
  const int factor = 4;
  const double psf = 0.5;
  const int w = hr.width() / factor, h = hr.height() / factor;
  if (w < 48 || h < 48)
    Fail("image too small for the burst measurement: it needs at least ", 48 * factor, "x",
         48 * factor, " pixels (got ", hr.width(), "x", hr.height(),
         ", the image cropped to a multiple of ", factor, ")");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0, 1);
  // F = mean + one plane wave per component: smooth, spatially varying, up to ~1.8 px.
  const double ax = 2 * uni(rng) - 1, ay = 2 * uni(rng) - 1;
  const double bx = 0.3 + 0.5 * uni(rng), by = 0.3 + 0.5 * uni(rng);
  const double kx1 = (0.5 + uni(rng)) * 2 * M_PI / w, ky1 = (0.5 + uni(rng)) * 2 * M_PI / h;
  const double kx2 = (0.5 + uni(rng)) * 2 * M_PI / w, ky2 = (0.5 + uni(rng)) * 2 * M_PI / h;
  const double p1 = 2 * M_PI * uni(rng), p2 = 2 * M_PI * uni(rng);
  auto fu = [&](double x, double y) { return ax + bx * std::sin(kx1 * x + ky1 * y + p1); };
  auto fv = [&](double x, double y) { return ay + by * std::cos(kx2 * x - ky2 * y + p2); };
  Flow f1(w, h), f2(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double u = fu(x, y), v = fv(x, y);
      f1.U(x, y) = float(u);
      f1.V(x, y) = float(v);
      f2.U(x, y) = float(u + fu(x + u, y + v));
      f2.V(x, y) = float(v + fv(x + u, y + v));
    }
  const Image c0 = ObserveShifted(hr, factor, psf, Flow());
  const Image c1 = ObserveShifted(hr, factor, psf, f1);
  const Image c2 = ObserveShifted(hr, factor, psf, f2);
  std::normal_distribution<float> gauss(0.f, float(noise));
  Image n0 = c0.Copy(), n1 = c1.Copy();
  for (std::size_t i = 0; i < n0.size(); ++i) n0.data()[i] += gauss(rng);
  for (std::size_t i = 0; i < n1.size(); ++i) n1.data()[i] += gauss(rng);
  const Rect inner{4, 4, w - 8, h - 8};
  BurstScore score;
  for (ResampleMethod m : {ResampleMethod::kBlade, ResampleMethod::kBicubic,
                           ResampleMethod::kBilinear, ResampleMethod::kLanczos3}) {
    if (m == ResampleMethod::kBlade && model == nullptr) continue;
    const Model* with = m == ResampleMethod::kBlade ? model : nullptr;
    Image r1 = Resample(n0, f1, m, with);
    Image r2 = Resample(r1, f1, m, with);
    score.psnr_1[int(m)] = Psnr(Crop(r1, inner), Crop(c1, inner));
    score.psnr_2[int(m)] = Psnr(Crop(r2, inner), Crop(c2, inner));
  }
  score.epe = EndPointError(AlignBlockMatching(n1, n0), f1, 8);
  return score;
}

}  // namespace blade
