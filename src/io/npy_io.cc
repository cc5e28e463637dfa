// NumPy .npy reading (float32/float64/uint8/uint16, (H, W) or (H, W, C)) and float32 writing.
#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "blade/error.h"
#include "io/codecs.h"

namespace blade::io_internal {
namespace {

constexpr std::string_view kMagic("\x93NUMPY", 6);
// numpy writes headers of a few hundred bytes; anything near this is corrupt, and the cap keeps
// a forged length from driving a huge allocation.
constexpr std::uint32_t kMaxHeaderBytes = 1 << 20;
// Dimensions are parsed saturating at this value; CheckHeaderSize then rejects them cleanly.
constexpr std::int64_t kDimensionCap = std::int64_t{1} << 50;

struct NpyHeader {
  char byte_order = '<';  // '<' little, '>' big, '|' not applicable, '=' native
  char kind = 'f';        // 'f' float, 'u' unsigned integer
  int item_size = 4;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// Parses the header, a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (480, 640, 3), }
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  NpyHeader Parse() {
    NpyHeader header;
    bool have_descr = false, have_order = false, have_shape = false;
    Expect('{');
    while (!Peek('}')) {
      std::string key = ParseString();
      Expect(':');
      if (key == "descr") {
        ParseDescr(ParseString(), &header);
        have_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = ParseBool();
        have_order = true;
      } else if (key == "shape") {
        header.shape = ParseShape();
        have_shape = true;
      } else {
        Bad("unknown key '" + key + "'");
      }
      if (!Peek(',')) break;
      ++pos_;
    }
    Expect('}');
    if (!have_descr || !have_order || !have_shape)
      Bad("'descr', 'fortran_order' and 'shape' are required");
    return header;
  }

 private:
  [[noreturn]] void Bad(const std::string& what) const {
    Fail("cannot read '", path_, "': malformed NPY header (", what, ")");
  }

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void Expect(char c) {
    if (!Peek(c)) Bad(std::string("expected '") + c + "'");
    ++pos_;
  }

  std::string ParseString() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      Bad("expected a string");
    char quote = text_[pos_++];
    std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) Bad("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  bool ParseBool() {
    SkipSpace();
    std::string_view rest = text_.substr(pos_);
    if (rest.starts_with("True")) {
      pos_ += 4;
      return true;
    }
    if (rest.starts_with("False")) {
      pos_ += 5;
      return false;
    }
    Bad("expected True or False");
  }

  std::vector<std::int64_t> ParseShape() {
    std::vector<std::int64_t> shape;
    Expect('(');
    while (!Peek(')')) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
        Bad("expected a dimension");
      std::int64_t value = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        value = std::min(kDimensionCap, value * 10 + (text_[pos_] - '0'));
        ++pos_;
      }
      if (shape.size() >= 8) Bad("too many dimensions");
      shape.push_back(value);
      if (!Peek(',')) break;
      ++pos_;
    }
    Expect(')');
    return shape;
  }

  void ParseDescr(const std::string& descr, NpyHeader* header) {
    if (descr.size() == 3 && std::string_view("<>|=").find(descr[0]) != std::string_view::npos) {
      header->byte_order = descr[0];
      header->kind = descr[1];
      header->item_size = descr[2] - '0';
      if ((header->kind == 'f' && (header->item_size == 4 || header->item_size == 8)) ||
          (header->kind == 'u' && (header->item_size == 1 || header->item_size == 2)))
        return;
    }
    Fail("cannot read '", path_, "': unsupported NPY dtype '", descr,
         "' (expected float32, float64, uint8 or uint16)");
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

std::uint16_t Swap(std::uint16_t v) { return __builtin_bswap16(v); }
std::uint32_t Swap(std::uint32_t v) { return __builtin_bswap32(v); }
std::uint64_t Swap(std::uint64_t v) { return __builtin_bswap64(v); }

// Loads one element of type T stored at p, swapping bytes if the file's order is not ours.
template <typename T>
T Load(const unsigned char* p, bool swap) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return swap ? Swap(v) : v;
}

void ReadExactly(std::FILE* file, void* data, std::size_t size, const std::string& path) {
  if (std::fread(data, 1, size, file) != size)
    Fail("cannot read '", path,
         "': ", std::ferror(file) ? std::strerror(errno) : "file is truncated");
}

}  // namespace

