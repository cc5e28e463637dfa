// Burst alignment: HDR+ pyramid block matching with sub-pixel fits and Lucas-Kanade refinement
// (REFERENCE_SCHEMES.md §7).
#include <algorithm>
#include <cmath>
#include <limits>

#include "blade/error.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/resample.h"

namespace blade {
namespace {

// Pyramid levels, fine to coarse: downsampling factor relative to the previous level, tile
// size, search radius, distance (L1 or L2), sub-pixel fit.
struct Level {
  int factor, tile, radius;
  bool l2;
};
constexpr Level kLevels[] = {
    {1, 16, 1, false}, {2, 16, 4, true}, {4, 16, 4, true}, {4, 8, 4, true}};

// Gaussian prefilter with sigma 0.5 factor (symmetric borders), then every factor-th sample.
Image Downsample(const Image& im, int factor) {
  if (factor == 1) return im.Copy();
  Image b = GaussianBlur(im, 0.5 * factor);
  const int w = std::max(1, im.width() / factor), h = std::max(1, im.height() / factor);
  Image out(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) out.at(0, x, y) = b.at(0, x * factor, y * factor);
  return out;
}

// Tile vectors of one level: integer offsets plus an optional sub-pixel part.
struct TileField {
  int nx = 0, ny = 0, tile = 16;
  std::vector<float> vx, vy;
  float X(int i, int j) const { return vx[std::size_t(j) * nx + i]; }
  float Y(int i, int j) const { return vy[std::size_t(j) * nx + i]; }
};

int TileCount(int size, int tile) { return size <= tile ? 1 : (size - tile) / (tile / 2) + 1; }

// Distance between the ref tile at (x0, y0) and alt shifted by (ox, oy). Where the shifted tile
// leaves alt, the distance is taken over the part inside, scaled to the whole tile, as long as
// that part spans at least half the tile each way; +inf beyond (REFERENCE_SCHEMES.md §7 pads
// with a huge constant instead, which makes every tile on the side the content moves towards
// pick a wrong vector: up to 11 px off for a 3 px shift; docs/DESIGN.md §26).
double TileDistance(const Image& ref, const Image& alt, int x0, int y0, int tile, int ox, int oy,
                    bool l2) {
  const int w = ref.width(), h = ref.height();
  const int tw = std::min(tile, w - x0), th = std::min(tile, h - y0);
  const int xa = std::max(x0, -ox), xb = std::min(x0 + tw, w - ox);
  const int ya = std::max(y0, -oy), yb = std::min(y0 + th, h - oy);
  if (2 * (xb - xa) < tw || 2 * (yb - ya) < th) return std::numeric_limits<double>::infinity();
  double d = 0;
  for (int y = ya; y < yb; ++y) {
    const float* r = ref.row(0, y);
    const float* a = alt.row(0, y + oy) + ox;
    for (int x = xa; x < xb; ++x) {
      const double e = double(r[x]) - a[x];
      d += l2 ? e * e : std::abs(e);
    }
  }
  const long inside = long(xb - xa) * (yb - ya), whole = long(tw) * th;
  return inside < whole ? d * double(whole) / double(inside) : d;
}

// A search's order of preference: the smaller distance, and on a tie (a flat tile matches
// everywhere) the offset nearer the guess, so that identical flat frames align at zero.
bool Better(double d, int ox, int oy, double best, int bx, int by, int gx, int gy) {
  if (d != best) return d < best;
  const auto far = [&](int x, int y) { return (x - gx) * (x - gx) + (y - gy) * (y - gy); };
  return far(ox, oy) < far(bx, by);
}

// Least-squares quadratic fit to the 3x3 distances around the minimum (HDR+ supplement).
void SubPixel(const double d[3][3], double& mx, double& my) {
  mx = my = 0;
  const double w[3] = {0.25, 0.5, 0.25};
  double axx = 0, ayy = 0, bx = 0, by = 0;
  for (int i = 0; i < 3; ++i) {
    axx += w[i] * (d[i][0] - 2 * d[i][1] + d[i][2]);
    ayy += w[i] * (d[0][i] - 2 * d[1][i] + d[2][i]);
    bx += w[i] * (d[i][2] - d[i][0]) / 2;
    by += w[i] * (d[2][i] - d[0][i]) / 2;
  }
  double axy = (d[0][0] - d[0][2] - d[2][0] + d[2][2]) / 4;
  axx = std::max(axx, 0.0);
  ayy = std::max(ayy, 0.0);
  double det = axx * ayy - axy * axy;
  if (det < 0) {
    axy = 0;
    det = axx * ayy;
  }
  if (det <= 0) return;
  const double ux = -(ayy * bx - axy * by) / det, uy = -(axx * by - axy * bx) / det;
  if (std::hypot(ux, uy) >= 1) return;
  mx = ux;
  my = uy;
}

// One level: search around the guesses (from the coarser level) and keep the best offsets.
TileField AlignLevel(const Image& ref, const Image& alt, const Level& lv, const TileField* coarse,
                     int coarse_factor) {
  TileField f;
  f.tile = lv.tile;
  f.nx = TileCount(ref.width(), lv.tile);
  f.ny = TileCount(ref.height(), lv.tile);
  f.vx.assign(std::size_t(f.nx) * f.ny, 0.f);
  f.vy.assign(f.vx.size(), 0.f);
  const int stride = lv.tile / 2;
  ParallelFor(0, f.ny, [&](int j) {
    for (int i = 0; i < f.nx; ++i) {
      const int x0 = std::min(i * stride, std::max(0, ref.width() - lv.tile));
      const int y0 = std::min(j * stride, std::max(0, ref.height() - lv.tile));
      // Candidate guesses: the nearest coarse tile and its next-nearest neighbours in x and y,
      // scaled to this level; the one with the smallest L1 distance here wins.
      int gx = 0, gy = 0;
      if (coarse != nullptr) {
        const double cx = (x0 + lv.tile / 2.0) / coarse_factor,
                     cy = (y0 + lv.tile / 2.0) / coarse_factor;
        const double cs = coarse->tile / 2.0;
        const double fi = (cx - coarse->tile / 2.0) / cs, fj = (cy - coarse->tile / 2.0) / cs;
        const int ni = std::clamp(int(std::lround(fi)), 0, coarse->nx - 1);
        const int nj = std::clamp(int(std::lround(fj)), 0, coarse->ny - 1);
        const int ai = std::clamp(fi < ni ? ni - 1 : ni + 1, 0, coarse->nx - 1);
        const int aj = std::clamp(fj < nj ? nj - 1 : nj + 1, 0, coarse->ny - 1);
        const std::pair<int, int> cands[3] = {{ni, nj}, {ai, nj}, {ni, aj}};
        double best = std::numeric_limits<double>::infinity();
        for (auto [ci, cj] : cands) {
          const int ox = int(std::lround(coarse->X(ci, cj) * coarse_factor));
          const int oy = int(std::lround(coarse->Y(ci, cj) * coarse_factor));
          const double d = TileDistance(ref, alt, x0, y0, lv.tile, ox, oy, false);
          if (d < best) {
            best = d;
            gx = ox;
            gy = oy;
          }
        }
      }
      double best = std::numeric_limits<double>::infinity();
      int bx = gx, by = gy;
      for (int oy = gy - lv.radius; oy <= gy + lv.radius; ++oy)
        for (int ox = gx - lv.radius; ox <= gx + lv.radius; ++ox) {
          const double d = TileDistance(ref, alt, x0, y0, lv.tile, ox, oy, lv.l2);
          if (Better(d, ox, oy, best, bx, by, gx, gy)) {
            best = d;
            bx = ox;
            by = oy;
          }
        }
      double sx = 0, sy = 0;
      const bool inside = std::abs(bx - gx) < lv.radius && std::abs(by - gy) < lv.radius;
      if (lv.l2 && inside && std::isfinite(best)) {
        double d[3][3];
        bool finite = true;
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) {
            d[a][b] = TileDistance(ref, alt, x0, y0, lv.tile, bx + b - 1, by + a - 1, true);
            finite = finite && std::isfinite(d[a][b]);
          }
        if (finite) SubPixel(d, sx, sy);
      }
      f.vx[std::size_t(j) * f.nx + i] = float(bx + sx);
      f.vy[std::size_t(j) * f.nx + i] = float(by + sy);
    }
  });
  return f;
}

float Bilinear(const Image& im, double x, double y) {
  const int w = im.width(), h = im.height();
  x = std::clamp(x, 0.0, double(w - 1));
  y = std::clamp(y, 0.0, double(h - 1));
  const int x0 = std::min(int(x), w - 2 < 0 ? 0 : w - 2),
            y0 = std::min(int(y), h - 2 < 0 ? 0 : h - 2);
  const int x1 = std::min(x0 + 1, w - 1), y1 = std::min(y0 + 1, h - 1);
  const double fx = x - x0, fy = y - y0;
  return float((1 - fy) * ((1 - fx) * im.at(0, x0, y0) + fx * im.at(0, x1, y0)) +
               fy * ((1 - fx) * im.at(0, x0, y1) + fx * im.at(0, x1, y1)));
}

// Inverse-compositional Lucas-Kanade per tile at full resolution (Wronski et al. 2019).
void RefineLucasKanade(const Image& ref, const Image& alt, TileField& f, int iterations) {
  const int w = ref.width(), h = ref.height(), stride = f.tile / 2;
  ParallelFor(0, f.ny, [&](int j) {
    for (int i = 0; i < f.nx; ++i) {
      const int x0 = std::min(i * stride, std::max(0, w - f.tile));
      const int y0 = std::min(j * stride, std::max(0, h - f.tile));
      const int tw = std::min(f.tile, w - x0), th = std::min(f.tile, h - y0);
      const std::size_t at = std::size_t(j) * f.nx + i;
      double vx = f.vx[at], vy = f.vy[at];
      for (int it = 0; it < iterations; ++it) {
        // The Gauss-Newton system over the tile's pixels whose warped position lies in alt: at
        // the border, alt's clamped edge pixels would pull the vector off (a tile whose content
        // moved past the edge would wander by up to the 1.5 px allowed below).
        double hxx = 0, hxy = 0, hyy = 0, bx = 0, by = 0;
        for (int y = y0; y < y0 + th; ++y) {
          if (y + vy < 0 || y + vy > h - 1) continue;
          for (int x = x0; x < x0 + tw; ++x) {
            if (x + vx < 0 || x + vx > w - 1) continue;
            const double gx =
                (ref.at(0, std::min(x + 1, w - 1), y) - ref.at(0, std::max(x - 1, 0), y)) / 2;
            const double gy =
                (ref.at(0, x, std::min(y + 1, h - 1)) - ref.at(0, x, std::max(y - 1, 0))) / 2;
            const double e = Bilinear(alt, x + vx, y + vy) - ref.at(0, x, y);
            hxx += gx * gx;
            hxy += gx * gy;
            hyy += gy * gy;
            bx += gx * e;
            by += gy * e;
          }
        }
        const double det = hxx * hyy - hxy * hxy;
        if (!(det > 1e-12 * (hxx + hyy) * (hxx + hyy)) || det <= 0) break;  // flat or 1-D
        const double dx = (hyy * bx - hxy * by) / det, dy = (hxx * by - hxy * bx) / det;
        // ref(x + d) ~ alt(x + v) means ref(y) ~ alt(y + v - d): compose by subtracting.
        vx -= dx;
        vy -= dy;
        if (std::hypot(dx, dy) < 1e-3) break;
      }
      // A refinement that wandered off (more than a pixel) is not trusted.
      if (std::hypot(vx - f.vx[at], vy - f.vy[at]) <= 1.5) {
        f.vx[at] = float(vx);
        f.vy[at] = float(vy);
      }
    }
  });
}

}  // namespace

