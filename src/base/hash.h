// FNV-1a, 64 bit: a stable content hash (std::hash is not stable across builds), for cache keys
// and the model file's checksum.
#pragma once

#include <cstddef>
#include <cstdint>

namespace blade {

inline std::uint64_t Fnv1a(const void* data, std::size_t n,
                           std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

}  // namespace blade
