// Listing the image files of a folder (the evaluation and training commands take folders).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "blade/error.h"
#include "blade/io.h"

namespace blade {

std::vector<std::string> ListImages(const std::string& dir_or_file, int limit) {
  if (limit < 0) Fail("the image limit must not be negative (got ", limit, ")");
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir_or_file, ec))
    throw NotFoundError(StrCat("'", dir_or_file, "' does not exist"));
  if (!fs::is_directory(dir_or_file, ec)) return {dir_or_file};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir_or_file, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".tif" || ext == ".tiff" ||
        ext == ".npy")
      files.push_back(entry.path().string());
  }
  if (ec) Fail("cannot list '", dir_or_file, "': ", ec.message());
  if (files.empty()) Fail("no images (png, jpg, tif, npy) in '", dir_or_file, "'");
  std::sort(files.begin(), files.end());
  if (limit > 0 && std::size_t(limit) < files.size()) files.resize(limit);
  return files;
}

}  // namespace blade
