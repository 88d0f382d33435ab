// Per-type field schemas (fields.h; the rules in prose: docs/transactions.md).
#include "contracts/fields.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <string>

#include "contracts/contract.h"
#include "contracts/lending/money.h"

namespace colend::contracts {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kUint32Max = std::numeric_limits<std::uint32_t>::max();

// ---- Building the tables --------------------------------------------------------------------

FieldRule Need(std::string_view key, FieldFormat format) { return {key, true, format, 0, 0, {}}; }
FieldRule May(std::string_view key, FieldFormat format) { return {key, false, format, 0, 0, {}}; }
FieldRule Number(std::string_view key, bool required, FieldFormat format, std::int64_t low,
                 std::int64_t high) {
  return {key, required, format, low, high, {}};
}
FieldRule Label(std::string_view key, bool required, std::vector<std::string_view> labels) {
  return {key, required, FieldFormat::kLabel, 0, 0, std::move(labels)};
}
FieldRule Fen(std::string_view key, bool required, std::int64_t low,
              std::int64_t high = kAmountFenMax) {
  return Number(key, required, FieldFormat::kAmountFen, low, high);
}
FieldRule Int(std::string_view key, bool required, std::int64_t low, std::int64_t high) {
  return Number(key, required, FieldFormat::kInteger, low, high);
}
FieldRule YesNo(std::string_view key) { return Label(key, false, {"yes", "no"}); }

using F = FieldFormat;

// ---- Scanning text --------------------------------------------------------------------------

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlnum(char c) { return IsDigit(c) || IsLower(c) || (c >= 'A' && c <= 'Z'); }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

// The code point at s[i] and its length in bytes, or length 0 if the bytes from i are not
// well-formed UTF-8 (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF, no truncated sequence).
struct CodePoint {
  char32_t value = 0;
  std::size_t length = 0;
};
CodePoint DecodeUtf8(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return {lead, 1};
  std::size_t tail = 0;
  char32_t value = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the first continuation byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    tail = 1;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    tail = 2;
    value = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates U+D800-U+DFFF
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    tail = 3;
    value = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return {};  // a continuation byte, C0/C1 (overlong two-byte), or F5-FF
  }
  if (s.size() - i <= tail) return {};  // truncated
  for (std::size_t k = 1; k <= tail; ++k) {
    const unsigned char b = byte(i + k);
    if (b < (k == 1 ? low : 0x80) || b > (k == 1 ? high : 0xBF)) return {};
    value = (value << 6) | (b & 0x3F);
  }
  return {value, tail + 1};
}

enum class Hidden { kNone, kControl, kBidi, kInvisible };

Hidden Classify(char32_t c) {
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029) {
    return Hidden::kControl;
  }
  if (c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
      (c >= 0x2066 && c <= 0x2069)) {
    return Hidden::kBidi;
  }
  // Invisible format characters and fillers: text that looks the same but is not.
  if (c == 0x00AD || c == 0x034F || c == 0x115F || c == 0x1160 || c == 0x17B4 || c == 0x17B5 ||
      (c >= 0x180B && c <= 0x180F) || (c >= 0x200B && c <= 0x200D) ||
      (c >= 0x2060 && c <= 0x206F) || c == 0x3164 || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF ||
      c == 0xFFA0 || (c >= 0xFFF9 && c <= 0xFFFB) || (c >= 0x1D173 && c <= 0x1D17A) ||
      (c >= 0xE0000 && c <= 0xE007F) || (c >= 0xE0100 && c <= 0xE01EF)) {
    return Hidden::kInvisible;
  }
  return Hidden::kNone;
}

std::string CodePointName(char32_t c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string digits;
  for (char32_t v = c; v != 0 || digits.size() < 4; v >>= 4)
    digits.insert(digits.begin(), kHex[v & 0xF]);
  return "U+" + digits;
}

