// TIFF reading (8/16-bit integer, 32-bit float; strips or tiles) and writing with libtiff.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "blade/error.h"
#include "io/codecs.h"

namespace blade::io_internal {
namespace {

// libtiff prints errors and warnings to stderr by default. Errors are captured per thread for
// the exception message (the first one: later errors are usually consequences of it).
thread_local std::string tiff_error;

// Color channels plus extra samples; real files have at most a few extra (alpha) samples.
constexpr int kMaxSamples = 16;

void OnTiffError(const char* /*module*/, const char* format, va_list args) {
  if (!tiff_error.empty()) return;
  char buffer[512];
  std::vsnprintf(buffer, sizeof(buffer), format, args);
  tiff_error = buffer;
}

// Warnings (unknown tags, deprecated encodings) do not affect the pixels we read.
void OnTiffWarning(const char*, const char*, va_list) {}

// The handlers are process-wide in libtiff; install them once, before the first use.
void PrepareLibtiff() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(OnTiffError);
    TIFFSetWarningHandler(OnTiffWarning);
  });
  tiff_error.clear();
}

// The captured error, or `fallback` if libtiff reported none. libtiff often starts its messages
// with the file name, which our messages already carry (as the name the user gave).
std::string TiffMessage(const std::string& file_name, const char* fallback) {
  if (tiff_error.empty()) return fallback;
  // libtiff's "Read error at scanline 4294967295; got 8064 bytes, expected 8192" (the row an
  // unsigned -1) says that a strip or tile ends before its data does.
  if (tiff_error.find("; got ") != std::string::npos &&
      tiff_error.find(" bytes, expected ") != std::string::npos)
    return "file is truncated (a strip or tile ends early)";
  if (tiff_error.find("Can not read TIFF directory") != std::string::npos)
    return "file is truncated or damaged (its TIFF directory cannot be read)";
  std::string prefix = file_name + ": ";
  if (tiff_error.rfind(prefix, 0) == 0) return tiff_error.substr(prefix.size());
  return tiff_error;
}

