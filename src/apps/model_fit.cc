// Which models each application takes: the PDEs it was validated with (docs/RESULTS.md).
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "blade/apps.h"
#include "blade/error.h"

namespace blade {
namespace {

struct Need {
  const char* command;
  std::vector<std::string> pdes;
  const char* why;
};

Need NeedOf(Application app) {
  switch (app) {
    case Application::kSegment:
      return {"segment", {"tv"}, "Chan-Vese's curvature term is TV flow's right side"};
    case Application::kRestore:
      return {"restore", {"tv", "pm", "ced"}, "a smoothing regulariser"};
    case Application::kDeconvolve:
      return {"deconv", {"ced"}, "validated with the CED regularisers (ced-restore, ced-direct)"};
    case Application::kUpscale:
      return {"upscale", {"tv"}, "validated with the TV regulariser (paper eq. 4.6, 4.7)"};
    case Application::kResample:
      return {"resample", {}, ""};
    case Application::kDenoise:
      return {"denoise", {"tv"}, "its rule (time against noise level) was fitted for TV flow"};
  }
  return {"?", {}, ""};
}

}  // namespace

void RequireModelFor(Application app, const Model& model, bool force) {
  const Need need = NeedOf(app);
  if (app == Application::kResample) {
    if (model.form != ModelForm::kResample)
      Fail("resample needs a resampling model (trained by `blade train-resample`); this is a ",
           model.pde.empty() ? "" : model.pde + " ", FormName(model.form), " model");
    return;
  }
  // What the application takes besides its PDE models (its own learned form).
  const char* wants = app == Application::kDenoise   ? "a learned denoiser or a PDE model"
                      : app == Application::kUpscale ? "a learned upscaler or a PDE model"
                                                     : "a PDE model";
  if (model.form == ModelForm::kResample)
    Fail(need.command, " needs ", wants, "; this is a resampling model (for `blade resample`)");
  if (model.form == ModelForm::kUpscale) {
    if (app == Application::kUpscale) return;  // trained for it (factor and degradation: Upscale)
    Fail(need.command, " needs ", wants, "; this is a learned upscaler (for `blade upscale`)");
  }
  if (model.form == ModelForm::kDenoise) {
    if (app == Application::kDenoise) return;  // trained for it (noise levels: DenoiseLearned)
    Fail(need.command, " needs ", wants, "; this is a learned denoiser (for `blade denoise`)");
  }
  if (force) return;
  if (std::find(need.pdes.begin(), need.pdes.end(), model.pde) != need.pdes.end()) return;
  std::string list;
  for (std::size_t i = 0; i < need.pdes.size(); ++i)
    list += (i ? (i + 1 == need.pdes.size() ? " or " : ", ") : "") + need.pdes[i];
  Fail(need.command, " needs a ", list, " model (", need.why, "); this one is a ",
       model.pde.empty() ? "unnamed" : model.pde,
       " model. --force-model (Python: force_model=True) runs it anyway");
}

Application ParseApplication(const std::string& name) {
  for (Application app : {Application::kSegment, Application::kRestore, Application::kDeconvolve,
                          Application::kUpscale, Application::kResample, Application::kDenoise})
    if (name == NeedOf(app).command) return app;
  Fail("unknown application '", name,
       "' (expected segment, restore, deconv, upscale, resample or denoise)");
}

std::string DefaultModelName(Application app) {
  switch (app) {
    // The TV model without the scheme term: as a regulariser it denoises and segments better
    // than tv.blade, which follows TV flow more exactly (docs/RESULTS.md, sixth session).
    case Application::kSegment:
    case Application::kUpscale:
    case Application::kDenoise:
      return "tv-plain";
    case Application::kRestore:
    case Application::kDeconvolve:
      return "ced-restore";
    case Application::kResample:
      return "resample3";
  }
  return "?";
}

std::string DefaultUpscaleModelName(int factor, const Degradation& degradation) {
  const bool shipped =
      (factor == 2 || factor == 4) && (degradation.kind == Degradation::Kind::kArea ||
                                       degradation.kind == Degradation::Kind::kBicubic);
  if (!shipped) return DefaultModelName(Application::kUpscale);
  return StrCat("upscale-x", factor, "-", DegradationName(degradation));
}

std::string DefaultDenoiseModelName(double sigma255, int channels, const DenoiseOptions& o) {
  const bool learned = sigma255 >= kShippedDenoiseSigmas[0] &&
                       sigma255 <= kShippedDenoiseSigmas[1] && DenoiseNeedsPdeModel(o).empty();
  if (!learned) return DefaultModelName(Application::kDenoise);
  return channels == 3 ? "denoise-color" : "denoise-gray";
}

std::string ShippedModelPath(const std::string& name) {
  std::vector<std::string> places;
  if (const char* env = std::getenv("BLADE_MODELS_DIR"); env != nullptr && *env != 0) {
    places.push_back(env);
  } else {
    places.push_back(BLADE_INSTALLED_MODELS_DIR);
    places.push_back(std::string(BLADE_SOURCE_DIR) + "/models");
  }
  for (const std::string& dir : places) {
    const std::filesystem::path path = std::filesystem::path(dir) / (name + ".blade");
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) return path.string();
  }
  std::string where;
  for (const std::string& dir : places) where += (where.empty() ? "" : ", ") + dir;
  Fail("the shipped model '", name, "' is not in ", where,
       " (set BLADE_MODELS_DIR to the folder of the .blade files, or give --model)");
}

std::string ResolveModelPath(const std::string& given) {
  std::error_code ec;
  const std::filesystem::path path(given);
  if (given.empty() || std::filesystem::exists(path, ec) || path.has_parent_path()) return given;
  const std::string name = path.extension() == ".blade" ? path.stem().string() : given;
  if (name.empty() || name.front() == '.' || std::filesystem::path(name).has_extension())
    return given;
  try {
    return ShippedModelPath(name);
  } catch (const Error&) {
    return given;  // not shipped either: LoadModel says the file is missing
  }
}

std::shared_ptr<const Model> LoadShippedModel(const std::string& name) {
  const std::string path = ShippedModelPath(name);
  std::error_code ec;
  const auto stamp = std::filesystem::last_write_time(path, ec);
  static std::mutex mutex;
  static std::map<std::string,
                  std::pair<std::filesystem::file_time_type, std::shared_ptr<const Model>>>
      cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = cache.find(path);
    if (!ec && it != cache.end() && it->second.first == stamp) return it->second.second;
  }
  auto model = std::make_shared<const Model>(LoadModel(path));  // outside the lock
  std::lock_guard<std::mutex> lock(mutex);
  if (!ec) cache[path] = {stamp, model};
  return model;
}

}  // namespace blade
