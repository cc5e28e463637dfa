// A small convolutional network on the low-resolution grid: the learned upscalers' refiner,
// which corrects what their per-pixel linear filters cannot (docs/DESIGN.md §23).
#pragma once

#include <vector>

#include "blade/image.h"

namespace blade {

// One 3x3 convolution: `out` channels from `in`, weights [out][in][3][3] (row-major, the tap
// (dx, dy) at [dy + 1][dx + 1]), one bias per output channel. Borders replicate the layer's
// input (every layer pads its own input, as PyTorch's padding_mode='replicate').
struct ConvLayer {
  int in = 0, out = 0;
  std::vector<float> weights, bias;
};

// Layers applied in turn, each followed by max(0, x) except the last.
struct ConvNet {
  std::vector<ConvLayer> layers;
  bool empty() const { return layers.empty(); }
  int inputs() const { return layers.empty() ? 0 : layers.front().in; }
  int outputs() const { return layers.empty() ? 0 : layers.back().out; }
  long parameters() const;
  // Fails unless it has at most kMaxLayers layers, each with 1..256 channels in and out,
  // chaining to the next, holding in x out x 9 weights and out biases, all finite.
  void Validate() const;
  static constexpr int kMaxLayers = 16;
};

// Validate, and fails unless the net is an x`factor` upscaler's refiner: 1 + factor^2 planes in,
// factor^2 out (blade/model.h UpscaleSpec).
void ValidateRefiner(const ConvNet& net, int factor);

// Channel-major activations: `channels` planes of width x height (the Image class holds 1 or 3
// channels; a network's hidden layers hold more).
struct Planes {
  int channels = 0, width = 0, height = 0;
  std::vector<float> data;
  Planes() = default;
  Planes(int c, int w, int h) : channels(c), width(w), height(h), data(std::size_t(c) * w * h) {}
  float* plane(int c) { return data.data() + std::size_t(c) * width * height; }
  const float* plane(int c) const { return data.data() + std::size_t(c) * width * height; }
};

// The network applied to the whole of `input` (net.inputs() planes). Computed in bands of rows
// with halos, so memory stays a few bands' worth whatever the image size; the result is the
// same as one pass over the whole image (each layer's replicate border is the image's).
Planes ConvNetForward(const ConvNet& net, const Planes& input);

// The 3x3 windows of `in` (rows as for ConvLayerRows) for output rows [out_y0, out_y0 + rows):
// a row-major (9 in.channels) x (rows x width) matrix, row 9 c + 3 (dy + 1) + (dx + 1) holding
// that tap's sample for each pixel (so each row is a shifted copy of the input's rows).
void GatherWindows(const Planes& in, int in_y0, int full_height, int out_y0, int rows,
                   std::vector<float>& cols);
// The adjoint of GatherWindows over a whole image (in_y0 = 0, all rows): adds each window
// sample of `windows` (row-major (9 dx.channels) x (width x height)) to the pixel it was read
// from, with the same clamped borders. Training's backward pass (blade/train.h).
void ScatterWindows(const float* windows, Planes& dx);
// One layer on rows [out_y0, out_y0 + out.height) of an image `full_height` rows tall, reading
// `in`, which holds its rows [in_y0, in_y0 + in.height); the rows a 3x3 window needs (clamped
// to the image) must lie in it. relu: max(0, x) after the bias. The one convolution of the
// forward pass and of training (blade/train.h TrainUpscaleRefiner).
void ConvLayerRows(const ConvLayer& layer, const Planes& in, int in_y0, int full_height, int out_y0,
                   bool relu, Planes& out);

// Space-to-depth: F^2 planes of the (w / F) x (h / F) grid, plane (y mod F) F + (x mod F)
// holding the pixels of that phase (PyTorch's pixel_unshuffle order); DepthToSpace inverts it.
// u's size must be a multiple of F.
void SpaceToDepth(const Image& u, int factor, Planes& out, int first_plane);
void AddDepthToSpace(const Planes& p, int factor, Image& u);  // u += DepthToSpace(p)

}  // namespace blade