// The longest number in `s`: a run of ASCII digits, counting across single separators between
// two digits ("138-0013-8000" is one number of 11 digits).
std::size_t LongestNumber(std::string_view s) {
  const auto separator = [](char c) {
    return c == '-' || c == '.' || c == '_' || c == '/' || c == ':' || c == ' ';
  };
  std::size_t longest = 0, run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (IsDigit(s[i])) {
      ++run;
      if (run > longest) longest = run;
    } else if (!(run > 0 && separator(s[i]) && i + 1 < s.size() && IsDigit(s[i + 1]))) {
      run = 0;
    }
  }
  return longest;
}

// ---- Refusals -------------------------------------------------------------------------------

// Where a value is: "<type>: field '<key>'" (known keys only; an unknown key is named by
// UnknownKey, which may withhold it).
struct Where {
  std::string_view type;
  std::string_view key;
  std::string_view within;  // "" or e.g. "a string in it"
  std::string Prefix() const {
    return std::string(type) + ": field '" + std::string(key) + "'" +
           (within.empty() ? "" : " (" + std::string(within) + ")");
  }
};

Error Refuse(std::string code, const Where& where, const std::string& what) {
  return MakeError(std::move(code), where.Prefix() + " " + what);
}

// Hidden characters and malformed UTF-8 anywhere in a value.
Status ScreenText(const Where& where, std::string_view value) {
  for (std::size_t i = 0; i < value.size();) {
    const CodePoint cp = DecodeUtf8(value, i);
    const std::string at = " at byte " + std::to_string(i);
    if (cp.length == 0) {
      return Refuse("invalid-utf8", where, "is not well-formed UTF-8 (bad sequence" + at + ")");
    }
    switch (Classify(cp.value)) {
      case Hidden::kNone:
        break;
      case Hidden::kControl:
        return Refuse("control-character", where,
                      "holds a control character (" + CodePointName(cp.value) + at + ")");
      case Hidden::kBidi:
        return Refuse("bidi-control", where,
                      "holds a bidirectional control character (" + CodePointName(cp.value) + at +
                          "): text could display in another order than it is signed");
      case Hidden::kInvisible:
        return Refuse("invisible-character", where,
                      "holds an invisible formatting character (" + CodePointName(cp.value) + at +
                          "): text could look like other text");
    }
    i += cp.length;
  }
  return Status::Ok();
}

// No e-mail address and no number longer than `digits_max` digits.
Status ScreenPersonal(const Where& where, std::string_view value, std::size_t digits_max,
                      const char* instead) {
  if (value.find('@') != std::string_view::npos) {
    return Refuse("personal-data", where,
                  std::string("holds '@' (an e-mail address?): personal data never goes on chain "
                              "in clear; ") +
                      instead);
  }
  const std::size_t digits = LongestNumber(value);
  if (digits > digits_max) {
    return Refuse("personal-data", where,
                  "holds a number of " + std::to_string(digits) + " digits, more than " +
                      std::to_string(digits_max) +
                      " (ID card, phone and account numbers are personal data and never go on "
                      "chain in clear); " +
                      instead);
  }
  return Status::Ok();
}

bool Chars(std::string_view s, std::size_t max, bool (*allowed)(char)) {
  if (s.empty() || s.size() > max || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!allowed(c)) return false;
  }
  return true;
}
bool IdChar(char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '-'; }
bool ReferenceChar(char c) { return IdChar(c) || c == ':' || c == '/'; }
bool MemberIdChar(char c) { return IsLower(c) || IsDigit(c) || c == '-'; }

// Canonical decimal: digits only, no leading zero (but "0"), at most 19 digits.
bool ParseDecimal(std::string_view s, std::int64_t* out) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > static_cast<std::uint64_t>(kInt64Max)) return false;
  *out = static_cast<std::int64_t>(v);
  return true;
}

// Walks a parsed JSON value: depth, and each string (object keys included) through `check`.
template <typename Check>
Status WalkJson(const Where& where, const json& j, int depth, const Check& check) {
  if (depth > kJsonDepthMax) {
    return Refuse("invalid-field", where,
                  "nests deeper than " + std::to_string(kJsonDepthMax) + " levels");
  }
  if (j.is_string()) return check(j.get_ref<const std::string&>());
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      COLEND_RETURN_IF_ERROR(check(it.key()));
      COLEND_RETURN_IF_ERROR(WalkJson(where, it.value(), depth + 1, check));
    }
  } else if (j.is_array()) {
    for (const json& e : j) COLEND_RETURN_IF_ERROR(WalkJson(where, e, depth + 1, check));
  }
  return Status::Ok();
}

