// The hello: the first frame each way on a peer connection, after TLS (transport.h). It names the
// chain (genesis hash, lowercase hex) and the member id that owns the TLS certificate:
//
//   colend-hello/v1
//   genesis: <64 hex>
//   member: <member id>
//
// Peer-controlled input: parsed strictly, never longer than kHelloBytesMax.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace colend::node {

inline constexpr std::string_view kHelloMagic = "colend-hello/v1\n";
// A hello is three short lines; a longer first frame is refused before it is read.
inline constexpr std::uint32_t kHelloBytesMax = 1024;

struct Hello {
  std::string genesis_hex;
  std::string member;
};

std::string EncodeHello(const std::string& genesis_hex, const std::string& member);
// Strict: exactly the magic line, "genesis: ", "member: ", each newline-terminated, nothing
// after. nullopt otherwise.
std::optional<Hello> ParseHello(std::string_view frame);

}  // namespace colend::node
