// Hash functions and hex encoding. SHA-256 is used for every identifier in both suites (block
// hash, transaction id, Merkle trees, fingerprints) so an arbitrator can check them with
// `sha256sum`; SM3 is the digest inside SM2 signatures of the `sm` suite.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/result.h"

namespace colend::crypto {

using Hash256 = std::array<std::uint8_t, 32>;

Hash256 Sha256(std::string_view data);
Hash256 Sm3(std::string_view data);

// SHA-256 of data given in pieces (a file read in chunks): the same digest as Sha256 of the
// pieces joined.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  Hash256 Final();  // once

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

// Lowercase hex.
std::string ToHex(std::string_view bytes);
std::string ToHex(const Hash256& hash);
// Accepts lower or upper case; rejects odd length and non-hex characters ("bad-hex").
Result<std::string> FromHex(std::string_view hex);
Result<Hash256> Hash256FromHex(std::string_view hex);  // exactly 64 hex digits
std::string_view AsBytes(const Hash256& hash);

}  // namespace colend::crypto
