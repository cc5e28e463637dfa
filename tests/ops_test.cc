// Tests for blade/ops.h: extensions, differences, divergence, Gaussian paths, resampling, DCT.
#include "blade/ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <thread>
#include <utility>
#include <vector>

#include "blade/error.h"
#include "blade/image.h"
#include "blade/parallel.h"
#include "ops/gaussian.h"
#include "test_util.h"

namespace blade {
namespace {

using ::blade::testing::ForEachSimdTarget;
using ::blade::testing::RandomImage;
using ::blade::testing::SyntheticScene;

double Dot(const Image& a, const Image& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += double(a.data()[i]) * double(b.data()[i]);
  return sum;
}

Image FromRows(const std::vector<std::vector<float>>& rows) {
  Image image(static_cast<int>(rows[0].size()), static_cast<int>(rows.size()));
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) image.at(0, x, y) = rows[y][x];
  return image;
}

void ExpectImageEq(const Image& actual, const std::vector<std::vector<float>>& expected) {
  ASSERT_EQ(actual.height(), static_cast<int>(expected.size()));
  ASSERT_EQ(actual.width(), static_cast<int>(expected[0].size()));
  for (int y = 0; y < actual.height(); ++y)
    for (int x = 0; x < actual.width(); ++x)
      EXPECT_FLOAT_EQ(actual.at(0, x, y), expected[y][x]) << "at (" << x << ", " << y << ")";
}

bool BitIdentical(const Image& a, const Image& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a.data()[i] != b.data()[i]) return false;
  return true;
}

// ---------------------------------------------------------------- extensions and differences

TEST(ImageAllFinite, FindsEveryNonFiniteValueAnywhere) {
  // 12,707 values: several blocks of the branch-free test and a partial one; 90,000 values:
  // two parallel tasks of 16 blocks.
  for (int side : {0, 1}) {
    Image u = side == 0 ? Image(97, 131) : Image(300, 300);
    for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] = float(i % 7) - 3.f;
    u.data()[5] = std::numeric_limits<float>::max();
    u.data()[6] = -std::numeric_limits<float>::max();
    u.data()[7] = std::numeric_limits<float>::denorm_min();
    EXPECT_TRUE(AllFinite(u));
    for (float bad :
         {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
          -std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::quiet_NaN()})
      for (std::size_t at : {std::size_t(0), std::size_t(4095), std::size_t(4096),
                             std::size_t(65536), u.size() - 1}) {
        if (at >= u.size()) continue;
        Image v = u.Copy();
        v.data()[at] = bad;
        EXPECT_FALSE(AllFinite(v)) << bad << " at " << at;
      }
  }
}

TEST(ImageIntensityRange, WarnsOnlyFarOutsideTheUnitRange) {
  Image u(8, 6);
  for (std::size_t i = 0; i < u.size(); ++i) u.data()[i] = float(i) / float(u.size() - 1);
  EXPECT_EQ(IntensityRangeWarning(u), "");
  u.data()[0] = -0.45f;  // ringing, a PDE's overshoot: no line
  u.data()[1] = 1.45f;
  EXPECT_EQ(IntensityRangeWarning(u), "");
  EXPECT_EQ(IntensityRangeWarning(Image()), "");
  Image v = u.Copy();
  v.data()[2] = 255.f;  // a float image in 0-255
  EXPECT_NE(IntensityRangeWarning(v).find("divided by 255"), std::string::npos);
  EXPECT_NE(IntensityRangeWarning(v).find("to 255"), std::string::npos);
  v = u.Copy();
  v.data()[2] = -0.6f;
  EXPECT_NE(IntensityRangeWarning(v), "");
}

TEST(OpsBoundary, ReplicateClamps) {
  EXPECT_EQ(ExtendIndex(-1, 4, Boundary::kReplicate), 0);
  EXPECT_EQ(ExtendIndex(-7, 4, Boundary::kReplicate), 0);
  EXPECT_EQ(ExtendIndex(2, 4, Boundary::kReplicate), 2);
  EXPECT_EQ(ExtendIndex(4, 4, Boundary::kReplicate), 3);
  EXPECT_EQ(ExtendIndex(100, 4, Boundary::kReplicate), 3);
}

