// BLADE core: selection vs. reference, equivariance, filtering gradients, forms, steppers, model
// file.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "base/parallel_team.h"
#include "blade/error.h"
#include "blade/filter_kernels.h"
#include "blade/io.h"
#include "blade/model.h"
#include "blade/ops.h"
#include "blade/parallel.h"
#include "blade/pde.h"
#include "blade/selection_kernels.h"
#include "test_util.h"

namespace blade {
namespace {

using testing::ForEachSimdTarget;
using testing::RandomImage;
using testing::SyntheticScene;

SelectionConfig DefaultSelection() {
  SelectionConfig s;
  s.strength_thresholds = {0.01f, 0.05f};
  s.coherence_thresholds = {0.25f, 0.5f};
  return s;
}

Model RandomModel(ModelForm form, std::uint32_t seed, float scale = 0.05f, int footprint = 5) {
  Model m = MakeEmptyModel(form, DefaultSelection(), footprint);
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  for (Bank& b : m.banks)
    for (float& t : b.filters.taps) t = d(rng);
  m.dt = 0.5;
  return m;
}

double FractionEqual(const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& b) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return double(same) / a.size();
}

// Pixels where the fast selection differs from the reference although none of the pixel's
// features (orientation, strength, coherence, from the plain eigen-analysis) lies within a
// relative 1e-4 of a bin edge. Quantile thresholds are themselves feature values of the image,
// so some pixels sit exactly on an edge, where float rounding decides either way.
int MismatchesAwayFromEdges(const SelectionConfig& c, const Image& image,
                            const std::vector<std::int32_t>& fast,
                            const std::vector<std::int32_t>& ref) {
  const Features f = ComputeFeatures(image, c.rho, c.joint_color);
  auto near = [](double v, const std::vector<float>& edges) {
    for (float t : edges)
      if (std::abs(v - t) <= 1e-4 * std::max(std::abs(double(t)), 1e-6)) return true;
    return false;
  };
  int count = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    if (fast[i] == ref[i]) continue;
    const double o = f.orientation.data()[i] / 3.14159265358979323846 * c.orientations;
    if (std::abs(o - std::round(o)) <= 1e-4 * c.orientations ||
        near(f.strength.data()[i], c.strength_thresholds) ||
        near(f.coherence.data()[i], c.coherence_thresholds))
      continue;
    ++count;
  }
  return count;
}

TEST(BladeSelection, FastEqualsReferenceOnRandomAndNaturalImages) {
  SelectionConfig cfg = DefaultSelection();
  Image random = RandomImage(37, 29, 1, 3);
  Image scene = SyntheticScene(64, 48);
  std::vector<const Image*> images = {&random, &scene};
  Image camera;
  const char* camera_path = "/usr/lib/python3/dist-packages/skimage/data/camera.png";
  if (std::filesystem::exists(camera_path)) {
    camera = Crop(ReadImage(camera_path), {100, 100, 128, 96});
    images.push_back(&camera);
  }
  // rho 1 and 2.5: the fused band path (bands of 64 rows, halos reflected at the borders);
  // rho 12: a blur radius taller than the image; rho 25: the whole-image fallback path.
  // The plain references once, then the fast path on every SIMD target.
  std::vector<std::pair<SelectionConfig, std::vector<std::int32_t>>> cases;
  for (const Image* im : images) {
    SelectionConfig c = cfg;
    c.strength_thresholds.clear();
    c.coherence_thresholds.clear();
    FitThresholds(c, {im});
    for (double rho : {1.0, 2.5, 12.0, 25.0}) {
      c.rho = rho;
      cases.emplace_back(c, SelectReference(c, *im));
    }
  }
  // Orientation counts that 8 divides take the comparison path, others the arctangent; the
  // last case has the shipped models' 8 strength bins (a kernel compiled for those counts).
  const std::size_t rho_cases = cases.size();
  for (std::size_t i = 0; i < images.size(); ++i)
    for (int n : {7, 8, 12, 16, 64, -24}) {
      SelectionConfig c = cases[4 * i].first;
      c.orientations = std::abs(n);
      if (n < 0) {
        c.strengths = 8;
        c.strength_thresholds.clear();
        FitThresholds(c, {images[i]});
      }
      cases.emplace_back(c, SelectReference(c, *images[i]));
    }
  ForEachSimdTarget([&](const std::string&) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      // Both compute the same formulas; the fast path accumulates the Gaussian separably in
      // float and compares squares and directions, so a pixel whose feature sits within
      // rounding of a bin edge may differ: no other pixel may, and those stay rare.
      const std::size_t image = i < rho_cases ? i / 4 : (i - rho_cases) / 6;
      const std::vector<std::int32_t> fast = Select(cases[i].first, *images[image]);
      EXPECT_EQ(MismatchesAwayFromEdges(cases[i].first, *images[image], fast, cases[i].second), 0)
          << "image " << image << " rho " << cases[i].first.rho << " orientations "
          << cases[i].first.orientations;
      EXPECT_GE(FractionEqual(fast, cases[i].second), 0.995)
          << "image " << image << " rho " << cases[i].first.rho << " orientations "
          << cases[i].first.orientations;
    }
  });
}

TEST(BladeSelection, IntensityAndJointColorIndicesMatchReference) {
  ForEachSimdTarget([&](const std::string&) {
    SelectionConfig c;
    c.orientations = 8;
    c.strengths = 5;
    c.coherences = 1;
    c.intensities = 6;
    Image rgb = SyntheticScene(40, 30, 3);
    c.joint_color = true;
    FitThresholds(c, {&rgb});
    ASSERT_EQ(c.intensity_thresholds.size(), 5u);
    std::vector<std::int32_t> sel = Select(c, rgb);
    // Each fitted threshold is a quantile, i.e. one pixel's own feature value: that pixel sits
    // exactly on a bin edge, where float rounding (FMA contraction differs between the -O1
    // sanitizer build and release) may put it on either side. So up to one pixel per threshold
    // may differ between two correct computations; any more is a real disagreement.
    const double ties = double(c.strengths - 1 + c.intensities - 1) / rgb.plane_size();
    EXPECT_GE(FractionEqual(sel, SelectReference(c, rgb)), 1 - ties);
    for (std::int32_t s : sel) ASSERT_LT(s, c.num_filters());
    // Equal-population thresholds: every intensity bin is used.
    std::vector<int> used(6);
    for (std::int32_t s : sel) used[s / (8 * 5)] = 1;
    for (int u : used) EXPECT_EQ(u, 1);
  });
}

// A pattern varying along angle theta; rotating it by 90 degrees moves the orientation bin by
// N_o / 2.
TEST(BladeSelection, RotatingBy90DegreesShiftsOrientationByHalf) {
  const int n = 24;
  for (int bin : {1, 5, 9, 16}) {
    const double theta = (bin + 0.5) * M_PI / n;
    Image u(64, 64);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x)
        u.at(0, x, y) =
            float(0.5 + 0.4 * std::sin(0.7 * (x * std::cos(theta) + y * std::sin(theta))));
    SelectionConfig c = DefaultSelection();
    auto bins = [&](const Image& im) {
      std::vector<int> hist(n);
      Features f = ComputeFeatures(im, c.rho);
      for (int y = 8; y < 56; ++y)
        for (int x = 8; x < 56; ++x) ++hist[OrientationBin(f.orientation.at(0, x, y), n)];
      return int(std::max_element(hist.begin(), hist.end()) - hist.begin());
    };
    const int b0 = bins(u), b1 = bins(Rotated90(u));
    EXPECT_EQ(b0, bin);
    EXPECT_EQ(b1, (b0 + n / 2) % n) << "bin " << bin;
  }
}

