// Private: one fused, in-place pass of a flux-form explicit step (TV flow, Perona–Malik) over
// bands of rows, with the face fluxes kept in L1-sized row buffers.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <vector>

#include "base/parallel_team.h"
#include "blade/image.h"
#include "blade/parallel.h"
#include "pde/pde_simd.h"

namespace blade {

// u += rate * ((fx[x] - fx[x-1]) + (fy[n] - fy[n-1])) on a w x h plane, where
// flux(up, r, dn, fx, fy) computes the face fluxes of row n from the old rows n-1, n, n+1
// (replicate at the ends; each padded with replicate ghosts at -1 and w, see pde_simd.h), with
// fx = 0 on the right border (it sees r[w] = r[w-1]) and fy = 0 on the last row (dn = r).
// Rows are processed top-down in bands, one per thread. Each band reads the old rows next to it
// from copies its neighbours published before the step, and keeps the old rows it still needs
// in a ring of three padded copies, so it can overwrite u in place. Every pixel gets the same
// arithmetic whatever the banding or thread count.
class FluxBands {
 public:
  // `steps` steps in one team of threads (ParallelTeam), one band per thread, with no start and
  // join per step. Before each step every band publishes the old rows its neighbours need (its
  // first row and its last two; bands have at least two rows) into a buffer of that step's
  // parity and raises its ready flag to the step; it then waits only for its two neighbours'
  // flags (cheaper than a barrier of the whole team: one cache line each way) and updates its
  // rows in place. Step 0's copies are made before the team starts. The two parities keep step
  // s + 2's copies from overwriting step s's while a neighbour may still read them: a band
  // publishes s + 2 only after it has finished s + 1, which needed its neighbours' s + 1 copies,
  // which they publish only once they have finished step s.
  template <class Flux>
  void Steps(float* p, int w, int h, float rate, int steps, const Flux& flux) {
    if (steps <= 0) return;
    const std::size_t ws = std::size_t(w);
    const int bands = std::clamp(NumThreads(), 1, std::max(1, h / 2));
    auto first_row = [&](int band) { return int(std::int64_t(band) * h / bands); };
    pub_.resize(2 * std::size_t(bands) * 3 * ws);
    auto published = [&](int step, int band) {
      return pub_.data() + (std::size_t(step & 1) * bands + band) * 3 * ws;
    };
    auto publish = [&](int step, int band) {
      const int y0 = first_row(band), y1 = first_row(band + 1);
      float* mine = published(step, band);
      std::memcpy(mine, p + y0 * ws, ws * sizeof(float));
      std::memcpy(mine + ws, p + (y1 - 2) * ws, ws * sizeof(float));
      std::memcpy(mine + 2 * ws, p + (y1 - 1) * ws, ws * sizeof(float));
    };
    if (bands > 1)
      for (int b = 0; b < bands; ++b) publish(0, b);
    if (ready_.size() != std::size_t(bands)) ready_ = std::vector<ReadyFlag>(bands);
    for (ReadyFlag& f : ready_) f.step.store(0, std::memory_order_relaxed);
    std::mutex mutex;
    std::exception_ptr error;
    ParallelTeam(bands, [&](int i, int n) {
      // Each thread's scratch rows are its own (thread_local), allocated by that thread: rows
      // that the calling thread allocated and zeroed for another thread's band made that band
      // up to 1.8x slower on this VM. A thread whose allocation fails computes nothing but still
      // raises its flags every step, so no neighbour waits for it forever.
      thread_local Scratch s;
      bool ok = true;
      try {
        s.Resize(w);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
        ok = false;
      }
      // With fewer threads than bands (OpenMP may start fewer), member i runs bands i, i + n, ...
      for (int step = 0; step < steps; ++step) {
        if (step > 0 && bands > 1) {
          for (int b = i; b < bands; b += n) {
            if (ok) publish(step, b);
            ready_[b].step.store(step, std::memory_order_release);
          }
          for (int b = i; b < bands; b += n) {
            if (b > 0) TeamWait(ready_[b - 1].step, step);
            if (b + 1 < bands) TeamWait(ready_[b + 1].step, step);
          }
        }
        for (int b = i; ok && b < bands; b += n) {
          const int y0 = first_row(b), y1 = first_row(b + 1);
          // Old row k (clamped): this band's own rows are read before the band overwrites
          // them; the neighbours' rows come from what they published.
          auto old_row = [&](int k) -> const float* {
            k = std::clamp(k, 0, h - 1);
            if (k >= y0 && k < y1) return p + k * ws;
            if (k >= y1) return published(step, b + 1);
            return published(step, b - 1) + (k == y0 - 1 ? 2 : 1) * ws;
          };
          BandStep(p, w, h, y0, y1, rate, flux, old_row, s);
        }
      }
    });
    if (error) std::rethrow_exception(error);
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

  // One band [y0, y1) of one step. The fluxes of each row come from three padded old rows in a
  // ring, so the band can overwrite its rows in place.
  template <class Flux, class OldRow>
  static void BandStep(float* p, int w, int h, int y0, int y1, float rate, const Flux& flux,
                       const OldRow& old_row, Scratch& s) {
    const std::size_t ws = std::size_t(w);
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
  }

  struct alignas(64) ReadyFlag {  // one cache line per band
    std::atomic<int> step{0};     // the last step whose rows the band has published
  };
  std::vector<ReadyFlag> ready_;
  std::vector<float> pub_;  // two parities x bands x three published rows
};

}  // namespace blade
