// `blade compare`: PSNR and SSIM of two images.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/metrics.h"
#include "commands.h"

namespace blade::cli {

void AddCompareCommand(CLI::App& app) {
  struct Args {
    std::string a, b, json;
    double peak = 1.0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("compare", "Print PSNR and SSIM of two images");
  cmd->add_option("a", args->a, "First image")->required();
  cmd->add_option("b", args->b, "Second image")->required();
  cmd->add_option("--json", args->json,
                  "Also write {\"psnr\", \"ssim\", \"identical\"} to this file (- : standard "
                  "output); identical images have psnr null and identical true");
  cmd->add_option("--peak", args->peak, "Data range L (default 1.0)");
  cmd->callback([args] {
    RequirePositive(args->peak, "--peak");
    if (!args->json.empty()) PrepareTextOutput(args->json);
    Image a = ReadImage(args->a), b = ReadImage(args->b);
    RequireSameShape(a, b, "the two images");
    if (!AllFinite(a) || !AllFinite(b)) Fail("an image contains NaN or infinite values");
    if (const std::string w = MetricRangeWarning(args->peak, a, b, "--peak"); !w.empty()) Warn(w);
    const double psnr = Psnr(a, b, args->peak);
    // SSIM's window needs 11x11 pixels; a smaller pair still gets its PSNR.
    const bool has_ssim = a.width() >= kSsimMinSize && a.height() >= kSsimMinSize;
    if (!has_ssim)
      Warn(StrCat("SSIM needs images of at least ", kSsimMinSize, "x", kSsimMinSize,
                  " pixels; only PSNR is given"));
    const double ssim = has_ssim ? Ssim(a, b, args->peak) : std::nan("");
    if (has_ssim)
      std::printf("PSNR %.4f dB  SSIM %.6f\n", psnr, ssim);
    else
      std::printf("PSNR %.4f dB  SSIM n/a\n", psnr);
    if (!args->json.empty()) {
      nlohmann::json j;
      j["psnr"] = std::isfinite(psnr) ? nlohmann::json(psnr) : nlohmann::json(nullptr);
      j["ssim"] = has_ssim ? nlohmann::json(ssim) : nlohmann::json(nullptr);
      j["identical"] = !std::isfinite(psnr);
      WriteTextOutput(args->json, j.dump(2) + "\n", "scores");
    }
  });
}

}  // namespace blade::cli
