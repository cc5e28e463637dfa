// Middlebury .flo optical-flow files: read with every header field and value checked, written
// atomically.
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "blade/error.h"
#include "blade/io.h"
#include "io/codecs.h"

namespace blade {
namespace {

constexpr float kFloMagic = 202021.25f;  // the bytes "PIEH" read as a little-endian float

}  // namespace

Flow ReadFlo(const std::string& path) {
  std::FILE* raw = std::fopen(path.c_str(), "rb");
  if (raw == nullptr) FailToOpen(path, "flow ", errno);
  io_internal::FilePtr file(raw);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) Fail("cannot read '", path, "': is a directory");
  float magic = 0;
  std::int32_t wh[2] = {0, 0};
  if (std::fread(&magic, 4, 1, raw) != 1 || std::fread(wh, 4, 2, raw) != 2)
    Fail("'", path, "' is not a .flo file (too short for its header)");
  if (magic != kFloMagic) Fail("'", path, "' is not a .flo file (missing the \"PIEH\" tag)");
  if (wh[0] < 1 || wh[1] < 1) Fail("'", path, "': invalid flow size ", wh[0], "x", wh[1]);
  io_internal::CheckHeaderSize(path, wh[0], wh[1], 1);
  const auto bytes = std::filesystem::file_size(path, ec);
  const std::uint64_t need = 12 + std::uint64_t(wh[0]) * wh[1] * 8;
  if (ec || bytes < need)
    Fail("'", path, "' is truncated: a ", wh[0], "x", wh[1], " flow needs ", need, " bytes");
  // As Middlebury's readFlowFile ("file is too long"): bytes past the flow mean the header's
  // size is not the file's, and the flow read from it would be wrong.
  if (bytes > need)
    Fail("'", path, "' has ", bytes - need, " bytes past its ", wh[0], "x", wh[1],
         " flow (a corrupt or concatenated file)");
  Flow flow(wh[0], wh[1]);
  std::vector<float> row(std::size_t(wh[0]) * 2);
  for (int y = 0; y < flow.height; ++y) {
    if (std::fread(row.data(), 4, row.size(), raw) != row.size()) Fail("'", path, "' is truncated");
    for (int x = 0; x < flow.width; ++x) {
      const float a = row[2 * x], b = row[2 * x + 1];
      if (!std::isfinite(a) || !std::isfinite(b) || std::abs(a) > 1e9f || std::abs(b) > 1e9f)
        Fail("'", path, "' has an unknown or non-finite flow at (", x, ", ", y, ")");
      flow.U(x, y) = a;
      flow.V(x, y) = b;
    }
  }
  return flow;
}

void WriteFlo(const Flow& flow, const std::string& path) {
  if (flow.width < 1 || flow.height < 1) Fail("cannot write an empty flow to '", path, "'");
  WriteFileAtomically(path, [&](const std::string& tmp) {
    io_internal::FilePtr file = io_internal::OpenForWrite(tmp, path);
    const std::int32_t wh[2] = {flow.width, flow.height};
    bool ok =
        std::fwrite(&kFloMagic, 4, 1, file.get()) == 1 && std::fwrite(wh, 4, 2, file.get()) == 2;
    std::vector<float> row(std::size_t(flow.width) * 2);
    for (int y = 0; y < flow.height && ok; ++y) {
      for (int x = 0; x < flow.width; ++x) {
        row[2 * x] = flow.U(x, y);
        row[2 * x + 1] = flow.V(x, y);
      }
      ok = std::fwrite(row.data(), 4, row.size(), file.get()) == row.size();
    }
    if (!ok) Fail("cannot write '", path, "': ", std::strerror(errno));
    io_internal::CloseOrFail(std::move(file), path);
  });
}

}  // namespace blade
