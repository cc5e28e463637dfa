// Image file I/O tests: per-format round trips, format detection, hostile inputs, atomic writes.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>
// jpeglib.h needs <cstdio> included before it.
// clang-format off
#include <jpeglib.h>
// clang-format on
#include <png.h>
#include <tiffio.h>

#include "blade/error.h"
#include "blade/io.h"
#include "test_util.h"

namespace blade {
namespace {

namespace fs = std::filesystem;
using testing::RandomImage;
using testing::SyntheticScene;
using testing::TempDir;

// ---- helpers ----------------------------------------------------------------------------------

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// The message of the blade::Error that fn throws, or "" (and a test failure) if it throws none.
template <typename Fn>
std::string ErrorOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a blade::Error";
  return "";
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void ExpectSameShape(const Image& a, const Image& b) {
  ASSERT_EQ(a.width(), b.width());
  ASSERT_EQ(a.height(), b.height());
  ASSERT_EQ(a.channels(), b.channels());
}

// Bitwise equality, so NaN payloads, infinities and -0 count.
void ExpectBitIdentical(const Image& a, const Image& b) {
  ExpectSameShape(a, b);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

double MeanAbsDifference(const Image& a, const Image& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += std::abs(double(a.data()[i]) - b.data()[i]);
  return sum / double(a.size());
}

// Values that stress exact float storage: out of [0, 1], non-finite, signed zero, subnormal.
Image SpecialFloats(int channels) {
  Image image = RandomImage(13, 7, channels, 99, -4.f, 5.f);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            -0.f,
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(),
                            -1e30f,
                            1.f + std::numeric_limits<float>::epsilon()};
  for (std::size_t i = 0; i < std::size(specials); ++i) image.data()[i * 5] = specials[i];
  return image;
}

void TruncateToHalf(const std::string& path) { fs::resize_file(path, fs::file_size(path) / 2); }

std::string Be32(std::uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

// Appends a PNG chunk with a correct CRC, so libpng gets past its integrity checks.
void AppendChunk(std::string* png, const char* type, const std::string& data) {
  std::string body = std::string(type, 4) + data;
  *png += Be32(std::uint32_t(data.size())) + body;
  *png +=
      Be32(std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

std::string PngHeader(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type) {
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr = Be32(width) + Be32(height);
  ihdr += {char(bit_depth), char(color_type), 0, 0, 0};
  AppendChunk(&png, "IHDR", ihdr);
  return png;
}

// A complete PNG from raw scanlines (each row: filter byte 0, then the packed samples).
std::string MakePng(std::uint32_t width, std::uint32_t height, int bit_depth, int color_type,
                    const std::string& scanlines, const std::string& palette = "") {
  std::string png = PngHeader(width, height, bit_depth, color_type);
  if (!palette.empty()) AppendChunk(&png, "PLTE", palette);
  uLongf size = compressBound(uLong(scanlines.size()));
  std::string z(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(z.data()), &size,
                     reinterpret_cast<const Bytef*>(scanlines.data()), uLong(scanlines.size())),
            Z_OK);
  z.resize(size);
  AppendChunk(&png, "IDAT", z);
  AppendChunk(&png, "IEND", "");
  return png;
}

std::string NpyFile(const std::string& dict, const std::string& data) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += {char(header.size() & 0xff), char(header.size() >> 8)};
  return out + header + data;
}

template <typename T>
std::string RawBytes(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// ---- format selection -------------------------------------------------------------------------

TEST(IoFormat, FromExtensionIsCaseInsensitive) {
  EXPECT_EQ(FormatFromExtension("a/b.png"), FileFormat::kPng);
  EXPECT_EQ(FormatFromExtension("B.PNG"), FileFormat::kPng);
  EXPECT_EQ(FormatFromExtension("x.jpg"), FileFormat::kJpeg);
  EXPECT_EQ(FormatFromExtension("x.JPEG"), FileFormat::kJpeg);
  EXPECT_EQ(FormatFromExtension("x.tif"), FileFormat::kTiff);
  EXPECT_EQ(FormatFromExtension("x.Tiff"), FileFormat::kTiff);
  EXPECT_EQ(FormatFromExtension("dir.d/x.npy"), FileFormat::kNpy);
}

TEST(IoFormat, UnknownExtensionFails) {
  std::string msg = ErrorOf([] { FormatFromExtension("x.bmp"); });
  EXPECT_TRUE(Contains(msg, "'x.bmp'")) << msg;
  EXPECT_TRUE(Contains(msg, ".bmp")) << msg;
  msg = ErrorOf([] { FormatFromExtension("noext"); });
  EXPECT_TRUE(Contains(msg, "'noext'")) << msg;
}

TEST(IoFormat, DetectsFormatByMagicNotName) {
  std::string dir = TempDir();
  Image png_image = RandomImage(9, 5, 3, 1);
  WriteImage(png_image, dir + "/a.png");
  fs::rename(dir + "/a.png", dir + "/a.tif");
  Image a = ReadImage(dir + "/a.tif");
  ExpectSameShape(a, png_image);
  EXPECT_LE(MaxAbsDifference(a, png_image), 0.5 / 255 + 1e-6);

  Image npy_image = SpecialFloats(1);
  WriteImage(npy_image, dir + "/b.npy");
  fs::rename(dir + "/b.npy", dir + "/b.jpg");
  ExpectBitIdentical(ReadImage(dir + "/b.jpg"), npy_image);

  Image tiff_image = SpecialFloats(3);
  WriteImage(tiff_image, dir + "/c.tiff");
  fs::rename(dir + "/c.tiff", dir + "/c.png");
  ExpectBitIdentical(ReadImage(dir + "/c.png"), tiff_image);

  Image jpeg_image = SyntheticScene(16, 16, 1);
  WriteImage(jpeg_image, dir + "/d.jpeg");
  fs::rename(dir + "/d.jpeg", dir + "/d.npy");
  ExpectSameShape(ReadImage(dir + "/d.npy"), jpeg_image);
}

// ---- PNG ----------------------------------------------------------------------------------------

// Reading and writing report rows done, never backwards, ending at the total (what the
// command line's progress bar for large files shows).
TEST(IoProgress, ReportsRowsUpToTheTotal) {
  const std::string dir = TempDir();
  const Image image = RandomImage(31, 17, 3, 5);
  for (const char* ext : {".png", ".jpg", ".tif"}) {
    const std::string path = dir + "/progress" + ext;
    std::vector<std::pair<long, long>> seen;
    auto record = [&](long done, long total) { seen.emplace_back(done, total); };
    WriteOptions o;
    o.on_rows = record;
    WriteImage(image, path, o);
    for (int pass = 0; pass < 2; ++pass) {
      ASSERT_FALSE(seen.empty()) << ext << (pass ? " read" : " write");
      for (std::size_t i = 0; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i].second, image.height()) << ext;
        if (i > 0) EXPECT_GE(seen[i].first, seen[i - 1].first) << ext;
      }
      EXPECT_EQ(seen.back().first, seen.back().second) << ext;
      seen.clear();
      if (pass == 0) ReadImage(path, nullptr, record);
    }
  }
}

TEST(IoPng, RoundTrip8BitWithinHalfAStep) {
  std::string dir = TempDir();
  for (int channels : {1, 3}) {
    Image image = RandomImage(31, 17, channels, 7 + channels);
    std::string path = dir + "/img" + std::to_string(channels) + ".png";
    WriteImage(image, path);
    EXPECT_EQ(ReadBytes(path)[24], 8) << "default PNG depth is 8";
    Image back = ReadImage(path);
    ExpectSameShape(back, image);
    EXPECT_LE(MaxAbsDifference(back, image), 0.5 / 255 + 1e-6);
  }
}

TEST(IoPng, RoundTrip16BitWithinHalfAStep) {
  std::string dir = TempDir();
  for (int channels : {1, 3}) {
    Image image = RandomImage(23, 19, channels, 3 + channels);
    std::string path = dir + "/img" + std::to_string(channels) + ".png";
    WriteImage(image, path, {.bit_depth = 16});
    EXPECT_EQ(ReadBytes(path)[24], 16);
    Image back = ReadImage(path);
    ExpectSameShape(back, image);
    EXPECT_LE(MaxAbsDifference(back, image), 0.5 / 65535 + 1e-7);
  }
}

// Integer samples clamp finite values to [0, 1]; NaN and infinity, which they cannot hold, are
// refused (NaN was written as 0 under a warning about clipping), and nothing is written.
TEST(IoPng, ClampsAndRefusesNanAndInfinity) {
  Image image(4, 1, 1);
  image.at(0, 0, 0) = -0.5f;
  image.at(0, 1, 0) = 7.f;
  std::string path = TempDir() + "/clamp.png";
  WriteImage(image, path);
  Image back = ReadImage(path);
  EXPECT_EQ(back.at(0, 0, 0), 0.f);
  EXPECT_EQ(back.at(0, 1, 0), 1.f);
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    image.at(0, 2, 0) = bad;
    const std::string refused = TempDir() + "/refused.png";
    EXPECT_THROW(WriteImage(image, refused), Error);
    EXPECT_FALSE(std::filesystem::exists(refused));
    WriteImage(image, TempDir() + "/kept.npy");  // a float format keeps them
  }
}

TEST(IoPng, GrayAlphaReadsAsGray) {
  // 2x1 gray+alpha, 8 bit: (gray 51, alpha 0), (gray 204, alpha 255). Alpha is dropped.
  std::string rows = {0, char(51), 0, char(204), char(255)};
  std::string path = TempDir() + "/ga.png";
  WriteBytes(path, MakePng(2, 1, 8, 4, rows));
  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 1);
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 0.2f);
  EXPECT_FLOAT_EQ(image.at(0, 1, 0), 0.8f);
}

