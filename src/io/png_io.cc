// PNG reading and writing with libpng (errors via longjmp, confined to small C-style stages).
#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "blade/error.h"
#include "io/codecs.h"

namespace blade::io_internal {
namespace {

// State shared with libpng's callbacks: the file, the message of the error that stopped it,
// and the progress report (rows done of total).
struct PngContext {
  std::FILE* file = nullptr;
  char message[256] = "unknown error";
  const RowProgress* on_rows = nullptr;
  long rows_done = 0, rows_total = 0;
};

// libpng's row callback (read and write): one more row done.
void OnPngRow(png_structp png, png_uint_32, int) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (ctx->on_rows != nullptr && *ctx->on_rows) (*ctx->on_rows)(++ctx->rows_done, ctx->rows_total);
}

[[noreturn]] void OnPngError(png_structp png, png_const_charp message) {
  auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(ctx->message, sizeof(ctx->message), "%s", message);
  png_longjmp(png, 1);
}

// Warnings (unknown chunks, bad ancillary CRCs, odd gamma) do not affect the pixels we read.
void OnPngWarning(png_structp, png_const_charp) {}

// Replaces libpng's stdio reader so that running out of bytes reads as "file is truncated"
// rather than libpng's generic "Read Error".
void ReadBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (std::fread(data, 1, length, ctx->file) != length)
    png_error(png, std::ferror(ctx->file) ? std::strerror(errno) : "file is truncated");
}

void WriteBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* ctx = static_cast<PngContext*>(png_get_io_ptr(png));
  if (std::fwrite(data, 1, length, ctx->file) != length) png_error(png, std::strerror(errno));
}

void FlushNothing(png_structp) {}  // CloseOrFail flushes and checks once at the end

// Owns libpng's read structures; constructed before any setjmp so its destructor always runs.
struct PngReadStructs {
  png_structp png = nullptr;
  png_infop info = nullptr;
  explicit PngReadStructs(PngContext* ctx) {
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, OnPngError, OnPngWarning);
    if (png != nullptr) info = png_create_info_struct(png);
  }
  ~PngReadStructs() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
  PngReadStructs(const PngReadStructs&) = delete;
  PngReadStructs& operator=(const PngReadStructs&) = delete;
};

struct PngWriteStructs {
  png_structp png = nullptr;
  png_infop info = nullptr;
  explicit PngWriteStructs(PngContext* ctx) {
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, OnPngError, OnPngWarning);
    if (png != nullptr) info = png_create_info_struct(png);
  }
  ~PngWriteStructs() {
    if (png != nullptr) png_destroy_write_struct(&png, info != nullptr ? &info : nullptr);
  }
  PngWriteStructs(const PngWriteStructs&) = delete;
  PngWriteStructs& operator=(const PngWriteStructs&) = delete;
};

// The stages below are the only places libpng can longjmp to. They hold no objects with
// destructors and modify no locals after setjmp, so the jump skips nothing; each returns false
// on error with the message in the context.

bool ReadHeaderStage(png_structp png, png_infop info) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  return true;
}