TEST(BladeSelection, FeaturesAreDefinedOnFlatImages) {
  Image flat(16, 16);
  std::fill(flat.data(), flat.data() + flat.size(), 0.5f);
  Features f = ComputeFeatures(flat, 1.0);
  EXPECT_EQ(MaxValue(f.orientation), 0.f);
  EXPECT_EQ(MaxValue(f.strength), 0.f);
  EXPECT_EQ(MaxValue(f.coherence), 0.f);
  EXPECT_TRUE(AllFinite(f.coherence));
}

// A diverging run can hand selection overflowing values (inf - inf = NaN in the tensor): the
// indices must still be valid so the run reaches its non-finite check instead of crashing.
TEST(BladeSelection, IndicesStayInRangeForOverflowingInput) {
  SelectionConfig c = DefaultSelection();
  Image u = RandomImage(20, 16, 1, 4, -1e30f, 1e30f);
  u.at(0, 3, 3) = INFINITY;
  u.at(0, 7, 9) = NAN;
  for (const auto& sel : {Select(c, u), SelectReference(c, u)})
    for (std::int32_t s : sel) ASSERT_TRUE(s >= 0 && s < c.num_filters()) << s;
}

TEST(BladeSelection, QuantileThresholdsSplitEqually) {
  std::vector<float> v(1000);
  for (int i = 0; i < 1000; ++i) v[i] = float(i);
  auto t = QuantileThresholds(v, 4);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], 250.f);
  EXPECT_EQ(t[2], 750.f);
  EXPECT_EQ(ThresholdBin(249.f, t), 0);
  EXPECT_EQ(ThresholdBin(250.f, t), 1);
  EXPECT_EQ(ThresholdBin(1e9f, t), 3);
}

TEST(BladeSelection, QuantileThresholdsAreTheSortedOrderStatistics) {
  // Shuffled values with many ties: each threshold is the value at index n k / bins of the
  // sorted data.
  std::mt19937 rng(17);
  std::vector<float> v(5003);
  for (float& x : v) x = float(std::uniform_int_distribution<int>(0, 300)(rng)) * 0.01f;
  std::vector<float> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int bins : {2, 3, 8, 16, 24}) {
    const std::vector<float> t = QuantileThresholds(v, bins);
    ASSERT_EQ(t.size(), std::size_t(bins - 1));
    for (int k = 1; k < bins; ++k)
      EXPECT_EQ(t[k - 1], sorted[v.size() * k / bins]) << bins << " " << k;
  }
}

TEST(BladeFilter, RejectsOutOfRangeFilterIndicesAnywhere) {
  FilterBank bank(4, 3);
  const Image z = testing::SyntheticScene(37, 23);
  for (std::size_t at : {std::size_t(0), std::size_t(400), std::size_t(37 * 23 - 1)}) {
    std::vector<std::int32_t> sel(37 * 23, 3);
    EXPECT_NO_THROW(ApplyFilters(bank, sel, z));
    sel[at] = -1;
    EXPECT_THROW(ApplyFilters(bank, sel, z), Error) << at;
    sel[at] = 4;  // one past the last filter
    EXPECT_THROW(ApplyFilters(bank, sel, z), Error) << at;
  }
  EXPECT_EQ(bank.taps.size(), 4u * 9u);  // the constructor allocates zero taps
}

class BladeFilterGradient : public ::testing::TestWithParam<int> {};

