// The `blade` subcommands: each registers its options and calls one library entry point.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "blade/apps.h"
#include "blade/image.h"
#include "blade/io.h"
#include "blade/preset.h"
#include "blade/viz.h"

namespace blade::cli {

// The kodak4x protocol's terms, in one paragraph, for the help of the commands that use them.
inline constexpr const char* kKodak4xTerms =
    "kodak4x: each image's luma is the HR (high-resolution) start; the PDE's reference runs on "
    "it (a grid 4x finer than LR) and is area-downsampled 4x; BLADE and the classical scheme run "
    "on the LR (4x smaller) image. Rows: identity (the LR start itself), classical-LR-10 (the "
    "classical scheme at LR in BLADE's 10 steps, stable or not), classical-LR (at LR with its "
    "stable step).";

void AddSolveCommand(CLI::App& app);
void AddCompareCommand(CLI::App& app);
void AddBaselinesCommand(CLI::App& app);
void AddPresetsCommand(CLI::App& app);
void AddMontageCommand(CLI::App& app);
void AddRunCommand(CLI::App& app);
void AddInfoCommand(CLI::App& app);
void AddStabilityCommand(CLI::App& app);
void AddTrainCommand(CLI::App& app);
void AddEvalCommand(CLI::App& app);
void AddSegmentCommand(CLI::App& app);
void AddEvalAppCommand(CLI::App& app);
void AddRestoreCommands(CLI::App& app);
void AddResampleCommands(CLI::App& app);
void AddShowFiltersCommand(CLI::App& app);
void AddFeaturesCommand(CLI::App& app);
// A random seed: a whole number from 0 to `max` (the option's type's; CLI11's range checks
// print the type's whole range as a float).
CLI::Validator SeedValidator(std::uint64_t max = UINT64_MAX);
// The whole command line, as typed (for provenance).
const std::string& CommandLine();

// Checks, before any work, that `path` can be written: a known image extension and an
// existing directory. Fails with a clear message otherwise.
void CheckOutputPath(const std::string& path);
// Checks only that the directory `path` would be written to exists (for JSON and model files).
void CheckOutputDirectory(const std::string& path);
// A model output: the .blade extension and an existing directory.
void CheckModelOutput(const std::string& path);
// Records when and from which source revision a model was made (provenance "date", "revision").
void StampProvenance(std::map<std::string, std::string>& provenance);
// "key=value" -> (key, value); fails with a usage message on malformed input.
std::pair<std::string, double> ParseKeyValue(const std::string& text);
// Writes (step, state) frames as DIR/frame_NNNNN.tiff (float, exact).
void WriteFrames(const std::vector<std::pair<int, Image>>& frames, const std::string& dir);
// Writes a captioned side-by-side picture DIR/STEM_SUFFIX.png (atomically; DIR must exist), or
// with captions_as_json the panels without text and their captions in DIR/STEM_SUFFIX.json.
void WriteFigure(const std::string& dir, const std::string& image_path, const std::string& suffix,
                 const std::vector<Panel>& panels, bool captions_as_json = false);
// Writes a text output (JSON) atomically and says "<what> -> <path>" unless -q, as every
// command that writes a file does; "-" writes it to standard output instead, once
// PrepareTextOutput("-") has moved the command's printed tables to stderr.
void PrepareTextOutput(const std::string& path);  // else checks the path's folder
// Whether two paths name one file (the same file through links or another spelling, or, where
// they do not exist yet, the same normalised path).
bool SameFile(const std::string& a, const std::string& b);
void WriteTextOutput(const std::string& path, const std::string& text, const std::string& what);

// Every output folder option (--frames-dir, --figures) follows one rule: the folder is created
// (with its parents) if it does not exist; a path that exists but is not a folder, or cannot be
// created, fails with one message.
void PrepareOutputFolder(const std::string& dir);
// A FigureSink (blade/eval.h) that writes each picture into `dir` (created now), or none if
// dir is empty; captions "picture" (drawn in) or "json" (WriteFigure).
std::function<void(const std::string&, const std::string&, const std::vector<Panel>&)> FigureWriter(
    const std::string& dir, const std::string& captions = "picture");
// --figures DIR and --figure-captions picture|json, for the commands that write figures.
// `what` says what is written ("a side-by-side picture per image").
void AddFigureOptions(CLI::App* cmd, std::string* dir, std::string* captions,
                      const std::string& what = "a captioned side-by-side picture per image");
// Prints to stderr unless --quiet (status messages; results go to stdout).
void Note(const std::string& message);
// Prints "blade: warning: <message>" to stderr unless --quiet.
void Warn(const std::string& message);
// A status message about a choice made before the work ("using the shipped model ..."): held
// until the next Note, Warn or progress bar, or the command's success, and dropped when the
// command fails, so that a refused input is one "blade: error:" line.
void HoldNote(const std::string& message);
void FlushHeldNotes();

// The global --depth (8, 16, float; "" = the input's), read by WriteOutput.
void SetOutputDepth(const std::string& depth);
void SetJpegQuality(int quality);  // --quality, for WriteOutput's JPEG files
// Reads a command's input image, with what the file held (for WriteOutput); warns when an
// alpha channel was dropped.
Image ReadInput(const std::string& path, ImageSource* source);
// Writes a command's output image atomically at OutputBitDepth(path, like, --depth): the input's
// precision unless --depth says otherwise; warns when pixels were clipped to [0, 1].
void WriteOutput(const Image& image, const std::string& path, const ImageSource& like);
// The preset of --pde and --preset: the named one (which must be for --pde when both are
// given), else the PDE's own; neither is a usage error.
const Preset& ChoosePreset(const std::string& pde, const std::string& preset);
// What a drawn picture (filter banks, features) is written like: 8-bit samples, whatever image
// it was drawn from (a viewer shows a float TIFF badly; --depth still overrides).
inline ImageSource PictureSource() {
  ImageSource s;
  s.bit_depth = 8;
  return s;
}
// The --model an application was given, or its shipped default (DefaultModelName,
// ShippedModelPath), named in a note.
std::string ModelOrDefault(const std::string& given, Application app);
// The values of repeated `--param NAME=V`; fails on a name given twice.
std::map<std::string, double> ParseParams(const std::vector<std::string>& params);
// An application's model: the one given (or the shipped default), checked for the application
// (RequireModelFor) and taken at the PDE parameters of `--param NAME=V` (ModelAtParams).
// A --model argument: a path, or a shipped model's name ("tv-plain"; ResolveModelPath).
Model LoadModelArg(const std::string& given);
Model LoadAppModel(const std::string& given, Application app, bool force_model,
                   const std::vector<std::string>& params);
// An application's `--param NAME=V` (repeatable, one value per use).
void AddAppParamOption(CLI::App* cmd, std::vector<std::string>* params);

}  // namespace blade::cli