TEST(OpsBoundary, HalfSymmetricReflectsRepeatedly) {
  // n = 4: the extended sequence is ... 3 2 1 0 | 0 1 2 3 | 3 2 1 0 | 0 1 2 3 ...
  const int expected_negative[] = {0, 1, 2, 3, 3, 2, 1, 0, 0, 1};  // i = -1, -2, ..., -10
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(ExtendIndex(-1 - k, 4, Boundary::kHalfSymmetric), expected_negative[k]) << k;
  const int expected_positive[] = {3, 2, 1, 0, 0, 1, 2, 3, 3, 2};  // i = 4, 5, ..., 13
  for (int k = 0; k < 10; ++k)
    EXPECT_EQ(ExtendIndex(4 + k, 4, Boundary::kHalfSymmetric), expected_positive[k]) << k;
  for (int i = -5; i <= 5; ++i) EXPECT_EQ(ExtendIndex(i, 1, Boundary::kHalfSymmetric), 0);
  // Far outside: still one period-2n fold.
  EXPECT_EQ(ExtendIndex(-1000001, 4, Boundary::kHalfSymmetric),
            ExtendIndex(-1000001 + 8 * 125000, 4, Boundary::kHalfSymmetric));
}

TEST(OpsDiff, ForwardAndBackwardByHand) {
  const Image u = FromRows({{1, 4, 9}, {2, 0, 5}});
  ExpectImageEq(ForwardDiffX(u), {{3, 5, 0}, {-2, 5, 0}});
  ExpectImageEq(BackwardDiffX(u), {{0, 3, 5}, {0, -2, 5}});
  ExpectImageEq(ForwardDiffY(u), {{1, -4, -4}, {0, 0, 0}});
  ExpectImageEq(BackwardDiffY(u), {{0, 0, 0}, {1, -4, -4}});
}

TEST(OpsDiff, CentralByHand) {
  const Image u = FromRows({{1, 4, 9, 16}, {2, 0, 5, 3}, {7, 7, 1, 0}});
  // Within one pixel of the border, replicate and half-sample symmetric coincide.
  for (Boundary b : {Boundary::kReplicate, Boundary::kHalfSymmetric}) {
    ExpectImageEq(CentralDiffX(u, b),
                  {{1.5f, 4, 6, 3.5f}, {-1, 1.5f, 1.5f, -1}, {0, -3, -3.5f, -0.5f}});
    ExpectImageEq(CentralDiffY(u, b),
                  {{0.5f, -2, -2, -6.5f}, {3, 1.5f, -4, -8}, {2.5f, 3.5f, -2, -1.5f}});
  }
  const Image single = FromRows({{5}});
  EXPECT_EQ(CentralDiffX(single).at(0, 0, 0), 0.f);
  EXPECT_EQ(CentralDiffY(single).at(0, 0, 0), 0.f);
}

TEST(OpsDiff, DivergenceByHand) {
  const Image px = FromRows({{1, 2, 100}, {3, -1, 100}});
  const Image py = FromRows({{4, 5, 6}, {100, 100, 100}});
  // The last column of px and the last row of py are never read (zero flux through the border).
  ExpectImageEq(DivergenceForward(px, py),
                {{1 + 4, 2 - 1 + 5, -2 + 6}, {3 - 4, -1 - 3 - 5, 1 - 6}});
}

TEST(OpsDiff, DivergenceIsNegativeAdjointOfForwardDifferences) {
  struct Size {
    int w, h, c;
  };
  for (Size s : {Size{17, 13, 1}, Size{8, 21, 3}, Size{1, 9, 1}, Size{9, 1, 1}, Size{1, 1, 1}}) {
    const Image u = RandomImage(s.w, s.h, s.c, 11, -1.f, 1.f);
    const Image px = RandomImage(s.w, s.h, s.c, 12, -1.f, 1.f);
    const Image py = RandomImage(s.w, s.h, s.c, 13, -1.f, 1.f);
    const double lhs = Dot(ForwardDiffX(u), px) + Dot(ForwardDiffY(u), py);
    const double rhs = -Dot(u, DivergenceForward(px, py));
    EXPECT_NEAR(lhs, rhs, 1e-5 * std::max(1.0, std::abs(lhs))) << s.w << "x" << s.h;
  }
}