// eq. 2.9 against central finite differences in double precision: L = sum_i w_i out_i.
TEST_P(BladeFilterGradient, MatchesFiniteDifferences) {
  const int size = GetParam(), w = 9, h = 7, count = 5, n = size * size;
  std::mt19937 rng(size);
  std::uniform_real_distribution<double> d(-1, 1);
  std::vector<double> z(w * h), taps(count * n), weight(w * h);
  std::vector<std::int32_t> sel(w * h);
  for (auto& v : z) v = d(rng);
  for (auto& v : taps) v = d(rng);
  for (auto& v : weight) v = d(rng);
  for (auto& s : sel) s = std::uniform_int_distribution<int>(0, count - 1)(rng);
  auto loss = [&](const std::vector<double>& zz, const std::vector<double>& tt) {
    std::vector<double> out(w * h);
    ApplyPlane(zz.data(), w, h, sel.data(), tt.data(), size, out.data());
    double l = 0;
    for (int i = 0; i < w * h; ++i) l += weight[i] * out[i];
    return l;
  };
  std::vector<double> dtaps(count * n, 0.0), dz(w * h);
  ApplyPlaneBackward(z.data(), w, h, sel.data(), taps.data(), size, weight.data(), dtaps.data(),
                     dz.data());
  const double eps = 1e-6;
  double max_rel = 0;
  auto check = [&](double analytic, double numeric) {
    max_rel = std::max(max_rel, std::abs(analytic - numeric) / std::max(1.0, std::abs(numeric)));
  };
  for (int i = 0; i < count * n; ++i) {
    auto tp = taps, tm = taps;
    tp[i] += eps;
    tm[i] -= eps;
    check(dtaps[i], (loss(z, tp) - loss(z, tm)) / (2 * eps));
  }
  for (int i = 0; i < w * h; ++i) {
    auto zp = z, zm = z;
    zp[i] += eps;
    zm[i] -= eps;
    check(dz[i], (loss(zp, taps) - loss(zm, taps)) / (2 * eps));
  }
  EXPECT_LT(max_rel, 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Footprint, BladeFilterGradient, ::testing::Values(3, 5, 9));

// The SIMD kernel (float; 8-pixel groups and a scalar tail) and the double path against the
// plain clamped-index version, for every footprint and widths around the vector width.
// The float backward pass (SIMD kernels: pixels sorted by filter, per-row data gradient) against
// the double one (plain per-pixel sums), every footprint, widths around the vector width,
// heights shorter than the footprint, and unused filters in the bank.
TEST(BladeFilter, FastBackwardEqualsPlainDouble) {
  ForEachSimdTarget([&](const std::string&) {
    for (int size : {3, 5, 7, 9, 11, 13, 15})
      for (auto [w, h] : {std::pair{1, 1}, {7, 3}, {8, 9}, {23, 17}, {41, 30}, {200, 170}}) {
        const int count = 11, n = size * size;
        Image z = RandomImage(w, h, 1, size + w);
        Image taps = RandomImage(n, count, 1, 99, -1, 1);
        Image dout = RandomImage(w, h, 1, 7 * w + h, -1, 1);
        std::vector<std::int32_t> sel(w * h);
        for (int i = 0; i < w * h; ++i) sel[i] = (i * 7 + i / 5) % (count - 2);  // 9, 10 unused
        std::vector<double> dtaps(count * n, 0.5), dtaps_ref(count * n, 0.5);    // accumulates
        std::vector<float> dz(w * h, 3.f);                                       // overwritten
        ApplyPlaneBackward(z.data(), w, h, sel.data(), taps.data(), size, dout.data(), dtaps.data(),
                           dz.data());
        std::vector<double> zd(z.data(), z.data() + z.size()),
            td(taps.data(), taps.data() + taps.size());
        std::vector<double> gd(dout.data(), dout.data() + dout.size()), dz_ref(w * h);
        ApplyPlaneBackward(zd.data(), w, h, sel.data(), td.data(), size, gd.data(),
                           dtaps_ref.data(), dz_ref.data());
        for (int i = 0; i < count * n; ++i)
          ASSERT_NEAR(dtaps[i], dtaps_ref[i], 1e-9 * (1 + w * h))
              << size << " " << w << "x" << h << " tap " << i;
        for (int i = 0; i < w * h; ++i)
          ASSERT_NEAR(dz[i], dz_ref[i], 1e-4) << size << " " << w << "x" << h << " px " << i;
      }
  });
}

// Color images are filtered in one pass over the three planes (each pixel's filter read once);
// every plane must come out bit for bit as when filtered alone.
TEST(BladeFilter, ColorPassEqualsPlaneByPlane) {
  ForEachSimdTarget([&](const std::string&) {
    for (int size : {3, 5, 7, 9, 11, 13, 15})
      for (int w : {1, 7, 8, 23, 41}) {
        const int h = 9, count = 7;
        FilterBank bank(count, size);
        Image taps = RandomImage(size * size, count, 1, 99, -1, 1);
        std::copy_n(taps.data(), bank.taps.size(), bank.taps.data());
        Image z = RandomImage(w, h, 3, size + w);
        std::vector<std::int32_t> sel(w * h);
        for (int i = 0; i < w * h; ++i) sel[i] = (i * 7 + i / 5) % count;
        Image color = ApplyFilters(bank, sel, z);
        for (int c = 0; c < 3; ++c) {
          std::vector<float> plane(w * h);
          ApplyPlane(z.plane(c), w, h, sel.data(), bank.taps.data(), size, plane.data());
          for (int i = 0; i < w * h; ++i)
            ASSERT_EQ(color.plane(c)[i], plane[i]) << size << " " << w << " c" << c;
        }
      }
  });
}

// The flux form filters one image with two banks in one pass (shared image reads); each output
// must come out bit for bit as with its bank alone, whatever the two selections.
TEST(BladeFilter, BankPairEqualsEachBankAlone) {
  ForEachSimdTarget([&](const std::string&) {
    for (int size : {3, 5, 7, 9, 11, 13, 15})
      for (int w : {1, 7, 8, 23, 41}) {
        const int h = 9;
        FilterBank a(7, size), b(5, size);
        Image ta = RandomImage(size * size, 7, 1, 99, -1, 1),
              tb = RandomImage(size * size, 5, 1, 98, -1, 1);
        std::copy_n(ta.data(), a.taps.size(), a.taps.data());
        std::copy_n(tb.data(), b.taps.size(), b.taps.data());
        Image z = RandomImage(w, h, 1, size + w);
        std::vector<std::int32_t> sa(w * h), sb(w * h);
        for (int i = 0; i < w * h; ++i) {
          sa[i] = (i * 7 + i / 5) % 7;
          sb[i] = (i * 3 + 1) % 5;
        }
        auto [pa, pb] = ApplyFilterPair(a, sa, b, sb, z);
        Image ea = ApplyFilters(a, sa, z), eb = ApplyFilters(b, sb, z);
        for (int i = 0; i < w * h; ++i) {
          ASSERT_EQ(pa.data()[i], ea.data()[i]) << size << " " << w << " bank a";
          ASSERT_EQ(pb.data()[i], eb.data()[i]) << size << " " << w << " bank b";
        }
      }
  });
}

// Selection and filtering fused band by band must give exactly the separate passes: gray and
// color (luma and joint selection), one and two banks (equal and unequal footprints), the
// fused selection path and the whole-image one (large rho), heights across band boundaries.
TEST(BladeFilter, SelectAndFilterEqualsSeparatePasses) {
  ForEachSimdTarget([&](const std::string&) {
    for (auto [w, h] : {std::pair{1, 1}, {9, 5}, {37, 33}, {70, 97}})
      for (int channels : {1, 3})
        for (bool joint : {false, true})
          for (double rho : {1.0, 40.0})
            for (int sizes : {5, 57, 55}) {  // one bank of 5; banks of 5 and 7; two of 5
              if (channels == 1 && joint) continue;
              SelectionConfig cfg = DefaultSelection();
              cfg.rho = rho;
              cfg.joint_color = joint;
              std::vector<FilterBank> banks;
              for (int s = sizes; s > 0; s /= 10) {
                const int size = s % 10;
                FilterBank b(cfg.num_filters(), size);
                Image t =
                    RandomImage(size * size, b.count, 1, 90 + size + int(banks.size()), -1, 1);
                std::copy_n(t.data(), b.taps.size(), b.taps.data());
                banks.push_back(std::move(b));
              }
              std::vector<const FilterBank*> ptrs;
              for (const FilterBank& b : banks) ptrs.push_back(&b);
              Image z = RandomImage(w, h, channels, w + h + channels);
              std::vector<Image> fused = SelectAndFilter(cfg, ptrs, z);
              const std::vector<std::int32_t> sel = Select(cfg, z);
              ASSERT_EQ(fused.size(), banks.size());
              for (std::size_t b = 0; b < banks.size(); ++b) {
                Image separate = ApplyFilters(banks[b], sel, z);
                for (std::size_t i = 0; i < separate.size(); ++i)
                  ASSERT_EQ(fused[b].data()[i], separate.data()[i])
                      << w << "x" << h << " channels " << channels << " joint " << joint << " rho "
                      << rho << " banks " << sizes << " bank " << b << " at " << i;
              }
            }
  });
}

// The fused update step equals Axpy on the separately filtered image, bit for bit, and reports
// non-finite results; a whole run through it equals the unfused path (forced by an extra term
// that adds nothing), for both integrators, gray and color.
TEST(BladeFilter, SelectFilterUpdateEqualsAxpyOfTheSeparatePasses) {
  ForEachSimdTarget([&](const std::string&) {
    for (int channels : {1, 3}) {
      const int w = 45, h = 70;
      SelectionConfig cfg = DefaultSelection();
      FilterBank bank(cfg.num_filters(), 5);
      Image t = RandomImage(25, bank.count, 1, 5, -1, 1);
      std::copy_n(t.data(), bank.taps.size(), bank.taps.data());
      Image z = RandomImage(w, h, channels, 11), base = RandomImage(w, h, channels, 12);
      bool finite = false;
      Image fused = SelectFilterUpdate(cfg, bank, z, base, 0.3f, &finite);
      EXPECT_TRUE(finite);
      Image expected = base.Copy();
      Axpy(0.3f, ApplyFilters(bank, Select(cfg, z), z), expected);
      for (std::size_t i = 0; i < expected.size(); ++i)
        ASSERT_EQ(fused.data()[i], expected.data()[i]) << i;
      SelectFilterUpdate(cfg, bank, z, base, 3e38f, &finite);
      EXPECT_FALSE(finite);
      // With the bank padded once (as RunModel does): the same image; and a padded bank whose
      // taps were resized since is refused.
      const PaddedBank padded(bank);
      Image fused_padded = SelectFilterUpdate(cfg, padded, z, base, 0.3f, &finite);
      for (std::size_t i = 0; i < expected.size(); ++i)
        ASSERT_EQ(fused_padded.data()[i], expected.data()[i]) << i;
      FilterBank grown = bank;
      const PaddedBank stale(grown);
      grown.taps.resize(grown.taps.size() + 25);
      EXPECT_THROW(SelectFilterUpdate(cfg, stale, z, base, 0.3f, &finite), Error);

      // The run (fused steps in two or three alternating buffers, the extra terms added into
      // each update) against the plain scheme written out with whole-image right-hand sides.
      // With an extra term (here 0.5 u) the run adds dt F and dt E separately instead of
      // dt (F + E): equal up to rounding, so compared to a tolerance.
      Model m = RandomModel(ModelForm::kDirect, 3);
      for (Integrator integrator : {Integrator::kEuler, Integrator::kMidpoint}) {
        for (bool with_extra : {false, true}) {
          RunOptions o;
          o.steps = 4;
          o.dt = 0.05;
          o.integrator = integrator;
          if (with_extra)
            o.extra_terms.push_back({[](const Image& u, float scale, Image& out) {
                                       for (std::size_t i = 0; i < u.size(); ++i)
                                         out.data()[i] += scale * 0.5f * u.data()[i];
                                     },
                                     nullptr});
          auto rhs = [&](const Image& u) {
            Image r = EvaluateRhs(m, u);
            if (with_extra) Axpy(0.5f, u, r);
            return r;
          };
          Image plain = z.Copy();
          for (int k = 0; k < o.steps; ++k) {
            if (integrator == Integrator::kEuler) {
              Axpy(float(o.dt), rhs(plain), plain);
            } else {
              Image half = plain.Copy();
              Axpy(float(o.dt / 2), rhs(plain), half);
              Axpy(float(o.dt), rhs(half), plain);
            }
          }
          const Image run = RunModel(m, z, o);
          for (std::size_t i = 0; i < run.size(); ++i) {
            if (with_extra)
              ASSERT_NEAR(run.data()[i], plain.data()[i], 1e-5f) << i;
            else
              ASSERT_EQ(run.data()[i], plain.data()[i]) << i;
          }
          // Moving the input in gives the same result.
          Image moved = z.Copy();
          const Image run_moved = RunModel(m, std::move(moved), o);
          for (std::size_t i = 0; i < run.size(); ++i)
            ASSERT_EQ(run_moved.data()[i], run.data()[i]) << i;
        }
      }
    }
  });
}

TEST(BladeFilter, FastEqualsReference) {
  ForEachSimdTarget([&](const std::string&) {
    for (int size : {3, 5, 7, 9, 11, 13, 15})
      for (int w : {1, 7, 8, 23, 41}) {
        const int h = 9, count = 7;
        Image z = RandomImage(w, h, 1, size + w);
        Image taps = RandomImage(size * size, count, 1, 99, -1, 1);
        std::vector<std::int32_t> sel(w * h);
        for (int i = 0; i < w * h; ++i) sel[i] = (i * 7 + i / 5) % count;
        std::vector<float> a(w * h), b(w * h);
        ApplyPlane(z.data(), w, h, sel.data(), taps.data(), size, a.data());
        ApplyPlaneReference(z.data(), w, h, sel.data(), taps.data(), size, b.data());
        for (int i = 0; i < w * h; ++i) ASSERT_NEAR(a[i], b[i], 2e-5) << size << " " << w;
        std::vector<double> zd(z.data(), z.data() + z.size()),
            td(taps.data(), taps.data() + taps.size());
        std::vector<double> ad(w * h), bd(w * h);
        ApplyPlane(zd.data(), w, h, sel.data(), td.data(), size, ad.data());
        ApplyPlaneReference(zd.data(), w, h, sel.data(), td.data(), size, bd.data());
        for (int i = 0; i < w * h; ++i) ASSERT_NEAR(ad[i], bd[i], 1e-12) << size << " " << w;
      }
  });
}

// Every filter the 5-point Laplacian: BLADE Euler steps are the explicit heat equation.
TEST(BladeModel, LaplacianFiltersReproduceTheHeatEquation) {
  Model m = MakeEmptyModel(ModelForm::kDirect, DefaultSelection(), 5);
  for (int k = 0; k < m.banks[0].filters.count; ++k) {
    FilterBank& f = m.banks[0].filters;
    f.tap(k, 0, 0) = -4;
    f.tap(k, 1, 0) = f.tap(k, -1, 0) = f.tap(k, 0, 1) = f.tap(k, 0, -1) = 1;
  }
  m.dt = 0.2;
  Image u0 = SyntheticScene(40, 30);
  Image heat = u0.Copy();
  const int w = 40, h = 30;
  RunOptions o;
  o.steps = 1;
  Image u = u0.Copy();
  for (int k = 0; k < 10; ++k) {
    Image next = heat.Copy();
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        auto at = [&](int xx, int yy) {
          return heat.at(0, std::clamp(xx, 0, w - 1), std::clamp(yy, 0, h - 1));
        };
        next.at(0, x, y) +=
            0.2f * (at(x + 1, y) + at(x - 1, y) + at(x, y + 1) + at(x, y - 1) - 4 * at(x, y));
      }
    heat = std::move(next);
    u = RunModel(m, u, o);
    ASSERT_LT(MaxAbsDifference(u, heat), 1e-6) << "step " << k;
  }
}

