// Tests for blade/metrics.h: PSNR/SSIM properties, a plain SSIM reference and scikit-image values.
#include "blade/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "blade/error.h"
#include "blade/image.h"
#include "blade/parallel.h"
#include "test_util.h"

namespace blade {
namespace {

using ::blade::testing::RandomImage;
using ::blade::testing::SourcePath;
using ::blade::testing::SyntheticScene;

// SSIM straight from the §8 formulas: every window position, full 11x11 double loops.
double PlainSsim(const Image& a, const Image& b, double data_range) {
  double g[11], gsum = 0.0;
  for (int k = 0; k < 11; ++k) {
    g[k] = std::exp(-(k - 5.0) * (k - 5.0) / (2.0 * 1.5 * 1.5));
    gsum += g[k];
  }
  double w2[11][11], w2sum = 0.0;
  for (int j = 0; j < 11; ++j)
    for (int i = 0; i < 11; ++i) {
      w2[j][i] = g[j] * g[i] / (gsum * gsum);
      w2sum += w2[j][i];
    }
  const double c1 = std::pow(0.01 * data_range, 2), c2 = std::pow(0.03 * data_range, 2);
  double total = 0.0;
  for (int c = 0; c < a.channels(); ++c) {
    double sum = 0.0;
    int count = 0;
    for (int y = 0; y + 11 <= a.height(); ++y)
      for (int x = 0; x + 11 <= a.width(); ++x) {
        double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
        for (int j = 0; j < 11; ++j)
          for (int i = 0; i < 11; ++i) {
            const double w = w2[j][i] / w2sum;
            const double va = a.at(c, x + i, y + j), vb = b.at(c, x + i, y + j);
            mx += w * va;
            my += w * vb;
            sxx += w * va * va;
            syy += w * vb * vb;
            sxy += w * va * vb;
          }
        const double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
        sum += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        ++count;
      }
    total += sum / count;
  }
  return total / a.channels();
}

// Minimal .npy reader for the reference data: little-endian float32, C order, 2-D (H, W).
// (Kept local so this test does not depend on the image I/O module.)
Image ReadNpyFloat32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot open " << path;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    ADD_FAILURE() << path << " is not a .npy file";
    return Image();
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) |
                 (std::size_t(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else {
    header_len = 0;
    for (int i = 0; i < 4; ++i)
      header_len |= std::size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  }
  const std::string header = bytes.substr(offset, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
  const std::size_t open = header.find("'shape': (");
  if (open == std::string::npos) {
    ADD_FAILURE() << "no shape in " << header;
    return Image();
  }
  int height = 0, width = 0;
  if (std::sscanf(header.c_str() + open, "'shape': (%d, %d)", &height, &width) != 2) {
    ADD_FAILURE() << "not a 2-D array: " << header;
    return Image();
  }
  Image image(width, height, 1);
  const std::size_t data_offset = offset + header_len;
  if (bytes.size() != data_offset + image.size() * sizeof(float)) {
    ADD_FAILURE() << path << " has the wrong size";
    return Image();
  }
  std::memcpy(image.data(), bytes.data() + data_offset, image.size() * sizeof(float));
  return image;
}

Image Constant(int w, int h, float value) {
  Image image(w, h, 1);
  for (std::size_t i = 0; i < image.size(); ++i) image.data()[i] = value;
  return image;
}

Image Offset(const Image& image, float offset) {
  Image out = image.Copy();
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] += offset;
  return out;
}

// ------------------------------------------------------------------------------------- PSNR

TEST(MetricsPsnr, ConstantOffsetGivesKnownValue) {
  const Image a = RandomImage(40, 30, 3, 1, 0.f, 0.8f);
  // MSE = 0.01 up to the float rounding of the offset pixels: 10 log10(1 / 0.01) = 20 dB.
  EXPECT_NEAR(Psnr(a, Offset(a, 0.1f)), 20.0, 1e-4);
  EXPECT_NEAR(Psnr(Constant(12, 12, 0.f), Constant(12, 12, 0.1f)), 20.0, 1e-5);
  // A peak of 255 on 255-scaled data gives the same number.
  EXPECT_NEAR(Psnr(Constant(12, 12, 0.f), Constant(12, 12, 25.5f), 255.0), 20.0, 1e-5);
}

TEST(MetricsPsnr, IdenticalImagesGiveInfinity) {
  const Image a = SyntheticScene(20, 16, 3);
  EXPECT_EQ(Psnr(a, a), std::numeric_limits<double>::infinity());
}

TEST(MetricsPsnr, RejectsBadInput) {
  EXPECT_THROW(Psnr(Image(4, 4, 1), Image(4, 5, 1)), Error);
  EXPECT_THROW(Psnr(Image(4, 4, 1), Image(4, 4, 3)), Error);
  EXPECT_THROW(Psnr(Image(4, 4, 1), Image(4, 4, 1), 0.0), Error);
}

// ------------------------------------------------------------------------------------- SSIM

TEST(MetricsSsim, MatchesPlainReference) {
  const Image a = SyntheticScene(37, 29, 3);
  const Image noisy = RandomImage(37, 29, 3, 2, -0.1f, 0.1f);
  Image b = a.Copy();
  for (std::size_t i = 0; i < b.size(); ++i) b.data()[i] += noisy.data()[i];
  EXPECT_NEAR(Ssim(a, b), PlainSsim(a, b, 1.0), 1e-9);
  const Image r1 = RandomImage(50, 83, 1, 3), r2 = RandomImage(50, 83, 1, 4);
  EXPECT_NEAR(Ssim(r1, r2), PlainSsim(r1, r2, 1.0), 1e-9);
  EXPECT_NEAR(Ssim(r1, r2, 255.0), PlainSsim(r1, r2, 255.0), 1e-9);
  // Exactly one window, and more rows than one parallel strip.
  const Image s1 = RandomImage(11, 11, 1, 5), s2 = RandomImage(11, 11, 1, 6);
  EXPECT_NEAR(Ssim(s1, s2), PlainSsim(s1, s2, 1.0), 1e-9);
  const Image t1 = RandomImage(12, 90, 1, 7), t2 = RandomImage(12, 90, 1, 8);
  EXPECT_NEAR(Ssim(t1, t2), PlainSsim(t1, t2, 1.0), 1e-9);
}

TEST(MetricsSsim, IdenticalIsOneAndSymmetric) {
  const Image a = SyntheticScene(48, 40, 3);
  EXPECT_NEAR(Ssim(a, a), 1.0, 1e-12);
  EXPECT_NEAR(Ssim(Constant(15, 13, 0.3f), Constant(15, 13, 0.3f)), 1.0, 1e-12);
  const Image b = RandomImage(48, 40, 3, 9);
  EXPECT_NEAR(Ssim(a, b), Ssim(b, a), 1e-14);  // equal up to the order of additions
  EXPECT_LT(Ssim(a, b), 0.5);
}

TEST(MetricsSsim, ResultsDoNotDependOnThreadCount) {
  const Image a = SyntheticScene(70, 100, 3), b = RandomImage(70, 100, 3, 10);
  const int threads = NumThreads();
  SetNumThreads(1);
  const double one = Ssim(a, b);
  SetNumThreads(4);
  const double four = Ssim(a, b);
  SetNumThreads(threads);
  EXPECT_EQ(one, four);
}

TEST(MetricsSsim, RejectsBadInput) {
  EXPECT_THROW(Ssim(Image(10, 20, 1), Image(10, 20, 1)), Error);
  EXPECT_THROW(Ssim(Image(20, 10, 1), Image(20, 10, 1)), Error);
  EXPECT_THROW(Ssim(Image(20, 20, 1), Image(20, 21, 1)), Error);
  EXPECT_THROW(Ssim(Image(20, 20, 1), Image(20, 20, 3)), Error);
  EXPECT_THROW(Ssim(Image(20, 20, 1), Image(20, 20, 1), -1.0), Error);
  EXPECT_NO_THROW(Ssim(Image(11, 11, 1), Image(11, 11, 1)));
}

TEST(MetricsSsimGradient, ValueEqualsSsimAndGradientMatchesFiniteDifferences) {
  // Gray and color, a size with several valid rows and columns, and a noisy pair (SSIM ~ 0.6).
  for (int channels : {1, 3}) {
    const Image a0 = SyntheticScene(23, 19, channels);
    const Image noise = RandomImage(23, 19, channels, 11, -0.1f, 0.1f);
    Image a = a0.Copy();
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] += noise.data()[i];
    Image grad;
    const double value = SsimGradient(a, a0, &grad);
    EXPECT_NEAR(value, Ssim(a, a0), 1e-12);
    ASSERT_EQ(grad.size(), a.size());
    std::mt19937 rng(5);
    double largest = 0;
    for (int trial = 0; trial < 40; ++trial) {
      const std::size_t i = std::uniform_int_distribution<std::size_t>(0, a.size() - 1)(rng);
      const float h = 1e-3f;
      Image ap = a.Copy(), am = a.Copy();
      ap.data()[i] += h;
      am.data()[i] -= h;
      // The step actually taken in float.
      const double step = double(ap.data()[i]) - double(am.data()[i]);
      const double numeric = (Ssim(ap, a0) - Ssim(am, a0)) / step;
      EXPECT_NEAR(grad.data()[i], numeric, 1e-4 * std::max(1e-2, std::abs(numeric)) + 1e-7)
          << "pixel " << i << " channels " << channels;
      largest = std::max(largest, std::abs(numeric));
    }
    EXPECT_GT(largest, 1e-4);  // the probes saw real slopes, not only zeros
  }
}

TEST(MetricsSsimGradient, VanishesAtTheMaximum) {
  // SSIM(a, b) <= 1 with equality at a = b, so the gradient there is zero.
  const Image a = SyntheticScene(30, 26, 1);
  Image grad;
  EXPECT_NEAR(SsimGradient(a, a, &grad), 1.0, 1e-12);
  for (std::size_t i = 0; i < grad.size(); ++i) EXPECT_LT(std::abs(grad.data()[i]), 1e-9);
  EXPECT_THROW(SsimGradient(Image(10, 20, 1), Image(10, 20, 1), &grad), Error);
}

// Values from scikit-image 0.19 (tests/python/make_ssim_reference.py), which with
// gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1 implements §8.
TEST(MetricsSkimage, MatchesReferenceData) {
  std::ifstream in(SourcePath("tests/data/ssim_reference.json"));
  ASSERT_TRUE(in) << "missing tests/data/ssim_reference.json";
  const nlohmann::json reference = nlohmann::json::parse(in);
  const auto& pairs = reference.at("pairs");
  ASSERT_GE(pairs.size(), 6u);
  double max_ssim_error = 0.0, max_psnr_error = 0.0;
  for (const auto& pair : pairs) {
    const std::string name = pair.at("name");
    const Image a = ReadNpyFloat32(SourcePath("tests/data/" + pair.at("a").get<std::string>()));
    const Image b = ReadNpyFloat32(SourcePath("tests/data/" + pair.at("b").get<std::string>()));
    ASSERT_FALSE(a.empty() || b.empty()) << name;
    ASSERT_EQ(a.width(), pair.at("width").get<int>()) << name;
    ASSERT_EQ(a.height(), pair.at("height").get<int>()) << name;
    const double ssim = Ssim(a, b), psnr = Psnr(a, b);
    EXPECT_NEAR(ssim, pair.at("ssim").get<double>(), 1e-4) << name;
    EXPECT_NEAR(psnr, pair.at("psnr").get<double>(), 1e-3) << name;
    max_ssim_error = std::max(max_ssim_error, std::abs(ssim - pair.at("ssim").get<double>()));
    max_psnr_error = std::max(max_psnr_error, std::abs(psnr - pair.at("psnr").get<double>()));
  }
  RecordProperty("max_ssim_error", std::to_string(max_ssim_error));
  RecordProperty("max_psnr_error", std::to_string(max_psnr_error));
  std::printf("max |SSIM - skimage| = %.3g, max |PSNR - skimage| = %.3g dB\n", max_ssim_error,
              max_psnr_error);
}

}  // namespace
}  // namespace blade