TEST(IoPng, RgbaReadsAsRgb) {
  // 2x1 RGBA: (255, 0, 51, alpha 10), (0, 102, 255, alpha 0). Alpha is dropped, not composited.
  std::string rows = {0, char(255), 0, char(51), char(10), 0, char(102), char(255), 0};
  std::string path = TempDir() + "/rgba.png";
  WriteBytes(path, MakePng(2, 1, 8, 6, rows));
  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 3);
  ASSERT_EQ(image.width(), 2);
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 1.f);
  EXPECT_FLOAT_EQ(image.at(1, 0, 0), 0.f);
  EXPECT_FLOAT_EQ(image.at(2, 0, 0), 0.2f);
  EXPECT_FLOAT_EQ(image.at(0, 1, 0), 0.f);
  EXPECT_FLOAT_EQ(image.at(1, 1, 0), 0.4f);
  EXPECT_FLOAT_EQ(image.at(2, 1, 0), 1.f);
}

TEST(IoPng, RgbaSixteenBitReadsAsRgb) {
  // One pixel: R 0xffff, G 0x0000, B 0x8000, A 0x1234.
  std::string rows = {0, char(0xff), char(0xff), 0, 0, char(0x80), 0, char(0x12), char(0x34)};
  std::string path = TempDir() + "/rgba16.png";
  WriteBytes(path, MakePng(1, 1, 16, 6, rows));
  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 3);
  EXPECT_FLOAT_EQ(image.at(0, 0, 0), 1.f);
  EXPECT_FLOAT_EQ(image.at(1, 0, 0), 0.f);
  EXPECT_FLOAT_EQ(image.at(2, 0, 0), 32768.f / 65535.f);
}

