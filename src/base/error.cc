// Parameter checks shared by every module.
#include "blade/error.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

namespace blade {

DivergedError::DivergedError(int step, int total, const char* cause)
    : Error(
          StrCat("the solution became non-finite at step ", step, " of ", total, " (", cause, ")")),
      step_(step) {}

void FailToOpen(const std::string& path, const char* what, int error_number) {
  const std::string message =
      StrCat("cannot open ", what, "'", path, "': ", std::strerror(error_number));
  if (error_number == ENOENT) throw NotFoundError(message);
  throw Error(message);
}

void RequireFinite(double value, const char* name) {
  if (!std::isfinite(value)) Fail(name, " must be a finite number (got ", value, ")");
}

void RequirePositive(double value, const char* name) {
  RequireFinite(value, name);
  if (!(value > 0)) Fail(name, " must be positive (got ", value, ")");
}

void RequireNonNegative(double value, const char* name) {
  RequireFinite(value, name);
  if (value < 0) Fail(name, " must not be negative (got ", value, ")");
}

std::string RoundTripDecimal(double v) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, v).ptr);
}

}  // namespace blade
