// Private interface between image_io.cc (dispatch, atomic writes) and the per-format codecs.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "blade/image.h"
#include "blade/io.h"

namespace blade::io_internal {

// Closes a FILE* on every path out of a scope; write paths close explicitly with CloseOrFail so
// that a failed flush is reported instead of ignored.
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Opens `tmp_path` for binary writing; failures name `path`, the file the user asked for.
FilePtr OpenForWrite(const std::string& tmp_path, const std::string& path);
// Flushes and closes `file`, failing with "cannot write 'path': ..." on any I/O error.
void CloseOrFail(FilePtr file, const std::string& path);

// Checks a size read from a file header before anything is allocated for it (see
// CheckImageSize); the message names the file.
void CheckHeaderSize(const std::string& path, std::int64_t width, std::int64_t height,
                     int channels);
// Allocates the image a reader fills, after CheckHeaderSize; failures name the file.
Image NewImageForFile(const std::string& path, std::int64_t width, std::int64_t height,
                      int channels);

// Integer encodings of [0, 1]: clamp, then round to nearest. NaN maps to 0.
inline std::uint8_t QuantizeTo8(float v) {
  if (!(v > 0.f)) return 0;
  if (v >= 1.f) return 255;
  return static_cast<std::uint8_t>(v * 255.f + 0.5f);
}
inline std::uint16_t QuantizeTo16(float v) {
  if (!(v > 0.f)) return 0;
  if (v >= 1.f) return 65535;
  // Double precision: float's 24-bit mantissa leaves too little room below 65535 for rounding.
  return static_cast<std::uint16_t>(double(v) * 65535.0 + 0.5);
}

// Readers get the file positioned at its first byte (already identified by its magic bytes);
// `path` is used for messages only, except by ReadTiff, which opens the file itself.
// Each fills `source` (never null) with the stored depth and whether alpha was dropped.
// on_rows (may be empty) is told the rows done; NPY, read in one piece, reports none.
Image ReadPng(std::FILE* file, const std::string& path, ImageSource* source,
              const RowProgress& on_rows);
Image ReadJpeg(std::FILE* file, const std::string& path, ImageSource* source,
               const RowProgress& on_rows);
Image ReadTiff(const std::string& path, ImageSource* source, const RowProgress& on_rows);
Image ReadNpy(std::FILE* file, const std::string& path, ImageSource* source);

// Writers produce the complete file at `tmp_path`; messages name `path`. Options are validated
// by WriteImage before these are called.
void WritePng(const Image& image, const std::string& tmp_path, const std::string& path,
              int bit_depth, const RowProgress& on_rows);
void WriteJpeg(const Image& image, const std::string& tmp_path, const std::string& path,
               int quality, const RowProgress& on_rows);
void WriteTiff(const Image& image, const std::string& tmp_path, const std::string& path,
               int bit_depth, const RowProgress& on_rows);
void WriteNpy(const Image& image, const std::string& tmp_path, const std::string& path);

}  // namespace blade::io_internal
