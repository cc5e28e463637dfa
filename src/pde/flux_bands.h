// Private: one fused, in-place pass of a flux-form explicit step (TV flow, Perona–Malik) over
// bands of rows, with the face fluxes kept in L1-sized row buffers.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "blade/image.h"
#include "blade/parallel.h"
#include "pde/pde_simd.h"

namespace blade {

// u += rate * ((fx[x] - fx[x-1]) + (fy[n] - fy[n-1])) on a w x h plane, where
// flux(up, r, dn, fx, fy) computes the face fluxes of row n from the old rows n-1, n, n+1
// (replicate at the ends; each padded with replicate ghosts at -1 and w, see pde_simd.h), with
// fx = 0 on the right border (it sees r[w] = r[w-1]) and fy = 0 on the last row (dn = r).
// Rows are processed top-down in bands, one per thread. Each band first reads the old rows
// next to it (saved before any band starts), then keeps the old rows it still needs in a ring
// of three padded copies, so it can overwrite u in place. Every pixel gets the same arithmetic whatever the
// banding or thread count.
class FluxBands {
 public:
  template <class Flux>
  void Step(float* p, int w, int h, float rate, const Flux& flux) {
    // One band per thread: each is one top-down pass, so only the band edges need saved rows
    // (a serial copy before the parallel pass), however tall the image.
    const int bands = std::clamp(NumThreads(), 1, h);
    const int band_rows = (h + bands - 1) / bands;
    const std::size_t ws = std::size_t(w);
    halo_.resize(std::size_t(bands) * 3 * ws);
    auto clamp = [h](int k) { return std::clamp(k, 0, h - 1); };
    for (int i = 0; i < bands; ++i) {
      const int y0 = std::min(h, i * band_rows), y1 = std::min(h, y0 + band_rows);
      float* halo = halo_.data() + std::size_t(i) * 3 * ws;
      std::memcpy(halo, p + clamp(y0 - 2) * ws, ws * sizeof(float));
      std::memcpy(halo + ws, p + clamp(y0 - 1) * ws, ws * sizeof(float));
      std::memcpy(halo + 2 * ws, p + clamp(y1) * ws, ws * sizeof(float));
    }
    ParallelFor(0, bands, [&](int i) {
      const int y0 = std::min(h, i * band_rows), y1 = std::min(h, y0 + band_rows);
      const float* halo = halo_.data() + std::size_t(i) * 3 * ws;
      // Old row k (clamped): rows of this band are read before the band overwrites them.
      auto old_row = [&](int k) -> const float* {
        k = clamp(k);
        if (k >= y0 && k < y1) return p + k * ws;
        if (k >= y1) return halo + 2 * ws;
        return k == clamp(y0 - 1) ? halo + ws : halo;
      };
      thread_local Scratch s;
      s.Resize(w);
      float *fx = s.fx(), *fy = s.fy(), *fy_up = s.fy_up();
      // fx[-1] = 0 is the flux through the left border (never written by the kernels).
      fx[-1] = 0.f;
      float* ring[3] = {s.row(0), s.row(1), s.row(2)};
      if (y0 == 0) {
        std::fill_n(fy_up, w, 0.f);  // no flux through the top border
      } else {
        s.Load(ring[0], old_row(y0 - 2), w);
        s.Load(ring[1], old_row(y0 - 1), w);
        s.Load(ring[2], old_row(y0), w);
        flux(ring[0], ring[1], ring[2], fx, fy_up);
      }
      s.Load(ring[0], old_row(y0 - 1), w);
      s.Load(ring[1], old_row(y0), w);
      for (int y = y0; y < y1; ++y) {
        const float* dn = ring[1];
        if (y + 1 < h) {
          s.Load(ring[2], old_row(y + 1), w);
          dn = ring[2];
        }
        flux(ring[0], ring[1], dn, fx, fy);
        FluxUpdateRowSimd(ring[1], fx, fy, fy_up, w, rate, p + y * ws);
        std::swap(fy, fy_up);
        std::swap(ring[0], ring[1]);
        std::swap(ring[1], ring[2]);
      }
    });
  }

 private:
  static constexpr int kLead = 16;  // floats before x = 0 in each scratch row

  // Six padded rows: three old rows of u, fx, fy and the fy of the row above.
  struct Scratch {
    // Aligned, rows a whole number of cache lines apart: row x = 0 starts on a line.
    AlignedVector<float> buf;
    std::size_t stride = 0;
    void Resize(int w) {
      const std::size_t need = (std::size_t(w) + kLead + kSimdOverrun + 15) / 16 * 16;
      if (stride < need) {
        stride = need;
        buf.assign(6 * stride, 0.f);  // values past w stay finite
      }
    }
    float* row(int i) { return buf.data() + i * stride + kLead; }
    float* fx() { return row(3); }
    float* fy() { return row(4); }
    float* fy_up() { return row(5); }
    static void Load(float* dst, const float* src, int w) {
      std::memcpy(dst, src, std::size_t(w) * sizeof(float));
      dst[-1] = src[0];
      dst[w] = src[w - 1];
    }
  };

  std::vector<float> halo_;
};

}  // namespace blade
