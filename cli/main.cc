// Entry point of the `blade` tool: global options, subcommands, and the one place errors become
// exit codes.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/parallel.h"
#include "blade/pde.h"
#include "commands.h"
#include "progress.h"

#ifndef BLADE_REVISION
#define BLADE_REVISION "unknown"
#endif

namespace blade::cli {

void WriteFigure(const std::string& dir, const std::string& image_path, const std::string& suffix,
                 const std::vector<Panel>& panels, bool captions_as_json) {
  const std::string stem = std::filesystem::path(image_path).stem().string();
  const std::filesystem::path base = std::filesystem::path(dir) / (stem + "_" + suffix);
  if (captions_as_json) {
    // The picture without text, and its captions, panel by panel, for a page to set as text.
    std::vector<Panel> bare = panels;
    nlohmann::json captions = nlohmann::json::array();
    for (Panel& p : bare) {
      captions.push_back(p.caption);
      p.caption.clear();
    }
    WriteImage(LabelledMontage(bare, int(bare.size())), base.string() + ".png");
    WriteTextFileAtomically(base.string() + ".json", captions.dump(1) + "\n");
    return;
  }
  const int scale =
      panels.empty() || !panels[0].image ? 1 : std::max(1, panels[0].image->width() / 384);
  WriteImage(LabelledMontage(panels, int(panels.size()), scale), base.string() + ".png");
}

namespace {
// Where "-" text outputs go: the process's standard output, once PrepareTextOutput has moved
// the commands' tables (printed to stdout) onto stderr. -1 until then.
int g_data_fd = -1;
}  // namespace

void PrepareTextOutput(const std::string& path) {
  if (path != "-") return CheckOutputDirectory(path);
  if (g_data_fd >= 0) return;
  std::fflush(stdout);
  g_data_fd = dup(STDOUT_FILENO);
  if (g_data_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    Fail("cannot set standard output aside for the JSON");
}

void WriteTextOutput(const std::string& path, const std::string& text, const std::string& what) {
  if (path == "-") {  // standard output, as ImageMagick's and jq's users expect
    if (g_data_fd < 0) Fail("internal: '-' output without PrepareTextOutput");
    std::fflush(stdout);
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = write(g_data_fd, text.data() + done, text.size() - done);
      if (n <= 0) Fail("cannot write ", what, " to standard output");
      done += std::size_t(n);
    }
    return;
  }
  WriteTextFileAtomically(path, text);
  Note(StrCat(what, " -> ", path));
}

void PrepareOutputFolder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    Fail("output folder '", dir, "' exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) Fail("cannot create output folder '", dir, "': ", ec.message());
}

std::function<void(const std::string&, const std::string&, const std::vector<Panel>&)> FigureWriter(
    const std::string& dir, const std::string& captions) {
  if (dir.empty()) return {};
  if (captions != "picture" && captions != "json")
    Fail("--figure-captions must be picture or json (got '", captions, "')");
  PrepareOutputFolder(dir);
  const bool as_json = captions == "json";
  return [dir, as_json](const std::string& file, const std::string& suffix,
                        const std::vector<Panel>& panels) {
    WriteFigure(dir, file, suffix, panels, as_json);
  };
}

void AddFigureOptions(CLI::App* cmd, std::string* dir, std::string* captions,
                      const std::string& what) {
  cmd->add_option("--figures", *dir, StrCat("Write ", what, " into this folder (created)"));
  cmd->add_option("--figure-captions", *captions,
                  "picture: captions drawn under each panel; json: pictures without text, "
                  "captions in a .json beside each (for a web page)")
      ->capture_default_str();
}

void CheckOutputDirectory(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    Fail("cannot write '", path, "': directory '", dir.string(), "' does not exist");
  // Before any work: a read-only folder found after minutes of computing wastes them.
  if (access(dir.empty() ? "." : dir.c_str(), W_OK) != 0)
    Fail("cannot write '", path, "': directory '", dir.empty() ? "." : dir.string(),
         "' is not writable");
}

void CheckModelOutput(const std::string& path) {
  if (std::filesystem::path(path).extension() != ".blade")
    Fail("model output '", path, "' should end in .blade");
  CheckOutputDirectory(path);
}

void StampProvenance(std::map<std::string, std::string>& provenance) {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  provenance["date"] = buf;
  provenance["revision"] = BLADE_REVISION;
}

namespace {
std::string g_output_depth;
int g_jpeg_quality = WriteOptions().jpeg_quality;
}  // namespace

void SetOutputDepth(const std::string& depth) { g_output_depth = depth; }
void SetJpegQuality(int quality) { g_jpeg_quality = quality; }

CLI::Validator SeedValidator(std::uint64_t max) {
  return CLI::Validator(
      [max](const std::string& v) {
        std::uint64_t seed = 0;
        const char* end = v.data() + v.size();
        const auto r = std::from_chars(v.data(), end, seed);
        return !v.empty() && r.ec == std::errc() && r.ptr == end && seed <= max
                   ? std::string()
                   : StrCat("must be a whole number from 0 to ", max, " (got '", v, "')");
      },
      "SEED");
}

bool SameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (std::filesystem::exists(a, ec) && std::filesystem::exists(b, ec))
    return std::filesystem::equivalent(a, b, ec);
  const auto ca = std::filesystem::weakly_canonical(a, ec);
  if (ec) return false;
  const auto cb = std::filesystem::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

void CheckOutputPath(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) Fail("cannot write '", path, "': is a directory");
  FormatFromExtension(path);
  CheckOutputDirectory(path);
  // A --depth the output's format cannot hold fails now, before any work.
  if (!g_output_depth.empty()) OutputBitDepth(path, ImageSource{}, g_output_depth);
}

