// `blade baselines` and `blade presets`: the classical rows of the kodak4x table, and the preset
// list.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "blade/eval.h"
#include "blade/io.h"
#include "blade/preset.h"
#include "blade/train.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {
namespace {

nlohmann::json ScoreJson(const Score& s) {
  if (s.diverged) return {{"diverged", true}, {"steps", s.steps}, {"seconds", s.seconds}};
  return {{"psnr", s.psnr}, {"ssim", s.ssim}, {"steps", s.steps}, {"seconds", s.seconds}};
}

std::string ScoreText(const Score& s) {
  char buf[64];
  if (s.diverged)
    std::snprintf(buf, sizeof buf, "%8s %7s", "diverged", "");
  else
    std::snprintf(buf, sizeof buf, "%8.3f %7.4f", s.psnr, s.ssim);
  return buf;
}

}  // namespace

void AddBaselinesCommand(CLI::App& app) {
  struct Args {
    std::string pde, preset, images, json;
    int limit = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "baselines", "Identity, classical-LR-10 and classical-LR rows of the kodak4x protocol");
  cmd->footer(kKodak4xTerms);
  cmd->add_option("--pde", args->pde, "tv, pm, ced or ch");
  cmd->add_option("--preset", args->preset, "Preset name (default: the PDE's own)");
  cmd->add_option("--images", args->images, "Directory of HR images (or one file)")->required();
  cmd->add_option("--limit", args->limit, "Use only the first N images")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--json", args->json,
                  "Write per-image and mean scores as JSON (- : standard output)");
  cmd->callback([args] {
    const Preset& preset = ChoosePreset(args->pde, args->preset);
    if (!args->json.empty()) PrepareTextOutput(args->json);
    std::vector<std::string> files = ListImages(args->images, args->limit);

    std::printf("preset %s (%s), T = %g, %d frames; PSNR dB / SSIM vs. the HR reference\n",
                preset.name.c_str(), PdeName(preset.pde).c_str(), preset.time, preset.frames);
    std::printf("%-16s %16s %16s %16s %9s\n", "image", "identity", "classical-LR-10",
                "classical-LR", "ref s");
    Progress progress("baselines", ProgressEnabled());
    nlohmann::json rows = nlohmann::json::array();
    double sums[6] = {0, 0, 0, 0, 0, 0};
    int diverged10 = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
      progress.Update(long(i), long(files.size()));
      const std::string name = std::filesystem::path(files[i]).filename().string();
      BaselineRow row = EvaluateImage(preset, LoadHrLuma(files[i], preset.scale), name, nullptr,
                                      DefaultCacheDir());
      std::printf("%-16s %s %s %s %9.2f\n", name.c_str(), ScoreText(row.identity).c_str(),
                  ScoreText(row.classical_lr10).c_str(), ScoreText(row.classical_lr).c_str(),
                  row.reference_seconds);
      std::fflush(stdout);
      sums[0] += row.identity.psnr;
      sums[1] += row.identity.ssim;
      if (row.classical_lr10.diverged) ++diverged10;
      sums[2] += row.classical_lr10.psnr;
      sums[3] += row.classical_lr10.ssim;
      sums[4] += row.classical_lr.psnr;
      sums[5] += row.classical_lr.ssim;
      rows.push_back({{"image", name},
                      {"identity", ScoreJson(row.identity)},
                      {"classical_lr10", ScoreJson(row.classical_lr10)},
                      {"classical_lr", ScoreJson(row.classical_lr)},
                      {"reference_seconds", row.reference_seconds}});
    }
    progress.Finish();
    const double n = double(files.size());
    Score mean_id{sums[0] / n, sums[1] / n}, mean10{sums[2] / n, sums[3] / n},
        mean_lr{sums[4] / n, sums[5] / n};
    mean10.diverged = diverged10 > 0;
    std::printf("%-16s %s %s %s\n", "mean", ScoreText(mean_id).c_str(),
                diverged10 > 0
                    ? (ScoreText(mean10) + " (" + std::to_string(diverged10) + " diverged)").c_str()
                    : ScoreText(mean10).c_str(),
                ScoreText(mean_lr).c_str());
    if (!args->json.empty()) {
      nlohmann::json doc = {
          {"preset", preset.name},
          {"pde", PdeName(preset.pde)},
          {"time", preset.time},
          {"images", rows},
          {"mean",
           {{"identity", {{"psnr", mean_id.psnr}, {"ssim", mean_id.ssim}}},
            {"classical_lr10",
             {{"psnr", mean10.psnr}, {"ssim", mean10.ssim}, {"diverged_images", diverged10}}},
            {"classical_lr", {{"psnr", mean_lr.psnr}, {"ssim", mean_lr.ssim}}}}}};
      WriteTextOutput(args->json, doc.dump(2) + "\n", "baseline rows");
    }
  });
}

void AddPresetsCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("presets", "List the built-in PDE presets");
  cmd->callback([] {
    for (const Preset& p : BuiltinPresets()) {
      std::string params;
      for (const auto& [k, v] : p.params.ToMap(p.pde)) params += StrCat(" ", k, "=", v);
      std::printf("%-6s %-4s T=%-6g hr_steps=%-5d M=%-4d dt=%-8g dt_HR=%g (HR px units)%s\n",
                  p.name.c_str(), PdeName(p.pde).c_str(), p.time, p.hr_steps, p.frame_every(),
                  p.dt(), p.hr_dt_in_hr_pixels(), params.c_str());
      std::printf("       %s\n", p.description.c_str());
    }
  });
}

}  // namespace blade::cli