TEST(IoPng, PaletteExpandsToRgbEvenWithTransparency) {
  std::string palette = {char(255), 0, 0, 0, char(255), 0, 0, 0, char(255)};
  std::string png = PngHeader(3, 1, 8, 3);
  AppendChunk(&png, "PLTE", palette);
  AppendChunk(&png, "tRNS", std::string{char(0), char(128), char(255)});
  std::string rows = {0, 2, 0, 1};
  uLongf size = compressBound(uLong(rows.size()));
  std::string z(size, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &size, reinterpret_cast<const Bytef*>(rows.data()),
           uLong(rows.size()));
  z.resize(size);
  AppendChunk(&png, "IDAT", z);
  AppendChunk(&png, "IEND", "");
  std::string path = TempDir() + "/palette.png";
  WriteBytes(path, png);
  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 3);
  ASSERT_EQ(image.width(), 3);
  EXPECT_EQ(image.at(2, 0, 0), 1.f);  // index 2: blue
  EXPECT_EQ(image.at(0, 0, 0), 0.f);
  EXPECT_EQ(image.at(0, 1, 0), 1.f);  // index 0: red
  EXPECT_EQ(image.at(1, 2, 0), 1.f);  // index 1: green
}

TEST(IoPng, OneBitGrayExpands) {
  // 10 pixels, 1 bit each: 1011000011 -> two bytes 0b10110000, 0b11000000.
  std::string rows = {0, char(0xb0), char(0xc0)};
  std::string path = TempDir() + "/bits.png";
  WriteBytes(path, MakePng(10, 1, 1, 0, rows));
  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 1);
  const float expected[] = {1, 0, 1, 1, 0, 0, 0, 0, 1, 1};
  for (int x = 0; x < 10; ++x) EXPECT_EQ(image.at(0, x, 0), expected[x]) << "x=" << x;
}