Flow AlignBlockMatching(const Image& ref_in, const Image& alt_in, const AlignOptions& o) {
  if (ref_in.width() != alt_in.width() || ref_in.height() != alt_in.height())
    Fail("the frames to align differ in size: ", ref_in.width(), "x", ref_in.height(), " and ",
         alt_in.width(), "x", alt_in.height());
  if (ref_in.width() < 16 || ref_in.height() < 16)
    Fail("frames of ", ref_in.width(), "x", ref_in.height(),
         " are too small to align (16x16 at least)");
  if (!AllFinite(ref_in) || !AllFinite(alt_in))
    Fail("the frames to align contain NaN or infinite values");
  if (o.lk_iterations < 0 || o.lk_iterations > 100) Fail("Lucas-Kanade iterations must be 0..100");
  // Pyramids, fine to coarse; levels too small for their tiles are dropped from the top.
  std::vector<Image> pr, pa;
  pr.push_back(ToLuma(ref_in));
  pa.push_back(ToLuma(alt_in));
  int levels = 1;
  for (int l = 1; l < 4; ++l) {
    Image r = Downsample(pr.back(), kLevels[l].factor),
          a = Downsample(pa.back(), kLevels[l].factor);
    if (r.width() < kLevels[l].tile || r.height() < kLevels[l].tile) break;
    pr.push_back(std::move(r));
    pa.push_back(std::move(a));
    ++levels;
  }
  TileField field;
  for (int l = levels - 1; l >= 0; --l) {
    const TileField* coarse = l == levels - 1 ? nullptr : &field;
    TileField next =
        AlignLevel(pr[l], pa[l], kLevels[l], coarse, l == levels - 1 ? 1 : kLevels[l + 1].factor);
    field = std::move(next);
  }
  if (o.lk_iterations > 0) RefineLucasKanade(pr[0], pa[0], field, o.lk_iterations);
  // Tile vectors to a dense flow: bilinear between tile centres, constant beyond the outer ones.
  const int w = ref_in.width(), h = ref_in.height(), stride = field.tile / 2;
  auto centre = [&](int i, int size) {
    return std::min(i * stride, std::max(0, size - field.tile)) + std::min(field.tile, size) / 2.0 -
           0.5;
  };
  std::vector<double> cx(field.nx), cy(field.ny);
  for (int i = 0; i < field.nx; ++i) cx[i] = centre(i, w);
  for (int j = 0; j < field.ny; ++j) cy[j] = centre(j, h);
  auto locate = [](const std::vector<double>& c, double p, int& i0, double& t) {
    const int n = int(c.size());
    i0 = 0;
    while (i0 + 1 < n - 1 && c[i0 + 1] <= p) ++i0;
    if (n == 1) {
      t = 0;
      return;
    }
    t = std::clamp((p - c[i0]) / (c[i0 + 1] - c[i0]), 0.0, 1.0);
  };
  Flow flow(w, h);
  for (int y = 0; y < h; ++y) {
    int j0;
    double ty;
    locate(cy, y, j0, ty);
    const int j1 = std::min(j0 + 1, field.ny - 1);
    for (int x = 0; x < w; ++x) {
      int i0;
      double tx;
      locate(cx, x, i0, tx);
      const int i1 = std::min(i0 + 1, field.nx - 1);
      auto mix = [&](auto get) {
        return float((1 - ty) * ((1 - tx) * get(i0, j0) + tx * get(i1, j0)) +
                     ty * ((1 - tx) * get(i0, j1) + tx * get(i1, j1)));
      };
      flow.U(x, y) = mix([&](int i, int j) { return field.X(i, j); });
      flow.V(x, y) = mix([&](int i, int j) { return field.Y(i, j); });
    }
  }
  return flow;
}

}  // namespace blade
