// Restoration and non-blind deconvolution with a BLADE regulariser (eq. 4.1–4.5), and the classical
// counterpart.
#include "blade/restore.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <random>
#include <system_error>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/pde.h"

namespace blade {
namespace {

// obs - a, written into a (the data residual f - A u, without another image).
void SubtractFrom(const Image& obs, Image& a) {
  RequireSameShape(a, obs, "operator output and observation");
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = obs.data()[i] - a.data()[i];
}

// The time step a restoration-type run takes: the option's, else the model's.
double RunDt(const Model& model, const RestoreOptions& o) {
  const double dt = o.dt > 0 ? o.dt : model.dt;
  RequirePositive(dt, "the time step");
  return dt;
}

// The data term's explicit step u += dt lambda A^T (f - A u) shrinks the residual only while
// dt lambda |A^T A| < 2; past that it grows every step, and the run blows up with a message
// about the time step. `norm` is |A^T A| (1 for a blur, a mask and deconvolution's PSF).
void RequireStableDataStep(double dt, double lambda, double norm) {
  if (dt * lambda * norm >= 2)
    Fail("lambda ", lambda, " is too large for the step dt ", dt,
         ": the data term's explicit step (dt x lambda x |A^T A| = ", dt * lambda * norm,
         ") must stay below 2, or it grows every step; use lambda below ", 2 / (dt * norm));
}

}  // namespace

LinearOperator BlurOperator(double sigma) {
  RequirePositive(sigma, "blur sigma");
  if (sigma > 100) Fail("blur sigma ", sigma, " is too large (at most 100)");
  auto blur = [sigma](const Image& u) { return GaussianBlur(u, sigma); };
  return {StrCat("blur:sigma=", sigma), blur, blur, {}, {}, {}};
}

LinearOperator MaskOperator(const Image& mask_in) {
  Image mask = ToLuma(mask_in);
  bool any_known = false;
  for (std::size_t i = 0; i < mask.size(); ++i) {
    if (!(mask.data()[i] >= 0 && mask.data()[i] <= 1)) Fail("mask values must be in [0, 1]");
    any_known = any_known || mask.data()[i] > 0;
  }
  if (!any_known) Fail("the mask marks no pixel as known (white = known, black = to fill)");
  Image root(mask.width(), mask.height(), 1);
  for (std::size_t i = 0; i < mask.size(); ++i) root.data()[i] = std::sqrt(mask.data()[i]);
  auto shared = std::make_shared<Image>(std::move(mask));
  auto shared_root = std::make_shared<Image>(std::move(root));
  auto apply = [shared_root](const Image& u) {
    const Image& r = *shared_root;
    if (u.width() != r.width() || u.height() != r.height())
      Fail("the mask is ", r.width(), "x", r.height(), " but the image is ", u.width(), "x",
           u.height());
    Image out = u.Copy();
    for (int c = 0; c < u.channels(); ++c)
      for (std::size_t i = 0; i < u.plane_size(); ++i) out.plane(c)[i] *= r.data()[i];
    return out;
  };
  auto start = [shared](const Image& f) { return FillFromKnown(f, *shared); };
  auto finish = [shared](Image&& u, const Image& f) {
    for (int c = 0; c < u.channels(); ++c)
      for (std::size_t i = 0; i < u.plane_size(); ++i) {
        const float w = shared->data()[i];
        u.plane(c)[i] = w * f.plane(c)[i] + (1 - w) * u.plane(c)[i];
      }
    return std::move(u);
  };
  return {"mask", apply, apply, start, finish, apply};
}

namespace {

// One level of the push-pull pyramid of FillFromKnown: values and their weights in [0, 1].
struct FillLevel {
  int width = 0, height = 0;
  std::vector<float> v, w;
};

// The next coarser level: each pixel the weighted mean of a 2x2 block (cut at odd edges),
// weighted min(1, the block's weight sum).
FillLevel Push(const FillLevel& fine) {
  FillLevel coarse;
  coarse.width = (fine.width + 1) / 2;
  coarse.height = (fine.height + 1) / 2;
  coarse.v.assign(std::size_t(coarse.width) * coarse.height, 0.0f);
  coarse.w.assign(coarse.v.size(), 0.0f);
  for (int y = 0; y < coarse.height; ++y)
    for (int x = 0; x < coarse.width; ++x) {
      double ws = 0, vs = 0;
      for (int fy = 2 * y; fy < std::min(2 * y + 2, fine.height); ++fy)
        for (int fx = 2 * x; fx < std::min(2 * x + 2, fine.width); ++fx) {
          const std::size_t i = std::size_t(fy) * fine.width + fx;
          ws += fine.w[i];
          vs += double(fine.w[i]) * fine.v[i];
        }
      const std::size_t o = std::size_t(y) * coarse.width + x;
      coarse.v[o] = ws > 0 ? float(vs / ws) : 0.0f;
      coarse.w[o] = float(std::min(ws, 1.0));
    }
  return coarse;
}

// fine.v <- w v + (1 - w) coarse, the coarse level bilinearly interpolated at each fine pixel's
// centre (fine x sits at coarse coordinate (x + 1/2) / 2 - 1/2; clamped at the edges).
void Pull(const FillLevel& coarse, FillLevel& fine) {
  auto axis = [](int i, int n, int* i0, int* i1, float* t) {
    const double c = std::clamp((i + 0.5) / 2 - 0.5, 0.0, double(n - 1));
    *i0 = int(c);
    *i1 = std::min(*i0 + 1, n - 1);
    *t = float(c - *i0);
  };
  for (int y = 0; y < fine.height; ++y) {
    int y0, y1;
    float ty;
    axis(y, coarse.height, &y0, &y1, &ty);
    for (int x = 0; x < fine.width; ++x) {
      int x0, x1;
      float tx;
      axis(x, coarse.width, &x0, &x1, &tx);
      auto at = [&](int cx, int cy) { return coarse.v[std::size_t(cy) * coarse.width + cx]; };
      const float up = (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x1, y0)) +
                       ty * ((1 - tx) * at(x0, y1) + tx * at(x1, y1));
      const std::size_t i = std::size_t(y) * fine.width + x;
      fine.v[i] = fine.w[i] * fine.v[i] + (1 - fine.w[i]) * up;
    }
  }
}

}  // namespace