TEST(IoPng, ReadsInterlaced) {
  // Adam7 stores pixels in seven passes; the reader must reassemble them in place.
  const int width = 13, height = 11;
  std::string path = TempDir() + "/adam7.png";
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  std::vector<png_byte> pixels(width * height * 3);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = png_byte(i * 7);
  std::vector<png_bytep> rows(height);
  for (int y = 0; y < height; ++y) rows[y] = pixels.data() + y * width * 3;
  png_write_image(png, rows.data());  // handles the passes itself
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(file);

  long done = 0, total = 0;
  Image image = ReadImage(path, nullptr, [&](long d, long t) { done = d, total = t; });
  EXPECT_EQ(total, 7 * height);  // every pass counts its rows
  EXPECT_EQ(done, total);
  ASSERT_EQ(image.width(), width);
  ASSERT_EQ(image.height(), height);
  ASSERT_EQ(image.channels(), 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(image.at(c, x, y), pixels[(y * width + x) * 3 + c] / 255.f);
}

TEST(IoPng, HugeHeaderFailsOnTheLimitWithoutAllocating) {
  // A valid signature and IHDR claiming 100000 x 100000 (10^10 pixels), then a token IDAT:
  // the size check must fire from the header alone.
  std::string png = PngHeader(100000, 100000, 8, 2);
  AppendChunk(&png, "IDAT", std::string(16, '\0'));
  AppendChunk(&png, "IEND", "");
  std::string path = TempDir() + "/huge.png";
  WriteBytes(path, png);
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "limit")) << msg;
  EXPECT_TRUE(Contains(msg, path)) << msg;
}

TEST(IoPng, TruncatedFileFails) {
  std::string path = TempDir() + "/cut.png";
  WriteImage(RandomImage(64, 64, 3, 5), path);
  TruncateToHalf(path);
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "'" + path + "'")) << msg;
  EXPECT_TRUE(Contains(msg, "truncated")) << msg;
}

TEST(IoPng, CorruptDataFails) {
  std::string path = TempDir() + "/corrupt.png";
  WriteImage(RandomImage(32, 32, 1, 6), path);
  std::string bytes = ReadBytes(path);
  std::size_t idat = bytes.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  bytes[idat + 20] ^= 0x5a;  // inside the compressed data: the chunk CRC no longer matches
  WriteBytes(path, bytes);
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, path)) << msg;
}

TEST(IoPng, SignatureThenGarbageFails) {
  std::mt19937 rng(11);
  std::string bytes("\x89PNG\r\n\x1a\n", 8);
  for (int i = 0; i < 500; ++i) bytes += char(rng());
  std::string path = TempDir() + "/garbage.png";
  WriteBytes(path, bytes);
  EXPECT_TRUE(Contains(ErrorOf([&] { ReadImage(path); }), path));
}

TEST(IoPng, InvalidBitDepthFails) {
  std::string dir = TempDir();
  std::string msg =
      ErrorOf([&] { WriteImage(RandomImage(4, 4, 1, 1), dir + "/x.png", {.bit_depth = 32}); });
  EXPECT_TRUE(Contains(msg, "8 or 16")) << msg;
  EXPECT_TRUE(fs::is_empty(dir));
}

// ---- JPEG ---------------------------------------------------------------------------------------

Image SmoothImage(int width, int height, int channels) {
  Image image(width, height, channels);
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        image.at(c, x, y) =
            float(0.5 + 0.3 * std::sin(0.05 * x + 0.03 * y + c) * std::cos(0.04 * y - 0.02 * x));
  return image;
}

TEST(IoJpeg, RoundTripIsClose) {
  std::string dir = TempDir();
  for (int channels : {1, 3}) {
    Image image = SmoothImage(96, 64, channels);
    std::string path = dir + "/smooth" + std::to_string(channels) + ".jpg";
    WriteImage(image, path, {.jpeg_quality = 95});
    Image back = ReadImage(path);
    ExpectSameShape(back, image);
    EXPECT_LT(MeanAbsDifference(back, image), 0.02);
  }
}

TEST(IoJpeg, QualityControlsSize) {
  std::string dir = TempDir();
  Image image = SyntheticScene(128, 96, 3);
  WriteImage(image, dir + "/q10.jpg", {.jpeg_quality = 10});
  WriteImage(image, dir + "/q95.jpg", {.jpeg_quality = 95});
  EXPECT_LT(fs::file_size(dir + "/q10.jpg"), fs::file_size(dir + "/q95.jpg"));
}

TEST(IoJpeg, InvalidOptionsFail) {
  std::string dir = TempDir();
  Image image = RandomImage(8, 8, 1, 2);
  for (int quality : {0, 101}) {
    std::string msg =
        ErrorOf([&] { WriteImage(image, dir + "/x.jpg", {.jpeg_quality = quality}); });
    EXPECT_TRUE(Contains(msg, "quality")) << msg;
  }
  std::string msg = ErrorOf([&] { WriteImage(image, dir + "/x.jpg", {.bit_depth = 16}); });
  EXPECT_TRUE(Contains(msg, "bit depth")) << msg;
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(IoJpeg, TruncatedFileFails) {
  std::string path = TempDir() + "/cut.jpg";
  WriteImage(SyntheticScene(64, 64, 3), path);
  TruncateToHalf(path);
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "'" + path + "'")) << msg;
  EXPECT_TRUE(Contains(msg, "truncated")) << msg;
}