TEST(BladeModel, FluxFormConservesMass) {
  Model m = RandomModel(ModelForm::kFlux, 5, 0.05f);
  m.dt = 0.2;
  Image u0 = RandomImage(48, 36, 1, 6);
  RunOptions o;
  o.steps = 100;
  Image u = RunModel(m, u0, o);
  ASSERT_TRUE(AllFinite(u));
  EXPECT_GT(MaxAbsDifference(u, u0), 1e-3);
  EXPECT_LT(std::abs(Sum(u) - Sum(u0)) / Sum(u0), 1e-5);
}

TEST(BladeModel, ColorUsesLumaSelectionAndFiltersEachChannel) {
  Model m = RandomModel(ModelForm::kDirect, 8);
  Image rgb = SyntheticScene(30, 20, 3);
  Image rhs = EvaluateRhs(m, rgb);
  std::vector<std::int32_t> sel = Select(m.banks[0].selection, ToLuma(rgb));
  for (int c = 0; c < 3; ++c) {
    Image expect = ApplyFilters(m.banks[0].filters, sel, ExtractChannel(rgb, c));
    EXPECT_LT(MaxAbsDifference(expect, ExtractChannel(rhs, c)), 1e-7);
  }
}

// A model of a PDE that evolves each channel on its own (TV, PM, CH) runs a color image as three
// gray images: its right-hand side and its runs (fused or not, Euler or midpoint) equal the
// gray ones channel by channel. A CED model, and one of no known PDE, select on luma.
TEST(BladeModel, ColorRunsChannelByChannelForPdesThatDoNotCoupleChannels) {
  Image rgb = SyntheticScene(30, 20, 3);
  for (const char* pde : {"tv", "pm", "ch", "ced", ""}) {
    for (ModelForm form : {ModelForm::kDirect, ModelForm::kFlux}) {
      Model m = RandomModel(form, 8);
      m.pde = pde;
      const bool by_channel = std::string(pde) != "ced" && *pde != 0;
      EXPECT_EQ(RunsChannelByChannel(m), by_channel) << pde;
      Image rhs = EvaluateRhs(m, rgb);
      std::vector<std::int32_t> luma_sel = Select(m.banks[0].selection, ToLuma(rgb));
      for (int c = 0; c < 3; ++c) {
        Image channel = ExtractChannel(rgb, c);
        EXPECT_EQ(MaxAbsDifference(EvaluateRhs(m, channel), ExtractChannel(rhs, c)) == 0,
                  by_channel)
            << pde << " channel " << c;
      }
      if (!by_channel && form == ModelForm::kDirect)
        for (int c = 0; c < 3; ++c)
          EXPECT_LT(
              MaxAbsDifference(ApplyFilters(m.banks[0].filters, luma_sel, ExtractChannel(rgb, c)),
                               ExtractChannel(rhs, c)),
              1e-7);
      if (!by_channel) continue;
      for (Integrator integrator : {Integrator::kEuler, Integrator::kMidpoint}) {
        RunOptions o;
        o.steps = 3;
        o.dt = 0.05;
        o.integrator = integrator;
        Image u = RunModel(m, rgb, o);
        for (int c = 0; c < 3; ++c)
          EXPECT_EQ(MaxAbsDifference(RunModel(m, ExtractChannel(rgb, c), o), ExtractChannel(u, c)),
                    0)
              << pde << " channel " << c;
        // With frames or an extra term the run steps the three channels together (the extra
        // term sees the color state): the same images.
        RunOptions framed = o;
        int frames = 0;
        framed.on_frame = [&](int, const Image& f) { frames += f.channels() == 3; };
        EXPECT_EQ(MaxAbsDifference(RunModel(m, rgb, framed), u), 0) << pde;
        EXPECT_EQ(frames, o.steps + 1);
        RunOptions extra = o;
        int seen_channels = 0;
        extra.extra_terms.push_back({[&](const Image& v, float scale, Image& out) {
                                       seen_channels = v.channels();
                                       for (std::size_t i = 0; i < v.size(); ++i)
                                         out.data()[i] += scale * 0.5f * v.data()[i];
                                     },
                                     nullptr});
        Image with_extra = RunModel(m, rgb, extra);
        EXPECT_EQ(seen_channels, 3);
        // luma_selection (denoising) keeps the one luma selection for every channel: the run of
        // a model of no known PDE.
        RunOptions luma = o;
        luma.luma_selection = true;
        Model unknown = m;
        unknown.pde = "";
        EXPECT_EQ(MaxAbsDifference(RunModel(m, rgb, luma), RunModel(unknown, rgb, o)), 0) << pde;
        RunOptions gray_extra = o;
        gray_extra.extra_terms = extra.extra_terms;
        for (int c = 0; c < 3; ++c)
          EXPECT_LT(MaxAbsDifference(RunModel(m, ExtractChannel(rgb, c), gray_extra),
                                     ExtractChannel(with_extra, c)),
                    1e-6)
              << pde << " channel " << c;
      }
    }
  }
}

