// On-disk cache of reference frame sequences, keyed by image content, preset and solver version.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "base/hash.h"
#include "blade/error.h"
#include "blade/io.h"
#include "blade/train.h"

namespace blade {
namespace {

constexpr char kMagic[8] = {'B', 'L', 'A', 'D', 'E', 'F', 'R', '1'};

std::string CacheKey(const Preset& preset, const Image& hr) {
  std::ostringstream desc;
  desc.precision(17);
  desc << "solver" << kSolverVersion << ";" << PdeName(preset.pde) << ";T=" << preset.time
       << ";s=" << preset.scale << ";n=" << preset.hr_steps << ";f=" << preset.frames;
  for (const auto& [k, v] : preset.params.ToMap(preset.pde)) desc << ";" << k << "=" << v;
  desc << ";" << hr.width() << "x" << hr.height() << "x" << hr.channels();
  const std::string d = desc.str();
  std::uint64_t h = Fnv1a(d.data(), d.size());
  h = Fnv1a(hr.data(), hr.size() * sizeof(float), h);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%016llx.frames", PdeName(preset.pde).c_str(),
                static_cast<unsigned long long>(h));
  return buf;
}

bool ReadFrames(const std::string& path, int count, int w, int h, std::vector<Image>& out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[8];
  std::int32_t header[3];
  bool ok = std::fread(magic, 1, 8, f) == 8 && std::memcmp(magic, kMagic, 8) == 0 &&
            std::fread(header, sizeof header, 1, f) == 1 && header[0] == count && header[1] == w &&
            header[2] == h;
  for (int k = 0; ok && k < count; ++k) {
    Image im(w, h);
    ok = std::fread(im.data(), sizeof(float), im.size(), f) == im.size() && AllFinite(im);
    out.push_back(std::move(im));
  }
  std::fclose(f);
  if (!ok) out.clear();
  return ok;
}

void WriteFrames(const std::string& path, const std::vector<Image>& frames) {
  WriteFileAtomically(path, [&](const std::string& tmp) {
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (f == nullptr) Fail("cannot write cache file '", tmp, "'");
    const std::int32_t header[3] = {std::int32_t(frames.size()), frames[0].width(),
                                    frames[0].height()};
    bool ok = std::fwrite(kMagic, 1, 8, f) == 8 && std::fwrite(header, sizeof header, 1, f) == 1;
    for (const Image& im : frames)
      ok = ok && std::fwrite(im.data(), sizeof(float), im.size(), f) == im.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) Fail("cannot write cache file '", tmp, "'");
  });
}

}  // namespace

std::string DefaultCacheDir() {
  if (const char* env = std::getenv("BLADE_CACHE"); env != nullptr && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg)
    return std::string(xdg) + "/blade";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home)
    return std::string(home) + "/.cache/blade";
  return (std::filesystem::temp_directory_path() / "blade-cache").string();
}

std::vector<Image> CachedReferenceFrames(const Preset& preset, const Image& hr,
                                         const std::string& cache_dir) {
  if (cache_dir.empty()) return ReferenceFrames(preset, hr);
  const std::string path = cache_dir + "/" + CacheKey(preset, hr);
  std::vector<Image> frames;
  if (ReadFrames(path, preset.frames + 1, hr.width() / preset.scale, hr.height() / preset.scale,
                 frames))
    return frames;
  frames = ReferenceFrames(preset, hr);
  std::error_code ec;
  std::filesystem::create_directories(cache_dir, ec);
  // A cache that cannot be written only costs time later; the frames are still correct.
  try {
    WriteFrames(path, frames);
  } catch (const Error&) {
  }
  return frames;
}

}  // namespace blade
