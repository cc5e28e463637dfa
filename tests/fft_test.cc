// Tests for src/ops/fft.h: FFTW planning from many threads at once, through every library path.
#include "ops/fft.h"

#include <gtest/gtest.h>

#include <cstring>
#include <exception>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "blade/error.h"
#include "blade/image.h"
#include "blade/io.h"
#include "blade/ops.h"
#include "blade/pde.h"
#include "blade/preset.h"
#include "blade/restore.h"
#include "ops/dct_float.h"
#include "test_util.h"

namespace blade {
namespace {

using ::blade::testing::RandomImage;

// Every library path that plans FFTW transforms: the double DCT (dct.cc), the float DCT
// (dct_float.cc), the Gaussian's DCT path, a fast Cahn–Hilliard solve (float DCT) and projected
// upscaling (1-D real and 2-D complex FFTs in projected_upscale.cc).
enum Path { kDct, kFloatDct, kGaussian, kCahnHilliard, kUpscale, kNumPaths };

const Model& TvModel() {
  static const Model model = LoadModel(testing::SourcePath("models/tv.blade"));
  return model;
}

// The result of one path on a width x height input, as doubles (floats convert exactly), so
// results compare bit for bit.
std::vector<double> RunPath(Path path, int w, int h) {
  const Image input = RandomImage(w, h, 1, std::uint32_t(w * 1000 + h));
  const std::size_t n = input.size();
  std::vector<double> result;
  auto append = [&](const auto* p, std::size_t count) {
    result.insert(result.end(), p, p + count);
  };
  switch (path) {
    case kDct: {
      // Out of place and in place are separate plans; both directions.
      const std::vector<double> in(input.data(), input.data() + n);
      std::vector<double> hat(n), back(n), in_place = in;
      Dct2(in.data(), hat.data(), w, h);
      Dct3(hat.data(), back.data(), w, h);
      Dct2(in_place.data(), in_place.data(), w, h);
      Dct3(in_place.data(), in_place.data(), w, h);
      append(hat.data(), n);
      append(back.data(), n);
      append(in_place.data(), n);
      break;
    }
    case kFloatDct: {
      FloatDct2d dct(w, h);
      std::vector<float> hat(n), back(n);
      dct.Forward(input.data(), hat.data());
      dct.Inverse(hat.data(), back.data());
      append(hat.data(), n);
      append(back.data(), n);
      break;
    }
    case kGaussian: {
      const Image blurred = GaussianBlur(input, kGaussianDirectMaxSigma + 1);  // the DCT path
      append(blurred.data(), blurred.size());
      break;
    }
    case kCahnHilliard: {
      const Preset& preset = DefaultPreset(Pde::kCh);
      SolveOptions o;
      o.steps = 3;
      o.time = 3 * MakeSolver(Pde::kCh, preset.params)->DefaultDt(1.0);
      const Image u = Solve(Pde::kCh, preset.params, input, o).u;
      append(u.data(), u.size());
      break;
    }
    case kUpscale: {
      RestoreOptions o;
      o.steps = 1;
      const Image u = UpscaleProjected(TvModel(), input, 2, ParseDegradation("corner:0.5"), o);
      append(u.data(), u.size());
      break;
    }
    case kNumPaths:
      break;
  }
  return result;
}

bool BitIdentical(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// 8 threads, started together, each run 40 sizes that no other thread and no other test uses,
// cycling through the paths with different phases so that different plan caches plan at the
// same time. FFTW's planner is one global state that is not thread-safe: with a lock per cache
// (as before src/ops/fft.cc) this test aborted, crashed, hung or got failed and wrong plans.
//
// Results are compared bit for bit with single-threaded runs. A run beforehand would leave its
// plans cached and the threads would then not plan at all, so the items alternate: the even
// ones are computed single-threaded beforehand (the threads then execute those cached plans
// while others plan), the odd ones are planned by the threads and recomputed single-threaded
// afterwards.
TEST(FftConcurrency, EveryPathPlansFromManyThreadsWithIdenticalResults) {
  constexpr int kThreads = 8, kPerThread = 40;
  struct Item {
    Path path;
    int w, h;
    std::vector<double> expected, got;
  };
  std::vector<std::vector<Item>> items(kThreads);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i)
      // Sizes 17..56 x 61..117: distinct over all (thread, item), so each plans its own 2-D sizes.
      items[t].push_back({Path((i + t) % kNumPaths), 17 + i, 61 + 8 * t, {}, {}});
  TvModel();  // loaded before the race
  for (auto& list : items)
    for (std::size_t i = 0; i < list.size(); i += 2)
      list[i].expected = RunPath(list[i].path, list[i].w, list[i].h);

  std::latch start(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        for (Item& item : items[t]) item.got = RunPath(item.path, item.w, item.h);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    for (std::size_t i = 0; i < items[t].size(); ++i) {
      Item& item = items[t][i];
      if (i % 2 == 1) item.expected = RunPath(item.path, item.w, item.h);
      EXPECT_TRUE(BitIdentical(item.got, item.expected))
          << "path " << item.path << " at " << item.w << "x" << item.h << " (thread " << t
          << ", item " << i << ")";
    }
  }
}

// The cache hands every thread the same plan for a key, made once, and a different one for a
// different transform, size or layout.
TEST(FftPlans, OnePlanPerKeyFromManyThreads) {
  constexpr int kThreads = 8;
  struct Plans {
    fftw_plan dct_out, dct_in, dct3, r2c, c2r, c2c_forward, c2c_backward;
    fftwf_plan float_r2c, float_c2r;
  };
  // Sizes no other test uses, so the threads race to make these plans.
  auto get = [] {
    return Plans{fft::Dct2d(fft::DctKind::kForward, 131, 67, false),
                 fft::Dct2d(fft::DctKind::kForward, 131, 67, true),
                 fft::Dct2d(fft::DctKind::kInverse, 131, 67, false),
                 fft::RealToComplex1d(262),
                 fft::ComplexToReal1d(262),
                 fft::Complex2dInPlace(67, 131, FFTW_FORWARD),
                 fft::Complex2dInPlace(67, 131, FFTW_BACKWARD),
                 fft::FloatRealToComplex2d(131, 67),
                 fft::FloatComplexToReal2d(131, 67)};
  };
  std::latch start(kThreads);
  std::vector<Plans> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      got[t] = get();
    });
  for (std::thread& thread : threads) thread.join();
  const Plans first = get();
  for (const Plans& p : got) {
    EXPECT_EQ(p.dct_out, first.dct_out);
    EXPECT_EQ(p.dct_in, first.dct_in);
    EXPECT_EQ(p.dct3, first.dct3);
    EXPECT_EQ(p.r2c, first.r2c);
    EXPECT_EQ(p.c2r, first.c2r);
    EXPECT_EQ(p.c2c_forward, first.c2c_forward);
    EXPECT_EQ(p.c2c_backward, first.c2c_backward);
    EXPECT_EQ(p.float_r2c, first.float_r2c);
    EXPECT_EQ(p.float_c2r, first.float_c2r);
  }
  const std::vector<fftw_plan> distinct = {first.dct_out,     first.dct_in, first.dct3,
                                           first.r2c,         first.c2r,    first.c2c_forward,
                                           first.c2c_backward};
  for (std::size_t i = 0; i < distinct.size(); ++i)
    for (std::size_t j = i + 1; j < distinct.size(); ++j) EXPECT_NE(distinct[i], distinct[j]);
  EXPECT_NE(first.float_r2c, first.float_c2r);
  EXPECT_NE(fft::Dct2d(fft::DctKind::kForward, 67, 131, false), first.dct_out);  // transposed
}

TEST(FftPlans, RefusesEmptySizes) {
  EXPECT_THROW(fft::Dct2d(fft::DctKind::kForward, 0, 5, false), Error);
  EXPECT_THROW(fft::RealToComplex1d(-1), Error);
  EXPECT_THROW(fft::ComplexToReal1d(0), Error);
  EXPECT_THROW(fft::Complex2dInPlace(5, 0, FFTW_FORWARD), Error);
  EXPECT_THROW(fft::FloatRealToComplex2d(5, -2), Error);
  EXPECT_THROW(fft::FloatComplexToReal2d(0, 0), Error);
}

}  // namespace
}  // namespace blade
