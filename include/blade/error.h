// Error reporting: input-dependent failures are thrown as blade::Error and become one clear
// message.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace blade {

// Thrown for every failure caused by input (files, parameters, models). The message is complete
// and user-facing; the CLI prints it as "blade: error: <message>" and exits with status 1.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A command-line usage problem (unknown option, missing argument); the CLI exits with status 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// An input file that does not exist (Python raises FileNotFoundError for it).
class NotFoundError : public Error {
 public:
  explicit NotFoundError(const std::string& message) : Error(message) {}
};

// Fails, with NotFoundError for a missing file, unless fopen's errno says otherwise: the one
// message for "cannot open" of every reader. `what` names the kind of file ("", "model ", ...).
[[noreturn]] void FailToOpen(const std::string& path, const char* what, int error_number);

// A run (a reference solve or a BLADE model's steps) that produced a non-finite value; names the
// step so the user knows where it failed.
class DivergedError : public Error {
 public:
  // `cause` ends the message in parentheses: what usually makes that computation blow up.
  DivergedError(int step, int total,
                const char* cause = "the time step is too large for this scheme");
  int step() const { return step_; }

 private:
  int step_;
};

// Concatenates its arguments with operator<< into one string.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
[[noreturn]] void Fail(const Args&... args) {
  throw Error(StrCat(args...));
}

// Runs fn(); an Error from it that does not already name `file` comes out as "'file': message",
// so a command over a folder says which image failed. Other Error kinds (not found, diverged)
// pass unchanged.
template <typename Fn>
void NamingTheFile(const std::string& file, Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    const std::string message = e.what();
    if (typeid(e) != typeid(Error) || message.find(file) != std::string::npos) throw;
    throw Error(StrCat("'", file, "': ", message));
  }
}

// Checks a user-supplied parameter; fails with "<name> must be <what> (got <value>)".
// The shortest decimal that reads back as v (0.04, not 0.040000000000000001; "nan", "inf"), for
// numbers kept as text (provenance, settings) that must mean exactly the value used.
std::string RoundTripDecimal(double v);

void RequireFinite(double value, const char* name);
void RequirePositive(double value, const char* name);
void RequireNonNegative(double value, const char* name);

}  // namespace blade