Image FillFromKnown(const Image& f, const Image& weight) {
  if (weight.channels() != 1 || weight.width() != f.width() || weight.height() != f.height())
    Fail("the fill's weights must be one plane of the image's size (", f.width(), "x", f.height(),
         "), got ", weight.width(), "x", weight.height(), "x", weight.channels());
  if (std::none_of(weight.data(), weight.data() + weight.size(), [](float w) { return w > 0; }))
    Fail("nothing to fill from: no pixel has a positive weight");
  Image out(f.width(), f.height(), f.channels());
  for (int c = 0; c < f.channels(); ++c) {
    std::vector<FillLevel> levels(1);
    levels[0].width = f.width();
    levels[0].height = f.height();
    levels[0].v.assign(f.plane(c), f.plane(c) + f.plane_size());
    levels[0].w.resize(f.plane_size());
    for (std::size_t i = 0; i < f.plane_size(); ++i)
      levels[0].w[i] = std::clamp(weight.data()[i], 0.0f, 1.0f);
    while (levels.back().width > 1 || levels.back().height > 1)
      levels.push_back(Push(levels.back()));
    for (std::size_t k = levels.size() - 1; k-- > 0;) Pull(levels[k + 1], levels[k]);
    std::copy(levels[0].v.begin(), levels[0].v.end(), out.plane(c));
  }
  return out;
}