Result<json> ParseObject(const Where& where, std::string_view value) {
  json j = json::parse(value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Refuse("invalid-field", where,
                  "must be " + std::string(FieldFormatName(F::kParamChanges)));
  }
  return j;
}

Status CheckFormat(const Where& where, const FieldRule& rule, std::string_view value) {
  const auto bad = [&]() {
    std::string what = "must be " + std::string(FieldFormatName(rule.format));
    if (rule.format == F::kAmountFen || rule.format == F::kInteger) {
      what += ", " + std::to_string(rule.low) + " to " + std::to_string(rule.high);
    } else if (rule.format == F::kLabel) {
      what += ":";
      for (std::size_t i = 0; i < rule.labels.size(); ++i) {
        what += (i ? ", " : " ") + std::string(rule.labels[i]);
      }
    }
    return Refuse("invalid-field", where,
                  what + " (got " + std::to_string(value.size()) + " bytes)");
  };
  switch (rule.format) {
    case F::kMemberId:
      if (!Chars(value, kMemberIdBytesMax, &MemberIdChar)) return bad();
      return Status::Ok();
    case F::kId:
      COLEND_RETURN_IF_ERROR(ScreenPersonal(where, value, kIdDigitsMax,
                                            "use the institution's own "
                                            "pseudonymous id"));
      if (!Chars(value, kIdBytesMax, &IdChar)) return bad();
      return Status::Ok();
    case F::kReference:
      if (IsLowerHex64(value)) return Status::Ok();  // a digest: a salted SHA-256 of the reference
      COLEND_RETURN_IF_ERROR(ScreenPersonal(where, value, kReferenceDigitsMax,
                                            "give a short reference, or a salted SHA-256 of it as "
                                            "64 lowercase hex digits"));
      if (!Chars(value, kReferenceBytesMax, &ReferenceChar)) return bad();
      return Status::Ok();
    case F::kName:
      COLEND_RETURN_IF_ERROR(ScreenPersonal(where, value, kReferenceDigitsMax,
                                            "give a label such as loan-contract.pdf, never a "
                                            "person's name or number"));
      if (!Chars(value, kNameBytesMax, &IdChar)) return bad();
      return Status::Ok();
    case F::kLowerHex64:
      if (!IsLowerHex64(value)) return bad();
      return Status::Ok();
    case F::kHexBytes:
      if (value.empty() || value.size() % 2 != 0 || value.size() > kFieldValueBytesMax)
        return bad();
      for (char c : value) {
        if (!IsLowerHex(c)) return bad();
      }
      return Status::Ok();
    case F::kAmountFen:
    case F::kInteger: {
      std::int64_t n = 0;
      if (!ParseDecimal(value, &n) || n < rule.low || n > rule.high) return bad();
      return Status::Ok();
    }
    case F::kDate:
      if (!ParseDate(value).ok()) return bad();
      return Status::Ok();
    case F::kAgeBand: {
      int low = 0, high = 0;
      if (!ParseAgeBand(value, &low, &high)) return bad();
      return Status::Ok();
    }
    case F::kMcc:
      if (value.size() != 4) return bad();
      for (char c : value) {
        if (!IsDigit(c)) return bad();
      }
      return Status::Ok();
    case F::kLabel:
      for (std::string_view label : rule.labels) {
        if (value == label) return Status::Ok();
      }
      return bad();
    case F::kParamChanges: {
      auto j = ParseObject(where, value);
      if (!j.ok()) return j.error();
      const Where inner{where.type, where.key, "a string in it"};
      return WalkJson(where, *j, 1, [&](const std::string& s) -> Status {
        COLEND_RETURN_IF_ERROR(ScreenText(inner, s));
        return ScreenPersonal(inner, s, kIdDigitsMax, "parameters are ids and numbers");
      });
    }
    case F::kMemberJson: {
      auto j = ParseObject(where, value);
      if (!j.ok()) return j.error();
      COLEND_RETURN_IF_ERROR(
          WalkJson(where, *j, 1, [](const std::string&) { return Status::Ok(); }));
      for (const char* key : {"id", "name", "role"}) {
        auto it = j->find(key);
        if (it == j->end() || !it->is_string()) continue;
        const std::string within = std::string("its ") + key;
        COLEND_RETURN_IF_ERROR(
            ScreenText({where.type, where.key, within}, it->get_ref<const std::string&>()));
      }
      return Status::Ok();
    }
  }
  return bad();
}

