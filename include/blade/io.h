// Image files (PNG, JPEG, TIFF, NPY) and atomic output: the only place for 8/16-bit or interleaved
// pixels.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "blade/image.h"

namespace blade {

enum class FileFormat { kPng, kJpeg, kTiff, kNpy };

// Format named by a path's extension (.png, .jpg/.jpeg, .tif/.tiff, .npy, case-insensitive).
// Fails with a clear message for any other extension.
FileFormat FormatFromExtension(const std::string& path);

// What a file held before ReadImage turned it into float samples: so an output can keep the
// input's precision (OutputBitDepth) and a dropped alpha channel can be reported.
struct ImageSource {
  FileFormat format = FileFormat::kPng;
  int bit_depth = 0;           // 8 or 16 (integer samples), 32 (float samples)
  bool alpha_dropped = false;  // an alpha channel (or PNG transparency) was not read
  int pages = 1;               // a multi-page TIFF's page count (only its first is read)
};

// The one-line warnings a read deserves (an alpha channel dropped, pages beyond the first
// skipped, values far outside [0, 1]), each naming the file; empty when there is nothing to say.
// `blade` prints them and Python's read_image raises them as warnings.
std::vector<std::string> ReadWarnings(const std::string& path, const ImageSource& source,
                                      const Image& image);

// Reads an image; the format is detected from the file's first bytes, not its name.
// PNG 1-16 bit gray/gray+alpha/RGB/RGBA/palette, JPEG gray/RGB/CMYK-free, TIFF 8/16-bit integer
// and 32/64-bit float (1 or 3 samples, extra alpha samples dropped), NPY float32/float64/uint8/
// uint16 with shape (H, W) or (H, W, 1|3|4). Integer samples map to [0, 1]; alpha is dropped
// (not composited); gray+alpha becomes gray. Float data is kept exactly, including values
// outside [0, 1] and non-finite values (callers that need finite data check it).
// The header's size is checked against MaxPixels() before any pixel buffer is allocated.
// Every failure (missing, empty, truncated, corrupt, unsupported) is a blade::Error naming the
// file.
// on_rows, if given, is told the rows decoded so far (done of total; an interlaced PNG counts
// each pass), so a front end can show progress on files that take seconds.
using RowProgress = std::function<void(long done, long total)>;
Image ReadImage(const std::string& path, ImageSource* source = nullptr,
                const RowProgress& on_rows = {});

// The sample depth of an output file, the one rule of every command that writes an image:
// `requested` "8", "16" or "float" (refused where the output's format cannot hold it), or ""
// for the source's depth (8 in, 8 out; 16 in, 16 out; float in, float out), mapped to what the
// output's format holds: PNG 8 or 16 (float -> 16), JPEG 8, TIFF 8, 16 or 32-bit float, NPY
// float. A source of unknown depth (bit_depth 0) gets the format's default.
int OutputBitDepth(const std::string& path, const ImageSource& source,
                   const std::string& requested = "");
// The names of sample depths, as --depth and Python's depth= take them: "8" <-> 8, "16" <-> 16,
// "float" <-> 32. ParseSampleDepth fails on any other name.
int ParseSampleDepth(const std::string& name);
std::string SampleDepthName(int bit_depth);

// Clamping that moves samples by at most half an 8-bit level on average and kClipWarnMax
// anywhere is a sharp edge's overshoot, not a wrong result: written without a warning.
inline constexpr double kClipWarnMean = 0.5 / 255, kClipWarnMax = 0.25;

struct WriteOptions {
  // Bits per sample: PNG 8 or 16; TIFF 8, 16 or 32 (float); JPEG always 8; NPY always float32.
  // 0 picks the format's default: PNG 8, TIFF 32, JPEG 8.
  int bit_depth = 0;
  int jpeg_quality = 95;
  // Integer formats clip to [0, 1]; when the clipping changes the picture (samples moved by
  // more than kClipWarnMean on average or kClipWarnMax anywhere) this gets one line saying how
  // many pixels (a caller that wants silence passes none). NaN and infinity are refused.
  std::function<void(const std::string&)> on_warning;
  // Rows encoded so far (done of total), as ReadImage's on_rows.
  RowProgress on_rows;
};

// Middlebury .flo files: "PIEH" (float 202021.25), int32 width, int32 height, then (u, v)
// float32 pairs row by row, little-endian. Reading checks the magic, the size against the
// file length and the pixel limit, and that every value is finite (Middlebury's "unknown"
// marker, |value| > 1e9, is refused: blade needs a flow at every pixel).
Flow ReadFlo(const std::string& path);
void WriteFlo(const Flow& flow, const std::string& path);  // atomic

// Lists image files (png, jpg, jpeg, tif, tiff, npy) in a directory, sorted by name, keeping the
// first `limit` when limit > 0; a file path is returned as is. Fails if nothing is found.
std::vector<std::string> ListImages(const std::string& dir_or_file, int limit = 0);

// Writes an image in the format given by the path's extension. Integer formats clamp to [0, 1]
// and round; float TIFF and NPY keep values exactly. The file is written to a temporary file in
// the same directory and renamed into place, so a failure never leaves a partial file.
void WriteImage(const Image& image, const std::string& path, const WriteOptions& options = {});

// Calls write(tmp_path) to produce the file's content at a temporary path next to `path`, then
// renames it over `path`. If write throws, the temporary file is removed and the error rethrown.
void WriteFileAtomically(const std::string& path,
                         const std::function<void(const std::string& tmp_path)>& write);
// Writes a text file atomically.
// Deletes the temporary files of atomic writes still in progress. Async-signal-safe (only
// unlink), so a SIGINT/SIGTERM handler can call it before _exit: an interrupted command then
// leaves neither a partial output nor a temporary file.
void RemovePendingTemporaryFiles();
void WriteTextFileAtomically(const std::string& path, const std::string& text);

}  // namespace blade