TEST(OpsDiff, DivergenceRejectsMismatchedShapes) {
  EXPECT_THROW(DivergenceForward(Image(4, 3), Image(3, 4)), Error);
}

// ------------------------------------------------------------------------------- Gaussian

// Straight 2-D reference: the separable kernel applied per pixel with ExtendIndex, in double.
Image NaiveGaussian(const Image& image, double sigma) {
  const std::vector<double> taps = GaussianTaps(sigma);
  const int r = static_cast<int>(taps.size() / 2), w = image.width(), h = image.height();
  Image out(w, h, image.channels());
  for (int c = 0; c < image.channels(); ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double sum = 0.0;
        for (int j = -r; j <= r; ++j)
          for (int i = -r; i <= r; ++i)
            sum += taps[j + r] * taps[i + r] *
                   image.at(c, ExtendIndex(x + i, w, Boundary::kHalfSymmetric),
                            ExtendIndex(y + j, h, Boundary::kHalfSymmetric));
        out.at(c, x, y) = static_cast<float>(sum);
      }
  return out;
}

TEST(OpsGaussian, TapsAreNormalisedSymmetricAndTruncatedAtThreeSigma) {
  for (double sigma : {0.3, 1.0, 1.5, 2.5, 7.0}) {
    const std::vector<double> taps = GaussianTaps(sigma);
    const int r = static_cast<int>(std::ceil(3 * sigma));
    ASSERT_EQ(taps.size(), std::size_t(2 * r + 1)) << sigma;
    double sum = 0.0;
    for (double t : taps) sum += t;
    EXPECT_NEAR(sum, 1.0, 1e-15);
    for (int k = 0; k <= r; ++k) {
      EXPECT_EQ(taps[r + k], taps[r - k]);
      EXPECT_NEAR(taps[r + k] / taps[r], std::exp(-k * k / (2 * sigma * sigma)), 1e-15);
    }
  }
  EXPECT_EQ(GaussianTaps(0.0), std::vector<double>{1.0});
  EXPECT_THROW(GaussianTaps(-1.0), Error);
  EXPECT_THROW(GaussianTaps(std::nan("")), Error);
}

TEST(OpsGaussian, DirectMatchesNaiveTwoDimensionalReference) {
  ForEachSimdTarget([&](const std::string&) {
    const Image image = RandomImage(23, 17, 3, 5);
    for (double sigma : {0.5, 1.3, 2.5}) {
      EXPECT_LT(MaxAbsDifference(GaussianBlurDirect(image, sigma), NaiveGaussian(image, sigma)),
                1e-6)
          << sigma;
    }
    // Radius larger than the image: repeated reflection.
    const Image tiny = RandomImage(4, 3, 1, 6);
    EXPECT_LT(MaxAbsDifference(GaussianBlurDirect(tiny, 3.0), NaiveGaussian(tiny, 3.0)), 1e-6);
  });
}

TEST(OpsGaussian, DctMatchesDirect) {
  const Image image = RandomImage(37, 29, 3, 7);
  for (double sigma : {0.5, 1.0, 2.5, 4.0, 7.0}) {
    EXPECT_LT(MaxAbsDifference(GaussianBlurDct(image, sigma), GaussianBlurDirect(image, sigma)),
              1e-5)
        << sigma;
  }
  // Images smaller than the radius (r = 18 here), including a single row and a single column.
  for (const Image& small : {RandomImage(10, 7, 1, 8), RandomImage(1, 9, 1, 9),
                             RandomImage(9, 1, 3, 10), RandomImage(1, 1, 1, 11)}) {
    EXPECT_LT(MaxAbsDifference(GaussianBlurDct(small, 6.0), GaussianBlurDirect(small, 6.0)), 1e-5)
        << small.width() << "x" << small.height();
  }
}