// A step given without a number of steps keeps the model's stopping time (as `blade solve
// --dt`): the fewest equal steps of at most dt. With both, both are kept.
TEST(BladeModel, AStepAloneKeepsTheModelsStoppingTime) {
  Model m = RandomModel(ModelForm::kDirect, 3);
  m.dt = 0.2;
  m.steps = 10;
  struct Case {
    int steps;
    double dt;
    int want_steps;
    double want_dt;
  };
  for (const Case& c : {Case{0, 0.05, 40, 0.05}, Case{0, 0.03, 67, 2.0 / 67}, Case{5, 0.1, 5, 0.1},
                        Case{0, 0, 10, 0.2}, Case{3, 0, 3, 0.2}}) {
    RunOptions o;
    o.steps = c.steps;
    o.dt = c.dt;
    const ResolvedRun r = ResolveRun(m, o);
    EXPECT_EQ(r.steps, c.want_steps) << c.steps << " " << c.dt;
    EXPECT_NEAR(r.dt, c.want_dt, 1e-15) << c.steps << " " << c.dt;
  }
}

// Linear model u' = L u (one filter, the Laplacian): the exact solution is exp(tL) u0, which
// the DCT-II diagonalises (replicate borders). Euler converges at order 1, midpoint at order 2.
TEST(BladeModel, EulerAndMidpointConvergeAtTheirOrders) {
  SelectionConfig one;
  one.orientations = one.strengths = one.coherences = 1;
  Model m = MakeEmptyModel(ModelForm::kDirect, one, 3);
  FilterBank& f = m.banks[0].filters;
  f.tap(0, 0, 0) = -4;
  f.tap(0, 1, 0) = f.tap(0, -1, 0) = f.tap(0, 0, 1) = f.tap(0, 0, -1) = 1;
  const int w = 16, h = 12;
  const double T = 2.0;
  Image u0 = RandomImage(w, h, 1, 12);
  std::vector<double> in(u0.data(), u0.data() + u0.size()), hat(w * h), exact(w * h);
  Dct2(in.data(), hat.data(), w, h);
  for (int k = 0; k < h; ++k)
    for (int l = 0; l < w; ++l)
      hat[k * w + l] *= std::exp(T * (2 * std::cos(M_PI * k / h) + 2 * std::cos(M_PI * l / w) - 4));
  Dct3(hat.data(), exact.data(), w, h);
  auto error = [&](Integrator integ, int steps) {
    RunOptions o;
    o.steps = steps;
    o.dt = T / steps;
    o.integrator = integ;
    Image u = RunModel(m, u0, o);
    double e = 0;
    for (int i = 0; i < w * h; ++i)
      e = std::max(e, std::abs(u.data()[i] - exact[i] / (4.0 * w * h)));
    return e;
  };
  const double e1 = error(Integrator::kEuler, 20), e2 = error(Integrator::kEuler, 40);
  const double m1 = error(Integrator::kMidpoint, 20), m2 = error(Integrator::kMidpoint, 40);
  EXPECT_NEAR(e1 / e2, 2.0, 0.3) << e1 << " " << e2;
  EXPECT_NEAR(m1 / m2, 4.0, 0.6) << m1 << " " << m2;
  EXPECT_LT(m2, e2);
}

struct RolloutCase {
  ModelForm form;
  Integrator integrator;
};

class BladeRolloutGradient : public ::testing::TestWithParam<RolloutCase> {};

