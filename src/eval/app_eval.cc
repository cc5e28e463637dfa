// Application protocols over a folder (deconvolution, upscaling, segmentation): scores, means,
// JSON and a text table, shared by `blade eval-app` and Python's blade.evaluate_app.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "blade/apps.h"
#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/metrics.h"
#include "blade/ops.h"
#include "blade/restore.h"
#include "blade/viz.h"

namespace blade {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string FileName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

// Reads an evaluation image: the color image, or its luma.
Image ReadForMode(const std::string& path, bool color) {
  Image im = ReadImage(path);
  return color ? std::move(im) : ToLuma(im);
}

AppEvaluation Start(const std::string& app, const AppEvalOptions& o,
                    std::vector<std::string> methods) {
  o.Validate();
  AppEvaluation e;
  e.app = app;
  e.mode = o.color ? "color" : "gray";
  e.methods = std::move(methods);
  return e;
}

void Progress(const AppEvalOptions& o, std::size_t done, std::size_t total) {
  if (o.on_progress) o.on_progress(int(done), int(total));
}

}  // namespace

void AppEvalOptions::Validate() const {
  RequirePositive(blur_sigma, "the deconvolution blur sigma");
  RequireNonNegative(noise_sigma, "the deconvolution noise sigma");
  RequireNonNegative(deconv_lambda, "the deconvolution lambda");
  if (factor && (*factor < 2 || *factor > 16))
    Fail("the upscaling factor must be 2..16 (got ", *factor, ")");
  if (degradations && degradations->empty())
    Fail("the upscaling evaluation needs at least one degradation");
  for (const std::string& d : degradations.value_or(kDefaultUpscaleEvalDegradations))
    ParseDegradation(d);
  if (steps < 1 || steps > 100000) Fail("the steps must be 1..100000 (got ", steps, ")");
  if (iterations < 1 || iterations > 1000000)
    Fail("the segmentation iterations must be 1..1000000 (got ", iterations, ")");
  RequireNonNegative(mu, "the BLADE length weight mu");
  RequireNonNegative(reference_mu, "the reference length weight mu");
}

std::map<std::string, std::map<std::string, double>> AppEvaluation::Means() const {
  std::map<std::string, std::map<std::string, double>> means;
  const double n = double(images.size());
  // Each value divided by n and added in image order, as the protocol's tables always have.
  for (const ImageScores& im : images)
    for (const auto& [method, metrics] : im.scores)
      for (const auto& [metric, value] : metrics) means[method][metric] += value / n;
  return means;
}

AppEvaluation EvaluateDeconvolution(const Model& model, const std::vector<std::string>& files,
                                    const AppEvalOptions& o) {
  RequireModelFor(Application::kDeconvolve, model, o.force_model);
  if (model.pde.empty()) Fail("the model names no PDE for the classical comparison");
  AppEvaluation e = Start("deconv", o, {"input", "blade", "classical"});
  e.settings = {{"blur_sigma", RoundTripDecimal(o.blur_sigma)},
                {"noise_sigma", RoundTripDecimal(o.noise_sigma)},
                {"lambda", RoundTripDecimal(o.deconv_lambda)},
                {"steps", RoundTripDecimal(o.steps)},
                {"integrator", IntegratorName(o.integrator)}};
  RestoreOptions r;
  r.lambda = o.deconv_lambda;
  r.steps = o.steps;
  r.dt = model.dt;
  r.integrator = o.integrator;
  for (std::size_t i = 0; i < files.size(); ++i) {
    Progress(o, i, files.size());
    NamingTheFile(files[i], [&] {
      Image truth = ReadForMode(files[i], o.color);
      Image f = GaussianBlur(truth, o.blur_sigma);
      // Seeded per image (by its position), so every run and every front end sees the same noise.
      std::mt19937 rng(1000 + unsigned(i));
      std::normal_distribution<float> nd(0.f, float(o.noise_sigma));
      for (std::size_t j = 0; j < f.size(); ++j) f.data()[j] += nd(rng);
      auto t0 = Clock::now();
      Image ub = Deconvolve(model, f, o.blur_sigma, r);
      const double tb = SecondsSince(t0);
      t0 = Clock::now();
      Image uc = RestoreClassical(model.pde, model.pde_params, BlurOperator(o.blur_sigma), f, r);
      const double tc = SecondsSince(t0);
      AppEvaluation::ImageScores s{FileName(files[i]), {}};
      s.scores["input"] = {{"psnr", Psnr(f, truth)}, {"ssim", Ssim(f, truth)}};
      s.scores["blade"] = {{"psnr", Psnr(ub, truth)}, {"ssim", Ssim(ub, truth)}, {"seconds", tb}};
      s.scores["classical"] = {
          {"psnr", Psnr(uc, truth)}, {"ssim", Ssim(uc, truth)}, {"seconds", tc}};
      if (o.on_figure) {
        Image err = AbsoluteError(ub, truth);
        auto caption = [&](const char* m) {
          return ScoreCaption(s.scores[m]["psnr"], s.scores[m]["ssim"]);
        };
        o.on_figure(files[i], "deconv",
                    {{&truth, {"original"}},
                     {&f, {StrCat("blurred (sigma ", o.blur_sigma, ") + noise"), caption("input")}},
                     {&ub, {"BLADE deconvolution", caption("blade")}},
                     {&uc, {"classical, same formula", caption("classical")}},
                     {&err, {"|BLADE - original| x 10"}}});
      }
      e.images.push_back(std::move(s));
    });
  }
  Progress(o, files.size(), files.size());
  return e;
}

