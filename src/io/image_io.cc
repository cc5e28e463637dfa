// Image file dispatch (format by magic bytes or extension) and atomic file output.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <optional>
#include <string_view>
#include <vector>

#include "blade/error.h"
#include "blade/io.h"
#include "io/codecs.h"

namespace blade {
namespace io_internal {

FilePtr OpenForWrite(const std::string& tmp_path, const std::string& path) {
  std::FILE* file = std::fopen(tmp_path.c_str(), "wb");
  if (file == nullptr) Fail("cannot write '", path, "': ", std::strerror(errno));
  return FilePtr(file);
}

void CloseOrFail(FilePtr file, const std::string& path) {
  std::FILE* raw = file.release();
  bool had_error = std::ferror(raw) != 0;
  // fclose flushes stdio's buffer, so the last write errors (a full disk) only surface here.
  if (std::fclose(raw) != 0) Fail("cannot write '", path, "': ", std::strerror(errno));
  if (had_error) Fail("cannot write '", path, "': I/O error");
}

void CheckHeaderSize(const std::string& path, std::int64_t width, std::int64_t height,
                     int channels) {
  try {
    CheckImageSize(width, height, channels);
  } catch (const Error& e) {
    Fail("cannot read '", path, "': ", e.what());
  }
  // BLADE_MAX_PIXELS may be raised past what an int side length can hold.
  if (width > INT_MAX || height > INT_MAX)
    Fail("cannot read '", path, "': image size ", width, "x", height, " is too large");
}

Image NewImageForFile(const std::string& path, std::int64_t width, std::int64_t height,
                      int channels) {
  CheckHeaderSize(path, width, height, channels);
  try {
    return Image(static_cast<int>(width), static_cast<int>(height), channels);
  } catch (const Error& e) {
    Fail("cannot read '", path, "': ", e.what());
  }
}

}  // namespace io_internal

namespace {

namespace fs = std::filesystem;
using io_internal::FilePtr;

// Leading bytes that identify each format.
struct Signature {
  FileFormat format;
  std::string_view magic;
};
constexpr Signature kSignatures[] = {
    {FileFormat::kPng, std::string_view("\x89PNG\r\n\x1a\n", 8)},
    {FileFormat::kJpeg, std::string_view("\xff\xd8\xff", 3)},
    {FileFormat::kTiff, std::string_view("II*\0", 4)},
    {FileFormat::kTiff, std::string_view("MM\0*", 4)},
    {FileFormat::kTiff, std::string_view("II+\0", 4)},  // BigTIFF
    {FileFormat::kTiff, std::string_view("MM\0+", 4)},
    {FileFormat::kNpy, std::string_view("\x93NUMPY", 6)},
};
constexpr std::size_t kMaxMagic = 8;

// Identifies the format from the first bytes of the file; fails for anything else.
FileFormat DetectFormat(std::string_view head, const std::string& path) {
  for (const Signature& s : kSignatures)
    if (head.size() >= s.magic.size() && head.substr(0, s.magic.size()) == s.magic) return s.format;
  // A file shorter than a signature that starts like one is a truncated file of that format,
  // which deserves a better message than "unsupported".
  if (head.size() >= 2)
    for (const Signature& s : kSignatures)
      if (head.size() < s.magic.size() && s.magic.substr(0, head.size()) == head)
        Fail("cannot read '", path, "': file is truncated");
  Fail("'", path, "': unsupported image format (expected PNG, JPEG, TIFF or NPY)");
}

// The permission bits a file created with open(..., 0666) would get. mkstemp uses 0600, which
// would make every output private; the atomic rename must not change what users see.
mode_t NewFileMode() {
  static const mode_t mode = [] {
    mode_t mask = 022;
    // /proc avoids umask()'s set-and-restore, which races with other threads creating files.
    std::ifstream status("/proc/self/status");
    std::string line;
    bool found = false;
    while (std::getline(status, line)) {
      if (line.rfind("Umask:", 0) == 0) {
        mask = static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8));
        found = true;
        break;
      }
    }
    if (!found) {
      mask = ::umask(022);
      ::umask(mask);
    }
    return static_cast<mode_t>(0666 & ~mask);
  }();
  return mode;
}

}  // namespace