TEST(OpsGaussian, BlurDispatchesOnSigma) {
  const Image image = SyntheticScene(40, 30);
  EXPECT_TRUE(BitIdentical(GaussianBlur(image, 2.0), GaussianBlurDirect(image, 2.0)));
  EXPECT_TRUE(BitIdentical(GaussianBlur(image, kGaussianDirectMaxSigma),
                           GaussianBlurDirect(image, kGaussianDirectMaxSigma)));
  EXPECT_TRUE(BitIdentical(GaussianBlur(image, kGaussianDirectMaxSigma + 1),
                           GaussianBlurDct(image, kGaussianDirectMaxSigma + 1)));
  EXPECT_TRUE(BitIdentical(GaussianBlur(image, 0.0), image));
  EXPECT_THROW(GaussianBlur(image, -0.5), Error);
}

TEST(OpsGaussian, PreservesMeanAndConstants) {
  const Image image = RandomImage(45, 31, 3, 12);
  const double mean = Mean(image);
  for (double sigma : {0.7, 2.0, 5.0, 12.0}) {
    EXPECT_NEAR(Mean(GaussianBlur(image, sigma)), mean, 1e-6 * mean) << sigma;
    EXPECT_NEAR(Mean(GaussianBlurDirect(image, sigma)), mean, 1e-6 * mean) << sigma;
  }
  Image constant(19, 12, 1);
  for (std::size_t i = 0; i < constant.size(); ++i) constant.data()[i] = 0.375f;
  for (double sigma : {1.0, 3.0, 6.0}) {
    for (const Image& blurred :
         {GaussianBlurDirect(constant, sigma), GaussianBlurDct(constant, sigma)}) {
      EXPECT_NEAR(MinValue(blurred), 0.375, 1e-6) << sigma;
      EXPECT_NEAR(MaxValue(blurred), 0.375, 1e-6) << sigma;
    }
  }
}

TEST(OpsGaussian, DeltaResponseIsOuterProductOfTaps) {
  const double sigma = 2.0;
  const std::vector<double> taps = GaussianTaps(sigma);
  const int r = static_cast<int>(taps.size() / 2);
  Image delta(31, 27, 1);
  const int cx = 15, cy = 13;
  delta.at(0, cx, cy) = 1.f;
  for (const Image& blurred : {GaussianBlurDirect(delta, sigma), GaussianBlurDct(delta, sigma)}) {
    for (int y = 0; y < delta.height(); ++y)
      for (int x = 0; x < delta.width(); ++x) {
        const int i = x - cx, j = y - cy;
        const double expected =
            std::abs(i) <= r && std::abs(j) <= r ? taps[i + r] * taps[j + r] : 0.0;
        EXPECT_NEAR(blurred.at(0, x, y), expected, 1e-7) << x << ", " << y;
      }
  }
}

TEST(OpsGaussian, ResultsDoNotDependOnThreadCount) {
  const Image image = RandomImage(64, 48, 3, 13);
  const int threads = NumThreads();
  SetNumThreads(1);
  const Image direct1 = GaussianBlurDirect(image, 1.7), dct1 = GaussianBlurDct(image, 6.0);
  SetNumThreads(4);
  const Image direct4 = GaussianBlurDirect(image, 1.7), dct4 = GaussianBlurDct(image, 6.0);
  SetNumThreads(threads);
  EXPECT_TRUE(BitIdentical(direct1, direct4));
  EXPECT_TRUE(BitIdentical(dct1, dct4));
}

// ------------------------------------------------------------------------- area downsampling