Status CheckValue(std::string_view type, const FieldRule& rule, std::string_view value) {
  const Where where{type, rule.key, ""};
  if (value.size() > kFieldValueBytesMax) {
    return Refuse("invalid-field", where,
                  "is " + std::to_string(value.size()) + " bytes, more than " +
                      std::to_string(kFieldValueBytesMax));
  }
  COLEND_RETURN_IF_ERROR(ScreenText(where, value));
  return CheckFormat(where, rule, value);
}

// An unknown key or type in a message: named when it is short, plain and holds no long number,
// else withheld.
std::string UnknownKey(std::string_view key) {
  bool plain = !key.empty() && key.size() <= 32 && LongestNumber(key) <= kReferenceDigitsMax;
  for (char c : key)
    plain = plain && (IsLower(c) || IsDigit(c) || c == '-' || c == '.' || c == '_');
  std::string named;
  if (plain) {
    named.reserve(key.size() + 2);
    named.append(1, '\'').append(key).append(1, '\'');
    return named;
  }
  return "of " + std::to_string(key.size()) + " bytes (name withheld)";
}

Error UnknownField(const TxSchema& schema, std::string_view key) {
  std::string allowed;
  for (const FieldRule& r : schema.fields)
    allowed += (allowed.empty() ? "" : ", ") + std::string(r.key);
  return MakeError(
      "invalid-field",
      std::string(schema.type) + ": unknown field " + UnknownKey(key) +
          (allowed.empty() ? " (this type has no fields)" : " (its fields: " + allowed + ")"));
}

const FieldRule* FindRule(const TxSchema& schema, std::string_view key) {
  for (const FieldRule& r : schema.fields) {
    if (r.key == key) return &r;
  }
  return nullptr;
}

Error UnknownType(std::string_view type) {
  return MakeError("unknown-type", "unknown transaction type " + UnknownKey(type));
}

}  // namespace

std::string_view FieldFormatName(FieldFormat format) {
  switch (format) {
    case F::kMemberId:
      return "a member id: 1-64 of [a-z0-9-]";
    case F::kId:
      return "an id: 1-64 of [A-Za-z0-9._-] starting with a letter or digit";
    case F::kReference:
      return "a reference: 1-64 of [A-Za-z0-9._:/-] starting with a letter or digit, or 64 "
             "lowercase hex digits";
    case F::kName:
      return "a name label: 1-64 of [A-Za-z0-9._-] starting with a letter or digit";
    case F::kLowerHex64:
      return "a SHA-256: 64 lowercase hex digits";
    case F::kHexBytes:
      return "lowercase hex: an even number of [0-9a-f], at most 4096";
    case F::kAmountFen:
      return "an amount in fen: decimal digits, no sign, no leading zero";
    case F::kInteger:
      return "a whole number: decimal digits, no sign, no leading zero";
    case F::kDate:
      return "a calendar date YYYY-MM-DD";
    case F::kMcc:
      return "a merchant category code: 4 decimal digits";
    case F::kAgeBand:
      return "an age band LO-HI in years (0 <= LO <= HI <= 150, at most 5 years wide)";
    case F::kLabel:
      return "one of";
    case F::kParamChanges:
    case F::kMemberJson:
      return "a JSON object";
  }
  return "?";
}

static_assert(kAgeBandYearsMax == 5, "borrower.admit's refusal of an exact age names the band's width");

