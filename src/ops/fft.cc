// The one owner of FFTW plans: a cache per transform, size and layout, behind one planner lock.
#include "ops/fft.h"

#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "blade/error.h"

namespace blade::fft {
namespace {

enum class Kind {
  kDctForward,
  kDctInverse,
  kRealToComplex1d,
  kComplexToReal1d,
  kComplexForward2d,
  kComplexBackward2d,
  kFloatRealToComplex2d,
  kFloatComplexToReal2d,
};

// A plan holds for one transform, one size (n0 the slow axis as FFTW takes it, n1 = 0 for 1-D)
// and one layout: the new-array execute functions must keep the plan's in-place-ness.
using Key = std::tuple<Kind, int, int, bool>;

struct Planner {
  // One lock for the double (fftw3) and float (fftw3f) planners alike: simpler to reason about
  // than one per library, and planning is rare (once per size).
  std::mutex mutex;
  std::map<Key, fftw_plan> plans;
  std::map<Key, fftwf_plan> float_plans;
};

Planner& ThePlanner() {
  // Deliberately leaked: plans stay valid for threads still running during static destruction.
  static Planner* planner = new Planner;
  return *planner;
}

// Sizes are printed as FFTW takes them: n0 (the slow axis) first.
void CheckSize(int n0, int n1) {
  if (n0 <= 0 || n1 <= 0) Fail("FFT size ", n0, "x", n1, " is empty or negative");
}
void CheckSize(int n) {
  if (n <= 0) Fail("FFT length ", n, " is empty or negative");
}

// The cached plan for `key`, or the one `make` returns (under the lock) stored for next time.
// The key's sizes are n0, n1 (n1 = 0 for 1-D).
template <class Plan, class Make>
Plan Cached(std::map<Key, Plan> Planner::*plans, const Key& key, const Make& make) {
  Planner& planner = ThePlanner();
  std::lock_guard<std::mutex> lock(planner.mutex);
  auto& cache = planner.*plans;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  Plan plan = make();
  if (plan == nullptr)
    Fail("FFTW could not plan a transform of size ", std::get<1>(key), "x", std::get<2>(key));
  cache.emplace(key, plan);
  return plan;
}

// Plans on scratch arrays (FFTW_ESTIMATE does not touch them). FFTW_UNALIGNED lets a plan run
// on any caller buffer.
constexpr unsigned kAnyAlignment = FFTW_ESTIMATE | FFTW_UNALIGNED;

}  // namespace

fftw_plan Dct2d(DctKind kind, int width, int height, bool in_place) {
  CheckSize(height, width);
  const Kind k = kind == DctKind::kForward ? Kind::kDctForward : Kind::kDctInverse;
  return Cached(&Planner::plans, Key{k, height, width, in_place}, [&] {
    const std::size_t n = std::size_t(width) * height;
    std::vector<double> in(n), out(in_place ? 0 : n);
    double* out_ptr = in_place ? in.data() : out.data();
    const fftw_r2r_kind r2r = kind == DctKind::kForward ? FFTW_REDFT10 : FFTW_REDFT01;
    unsigned flags = kAnyAlignment;
    if (!in_place) flags |= FFTW_PRESERVE_INPUT;  // Dct2 / Dct3 take `in` as const
    // Row-major data: the slow dimension (n0) is the row index, i.e. the height.
    return fftw_plan_r2r_2d(height, width, in.data(), out_ptr, r2r, r2r, flags);
  });
}

fftw_plan RealToComplex1d(int n) {
  CheckSize(n);
  return Cached(&Planner::plans, Key{Kind::kRealToComplex1d, n, 0, false}, [&] {
    std::vector<double> r(n);
    std::vector<fftw_complex> c(std::size_t(n) / 2 + 1);
    return fftw_plan_dft_r2c_1d(n, r.data(), c.data(), kAnyAlignment);
  });
}

fftw_plan ComplexToReal1d(int n) {
  CheckSize(n);
  return Cached(&Planner::plans, Key{Kind::kComplexToReal1d, n, 0, false}, [&] {
    std::vector<double> r(n);
    std::vector<fftw_complex> c(std::size_t(n) / 2 + 1);
    return fftw_plan_dft_c2r_1d(n, c.data(), r.data(), kAnyAlignment);
  });
}

fftw_plan Complex2dInPlace(int n0, int n1, int sign) {
  CheckSize(n0, n1);
  if (sign != FFTW_FORWARD && sign != FFTW_BACKWARD) Fail("FFT sign must be -1 or +1");
  const Kind k = sign == FFTW_FORWARD ? Kind::kComplexForward2d : Kind::kComplexBackward2d;
  return Cached(&Planner::plans, Key{k, n0, n1, true}, [&] {
    std::vector<fftw_complex> c(std::size_t(n0) * n1);
    return fftw_plan_dft_2d(n0, n1, c.data(), c.data(), sign, kAnyAlignment);
  });
}

namespace {

// Float plans are made on fftwf_alloc'd arrays, as the callers' are, and without
// FFTW_UNALIGNED, so they may use SIMD (FloatDct2d is the fast Cahn–Hilliard step's transform).
template <class Make>
fftwf_plan CachedFloat2d(Kind kind, int width, int height, const Make& make) {
  CheckSize(height, width);
  return Cached(&Planner::float_plans, Key{kind, height, width, false}, [&] {
    struct Free {
      void operator()(void* p) const { fftwf_free(p); }
    };
    std::unique_ptr<float, Free> real(fftwf_alloc_real(std::size_t(width) * height));
    std::unique_ptr<fftwf_complex, Free> spec(
        fftwf_alloc_complex(std::size_t(height) * (width / 2 + 1)));
    if (real == nullptr || spec == nullptr)
      Fail("out of memory for a ", width, "x", height, " FFT");
    return make(real.get(), spec.get());
  });
}

}  // namespace

fftwf_plan FloatRealToComplex2d(int width, int height) {
  return CachedFloat2d(Kind::kFloatRealToComplex2d, width, height,
                       [&](float* real, fftwf_complex* spec) {
                         return fftwf_plan_dft_r2c_2d(height, width, real, spec, FFTW_ESTIMATE);
                       });
}

fftwf_plan FloatComplexToReal2d(int width, int height) {
  return CachedFloat2d(Kind::kFloatComplexToReal2d, width, height,
                       [&](float* real, fftwf_complex* spec) {
                         return fftwf_plan_dft_c2r_2d(height, width, spec, real, FFTW_ESTIMATE);
                       });
}

}  // namespace blade::fft
