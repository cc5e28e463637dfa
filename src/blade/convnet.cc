// The learned upscalers' convolutional refiner: 3x3 layers as one matrix product each (the
// windows gathered as one shifted copy of the input per tap and channel), computed in bands of
// rows with exact halos.
#include "blade/convnet.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "blade/error.h"
#include "blade/parallel.h"

namespace blade {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

long ConvNet::parameters() const {
  long n = 0;
  for (const ConvLayer& l : layers) n += long(l.weights.size() + l.bias.size());
  return n;
}

void ConvNet::Validate() const {
  if (layers.size() > std::size_t(kMaxLayers))
    Fail("a refiner has at most ", kMaxLayers, " layers (got ", layers.size(), ")");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const ConvLayer& l = layers[i];
    if (l.in < 1 || l.in > 256 || l.out < 1 || l.out > 256)
      Fail("refiner layer ", i, " has ", l.in, " -> ", l.out, " channels (each must be 1..256)");
    if (i > 0 && l.in != layers[i - 1].out)
      Fail("refiner layer ", i, " takes ", l.in, " channels but layer ", i - 1, " gives ",
           layers[i - 1].out);
    if (l.weights.size() != std::size_t(l.in) * l.out * 9 || l.bias.size() != std::size_t(l.out))
      Fail("refiner layer ", i, " needs ", l.in * l.out * 9, " weights and ", l.out,
           " biases, has ", l.weights.size(), " and ", l.bias.size());
    for (float v : l.weights)
      if (!std::isfinite(v)) Fail("refiner layer ", i, " has a weight that is not finite");
    for (float v : l.bias)
      if (!std::isfinite(v)) Fail("refiner layer ", i, " has a bias that is not finite");
  }
}

void ValidateRefiner(const ConvNet& net, int factor) {
  net.Validate();
  const int phases = factor * factor;
  if (net.empty() || net.inputs() != 1 + phases || net.outputs() != phases)
    Fail("an x", factor, " upscaler's refiner takes ", 1 + phases, " planes and gives ", phases,
         " (has ", net.inputs(), " and ", net.outputs(), ")");
}

void GatherWindows(const Planes& in, int in_y0, int full_height, int out_y0, int rows,
                   std::vector<float>& cols) {
  const int w = in.width, cin = in.channels;
  const std::size_t n = std::size_t(rows) * w;
  cols.resize(9 * cin * n);
  for (int y = 0; y < rows; ++y) {
    int src[3];
    for (int dy = -1; dy <= 1; ++dy) {
      src[dy + 1] = std::clamp(out_y0 + y + dy, 0, full_height - 1) - in_y0;
      if (src[dy + 1] < 0 || src[dy + 1] >= in.height)
        Fail("refiner layer: row ", out_y0 + y + dy, " is outside the band it was given");
    }
    // Each tap's samples of a row are the input row shifted by dx: one contiguous copy, the end
    // sample replicated.
    for (int c = 0; c < cin; ++c)
      for (int k = 0; k < 9; ++k) {
        const float* r = in.plane(c) + std::size_t(src[k / 3]) * w;
        float* out = cols.data() + (9 * std::size_t(c) + k) * n + std::size_t(y) * w;
        const int dx = k % 3 - 1;
        if (dx < 0) {
          out[0] = r[0];
          std::copy_n(r, w - 1, out + 1);
        } else if (dx > 0) {
          std::copy_n(r + 1, w - 1, out);
          out[w - 1] = r[w - 1];
        } else {
          std::copy_n(r, w, out);
        }
      }
  }
}

void ScatterWindows(const float* windows, Planes& dx) {
  const int w = dx.width, h = dx.height, cin = dx.channels;
  const std::size_t n = std::size_t(w) * h;
  for (int c = 0; c < cin; ++c)
    for (int k = 0; k < 9; ++k) {
      const float* tap = windows + (9 * std::size_t(c) + k) * n;
      const int sx = k % 3 - 1;
      for (int y = 0; y < h; ++y) {
        const float* s = tap + std::size_t(y) * w;
        float* d = dx.plane(c) + std::size_t(std::clamp(y + k / 3 - 1, 0, h - 1)) * w;
        // The adjoint of the shifted copy: sample x went to x + sx (clamped).
        if (sx < 0) {
          d[0] += s[0];
          for (int x = 1; x < w; ++x) d[x - 1] += s[x];
        } else if (sx > 0) {
          for (int x = 0; x + 1 < w; ++x) d[x + 1] += s[x];
          d[w - 1] += s[w - 1];
        } else {
          for (int x = 0; x < w; ++x) d[x] += s[x];
        }
      }
    }
}

