// Pictures of what a model learned and what a run did: text, color maps, filter banks, features,
// labelled panels.
#pragma once

#include <string>
#include <vector>

#include "blade/image.h"
#include "blade/model.h"
#include "blade/selection.h"

namespace blade {

// Built-in 5x7 pixel font (printable ASCII; other bytes draw as '?'). Each glyph cell is
// 6 x 8 font pixels (one column and one row of spacing), scaled by `scale`.
int TextWidth(const std::string& text, int scale = 1);
int TextHeight(int scale = 1);
// Draws `text` with its top-left corner at (x, y) in `rgb` (clipped to the image). `image` must
// have 1 or 3 channels; a gray image uses the rgb values' luma.
void DrawText(Image& image, int x, int y, const std::string& text, const float rgb[3],
              int scale = 1);

// Color maps on [0, 1] (values outside are clamped), written into rgb[3].
// Diverging blue-white-red: 0 blue, 0.5 white, 1 red (for signed quantities centred on 0).
void DivergingColor(float t, float rgb[3]);
// Hue circle at full saturation and value: 0 and 1 are red (for angles in [0, pi)).
void HueColor(float t, float rgb[3]);

// The filter banks of a model as a grid (paper Fig. 11-14): orientation along x, strength then
// coherence (then intensity) along y, every bank of a flux or resampling model one under the
// other, each tap a `zoom` x `zoom` block in a diverging color map that is symmetric about 0
// and spans +-range (range <= 0: the 99.5th percentile of the off-centre |tap| over all banks,
// so the large centre taps do not wash out the rest; they saturate), with a titled legend.
struct FilterPictureOptions {
  int zoom = 6;
  double range = 0;
  std::string title;  // default: a description of the model
};
Image RenderFilterBanks(const Model& model, const FilterPictureOptions& options = {});

// The quantized selection features of an image (paper Fig. 2): orientation bin as hue,
// strength bin and coherence bin as gray levels, side by side with titles.
Image RenderFeatures(const Image& image, const SelectionConfig& config);

// A labelled panel: the image (clamped to [0, 1]) with caption lines drawn under it.
struct Panel {
  const Image* image = nullptr;
  std::vector<std::string> caption;
};
// Panels left to right (wrapping after `columns`), white background, captions under each.
Image LabelledMontage(const std::vector<Panel>& panels, int columns, int text_scale = 1);

// "PSNR 31.20 dB, SSIM 0.9123", for captions.
std::string ScoreCaption(double psnr, double ssim);

// |a - b| (over all channels) scaled by `gain` for display, as a gray image clamped to [0, 1].
Image AbsoluteError(const Image& a, const Image& b, float gain = 10.f);

}  // namespace blade