// Decoding or encoding a large file takes seconds: a bar after half a second.
constexpr std::chrono::milliseconds kIoProgressDelay(500);

Image ReadInput(const std::string& path, ImageSource* source) {
  Progress progress(StrCat("read ", path), ProgressEnabled(), kIoProgressDelay);
  Image image =
      ReadImage(path, source, [&](long done, long total) { progress.Update(done, total); });
  progress.Finish();
  for (const std::string& w : ReadWarnings(path, *source, image)) Warn(w);
  return image;
}

void WriteOutput(const Image& image, const std::string& path, const ImageSource& like) {
  WriteOptions o;
  o.bit_depth = OutputBitDepth(path, like, g_output_depth);
  o.jpeg_quality = g_jpeg_quality;
  o.on_warning = Warn;
  Progress progress(StrCat("write ", path), ProgressEnabled(), kIoProgressDelay);
  o.on_rows = [&](long done, long total) { progress.Update(done, total); };
  WriteImage(image, path, o);
  progress.Finish();
}

const Preset& ChoosePreset(const std::string& pde, const std::string& preset) {
  if (pde.empty() && preset.empty()) throw UsageError("give --pde or --preset");
  const Preset& p = !preset.empty() ? FindPreset(preset) : DefaultPreset(ParsePde(pde));
  if (!pde.empty() && p.pde != ParsePde(pde))
    Fail("preset '", p.name, "' is for ", PdeName(p.pde), ", not ", pde);
  return p;
}

std::map<std::string, double> ParseParams(const std::vector<std::string>& params) {
  std::map<std::string, double> out;
  for (const std::string& p : params)
    if (!out.insert(ParseKeyValue(p)).second)
      throw UsageError("--param " + ParseKeyValue(p).first + " is given twice");
  return out;
}

Model LoadAppModel(const std::string& given, Application app, bool force_model,
                   const std::vector<std::string>& params) {
  const std::map<std::string, double> at = ParseParams(params);
  Model model = LoadModelArg(ModelOrDefault(given, app));
  RequireModelFor(app, model, force_model);
  return ModelAtParams(model, at);
}

void AddAppParamOption(CLI::App* cmd, std::vector<std::string>* params) {
  cmd->add_option("--param", *params,
                  "NAME=V: the model's PDE parameter for this run, inside a parametric model's "
                  "box (blade info), repeatable")
      ->allow_extra_args(false);
}

Model LoadModelArg(const std::string& given) { return LoadModel(ResolveModelPath(given)); }

std::string ModelOrDefault(const std::string& given, Application app) {
  if (!given.empty()) return given;
  const std::string path = ShippedModelPath(DefaultModelName(app));
  HoldNote(StrCat("using the shipped model ", path));
  return path;
}

std::pair<std::string, double> ParseKeyValue(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw UsageError("expected key=value, got '" + text + "'");
  std::string key = text.substr(0, eq), value = text.substr(eq + 1);
  try {
    std::size_t used = 0;
    double v = std::stod(value, &used);
    if (used != value.size()) throw std::invalid_argument(value);
    return {key, v};
  } catch (const std::exception&) {
    throw UsageError("value of '" + key + "' is not a number: '" + value + "'");
  }
}

void WriteFrames(const std::vector<std::pair<int, Image>>& frames, const std::string& dir) {
  for (const auto& [k, frame] : frames) {
    char name[64];
    std::snprintf(name, sizeof name, "frame_%05d.tiff", k);
    WriteImage(frame, (std::filesystem::path(dir) / name).string());
  }
}

