// Entry point of the `blade` tool: global options, subcommands, and the one place errors become
// exit codes.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>

#include "blade/error.h"
#include "blade/eval.h"
#include "blade/io.h"
#include "blade/parallel.h"
#include "commands.h"
#include "progress.h"

#ifndef BLADE_REVISION
#define BLADE_REVISION "unknown"
#endif

namespace blade::cli {

void WriteFigure(const std::string& dir, const std::string& image_path, const std::string& suffix,
                 const std::vector<Panel>& panels) {
  const std::string stem = std::filesystem::path(image_path).stem().string();
  const int scale =
      panels.empty() || !panels[0].image ? 1 : std::max(1, panels[0].image->width() / 384);
  WriteImage(LabelledMontage(panels, int(panels.size()), scale),
             (std::filesystem::path(dir) / (stem + "_" + suffix + ".png")).string());
}

std::function<void(const std::string&, const std::string&, const std::vector<Panel>&)> FigureWriter(
    const std::string& dir) {
  if (dir.empty()) return {};
  std::filesystem::create_directories(dir);
  return [dir](const std::string& file, const std::string& suffix,
               const std::vector<Panel>& panels) { WriteFigure(dir, file, suffix, panels); };
}

void CheckOutputDirectory(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::is_directory(dir, ec))
    Fail("cannot write '", path, "': directory '", dir.string(), "' does not exist");
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

void CheckOutputPath(const std::string& path) {
  FormatFromExtension(path);
  CheckOutputDirectory(path);
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

void Note(const std::string& message) {
  if (Quiet()) return;
  std::fprintf(stderr, "%s\n", message.c_str());
}

}  // namespace blade::cli

namespace blade::cli {
namespace {
std::string g_command_line;  // set once in main before parsing
}
const std::string& CommandLine() { return g_command_line; }

namespace {
// SIGINT / SIGTERM: remove the temporary file of any write in progress (outputs only ever
// appear by rename, so nothing partial remains), say so, and exit 130. Only async-signal-safe
// calls. Training checkpoints (--checkpoint) are whole files written the same way.
extern "C" void OnInterrupt(int) {
  blade::RemovePendingTemporaryFiles();
  static const char kMessage[] = "\nblade: interrupted; unfinished outputs were removed\n";
  [[maybe_unused]] ssize_t n = ::write(2, kMessage, sizeof kMessage - 1);
  ::_exit(130);
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

int main(int argc, char** argv) {
  blade::KeepFreedImageMemory();
  using namespace blade::cli;
  InstallInterruptHandler();
  for (int i = 0; i < argc; ++i)
    g_command_line += (i ? " " : "") + std::string(i ? argv[i] : "blade");
  CLI::App app{"blade: image PDEs solved with BLADE, a shallow learned adaptive-filter network"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "blade 0.1.0");
  int threads = 0;
  bool quiet = false;
  app.add_option("--threads", threads, "Worker threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-q,--quiet", quiet, "No progress bars or status messages");
  app.parse_complete_callback([&] {
    blade::SetNumThreads(threads);
    SetQuiet(quiet);
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "blade: error: %s\nRun 'blade --help' for usage.\n", e.what());
    return 2;
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
