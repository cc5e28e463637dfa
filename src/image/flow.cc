// Dense flow fields: allocation under the image size limits, and the end-point error.
#include <cmath>

#include "blade/error.h"
#include "blade/image.h"

namespace blade {

Flow::Flow(int w, int h) : width(w), height(h) {
  CheckImageSize(w, h, 1);  // the same size limits as an image, before allocating
  u.assign(std::size_t(w) * h, 0.f);
  v.assign(std::size_t(w) * h, 0.f);
}

double EndPointError(const Flow& a, const Flow& b, int margin) {
  if (a.width != b.width || a.height != b.height) Fail("flows of different sizes");
  double sum = 0;
  long n = 0;
  for (int y = margin; y < a.height - margin; ++y)
    for (int x = margin; x < a.width - margin; ++x) {
      sum += std::hypot(double(a.U(x, y)) - b.U(x, y), double(a.V(x, y)) - b.V(x, y));
      ++n;
    }
  if (n == 0) Fail("the flow is smaller than twice the margin ", margin);
  return sum / n;
}

}  // namespace blade
