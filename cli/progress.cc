// Progress bar implementation (carriage-return redraws, throttled to 10 per second).
#include "progress.h"

#include <unistd.h>

#include <cstdio>

#include "commands.h"

namespace blade::cli {
namespace {
bool g_quiet = false;  // set once from the command line before any work starts
}

void SetQuiet(bool quiet) { g_quiet = quiet; }
bool Quiet() { return g_quiet; }
bool ProgressEnabled() { return !g_quiet && isatty(STDERR_FILENO); }

Progress::Progress(std::string label, bool enabled, std::chrono::milliseconds delay)
    : label_(std::move(label)),
      enabled_(enabled),
      delay_(delay),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { Finish(); }

void Progress::Update(long done, long total, const std::string& detail) {
  if (!enabled_ || total <= 0) return;
  auto now = std::chrono::steady_clock::now();
  if (!drawn_ && now - start_ < delay_) return;
  if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  if (!drawn_) FlushHeldNotes();  // what was chosen before the work, above its bar
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double frac = double(done) / double(total);
  const double left = frac > 0 ? elapsed * (1 - frac) / frac : 0;
  const int width = 30, filled = int(frac * width);
  std::string bar(filled, '#');
  bar += std::string(width - filled, '.');
  std::fprintf(stderr, "\r%s [%s] %ld/%ld %5.1fs, %5.1fs left %s\033[K", label_.c_str(),
               bar.c_str(), done, total, elapsed, left, detail.c_str());
  std::fflush(stderr);
}

void Progress::Finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\n");
    drawn_ = false;
  }
}

}  // namespace blade::cli