struct TiffCloser {
  void operator()(TIFF* tif) const { TIFFClose(tif); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// How stored samples become floats.
struct SampleLayout {
  int bits = 8;           // 8, 16, 32 or 64 (float)
  bool is_float = false;  // IEEE float: 32-bit kept exactly, 64-bit rounded to float32
  bool invert = false;    // MINISWHITE: 0 is white
  const std::uint16_t* colormap[3] = {nullptr, nullptr, nullptr};  // PALETTE: index -> RGB
  // How a colormap entry becomes a value: an 8-bit color written as v x 256 (PIL) or v x 257 is
  // its high byte / 255, as libtiff's TIFFRGBAImage and PIL read it; old files whose entries
  // are all below 256 hold v itself; any other (a genuine 16-bit colormap) is / 65535.
  enum class Colormap { kHighByte, kEightBit, kSixteenBit } colormap_kind = Colormap::kHighByte;
  float Palette(int c, unsigned index) const {
    const std::uint16_t v = colormap[c][index];
    switch (colormap_kind) {
      case Colormap::kHighByte:
        return float(v >> 8) / 255.f;
      case Colormap::kEightBit:
        return float(v) / 255.f;
      case Colormap::kSixteenBit:
        break;
    }
    return float(v) / 65535.f;
  }
};

// Converts `count` samples of channel `c`, `step` samples apart, to floats.
void ConvertSamples(const unsigned char* src, std::ptrdiff_t step, int count, int c,
                    const SampleLayout& layout, float* dst) {
  for (int i = 0; i < count; ++i) {
    const unsigned char* p = src + i * step * (layout.bits / 8);
    float v;
    if (layout.bits == 8) {
      unsigned index = *p;
      v = layout.colormap[0] != nullptr ? layout.Palette(c, index) : index / 255.f;
    } else if (layout.bits == 16) {
      std::uint16_t s;  // libtiff has already swapped to native byte order
      std::memcpy(&s, p, sizeof(s));
      v = layout.colormap[0] != nullptr ? layout.Palette(c, s) : s / 65535.f;
    } else if (layout.bits == 64) {
      double d;  // as NumPy's float64 .npy files are read
      std::memcpy(&d, p, sizeof(d));
      v = float(d);
    } else {
      std::memcpy(&v, p, sizeof(v));
    }
    dst[i] = layout.invert ? 1.f - v : v;
  }
}

}  // namespace

Image ReadTiff(const std::string& path, ImageSource* source, const RowProgress& on_rows) {
  PrepareLibtiff();
  // "m": read() instead of mmap, so a file truncated while being read fails cleanly instead of
  // raising SIGBUS.
  TiffPtr tif(TIFFOpen(path.c_str(), "rm"));
  if (tif == nullptr)
    Fail("cannot read '", path, "': ", TiffMessage(path, "not a valid TIFF file"));
  TIFF* t = tif.get();

  std::uint32_t width = 0, height = 0;
  if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &width) ||
      !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &height))
    Fail("cannot read '", path, "': TIFF image size is missing");
  std::uint16_t samples = 1, bits = 1, format = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG;
  std::uint16_t photometric = 0, compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &compression);
  if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;

  SampleLayout layout;
  layout.bits = bits;
  layout.is_float = format == SAMPLEFORMAT_IEEEFP;
  bool integer = format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID;
  if (!((integer && (bits == 8 || bits == 16)) ||
        (layout.is_float && (bits == 32 || bits == 64)))) {
    const char* kind = layout.is_float ? "float" : integer ? "unsigned" : "signed";
    Fail("cannot read '", path, "': unsupported TIFF sample format (", bits, "-bit ", kind,
         "); expected 8/16-bit unsigned or 32/64-bit float");
  }
  // Row buffers scale with the sample count, which the header could otherwise set to 65535.
  if (samples > kMaxSamples)
    Fail("cannot read '", path, "': TIFF has ", samples, " samples per pixel (at most ",
         kMaxSamples, " supported)");

  int channels = 0;
  switch (photometric) {
    case PHOTOMETRIC_MINISWHITE:
      if (layout.is_float) Fail("cannot read '", path, "': float MINISWHITE TIFF is not supported");
      layout.invert = true;
      [[fallthrough]];
    case PHOTOMETRIC_MINISBLACK:
      channels = 1;
      break;
    case PHOTOMETRIC_RGB:
      channels = 3;
      break;
    case PHOTOMETRIC_YCBCR:
      // Only JPEG-compressed YCbCr, which libjpeg converts to RGB; raw subsampled YCbCr is rare.
      if (compression != COMPRESSION_JPEG)
        Fail("cannot read '", path, "': uncompressed YCbCr TIFF is not supported");
      if (!TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
        Fail("cannot read '", path, "': ", TiffMessage(path, "cannot convert YCbCr to RGB"));
      channels = 3;
      break;
    case PHOTOMETRIC_PALETTE:
      if (layout.is_float || samples != 1 ||
          !TIFFGetField(t, TIFFTAG_COLORMAP, &layout.colormap[0], &layout.colormap[1],
                        &layout.colormap[2]))
        Fail("cannot read '", path, "': invalid palette TIFF");
      {
        bool below_256 = true, eight_bit_scaled = true;
        for (const std::uint16_t* channel : layout.colormap)
          for (std::size_t i = 0; i < (std::size_t(1) << layout.bits); ++i) {
            below_256 = below_256 && channel[i] < 256;
            eight_bit_scaled = eight_bit_scaled && (channel[i] % 256 == 0 || channel[i] % 257 == 0);
          }
        layout.colormap_kind = below_256          ? SampleLayout::Colormap::kEightBit
                               : eight_bit_scaled ? SampleLayout::Colormap::kHighByte
                                                  : SampleLayout::Colormap::kSixteenBit;
      }
      channels = 3;
      break;
    default:
      Fail("cannot read '", path, "': unsupported TIFF photometric interpretation ", photometric,
           " (expected gray, RGB or palette)");
  }
  // Extra samples (alpha) beyond the color channels are dropped.
  source->format = FileFormat::kTiff;
  source->bit_depth = layout.is_float ? 32 : bits;
  source->alpha_dropped = photometric != PHOTOMETRIC_PALETTE && samples > channels;
  source->pages = int(TIFFNumberOfDirectories(t));  // walks the chain; the current page stays
  if (photometric != PHOTOMETRIC_PALETTE && samples < channels)
    Fail("cannot read '", path, "': TIFF has ", samples, " samples per pixel, expected at least ",
         channels);
  CheckHeaderSize(path, width, height, channels);

  const bool separate = planar == PLANARCONFIG_SEPARATE && samples > 1;
  // Samples per pixel within one decoded buffer; palette indices expand to 3 channels later.
  const int stride = separate ? 1 : samples;
  const int planes = separate ? channels : 1;
  auto source_channel = [&](int c) { return separate || layout.colormap[0] != nullptr ? 0 : c; };
  const std::size_t bytes = bits / 8;
  Image image = NewImageForFile(path, width, height, channels);

  if (!TIFFIsTiled(t)) {
    tmsize_t line_size = TIFFScanlineSize(t);
    if (line_size < tmsize_t(std::size_t(width) * stride * bytes))
      Fail("cannot read '", path, "': ", TiffMessage(path, "invalid TIFF scanline size"));
    std::vector<unsigned char> line(line_size);
    for (int p = 0; p < planes; ++p)
      for (std::uint32_t y = 0; y < height; ++y) {
        if (TIFFReadScanline(t, line.data(), y, static_cast<std::uint16_t>(p)) < 0)
          Fail("cannot read '", path, "': ", TiffMessage(path, "read error"));
        for (int c = separate ? p : 0; c < (separate ? p + 1 : channels); ++c)
          ConvertSamples(line.data() + source_channel(c) * bytes, stride, width, c, layout,
                         image.row(c, y));
        if (on_rows) on_rows(long(p) * height + y + 1, long(planes) * height);
      }
  } else {
    std::uint32_t tile_width = 0, tile_height = 0;
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &tile_width);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &tile_height);
    // Tile sizes come from the header too. Tiles may overhang the image (a 10x10 image in one
    // 256x256 tile), but not by enough to make the tile buffer dwarf the image itself.
    const std::int64_t tile_pixels = std::int64_t(tile_width) * tile_height;
    if (tile_width == 0 || tile_height == 0 || tile_pixels > MaxPixels() ||
        tile_pixels > std::max<std::int64_t>(4 * std::int64_t(width) * height, 1 << 22))
      Fail("cannot read '", path, "': invalid TIFF tile size ", tile_width, "x", tile_height);
    tmsize_t tile_size = TIFFTileSize(t);
    if (tile_size < tmsize_t(std::size_t(tile_width) * tile_height * stride * bytes))
      Fail("cannot read '", path, "': ", TiffMessage(path, "invalid TIFF tile size"));
    std::vector<unsigned char> tile(tile_size);
    for (int p = 0; p < planes; ++p)
      for (std::uint32_t ty = 0; ty < height; ty += tile_height)
        for (std::uint32_t tx = 0; tx < width; tx += tile_width) {
          if (TIFFReadTile(t, tile.data(), tx, ty, 0, static_cast<std::uint16_t>(p)) < 0)
            Fail("cannot read '", path, "': ", TiffMessage(path, "read error"));
          const int w = std::min(tile_width, width - tx), h = std::min(tile_height, height - ty);
          for (int c = separate ? p : 0; c < (separate ? p + 1 : channels); ++c)
            for (int r = 0; r < h; ++r)
              ConvertSamples(
                  tile.data() + (std::size_t(r) * tile_width * stride + source_channel(c)) * bytes,
                  stride, w, c, layout, image.row(c, ty + r) + tx);
          if (on_rows && tx + tile_width >= width)
            on_rows(long(p) * height + std::min(ty + tile_height, height), long(planes) * height);
        }
  }
  return image;
}

