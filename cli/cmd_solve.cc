// `blade solve`: run a classical reference scheme on an image file.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "blade/io.h"
#include "blade/ops.h"
#include "blade/pde.h"
#include "blade/preset.h"
#include "blade/viz.h"
#include "commands.h"
#include "progress.h"

namespace blade::cli {
namespace {

struct SolveArgs {
  std::string pde, preset, input, output, frames_dir;
  double time = 0, dt = 0, dx = 1;
  int steps = 0, frames_every = 0;
  bool force = false, luma = false, steps_given = false;
  std::vector<std::string> params;
};

void RunSolve(const SolveArgs& a) {
  const Pde pde = ParsePde(a.pde);
  const Preset& preset = ChoosePreset(a.pde, a.preset);
  const PdeParams params = PdeParamsWith(pde, preset.params, ParseParams(a.params));
  if (a.steps_given && (a.steps < 1 || a.steps > kMaxSteps))
    Fail("--steps must be 1..", kMaxSteps, " (got ", a.steps, ")");
  SolveOptions o;
  if (a.time != 0) RequirePositive(a.time, "--time");
  if (a.dt != 0) RequirePositive(a.dt, "--dt");
  o.time = ResolveSolveTime(a.time, a.steps_given ? a.steps : 0, a.dt, preset.time);
  o.dt = a.dt;
  o.dx = a.dx;
  o.steps = a.steps;
  o.force = a.force;
  RequirePositive(o.time, "--time");
  RequirePositive(o.dx, "--dx");
  if (a.dt != 0) RequirePositive(a.dt, "--dt");
  if (a.frames_every < 0) Fail("--frames-every must be positive");
  if (!a.frames_dir.empty() && a.frames_every == 0) Fail("--frames-dir needs --frames-every");
  if (a.frames_every > 0 && a.frames_dir.empty()) Fail("--frames-every needs --frames-dir");
  if (!a.frames_dir.empty()) PrepareOutputFolder(a.frames_dir);
  CheckOutputPath(a.output);

  ImageSource source;
  Image u0 = ReadInput(a.input, &source);
  if (a.luma) u0 = ToLuma(u0);
  std::vector<std::pair<int, Image>> frames;
  o.frames_every = a.frames_every;
  o.on_frame = [&](int k, const Image& u) { frames.emplace_back(k, u.Copy()); };
  Progress progress("solve " + a.pde, ProgressEnabled());
  o.on_progress = [&](int done, int total) { progress.Update(done, total); };
  const auto t0 = std::chrono::steady_clock::now();
  SolveResult r = Solve(pde, params, u0, o);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress.Finish();
  // Outputs are written only after the whole run succeeded.
  WriteFrames(frames, a.frames_dir);
  WriteOutput(r.u, a.output, source);
  Note(StrCat("solved ", PdeLongName(pde), " to T = ", o.time, " in ", r.steps,
              " steps of dt = ", r.dt, " at dx = ", o.dx, " (", seconds, " s) -> ", a.output));
}

}  // namespace

void AddMontageCommand(CLI::App& app) {
  struct Args {
    std::vector<std::string> files, labels;
    int columns = 4, gap = 4;
    double scale = 1;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("montage", "Tile images side by side into one picture");
  cmd->add_option("--columns", args->columns, "Images per row");
  cmd->add_option("--gap", args->gap, "Pixels between images");
  cmd->add_option("--scale", args->scale, "Resize the result by this factor (Lanczos-3)");
  cmd->add_option("--label", args->labels,
                  "Caption of one input image: give --label once per input, in order ('|' "
                  "separates caption lines), e.g. --label 'input|noisy' --label BLADE")
      ->allow_extra_args(false);
  cmd->add_option("files", args->files, "Input images, then the output image")->required();
  cmd->callback([args] {
    if (args->files.size() < 2) throw UsageError("montage needs input images and an output");
    // The built-in font has printable ASCII only; other characters are drawn as '?'.
    for (const std::string& label : args->labels)
      if (std::any_of(label.begin(), label.end(), [](char c) { return (c & 0x80) != 0; })) {
        Warn(StrCat("label '", label,
                    "' has characters outside ASCII; the caption font draws "
                    "them as '?'"));
        break;
      }
    const std::string out = args->files.back();
    CheckOutputPath(out);
    std::vector<Image> images;
    std::vector<const Image*> ptrs;
    ImageSource deepest;  // the output keeps the most precise input's depth
    for (std::size_t i = 0; i + 1 < args->files.size(); ++i) {
      ImageSource source;
      images.push_back(ReadInput(args->files[i], &source));
      if (source.bit_depth > deepest.bit_depth) deepest = source;
    }
    for (const Image& im : images) ptrs.push_back(&im);
    RequirePositive(args->scale, "--scale");
    if (!args->labels.empty() && args->labels.size() != images.size())
      throw UsageError(
          StrCat("montage got ", args->labels.size(), " labels for ", images.size(), " images"));
    Image m;
    if (args->labels.empty()) {
      m = Montage(ptrs, args->columns, args->gap);
    } else {
      std::vector<Panel> panels;
      for (std::size_t i = 0; i < images.size(); ++i) {
        Panel p{&images[i], {}};
        std::string text = args->labels[i];
        for (std::size_t at; (at = text.find('|')) != std::string::npos; text.erase(0, at + 1))
          p.caption.push_back(text.substr(0, at));
        p.caption.push_back(text);
        panels.push_back(std::move(p));
      }
      m = LabelledMontage(panels, args->columns);
    }
    if (args->scale != 1) {
      const int w = std::max(1, int(std::lround(m.width() * args->scale)));
      const int h = std::max(1, int(std::lround(m.height() * args->scale)));
      if (double(w) * h > 1e9) Fail("--scale ", args->scale, " makes the picture too large");
      // Shrinking: low-pass first, since the resize interpolates without widening its kernel.
      if (args->scale < 1) m = GaussianBlur(m, 0.4 / args->scale);
      m = ResizeLanczos3(m, w, h);
    }
    WriteOutput(m, out, deepest);
    Note(StrCat("montage of ", images.size(), " images -> ", out));
  });
}

void AddSolveCommand(CLI::App& app) {
  auto args = std::make_shared<SolveArgs>();
  CLI::App* cmd = app.add_subcommand("solve", "Run a classical reference PDE scheme on an image");
  cmd->add_option("--pde", args->pde, "tv, pm, ced or ch")->required();
  cmd->add_option("--preset", args->preset, "Preset name (default: the PDE's own)");
  cmd->add_option(
      "--time", args->time,
      "Stopping time T (default: --steps x --dt when both are given, else the preset's)");
  cmd->add_option("--dt", args->dt,
                  "Time step, rounded down to land on T (default: TV, PM the largest stable "
                  "step; CED 0.5 dx^2, within its limit 1.98 dx^2; CH 0.5 gamma at any dx, within "
                  "2 gamma: stable, not converged on a fine grid, where the kodak4x reference "
                  "takes --steps 160 at --dx 0.25)");
  CLI::Option* steps = cmd->add_option(
      "--steps", args->steps,
      "Exactly N equal steps to T (refused above the stability limit unless --force; default: "
      "the fewest stable steps)");
  cmd->add_option("--dx", args->dx, "Grid spacing in operating-grid units (default 1)");
  cmd->add_option("--param", args->params, "Scheme parameter key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--frames-every", args->frames_every, "Keep every M-th step as a frame");
  cmd->add_option("--frames-dir", args->frames_dir,
                  "Folder for the frame_NNNNN.tiff (float) files (created)");
  cmd->add_flag("--force", args->force, "Allow a step above the stability limit");
  cmd->add_flag("--luma", args->luma, "Convert a color input to luma (BT.601) first");
  cmd->add_option("input", args->input, "Input image")->required();
  cmd->add_option("output", args->output,
                  "Output image (--depth float with .tiff or .npy keeps float values exactly; by "
                  "default the input's depth)")
      ->required();
  cmd->callback([args, steps] {
    args->steps_given = steps->count() > 0;
    RunSolve(*args);
  });
}

}  // namespace blade::cli