AppEvaluation EvaluateUpscaling(const Model& model, const std::vector<std::string>& files,
                                const AppEvalOptions& o) {
  if (model.form == ModelForm::kUpscale)
    Fail(
        "the upscaling evaluation's model is the PDE regulariser of eq. 4.6 and 4.7; give a "
        "learned upscaler as the upscaler (--upscaler FILE)");
  RequireModelFor(Application::kUpscale, model, o.force_model);
  o.Validate();
  // Per degradation: the interpolators on its lattice, the learned upscaler where there is
  // one, eq. 4.6, and eq. 4.7 where it is exact.
  std::vector<Degradation> degradations;
  std::vector<std::optional<Model>> learned;
  std::optional<Model> given;
  if (o.upscaler != "shipped" && o.upscaler != "none") {
    given = LoadModel(o.upscaler);
    if (given->form != ModelForm::kUpscale)
      Fail("'", o.upscaler, "' is a ", FormName(given->form), " model, not a learned upscaler");
  }
  const int factor = o.factor.value_or(given ? given->upscale.factor : kUpscaleFactor);
  std::vector<std::string> specs = o.degradations.value_or(kDefaultUpscaleEvalDegradations);
  // The given upscaler's degradation in canonical spelling ("gaussian:1" and "gaussian:1.0" match).
  const std::string own =
      given ? DegradationName(ParseDegradation(given->upscale.degradation)) : std::string();
  if (given && !o.degradations) {
    if (std::none_of(specs.begin(), specs.end(), [&](const std::string& spec) {
          return DegradationName(ParseDegradation(spec)) == own;
        }))
      specs.push_back(given->upscale.degradation);
  }
  std::vector<std::string> methods;
  for (const std::string& spec : specs) {
    degradations.push_back(ParseDegradation(spec));
    const Degradation& deg = degradations.back();
    const std::string d = DegradationName(deg);
    learned.emplace_back();
    if (given) {
      if (given->upscale.factor == factor && own == d) learned.back() = *given;
    } else if (o.upscaler == "shipped") {
      const std::string name = DefaultUpscaleModelName(factor, deg);
      if (name != DefaultModelName(Application::kUpscale))
        learned.back() = LoadModel(ShippedModelPath(name));
    }
    for (const char* m : {"bicubic", "lanczos"}) methods.push_back(d + "/" + m);
    if (learned.back()) methods.push_back(d + "/learned");
    methods.push_back(d + "/blade");
    if (deg.kind == Degradation::Kind::kCorner) methods.push_back(d + "/blade_project");
  }
  if (given && std::none_of(learned.begin(), learned.end(),
                            [](const std::optional<Model>& m) { return m.has_value(); }))
    Fail("the upscaler '", o.upscaler, "' was trained for x", given->upscale.factor, " ",
         given->upscale.degradation, ", which this evaluation does not include");
  AppEvaluation e = Start("upscale", o, methods);
  std::string names;
  for (const Degradation& d : degradations)
    names += (names.empty() ? "" : ", ") + DegradationName(d);
  e.settings = {{"factor", RoundTripDecimal(factor)},
                {"upscaler", o.upscaler},
                {"lambda", o.upscale_lambda < 0 ? "back-projection, 1 / (dt |A A^T|)"
                                                : RoundTripDecimal(o.upscale_lambda)},
                {"steps", RoundTripDecimal(o.steps)},
                {"degradations", names}};
  RestoreOptions r;
  r.lambda = o.upscale_lambda;
  r.steps = o.steps;
  for (std::size_t i = 0; i < files.size(); ++i) {
    Progress(o, i, files.size());
    NamingTheFile(files[i], [&] {
      const Image image = ReadImage(files[i]);
      Image truth = CropToMultiple(image, factor);
      if (truth.width() < kSsimMinSize || truth.height() < kSsimMinSize)
        Fail("the image is ", image.width(), "x", image.height(), " (", truth.width(), "x",
             truth.height(), " cropped to a multiple of the factor ", factor,
             "); the evaluation's SSIM needs at least ", kSsimMinSize, "x", kSsimMinSize);
      if (!o.color) truth = ToLuma(truth);
      AppEvaluation::ImageScores s{FileName(files[i]), {}};
      for (std::size_t k = 0; k < degradations.size(); ++k) {
        const Degradation& deg = degradations[k];
        const Lattice lattice = DegradationLattice(deg);
        const std::string prefix = DegradationName(deg) + "/";
        Image f = Degrade(truth, factor, deg);
        std::vector<std::pair<std::string, Image>> results;
        auto score = [&](const std::string& method, const std::function<Image()>& run) {
          const auto t0 = Clock::now();
          Image u = run();
          const double seconds = SecondsSince(t0);
          s.scores[prefix + method] = {
              {"psnr", Psnr(u, truth)}, {"ssim", Ssim(u, truth)}, {"seconds", seconds}};
          results.emplace_back(method, std::move(u));
        };
        score("bicubic", [&] { return ResizeBicubic(f, truth.width(), truth.height(), lattice); });
        score("lanczos", [&] { return ResizeLanczos3(f, truth.width(), truth.height(), lattice); });
        if (learned[k]) score("learned", [&] { return UpscaleLearned(*learned[k], f); });
        score("blade", [&] { return Upscale(model, f, factor, deg, r); });
        if (deg.kind == Degradation::Kind::kCorner)
          score("blade_project", [&] { return UpscaleProjected(model, f, factor, deg, r); });
        // One figure per image, for the first degradation (the default one).
        if (o.on_figure && k == 0) {
          // The error of the best BLADE result: the learned upscaler where there is one.
          Image err = AbsoluteError(results[2].second, truth);
          std::vector<Panel> panels = {
              {&truth, {"original"}},
              {&f, {StrCat("input (1/", factor, ", ", DegradationName(deg), ")")}}};
          const std::map<std::string, std::string> titles = {
              {"bicubic", "bicubic"},
              {"lanczos", "Lanczos-3"},
              {"learned", "BLADE learned upscaler"},
              {"blade", "BLADE TV, eq. 4.6"},
              {"blade_project", "BLADE TV, eq. 4.7"}};
          for (const auto& [method, image] : results) {
            const auto& sc = s.scores[prefix + method];
            panels.push_back(
                {&image, {titles.at(method), ScoreCaption(sc.at("psnr"), sc.at("ssim"))}});
          }
          panels.push_back({&err, {StrCat("|", titles.at(results[2].first), " - original| x 10")}});
          o.on_figure(files[i], "upscale", panels);
        }
      }
      e.images.push_back(std::move(s));
    });
  }
  Progress(o, files.size(), files.size());
  return e;
}