TEST(OpsAreaDownsample, MatchesDirectLoopAndPreservesMean) {
  const Image image = RandomImage(24, 18, 3, 14);
  for (int factor : {1, 2, 3, 6}) {
    const Image down = AreaDownsample(image, factor);
    ASSERT_EQ(down.width(), 24 / factor);
    ASSERT_EQ(down.height(), 18 / factor);
    ASSERT_EQ(down.channels(), 3);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < down.height(); ++y)
        for (int x = 0; x < down.width(); ++x) {
          double sum = 0.0;
          for (int j = 0; j < factor; ++j)
            for (int i = 0; i < factor; ++i) sum += image.at(c, x * factor + i, y * factor + j);
          EXPECT_NEAR(down.at(c, x, y), sum / (factor * factor), 1e-6);
        }
    EXPECT_NEAR(Mean(down), Mean(image), 1e-6);
  }
  EXPECT_TRUE(BitIdentical(AreaDownsample(image, 1), image));
}

TEST(OpsAreaDownsample, RejectsInvalidFactors) {
  const Image image(12, 8, 1);
  EXPECT_THROW(AreaDownsample(image, 0), Error);
  EXPECT_THROW(AreaDownsample(image, -2), Error);
  EXPECT_THROW(AreaDownsample(image, 3), Error);  // 8 is not divisible by 3
  EXPECT_THROW(AreaDownsample(image, 5), Error);
  EXPECT_NO_THROW(AreaDownsample(image, 4));
}

TEST(OpsAreaResize, IntegerFactorsGiveAreaDownsample) {
  const Image image = RandomImage(24, 18, 3, 15);
  for (int factor : {1, 2, 3, 6}) {
    const Image a = AreaResize(image, 24 / factor, 18 / factor);
    EXPECT_TRUE(BitIdentical(a, AreaDownsample(image, factor)));
  }
}

// Different factors along x and y go through the overlap tables: the same block means.
TEST(OpsAreaResize, UnequalIntegerFactorsGiveBlockMeans) {
  const Image image = RandomImage(24, 18, 1, 17);
  const Image out = AreaResize(image, 12, 6);  // 2 along x, 3 along y
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 12; ++x) {
      double sum = 0;
      for (int j = 0; j < 3; ++j)
        for (int i = 0; i < 2; ++i) sum += image.at(0, 2 * x + i, 3 * y + j);
      EXPECT_NEAR(out.at(0, x, y), sum / 6, 1e-6);
    }
}

// The plain overlap formula, worked by hand: 3 pixels into 2, each output covering 1.5 inputs.
TEST(OpsAreaResize, FractionalFootprintsWeightedByOverlap) {
  Image image(3, 1, 1);
  image.at(0, 0, 0) = 0.2f;
  image.at(0, 1, 0) = 0.9f;
  image.at(0, 2, 0) = 0.4f;
  const Image out = AreaResize(image, 2, 1);
  EXPECT_NEAR(out.at(0, 0, 0), (0.2 + 0.5 * 0.9) / 1.5, 1e-6);
  EXPECT_NEAR(out.at(0, 1, 0), (0.5 * 0.9 + 0.4) / 1.5, 1e-6);
}

// Each input pixel's weights sum to out/in over the outputs, so the mean is kept for any size.
TEST(OpsAreaResize, PreservesTheMeanAtAnySize) {
  const Image image = RandomImage(37, 23, 3, 16);
  for (auto [w, h] : {std::pair{20, 11}, {36, 23}, {1, 1}, {13, 17}, {37, 5}}) {
    const Image out = AreaResize(image, w, h);
    ASSERT_EQ(out.width(), w);
    ASSERT_EQ(out.height(), h);
    EXPECT_NEAR(Mean(out), Mean(image), 1e-5) << w << "x" << h;
  }
  EXPECT_THROW(AreaResize(image, 38, 23), Error);  // growing is not area averaging
  EXPECT_THROW(AreaResize(image, 0, 5), Error);
  EXPECT_THROW(AreaResize(Image(), 1, 1), Error);
}

// ---------------------------------------------------------------------------------- resizing

using ResizeFn = Image (*)(const Image&, int, int, Lattice);
struct ResizeCase {
  const char* name;
  ResizeFn resize;
  double (*kernel)(double);
  int radius;
};
const ResizeCase kResizeCases[] = {{"lanczos3", ResizeLanczos3, Lanczos3Kernel, 3},
                                   {"bicubic", ResizeBicubic, CubicKernel, 2}};

