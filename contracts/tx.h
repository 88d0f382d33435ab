// Transactions: a canonical, line-oriented text body signed by its sender, so an arbitrator can
// read exactly the bytes that were signed and check them with `openssl dgst -verify`.
//
//   colend-tx/v1
//   chain-id: <chain id>
//   sender: <member id>
//   nonce: <decimal u64>
//   timestamp-ms: <decimal unix ms, the sender's clock>
//   type: <transaction type, e.g. evidence.anchor>
//   <field>: <value>          one line per payload field, keys strictly ascending
//
// Keys are [a-z0-9-]+; values are at most kFieldValueBytesMax bytes without C0 controls or DEL
// and without leading or trailing spaces. Which fields a type carries and their formats (UTF-8,
// ids, amounts, dates, no personal data) are checked at admission: contracts/fields.h. The
// transaction id is SHA-256(body): it does not depend on the signature's encoding.
// The leaf committed in the block's tx-root binds the exact signature too:
//   colend-tx-leaf/v1\ntx-id: <hex>\nsig-sha256: <hex sha256 of the DER signature>\n
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/signature.h"

namespace colend::contracts {

inline constexpr std::size_t kTxBodyBytesMax = 64 * 1024;
inline constexpr std::size_t kTxFieldsMax = 64;
// The longest field value the text form carries. Each type's fields have tighter formats,
// checked at admission (contracts/fields.h, docs/transactions.md).
inline constexpr std::size_t kFieldValueBytesMax = 4096;

struct TxBody {
  std::string chain_id;
  std::string sender;
  std::uint64_t nonce = 0;
  std::int64_t timestamp_ms = 0;
  std::string type;
  std::map<std::string, std::string> fields;  // ordered: the text lists them ascending

  std::string ToText() const;
  // Strict; ParseText(t)->ToText() == t. Error "malformed-transaction" naming the line.
  static Result<TxBody> ParseText(std::string_view text);
  // The field, or nullptr.
  const std::string* Field(std::string_view key) const;
};

struct Tx {
  std::string body_text;  // exact signed bytes
  std::string signature;  // DER
  TxBody body;
  crypto::Hash256 id{};   // SHA-256(body_text)

  std::string Encode() const;  // serialised proto::SignedTx (wire and block form)
  std::string LeafText() const;
};

// Parses wire bytes (a serialised proto::SignedTx): error "malformed-transaction".
Result<Tx> DecodeTx(std::string_view wire);
// Builds and signs a transaction (used by the CLI and tests).
Result<Tx> SignTx(const TxBody& body, const crypto::PrivateKey& key);
// Root over the leaves of the given transactions, in block order.
crypto::Hash256 TxRoot(const std::vector<Tx>& txs);

bool IsValidFieldKey(std::string_view key);
bool IsValidFieldValue(std::string_view value);

}  // namespace colend::contracts