const std::vector<TxSchema>& AllTxSchemas() {
  static const std::vector<TxSchema> kSchemas = {
      {"evidence.anchor",
       {Int("document-bytes", false, 0, kAnchorDocumentBytesMax), May("document-name", F::kName),
        Need("document-sha256", F::kLowerHex64), May("loan-id", F::kId)}},
      {"evidence.attach",
       {Int("document-bytes", true, 1, static_cast<std::int64_t>(kDocumentBytesMax)),
        Need("document-sha256", F::kLowerHex64),
        Label("kind", true, {"contract", "notice", "repayment-proof", "other"}),
        May("label-sha256", F::kLowerHex64), Need("loan", F::kId)}},
      {"consensus.evidence",
       {Need("first", F::kHexBytes), Int("height", true, 0, kInt64Max),
        Label("kind", true, {"proposal", "prevote", "precommit"}), Need("member", F::kMemberId),
        Int("round", true, 0, kUint32Max), Need("second", F::kHexBytes)}},
      {"member.propose",
       {Label("change", true, {"add", "remove", "quorum", "rotate"}), May("member", F::kMemberJson),
        May("member-id", F::kMemberId), Need("proposal", F::kId),
        Label("quorum", false, {"majority", "two-thirds"})}},
      {"member.approve", {Need("proposal", F::kId)}},
      {"clock.tick", {}},
      {"clock.advance", {Int("days", true, 1, kAdvanceDaysMax)}},
      {"bureau.snapshot",
       {Need("borrower", F::kLowerHex64), Int("institutions", true, 0, 1000),
        Fen("limits-fen", true, 0), Fen("liquid-assets-fen", false, 0),
        Int("lookback-months", false, 1, 120),
        Int("max-dpd", false, 0, 100000), Fen("outstanding-fen", true, 0),
        Int("overdue-count", true, 0, 100000), Int("queries-90d", true, 0, 100000),
        Fen("total-loans-fen", false, 0), Need("valid-until", F::kDate)}},
      {"bank.figures",
       {Fen("tier1-capital-fen", true, 1, kBankFigureFenMax),
        Fen("total-loans-fen", true, 1, kBankFigureFenMax), Need("valid-until", F::kDate)}},
      {"borrower.admit",
       {Need("age-band", F::kAgeBand),
        Label("blacklist", false, {"none", "fraud", "court"}),
        Need("borrower", F::kLowerHex64), YesNo("consent-colending"), YesNo("consent-credit-query"),
        Need("consent-date", F::kDate), Need("kyc-date", F::kDate), Int("kyc-level", true, 0, 9),
        Need("model", F::kId), Label("product", false, {"consumer", "business"}),
        Int("region", false, 100000, 999999), Int("score", true, 0, 1000)},
       // docs/lending-rules.md §5.3: the age goes on chain only as a band (no personal data).
       {{"age", "an exact age is personal data and never goes on chain; send age-band LO-HI "
                "(at most 5 years wide)"}}},
      {"borrower.change",
       {Need("borrower", F::kLowerHex64),
        Label("change", true, {"phone", "bound-card", "device", "id-reverification"})}},
      {"auth.result",
       {Need("borrower", F::kLowerHex64), Label("level", true, {"sms", "face"}),
        Need("ref", F::kReference), Label("result", true, {"pass", "fail"})}},
      {"loan.draw",
       {Fen("amount-fen", true, 1), Need("approval-sha256", F::kLowerHex64),
        Need("borrower", F::kLowerHex64), YesNo("counterparty-new"),
        Int("daily-rate-den", false, 1, 1000000000), Int("daily-rate-num", false, 0, 1000000),
        YesNo("device-changed"), Need("loan", F::kId), Int("location-level", false, 0, 3),
        Label("method", false, {"equal-installment", "equal-principal"}), Need("model", F::kId),
        Int("periods", true, 1, 360), YesNo("phone-changed")}},
      {"loan.approve",
       {Need("approval-sha256", F::kLowerHex64), Label("decision", true, {"approve", "decline"}),
        Need("loan", F::kId), Need("model", F::kId)}},
      {"loan.fund", {Fen("amount-fen", true, 1), Need("loan", F::kId), Need("ref", F::kReference)}},
      {"loan.payout",
       {Need("account", F::kReference), Fen("amount-fen", true, 1), Need("loan", F::kId)}},
      {"use.attest",
       {Fen("amount-fen", true, 1), Label("channel", true, {"pos", "online", "cash", "transfer"}),
        Label("counterparty", true, {"merchant", "individual", "self"}), Need("loan", F::kId),
        Need("mcc", F::kMcc), Need("ref", F::kReference)}},
      {"va.spend",
       {Fen("amount-fen", true, 1), Label("channel", true, {"pos", "online", "cash", "transfer"}),
        Label("counterparty", true, {"merchant", "individual", "self"}), Need("loan", F::kId),
        Need("mcc", F::kMcc)}},
      {"loan.repay", {Fen("amount-fen", true, 1), Need("loan", F::kId)}},
      {"loan.settle", {Fen("amount-fen", true, 0), Need("loan", F::kId)}},
      {"collection.outcome",
       {Need("loan", F::kId), Int("no-contact-days", true, 0, 10000),
        Int("ptp-broken", true, 0, 1000)}},
      {"loan.writeoff", {Need("loan", F::kId)}},
      {"param.propose",
       {Need("changes", F::kParamChanges), Need("effective-date", F::kDate),
        Need("proposal", F::kId)}},
      {"param.approve", {Need("proposal", F::kId)}},
  };
  return kSchemas;
}