namespace {
std::vector<std::string> g_held_notes;
}  // namespace

void HoldNote(const std::string& message) {
  if (!Quiet()) g_held_notes.push_back(message);
}

void FlushHeldNotes() {
  for (const std::string& message : g_held_notes) std::fprintf(stderr, "%s\n", message.c_str());
  g_held_notes.clear();
}

void Note(const std::string& message) {
  if (Quiet()) return;
  FlushHeldNotes();
  std::fprintf(stderr, "%s\n", message.c_str());
}

void Warn(const std::string& message) {
  if (Quiet()) return;
  FlushHeldNotes();
  std::fprintf(stderr, "blade: warning: %s\n", message.c_str());
}

}  // namespace blade::cli

namespace blade::cli {
namespace {
std::string g_command_line;  // set once in main before parsing
}
const std::string& CommandLine() { return g_command_line; }

namespace {
// SIGINT / SIGTERM: remove the temporary file of any write in progress (outputs only ever
// appear by rename, so nothing partial remains), say so, and exit as the shell reports a
// process killed by the signal, 128 + its number (130, 143). Only async-signal-safe calls.
// Training checkpoints (--checkpoint) are whole files written the same way.
extern "C" void OnInterrupt(int signal) {
  blade::RemovePendingTemporaryFiles();
  static const char kMessage[] = "\nblade: interrupted; unfinished outputs were removed\n";
  [[maybe_unused]] ssize_t n = ::write(2, kMessage, sizeof kMessage - 1);
  ::_exit(128 + signal);
}
}  // namespace

void InstallInterruptHandler() {
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}
}  // namespace blade::cli