LinearOperator SubsampleOperator(double sigma, int factor) {
  RequireNonNegative(sigma, "subsample sigma");
  if (factor < 1 || factor > 64) Fail("subsample factor must be 1..64 (got ", factor, ")");
  auto apply = [sigma, factor](const Image& u) {
    if (u.width() % factor || u.height() % factor)
      Fail("image ", u.width(), "x", u.height(), " is not divisible by the factor ", factor);
    Image b = GaussianBlur(u, sigma);
    Image out(u.width() / factor, u.height() / factor, u.channels());
    for (int c = 0; c < u.channels(); ++c)
      for (int y = 0; y < out.height(); ++y)
        for (int x = 0; x < out.width(); ++x) out.at(c, x, y) = b.at(c, x * factor, y * factor);
    return out;
  };
  auto adjoint = [sigma, factor](const Image& f) {
    Image up(f.width() * factor, f.height() * factor, f.channels());
    for (int c = 0; c < f.channels(); ++c)
      for (int y = 0; y < f.height(); ++y)
        for (int x = 0; x < f.width(); ++x) up.at(c, x * factor, y * factor) = f.at(c, x, y);
    return GaussianBlur(up, sigma);
  };
  return {StrCat("subsample:factor=", factor, ",sigma=", sigma), apply, adjoint, {}, {}, {}};
}

void RequireMaskWithoutAlpha(bool had_alpha, const std::string& what) {
  if (had_alpha)
    Fail("the mask ", what,
         " has an alpha channel; blade reads a mask's gray level (white = known, black = to "
         "fill), not its transparency: give it without alpha");
}

LinearOperator ParseOperator(const std::string& spec) {
  const auto colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "blur") {
    // Exactly "sigma=S": a missing, misspelt or extra key is refused rather than defaulted or
    // ignored (a blur the user did not mean gives a wrong restoration).
    const std::string key = "sigma=";
    if (rest.compare(0, key.size(), key) != 0)
      Fail("operator '", spec, "': give the blur as blur:sigma=S (S in pixels)");
    const std::string text = rest.substr(key.size());
    double sigma = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), sigma);
    if (ec != std::errc() || end != text.data() + text.size())
      Fail("operator '", spec, "': sigma '", text, "' is not a number (blur:sigma=S only)");
    return BlurOperator(sigma);
  }
  if (kind == "mask") {
    if (rest.empty()) Fail("operator 'mask' needs a file: mask:FILE");
    // A mask painted by erasing to transparency would lose its holes when the alpha channel is
    // dropped (every image read drops it) and inpaint nothing: refused, not guessed.
    ImageSource source;
    Image mask = ReadImage(rest, &source);
    RequireMaskWithoutAlpha(source.alpha_dropped, StrCat("'", rest, "'"));
    return MaskOperator(mask);
  }
  if (kind == "subsample")
    Fail("operator '", spec, "' changes the image size; use `blade upscale` for that");
  Fail("unknown operator '", spec, "' (expected blur:sigma=S or mask:FILE)");
}

ExtraTerm FidelityTerm(const LinearOperator& op, const Image& f, double lambda) {
  RequireNonNegative(lambda, "lambda");
  auto obs = std::make_shared<Image>(f.Copy());
  ExtraTerm t;
  t.add = [op, obs, lambda](const Image& u, float scale, Image& out) {
    Image residual = op.apply(u);
    SubtractFrom(*obs, residual);
    Axpy(float(scale * lambda), op.adjoint(residual), out);
  };
  // d/du of lambda A^T (f - A u) is -lambda A^T A (self-adjoint): the VJP is -lambda A^T A g.
  t.add_vjp = [op, lambda](const Image&, const Image& g, Image& gu) {
    Axpy(float(-lambda), op.adjoint(op.apply(g)), gu);
  };
  return t;
}

void RestoreOptions::Validate() const {
  if (steps < 1 || steps > 100000) Fail("the steps must be 1..100000 (got ", steps, ")");
  if (dt != 0) RequirePositive(dt, "the time step dt");
}

Image Restore(const Model& model, const LinearOperator& op, const Image& f,
              const RestoreOptions& o) {
  o.Validate();
  if (!AllFinite(f)) Fail("the observed image contains NaN or infinite values");
  Image probe = op.apply(f);
  if (probe.width() != f.width() || probe.height() != f.height())
    Fail("operator ", op.name, " changes the image size; use `blade upscale` for that");
  const double lambda = RestoreLambda(model, o);
  RequireStableDataStep(RunDt(model, o), lambda, 1.0);
  RunOptions r;
  r.steps = o.steps;
  r.dt = o.dt;
  r.integrator = o.integrator;
  r.unsafe = o.unsafe;
  r.extra_terms.push_back(op.data ? FidelityTerm(op, op.data(f), lambda)
                                  : FidelityTerm(op, f, lambda));
  Image u = op.start ? RunModel(model, op.start(f), r) : RunModel(model, f, r);
  if (op.finish) return op.finish(std::move(u), f);
  return u;
}