Image ReadNpy(std::FILE* file, const std::string& path, ImageSource* source) {
  unsigned char preamble[8];
  ReadExactly(file, preamble, sizeof(preamble), path);
  if (std::string_view(reinterpret_cast<const char*>(preamble), kMagic.size()) != kMagic)
    Fail("cannot read '", path, "': not an NPY file");
  const int major = preamble[6], minor = preamble[7];
  std::uint32_t header_size = 0;
  if (major == 1) {
    unsigned char len[2];
    ReadExactly(file, len, sizeof(len), path);
    header_size = len[0] | (len[1] << 8);
  } else if (major == 2 || major == 3) {  // 3 only changes the header's text encoding
    unsigned char len[4];
    ReadExactly(file, len, sizeof(len), path);
    header_size = std::uint32_t(len[0]) | (std::uint32_t(len[1]) << 8) |
                  (std::uint32_t(len[2]) << 16) | (std::uint32_t(len[3]) << 24);
  } else {
    Fail("cannot read '", path, "': unsupported NPY version ", major, ".", minor);
  }
  if (header_size > kMaxHeaderBytes)
    Fail("cannot read '", path, "': NPY header is too large (", header_size, " bytes)");
  std::string text(header_size, '\0');
  ReadExactly(file, text.data(), text.size(), path);
  NpyHeader header = HeaderParser(text, path).Parse();

  if (header.fortran_order)
    Fail("cannot read '", path, "': Fortran-ordered NPY arrays are not supported");
  const std::vector<std::int64_t>& shape = header.shape;
  if (shape.size() != 2 && shape.size() != 3)
    Fail("cannot read '", path, "': NPY array has ", shape.size(),
         " dimensions; expected (H, W) or (H, W, C)");
  const std::int64_t stored = shape.size() == 3 ? shape[2] : 1;
  if (stored != 1 && stored != 3 && stored != 4)
    Fail("cannot read '", path, "': NPY array of shape (", shape[0], ", ", shape[1], ", ", stored,
         ") has ", stored, " channels; expected (H, W, 1|3|4)",
         shape[0] == 1 || shape[0] == 3 || shape[0] == 4
             ? StrCat(" (channels first? use np.moveaxis(a, 0, -1))")
             : std::string());
  const int channels = stored == 1 ? 1 : 3;
  CheckHeaderSize(path, shape[1], shape[0], channels);
  source->format = FileFormat::kNpy;
  source->bit_depth = header.kind == 'f' ? 32 : 8 * int(header.item_size);
  source->alpha_dropped = stored == 4;

  const int width = static_cast<int>(shape[1]), height = static_cast<int>(shape[0]);
  const std::size_t item = header.item_size;
  // A forged shape within the pixel limit still must not make a tiny file cost gigabytes.
  struct stat st;
  long position = std::ftell(file);
  if (::fstat(::fileno(file), &st) == 0 && S_ISREG(st.st_mode) && position >= 0 &&
      std::int64_t(st.st_size) - position < std::int64_t(width) * height * stored * item)
    Fail("cannot read '", path, "': file is truncated");
  Image image = NewImageForFile(path, width, height, channels);

  const char native = std::endian::native == std::endian::little ? '<' : '>';
  const bool swap = item > 1 && (header.byte_order == '<' || header.byte_order == '>') &&
                    header.byte_order != native;
  auto load = [&](const unsigned char* p) -> float {
    if (header.kind == 'u') return item == 1 ? *p / 255.f : Load<std::uint16_t>(p, swap) / 65535.f;
    if (item == 4) return std::bit_cast<float>(Load<std::uint32_t>(p, swap));
    return static_cast<float>(std::bit_cast<double>(Load<std::uint64_t>(p, swap)));
  };
  std::vector<unsigned char> row(std::size_t(width) * stored * item);
  for (int y = 0; y < height; ++y) {
    ReadExactly(file, row.data(), row.size(), path);
    for (int c = 0; c < channels; ++c) {
      float* dst = image.row(c, y);
      for (int x = 0; x < width; ++x)
        dst[x] = load(row.data() + (std::size_t(x) * stored + c) * item);
    }
  }
  return image;
}

void WriteNpy(const Image& image, const std::string& tmp_path, const std::string& path) {
  const int width = image.width(), height = image.height(), channels = image.channels();
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                     std::to_string(height) + ", " + std::to_string(width) +
                     (channels == 3 ? ", 3" : "") + "), }";
  // numpy pads the header with spaces and a newline so the data starts 64-byte aligned.
  const std::size_t preamble = kMagic.size() + 2 + 2;
  dict.append((64 - (preamble + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string head(kMagic);
  head += '\x01';  // version 1.0: the header length fits 16 bits
  head += '\x00';
  head += static_cast<char>(dict.size() & 0xff);
  head += static_cast<char>(dict.size() >> 8);
  head += dict;

  FilePtr file = OpenForWrite(tmp_path, path);
  auto write = [&](const void* data, std::size_t size) {
    if (std::fwrite(data, 1, size, file.get()) != size)
      Fail("cannot write '", path, "': ", std::strerror(errno));
  };
  write(head.data(), head.size());
  std::vector<std::uint32_t> row(std::size_t(width) * channels);
  for (int y = 0; y < height; ++y) {
    for (int c = 0; c < channels; ++c) {
      const float* src = image.row(c, y);
      for (int x = 0; x < width; ++x) {
        std::uint32_t bits = std::bit_cast<std::uint32_t>(src[x]);
        row[std::size_t(x) * channels + c] =
            std::endian::native == std::endian::little ? bits : Swap(bits);
      }
    }
    write(row.data(), row.size() * sizeof(row[0]));
  }
  CloseOrFail(std::move(file), path);
}

}  // namespace blade::io_internal