FileFormat FormatFromExtension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".png") return FileFormat::kPng;
  if (ext == ".jpg" || ext == ".jpeg") return FileFormat::kJpeg;
  if (ext == ".tif" || ext == ".tiff") return FileFormat::kTiff;
  if (ext == ".npy") return FileFormat::kNpy;
  if (path == "-")
    Fail(
        "images are not written to standard output ('-'); give a file (.png, .jpg, .jpeg, .tif, "
        ".tiff or .npy)");
  if (ext.empty())
    Fail("'", path, "': no file extension (expected .png, .jpg, .jpeg, .tif, .tiff or .npy)");
  Fail("'", path, "': unsupported file extension '", ext,
       "' (expected .png, .jpg, .jpeg, .tif, .tiff or .npy)");
}

Image ReadImage(const std::string& path, ImageSource* source, const RowProgress& on_rows) {
  ImageSource unused;
  if (source == nullptr) source = &unused;
  if (path == "-")
    Fail("images are not read from standard input ('-'); give a file (PNG, JPEG, TIFF or NPY)");
  std::FILE* raw = std::fopen(path.c_str(), "rb");
  if (raw == nullptr) FailToOpen(path, "", errno);
  FilePtr file(raw);
  // fopen succeeds on a directory under Linux; reading it then fails with a vaguer message.
  struct stat st;
  if (::fstat(::fileno(raw), &st) == 0 && S_ISDIR(st.st_mode))
    Fail("cannot read '", path, "': is a directory");

  char head[kMaxMagic];
  std::size_t n = std::fread(head, 1, sizeof(head), raw);
  if (std::ferror(raw)) Fail("cannot read '", path, "': ", std::strerror(errno));
  if (n == 0) Fail("'", path, "' is empty");
  FileFormat format = DetectFormat(std::string_view(head, n), path);
  if (std::fseek(raw, 0, SEEK_SET) != 0) Fail("cannot read '", path, "': ", std::strerror(errno));

  try {
    switch (format) {
      case FileFormat::kPng:
        return io_internal::ReadPng(raw, path, source, on_rows);
      case FileFormat::kJpeg:
        return io_internal::ReadJpeg(raw, path, source, on_rows);
      case FileFormat::kTiff:
        file.reset();  // libtiff opens the file itself
        return io_internal::ReadTiff(path, source, on_rows);
      case FileFormat::kNpy:
        return io_internal::ReadNpy(raw, path, source);
    }
  } catch (const std::bad_alloc&) {
    Fail("cannot read '", path, "': out of memory");
  }
  Fail("cannot read '", path, "': unknown format");
}

namespace {

// What clamping to [0, 1] does to an image: the pixels it changes (any channel outside, or not
// a number), the mean change per sample and the largest.
struct Clipping {
  std::size_t pixels = 0;
  double mean = 0, max = 0;
};
Clipping MeasureClipping(const Image& image) {
  Clipping c;
  double sum = 0;
  for (std::size_t i = 0; i < image.plane_size(); ++i) {
    bool out = false;
    for (int ch = 0; ch < image.channels(); ++ch) {
      const double v = image.plane(ch)[i];
      const double d = std::isnan(v) ? 1.0 : v < 0 ? -v : v > 1 ? v - 1 : 0.0;
      out = out || d > 0;
      sum += d;
      c.max = std::max(c.max, d);
    }
    c.pixels += out;
  }
  c.mean = image.size() ? sum / double(image.size()) : 0;
  return c;
}

}  // namespace

int ParseSampleDepth(const std::string& name) {
  if (name == "8") return 8;
  if (name == "16") return 16;
  if (name == "float") return 32;
  Fail("unknown sample depth '", name, "' (8, 16 or float)");
}