// Gradients through 3 unrolled steps (selections held fixed) against central differences.
TEST_P(BladeRolloutGradient, MatchesFiniteDifferences) {
  const auto [form, integ] = GetParam();
  Model m = RandomModel(form, 21, 0.1f, 3);
  const int steps = 3;
  const double dt = 0.3;
  Image u0 = SyntheticScene(14, 11);
  std::vector<Image> targets;
  for (int k = 0; k < steps; ++k) targets.push_back(RandomImage(14, 11, 1, 40 + k));
  Rollout base(m, u0, steps, dt, integ);
  auto loss = [&](const Model& mm, const Image& start) {
    return testing::RolloutSquaredError(mm, start, targets, base, dt, integ);
  };
  const std::vector<Image> grads = testing::RolloutSquaredErrorGradients(base, targets);
  std::vector<std::vector<double>> dtaps(m.banks.size());
  for (std::size_t b = 0; b < m.banks.size(); ++b)
    dtaps[b].assign(m.banks[b].filters.taps.size(), 0);
  Image du0 = base.Backward(grads, dtaps);
  const float eps = 1e-2f;
  std::mt19937 rng(3);
  for (int trial = 0; trial < 12; ++trial) {
    const std::size_t b = trial % m.banks.size();
    // Only taps of filters that some pixel selects have a nonzero gradient; pick those too.
    const std::size_t i =
        std::uniform_int_distribution<std::size_t>(0, m.banks[b].filters.taps.size() - 1)(rng);
    Model mp = m, mm = m;
    mp.banks[b].filters.taps[i] += eps;
    mm.banks[b].filters.taps[i] -= eps;
    const double numeric = (loss(mp, u0) - loss(mm, u0)) / (2 * eps);
    EXPECT_NEAR(dtaps[b][i], numeric, 2e-3 * std::max(1.0, std::abs(numeric))) << "tap " << i;
  }
  for (int trial = 0; trial < 8; ++trial) {
    const std::size_t i = std::uniform_int_distribution<std::size_t>(0, u0.size() - 1)(rng);
    Image up = u0.Copy(), um = u0.Copy();
    up.data()[i] += eps;
    um.data()[i] -= eps;
    const double numeric = (loss(m, up) - loss(m, um)) / (2 * eps);
    EXPECT_NEAR(du0.data()[i], numeric, 2e-3 * std::max(1.0, std::abs(numeric))) << "pixel " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Forms, BladeRolloutGradient,
                         ::testing::Values(RolloutCase{ModelForm::kDirect, Integrator::kEuler},
                                           RolloutCase{ModelForm::kDirect, Integrator::kMidpoint},
                                           RolloutCase{ModelForm::kFlux, Integrator::kEuler},
                                           RolloutCase{ModelForm::kFlux, Integrator::kMidpoint}));

// Every filter is c times the 5-point Laplacian: Euler is a convex combination of neighbours
// (a maximum principle holds) when dt c <= 1/4, and the checkerboard mode grows when dt c > 1/4.
Model LaplacianModel(float c) {
  Model m = MakeEmptyModel(ModelForm::kDirect, DefaultSelection(), 5);
  for (int k = 0; k < m.banks[0].filters.count; ++k) {
    FilterBank& f = m.banks[0].filters;
    f.tap(k, 0, 0) = -4 * c;
    f.tap(k, 1, 0) = f.tap(k, -1, 0) = f.tap(k, 0, 1) = f.tap(k, 0, -1) = c;
  }
  m.dt = 0.2;
  return m;
}

// Random filters do not sum to zero: a constant moves, and a flux model drives a flux through the
// borders. Projected, both forms keep constants and commute with adding one (the selection has
// no intensity bins); with intensity bins the projection is refused.
TEST(BladeLevelInvariance, ZeroSumFiltersKeepConstantsAndCommuteWithAddingOne) {
  for (ModelForm form : {ModelForm::kDirect, ModelForm::kFlux}) {
    SCOPED_TRACE(FormName(form));
    Model m = RandomModel(form, 7, 0.05f);
    m.dt = 0.1;
    ASSERT_TRUE(SelectionIgnoresLevel(m));
    Image flat(20, 16);
    for (std::size_t i = 0; i < flat.size(); ++i) flat.data()[i] = 0.4f;
    float moved = 0;
    Image before = EvaluateRhs(m, flat);
    for (std::size_t i = 0; i < before.size(); ++i)
      moved = std::max(moved, std::abs(before.data()[i]));
    EXPECT_GT(moved, 1e-3f);
    EXPECT_GT(LargestFilterSum(m), 1e-2);
    ProjectFiltersToZeroSum(m);
    EXPECT_LT(LargestFilterSum(m), 1e-6);
    const Image rhs = EvaluateRhs(m, flat);
    for (std::size_t i = 0; i < rhs.size(); ++i) ASSERT_NEAR(rhs.data()[i], 0.f, 1e-7f);
    // Adding 0.25 adds 0.25 to the result of 5 steps (selection unchanged: gradients only).
    const Image u = SyntheticScene(30, 22);
    Image shifted = u.Copy();
    for (std::size_t i = 0; i < shifted.size(); ++i) shifted.data()[i] += 0.25f;
    RunOptions o;
    o.steps = 5;
    const Image a = RunModel(m, u, o), b = RunModel(m, shifted, o);
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
      worst = std::max(worst, std::abs(double(b.data()[i]) - a.data()[i] - 0.25));
    EXPECT_LT(worst, 1e-5);
  }
  SelectionConfig with_level = DefaultSelection();
  with_level.intensities = 2;
  with_level.intensity_thresholds = {0.5f};
  Model ch = MakeEmptyModel(ModelForm::kDirect, with_level, 5);
  EXPECT_FALSE(SelectionIgnoresLevel(ch));
  EXPECT_THROW(ProjectFiltersToZeroSum(ch), Error);
  // Nor a Cahn-Hilliard model without intensity bins: the PDE does not commute with adding one.
  Model ch_blind = RandomModel(ModelForm::kFlux, 3);
  ch_blind.pde = "ch";
  EXPECT_FALSE(SelectionIgnoresLevel(ch_blind));
  EXPECT_THROW(ProjectFiltersToZeroSum(ch_blind), Error);
}

TEST(BladeStability, MonotoneModelStaysInRangeForever) {
  Model m = LaplacianModel(1.0f);  // dt c = 0.2
  Image a = RandomImage(24, 20, 1, 3), b = SyntheticScene(30, 22);
  const Stability st = MeasureStability(m, {&a, &b}, 300, 0.f, 1.f);
  EXPECT_EQ(st.safe_steps, 300);
  EXPECT_GE(st.min, 0.f);
  EXPECT_LE(st.max, 1.f);
}

TEST(BladeStability, TheRangeSeenIncludesTheStartsEvenWhenNoStepPasses) {
  Model m = LaplacianModel(2.0f);
  const Image a = RandomImage(24, 20, 1, 3);  // values in [0, 1)
  float lo = 1e30f, hi = -1e30f;
  for (std::size_t i = 0; i < a.size(); ++i)
    lo = std::min(lo, a.data()[i]), hi = std::max(hi, a.data()[i]);
  const Stability st = MeasureStability(m, {&a}, 20, 0.2f, 0.8f);  // the start already leaves it
  EXPECT_EQ(st.safe_steps, 0);
  EXPECT_EQ(st.min, lo);  // not [0, 0]
  EXPECT_EQ(st.max, hi);
}

TEST(BladeStability, UnstableModelIsCaughtAtTheFirstStepOutOfRange) {
  Model m = LaplacianModel(2.0f);  // dt c = 0.4: the checkerboard mode grows by |1 - 3.2| per step
  Image a = RandomImage(24, 20, 1, 3);
  const Stability st = MeasureStability(m, {&a}, 300, -0.5f, 1.5f);
  EXPECT_LT(st.safe_steps, 300);
  // The measured horizon is exact: one more step leaves the range, that many do not.
  RunOptions o;
  o.steps = st.safe_steps + 1;
  Image u = RunModel(m, a, o);
  float mn = 1e30f, mx = -1e30f;
  for (std::size_t i = 0; i < u.size(); ++i)
    mn = std::min(mn, u.data()[i]), mx = std::max(mx, u.data()[i]);
  EXPECT_TRUE(mn < -0.5f || mx > 1.5f);
  if (st.safe_steps > 0) {
    EXPECT_GE(st.min, -0.5f);
    EXPECT_LE(st.max, 1.5f);
  }
  // The failing state is reported too (the range seen stops before it): that run's, exactly.
  EXPECT_EQ(st.failed_start, 0);
  EXPECT_EQ(st.failed_min, mn);
  EXPECT_EQ(st.failed_max, mx);
  // Of two starts, the one that fails first; none when every run holds.
  const Image flat(24, 20);
  EXPECT_EQ(MeasureStability(m, {&flat, &a}, 300, -0.5f, 1.5f).failed_start, 1);
  EXPECT_EQ(MeasureStability(m, {&flat}, 300, -0.5f, 1.5f).failed_start, -1);
}

TEST(BladeModelFile, RoundTripsExactly) {
  Model m = RandomModel(ModelForm::kFlux, 2);
  m.pde = "tv";
  m.preset = "tv";
  m.pde_params = {{"eps", 0.01}};
  m.provenance = {{"data", "test"}};
  const std::string path = testing::TempDir() + "/m.blade";
  SaveModel(m, path);
  Model r = LoadModel(path);
  EXPECT_EQ(r.form, ModelForm::kFlux);
  ASSERT_EQ(r.banks.size(), 2u);
  EXPECT_EQ(r.banks[1].filters.taps, m.banks[1].filters.taps);
  EXPECT_EQ(r.banks[0].selection.strength_thresholds, m.banks[0].selection.strength_thresholds);
  EXPECT_EQ(r.dt, m.dt);
  EXPECT_EQ(r.pde, "tv");
  EXPECT_EQ(r.provenance.at("data"), "test");
  EXPECT_EQ(r.safe_steps, -1);  // not measured
  m.safe_steps = 37;
  m.safe_range[0] = -0.25f;
  m.safe_range[1] = 1.5f;
  SaveModel(m, path);
  r = LoadModel(path);
  EXPECT_EQ(r.safe_steps, 37);
  EXPECT_EQ(r.safe_range[0], -0.25f);
  EXPECT_EQ(r.safe_range[1], 1.5f);
}

TEST(BladeModelFile, RejectsDamagedFiles) {
  Model m = RandomModel(ModelForm::kDirect, 2);
  const std::string text = SerializeModel(m);
  EXPECT_THROW(ParseModel(text.substr(0, text.size() / 2), "half"), Error);
  EXPECT_THROW(ParseModel("", "empty"), Error);
  EXPECT_THROW(ParseModel("{\"format\": \"other\"}", "other"), Error);
  std::string v2 = text;
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 7");
  EXPECT_THROW(ParseModel(v2, "v7"), Error);
  std::string nan_tap = text;
  nan_tap.replace(nan_tap.find("\"taps\": [") + 9, 0, "null,");
  EXPECT_THROW(ParseModel(nan_tap, "nan"), Error);
  std::string flux = text;
  flux.replace(flux.find("\"form\": \"direct\""), 16, "\"form\": \"flux\"");
  EXPECT_THROW(ParseModel(flux, "bank count"), Error);
  try {
    ParseModel(v2, "v7");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("version 7"), std::string::npos);
  }
  EXPECT_THROW(LoadModel("/nonexistent/model.blade"), Error);
  // Numbers out of their type's range (found by fuzz/model_loader_fuzz, whose input is kept in
  // fuzz/corpus/model_loader/regression_huge_int.blade): an error, not an undefined conversion.
  auto replaced = [&](const std::string& key, const std::string& value) {
    std::string t = text;
    const std::size_t at = t.find("\"" + key + "\": ");
    const std::size_t end = t.find_first_of(",\n}", at + key.size() + 4);
    t.replace(at, end - at, "\"" + key + "\": " + value);
    return t;
  };
  EXPECT_THROW(ParseModel(replaced("steps", "4.4e83"), "huge steps"), Error);
  EXPECT_THROW(ParseModel(replaced("footprint", "1e300"), "huge footprint"), Error);
  EXPECT_THROW(ParseModel(replaced("orientations", "2.5"), "fractional bins"), Error);
  EXPECT_THROW(ParseModel(replaced("safe_steps", "-1e40"), "huge safe steps"), Error);
  std::string huge_tap = text;
  huge_tap.replace(huge_tap.find("\"taps\": [") + 9, 0, "1e300,");
  EXPECT_THROW(ParseModel(huge_tap, "huge tap"), Error);
  std::ifstream crash(testing::SourcePath("fuzz/corpus/model_loader/regression_huge_int.blade"));
  std::stringstream buffer;
  buffer << crash.rdbuf();
  ASSERT_FALSE(buffer.str().empty());
  EXPECT_THROW(ParseModel(buffer.str(), "fuzz regression"), Error);
  // A "format" of the wrong JSON type (regression_format_type.blade): Error, not a json
  // exception escaping the loader.
  EXPECT_THROW(ParseModel("{\"format\": [1, 2]}", "format array"), Error);
  EXPECT_THROW(ParseModel("[]", "array"), Error);
}

}  // namespace
}  // namespace blade

