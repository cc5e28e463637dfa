// libFuzzer target: any bytes as a model file through ParseModel, then a step on a tiny image.
#include <cstdint>
#include <string>

#include "blade/error.h"
#include "blade/model.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    blade::Model model = blade::ParseModel(text, "fuzz input");
    // A model that loads must also run without memory errors (or refuse with an Error).
    if (model.form != blade::ModelForm::kResample) {
      blade::Image u(9, 7);
      for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] = float(i % 5) / 4.f;
      blade::RunOptions o;
      o.steps = 1;
      blade::RunModel(model, u, o);
    }
  } catch (const blade::Error&) {
  }
  return 0;
}