TEST(IoJpeg, CmykIsRefused) {
  std::string path = TempDir() + "/cmyk.jpg";
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = 8;
  cinfo.image_height = 8;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<unsigned char> row(8 * 4, 100);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(file);

  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "CMYK")) << msg;
}

// ---- TIFF ---------------------------------------------------------------------------------------

TEST(IoTiff, Float32RoundTripIsBitExact) {
  std::string dir = TempDir();
  for (int channels : {1, 3}) {
    Image image = SpecialFloats(channels);
    std::string path = dir + "/state" + std::to_string(channels) + ".tif";
    WriteImage(image, path);  // default depth: 32-bit float
    ExpectBitIdentical(ReadImage(path), image);
  }
}

TEST(IoTiff, WritesDeflateFloatByDefault) {
  std::string path = TempDir() + "/fields.tif";
  WriteImage(RandomImage(20, 10, 3, 4), path);
  TIFF* tif = TIFFOpen(path.c_str(), "r");
  ASSERT_NE(tif, nullptr);
  std::uint16_t compression = 0, bits = 0, format = 0, planar = 0;
  TIFFGetField(tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetField(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetField(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetField(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFClose(tif);
  EXPECT_EQ(compression, COMPRESSION_ADOBE_DEFLATE);
  EXPECT_EQ(bits, 32);
  EXPECT_EQ(format, SAMPLEFORMAT_IEEEFP);
  EXPECT_EQ(planar, PLANARCONFIG_CONTIG);
}

TEST(IoTiff, IntegerRoundTrips) {
  std::string dir = TempDir();
  for (int depth : {8, 16})
    for (int channels : {1, 3}) {
      Image image = RandomImage(21, 11, channels, depth + channels);
      std::string path =
          dir + "/i" + std::to_string(depth) + "_" + std::to_string(channels) + ".tif";
      WriteImage(image, path, {.bit_depth = depth});
      Image back = ReadImage(path);
      ExpectSameShape(back, image);
      double step = depth == 8 ? 1.0 / 255 : 1.0 / 65535;
      EXPECT_LE(MaxAbsDifference(back, image), 0.5 * step + 1e-7) << depth << " bit";
    }
}

// Expected sample of the libtiff-written test files below.
std::uint16_t Pattern16(int c, int x, int y) {
  return std::uint16_t(c * 20000 + x * 371 + y * 1013);
}

TEST(IoTiff, ReadsTiledSeparatePlanes) {
  const int width = 40, height = 24, tile = 16;
  std::string path = TempDir() + "/tiled.tif";
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 16);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_SEPARATE);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField(tif, TIFFTAG_TILEWIDTH, tile);
  TIFFSetField(tif, TIFFTAG_TILELENGTH, tile);
  std::vector<std::uint16_t> buffer(tile * tile);
  for (int c = 0; c < 3; ++c)
    for (int ty = 0; ty < height; ty += tile)
      for (int tx = 0; tx < width; tx += tile) {
        for (int y = 0; y < tile; ++y)
          for (int x = 0; x < tile; ++x) buffer[y * tile + x] = Pattern16(c, tx + x, ty + y);
        ASSERT_GE(TIFFWriteTile(tif, buffer.data(), tx, ty, 0, std::uint16_t(c)), 0);
      }
  TIFFClose(tif);

  Image image = ReadImage(path);
  ASSERT_EQ(image.width(), width);
  ASSERT_EQ(image.height(), height);
  ASSERT_EQ(image.channels(), 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x)
        ASSERT_EQ(image.at(c, x, y), Pattern16(c, x, y) / 65535.f) << c << " " << x << " " << y;
}

TEST(IoTiff, DropsExtraAlphaSample) {
  const int width = 5, height = 3;
  std::string path = TempDir() + "/rgba.tif";
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  std::uint16_t extra[] = {EXTRASAMPLE_UNASSALPHA};
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 4);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, extra);
  TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 2);
  std::vector<unsigned char> row(width * 4);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x)
      for (int s = 0; s < 4; ++s) row[x * 4 + s] = static_cast<unsigned char>(s * 60 + x * 7 + y);
    ASSERT_GE(TIFFWriteScanline(tif, row.data(), y, 0), 0);
  }
  TIFFClose(tif);

  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) ASSERT_EQ(image.at(c, x, y), (c * 60 + x * 7 + y) / 255.f);
}

