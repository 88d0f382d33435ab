// Fixed-width big-endian integers in store keys and records (node/store.h, node/state_storage.h):
// big-endian so that LevelDB's byte order is the numbers' order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace colend::node {

inline void PutU64(std::string* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
inline void PutU32(std::string* out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
// `in` holds at least 8 (4) bytes.
inline std::uint64_t GetU64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}
inline std::uint32_t GetU32(std::string_view in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

}  // namespace colend::node