// Asks libpng for 8- or 16-bit gray or RGB samples, whatever the stored layout; *passes is
// the number of interlace passes (1 for a plain image).
bool SetTransformsStage(png_structp png, png_infop info, int* passes) {
  if (setjmp(png_jmpbuf(png))) return false;
  int color_type = png_get_color_type(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  // Palette expansion turns tRNS into an alpha channel, so strip after it as well.
  if ((color_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_strip_alpha(png);
  *passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  return true;
}

bool ReadPixelsStage(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);  // checks the trailing chunks: catches files cut after IDAT
  return true;
}

bool WriteStage(png_structp png, png_infop info, png_uint_32 width, png_uint_32 height,
                int bit_depth, int color_type, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

Image ReadPng(std::FILE* file, const std::string& path, ImageSource* source,
              const RowProgress& on_rows) {
  PngContext ctx;
  ctx.file = file;
  ctx.on_rows = &on_rows;
  PngReadStructs s(&ctx);
  if (s.png == nullptr || s.info == nullptr) Fail("cannot read '", path, "': out of memory");
  png_set_read_fn(s.png, &ctx, ReadBytes);
  // libpng then rejects longer sides while parsing IHDR; CheckHeaderSize below bounds the area.
  png_uint_32 limit = static_cast<png_uint_32>(std::min<std::int64_t>(MaxPixels(), 0x7fffffff));
  png_set_user_limits(s.png, limit, limit);

  if (!ReadHeaderStage(s.png, s.info)) Fail("cannot read '", path, "': ", ctx.message);
  png_uint_32 width = png_get_image_width(s.png, s.info);
  png_uint_32 height = png_get_image_height(s.png, s.info);
  int channels = (png_get_color_type(s.png, s.info) & PNG_COLOR_MASK_COLOR) ? 3 : 1;
  CheckHeaderSize(path, width, height, channels);
  source->format = FileFormat::kPng;
  source->bit_depth = png_get_bit_depth(s.png, s.info) == 16 ? 16 : 8;  // 1..8 bits read as 8
  source->alpha_dropped = (png_get_color_type(s.png, s.info) & PNG_COLOR_MASK_ALPHA) ||
                          png_get_valid(s.png, s.info, PNG_INFO_tRNS);

  int passes = 1;
  if (!SetTransformsStage(s.png, s.info, &passes)) Fail("cannot read '", path, "': ", ctx.message);
  ctx.rows_total = long(height) * passes;
  png_set_read_status_fn(s.png, OnPngRow);
  int depth = png_get_bit_depth(s.png, s.info);
  std::size_t row_bytes = png_get_rowbytes(s.png, s.info);
  if (png_get_channels(s.png, s.info) != channels || (depth != 8 && depth != 16) ||
      row_bytes != std::size_t(width) * channels * (depth / 8))
    Fail("cannot read '", path, "': unsupported PNG layout");

  std::vector<png_byte> pixels(row_bytes * height);
  std::vector<png_bytep> rows(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = pixels.data() + y * row_bytes;
  if (!ReadPixelsStage(s.png, rows.data())) Fail("cannot read '", path, "': ", ctx.message);
  // An interlaced image's passes skip rows without reporting them: say it is done.
  if (on_rows && ctx.rows_done < ctx.rows_total) on_rows(ctx.rows_total, ctx.rows_total);

  Image image = NewImageForFile(path, width, height, channels);
  for (int y = 0; y < int(height); ++y) {
    const png_byte* src = rows[y];
    for (int c = 0; c < channels; ++c) {
      float* dst = image.row(c, y);
      if (depth == 8) {
        for (int x = 0; x < int(width); ++x) dst[x] = src[std::size_t(x) * channels + c] / 255.f;
      } else {
        for (int x = 0; x < int(width); ++x) {
          const png_byte* p =
              src + 2 * (std::size_t(x) * channels + c);  // PNG stores 16 bits big-endian
          dst[x] = ((p[0] << 8) | p[1]) / 65535.f;
        }
      }
    }
  }
  return image;
}

void WritePng(const Image& image, const std::string& tmp_path, const std::string& path,
              int bit_depth, const RowProgress& on_rows) {
  const int width = image.width(), height = image.height(), channels = image.channels();
  const std::size_t row_bytes = std::size_t(width) * channels * (bit_depth / 8);
  std::vector<png_byte> pixels(row_bytes * height);
  std::vector<png_bytep> rows(height);
  for (int y = 0; y < height; ++y) {
    png_byte* dst = rows[y] = pixels.data() + y * row_bytes;
    for (int c = 0; c < channels; ++c) {
      const float* src = image.row(c, y);
      for (int x = 0; x < width; ++x) {
        std::size_t i = std::size_t(x) * channels + c;
        if (bit_depth == 8) {
          dst[i] = QuantizeTo8(src[x]);
        } else {
          std::uint16_t v = QuantizeTo16(src[x]);
          dst[2 * i] = static_cast<png_byte>(v >> 8);
          dst[2 * i + 1] = static_cast<png_byte>(v & 0xff);
        }
      }
    }
  }

  FilePtr file = OpenForWrite(tmp_path, path);
  PngContext ctx;
  ctx.file = file.get();
  ctx.on_rows = &on_rows;
  ctx.rows_total = height;
  PngWriteStructs s(&ctx);
  if (s.png == nullptr || s.info == nullptr) Fail("cannot write '", path, "': out of memory");
  png_set_write_fn(s.png, &ctx, WriteBytes, FlushNothing);
  png_set_write_status_fn(s.png, OnPngRow);
  int color_type = channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY;
  if (!WriteStage(s.png, s.info, width, height, bit_depth, color_type, rows.data()))
    Fail("cannot write '", path, "': ", ctx.message);
  CloseOrFail(std::move(file), path);
}

}  // namespace blade::io_internal