TEST(IoTiff, ReadsPaletteAsRgb) {
  std::string path = TempDir() + "/palette.tif";
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(tif, nullptr);
  std::vector<std::uint16_t> red(256, 0), green(256, 0), blue(256, 0);
  red[1] = 65535;
  green[2] = 65535;
  blue[3] = 32768;
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 3);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 1);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_PALETTE);
  TIFFSetField(tif, TIFFTAG_COLORMAP, red.data(), green.data(), blue.data());
  unsigned char row[] = {1, 2, 3};
  ASSERT_GE(TIFFWriteScanline(tif, row, 0, 0), 0);
  TIFFClose(tif);

  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 3);
  EXPECT_EQ(image.at(0, 0, 0), 1.f);
  EXPECT_EQ(image.at(1, 0, 0), 0.f);
  EXPECT_EQ(image.at(1, 1, 0), 1.f);
  EXPECT_EQ(image.at(2, 2, 0), 128 / 255.f);  // the entry's high byte, as libtiff and PIL read it
  EXPECT_EQ(image.at(0, 2, 0), 0.f);
}

TEST(IoTiff, TruncatedFileFails) {
  std::string path = TempDir() + "/cut.tif";
  WriteImage(RandomImage(64, 64, 3, 8), path);
  TruncateToHalf(path);
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "'" + path + "'")) << msg;
  EXPECT_TRUE(Contains(msg, "file is truncated")) << msg;  // not libtiff's row 4294967295
}

TEST(IoTiff, InvalidBitDepthFails) {
  std::string dir = TempDir();
  std::string msg =
      ErrorOf([&] { WriteImage(RandomImage(4, 4, 1, 1), dir + "/x.tif", {.bit_depth = 12}); });
  EXPECT_TRUE(Contains(msg, "8, 16 or 32")) << msg;
  EXPECT_TRUE(fs::is_empty(dir));
}

// ---- NPY ----------------------------------------------------------------------------------------

TEST(IoNpy, RoundTripIsExact) {
  std::string dir = TempDir();
  for (int channels : {1, 3}) {
    Image image = SpecialFloats(channels);
    std::string path = dir + "/a" + std::to_string(channels) + ".npy";
    WriteImage(image, path);
    ExpectBitIdentical(ReadImage(path), image);
  }
}

TEST(IoNpy, WritesNumpyLayout) {
  Image image(3, 2, 3);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) image.at(c, x, y) = float(100 * c + 10 * y + x);
  std::string path = TempDir() + "/layout.npy";
  WriteImage(image, path);
  std::string bytes = ReadBytes(path);
  ASSERT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  std::size_t header_len = std::uint8_t(bytes[8]) | (std::uint8_t(bytes[9]) << 8);
  std::size_t offset = 10 + header_len;
  EXPECT_EQ(offset % 64, 0u);
  std::string header = bytes.substr(10, header_len);
  EXPECT_TRUE(Contains(header, "'descr': '<f4'")) << header;
  EXPECT_TRUE(Contains(header, "'fortran_order': False")) << header;
  EXPECT_TRUE(Contains(header, "'shape': (2, 3, 3)")) << header;
  EXPECT_EQ(header.back(), '\n');
  ASSERT_EQ(bytes.size(), offset + 2 * 3 * 3 * sizeof(float));
  // Interleaved in the file: element [y][x][c].
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c) {
        float v;
        std::memcpy(&v, bytes.data() + offset + ((y * 3 + x) * 3 + c) * sizeof(float), sizeof(v));
        EXPECT_EQ(v, image.at(c, x, y));
      }
}

TEST(IoNpy, ReadsFloat64Gray) {
  std::vector<double> values = {0.25, -1.5, 3.0, 1e-3, 0.5, 2.0};
  std::string path = TempDir() + "/f8.npy";
  WriteBytes(path, NpyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                           RawBytes(values)));
  Image image = ReadImage(path);
  ASSERT_EQ(image.width(), 3);
  ASSERT_EQ(image.height(), 2);
  ASSERT_EQ(image.channels(), 1);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(image.data()[i], float(values[i]));
}

TEST(IoNpy, ReadsUint8Rgb) {
  std::vector<std::uint8_t> values(2 * 2 * 3);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::uint8_t(i * 20);
  std::string path = TempDir() + "/u1.npy";
  WriteBytes(path, NpyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 3), }",
                           RawBytes(values)));
  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c) EXPECT_EQ(image.at(c, x, y), values[(y * 2 + x) * 3 + c] / 255.f);
}