Model AbsorbDeconvolution(const Model& model, double sigma, double lambda) {
  RequirePositive(sigma, "PSF sigma");
  RequireNonNegative(lambda, "lambda");
  if (model.form != ModelForm::kDirect)
    Fail("deconvolution absorbs the blur into a direct model's filters; this is a ",
         FormName(model.form), " model (use the shipped ced-restore, the default, or ced-direct)");
  const std::vector<double> g = GaussianTaps(sigma);
  const int r = int(g.size()) / 2, ar = 2 * r;
  // a = autocorrelation of the sampled, truncated Gaussian: phi~ * phi along one axis.
  std::vector<double> a(2 * ar + 1, 0.0);
  for (int m = -ar; m <= ar; ++m)
    for (int k = -r; k <= r; ++k)
      if (k + m >= -r && k + m <= r) a[m + ar] += g[k + r] * g[k + m + r];
  Model out = model;
  // Subtracting lambda phi~ * phi gives negative off-centre taps: not monotone any more.
  out.constraint = Constraint::kNone;
  // The data term acts on u, so it joins the filters of u (bank 0), not a scheme term's filters
  // of F(u) (bank 1).
  {
    Bank& bank = out.banks[0];
    const int old_size = bank.filters.size, size = std::max(old_size, 2 * ar + 1);
    if (size > kMaxFootprint)
      Fail("PSF sigma ", sigma, " needs a ", size, "x", size,
           " footprint to absorb phi~*phi; at most ", kMaxFootprint, "x", kMaxFootprint,
           " (sigma <= ", kMaxDeconvolutionSigma, ") is supported");
    FilterBank enlarged(bank.filters.count, size);
    enlarged.taps.assign(std::size_t(enlarged.count) * size * size, 0.f);
    const int orad = old_size / 2;
    for (int k = 0; k < enlarged.count; ++k) {
      for (int dy = -orad; dy <= orad; ++dy)
        for (int dx = -orad; dx <= orad; ++dx)
          enlarged.tap(k, dx, dy) = bank.filters.tap(k, dx, dy);
      for (int dy = -ar; dy <= ar; ++dy)
        for (int dx = -ar; dx <= ar; ++dx)
          enlarged.tap(k, dx, dy) -= float(lambda * a[dx + ar] * a[dy + ar]);
    }
    bank.filters = std::move(enlarged);
  }
  out.provenance["deconvolution"] =
      StrCat("absorbed lambda ", lambda, " x phi~*phi, sigma ", sigma);
  return out;
}

Image Deconvolve(const Model& model, const Image& f, double sigma, const RestoreOptions& o) {
  return Deconvolve(model, f.Copy(), sigma, o);
}

Image Deconvolve(const Model& model, Image&& f, double sigma, const RestoreOptions& o) {
  o.Validate();
  if (!AllFinite(f)) Fail("the observed image contains NaN or infinite values");
  const int need = 4 * int(std::ceil(3 * sigma)) + 1;
  if (f.width() < need || f.height() < need)
    Fail("image ", f.width(), "x", f.height(), " is smaller than the ", need, "x", need,
         " deconvolution footprint");
  RequireStableDataStep(RunDt(model, o), o.lambda, 1.0);
  Model absorbed = AbsorbDeconvolution(model, sigma, o.lambda);
  auto constant = std::make_shared<Image>(GaussianBlur(f, sigma));  // phi~ * f
  ExtraTerm t;
  t.add = [constant, lambda = o.lambda](const Image&, float scale, Image& out) {
    Axpy(float(scale * lambda), *constant, out);
  };
  RunOptions r;
  r.steps = o.steps;
  r.dt = o.dt;
  r.integrator = o.integrator;
  r.unsafe = o.unsafe;
  r.extra_terms.push_back(t);
  return RunModel(absorbed, std::move(f), r);  // the observation is the first state
}