AppEvaluation EvaluateSegmentation(const Model& tv_model, const std::vector<std::string>& files,
                                   const AppEvalOptions& o) {
  RequireModelFor(Application::kSegment, tv_model, o.force_model);
  AppEvaluation e = Start("segment", o, {"blade", "reference"});
  e.settings = {{"iterations", RoundTripDecimal(o.iterations)},
                {"mu", RoundTripDecimal(o.mu)},
                {"reference_mu", RoundTripDecimal(o.reference_mu)},
                {"comparison", "partitions compared up to swapped labels"}};
  ChanVeseParams ref, bl;
  ref.iterations = bl.iterations = o.iterations;
  ref.mu = o.reference_mu;
  bl.mu = o.mu;
  for (std::size_t i = 0; i < files.size(); ++i) {
    Progress(o, i, files.size());
    NamingTheFile(files[i], [&] {
      Image f = ReadForMode(files[i], o.color);
      auto t0 = Clock::now();
      Image a = SegmentationMask(ChanVeseReference(f, ref), f);
      const double sr = SecondsSince(t0);
      t0 = Clock::now();
      Image b = AlignLabels(a, SegmentationMask(ChanVeseBlade(f, tv_model, bl), f));
      const double sb = SecondsSince(t0);
      const double agreement = MaskAgreement(a, b), iou = MaskIou(a, b);
      AppEvaluation::ImageScores s{FileName(files[i]), {}};
      s.scores["blade"] = {{"agreement", agreement}, {"iou", iou}, {"seconds", sb}};
      s.scores["reference"] = {{"seconds", sr}};
      if (o.on_figure) {
        Image oa = SegmentationOverlay(f, a), ob = SegmentationOverlay(f, b);
        Image diff = AbsoluteError(a, b, 1.f);
        char line[96], tr[32], tb[32];
        std::snprintf(line, sizeof line, "agreement %.4f, IoU %.4f", agreement, iou);
        std::snprintf(tr, sizeof tr, "%.2f s", sr);
        std::snprintf(tb, sizeof tb, "%.2f s", sb);
        o.on_figure(files[i], "segment",
                    {{&oa, {StrCat("reference Chan-Vese (mu ", o.reference_mu, ")"), tr}},
                     {&ob, {StrCat("BLADE TV Chan-Vese (mu ", o.mu, ")"), tb}},
                     {&diff, {"disagreement (white)", line}}});
      }
      e.images.push_back(std::move(s));
    });
  }
  Progress(o, files.size(), files.size());
  return e;
}