TEST(IoNpy, ReadsUint16RgbaDroppingAlpha) {
  std::vector<std::uint16_t> values = {0, 65535, 32768, 7, 100, 200, 300, 65535};
  std::string path = TempDir() + "/u2.npy";
  WriteBytes(path, NpyFile("{'descr': '<u2', 'fortran_order': False, 'shape': (1, 2, 4), }",
                           RawBytes(values)));
  Image image = ReadImage(path);
  ASSERT_EQ(image.channels(), 3);
  ASSERT_EQ(image.width(), 2);
  EXPECT_EQ(image.at(1, 0, 0), 1.f);
  EXPECT_EQ(image.at(2, 0, 0), 32768 / 65535.f);
  EXPECT_EQ(image.at(0, 1, 0), 100 / 65535.f);
  EXPECT_EQ(image.at(2, 1, 0), 300 / 65535.f);
}

TEST(IoNpy, RejectsUnsupportedHeaders) {
  std::string dir = TempDir();
  const std::string data(64, '\0');
  struct Case {
    std::string dict, expected;
  } cases[] = {
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", "dtype"},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", "Fortran"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }", "dimensions"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", "channels"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", "limit"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999999, 2), }",
       "limit"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", "truncated"},
      {"{'descr': '<f4', 'shape': (2, 2), }", "malformed"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)", "malformed"},
      {"not a dict", "malformed"},
  };
  int i = 0;
  for (const Case& c : cases) {
    std::string path = dir + "/bad" + std::to_string(i++) + ".npy";
    WriteBytes(path, NpyFile(c.dict, data));
    std::string msg = ErrorOf([&] { ReadImage(path); });
    EXPECT_TRUE(Contains(msg, c.expected)) << c.dict << " -> " << msg;
    EXPECT_TRUE(Contains(msg, path)) << msg;
  }
}

TEST(IoNpy, AbsurdHeaderLengthFails) {
  // Version 2.0 with a 4 GiB header length must not be allocated.
  std::string bytes("\x93NUMPY\x02\x00\xf0\xff\xff\xff{}", 14);
  std::string path = TempDir() + "/long.npy";
  WriteBytes(path, bytes);
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "too large")) << msg;
  WriteBytes(path, std::string("\x93NUMPY\x07\x00\x10\x00", 10));
  msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "version")) << msg;
}

TEST(IoNpy, TruncatedFileFails) {
  std::string path = TempDir() + "/cut.npy";
  WriteImage(RandomImage(32, 32, 3, 9), path);
  TruncateToHalf(path);
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_TRUE(Contains(msg, "'" + path + "'")) << msg;
  EXPECT_TRUE(Contains(msg, "truncated")) << msg;
}

// ---- reading failures common to all formats ---------------------------------------------------

TEST(IoRead, MissingFileFails) {
  std::string path = TempDir() + "/nope.png";
  std::string msg = ErrorOf([&] { ReadImage(path); });
  EXPECT_EQ(msg, "cannot open '" + path + "': No such file or directory");
}

TEST(IoRead, EmptyFileFails) {
  std::string path = TempDir() + "/empty.png";
  WriteBytes(path, "");
  EXPECT_EQ(ErrorOf([&] { ReadImage(path); }), "'" + path + "' is empty");
}

TEST(IoRead, DirectoryFails) {
  std::string dir = TempDir();
  EXPECT_TRUE(Contains(ErrorOf([&] { ReadImage(dir); }), "directory"));
}

TEST(IoRead, UnsupportedFormatFails) {
  // The start of a BMP file: "BM", file size, reserved, pixel data offset, DIB header size.
  std::string bmp = "BM";
  bmp += std::string("\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", 16);
  bmp += std::string(52, '\0');
  std::string path = TempDir() + "/x.bmp";
  WriteBytes(path, bmp);
  EXPECT_EQ(ErrorOf([&] { ReadImage(path); }),
            "'" + path + "': unsupported image format (expected PNG, JPEG, TIFF or NPY)");
}

TEST(IoRead, RandomGarbageWithPngExtensionFails) {
  std::mt19937 rng(5);
  std::string path = TempDir() + "/noise.png";
  for (int trial = 0; trial < 20; ++trial) {
    std::string bytes(std::size_t(1 + rng() % 2000), '\0');
    for (char& b : bytes) b = char(rng());
    WriteBytes(path, bytes);
    EXPECT_TRUE(Contains(ErrorOf([&] { ReadImage(path); }), path));
  }
}