Image UpscaleRegularised(const Model& model, const Image& f, int factor,
                         const Degradation& degradation, const RestoreOptions& o) {
  o.Validate();
  if (!AllFinite(f)) Fail("the image to upscale contains NaN or infinite values");
  if (factor < 1 || factor > 16) Fail("upscaling factor must be 1..16 (got ", factor, ")");
  const double lambda = UpscaleLambda(model, factor, degradation, o);
  RequireStableDataStep(RunDt(model, o), lambda, DegradationGain(degradation, factor));
  CheckUpscaledSize(f, factor);
  Image u0 =
      ResizeLanczos3(f, f.width() * factor, f.height() * factor, DegradationLattice(degradation));
  // The data term lambda A^T (f - A u), added into each step's update: A u and the residual are
  // LR images, and the adjoint adds straight into the update (no HR-sized temporary). The term
  // lives only for the RunModel call below, so it refers to f instead of copying it.
  const Image* observed = &f;
  ExtraTerm data;
  data.add = [observed, factor, degradation, lambda](const Image& u, float scale, Image& out) {
    Image residual = Degrade(u, factor, degradation);
    SubtractFrom(*observed, residual);
    AddDegradeAdjoint(residual, factor, degradation, float(scale * lambda), out);
  };
  RunOptions r;
  r.steps = o.steps;
  r.dt = o.dt;
  r.integrator = o.integrator;
  r.unsafe = o.unsafe;
  r.extra_terms.push_back(std::move(data));
  return RunModel(model, std::move(u0), r);
}

void BackProject(Image& u, const Image& f, int factor, const Degradation& degradation,
                 int iterations) {
  const float step = float(1.0 / DegradationGain(degradation, factor));
  for (int i = 0; i < iterations; ++i) {
    Image residual = Degrade(u, factor, degradation);
    SubtractFrom(f, residual);  // f - A u, at LR size
    AddDegradeAdjoint(residual, factor, degradation, step, u);
  }
}

double RestoreLambda(const Model& model, const RestoreOptions& o) {
  return o.lambda >= 0 ? o.lambda : kRestoreDataStep / RunDt(model, o);
}

void RequireDenoiseSigma(double sigma255) {
  if (!(sigma255 > 0 && sigma255 <= kMaxDenoiseSigma)) {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", sigma255);
    Fail("the noise sigma must be in (0, ", kMaxDenoiseSigma, "] (0-255 units; got ", text, ")");
  }
}

std::string DenoiseSigmaWarning(double sigma255) {
  if (!(sigma255 < 1)) return "";
  return StrCat("noise sigma ", sigma255,
                " is in 0-255 units, less than one 8-bit level, and denoising will change almost "
                "nothing; if it is a fraction of the range (scikit-image's estimate_sigma), give ",
                sigma255 * 255);
}

std::string DenoiseNeedsPdeModel(const DenoiseOptions& o) {
  if (o.stop == DenoiseStop::kSure) return "SURE stopping";
  if (o.time != 0) return "a stopping time";
  if (!o.params.empty()) return "PDE parameters";
  if (o.unsafe) return "running past a stability horizon";
  return "";
}

double DenoiseTime(double sigma255, int channels) {
  RequireDenoiseSigma(sigma255);
  if (channels != 1 && channels != 3)
    Fail("the denoising rule is fitted for gray (1) or color (3) images, not ", channels,
         " channels");
  return channels == 1 ? kDenoiseGrayTimeScale * std::pow(sigma255, kDenoiseGrayTimePower)
                       : kDenoiseColorTimeScale * std::pow(sigma255, kDenoiseColorTimePower);
}

double AutoDenoiseSigma(const Image& f) {
  const double sigma = EstimateNoiseSigma(f);
  // Rounding leaves ~1e-15 on a constant image; a 16-bit level is 0.004 (0-255 units).
  if (!(sigma >= 0.01))
    Fail("no measurable noise (estimated sigma ", sigma,
         " in 0-255 units): the image is constant or noiseless");
  if (sigma > kMaxDenoiseSigma)
    Fail("the estimated noise sigma ", sigma, " is above ", kMaxDenoiseSigma,
         " (0-255 units); give the level instead");
  return sigma;
}

