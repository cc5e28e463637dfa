// `blade show-filters` and `blade features`: pictures of a model's filter banks and of the
// selection features.
#include <memory>

#include "blade/error.h"
#include "blade/io.h"
#include "blade/model.h"
#include "blade/viz.h"
#include "commands.h"

namespace blade::cli {

void AddShowFiltersCommand(CLI::App& app) {
  struct Args {
    std::string model, out, title;
    int zoom = 6;
    double range = 0;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "show-filters",
      "Draw a model's filter banks as a grid (orientation across, strength and coherence down)");
  cmd->add_option("--model", args->model, "Model file")->required();
  cmd->add_option("out", args->out, "Output picture (.png, .jpg, .tif)")->required();
  cmd->add_option("--zoom", args->zoom, "Pixels per filter tap");
  cmd->add_option("--range", args->range,
                  "Color scale +-RANGE (default: 99.5th percentile of |tap|)");
  cmd->add_option("--title", args->title, "Title (default: describes the model)");
  cmd->callback([args] {
    CheckOutputPath(args->out);
    const Model model = LoadModelArg(args->model);
    FilterPictureOptions o;
    o.zoom = args->zoom;
    o.range = args->range;
    o.title = args->title;
    WriteOutput(RenderFilterBanks(model, o), args->out, PictureSource());
    Note(StrCat("filter banks -> ", args->out));
  });
}

void AddFeaturesCommand(CLI::App& app) {
  struct Args {
    std::string input, out, model;
    double rho = 1;
    std::vector<int> bins = {24, 3, 3};
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "features",
      "Draw the quantized selection features of an image: orientation (hue), strength, coherence");
  cmd->add_option("input", args->input, "Input image")->required();
  cmd->add_option("out", args->out, "Output picture")->required();
  cmd->add_option("--model", args->model,
                  "Use this model's selection (bins, thresholds, rho) instead of --bins/--rho");
  cmd->add_option("--rho", args->rho, "Structure-tensor scale (without --model)");
  cmd->add_option("--bins", args->bins,
                  "Orientation, strength and coherence bins (without --model)")
      ->expected(3);
  cmd->callback([args] {
    CheckOutputPath(args->out);
    if (SameFile(args->out, args->input))
      Fail("'", args->out, "' is the input image; give the feature picture another file");
    SelectionConfig config;
    if (!args->model.empty()) {
      config = LoadModelArg(args->model).banks.at(0).selection;
    } else {
      RequirePositive(args->rho, "--rho");
      config.rho = args->rho;
      config.orientations = args->bins[0];
      config.strengths = args->bins[1];
      config.coherences = args->bins[2];
    }
    ImageSource source;
    const Image image = ReadInput(args->input, &source);
    WriteOutput(RenderFeatures(image, config), args->out, PictureSource());
    Note(StrCat("features -> ", args->out));
  });
}

}  // namespace blade::cli