std::string SampleDepthName(int bit_depth) { return bit_depth == 32 ? "float" : StrCat(bit_depth); }

int OutputBitDepth(const std::string& path, const ImageSource& source,
                   const std::string& requested) {
  const FileFormat format = FormatFromExtension(path);
  int depth = requested.empty() ? 0 : ParseSampleDepth(requested);
  const bool explicit_request = depth != 0;
  if (!explicit_request) depth = source.bit_depth;
  switch (format) {
    case FileFormat::kPng:
      if (explicit_request && depth == 32)
        Fail("cannot write '", path,
             "': PNG holds 8- or 16-bit samples, not float (write .tiff "
             "or .npy)");
      return depth == 0 ? 8 : depth == 8 ? 8 : 16;  // float sources keep 16 bits
    case FileFormat::kJpeg:
      if (explicit_request && depth != 8)
        Fail("cannot write '", path, "': JPEG holds 8-bit samples only (write .png or .tiff)");
      return 8;
    case FileFormat::kTiff:
      return depth == 0 ? 32 : depth;
    case FileFormat::kNpy:
      if (explicit_request && depth != 32)
        Fail("cannot write '", path, "': NPY files hold float32 samples only");
      return 32;
  }
  return depth;
}

namespace {
fs::path FollowLinks(const std::string& path);
}  // namespace

void WriteImage(const Image& image, const std::string& path, const WriteOptions& options) {
  FileFormat format = FormatFromExtension(path);
  // Through a link the bytes land in the file it names: a name that says another format
  // (out.png -> t.tif) would get bytes its readers do not expect.
  if (const fs::path target = FollowLinks(path); target != fs::path(path)) {
    std::optional<FileFormat> named;
    try {
      named = FormatFromExtension(target.string());
    } catch (const Error&) {  // a target without a known extension: the link's name decides
    }
    if (named && *named != format)
      Fail("cannot write '", path, "': it links to '", target.string(),
           "', whose name says another format");
  }
  if (image.empty()) Fail("cannot write '", path, "': the image is empty");
  int depth = options.bit_depth;
  switch (format) {
    case FileFormat::kPng:
      if (depth == 0) depth = 8;
      if (depth != 8 && depth != 16)
        Fail("cannot write '", path, "': PNG bit depth must be 8 or 16 (got ", depth, ")");
      break;
    case FileFormat::kJpeg:
      if (depth == 0) depth = 8;
      if (depth != 8) Fail("cannot write '", path, "': JPEG bit depth must be 8 (got ", depth, ")");
      if (options.jpeg_quality < 1 || options.jpeg_quality > 100)
        Fail("cannot write '", path, "': JPEG quality must be between 1 and 100 (got ",
             options.jpeg_quality, ")");
      break;
    case FileFormat::kTiff:
      if (depth == 0) depth = 32;
      if (depth != 8 && depth != 16 && depth != 32)
        Fail("cannot write '", path, "': TIFF bit depth must be 8, 16 or 32 (got ", depth, ")");
      break;
    case FileFormat::kNpy:
      if (depth == 0) depth = 32;
      if (depth != 32)
        Fail("cannot write '", path, "': NPY files are always float32 (got bit depth ", depth, ")");
      break;
  }
  // Integer samples clamp to [0, 1]: say so in one line when it changes the picture. The
  // overshoot of a sharp edge (upscaling's, restoration's ringing) is clamped silently by every
  // imaging tool; a warning on nearly every photograph would teach users to ignore it. Clamping
  // is reported when it moves the samples by more than half an 8-bit level on average, or any
  // sample by more than kClipWarnMax (a blow-up, a 0-255 float image).
  const bool integer = format == FileFormat::kPng || format == FileFormat::kJpeg ||
                       (format == FileFormat::kTiff && depth != 32);
  // NaN has no integer sample: it was written as 0 under a warning about clipping "by up to 1".
  if (integer) {
    std::size_t non_finite = 0;
    for (std::size_t i = 0; i < image.size(); ++i) non_finite += !std::isfinite(image.data()[i]);
    if (non_finite > 0)
      Fail("cannot write '", path, "': ", non_finite,
           " samples are NaN or infinite, which integer samples cannot hold (a float .tiff or "
           ".npy keeps them)");
  }
  if (integer && options.on_warning) {
    const Clipping c = MeasureClipping(image);
    if (c.mean > kClipWarnMean || c.max > kClipWarnMax)
      options.on_warning(
          StrCat(c.pixels, " of ", image.plane_size(), " pixels lie outside [0, 1] (by up to ",
                 float(c.max), ") and were clipped writing '", path, "' (", depth,
                 "-bit); write a float .tiff (--depth float; Python depth=\"float\") or .npy "
                 "to keep them"));
  }
  WriteFileAtomically(path, [&](const std::string& tmp_path) {
    try {
      switch (format) {
        case FileFormat::kPng:
          io_internal::WritePng(image, tmp_path, path, depth, options.on_rows);
          break;
        case FileFormat::kJpeg:
          io_internal::WriteJpeg(image, tmp_path, path, options.jpeg_quality, options.on_rows);
          break;
        case FileFormat::kTiff:
          io_internal::WriteTiff(image, tmp_path, path, depth, options.on_rows);
          break;
        case FileFormat::kNpy:
          io_internal::WriteNpy(image, tmp_path, path);
          break;
      }
    } catch (const std::bad_alloc&) {
      Fail("cannot write '", path, "': out of memory");
    }
  });
}