namespace blade::cli {
namespace {

// One worked example per command, shown at the end of its --help.
void AddExamples(CLI::App& app) {
  const std::pair<const char*, const char*> examples[] = {
      {"solve", "blade solve --pde pm --param c=0.05 --time 4 photo.png smoothed.png"},
      {"compare", "blade compare result.png reference.png"},
      {"baselines", "blade baselines --pde tv --images photos/ --json rows.json"},
      {"presets", "blade presets"},
      {"montage", "blade montage --label 'input|noisy' --label 'BLADE' a.png b.png side.png"},
      {"run", "blade run --model models/ced.blade photo.png out.png   (16-bit in, 16-bit out)"},
      {"info", "blade info models/tv.blade"},
      {"stability", "blade stability --model my.blade --images photos/ --steps 200"},
      {"train", "blade train --pde pm --images photos/ --out pm.blade"},
      {"eval", "blade eval --model models/pm.blade --images kodak/ --json pm.json"},
      {"segment", "blade segment --model models/tv.blade --overlay contour.png photo.png mask.png"},
      {"eval-app", "blade eval-app deconv --model models/ced-restore.blade --images photos/"},
      {"restore", "blade restore --model models/tv.blade --op blur:sigma=1 blurred.png out.png"},
      {"deconv", "blade deconv --model models/ced-restore.blade --sigma 1 blurred.png out.png"},
      {"upscale", "blade upscale --factor 4 small.png large.png   (shrunk by area averaging)"},
      {"train-upscale",
       "blade train-upscale --images photos/ --factor 2 --degradation bicubic --out x2.blade"},
      {"train-refiner",
       "blade train-refiner --model x2.blade --images photos/ --out x2-refined.blade"},
      {"denoise", "blade denoise --sigma 20 noisy.png clean.png"},
      {"train-denoise", "blade train-denoise --images photos/ --color --out denoise-color.blade"},
      {"train-resample", "blade train-resample --images photos/ --out resample.blade"},
      {"resample", "blade resample --model models/resample3.blade --flow v.flo in.png out.png"},
      {"align", "blade align ref.png alt.png --flow flow.flo --warped aligned.png"},
      {"eval-resample", "blade eval-resample --model models/resample3.blade --images photos/"},
      {"show-filters", "blade show-filters --model models/ced.blade --zoom 3 filters.png"},
      {"features", "blade features --model models/tv.blade photo.png features.png"},
  };
  for (const auto& [name, example] : examples)
    for (CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == name) {
        const std::string notes = sub->get_footer();  // e.g. the terms a command uses
        sub->footer(StrCat(notes.empty() ? "" : notes + "\n\n", "Example:\n  ", example));
      }
}

// Levenshtein distance, for suggestions.
std::size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The candidate nearest to `word`, if it is near enough to be a typo ("" otherwise).
std::string Nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

// --time and --dt leave the value to a default when not given (0 in the options' structs): a 0
// or a negative value typed on the command line is refused, not taken as "the default", in
// every command that has them (`solve --time 0` had run to the preset's T). A value that is not
// a number is left to the parser's own message.
void RefuseNonPositiveTimes(CLI::App& app) {
  for (CLI::App* cmd : app.get_subcommands({})) {
    // The help shows no "=0" for what 0 cannot be typed as: the option's text says its default.
    for (const char* name : {"--time", "--dt", "--steps"})
      if (CLI::Option* option = cmd->get_option_no_throw(name);
          option && option->get_default_str() == "0")
        option->default_str("");
    for (const char* name : {"--time", "--dt"})
      if (CLI::Option* option = cmd->get_option_no_throw(name))
        option->each([name](const std::string& text) {
          char* end = nullptr;
          const double value = std::strtod(text.c_str(), &end);
          if (end == text.c_str() || *end != '\0' || value > 0 || std::isnan(value)) return;
          throw blade::Error(StrCat(name, " must be positive (got ", text, ")"));
        });
  }
}

// The first word that is not an option (or an option's value) must name a command: refuse an
// unknown one with the nearest valid name, instead of CLI11's "A subcommand is required".
void RequireKnownCommand(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> names;
  for (CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--threads" || word == "--depth" || word == "--quality") {
      ++i;  // its value
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    if (std::find(names.begin(), names.end(), word) != names.end()) return;
    if (word == "help")
      throw UsageError("there is no 'help' command: use 'blade --help', or 'blade COMMAND --help'");
    const std::string near = Nearest(word, names);
    throw UsageError(StrCat("unknown command '", word, "'",
                            near.empty() ? "" : StrCat("; did you mean '", near, "'?")));
  }
}

// The command given ("run"), or "" before one was parsed.
std::string GivenCommand(CLI::App& app) {
  const std::vector<CLI::App*> given = app.get_subcommands();
  return given.empty() ? "" : given.front()->get_name();
}

// CLI11's "The following arguments were not expected: --stpes", with the nearest option of the
// command given (or of blade itself).
std::string WithSuggestion(CLI::App& app, const std::string& message) {
  std::vector<std::string> options;
  auto collect = [&](const CLI::App* a) {
    for (const CLI::Option* o : a->get_options())
      for (const std::string& name : o->get_lnames()) options.push_back("--" + name);
  };
  collect(&app);
  for (const CLI::App* sub : app.get_subcommands()) collect(sub);
  std::string suggestion;
  std::size_t at = message.find("--");
  if (at != std::string::npos) {
    const std::size_t end = message.find_first_of(" \n", at);
    const std::string word = message.substr(at, end == std::string::npos ? end : end - at);
    // A PDE parameter typed as an option (--sigma 1, --c 0.05): name --param, not the nearest
    // spelling (which was --dt for --c).
    const std::string key = word.substr(2);
    bool pde_param = false;
    for (Pde pde : kAllPdes) pde_param = pde_param || PdeParams{}.ToMap(pde).count(key) > 0;
    const std::string command = GivenCommand(app);
    const CLI::App* given = command.empty() ? nullptr : app.get_subcommand(command);
    if (pde_param && given != nullptr && given->get_option_no_throw("--param") != nullptr) {
      suggestion = StrCat("; PDE parameters are given as --param ", key, "=VALUE");
    } else {
      const std::string near = Nearest(word, options);
      if (!near.empty()) suggestion = StrCat("; did you mean '", near, "'?");
    }
  }
  return message + suggestion;
}

// A usage error as one line, pointing at the given command's help, or blade's own for an error
// in one of its global options (--threads, --depth, --quality), which a command's help omits.
int ReportUsage(CLI::App& app, const std::string& message) {
  bool global = false;
  for (const CLI::Option* o : app.get_options())
    for (const std::string& name : o->get_lnames())
      global = global || message.rfind(StrCat("--", name, ":"), 0) == 0;
  const std::string command = global ? "" : GivenCommand(app);
  std::fprintf(stderr, "blade: error: %s (usage: blade %s--help)\n", message.c_str(),
               command.empty() ? "" : (command + " ").c_str());
  return 2;
}

// CLI11 checks required options before unexpected ones, so `--modle` read "--model is
// required": the first word that names no option of blade or the given command goes first,
// with the nearest option ("" when every option word is known).
std::string UnknownOptionMessage(CLI::App& app, int argc, char** argv) {
  std::map<std::string, bool> known;  // option name -> takes a value
  auto collect = [&](const CLI::App* a) {
    for (const CLI::Option* o : a->get_options()) {
      const bool value = o->get_type_size_max() > 0;
      for (const std::string& name : o->get_lnames()) known["--" + name] = value;
      for (const std::string& name : o->get_snames()) known["-" + name] = value;
    }
  };
  collect(&app);
  for (const CLI::App* sub : app.get_subcommands()) collect(sub);
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") break;
    if (word.size() < 2 || word[0] != '-' || std::isdigit(static_cast<unsigned char>(word[1])) ||
        word[1] == '.')
      continue;  // a value (negative numbers included)
    const bool inline_value = word.find('=') != std::string::npos;
    word = word.substr(0, word.find('='));
    const auto it = known.find(word);
    if (it == known.end()) return WithSuggestion(app, StrCat("unknown option ", word));
    if (it->second && !inline_value) ++i;  // its value, whatever it looks like (--label -x)
  }
  return "";
}

}  // namespace
}  // namespace blade::cli

