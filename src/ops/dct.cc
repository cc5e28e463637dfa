// 2-D DCT-II / DCT-III of one plane through FFTW, with a thread-safe plan cache.
#include <fftw3.h>

#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "blade/error.h"
#include "blade/ops.h"

namespace blade {
namespace {

enum class DctKind { kForward, kInverse };

// Plans depend on size, kind and whether the caller transforms in place (FFTW requires the
// new-array execute functions to keep the in-place-ness the plan was made with).
using PlanKey = std::tuple<int, int, DctKind, bool>;

struct PlanCache {
  std::mutex mutex;
  std::map<PlanKey, fftw_plan> plans;
};

PlanCache& Cache() {
  // Deliberately leaked: plans stay valid for threads still running during static destruction.
  static PlanCache* cache = new PlanCache;
  return *cache;
}

fftw_plan GetPlan(int width, int height, DctKind kind, bool in_place) {
  if (width <= 0 || height <= 0) Fail("DCT size ", width, "x", height, " is empty or negative");
  PlanCache& cache = Cache();
  // FFTW's planner is global and not thread-safe, so planning happens under the cache lock.
  std::lock_guard<std::mutex> lock(cache.mutex);
  const PlanKey key{width, height, kind, in_place};
  auto it = cache.plans.find(key);
  if (it != cache.plans.end()) return it->second;
  // Planning on scratch buffers; FFTW_UNALIGNED lets the plan run on any caller buffer.
  const std::size_t n = std::size_t(width) * height;
  std::vector<double> in(n), out(in_place ? 0 : n);
  double* out_ptr = in_place ? in.data() : out.data();
  const fftw_r2r_kind r2r = kind == DctKind::kForward ? FFTW_REDFT10 : FFTW_REDFT01;
  unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
  if (!in_place) flags |= FFTW_PRESERVE_INPUT;  // callers pass `in` as const
  // Row-major data: the slow dimension (n0) is the row index, i.e. the height.
  fftw_plan plan = fftw_plan_r2r_2d(height, width, in.data(), out_ptr, r2r, r2r, flags);
  if (plan == nullptr) Fail("FFTW could not plan a ", width, "x", height, " DCT");
  cache.plans.emplace(key, plan);
  return plan;
}

void Run(const double* in, double* out, int width, int height, DctKind kind) {
  const bool in_place = in == out;
  fftw_plan plan = GetPlan(width, height, kind, in_place);
  // Executing a plan on new arrays is thread-safe in FFTW; the input is preserved (see flags).
  fftw_execute_r2r(plan, const_cast<double*>(in), out);
}

}  // namespace

void Dct2(const double* in, double* out, int width, int height) {
  Run(in, out, width, height, DctKind::kForward);
}

void Dct3(const double* in, double* out, int width, int height) {
  Run(in, out, width, height, DctKind::kInverse);
}

}  // namespace blade