// The §9 formula evaluated per output pixel in 2-D (double), without precomputed tables.
Image NaiveResize(const Image& image, int width, int height, Lattice lattice,
                  double (*kernel)(double), int radius) {
  auto coordinate = [&](int i, int in, int out) {
    return lattice == Lattice::kCorner ? double(i) * in / out : (i + 0.5) * in / out - 0.5;
  };
  const int w = image.width(), h = image.height();
  Image out(width, height, image.channels());
  for (int c = 0; c < image.channels(); ++c)
    for (int oy = 0; oy < height; ++oy)
      for (int ox = 0; ox < width; ++ox) {
        const double x = coordinate(ox, w, width), y = coordinate(oy, h, height);
        const int fx = static_cast<int>(std::floor(x)), fy = static_cast<int>(std::floor(y));
        double sum = 0.0, wsum = 0.0;
        for (int n = fy - radius + 1; n <= fy + radius; ++n)
          for (int m = fx - radius + 1; m <= fx + radius; ++m) {
            const double wt = kernel(x - m) * kernel(y - n);
            sum += wt * image.at(c, std::clamp(m, 0, w - 1), std::clamp(n, 0, h - 1));
            wsum += wt;
          }
        out.at(c, ox, oy) = static_cast<float>(sum / wsum);
      }
  return out;
}

TEST(OpsResize, KernelValues) {
  EXPECT_EQ(Lanczos3Kernel(0.0), 1.0);
  for (double k : {1.0, 2.0, 3.0, -1.0, -2.0, 3.5, -7.0}) EXPECT_EQ(Lanczos3Kernel(k), 0.0) << k;
  const double x = 0.7, px = std::numbers::pi * x;
  EXPECT_NEAR(Lanczos3Kernel(x), std::sin(px) / px * std::sin(px / 3) / (px / 3), 1e-15);
  EXPECT_EQ(Lanczos3Kernel(-1.3), Lanczos3Kernel(1.3));
  EXPECT_EQ(CubicKernel(0.0), 1.0);
  EXPECT_EQ(CubicKernel(1.0), 0.0);
  EXPECT_EQ(CubicKernel(2.0), 0.0);
  EXPECT_DOUBLE_EQ(CubicKernel(0.5), 0.5625);
  EXPECT_DOUBLE_EQ(CubicKernel(-1.5), -0.0625);
}

TEST(OpsResize, MatchesNaiveFormula) {
  const Image image = RandomImage(13, 9, 3, 15);
  for (const ResizeCase& rc : kResizeCases)
    for (Lattice lattice : {Lattice::kCentered, Lattice::kCorner})
      for (auto [w, h] : {std::pair{20, 31}, std::pair{7, 5}, std::pair{52, 9}}) {
        EXPECT_LT(MaxAbsDifference(rc.resize(image, w, h, lattice),
                                   NaiveResize(image, w, h, lattice, rc.kernel, rc.radius)),
                  1e-5)
            << rc.name << " " << w << "x" << h;
      }
}

TEST(OpsResize, SameSizeIsIdentity) {
  const Image image = RandomImage(17, 11, 3, 16);
  for (const ResizeCase& rc : kResizeCases)
    for (Lattice lattice : {Lattice::kCentered, Lattice::kCorner})
      EXPECT_LT(MaxAbsDifference(rc.resize(image, 17, 11, lattice), image), 1e-6) << rc.name;
}

TEST(OpsResize, ConstantStaysConstant) {
  Image constant(9, 14, 3);
  for (std::size_t i = 0; i < constant.size(); ++i) constant.data()[i] = 0.625f;
  for (const ResizeCase& rc : kResizeCases)
    for (Lattice lattice : {Lattice::kCentered, Lattice::kCorner})
      for (auto [w, h] : {std::pair{36, 56}, std::pair{5, 3}, std::pair{13, 14}}) {
        const Image out = rc.resize(constant, w, h, lattice);
        EXPECT_NEAR(MinValue(out), 0.625, 1e-6) << rc.name;
        EXPECT_NEAR(MaxValue(out), 0.625, 1e-6) << rc.name;
      }
}