int main(int argc, char** argv) {
  blade::KeepFreedImageMemory();
  using namespace blade::cli;
  InstallInterruptHandler();
  for (int i = 0; i < argc; ++i)
    g_command_line += (i ? " " : "") + std::string(i ? argv[i] : "blade");
  // Named, so the usage line says `blade`, not the path the binary was started from.
  CLI::App app{"blade: image PDEs solved with BLADE, a shallow learned adaptive-filter network",
               "blade"};
  app.require_subcommand(1);
  app.footer(
      "Images: PNG (1-16 bit; palettes expanded), JPEG, TIFF (8, 16-bit or float), NPY. An "
      "alpha channel is dropped, with a one-line warning: a PDE does not touch transparency, "
      "and outputs carry none. Outputs keep the input's sample depth (see --depth); values "
      "outside [0, 1] written to an integer format are clipped, with a warning giving their "
      "count where that changes the picture (more than an edge's overshoot). A --json FILE "
      "option takes - for standard output. Resizing puts pixel centres where PIL, scikit-image and "
      "OpenCV do "
      "(docs/FORMATS.md).");
  // Every option's default appears in --help (subcommands inherit this).
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", "blade 0.1.0");
  int threads = 0;
  bool quiet = false;
  std::string depth;
  // Global options, accepted before or after the subcommand (fallthrough).
  app.fallthrough();
  app.add_option("--threads", threads,
                 "Worker threads (0 = OMP_NUM_THREADS, else all cores; on a busy machine set the "
                 "environment's OMP_WAIT_POLICY=PASSIVE, or OpenMP's waiting threads spin)")
      ->check(CLI::Range(0, blade::kMaxThreads))
      ->capture_default_str();
  app.add_flag("-q,--quiet", quiet, "No progress bars, status messages or warnings");
  app.add_option("--depth", depth,
                 "Sample depth of written images: 8, 16 or float (default: the input's, so "
                 "16-bit in is 16-bit out; PNG holds 8/16, JPEG 8, TIFF 8/16/float, NPY float)")
      ->check(CLI::IsMember({"8", "16", "float"}));
  int quality = blade::WriteOptions().jpeg_quality;
  app.add_option("--quality", quality,
                 "JPEG quality of written .jpg images, 1-100 (as ImageMagick's -quality; other "
                 "formats are lossless)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.parse_complete_callback([&] {
    blade::SetNumThreads(threads);
    SetQuiet(quiet);
    SetOutputDepth(depth);
    SetJpegQuality(quality);
  });
  AddSolveCommand(app);
  AddCompareCommand(app);
  AddBaselinesCommand(app);
  AddPresetsCommand(app);
  AddMontageCommand(app);
  AddRunCommand(app);
  AddInfoCommand(app);
  AddStabilityCommand(app);
  AddTrainCommand(app);
  AddEvalCommand(app);
  AddSegmentCommand(app);
  AddEvalAppCommand(app);
  AddRestoreCommands(app);
  AddResampleCommands(app);
  AddShowFiltersCommand(app);
  AddFeaturesCommand(app);
  AddExamples(app);
  RefuseNonPositiveTimes(app);
  try {
    RequireKnownCommand(app, argc, argv);
    app.parse(argc, argv);
    FlushHeldNotes();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    return ReportUsage(app, WithSuggestion(app, e.what()));
  } catch (const CLI::RequiredError& e) {
    const std::string unknown = UnknownOptionMessage(app, argc, argv);
    return ReportUsage(app, unknown.empty() ? e.what() : unknown);
  } catch (const CLI::ParseError& e) {
    return ReportUsage(app, e.what());
  } catch (const blade::UsageError& e) {
    std::fprintf(stderr, "blade: error: %s\n", e.what());
    return 2;
  } catch (const blade::Error& e) {
    std::fprintf(stderr, "blade: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "blade: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "blade: error: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
