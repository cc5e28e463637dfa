// JPEG reading and writing with libjpeg-turbo (errors via longjmp, confined to C-style stages).
#include <csetjmp>
#include <cstdio>
// jpeglib.h needs <cstdio> (FILE, size_t) included before it.
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <vector>

#include "blade/error.h"
#include "io/codecs.h"

namespace blade::io_internal {
namespace {

// libjpeg's error manager extended with the jump target and the message of the failure.
struct JpegErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

// libjpeg's default error_exit calls exit(); jump back to the active stage instead.
[[noreturn]] void OnJpegError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF)
    std::snprintf(err->message, sizeof(err->message), "file is truncated");
  else
    (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// libjpeg only warns about damaged data and then fills in gray, so a truncated or corrupt file
// would decode "successfully". Those warnings are failures here; harmless ones stay silent.
void OnJpegMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  switch (cinfo->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
      OnJpegError(cinfo);
    default:
      break;
  }
}

void InitErrorManager(JpegErrorManager* err) {
  jpeg_std_error(&err->pub);
  err->pub.error_exit = OnJpegError;
  err->pub.emit_message = OnJpegMessage;
  err->message[0] = '\0';
}

// Owns the decompressor; constructed before any stage so jpeg_destroy always runs.
struct JpegDecoder {
  jpeg_decompress_struct cinfo;
  JpegErrorManager err;
  bool created = false;
  JpegDecoder() { cinfo.err = nullptr; }
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;
};

struct JpegEncoder {
  jpeg_compress_struct cinfo;
  JpegErrorManager err;
  bool created = false;
  JpegEncoder() { cinfo.err = nullptr; }
  ~JpegEncoder() {
    if (created) jpeg_destroy_compress(&cinfo);
  }
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;
};

// The stages below are the only places libjpeg can longjmp to. They hold no objects with
// destructors and read no locals modified after setjmp; each returns false on error with the
// message in the error manager.

bool CreateDecoderStage(JpegDecoder* d, std::FILE* file) {
  InitErrorManager(&d->err);
  d->cinfo.err = &d->err.pub;
  if (setjmp(d->err.jump)) return false;
  jpeg_create_decompress(&d->cinfo);
  d->created = true;
  jpeg_stdio_src(&d->cinfo, file);
  return true;
}

bool ReadHeaderStage(JpegDecoder* d) {
  if (setjmp(d->err.jump)) return false;
  jpeg_read_header(&d->cinfo, TRUE);
  return true;
}

bool StartStage(JpegDecoder* d) {
  if (setjmp(d->err.jump)) return false;
  jpeg_start_decompress(&d->cinfo);
  return true;
}

bool ReadPixelsStage(JpegDecoder* d, unsigned char* pixels, std::size_t row_bytes,
                     const RowProgress* on_rows) {
  if (setjmp(d->err.jump)) return false;
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    JSAMPROW row = pixels + d->cinfo.output_scanline * row_bytes;
    jpeg_read_scanlines(&d->cinfo, &row, 1);
    if (*on_rows) (*on_rows)(d->cinfo.output_scanline, d->cinfo.output_height);
  }
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

bool EncodeStage(JpegEncoder* e, std::FILE* file, int width, int height, int channels, int quality,
                 unsigned char* pixels, const RowProgress* on_rows) {
  InitErrorManager(&e->err);
  e->cinfo.err = &e->err.pub;
  if (setjmp(e->err.jump)) return false;
  jpeg_create_compress(&e->cinfo);
  e->created = true;
  jpeg_stdio_dest(&e->cinfo, file);
  e->cinfo.image_width = width;
  e->cinfo.image_height = height;
  e->cinfo.input_components = channels;
  e->cinfo.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&e->cinfo);
  jpeg_set_quality(&e->cinfo, quality, TRUE);
  jpeg_start_compress(&e->cinfo, TRUE);
  const std::size_t row_bytes = std::size_t(width) * channels;
  while (e->cinfo.next_scanline < e->cinfo.image_height) {
    JSAMPROW row = pixels + e->cinfo.next_scanline * row_bytes;
    jpeg_write_scanlines(&e->cinfo, &row, 1);
    if (*on_rows) (*on_rows)(e->cinfo.next_scanline, e->cinfo.image_height);
  }
  jpeg_finish_compress(&e->cinfo);
  return true;
}

}  // namespace

Image ReadJpeg(std::FILE* file, const std::string& path, ImageSource* source,
               const RowProgress& on_rows) {
  source->format = FileFormat::kJpeg;
  source->bit_depth = 8;
  JpegDecoder d;
  if (!CreateDecoderStage(&d, file) || !ReadHeaderStage(&d))
    Fail("cannot read '", path, "': ", d.err.message);

  int channels = 0;
  switch (d.cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      channels = 1;
      d.cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      channels = 3;
      d.cinfo.out_color_space = JCS_RGB;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      Fail("cannot read '", path, "': CMYK JPEG images are not supported");
    default:
      Fail("cannot read '", path, "': unsupported JPEG color space");
  }
  // Before jpeg_start_decompress, which allocates buffers sized by the header (whole-image
  // coefficient buffers for progressive files).
  CheckHeaderSize(path, d.cinfo.image_width, d.cinfo.image_height, channels);

  if (!StartStage(&d)) Fail("cannot read '", path, "': ", d.err.message);
  const int width = d.cinfo.output_width, height = d.cinfo.output_height;
  if (d.cinfo.output_components != channels || width != int(d.cinfo.image_width) ||
      height != int(d.cinfo.image_height))
    Fail("cannot read '", path, "': unsupported JPEG layout");
  const std::size_t row_bytes = std::size_t(width) * channels;
  std::vector<unsigned char> pixels(row_bytes * height);
  if (!ReadPixelsStage(&d, pixels.data(), row_bytes, &on_rows))
    Fail("cannot read '", path, "': ", d.err.message);

  Image image = NewImageForFile(path, width, height, channels);
  for (int y = 0; y < height; ++y) {
    const unsigned char* src = pixels.data() + y * row_bytes;
    for (int c = 0; c < channels; ++c) {
      float* dst = image.row(c, y);
      for (int x = 0; x < width; ++x) dst[x] = src[x * channels + c] / 255.f;
    }
  }
  return image;
}

void WriteJpeg(const Image& image, const std::string& tmp_path, const std::string& path,
               int quality, const RowProgress& on_rows) {
  const int width = image.width(), height = image.height(), channels = image.channels();
  // libjpeg's baseline format cannot hold more than 65500 pixels per side.
  if (width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION)
    Fail("cannot write '", path, "': JPEG images are limited to ", JPEG_MAX_DIMENSION,
         " pixels per side (got ", width, "x", height, ")");
  const std::size_t row_bytes = std::size_t(width) * channels;
  std::vector<unsigned char> pixels(row_bytes * height);
  for (int y = 0; y < height; ++y)
    for (int c = 0; c < channels; ++c) {
      const float* src = image.row(c, y);
      unsigned char* dst = pixels.data() + y * row_bytes;
      for (int x = 0; x < width; ++x) dst[std::size_t(x) * channels + c] = QuantizeTo8(src[x]);
    }

  FilePtr file = OpenForWrite(tmp_path, path);
  JpegEncoder e;
  if (!EncodeStage(&e, file.get(), width, height, channels, quality, pixels.data(), &on_rows))
    Fail("cannot write '", path, "': ", e.err.message);
  CloseOrFail(std::move(file), path);
}

}  // namespace blade::io_internal
