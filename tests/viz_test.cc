// Pictures: font glyphs, color maps, filter-bank layout and colors, labelled montages, error maps.
#include "blade/viz.h"

#include <gtest/gtest.h>

#include <cmath>

#include "blade/error.h"
#include "test_util.h"

namespace blade {
namespace {

constexpr float kWhite[3] = {1, 1, 1};

bool IsColor(const Image& im, int x, int y, const float rgb[3]) {
  for (int c = 0; c < 3; ++c)
    if (std::abs(im.at(c, x, y) - rgb[c]) > 1e-6f) return false;
  return true;
}

// Bounding box (x0, y0) and pixel count of the pixels with exactly this color.
struct Found {
  int x0 = 1 << 30, y0 = 1 << 30, count = 0;
};
Found FindColor(const Image& im, const float rgb[3]) {
  Found f;
  for (int y = 0; y < im.height(); ++y)
    for (int x = 0; x < im.width(); ++x)
      if (IsColor(im, x, y, rgb)) {
        f.x0 = std::min(f.x0, x);
        f.y0 = std::min(f.y0, y);
        ++f.count;
      }
  return f;
}

TEST(Font, DrawsTheGlyphBitsAndMeasuresText) {
  EXPECT_EQ(TextWidth("abc", 2), 36);
  EXPECT_EQ(TextHeight(3), 24);
  Image im(12, 8, 1);
  const float one[3] = {1, 1, 1};
  DrawText(im, 0, 0, "I", one);  // rows 0x0E,0x04,...,0x0E: a bar on top and bottom, a stem
  EXPECT_EQ(im.at(0, 0, 0), 0.f);
  EXPECT_EQ(im.at(0, 1, 0), 1.f);
  EXPECT_EQ(im.at(0, 3, 0), 1.f);
  EXPECT_EQ(im.at(0, 4, 0), 0.f);
  EXPECT_EQ(im.at(0, 2, 3), 1.f);
  EXPECT_EQ(im.at(0, 1, 3), 0.f);
  double lit = 0;
  for (std::size_t i = 0; i < im.size(); ++i) lit += im.data()[i];
  EXPECT_EQ(lit, 3 + 5 + 3);  // 'I': 3 + 5 stem rows + 3 pixels
  // Clipped at the border instead of writing outside the image.
  DrawText(im, 10, 5, "WWW", one, 2);
}

TEST(ColorMaps, DivergingIsWhiteAtZeroAndSymmetricInLightness) {
  float mid[3], lo[3], hi[3];
  DivergingColor(0.5f, mid);
  for (float v : mid) EXPECT_FLOAT_EQ(v, 1.f);
  DivergingColor(0.f, lo);
  DivergingColor(1.f, hi);
  EXPECT_GT(lo[2], lo[0]);  // blue end
  EXPECT_GT(hi[0], hi[2]);  // red end
  float q1[3], q3[3];
  DivergingColor(0.25f, q1);
  DivergingColor(0.75f, q3);
  // Halfway to each end: each channel halfway from white to the end color.
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(q1[c], 0.5f * (1 + lo[c]), 1e-6);
    EXPECT_NEAR(q3[c], 0.5f * (1 + hi[c]), 1e-6);
  }
  float nan_color[3];
  DivergingColor(std::nanf(""), nan_color);
  for (float v : nan_color) EXPECT_FLOAT_EQ(v, 1.f);
}

TEST(ColorMaps, HueCircle) {
  float rgb[3];
  HueColor(0.f, rgb);
  EXPECT_FLOAT_EQ(rgb[0], 1.f);
  EXPECT_FLOAT_EQ(rgb[1], 0.f);
  HueColor(1.f / 3, rgb);  // green
  EXPECT_NEAR(rgb[1], 1.f, 1e-5);
  EXPECT_NEAR(rgb[0], 0.f, 1e-5);
  HueColor(2.f / 3, rgb);  // blue
  EXPECT_NEAR(rgb[2], 1.f, 1e-5);
  HueColor(1.f, rgb);  // back to red
  EXPECT_NEAR(rgb[0], 1.f, 1e-5);
  EXPECT_NEAR(rgb[2], 0.f, 1e-5);
}

// One tap at +range in filter k draws one zoom x zoom block of the red end color; moving to the
// next orientation moves it one cell right, the next strength bin one cell down.
TEST(FilterPicture, TapColorsAndGridLayout) {
  SelectionConfig s;
  s.orientations = 4;
  s.strengths = 2;
  s.coherences = 2;
  s.strength_thresholds = {0.1f};
  s.coherence_thresholds = {0.5f};
  const int size = 3, zoom = 5, cell = size * zoom + 2;
  float red[3], blue[3];
  DivergingColor(1.f, red);
  DivergingColor(0.f, blue);
  auto render = [&](int k, int tx, int ty) {
    Model m = MakeEmptyModel(ModelForm::kDirect, s, size);
    m.banks[0].filters.tap(k, tx, ty) = 2.f;
    m.banks[0].filters.tap((k + 5) % s.num_filters(), 0, 0) = -3.f;  // saturates blue
    FilterPictureOptions o;
    o.zoom = zoom;
    o.range = 2.0;
    return RenderFilterBanks(m, o);
  };
  const Image a = render(0, -1, -1), b = render(1, -1, -1), c = render(4, -1, -1),
              d = render(0, 1, 0);
  const Found fa = FindColor(a, red), fb = FindColor(b, red), fc = FindColor(c, red),
              fd = FindColor(d, red);
  EXPECT_EQ(fa.count, zoom * zoom);
  EXPECT_EQ(FindColor(a, blue).count, zoom * zoom);
  EXPECT_EQ(fb.x0 - fa.x0, cell);  // next orientation: one cell right
  EXPECT_EQ(fb.y0, fa.y0);
  EXPECT_EQ(fc.y0 - fa.y0, cell);  // k = 4: strength bin 1, one row down
  EXPECT_EQ(fc.x0, fa.x0);
  EXPECT_EQ(fd.x0 - fa.x0, 2 * zoom);  // tap (1, 0) vs (-1, -1): two taps right, one down
  EXPECT_EQ(fd.y0 - fa.y0, zoom);
  // Zero taps are white.
  EXPECT_TRUE(IsColor(a, fa.x0 + zoom, fa.y0, kWhite));
}

TEST(FilterPicture, FluxModelsDrawBothBanksAndBadOptionsFail) {
  SelectionConfig s;
  s.strength_thresholds = {0.1f, 0.2f};
  s.coherence_thresholds = {0.3f, 0.6f};
  Model m = MakeEmptyModel(ModelForm::kFlux, s, 3);
  m.banks[0].filters.tap(0, 1, 0) = 1.f;
  m.banks[1].filters.tap(0, 0, 1) = -1.f;
  m.pde = "tv";
  const Image im = RenderFilterBanks(m);
  float red[3], blue[3];
  DivergingColor(1.f, red);
  DivergingColor(0.f, blue);
  const Found r = FindColor(im, red), b = FindColor(im, blue);
  EXPECT_EQ(r.count, 36);  // default zoom 6
  EXPECT_EQ(b.count, 36);
  EXPECT_GT(b.y0, r.y0 + 9 * (3 * 6 + 2));  // the y bank is drawn under the x bank's 9 rows
  FilterPictureOptions bad;
  bad.zoom = 0;
  EXPECT_THROW(RenderFilterBanks(m, bad), Error);
  bad.zoom = 4;
  bad.range = std::nan("");
  EXPECT_THROW(RenderFilterBanks(m, bad), Error);
}

TEST(Montage, PanelsAreClampedAndPlacedWithCaptions) {
  Image a(10, 6, 1), b(4, 4, 3);
  std::fill(a.data(), a.data() + a.size(), 2.f);  // clamps to white
  a.at(0, 3, 2) = 0.25f;
  b.at(1, 0, 0) = -1.f;
  const Image m = LabelledMontage({{&a, {"first"}}, {&b, {"second", "line two"}}}, 2);
  EXPECT_EQ(m.channels(), 3);
  const int gap = 8;
  EXPECT_FLOAT_EQ(m.at(0, gap + 3, gap + 2), 0.25f);
  EXPECT_FLOAT_EQ(m.at(1, gap + 3, gap + 2), 0.25f);
  EXPECT_FLOAT_EQ(m.at(0, gap, gap), 1.f);  // 2 clamped to 1
  const int cell_w = TextWidth("line two");
  EXPECT_FLOAT_EQ(m.at(1, gap + cell_w + gap, gap), 0.f);  // -1 clamped to 0 in panel 2
  EXPECT_GE(m.height(), gap + 6 + 4 + 2 * (TextHeight() + 2));
  EXPECT_THROW(LabelledMontage({}, 2), Error);
}

TEST(ErrorMap, MaxOverChannelsScaledAndClamped) {
  Image a(3, 1, 3), b(3, 1, 3);
  a.at(0, 0, 0) = 0.01f;
  a.at(2, 1, 0) = 0.05f;
  b.at(1, 2, 0) = 0.5f;
  const Image e = AbsoluteError(a, b, 10.f);
  EXPECT_NEAR(e.at(0, 0, 0), 0.1f, 1e-6);
  EXPECT_NEAR(e.at(0, 1, 0), 0.5f, 1e-6);
  EXPECT_NEAR(e.at(0, 2, 0), 1.f, 1e-6);
  Image wrong(2, 1, 3);
  EXPECT_THROW(AbsoluteError(a, wrong), Error);
}

TEST(FeaturePicture, OrientationHueFollowsAnEdge) {
  // The dominant eigenvector is the gradient direction: 0 (hue red) across a vertical edge,
  // pi/2 (bin 12 of 24, hue cyan) across a horizontal one; flat areas count as bin 0.
  Image vertical(32, 32, 1), horizontal(32, 32, 1);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x) {
      vertical.at(0, x, y) = x >= 16 ? 1.f : 0.f;
      horizontal.at(0, x, y) = y >= 16 ? 1.f : 0.f;
    }
  SelectionConfig s;
  float cyan[3];
  HueColor(0.5f, cyan);
  const Image pv = RenderFeatures(vertical, s), ph = RenderFeatures(horizontal, s);
  EXPECT_EQ(pv.channels(), 3);
  EXPECT_EQ(FindColor(pv, cyan).count, 0);
  EXPECT_GE(FindColor(ph, cyan).count, 32);  // at least the two rows at the edge
}

}  // namespace
}  // namespace blade
