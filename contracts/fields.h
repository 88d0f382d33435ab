// Per-type field schemas: which fields each transaction type may carry, which of them it needs,
// and the format of each value. Executor::CheckEnvelope checks them at admission, so a
// transaction with a malformed, unknown or personal field is refused by the mempool and by every
// block builder and endorser, and never reaches a block. The contracts keep their own checks
// (the business rules); these are the admission gate. The formats and every type's fields, in
// prose: docs/transactions.md.
//
// Deterministic on every node: plain byte-level code, no locale, no <regex>, no <cctype>.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "contracts/tx.h"
#include "crypto/result.h"

namespace colend::contracts {

// ---- Named limits (docs/transactions.md §2) -------------------------------------------------

// Loan, proposal and model ids: 1-64 bytes, as the contracts' IsLoanId and IsProposalId.
inline constexpr std::size_t kIdBytesMax = 64;
// Member ids: 1-64 of [a-z0-9-], as a genesis file's member ids.
inline constexpr std::size_t kMemberIdBytesMax = 64;
// References (a payment, verification or virtual-account reference): 1-64 bytes.
inline constexpr std::size_t kReferenceBytesMax = 64;
// A document's name label (evidence.anchor document-name): 1-64 bytes.
inline constexpr std::size_t kNameBytesMax = 64;
// Personal-data screen. A number is a run of ASCII digits, possibly written with single
// separators between digits ("138-0013-8000", "110101.1990"). In a reference or a name a number
// of more than kReferenceDigitsMax digits is refused: a PRC resident ID has 17 digits and a check
// character, a mobile number 11, a bank card 16-19, a date of birth 8, a postcode 6. Ids (loan,
// proposal, model) are chosen by institutions and may number things, so only a number long
// enough to be a phone, ID card or bank card number is refused there.
inline constexpr std::size_t kReferenceDigitsMax = 5;
inline constexpr std::size_t kIdDigitsMax = 10;
// JSON field values (param.propose changes, member.propose member): nesting depth at most this
// (a parameter set nests 4 deep: bounds -> key -> [low, high] -> {num, den}).
inline constexpr int kJsonDepthMax = 8;
// Amounts in fen: 10^13 fen = 10^11 CNY; anything larger is an error, not a loan.
inline constexpr std::int64_t kAmountFenMax = 10'000'000'000'000;
// A bank's attested Tier-1 capital and total loans: the contract multiplies them by 10000.
inline constexpr std::int64_t kBankFigureFenMax = std::numeric_limits<std::int64_t>::max() / 10000;
// One clock transaction moves the business date at most this many days.
inline constexpr std::int64_t kAdvanceDaysMax = 400;
// evidence.anchor document-bytes: the anchored file's size, up to 1 TiB (only its hash is sent).
inline constexpr std::int64_t kAnchorDocumentBytesMax = std::int64_t{1} << 40;
// borrower.admit age-band "LO-HI": at most this many years wide (an exact age is a band of one
// year), so the chain learns the age only to within five years (docs/lending-rules.md §5.3).
inline constexpr int kAgeBandYearsMax = 5;
inline constexpr int kAgeMax = 150;

// ---- Schemas --------------------------------------------------------------------------------

enum class FieldFormat {
  kMemberId,      // [a-z0-9-], 1..kMemberIdBytesMax
  kId,            // [A-Za-z0-9._-], first a letter or digit, 1..kIdBytesMax; no long number
  kReference,     // [A-Za-z0-9._:/-], first a letter or digit, 1..kReferenceBytesMax, no number
                  // of more than kReferenceDigitsMax digits; or a 64-hex-digit digest
  kName,          // [A-Za-z0-9._-], first a letter or digit, 1..kNameBytesMax, screened as a
                  // reference: a file-name-like label, never a person's name or number
  kLowerHex64,    // a SHA-256: exactly 64 of [0-9a-f]
  kHexBytes,      // bytes as lowercase hex: an even number (2..kFieldValueBytesMax) of [0-9a-f]
  kAmountFen,     // decimal integer fen, no sign, no leading zero, within [low, high]
  kInteger,       // decimal integer, no sign, no leading zero, within [low, high]
  kDate,          // YYYY-MM-DD, a calendar date
  kMcc,           // a merchant category code (ISO 18245): exactly 4 decimal digits
  kAgeBand,       // "LO-HI", ages in years: 0 <= LO <= HI <= kAgeMax, HI - LO < kAgeBandYearsMax
  kLabel,         // one of `labels`
  kParamChanges,  // a JSON object; every string in it screened as an id
  kMemberJson,    // a JSON object; its id, name and role strings screened for hidden characters
};

struct FieldRule {
  std::string_view key;
  bool required = false;
  FieldFormat format = FieldFormat::kId;
  std::int64_t low = 0, high = 0;        // kAmountFen, kInteger
  std::vector<std::string_view> labels;  // kLabel
};

// A field a type once took and now refuses, with why and what to send instead: refused by name
// rather than as an unknown field, so an integration that still sends it learns what to change.
struct RefusedField {
  std::string_view key;
  std::string_view why;
};

struct TxSchema {
  std::string_view type;
  std::vector<FieldRule> fields;  // in ascending key order
  std::vector<RefusedField> refused = {};
};

// Every transaction type's schema (the same types as AllTxTypes()).
const std::vector<TxSchema>& AllTxSchemas();
// nullptr for an unknown type.
const TxSchema* FindTxSchema(std::string_view type);
// The format's description, as refusal messages and docs/transactions.md give it.
std::string_view FieldFormatName(FieldFormat format);

// Refusal codes. Every message names the type and the field and what is wrong; none repeats the
// value (it may be personal data, and refusals are logged).
//   "unknown-type"        the type has no schema
//   "invalid-field"       unknown field, required field missing, value not in its format
//   "invalid-utf8"        a value is not well-formed UTF-8 (overlong, surrogate, truncated, ...)
//   "control-character"   C0 or C1 control, DEL, U+2028 or U+2029
//   "bidi-control"        U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069
//   "invisible-character" zero-width and other invisible format characters (U+200B-U+200D,
//                         U+2060-U+2064, U+FEFF, U+00AD, tag characters, ...)
//   "personal-data"       a long number (ID card, phone, account) or an e-mail address
// The first refusal in key order is returned; a missing required field after all present ones.
Status CheckTxFields(const TxBody& body);
// One field of a transaction of `type` (unknown field and format checks, as CheckTxFields): for
// the CLI, to refuse a value before signing with the same reason the node would give.
Status CheckField(std::string_view type, std::string_view key, std::string_view value);

// Age bands (borrower.admit). Parses "LO-HI" in the kAgeBand format; false otherwise.
bool ParseAgeBand(std::string_view text, int* low, int* high);
// The band a lead bank attests for `age` under the bounds [age_min, age_max] of R-PRE-03: the
// five-year band [5k, 5k+4] holding the age, cut at a bound so that it lies wholly inside or
// wholly outside [age_min, age_max] (the rule decides on the band as it would on the age).
std::pair<int, int> AgeBandFor(int age, int age_min, int age_max);

}  // namespace colend::contracts