const TxSchema* FindTxSchema(std::string_view type) {
  for (const TxSchema& s : AllTxSchemas()) {
    if (s.type == type) return &s;
  }
  return nullptr;
}

Status CheckField(std::string_view type, std::string_view key, std::string_view value) {
  const TxSchema* schema = FindTxSchema(type);
  if (schema == nullptr) return UnknownType(type);
  const FieldRule* rule = FindRule(*schema, key);
  if (rule == nullptr) return UnknownField(*schema, key);
  return CheckValue(schema->type, *rule, value);
}

Status CheckTxFields(const TxBody& body) {
  const TxSchema* schema = FindTxSchema(body.type);
  if (schema == nullptr) return UnknownType(body.type);
  for (const auto& [key, value] : body.fields) {
    const FieldRule* rule = FindRule(*schema, key);
    if (rule == nullptr) {
      for (const RefusedField& r : schema->refused) {
        if (r.key == key) {
          return MakeError("invalid-field", std::string(schema->type) + ": field '" + std::string(key) +
                                                "' is refused: " + std::string(r.why));
        }
      }
      return UnknownField(*schema, key);
    }
    COLEND_RETURN_IF_ERROR(CheckValue(schema->type, *rule, value));
  }
  for (const FieldRule& rule : schema->fields) {
    if (rule.required && body.fields.find(std::string(rule.key)) == body.fields.end()) {
      return MakeError("invalid-field", std::string(schema->type) + ": field '" +
                                            std::string(rule.key) + "' is required");
    }
  }
  return Status::Ok();
}

bool ParseAgeBand(std::string_view text, int* low, int* high) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return false;
  std::int64_t lo = 0, hi = 0;
  if (!ParseDecimal(text.substr(0, dash), &lo) || !ParseDecimal(text.substr(dash + 1), &hi)) return false;
  if (lo > hi || hi > kAgeMax || hi - lo >= kAgeBandYearsMax) return false;
  *low = static_cast<int>(lo);
  *high = static_cast<int>(hi);
  return true;
}

std::pair<int, int> AgeBandFor(int age, int age_min, int age_max) {
  int lo = age / kAgeBandYearsMax * kAgeBandYearsMax;
  int hi = std::min(lo + kAgeBandYearsMax - 1, kAgeMax);
  // Cut at each bound the band crosses, keeping the side the age is on.
  for (int bound : {age_min, age_max + 1}) {  // the first age inside, the first age above
    if (lo < bound && bound <= hi) {
      if (age < bound) {
        hi = bound - 1;
      } else {
        lo = bound;
      }
    }
  }
  return {lo, hi};
}

}  // namespace colend::contracts