namespace {

// Temporary files being written, for RemovePendingTemporaryFiles (lock-free: a signal handler
// reads it). A slot is 0 free, 1 being filled, 2 holding a path.
constexpr int kPendingSlots = 32;
constexpr std::size_t kMaxPendingPath = 4096;
std::atomic<int> pending_state[kPendingSlots];
char pending_path[kPendingSlots][kMaxPendingPath];

int RegisterPending(const std::string& tmp) {
  if (tmp.size() >= kMaxPendingPath) return -1;
  for (int i = 0; i < kPendingSlots; ++i) {
    int expected = 0;
    if (pending_state[i].compare_exchange_strong(expected, 1)) {
      std::memcpy(pending_path[i], tmp.c_str(), tmp.size() + 1);
      pending_state[i].store(2);
      return i;
    }
  }
  return -1;  // more concurrent writes than slots: this one is simply not tracked
}

void UnregisterPending(int slot) {
  if (slot >= 0) pending_state[slot].store(0);
}

}  // namespace

void RemovePendingTemporaryFiles() {
  for (int i = 0; i < kPendingSlots; ++i)
    if (pending_state[i].load() == 2) ::unlink(pending_path[i]);
}

namespace {

// Where writing `path` lands: through symbolic links to the file they name (as ImageMagick, PIL
// and OpenCV write), so the link survives and its target changes; at most 40 links, as the
// kernel allows.
// A link in a sticky, world-writable folder (/tmp) is followed only when it belongs to us or to
// the folder's owner: the kernel's protected_symlinks rule, which following links by hand would
// otherwise bypass (another user's /tmp/out.png -> ~/.bashrc).
fs::path FollowLinks(const std::string& path) {
  fs::path p(path);
  std::error_code ec;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(p, ec)); ++hops) {
    if (hops == 40) Fail("cannot write '", path, "': too many levels of symbolic links");
    struct stat link {
    }, folder{};
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (::lstat(p.c_str(), &link) == 0 && ::stat(dir.c_str(), &folder) == 0 &&
        (folder.st_mode & S_ISVTX) && (folder.st_mode & S_IWOTH) && link.st_uid != ::geteuid() &&
        link.st_uid != folder.st_uid)
      Fail("cannot write '", path, "': a symbolic link of another user in the shared folder '",
           dir.string(), "' is not followed");
    const fs::path next = fs::read_symlink(p, ec);
    if (ec) Fail("cannot write '", path, "': ", ec.message());
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
  return p;
}

}  // namespace

