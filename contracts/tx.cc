#include "contracts/tx.h"

#include <charconv>

#include "contracts/contracts.pb.h"
#include "crypto/merkle.h"

namespace colend::contracts {
namespace {

constexpr std::string_view kMagic = "colend-tx/v1";

Error Malformed(std::string message) {
  return MakeError("malformed-transaction", std::move(message));
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.';
    if (!ok) return false;
  }
  return true;
}

// Canonical decimal: digits only, no leading zero (except "0"), optional '-' when signed.
template <typename T>
std::optional<T> ParseCanonicalInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view digits = s[0] == '-' ? s.substr(1) : s;
  if (digits.empty() || (digits.size() > 1 && digits[0] == '0')) return std::nullopt;
  if (s[0] == '-' && digits == "0") return std::nullopt;
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

bool IsValidFieldKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool IsValidFieldValue(std::string_view value) {
  if (value.size() > kFieldValueBytesMax) return false;
  if (!value.empty() && (value.front() == ' ' || value.back() == ' ')) return false;
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

std::string TxBody::ToText() const {
  std::string out;
  out.reserve(256);
  out += kMagic;
  out += "\nchain-id: " + chain_id;
  out += "\nsender: " + sender;
  out += "\nnonce: " + std::to_string(nonce);
  out += "\ntimestamp-ms: " + std::to_string(timestamp_ms);
  out += "\ntype: " + type;
  for (const auto& [key, value] : fields) out += "\n" + key + ": " + value;
  out += "\n";
  return out;
}

const std::string* TxBody::Field(std::string_view key) const {
  auto it = fields.find(std::string(key));
  return it == fields.end() ? nullptr : &it->second;
}

Result<TxBody> TxBody::ParseText(std::string_view text) {
  if (text.size() > kTxBodyBytesMax) {
    return Malformed("body is " + std::to_string(text.size()) + " bytes, more than " +
                     std::to_string(kTxBodyBytesMax));
  }
  if (text.empty() || text.back() != '\n') return Malformed("body must end with a line feed");
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (lines[0] != kMagic) return Malformed("first line must be '" + std::string(kMagic) + "'");
  static const char* kHeaderKeys[] = {"chain-id", "sender", "nonce", "timestamp-ms", "type"};
  if (lines.size() < 6) return Malformed("missing header lines");
  if (lines.size() > 6 + kTxFieldsMax) return Malformed("too many fields");
  std::vector<std::pair<std::string_view, std::string_view>> kv;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::size_t sep = lines[i].find(": ");
    if (sep == std::string_view::npos) {
      return Malformed("line " + std::to_string(i + 1) + " is not 'key: value'");
    }
    kv.emplace_back(lines[i].substr(0, sep), lines[i].substr(sep + 2));
  }
  for (std::size_t i = 0; i < 5; ++i) {
    if (kv[i].first != kHeaderKeys[i]) {
      return Malformed("line " + std::to_string(i + 2) + " must be '" + kHeaderKeys[i] + "'");
    }
  }
  TxBody body;
  body.chain_id = std::string(kv[0].second);
  body.sender = std::string(kv[1].second);
  auto nonce = ParseCanonicalInt<std::uint64_t>(kv[2].second);
  auto ts = ParseCanonicalInt<std::int64_t>(kv[3].second);
  body.type = std::string(kv[4].second);
  if (!IsIdentifier(body.chain_id)) return Malformed("bad chain-id");
  if (!IsIdentifier(body.sender)) return Malformed("bad sender");
  if (!nonce) return Malformed("nonce is not a canonical decimal");
  if (!ts || *ts < 0) return Malformed("timestamp-ms is not a canonical non-negative decimal");
  if (!IsIdentifier(body.type)) return Malformed("bad type");
  body.nonce = *nonce;
  body.timestamp_ms = *ts;
  std::string_view previous;
  for (std::size_t i = 5; i < kv.size(); ++i) {
    auto [key, value] = kv[i];
    if (!IsValidFieldKey(key)) return Malformed("bad field key '" + std::string(key) + "'");
    if (!IsValidFieldValue(value)) {
      // What is wrong, never the value (docs/transactions.md §1: it may be personal data).
      return Malformed("bad value of field '" + std::string(key) + "': " +
                       (value.size() > kFieldValueBytesMax
                            ? std::to_string(value.size()) + " bytes, over the " +
                                  std::to_string(kFieldValueBytesMax) + " a value may have"
                            : "a leading or trailing space, or a control character"));
    }
    if (i > 5 && !(previous < key)) {
      return Malformed("field '" + std::string(key) + "' out of order or repeated");
    }
    previous = key;
    body.fields.emplace(std::string(key), std::string(value));
  }
  return body;
}

std::string Tx::Encode() const {
  proto::SignedTx msg;
  msg.set_body(body_text);
  msg.set_signature(signature);
  return msg.SerializeAsString();
}

std::string Tx::LeafText() const {
  return "colend-tx-leaf/v1\ntx-id: " + crypto::ToHex(id) +
         "\nsig-sha256: " + crypto::ToHex(crypto::Sha256(signature)) + "\n";
}

Result<Tx> DecodeTx(std::string_view wire) {
  if (wire.size() > kTxBodyBytesMax + 1024) return Malformed("transaction too large");
  proto::SignedTx msg;
  if (!msg.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    return Malformed("not a SignedTx protobuf");
  }
  auto body = TxBody::ParseText(msg.body());
  if (!body.ok()) return body.error();
  if (body->ToText() != msg.body()) return Malformed("body is not in canonical form");
  if (msg.signature().empty() || msg.signature().size() > 256) {
    return Malformed("signature missing or too long");
  }
  Tx tx;
  tx.body_text = msg.body();
  tx.signature = msg.signature();
  // Exactly the two fields, in order, once each: a block commits each transaction by its id and
  // its signature's hash (LeafText), so any other bytes (an unknown field, a field repeated) would
  // be stored and relayed without any hash covering them, and could differ between nodes.
  if (tx.Encode() != wire) {
    return Malformed(
        "not in canonical form: a SignedTx is field 1 (body) then field 2 "
        "(signature), each once, and nothing else");
  }
  tx.body = std::move(body).value();
  tx.id = crypto::Sha256(tx.body_text);
  return tx;
}

Result<Tx> SignTx(const TxBody& body, const crypto::PrivateKey& key) {
  Tx tx;
  tx.body_text = body.ToText();
  auto check = TxBody::ParseText(tx.body_text);
  if (!check.ok()) return check.error();
  auto sig = key.Sign(tx.body_text);
  if (!sig.ok()) return sig.error();
  tx.signature = std::move(sig).value();
  tx.body = body;
  tx.id = crypto::Sha256(tx.body_text);
  return tx;
}

crypto::Hash256 TxRoot(const std::vector<Tx>& txs) {
  std::vector<crypto::Hash256> leaves;
  leaves.reserve(txs.size());
  for (const Tx& tx : txs) leaves.push_back(crypto::MerkleLeafHash(tx.LeafText()));
  return crypto::MerkleRoot(leaves);
}

}  // namespace colend::contracts
