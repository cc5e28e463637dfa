// Renders filter banks, selection features and captioned side-by-side panels as RGB images.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "blade/error.h"
#include "blade/viz.h"

namespace blade {
namespace {

constexpr float kBlack[3] = {0.f, 0.f, 0.f};
constexpr float kGray[3] = {0.35f, 0.35f, 0.35f};

void FillRect(Image& im, int x0, int y0, int w, int h, const float rgb[3]) {
  for (int y = std::max(0, y0); y < std::min(im.height(), y0 + h); ++y)
    for (int x = std::max(0, x0); x < std::min(im.width(), x0 + w); ++x)
      for (int c = 0; c < im.channels(); ++c) im.at(c, x, y) = rgb[c];
}

Image WhiteRgb(int w, int h) {
  Image im(w, h, 3);
  std::fill(im.data(), im.data() + im.size(), 1.f);
  return im;
}

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// What each bank of a model computes, for the picture's headings.
std::string BankName(const Model& model, int b) {
  switch (model.form) {
    case ModelForm::kDirect:
      // With a scheme term, bank 1 filters the classical right-hand side F(u), not u.
      return model.scheme_term && b == 1 ? "scheme-term filters (on the classical F(u))"
                                         : "du/dt filters (on u)";
    case ModelForm::kFlux:
      return b == 0 ? "flux G^x (x faces)" : "flux G^y (y faces)";
    case ModelForm::kResample: {
      static const char* const kNames[] = {"BLADE^x", "BLADE^y"};
      return model.banks.size() == 2 ? kNames[b] : StrCat("displacement monomial ", b);
    }
    case ModelForm::kUpscale:
      return StrCat("stage ", b + 1, " of ", model.banks.size(),
                    ": residual filters at pixel phase (0, 0), one of ",
                    model.upscale.factor * model.upscale.factor, " phases");
    case ModelForm::kDenoise:
      return StrCat("noise sigma ", model.denoise.sigmas.at(b / model.denoise.stages), ", stage ",
                    b % model.denoise.stages + 1, " of ", model.denoise.stages,
                    ": residual filters");
  }
  return StrCat("bank ", b);
}

}  // namespace

void DivergingColor(float t, float rgb[3]) {
  t = std::clamp(std::isfinite(t) ? t : 0.5f, 0.f, 1.f);
  // Blue (0.13, 0.40, 0.67) -> white -> red (0.70, 0.09, 0.17), linear in each half.
  static const float kLow[3] = {0.13f, 0.40f, 0.67f}, kHigh[3] = {0.70f, 0.09f, 0.17f};
  const float* end = t < 0.5f ? kLow : kHigh;
  const float s = std::abs(t - 0.5f) * 2.f;  // 0 at white
  for (int c = 0; c < 3; ++c) rgb[c] = 1.f + s * (end[c] - 1.f);
}

void HueColor(float t, float rgb[3]) {
  t = std::clamp(std::isfinite(t) ? t : 0.f, 0.f, 1.f);
  const float h = t * 6.f;
  for (int c = 0; c < 3; ++c) {
    // Standard HSV with S = V = 1: channel c peaks at hue 0 (R), 2 (G), 4 (B) of 6.
    float d = std::fmod(h - 2.f * c + 6.f, 6.f);
    d = std::min(d, 6.f - d);  // distance on the hue circle
    rgb[c] = std::clamp(2.f - d, 0.f, 1.f);
  }
}

Image AbsoluteError(const Image& a, const Image& b, float gain) {
  RequireSameShape(a, b, "images compared for the error picture");
  Image out(a.width(), a.height(), 1);
  for (int c = 0; c < a.channels(); ++c)
    for (std::size_t i = 0; i < out.size(); ++i)
      out.data()[i] = std::max(out.data()[i], std::abs(a.plane(c)[i] - b.plane(c)[i]));
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = std::min(1.f, gain * out.data()[i]);
  return out;
}

Image LabelledMontage(const std::vector<Panel>& panels, int columns, int text_scale) {
  if (panels.empty()) Fail("a montage needs at least one panel");
  if (columns < 1) Fail("montage columns must be positive");
  const int gap = 8, line = TextHeight(text_scale) + 2;
  int cell_w = 0, cell_h = 0;
  std::size_t lines = 0;
  for (const Panel& p : panels) {
    if (!p.image || p.image->empty()) Fail("montage panel without an image");
    cell_w = std::max(cell_w, p.image->width());
    cell_h = std::max(cell_h, p.image->height());
    lines = std::max(lines, p.caption.size());
    for (const std::string& s : p.caption) cell_w = std::max(cell_w, TextWidth(s, text_scale));
  }
  const int n = int(panels.size()), cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  const int block_h = cell_h + 4 + int(lines) * line;
  Image out = WhiteRgb(gap + cols * (cell_w + gap), gap + rows * (block_h + gap));
  for (int i = 0; i < n; ++i) {
    const Image& im = *panels[i].image;
    const int x0 = gap + (i % cols) * (cell_w + gap), y0 = gap + (i / cols) * (block_h + gap);
    for (int c = 0; c < 3; ++c) {
      const int src = im.channels() == 1 ? 0 : c;
      for (int y = 0; y < im.height(); ++y)
        for (int x = 0; x < im.width(); ++x) {
          const float v = im.at(src, x, y);
          out.at(c, x0 + x, y0 + y) = std::isfinite(v) ? std::clamp(v, 0.f, 1.f) : 0.f;
        }
    }
    for (std::size_t k = 0; k < panels[i].caption.size(); ++k)
      DrawText(out, x0, y0 + im.height() + 4 + int(k) * line, panels[i].caption[k],
               k == 0 ? kBlack : kGray, text_scale);
  }
  return out;
}

Image RenderFilterBanks(const Model& model, const FilterPictureOptions& o) {
  model.Validate();
  if (o.zoom < 1 || o.zoom > 64) Fail("filter picture zoom must be 1..64 (got ", o.zoom, ")");
  if (!std::isfinite(o.range) || o.range < 0) Fail("filter picture range must be >= 0 and finite");
  double range = o.range;
  if (range == 0) {
    std::vector<float> mags;
    for (const Bank& b : model.banks) {
      const int size = b.filters.size, centre = (size / 2) * size + size / 2;
      for (int k = 0; k < b.filters.count; ++k)
        for (int t = 0; t < size * size; ++t)
          if (t != centre) mags.push_back(std::abs(b.filters.filter(k)[t]));
    }
    const std::size_t k = std::min(mags.size() - 1, std::size_t(0.995 * double(mags.size())));
    std::nth_element(mags.begin(), mags.begin() + k, mags.end());
    range = mags[k] > 0 ? mags[k] : 1.0;
  }
  // Layout: title, then per bank a heading, the orientation axis note and the grid with row
  // labels (s = strength bin, c = coherence bin, i = intensity bin), then the legend.
  const int line = TextHeight() + 4, margin = 10, gap = 2;
  const std::string label_proto = "s0 c0 i0 ";
  const int label_w = TextWidth(label_proto);
  int width = 0, height = margin + 2 * line + 4;
  std::vector<int> grid_w, grid_h;
  for (const Bank& b : model.banks) {
    const int cell = b.filters.size * o.zoom + gap;
    const SelectionConfig& s = b.selection;
    grid_w.push_back(s.orientations * cell);
    grid_h.push_back(s.strengths * s.coherences * s.intensities * cell);
    width = std::max(width, label_w + grid_w.back());
    height += 2 * line + grid_h.back() + line;
  }
  const int legend_w = 256, legend_h = 12;
  height += legend_h + 2 * line + margin;
  std::string title = o.title;
  if (title.empty()) {
    const Bank& b = model.banks[0];
    title = StrCat(
        model.form == ModelForm::kUpscale
            ? StrCat("x", model.upscale.factor, " ", model.upscale.degradation, " learned upscaler")
        : model.form == ModelForm::kDenoise
            ? StrCat(model.denoise.channels == 1 ? "gray" : "color", " learned denoiser")
        : model.pde.empty() ? std::string("resampling model")
                            : StrCat(model.pde, " ", FormName(model.form), " model"),
        ": ", b.selection.orientations, " orientations x ", b.selection.strengths, " strengths x ",
        b.selection.coherences, " coherences",
        b.selection.intensities > 1 ? StrCat(" x ", b.selection.intensities, " intensities") : "",
        ", ", b.filters.size, "x", b.filters.size, " taps");
    // A parametric model's banks here are those of its default point (blade/model.h).
    std::string point;
    for (const ParamAxis& a : model.axes) {
      const auto it = model.pde_params.find(a.name);
      const double v = a.name == "time"               ? model.dt * model.steps
                       : it != model.pde_params.end() ? it->second
                                                      : 0.0;
      point += StrCat(point.empty() ? "" : ", ", a.name, " ", Format("%g", v));
    }
    if (!point.empty()) title += StrCat("; parametric, at its default point (", point, ")");
  }
  const std::string axis_note =
      "rows: strength bin s, then coherence bin c; columns: orientation 0 -> 180 deg";
  const std::string legend_note =
      o.range > 0
          ? "tap value"
          : "tap value (scale set by the off-centre taps; larger values, e.g. centres, saturate)";
  // As wide as the widest text too: a small bank (5x5 taps at zoom 2) is narrower than its notes.
  width = std::max({width, TextWidth(title), TextWidth(axis_note), TextWidth(legend_note),
                    legend_w + TextWidth("  -0.0000e+00 ") * 2}) +
          2 * margin;
  Image out = WhiteRgb(width, height);
  int y = margin;
  DrawText(out, margin, y, title, kBlack);
  y += line;
  DrawText(out, margin, y, axis_note, kGray);
  y += line + 4;
  for (std::size_t bi = 0; bi < model.banks.size(); ++bi) {
    const Bank& b = model.banks[bi];
    const SelectionConfig& s = b.selection;
    const int size = b.filters.size, cell = size * o.zoom + gap;
    // A learned upscaler's filter for a selection index k and pixel phase 0 (blade/model.h).
    const int phases =
        model.form == ModelForm::kUpscale ? model.upscale.factor * model.upscale.factor : 1;
    DrawText(out, margin, y, BankName(model, int(bi)), kBlack);
    y += line;
    for (int ori = 0; ori < s.orientations; ori += std::max(1, s.orientations / 6))
      DrawText(out, margin + label_w + ori * cell, y, StrCat(ori * 180 / s.orientations), kGray);
    y += line;
    const int rows = s.strengths * s.coherences * s.intensities;
    for (int r = 0; r < rows; ++r) {
      const int str = r % s.strengths, coh = (r / s.strengths) % s.coherences,
                itn = r / (s.strengths * s.coherences);
      std::string label = StrCat("s", str, " c", coh);
      if (s.intensities > 1) label += StrCat(" i", itn);
      DrawText(out, margin, y + r * cell + (cell - TextHeight()) / 2, label, kGray);
      for (int ori = 0; ori < s.orientations; ++ori) {
        const int k = (ori + s.orientations * r) * phases;  // eq. 2.5 flattened index
        for (int ty = 0; ty < size; ++ty)
          for (int tx = 0; tx < size; ++tx) {
            float rgb[3];
            const float v = b.filters.filter(k)[ty * size + tx];
            DivergingColor(float(0.5 + 0.5 * v / range), rgb);
            FillRect(out, margin + label_w + ori * cell + tx * o.zoom, y + r * cell + ty * o.zoom,
                     o.zoom, o.zoom, rgb);
          }
      }
    }
    y += grid_h[bi] + line;
  }
  // Legend: the color bar from -range to +range.
  DrawText(out, margin, y, legend_note, kBlack);
  y += line;
  const std::string lo = Format("%.3g", -range), hi = Format("+%.3g", range);
  const int bar_x = margin + TextWidth(lo) + 6;
  DrawText(out, margin, y + 2, lo, kBlack);
  for (int x = 0; x < legend_w; ++x) {
    float rgb[3];
    DivergingColor((x + 0.5f) / legend_w, rgb);
    FillRect(out, bar_x + x, y, 1, legend_h, rgb);
  }
  DrawText(out, bar_x + legend_w + 6, y + 2, hi, kBlack);
  DrawText(out, bar_x + legend_w / 2 - 2, y + legend_h + 2, "0", kBlack);
  return out;
}

Image RenderFeatures(const Image& image, const SelectionConfig& config_in) {
  SelectionConfig config = config_in;
  const Image luma = config.joint_color ? image.Copy() : ToLuma(image);
  if (int(config.strength_thresholds.size()) != config.strengths - 1 ||
      int(config.coherence_thresholds.size()) != config.coherences - 1 ||
      int(config.intensity_thresholds.size()) != config.intensities - 1) {
    // No thresholds given: equal-population bins of this image's own features.
    config.strength_thresholds.clear();
    config.coherence_thresholds.clear();
    config.intensity_thresholds.clear();
    FitThresholds(config, {&luma});
  }
  config.Validate();
  const Features f = ComputeFeatures(luma, config.rho, config.joint_color);
  const int w = luma.width(), h = luma.height();
  Image ori(w, h, 3), str(w, h, 1), coh(w, h, 1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float rgb[3];
      const int ob = OrientationBin(f.orientation.at(0, x, y), config.orientations);
      HueColor(float(ob) / config.orientations, rgb);
      for (int c = 0; c < 3; ++c) ori.at(c, x, y) = rgb[c];
      const int sb = ThresholdBin(f.strength.at(0, x, y), config.strength_thresholds);
      const int cb = ThresholdBin(f.coherence.at(0, x, y), config.coherence_thresholds);
      str.at(0, x, y) = config.strengths > 1 ? float(sb) / (config.strengths - 1) : 0.f;
      coh.at(0, x, y) = config.coherences > 1 ? float(cb) / (config.coherences - 1) : 0.f;
    }
  const std::string rho = Format("%g", config.rho);
  return LabelledMontage(
      {{&luma, {"input (luma)", "rho " + rho}},
       {&ori, {StrCat("orientation, ", config.orientations, " bins"), "hue: 0 -> 180 deg"}},
       {&str, {StrCat("strength, ", config.strengths, " bins"), "black low, white high"}},
       {&coh, {StrCat("coherence, ", config.coherences, " bins"), "black low, white high"}}},
      4, std::max(1, w / 384));
}

std::string ScoreCaption(double psnr, double ssim) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "PSNR %.2f dB, SSIM %.4f", psnr, ssim);
  return buf;
}

}  // namespace blade