TEST(OpsResize, CornerLatticeInterpolatesAtIntegerFactors) {
  const Image image = RandomImage(11, 7, 3, 17);
  for (const ResizeCase& rc : kResizeCases)
    for (int s : {2, 3, 4}) {
      const Image up = rc.resize(image, 11 * s, 7 * s, Lattice::kCorner);
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 7; ++y)
          for (int x = 0; x < 11; ++x)
            ASSERT_EQ(up.at(c, x * s, y * s), image.at(c, x, y)) << rc.name << " s=" << s;
    }
}

TEST(OpsResize, LinearRampUpscaledInTheInterior) {
  // f(x, y) = a x + b y. Keys' cubic reproduces linear (even quadratic) functions exactly. The
  // normalised Lanczos-3 kernel does not: its first moment is off by up to ~0.0198 pixel at the
  // quarter phases, so its error is bounded by 0.02 * slope rather than zero.
  const int w = 16, h = 12, s = 4;
  const double a = 1.0 / 40, b = 1.0 / 56;
  Image ramp(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) ramp.at(0, x, y) = static_cast<float>(a * x + b * y);
  for (const ResizeCase& rc : kResizeCases) {
    const Image up = rc.resize(ramp, w * s, h * s, Lattice::kCorner);
    const double tolerance = rc.radius == 2 ? 1e-6 : 0.02 * (a + b) + 1e-6;
    double max_error = 0.0;
    // Interior: every tap of both axes lies inside the image (no replicated edge samples).
    for (int y = rc.radius * s; y < (h - rc.radius) * s; ++y)
      for (int x = rc.radius * s; x < (w - rc.radius) * s; ++x) {
        const double expected = a * x / s + b * y / s;
        max_error = std::max(max_error, std::abs(up.at(0, x, y) - expected));
      }
    EXPECT_LT(max_error, tolerance) << rc.name;
  }
}

TEST(OpsResize, RejectsInvalidSizes) {
  const Image image(8, 6, 1);
  for (const ResizeCase& rc : kResizeCases) {
    EXPECT_THROW(rc.resize(image, 0, 6, Lattice::kCentered), Error) << rc.name;
    EXPECT_THROW(rc.resize(image, 8, -1, Lattice::kCorner), Error) << rc.name;
    EXPECT_THROW(rc.resize(Image(), 8, 6, Lattice::kCorner), Error) << rc.name;
  }
}

// ---------------------------------------------------------------------------------------- DCT

// FFTW's REDFT10 per axis: X_k = 2 sum_j x_j cos(pi k (j + 1/2) / n).
std::vector<double> DirectDct2(const std::vector<double>& u, int w, int h) {
  std::vector<double> out(u.size());
  for (int l = 0; l < h; ++l)
    for (int k = 0; k < w; ++k) {
      double sum = 0.0;
      for (int n = 0; n < h; ++n)
        for (int m = 0; m < w; ++m)
          sum += u[std::size_t(n) * w + m] * std::cos(std::numbers::pi * k * (m + 0.5) / w) *
                 std::cos(std::numbers::pi * l * (n + 0.5) / h);
      out[std::size_t(l) * w + k] = 4.0 * sum;
    }
  return out;
}

std::vector<double> RandomVector(std::size_t n, std::uint32_t seed) {
  const Image image = RandomImage(static_cast<int>(n), 1, 1, seed, -1.f, 1.f);
  return std::vector<double>(image.data(), image.data() + n);
}

TEST(OpsDct, Dct2MatchesDirectFormula) {
  for (auto [w, h] : {std::pair{1, 1}, std::pair{1, 5}, std::pair{5, 1}, std::pair{4, 3},
                      std::pair{7, 6}, std::pair{8, 8}}) {
    const std::vector<double> u = RandomVector(std::size_t(w) * h, 18);
    std::vector<double> out(u.size());
    Dct2(u.data(), out.data(), w, h);
    const std::vector<double> expected = DirectDct2(u, w, h);
    for (std::size_t i = 0; i < u.size(); ++i)
      EXPECT_NEAR(out[i], expected[i], 1e-12) << w << "x" << h;
  }
}

