// Terminal progress bar for long commands: drawn on stderr only when it is a terminal and not
// --quiet.
#pragma once

#include <chrono>
#include <string>

namespace blade::cli {

class Progress {
 public:
  // `label` prefixes the bar; a disabled bar (quiet, or stderr not a terminal) prints nothing.
  // With a delay, nothing is drawn before that much time has passed (reading or writing a
  // file: only the ones that take a while show a bar).
  Progress(std::string label, bool enabled,
           std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~Progress();
  // Shows done/total with the elapsed time and an estimate of the time left.
  void Update(long done, long total, const std::string& detail = "");
  void Finish();

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::milliseconds delay_;
  std::chrono::steady_clock::time_point start_, last_;
};

// True when stderr is a terminal and the user did not ask for --quiet.
bool ProgressEnabled();
void SetQuiet(bool quiet);
bool Quiet();

}  // namespace blade::cli