void WriteTiff(const Image& image, const std::string& tmp_path, const std::string& path,
               int bit_depth, const RowProgress& on_rows) {
  PrepareLibtiff();
  const int width = image.width(), height = image.height(), channels = image.channels();
  TiffPtr tif(TIFFOpen(tmp_path.c_str(), "w"));
  if (tif == nullptr)
    Fail("cannot write '", path, "': ", TiffMessage(tmp_path, "cannot create the file"));
  TIFF* t = tif.get();
  const bool is_float = bit_depth == 32;
  bool ok =
      TIFFSetField(t, TIFFTAG_IMAGEWIDTH, std::uint32_t(width)) &&
      TIFFSetField(t, TIFFTAG_IMAGELENGTH, std::uint32_t(height)) &&
      TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t(channels)) &&
      TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, std::uint16_t(bit_depth)) &&
      TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, is_float ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT) &&
      TIFFSetField(t, TIFFTAG_PHOTOMETRIC,
                   channels == 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK) &&
      TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
      TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
      // Differencing neighbours makes smooth integer images compress well (lossless). Floats
      // take none: the floating-point predictor (3) is unreadable by tifffile without
      // imagecodecs, which Debian does not ship, and a float TIFF is for exchange.
      TIFFSetField(t, TIFFTAG_PREDICTOR, is_float ? PREDICTOR_NONE : PREDICTOR_HORIZONTAL) &&
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0));
  if (!ok) Fail("cannot write '", path, "': ", TiffMessage(tmp_path, "cannot set TIFF fields"));

  const std::size_t bytes = bit_depth / 8;
  std::vector<unsigned char> line(std::size_t(width) * channels * bytes);
  for (int y = 0; y < height; ++y) {
    // Refilled every row: TIFFWriteScanline may modify the buffer (predictor, byte order).
    for (int c = 0; c < channels; ++c) {
      const float* src = image.row(c, y);
      for (int x = 0; x < width; ++x) {
        unsigned char* dst = line.data() + (std::size_t(x) * channels + c) * bytes;
        if (bit_depth == 8) {
          *dst = QuantizeTo8(src[x]);
        } else if (bit_depth == 16) {
          std::uint16_t v = QuantizeTo16(src[x]);
          std::memcpy(dst, &v, sizeof(v));
        } else {
          std::memcpy(dst, &src[x], sizeof(float));
        }
      }
    }
    if (TIFFWriteScanline(t, line.data(), std::uint32_t(y), 0) < 0)
      Fail("cannot write '", path, "': ", TiffMessage(tmp_path, "write error"));
    if (on_rows) on_rows(y + 1, height);
  }
  // TIFFClose cannot report failure; flushing first surfaces errors writing the last strip or
  // the directory.
  if (!TIFFFlush(t)) Fail("cannot write '", path, "': ", TiffMessage(tmp_path, "write error"));
}

}  // namespace blade::io_internal
