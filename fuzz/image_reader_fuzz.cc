// libFuzzer target: any bytes as an image file (PNG, JPEG, TIFF or NPY by content) through
// ReadImage.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "blade/error.h"
#include "blade/io.h"

namespace {

// One scratch file per fuzzing process (ReadImage reads paths; libtiff opens files itself).
const std::string& ScratchPath() {
  static const std::string path = "/tmp/blade_fuzz_image_" + std::to_string(::getpid()) + ".bin";
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Small enough that a hostile header cannot make the fuzzer allocate gigabytes legitimately.
  ::setenv("BLADE_MAX_PIXELS", "4000000", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(ScratchPath().c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  try {
    blade::Image im = blade::ReadImage(ScratchPath());
    // A decoded image must be consistent: every sample readable.
    volatile float sink = 0;
    for (std::size_t i = 0; i < im.size(); ++i) sink = sink + im.data()[i];
  } catch (const blade::Error&) {
    // A clear refusal is the expected outcome for malformed input.
  }
  return 0;
}