DenoiseStepping DenoiseSteps(double time, double model_dt) {
  RequirePositive(model_dt, "the model's time step");
  if (!(time / model_dt <= kMaxRunSteps))
    Fail("time ", time, " needs more than ", kMaxRunSteps, " steps of the model's dt ", model_dt);
  const int k = std::max(1, int(std::lround(time / model_dt)));
  return {k, std::min(model_dt, time / k)};
}

DenoiseStop ParseDenoiseStop(const std::string& name) {
  if (name == "rule") return DenoiseStop::kRule;
  if (name == "sure") return DenoiseStop::kSure;
  Fail("stop must be 'rule' or 'sure' (got '", name, "')");
}

namespace {

// SURE's probe: fixed +-1 entries (the same for every call, so the same input gives the same
// output).
Image RademacherProbe(const Image& like) {
  Image b(like.width(), like.height(), like.channels());
  std::mt19937 rng(20261206u);
  for (std::size_t i = 0; i < b.size(); ++i) b.data()[i] = (rng() & 1u) ? 1.f : -1.f;
  return b;
}

// The run stopped by SURE (DenoiseStop::kSure, restore.h): the runs from f and from
// f + eps b advance together, one step at a time.
DenoiseResult DenoiseSure(const Model& m, const Image& f, double sigma255, bool unsafe) {
  const double s = sigma255 / 255, var = s * s, eps = kSureProbeScale * s;
  RequirePositive(m.dt, "the model's time step");
  // The rule's own step (DenoiseSteps), so that the search passes
  // through the rule's result: at low noise a whole dt is a large part of the run (at sigma 10,
  // 0.0087 against 0.01 in gray).
  const double rule = DenoiseTime(sigma255, f.channels());
  const double dt = DenoiseSteps(rule, m.dt).dt;
  int max_steps = std::max(2, int(std::ceil(kSureMaxTimeFactor * rule / dt)));
  // The search never goes past the model's measured stability horizon.
  if (m.safe_steps >= 0 && !unsafe)
    max_steps = std::min(max_steps, std::max(1, int(m.safe_steps * m.dt / dt)));
  max_steps = std::min(max_steps, kMaxRunSteps);
  const Image b = RademacherProbe(f);
  // Noisy photographs are clipped to [0, 1], and where the true value lies within a few sigma of
  // a bound the noise is no longer Gaussian: the estimate there reads far too low and stops the
  // run late (measured: 0.13 dB below the rule at sigma 30 on a crop of astronaut, 10% of it
  // clipped).
  // It is summed where the local mean (Gaussian, sigma 1.5) is kSureClipMargin sigmas inside
  // [0, 1]: chosen on training photographs, and never on the value itself, which would
  // truncate the noise.
  std::vector<unsigned char> inside(f.size());
  {
    const Image mean = GaussianBlur(f, 1.5);
    const double margin = kSureClipMargin * s;
    std::size_t count = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      inside[i] = mean.data()[i] > margin && mean.data()[i] < 1 - margin;
      count += inside[i];
    }
    if (count < f.size() / 20)
      Fail("SURE stopping: under 5% of the image lies ", kSureClipMargin,
           " noise sigmas inside [0, 1], where its estimate holds; use the rule's time");
  }
  Image u = f.Copy(), v = f.Copy();
  Axpy(float(eps), b, v);
  // Zero steps: u = f, whose divergence is 1 per sample, so the estimate is s^2.
  DenoiseResult best{f.Copy(), 0.0, 0, var};
  RunOptions one;
  one.steps = 1;
  one.dt = dt;
  one.unsafe = unsafe;
  one.luma_selection = true;  // luma is less noisy than each channel (RunOptions)
  for (int k = 1; k <= max_steps; ++k) {
    try {
      u = RunModel(m, std::move(u), one);
      v = RunModel(m, std::move(v), one);
    } catch (const DivergedError&) {
      throw DivergedError(k, max_steps);
    }
    // b . (v - u) / eps: the divergence of the map f -> u, per sample; both sums over the
    // samples away from the clipping bounds (restore.h).
    double div = 0, mse = 0, n = 0;
    for (std::size_t i = 0; i < u.size(); ++i) {
      if (!inside[i]) continue;
      div += double(b.data()[i]) * (double(v.data()[i]) - u.data()[i]);
      const double e = double(u.data()[i]) - f.data()[i];
      mse += e * e;
      n += 1;
    }
    const double sure = mse / n - var + 2 * var * div / (eps * n);
    if (sure < best.sure) {
      best = {u.Copy(), k * dt, k, sure};
    } else if (k - best.steps >= kSurePatience) {
      break;
    }
  }
  return best;
}

}  // namespace

