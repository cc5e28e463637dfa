// Boundary extensions, undivided finite differences and the discrete divergence (§0).
#include <algorithm>

#include "blade/error.h"
#include "blade/image.h"
#include "blade/ops.h"
#include "blade/parallel.h"

namespace blade {

int ExtendIndex(int i, int n, Boundary boundary) {
  if (i >= 0 && i < n) return i;
  if (boundary == Boundary::kReplicate) return i < 0 ? 0 : n - 1;
  // Half-sample symmetric extension is periodic with period 2n; fold into one period first so
  // that indices many widths outside (large filters on small images) still reflect correctly.
  const long long period = 2LL * n;
  long long m = i % period;
  if (m < 0) m += period;
  return static_cast<int>(m < n ? m : period - 1 - m);
}

namespace {

// Runs fn(c, y) for every row of every plane, in parallel over rows.
template <typename Fn>
void ForEachRow(const Image& image, Fn&& fn) {
  const int h = image.height();
  ParallelFor(0, image.channels() * h, [&](int i) { fn(i / h, i % h); });
}

}  // namespace

Image ForwardDiffX(const Image& u) {
  Image out(u.width(), u.height(), u.channels());
  const int w = u.width();
  ForEachRow(u, [&](int c, int y) {
    const float* src = u.row(c, y);
    float* dst = out.row(c, y);
    for (int x = 0; x + 1 < w; ++x) dst[x] = src[x + 1] - src[x];
    dst[w - 1] = 0.f;  // the ghost cell (replicate or HS) equals the last pixel
  });
  return out;
}

Image ForwardDiffY(const Image& u) {
  Image out(u.width(), u.height(), u.channels());
  const int w = u.width(), h = u.height();
  ForEachRow(u, [&](int c, int y) {
    float* dst = out.row(c, y);
    if (y + 1 == h) {
      std::fill_n(dst, w, 0.f);
      return;
    }
    const float* src = u.row(c, y);
    const float* next = u.row(c, y + 1);
    for (int x = 0; x < w; ++x) dst[x] = next[x] - src[x];
  });
  return out;
}

Image BackwardDiffX(const Image& u) {
  Image out(u.width(), u.height(), u.channels());
  const int w = u.width();
  ForEachRow(u, [&](int c, int y) {
    const float* src = u.row(c, y);
    float* dst = out.row(c, y);
    dst[0] = 0.f;
    for (int x = 1; x < w; ++x) dst[x] = src[x] - src[x - 1];
  });
  return out;
}

Image BackwardDiffY(const Image& u) {
  Image out(u.width(), u.height(), u.channels());
  const int w = u.width();
  ForEachRow(u, [&](int c, int y) {
    float* dst = out.row(c, y);
    if (y == 0) {
      std::fill_n(dst, w, 0.f);
      return;
    }
    const float* src = u.row(c, y);
    const float* prev = u.row(c, y - 1);
    for (int x = 0; x < w; ++x) dst[x] = src[x] - prev[x];
  });
  return out;
}

Image CentralDiffX(const Image& u, Boundary boundary) {
  Image out(u.width(), u.height(), u.channels());
  const int w = u.width();
  ForEachRow(u, [&](int c, int y) {
    const float* src = u.row(c, y);
    float* dst = out.row(c, y);
    for (int x = 1; x + 1 < w; ++x) dst[x] = 0.5f * (src[x + 1] - src[x - 1]);
    // Only the two border columns read ghost cells.
    for (int x : {0, w - 1}) {
      dst[x] = 0.5f * (src[ExtendIndex(x + 1, w, boundary)] - src[ExtendIndex(x - 1, w, boundary)]);
    }
  });
  return out;
}

Image CentralDiffY(const Image& u, Boundary boundary) {
  Image out(u.width(), u.height(), u.channels());
  const int w = u.width(), h = u.height();
  ForEachRow(u, [&](int c, int y) {
    const float* next = u.row(c, ExtendIndex(y + 1, h, boundary));
    const float* prev = u.row(c, ExtendIndex(y - 1, h, boundary));
    float* dst = out.row(c, y);
    for (int x = 0; x < w; ++x) dst[x] = 0.5f * (next[x] - prev[x]);
  });
  return out;
}

Image DivergenceForward(const Image& px, const Image& py) {
  RequireSameShape(px, py, "divergence fluxes");
  Image out = Image::Uninitialized(px.width(), px.height(), px.channels());  // every pixel written
  const int w = px.width(), h = px.height();
  ForEachRow(px, [&](int c, int y) {
    const float* fx = px.row(c, y);
    float* dst = out.row(c, y);
    // x part: px_{-1} = px_{W-1} = 0, so the last column of px is never read.
    if (w == 1) {
      dst[0] = 0.f;
    } else {
      dst[0] = fx[0];
      for (int x = 1; x + 1 < w; ++x) dst[x] = fx[x] - fx[x - 1];
      dst[w - 1] = -fx[w - 2];
    }
    // y part: likewise py_{-1} = py_{H-1} = 0.
    const float* fy = py.row(c, y);
    const float* fy_prev = y > 0 ? py.row(c, y - 1) : nullptr;
    if (h == 1) return;
    if (y == 0) {
      for (int x = 0; x < w; ++x) dst[x] += fy[x];
    } else if (y + 1 < h) {
      for (int x = 0; x < w; ++x) dst[x] += fy[x] - fy_prev[x];
    } else {
      for (int x = 0; x < w; ++x) dst[x] -= fy_prev[x];
    }
  });
  return out;
}

}  // namespace blade
