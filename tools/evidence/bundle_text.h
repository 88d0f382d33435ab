// The text formats of an evidence bundle (docs/evidence-bundle.md), parsed for colend-verify:
// strict "key: value" lines under a magic first line, block headers, inclusion proofs and state
// proofs. Written from the format document, not from the node's code (tools/evidence/
// bundle_verifier.h says why).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crypto/hash.h"

namespace colend::evidence::bundle_text {

using crypto::Hash256;

// "key: value" lines after a magic first line; every line ends with LF.
struct Lines {
  std::vector<std::pair<std::string, std::string>> items;
  std::string Get(const std::string& key) const {
    for (const auto& [k, v] : items) {
      if (k == key) return v;
    }
    return "";
  }
  std::size_t Count(const std::string& key) const {
    return std::count_if(items.begin(), items.end(), [&](const auto& kv) { return kv.first == key; });
  }
};

struct Header {
  std::string text;
  Hash256 hash{};
  std::string chain_id;
  std::uint64_t height = 0;
  std::int64_t time_ms = 0;
  std::uint64_t tx_count = 0;
  Hash256 tx_root{}, state_root{}, ledger_root{}, membership_sha256{};
  std::uint64_t ledger_size = 0;
  std::uint64_t epoch = 0;
};

struct Inclusion {
  std::uint64_t index = 0, size = 0;
  std::vector<Hash256> path;
};

// A decimal without sign or leading zero, at most 19 digits.
std::optional<std::uint64_t> Decimal(std::string_view s);

// 64 lower-case hex digits.
std::optional<Hash256> Hex32(std::string_view s);

// `text` as Lines under the first line `magic`; nullopt for CR, a missing final LF or a line
// without ": ".
std::optional<Lines> ParseLines(std::string_view text, std::string_view magic);

// Keys must come exactly in this order, each once.
bool HasExactKeys(const Lines& lines, const std::vector<std::string>& keys);

// A colend-block-header/v1 text with every key in order; its hash is the SHA-256 of the text.
std::optional<Header> ParseHeader(const std::string& text);

// A colend-inclusion-proof/v1 text (at most 64 path hashes).
std::optional<Inclusion> ParseInclusion(const std::string& text);

// The state root an entry's proof leads to, or nullopt if the proof is malformed or is not for
// `key` (docs/evidence-bundle.md section 4).
std::optional<Hash256> StateRootOf(const std::string& proof_text, const std::string& key,
                                   const std::string& value);

// `n` zero-padded to `width` digits (record and document file names).
std::string Digits(std::uint64_t n, int width);

// A fingerprint without colons, in lower case.
std::string NormaliseFingerprint(std::string fp);

}  // namespace colend::evidence::bundle_text