void ConvLayerRows(const ConvLayer& layer, const Planes& in, int in_y0, int full_height, int out_y0,
                   bool relu, Planes& out) {
  const int w = in.width, rows = out.height, cin = layer.in, cout = layer.out;
  if (in.channels != cin || out.channels != cout || out.width != w)
    Fail("refiner layer: ", in.channels, " planes in and ", out.channels, " out for a ", cin,
         " -> ", cout, " layer");
  // The windows of a few thousand pixels (at least one row) at a time: the gathered matrix
  // (9 cin floats a pixel) stays a few MB for images up to a few thousand pixels wide. The chunks
  // run in parallel when the bands do not (an image of one band; ParallelFor is serial inside a
  // parallel region).
  const int chunk_rows = std::max(1, 4096 / std::max(1, w));
  const std::size_t plane = std::size_t(rows) * w;
  const Eigen::Map<const RowMatrix> weights(layer.weights.data(), cout, 9 * cin);
  ParallelFor(0, (rows + chunk_rows - 1) / chunk_rows, [&](int chunk) {
    const int r0 = chunk * chunk_rows, r1 = std::min(rows, r0 + chunk_rows);
    const std::size_t n = std::size_t(r1 - r0) * w;
    std::vector<float> buffer;
    GatherWindows(in, in_y0, full_height, out_y0 + r0, r1 - r0, buffer);
    const Eigen::Map<const RowMatrix> cols(buffer.data(), 9 * cin, n);
    // Output channel o's rows r0..r1 lie at plane(o) + r0 w: a row-major map with the plane size
    // as its stride.
    Eigen::Map<RowMatrix, 0, Eigen::OuterStride<>> result(out.data.data() + std::size_t(r0) * w,
                                                          cout, n, Eigen::OuterStride<>(plane));
    result.noalias() = weights * cols;
  });
  for (int o = 0; o < cout; ++o) {
    float* p = out.plane(o);
    const float b = layer.bias[o];
    for (std::size_t i = 0; i < plane; ++i) p[i] = relu ? std::max(0.f, p[i] + b) : p[i] + b;
  }
}

Planes ConvNetForward(const ConvNet& net, const Planes& input) {
  net.Validate();
  if (net.empty()) Fail("the refiner has no layers");
  if (input.channels != net.inputs())
    Fail("the refiner takes ", net.inputs(), " planes, got ", input.channels);
  const int w = input.width, h = input.height, depth = int(net.layers.size());
  Planes output(net.outputs(), w, h);
  // Bands of `band` rows; a band's input carries `depth` halo rows each side, and each layer
  // computes one row fewer on each side that borders another band (the image's own top and
  // bottom rows are replicated, as in one pass over the whole image).
  const int band = std::max(8, int(65536 / std::max(1, w)));
  const int bands = (h + band - 1) / band;
  ParallelFor(0, bands, [&](int b) {
    const int y0 = b * band, y1 = std::min(h, y0 + band);
    int lo = std::max(0, y0 - depth), hi = std::min(h, y1 + depth);
    Planes cur(input.channels, w, hi - lo);
    for (int c = 0; c < input.channels; ++c)
      std::copy_n(input.plane(c) + std::size_t(lo) * w, std::size_t(hi - lo) * w, cur.plane(c));
    int cur_y0 = lo;
    for (int l = 0; l < depth; ++l) {
      const int a = lo == 0 ? 0 : lo + l + 1, z = hi == h ? h : hi - l - 1;
      Planes next(net.layers[l].out, w, z - a);
      ConvLayerRows(net.layers[l], cur, cur_y0, h, a, l + 1 < depth, next);
      cur = std::move(next);
      cur_y0 = a;
    }
    for (int c = 0; c < output.channels; ++c)
      std::copy_n(cur.plane(c) + std::size_t(y0 - cur_y0) * w, std::size_t(y1 - y0) * w,
                  output.plane(c) + std::size_t(y0) * w);
  });
  return output;
}

void SpaceToDepth(const Image& u, int factor, Planes& out, int first_plane) {
  const int w = u.width() / factor, h = u.height() / factor;
  if (u.channels() != 1 || w * factor != u.width() || h * factor != u.height() || out.width != w ||
      out.height != h || first_plane + factor * factor > out.channels)
    Fail("space-to-depth: a gray image a multiple of the factor in size is needed");
  for (int py = 0; py < factor; ++py)
    for (int px = 0; px < factor; ++px) {
      float* p = out.plane(first_plane + py * factor + px);
      for (int y = 0; y < h; ++y) {
        const float* r = u.row(0, y * factor + py);
        for (int x = 0; x < w; ++x) p[std::size_t(y) * w + x] = r[x * factor + px];
      }
    }
}

void AddDepthToSpace(const Planes& p, int factor, Image& u) {
  const int w = p.width, h = p.height;
  if (u.channels() != 1 || p.channels != factor * factor || u.width() != w * factor ||
      u.height() != h * factor)
    Fail("depth-to-space: ", p.channels, " planes of ", w, "x", h, " do not make a ", u.width(),
         "x", u.height(), " image at x", factor);
  for (int py = 0; py < factor; ++py)
    for (int px = 0; px < factor; ++px) {
      const float* s = p.plane(py * factor + px);
      for (int y = 0; y < h; ++y) {
        float* r = u.row(0, y * factor + py);
        for (int x = 0; x < w; ++x) r[x * factor + px] += s[std::size_t(y) * w + x];
      }
    }
}

}  // namespace blade
