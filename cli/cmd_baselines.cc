// `blade baselines` and `blade presets`: the classical rows of the kodak4x table, and the preset
// list.
#include <cstdio>

#include "blade/eval.h"
#include "blade/io.h"
#include "blade/preset.h"
#include "blade/train.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {

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
                  "Write per-image and mean scores as JSON, with the keys of `blade eval --json` "
                  "(- : standard output)");
  cmd->callback([args] {
    const Preset& preset = ChoosePreset(args->pde, args->preset);
    if (!args->json.empty()) PrepareTextOutput(args->json);
    std::vector<std::string> files = ListImages(args->images, args->limit);
    ModelEvalOptions o;
    o.cache_dir = DefaultCacheDir();
    Progress progress("baselines", ProgressEnabled());
    o.on_progress = [&](int done, int total) { progress.Update(done, total); };
    const ModelEvaluation e = EvaluateBaselines(preset, files, o);
    progress.Finish();
    std::printf("%s", ModelEvaluationTable(e, "").c_str());
    if (!args->json.empty()) WriteTextOutput(args->json, ModelEvaluationJson(e), "baseline rows");
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