DenoiseResult DenoiseRun(const Model& model, const Image& f, double sigma255,
                         const DenoiseOptions& o) {
  const double rule = DenoiseTime(sigma255, f.channels());  // also checks sigma255
  if (model.form == ModelForm::kDenoise) {
    // A learned denoiser has a fixed number of stages per noise level: nothing to stop.
    if (const std::string what = DenoiseNeedsPdeModel(o); !what.empty())
      Fail(what,
           " needs a PDE model's run; a learned denoiser has none (without a model, "
           "denoising with ",
           what, " uses the shipped TV model, tv-plain)");
    return {DenoiseLearned(model, f, sigma255), 0.0, model.denoise.stages, 0.0};
  }
  if (!AllFinite(f)) Fail("the noisy image contains NaN or infinite values");
  if (o.stop == DenoiseStop::kSure && o.time != 0)
    Fail("a stopping time and SURE stopping exclude each other: SURE chooses the time");
  const double time = o.time == 0 ? rule : o.time;
  if (!(std::isfinite(time) && time > 0))
    Fail("the denoising time must be positive and finite (got ", time, ")");
  // Blend only when asked: a copy of a parametric model (all its knots) per call costs more
  // than a small photo's denoising.
  const Model blended = o.params.empty() ? Model() : ModelAtParams(model, o.params);
  const Model& at = o.params.empty() ? model : blended;
  if (o.stop == DenoiseStop::kSure) return DenoiseSure(at, f, sigma255, o.unsafe);
  RunOptions r;
  r.luma_selection = true;  // luma is less noisy than each channel (RunOptions)
  // The rule's time is a fitted amount of smoothing (DenoiseSteps); a time the user gives is a
  // stopping time, reached exactly in the fewest whole steps of at most dt.
  DenoiseStepping s = DenoiseSteps(time, at.dt);
  if (o.time != 0) {
    s.steps = ModelStepsFor(time, at.dt);
    s.dt = time / s.steps;
  }
  r.steps = s.steps;
  r.dt = s.dt;
  r.unsafe = o.unsafe;
  return {RunModel(at, f, r), s.steps * s.dt, r.steps, 0.0};
}

Image Denoise(const Model& model, const Image& f, double sigma255, const DenoiseOptions& o) {
  return DenoiseRun(model, f, sigma255, o).image;
}

double UpscaleLambda(const Model& model, int factor, const Degradation& degradation,
                     const RestoreOptions& o) {
  if (o.lambda >= 0) return o.lambda;
  return 1.0 / (RunDt(model, o) * DegradationGain(degradation, factor));
}

Image RestoreClassical(const std::string& pde, const std::map<std::string, double>& params,
                       const LinearOperator& op, const Image& f, const RestoreOptions& o) {
  const Pde p = ParsePde(pde);
  PdeParams pp;
  for (const auto& [k, v] : params) pp.Set(p, k, v);
  auto solver = MakeSolver(p, pp);
  RequirePositive(o.dt, "restoration dt");
  Image u = f.Copy();
  for (int k = 1; k <= o.steps; ++k) {
    CheckInterrupt();
    Image next = u.Copy();
    solver->Step(next, o.dt, 1.0);
    Image residual = op.apply(u);
    SubtractFrom(f, residual);
    Axpy(float(o.dt * o.lambda), op.adjoint(residual), next);
    u = std::move(next);
    if (!AllFinite(u)) throw DivergedError(k, o.steps);
  }
  return u;
}

}  // namespace blade