AppEvaluation EvaluateApp(const std::string& app, const Model& model,
                          const std::vector<std::string>& files, const AppEvalOptions& options) {
  if (files.empty()) Fail("the evaluation needs at least one image (got none)");
  if (app == "deconv") return EvaluateDeconvolution(model, files, options);
  if (app == "upscale") return EvaluateUpscaling(model, files, options);
  if (app == "segment") return EvaluateSegmentation(model, files, options);
  Fail("unknown application '", app, "' (deconv, upscale or segment)");
}

std::string AppEvaluationJson(const AppEvaluation& e,
                              const std::map<std::string, std::string>& extra) {
  nlohmann::ordered_json doc;
  for (const auto& [k, v] : extra) doc[k] = v;
  doc["app"] = e.app;
  doc["mode"] = e.mode;
  doc["images"] = e.images.size();
  // Settings are kept as text for the table; those that are numbers are JSON numbers (jq's
  // `.settings.mu > 0.01` works), the rest strings.
  nlohmann::ordered_json settings = nlohmann::ordered_json::object();
  for (const auto& [k, v] : e.settings) {
    double number = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), number);
    const bool is_number = ec == std::errc() && end == v.data() + v.size() && std::isfinite(number);
    if (is_number && number == std::floor(number) && std::abs(number) < 0x1p53)
      settings[k] = static_cast<long long>(number);
    else if (is_number)
      settings[k] = number;
    else
      settings[k] = v;
  }
  doc["settings"] = settings;
  nlohmann::ordered_json rows = nlohmann::ordered_json::object();
  const auto means = e.Means();
  for (const std::string& m : e.methods)
    if (means.count(m)) rows[m] = means.at(m);
  doc["rows"] = rows;
  nlohmann::ordered_json per_image = nlohmann::ordered_json::array();
  for (const AppEvaluation::ImageScores& im : e.images) {
    nlohmann::ordered_json j = {{"name", im.name}};
    for (const std::string& m : e.methods)
      if (im.scores.count(m)) j[m] = im.scores.at(m);
    per_image.push_back(j);
  }
  doc["per_image"] = per_image;
  return doc.dump(2) + "\n";
}

std::string AppEvaluationTable(const AppEvaluation& e) {
  // Columns in a fixed order, each shown when some method has it.
  const std::vector<std::pair<std::string, std::string>> columns = {{"psnr", "PSNR dB"},
                                                                    {"ssim", "SSIM"},
                                                                    {"agreement", "agreement"},
                                                                    {"iou", "IoU"},
                                                                    {"seconds", "seconds"}};
  const auto means = e.Means();
  std::vector<std::pair<std::string, std::string>> shown;
  for (const auto& c : columns)
    for (const auto& [m, metrics] : means)
      if (metrics.count(c.first)) {
        shown.push_back(c);
        break;
      }
  std::string settings;
  for (const auto& [k, v] : e.settings) settings += StrCat(", ", k, " ", v);
  std::string out = StrCat(e.app, " (", e.mode, settings, ", ", e.images.size(), " images)\n");
  // The method column as wide as its longest name ("corner:0.4/blade_project").
  std::size_t name_width = 14;
  for (const std::string& m : e.methods) name_width = std::max(name_width, m.size());
  auto name_cell = [&](const std::string& name) {
    return name + std::string(name_width - name.size(), ' ');
  };
  char buf[64];
  out += name_cell("method");
  for (const auto& c : shown) {
    std::snprintf(buf, sizeof buf, " %10s", c.second.c_str());
    out += buf;
  }
  out += "\n";
  for (const std::string& m : e.methods) {
    out += name_cell(m);
    const auto it = means.find(m);
    for (const auto& c : shown) {
      if (it == means.end() || !it->second.count(c.first)) {
        std::snprintf(buf, sizeof buf, " %10s", "");
      } else {
        const double v = it->second.at(c.first);
        std::snprintf(buf, sizeof buf, c.first == "psnr" ? " %10.3f" : " %10.4f", v);
      }
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace blade