TEST(OpsDct, Dct3InvertsDct2UpToFourWH) {
  for (auto [w, h] : {std::pair{1, 1}, std::pair{6, 1}, std::pair{33, 20}, std::pair{64, 48}}) {
    const std::vector<double> u = RandomVector(std::size_t(w) * h, 19);
    std::vector<double> coefficients(u.size()), back(u.size());
    Dct2(u.data(), coefficients.data(), w, h);
    Dct3(coefficients.data(), back.data(), w, h);
    for (std::size_t i = 0; i < u.size(); ++i)
      EXPECT_NEAR(back[i], 4.0 * w * h * u[i], 1e-9 * w * h) << w << "x" << h;
  }
}

TEST(OpsDct, InPlaceMatchesOutOfPlaceAndPreservesInput) {
  const int w = 12, h = 9;
  const std::vector<double> u = RandomVector(std::size_t(w) * h, 20);
  std::vector<double> input = u, out(u.size()), in_place = u;
  Dct2(input.data(), out.data(), w, h);
  EXPECT_EQ(input, u);
  Dct2(in_place.data(), in_place.data(), w, h);
  EXPECT_EQ(in_place, out);
  Dct3(out.data(), input.data(), w, h);
  Dct3(in_place.data(), in_place.data(), w, h);
  EXPECT_EQ(in_place, input);
}

TEST(OpsDct, ConcurrentCallsAreSafe) {
  // Planning happens under a lock; executions on distinct buffers run concurrently.
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 20; ++i) {
        const int w = 5 + (t + i) % 7, h = 3 + (t * i) % 5;
        const std::vector<double> u = RandomVector(std::size_t(w) * h, 100 + t);
        std::vector<double> c(u.size()), back(u.size());
        Dct2(u.data(), c.data(), w, h);
        Dct3(c.data(), back.data(), w, h);
        for (std::size_t k = 0; k < u.size(); ++k)
          if (std::abs(back[k] / (4.0 * w * h) - u[k]) > 1e-12) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace blade

namespace blade {
namespace {

// Accuracy of the 3-sigma truncation against the (practically) exact sampled Gaussian, which
// keeps taps out to 10 sigma; both with half-sample symmetric borders. Documented in
// docs/SOLVERS.md: the bound is twice the discarded tail mass per 1-D pass.
TEST(OpsGaussianAccuracy, TruncationErrorAgainstTheExactSampledGaussian) {
  for (double sigma : {1.0, 4.0, 16.0}) {
    const int w = 160, h = 120;
    Image u = testing::RandomImage(w, h, 1, 5);
    Image fast = GaussianBlur(u, sigma);
    const int r = int(std::ceil(10 * sigma));
    std::vector<double> g(2 * r + 1);
    double sum = 0;
    for (int k = -r; k <= r; ++k) sum += g[k + r] = std::exp(-k * k / (2 * sigma * sigma));
    for (double& v : g) v /= sum;
    std::vector<double> tmp(w * h), exact(w * h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double a = 0;
        for (int k = -r; k <= r; ++k)
          a += g[k + r] * u.at(0, ExtendIndex(x + k, w, Boundary::kHalfSymmetric), y);
        tmp[y * w + x] = a;
      }
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double a = 0;
        for (int k = -r; k <= r; ++k)
          a += g[k + r] * tmp[ExtendIndex(y + k, h, Boundary::kHalfSymmetric) * w + x];
        exact[y * w + x] = a;
      }
    double max_err = 0;
    for (int i = 0; i < w * h; ++i)
      max_err = std::max(max_err, std::abs(fast.data()[i] - exact[i]));
    std::printf("sigma %g: max |3-sigma truncated - exact| = %.3g\n", sigma, max_err);
    EXPECT_LT(max_err, 2 * 2 * 0.0027);  // two passes, each at most 2 x tail mass (erfc(3/sqrt 2))
  }
}

}  // namespace
}  // namespace blade
