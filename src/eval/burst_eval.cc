// Synthetic bursts over a folder of photographs: resampling along a known flow and alignment.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/train.h"

namespace blade {
namespace {

constexpr ResampleMethod kMethods[4] = {ResampleMethod::kBlade, ResampleMethod::kBicubic,
                                        ResampleMethod::kBilinear, ResampleMethod::kLanczos3};

}  // namespace

BurstEvaluation EvaluateBursts(const Model& model, const std::vector<std::string>& files,
                               const std::function<void(int, int)>& on_progress) {
  if (files.empty()) Fail("the evaluation needs at least one image (got none)");
  if (model.form != ModelForm::kResample)
    Fail("the burst evaluation needs a resampling model; this is a ", FormName(model.form),
         " model");
  BurstEvaluation e;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (on_progress) on_progress(int(i), int(files.size()));
    NamingTheFile(files[i], [&] {
      e.scores.push_back(EvaluateBurst(LoadHrLuma(files[i], 4), &model, 1000 + i));
    });
    e.names.push_back(std::filesystem::path(files[i]).filename().string());
    const BurstScore& s = e.scores.back();
    // Each value divided by the count and added in image order, as the other protocols' means.
    for (ResampleMethod m : kMethods) {
      e.mean.psnr_1[int(m)] += s.psnr_1[int(m)] / files.size();
      e.mean.psnr_2[int(m)] += s.psnr_2[int(m)] / files.size();
    }
    e.mean.epe += s.epe / files.size();
  }
  if (on_progress) on_progress(int(files.size()), int(files.size()));
  return e;
}

std::string BurstEvaluationJson(const BurstEvaluation& e,
                                const std::map<std::string, std::string>& extra) {
  nlohmann::json rows, per_image = nlohmann::json::array();
  for (ResampleMethod m : kMethods)
    rows[ResampleMethodName(m)] = {{"psnr_1", e.mean.psnr_1[int(m)]},
                                   {"psnr_2", e.mean.psnr_2[int(m)]}};
  for (std::size_t i = 0; i < e.scores.size(); ++i) {
    nlohmann::json entry = {{"name", e.names[i]}, {"epe", e.scores[i].epe}};
    for (ResampleMethod m : kMethods)
      entry[ResampleMethodName(m)] = {{"psnr_1", e.scores[i].psnr_1[int(m)]},
                                      {"psnr_2", e.scores[i].psnr_2[int(m)]}};
    per_image.push_back(entry);
  }
  nlohmann::json doc = {{"images", e.scores.size()},
                        {"rows", rows},
                        {"alignment", {{"epe", e.mean.epe}}},
                        {"per_image", per_image}};
  for (const auto& [k, v] : extra) doc[k] = v;
  return doc.dump(2) + "\n";
}

std::string BurstEvaluationTable(const BurstEvaluation& e) {
  char line[160];
  std::snprintf(line, sizeof line,
                "synthetic bursts (%zu images, true flow, noise 1/255): PSNR dB after 1 and 2 "
                "resamplings\n",
                e.scores.size());
  std::string out = line;
  std::snprintf(line, sizeof line, "%-10s %9s %9s\n", "method", "psnr_1", "psnr_2");
  out += line;
  for (ResampleMethod m : kMethods) {
    std::snprintf(line, sizeof line, "%-10s %9.3f %9.3f\n", ResampleMethodName(m).c_str(),
                  e.mean.psnr_1[int(m)], e.mean.psnr_2[int(m)]);
    out += line;
  }
  std::snprintf(line, sizeof line,
                "alignment (block matching + Lucas-Kanade): mean end-point error %.3f px\n",
                e.mean.epe);
  return out + line;
}

}  // namespace blade