TEST(IoRead, FileShorterThanSignatureIsTruncated) {
  std::string path = TempDir() + "/short.png";
  WriteBytes(path, "\x89PN");
  EXPECT_TRUE(Contains(ErrorOf([&] { ReadImage(path); }), "truncated"));
}

// ---- atomic writes ----------------------------------------------------------------------------

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(IoWrite, MissingDirectoryFailsAndCreatesNothing) {
  std::string dir = TempDir();
  std::string path = dir + "/missing/out.png";
  std::string msg = ErrorOf([&] { WriteImage(RandomImage(4, 4, 1, 1), path); });
  EXPECT_EQ(msg, "cannot write '" + path + "': directory '" + dir + "/missing' does not exist");
  EXPECT_FALSE(fs::exists(dir + "/missing"));
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(IoWrite, EmptyImageFails) {
  std::string dir = TempDir();
  std::string msg = ErrorOf([&] { WriteImage(Image(), dir + "/e.png"); });
  EXPECT_TRUE(Contains(msg, "empty")) << msg;
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(IoWrite, FailingWriteLeavesNoTempFileAndKeepsTheOldFile) {
  std::string dir = TempDir();
  std::string path = dir + "/result.txt";
  WriteTextFileAtomically(path, "old contents\n");
  std::string seen_tmp;
  std::string msg = ErrorOf([&] {
    WriteFileAtomically(path, [&](const std::string& tmp_path) {
      seen_tmp = tmp_path;
      std::ofstream(tmp_path) << "partial";
      Fail("simulated failure");
    });
  });
  EXPECT_EQ(msg, "simulated failure");
  EXPECT_EQ(fs::path(seen_tmp).parent_path(), fs::path(dir));
  EXPECT_EQ(fs::path(seen_tmp).filename().string().rfind(".result.txt.tmp-", 0), 0u) << seen_tmp;
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"result.txt"});
  EXPECT_EQ(ReadBytes(path), "old contents\n");
}

TEST(IoWrite, DirectoryInPlaceOfTargetFails) {
  std::string dir = TempDir();
  fs::create_directory(dir + "/taken.png");
  std::string msg = ErrorOf([&] { WriteImage(RandomImage(8, 8, 3, 1), dir + "/taken.png"); });
  EXPECT_TRUE(Contains(msg, "taken.png")) << msg;
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"taken.png"});
}

// Makes every write past `bytes` fail with EFBIG while alive (instead of raising SIGXFSZ).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_limit_);
    rlimit limit = old_limit_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_limit_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_limit_;
  void (*old_handler_)(int);
};

TEST(IoWrite, FailureMidWriteLeavesNoPartialOrTempFile) {
  // A real I/O failure halfway through each encoder: the file system refuses bytes past 4 KiB.
  std::string dir = TempDir();
  Image image =
      RandomImage(200, 150, 3, 12);  // incompressible: far more than 4 KiB in every format
  for (const char* name : {"a.png", "a.jpg", "a.tif", "a.npy"}) {
    std::string path = dir + "/" + name;
    std::string msg;
    {
      FileSizeLimit limit(4096);
      msg = ErrorOf([&] { WriteImage(image, path); });
    }
    EXPECT_TRUE(Contains(msg, "cannot write '" + path + "'")) << msg;
    EXPECT_TRUE(fs::is_empty(dir)) << name;
  }
}

TEST(IoWrite, TextFileReplacesAtomically) {
  std::string dir = TempDir();
  std::string path = dir + "/notes.json";
  WriteTextFileAtomically(path, "first");
  WriteTextFileAtomically(path, "second, longer");
  EXPECT_EQ(ReadBytes(path), "second, longer");
  WriteTextFileAtomically(path, "");
  EXPECT_EQ(ReadBytes(path), "");
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"notes.json"});
}

TEST(IoWrite, OutputPermissionsFollowUmask) {
  // mkstemp creates 0600 files; the output must look like any other newly created file.
  mode_t mask = ::umask(0);
  ::umask(mask);
  std::string path = TempDir() + "/perm.png";
  WriteImage(RandomImage(4, 4, 1, 1), path);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);
}

TEST(IoWrite, RelativePathInCurrentDirectory) {
  std::string dir = TempDir();
  fs::path old = fs::current_path();
  fs::current_path(dir);
  WriteImage(RandomImage(4, 4, 1, 1), "rel.npy");
  fs::current_path(old);
  EXPECT_TRUE(fs::exists(dir + "/rel.npy"));
  EXPECT_EQ(ListDir(dir), std::vector<std::string>{"rel.npy"});
}

}  // namespace
}  // namespace blade