namespace blade {
namespace {

// ParallelTeam: every member runs at once, so members can wait for one another with TeamWait
// (member 0 is slow in every phase: a wait that returned early would let the others read stale
// slots; members run one after another would never return). Inside another parallel region the
// team is one member.
TEST(ParallelTeam, MembersRunAtOnceAndWaitForEachOther) {
  const int threads = NumThreads();
  SetNumThreads(3);
  std::atomic<int> slots[3] = {-1, -1, -1};
  std::atomic<int> stale{0}, members{0}, counted{0};
  ParallelTeam(3, [&](int i, int n) {
    members += 1;
    counted = n;
    for (int phase = 0; phase < 5; ++phase) {
      if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      slots[i].store(phase, std::memory_order_release);
      for (int j = 0; j < n; ++j) TeamWait(slots[j], phase);
      for (int j = 0; j < n; ++j) stale += slots[j].load() < phase;
    }
  });
  SetNumThreads(threads);
  EXPECT_EQ(members.load(), counted.load());
  EXPECT_EQ(counted.load(), 3);
  EXPECT_EQ(stale.load(), 0);
  std::atomic<int> nested_counts{0};
  ParallelFor(0, 2, [&](int) { ParallelTeam(4, [&](int, int n) { nested_counts += n; }); });
  EXPECT_EQ(nested_counts.load(), 2);
}

// The SIMD paths split rows across threads: 1, 2 and 4 threads give bit-identical selections,
// filter outputs and 3-step runs (direct and flux) on an image of many row bands.
TEST(BladeThreads, ResultsDoNotDependOnTheThreadCount) {
  const int threads = NumThreads();
  Image u = testing::SyntheticScene(203, 150);
  Model direct = MakeEmptyModel(ModelForm::kDirect, DefaultSelection(), 5);
  Model flux = MakeEmptyModel(ModelForm::kFlux, DefaultSelection(), 3);
  for (Model* m : {&direct, &flux})
    for (Bank& b : m->banks)
      for (std::size_t i = 0; i < b.filters.taps.size(); ++i)
        b.filters.taps[i] = 0.01f * float((i * 37) % 11) - 0.05f;
  RunOptions o;
  o.steps = 3;
  o.dt = 0.1;
  std::vector<std::vector<std::int32_t>> sels, wide_sels;
  std::vector<Image> runs;
  // Backward passes on a small image (one reduction chunk) and a large one (several).
  const Image big = testing::SyntheticScene(300, 250);
  std::vector<std::vector<std::vector<double>>> tap_grads;
  for (int t : {1, 2, 4}) {
    SetNumThreads(t);
    for (const Image* start : {static_cast<const Image*>(&u), &big}) {
      Rollout r(direct, *start, 2, 0.1, Integrator::kEuler);
      std::vector<std::vector<double>> dtaps(
          1, std::vector<double>(direct.banks[0].filters.taps.size(), 0.0));
      std::vector<Image> grads;
      grads.push_back(r.states()[1].Copy());
      grads.push_back(r.states()[2].Copy());
      runs.push_back(r.Backward(grads, dtaps));
      tap_grads.push_back(std::move(dtaps));
    }
    sels.push_back(Select(direct.banks[0].selection, u));
    // rho 4 (CED's): the streaming vertical kernel, whose four-row blocks must not move with
    // the banding (150 rows are 3 bands on one thread, 4 on two and four).
    // Many narrow bins with thresholds fitted on this image, so that a last-bit change of the
    // smoothed tensor would move some pixels to another bin.
    SelectionConfig wide;
    wide.rho = 4;
    wide.orientations = 64;
    wide.strengths = 16;
    wide.coherences = 16;
    FitThresholds(wide, {&u});
    wide_sels.push_back(Select(wide, u));
    runs.push_back(ApplyFilters(direct.banks[0].filters, sels.back(), u));
    runs.push_back(RunModel(direct, u, o));
    runs.push_back(RunModel(flux, u, o));
  }
  SetNumThreads(threads);
  for (int k = 1; k < 3; ++k) {
    EXPECT_EQ(sels[k], sels[0]);
    EXPECT_EQ(wide_sels[k], wide_sels[0]);
    for (int j = 0; j < 5; ++j)
      EXPECT_EQ(MaxAbsDifference(runs[5 * k + j], runs[j]), 0.0) << k << " " << j;
    for (int j = 0; j < 2; ++j) EXPECT_EQ(tap_grads[2 * k + j], tap_grads[j]) << k << " " << j;
  }
}

// The stability horizon is the library's rule (RunModel), so every front end inherits it.
TEST(RunGuard, RefusesRunsPastTheMeasuredHorizonUnlessUnsafe) {
  Model m = RandomModel(ModelForm::kDirect, 31, 0.01f);
  m.steps = 4;
  m.safe_steps = 6;
  m.safe_range[0] = -0.1f;
  m.safe_range[1] = 1.1f;
  const Image u0 = RandomImage(20, 14, 1, 5);
  RunOptions o;
  o.steps = 6;  // exactly the horizon: allowed
  EXPECT_NO_THROW(RunModel(m, u0, o));
  o.steps = 7;
  try {
    RunModel(m, u0, o);
    ADD_FAILURE() << "a run past the horizon was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("only up to 6 steps"), std::string::npos) << e.what();
  }
  // A step larger than the trained one is refused even inside the horizon (an explicit step is
  // not known to be stable past it); a smaller one that stays inside is not.
  o.steps = 2;
  o.dt = m.dt * 1.01;
  try {
    RunModel(m, u0, o);
    ADD_FAILURE() << "a step larger than the model's was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("larger than the"), std::string::npos) << e.what();
  }
  o.dt = m.dt;
  EXPECT_NO_THROW(RunModel(m, u0, o));
  o.dt = m.dt / 2;
  o.steps = 12;
  EXPECT_NO_THROW(RunModel(m, u0, o));
  o.steps = 1000;
  o.dt = 0;
  o.unsafe = true;
  EXPECT_NO_THROW(RunModel(m, u0, o));
  m.safe_steps = -1;  // not measured: no horizon to enforce
  o.unsafe = false;
  EXPECT_NO_THROW(RunModel(m, u0, o));
}

// A time becomes the fewest whole steps of at most dt, and a whole number of steps stays one.
TEST(RunGuard, ModelStepsForRoundsUpToStepsOfAtMostDt) {
  EXPECT_EQ(ModelStepsFor(0.0934, 0.01), 10);  // 9.34 steps: ten of 0.00934
  EXPECT_EQ(ModelStepsFor(4.0, 0.4), 10);      // exactly ten, as rounded in floating point
  EXPECT_EQ(ModelStepsFor(0.4 * 3, 0.4), 3);
  EXPECT_EQ(ModelStepsFor(0.001, 0.4), 1);
  EXPECT_THROW(ModelStepsFor(3e7, 0.01), Error);  // past kMaxRunSteps: refused, not wrapped
  for (double t : {0.017, 0.5, 2.67, 5.66, 7.9}) {
    const int n = ModelStepsFor(t, 0.4);
    EXPECT_LE(t / n, 0.4 * (1 + 1e-9)) << t;
    EXPECT_GT(t / (n - 1 > 0 ? n - 1 : 1), n > 1 ? 0.4 : 0.0) << t;
  }
}

TEST(RunGuard, ResolvesTheModelsDefaultsAndItsIntegrator) {
  Model m = RandomModel(ModelForm::kDirect, 32, 0.01f);
  m.steps = 3;
  m.integrator = Integrator::kMidpoint;
  RunOptions o;
  const ResolvedRun r = ResolveRun(m, o);
  EXPECT_EQ(r.steps, 3);
  EXPECT_EQ(r.dt, m.dt);
  EXPECT_EQ(r.integrator, Integrator::kMidpoint);
  // An unset integrator runs the model's: the same as asking for it, not Euler.
  const Image u0 = RandomImage(16, 12, 1, 6);
  o.integrator = Integrator::kMidpoint;
  const Image explicit_midpoint = RunModel(m, u0, o);
  o.integrator.reset();
  EXPECT_EQ(MaxAbsDifference(RunModel(m, u0, o), explicit_midpoint), 0.0);
  o.integrator = Integrator::kEuler;
  EXPECT_GT(MaxAbsDifference(RunModel(m, u0, o), explicit_midpoint), 0.0);
  o.steps = kMaxRunSteps + 1;
  EXPECT_THROW(ResolveRun(m, o), Error);
}

// A model file carries a checksum of its content: a changed digit anywhere is refused as
// damage, while files written before checksums were stored still load.
TEST(ModelFile, ChecksumRefusesAChangedDigitAndOldFilesStillLoad) {
  Model m = RandomModel(ModelForm::kDirect, 41);
  const std::string text = SerializeModel(m);
  ASSERT_NE(text.find("\"checksum\": \"fnv1a64:"), std::string::npos);
  const Model back = ParseModel(text, "good");
  EXPECT_EQ(back.banks[0].filters.taps, m.banks[0].filters.taps);
  // One digit of one tap (a digit after a decimal point inside the taps array).
  std::string damaged = text;
  const std::size_t digit = damaged.find('.', damaged.find("\"taps\"")) + 2;
  damaged[digit] = damaged[digit] == '3' ? '4' : '3';
  try {
    ParseModel(damaged, "models/x.blade");
    ADD_FAILURE() << "a damaged model loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'models/x.blade' is damaged: checksum mismatch"),
              std::string::npos)
        << e.what();
  }
  // Whitespace is not content: the same document indented differently still matches.
  std::string reindented;
  for (char c : text)
    if (c != '\n' && c != ' ') reindented += c;
  EXPECT_NO_THROW(ParseModel(reindented, "compact"));
  // A file without a checksum (as earlier versions wrote) loads; a changed one is not caught.
  const std::size_t line = text.find(" \"checksum\"");
  std::string old = text;
  old.erase(line, text.find('\n', line) + 1 - line);
  EXPECT_NO_THROW(ParseModel(old, "old"));
}

}  // namespace
}  // namespace blade