void WriteFileAtomically(const std::string& path,
                         const std::function<void(const std::string& tmp_path)>& write) {
  if (path.empty()) Fail("cannot write a file with an empty name");
  fs::path target = FollowLinks(path);
  if (!target.has_filename()) Fail("cannot write '", path, "': not a file name");
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (fs::exists(dir, ec))
      Fail("cannot write '", path, "': '", dir.string(), "' is not a directory");
    Fail("cannot write '", path, "': directory '", dir.string(), "' does not exist");
  }
  if (fs::is_directory(target, ec)) Fail("cannot write '", path, "': is a directory");
  // An existing file keeps its permissions, and one we may not write is not replaced (renaming
  // over it would succeed wherever the directory is writable).
  struct stat existing {};
  const bool exists = ::stat(target.c_str(), &existing) == 0;
  // Only a regular file is replaced: renaming over a FIFO or a device (a link to /dev/null)
  // would swap it for a file.
  if (exists && !S_ISREG(existing.st_mode))
    Fail("cannot write '", path, "': '", target.string(), "' is not a regular file");
  if (exists && ::access(target.c_str(), W_OK) != 0)
    Fail("cannot write '", path, "': ", std::strerror(errno));

  // Same directory as the target, so the final rename never crosses a file system; the dot
  // hides the temporary file from casual listings.
  // The name is registered for RemovePendingTemporaryFiles before the file exists (an interrupt
  // between mkstemp's creation and the registration left the file behind), then created
  // exclusively; a name already taken is unregistered and another one tried.
  // (StrCat, not "." + string: GCC 12 warns falsely (-Wrestrict) on that operator+.)
  const std::string prefix = (dir / StrCat(".", target.filename().string(), ".tmp-")).string();
  static std::atomic<unsigned> counter{0};
  std::string tmp_path;
  int slot = -1, fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp_path = StrCat(prefix, ::getpid(), "-", counter.fetch_add(1), "-", attempt);
    slot = RegisterPending(tmp_path);
    fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) break;
    const int error = errno;
    UnregisterPending(slot);
    if (error != EEXIST || attempt >= 100)
      Fail("cannot write '", path, "': ", std::strerror(error));
  }
  ::fchmod(fd, exists ? existing.st_mode & 0777 : NewFileMode());  // no setuid/setgid
  ::close(fd);

  try {
    write(tmp_path);
    if (std::rename(tmp_path.c_str(), target.c_str()) != 0)
      Fail("cannot write '", path, "': ", std::strerror(errno));
  } catch (...) {
    std::remove(tmp_path.c_str());
    UnregisterPending(slot);
    throw;
  }
  UnregisterPending(slot);
  // No fsync: outputs are reproducible results, and syncing every file would slow down runs
  // that write many frames; the rename alone already guarantees no reader sees a partial file.
}

std::vector<std::string> ReadWarnings(const std::string& path, const ImageSource& source,
                                      const Image& image) {
  std::vector<std::string> warnings;
  if (source.alpha_dropped)
    warnings.push_back(StrCat("'", path,
                              "' has an alpha channel (transparency); it was dropped, and the "
                              "output has none"));
  if (source.pages > 1)
    warnings.push_back(StrCat("'", path, "' has ", source.pages,
                              " pages (a stack or a multi-page TIFF); only the first was read"));
  if (const std::string w = IntensityRangeWarning(image); !w.empty())
    warnings.push_back(StrCat("'", path, "' has ", w));
  return warnings;
}

void WriteTextFileAtomically(const std::string& path, const std::string& text) {
  WriteFileAtomically(path, [&](const std::string& tmp_path) {
    FilePtr file = io_internal::OpenForWrite(tmp_path, path);
    if (!text.empty() && std::fwrite(text.data(), 1, text.size(), file.get()) != text.size())
      Fail("cannot write '", path, "': ", std::strerror(errno));
    io_internal::CloseOrFail(std::move(file), path);
  });
}

}  // namespace blade
