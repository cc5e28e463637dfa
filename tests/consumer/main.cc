// Uses the installed library: a model run and a metric, printed for the test to check.
#include <cstdio>

#include "blade/blade.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  try {
    blade::Model model = blade::LoadModel(argv[1]);
    blade::Image u(64, 48);
    for (int y = 0; y < u.height(); ++y)
      for (int x = 0; x < u.width(); ++x) u.at(0, x, y) = x < 32 ? 0.2f : 0.8f;
    blade::RunOptions options;
    blade::Image v = blade::RunModel(model, u, options);
    std::printf("consumer ok: %s model, PSNR after its steps %.2f dB\n", model.pde.c_str(),
                blade::Psnr(u, v));
  } catch (const blade::Error& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
  return 0;
}
