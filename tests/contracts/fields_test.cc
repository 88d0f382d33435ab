// Proves the admission field schemas (contracts/fields.h, docs/transactions.md): every type
// admits the values the CLI, the node and the demo send; unknown fields, malformed UTF-8, hidden
// characters, personal data and values outside their format are refused with a named code and a
// message naming the type and field but never the value; and Executor::CheckEnvelope refuses
// such a transaction, so it cannot reach a block.
#include "contracts/fields.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "contracts/contract.h"
#include "contracts/executor.h"

namespace colend::contracts {
namespace {

using Fields = std::map<std::string, std::string>;

const std::string kHex64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const std::string kBorrower = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

TxBody Body(const std::string& type, Fields fields) {
  TxBody body;
  body.chain_id = "colend-test";
  body.sender = "lead-bank";
  body.nonce = 1;
  body.timestamp_ms = 1764316800000;
  body.type = type;
  body.fields = std::move(fields);
  return body;
}

// The code of CheckTxFields, or "ok".
std::string Code(const std::string& type, const Fields& fields) {
  Status s = CheckTxFields(Body(type, fields));
  return s.ok() ? "ok" : s.error().code;
}

// `base` with `key` set to `value`: the refusal, which must not repeat the value.
Error RefusalWith(const std::string& type, Fields base, const std::string& key,
                  const std::string& value) {
  base[key] = value;
  Status s = CheckTxFields(Body(type, base));
  EXPECT_FALSE(s.ok()) << type << " " << key << " admitted a value of " << value.size() << " bytes";
  if (s.ok()) return {};
  if (value.size() >= 6) {
    EXPECT_EQ(s.error().message.find(value), std::string::npos)
        << "value echoed: " << s.error().message;
  }
  EXPECT_NE(s.error().message.find(type), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("'" + key + "'"), std::string::npos) << s.error().message;
  return s.error();
}

std::string Utf8(char32_t c) {
  std::string out;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
  return out;
}

// What the CLI (tools/*_commands.cc), the demo (colend localnet demo), the node (consensus
// evidence, clock.tick) and the contract tests send, one transaction per type.
std::map<std::string, Fields> CliValues() {
  const std::string member_json =
      R"({"id":"new-bank","name":"New Bank Co., Ltd.","role":"partner_bank",)"
      R"("signing_certificate":"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUE3\n-----END CERTIFICATE-----\n",)"
      R"("tls_certificate":"-----BEGIN CERTIFICATE-----\nMIIBtDCCAVqgAwIBAgIUF4\n-----END CERTIFICATE-----\n"})";
  return {
      {"evidence.anchor",
       {{"document-sha256", kHex64},
        {"document-bytes", "16"},
        {"document-name", "contract-1.pdf"},
        {"loan-id", "L-bcdfghj"}}},
      {"evidence.attach",
       {{"loan", "L-bcdfghj"},
        {"kind", "repayment-proof"},
        {"document-sha256", kHex64},
        {"document-bytes", "16777216"},
        {"label-sha256", kHex64}}},
      {"consensus.evidence",
       {{"first", "0a0b" + kHex64},
        {"second", "0a0c" + kHex64},
        {"member", "partner-bank"},
        {"height", "7"},
        {"round", "1"},
        {"kind", "prevote"}}},
      {"member.propose", {{"proposal", "join-6"}, {"change", "add"}, {"member", member_json}}},
      {"member.approve", {{"proposal", "join-6"}}},
      {"clock.tick", {}},
      {"clock.advance", {{"days", "400"}}},
      {"bureau.snapshot",
       {{"borrower", kBorrower},
        {"institutions", "1"},
        {"outstanding-fen", "0"},
        {"limits-fen", "5000000"},
        {"overdue-count", "0"},
        {"queries-90d", "1"},
        {"max-dpd", "0"},
        {"total-loans-fen", "0"},
        {"liquid-assets-fen", "10000000"},
        {"valid-until", "2026-12-28"}}},
      {"bank.figures",
       {{"tier1-capital-fen", "10000000000000"},
        {"total-loans-fen", "100000000000000"},
        {"valid-until", "2999-12-31"}}},
      {"borrower.admit",
       {{"borrower", kBorrower},
        {"score", "720"},
        {"model", "wb-risk-2026.1"},
        {"age-band", "30-34"},
        {"kyc-level", "3"},
        {"kyc-date", "2026-11-28"},
        {"consent-date", "2026-11-28"},
        {"consent-credit-query", "yes"},
        {"consent-colending", "yes"},
        {"product", "consumer"},
        {"blacklist", "none"}}},
      {"borrower.change", {{"borrower", kBorrower}, {"change", "id-reverification"}}},
      {"auth.result",
       {{"borrower", kBorrower}, {"level", "sms"}, {"result", "pass"}, {"ref", "otp-L-bcdfghj"}}},
      {"loan.draw",
       {{"loan", "L1764316800"},
        {"borrower", kBorrower},
        {"amount-fen", "4000000"},
        {"periods", "20"},
        {"daily-rate-num", "1"},
        {"daily-rate-den", "2000"},
        {"method", "equal-principal"},
        {"device-changed", "yes"},
        {"phone-changed", "no"},
        {"counterparty-new", "no"},
        {"location-level", "3"},
        {"approval-sha256", kHex64},
        {"model", "wb-risk-2026.1"}}},
      {"loan.approve",
       {{"loan", "ROLE-1"},
        {"decision", "decline"},
        {"approval-sha256", kHex64},
        {"model", "partner-risk-2026.1"}}},
      {"loan.fund", {{"loan", "LA"}, {"amount-fen", "800000"}, {"ref", "LB-L-bcdfghj"}}},
      {"loan.payout", {{"loan", "LA"}, {"amount-fen", "4000000"}, {"account", "VA-L-bcdfghj"}}},
      {"use.attest",
       {{"loan", "LA"},
        {"amount-fen", "1200000"},
        {"counterparty", "merchant"},
        {"mcc", "4829"},
        {"channel", "online"},
        {"ref", "SETTLE-A117"}}},
      {"va.spend",
       {{"loan", "LA"},
        {"amount-fen", "1200000"},
        {"counterparty", "merchant"},
        {"mcc", "0742"},
        {"channel", "pos"}}},
      {"loan.repay", {{"loan", "LA"}, {"amount-fen", "10000000000000"}}},
      {"loan.settle", {{"loan", "LA"}, {"amount-fen", "0"}}},
      {"collection.outcome", {{"loan", "LA"}, {"ptp-broken", "2"}, {"no-contact-days", "3"}}},
      {"loan.writeoff", {{"loan", "LA"}}},
      {"param.propose",
       {{"proposal", "grace-2"},
        {"changes", R"({"substandard_dpd":{"lead_bank":120,"partner_bank":90}})"},
        {"effective-date", "2028-02-29"}}},
      {"param.approve", {{"proposal", "grace-2"}}},
  };
}

TEST(Fields, EveryTypeHasASchemaAndEverySchemaAType) {
  std::set<std::string_view> types, schemas;
  for (const TxType& t : AllTxTypes()) types.insert(t.name);
  for (const TxSchema& s : AllTxSchemas()) {
    EXPECT_TRUE(schemas.insert(s.type).second) << "two schemas for " << s.type;
    for (std::size_t i = 0; i < s.fields.size(); ++i) {
      const FieldRule& r = s.fields[i];
      EXPECT_TRUE(IsValidFieldKey(r.key)) << s.type << " " << r.key;
      if (i > 0) {
        EXPECT_LT(s.fields[i - 1].key, r.key) << s.type << ": keys out of order";
      }
      if (r.format == FieldFormat::kLabel) {
        EXPECT_FALSE(r.labels.empty()) << s.type << " " << r.key;
      }
      if (r.format == FieldFormat::kInteger || r.format == FieldFormat::kAmountFen) {
        EXPECT_LE(r.low, r.high) << s.type << " " << r.key;
      }
    }
  }
  EXPECT_EQ(types, schemas);
  EXPECT_EQ(CliValues().size(), schemas.size()) << "a happy path for every type";
}

TEST(Fields, WhatTheCliAndTheNodeSendIsAdmitted) {
  for (const auto& [type, fields] : CliValues()) {
    Status s = CheckTxFields(Body(type, fields));
    EXPECT_TRUE(s.ok()) << type << ": " << s.ToString();
    for (const auto& [key, value] : fields) {
      EXPECT_TRUE(CheckField(type, key, value).ok()) << type << " " << key;
    }
  }
  // Optional fields may be left out; the other values each field's format allows.
  EXPECT_EQ(Code("evidence.anchor", {{"document-sha256", kHex64}}), "ok");
  EXPECT_EQ(Code("evidence.anchor", {{"document-sha256", kHex64}, {"document-bytes", "0"}}), "ok");
  EXPECT_EQ(Code("member.propose",
                 {{"proposal", "drop-arb"}, {"change", "remove"}, {"member-id", "arbitration"}}),
            "ok");
  EXPECT_EQ(
      Code("member.propose", {{"proposal", "q1"}, {"change", "quorum"}, {"quorum", "two-thirds"}}),
      "ok");
  EXPECT_EQ(Code("loan.payout", {{"loan", "L1"}, {"amount-fen", "1"}, {"account", kHex64}}), "ok");
  for (const char* name : {"after-wipe-12.pdf", "chaos-1-2", "by-new-member.txt", "x", "A.b_c-9"}) {
    EXPECT_TRUE(CheckField("evidence.anchor", "document-name", name).ok()) << name;
  }
  for (const char* ref : {"r", "a", "otp-12345", "pay-2026", "LB:123/x", "VA-1"}) {
    EXPECT_TRUE(CheckField("loan.fund", "ref", ref).ok()) << ref;
  }
}

// The attack review's example: committed before, now refused at admission by name.
TEST(Fields, ThePersonalDataOfTheAttackReviewIsRefused) {
  const Fields anchor = {{"document-sha256", kHex64}};
  Error e = RefusalWith("evidence.anchor", anchor, "document-name",
                        "Zhang San ID 110101199003071234 phone 13800138000");
  EXPECT_EQ(e.code, "personal-data");
  EXPECT_EQ(e.message.find("1101011990"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("13800138000"), std::string::npos) << e.message;
  EXPECT_EQ(e.message.find("Zhang"), std::string::npos) << e.message;
  // The same in the other fields the review found unchecked.
  const Fields fund = {{"loan", "L1"}, {"amount-fen", "1"}, {"ref", "a"}};
  const Fields payout = {{"loan", "L1"}, {"amount-fen", "1"}, {"account", "v"}};
  const Fields auth = {{"borrower", kBorrower}, {"level", "sms"}, {"result", "pass"}, {"ref", "r"}};
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", "110101199003071234").code, "personal-data");
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", "11010119900307123X").code, "personal-data");
  EXPECT_EQ(RefusalWith("loan.payout", payout, "account", "6222021234567890123").code,
            "personal-data");
  EXPECT_EQ(RefusalWith("loan.payout", payout, "account", "138-0013-8000").code, "personal-data");
  EXPECT_EQ(RefusalWith("auth.result", auth, "ref", "otp-13800138000").code, "personal-data");
  EXPECT_EQ(RefusalWith("auth.result", auth, "ref", "zhang.san@example.com").code, "personal-data");
  EXPECT_EQ(RefusalWith("auth.result", auth, "ref", "otp-123456").code,
            "personal-data");  // 6 digits
  EXPECT_EQ(RefusalWith("auth.result", auth, "ref", "dob-1990.03.07").code, "personal-data");
  EXPECT_EQ(RefusalWith("evidence.anchor", anchor, "document-name", "scan-13800138000.pdf").code,
            "personal-data");
  // Ids may number things, but not with a phone, ID card or bank card number.
  const Fields repay = {{"loan", "L1"}, {"amount-fen", "1"}};
  EXPECT_EQ(Code("loan.repay", {{"loan", "L1764316800"}, {"amount-fen", "1"}}), "ok");  // 10 digits
  EXPECT_EQ(RefusalWith("loan.repay", repay, "loan", "L17643168001").code, "personal-data");
  EXPECT_EQ(RefusalWith("loan.repay", repay, "loan", "110101199003071234").code, "personal-data");
  EXPECT_EQ(RefusalWith("loan.repay", repay, "loan", "zs@example.com").code, "personal-data");
  // A borrower is a salted hash, never a name or ID number; a label goes on chain hashed only.
  const Fields change = {{"change", "phone"}};
  EXPECT_EQ(RefusalWith("borrower.change", change, "borrower", "Zhang San").code, "invalid-field");
  const Fields attach = CliValues().at("evidence.attach");
  EXPECT_EQ(
      RefusalWith("evidence.attach", attach, "label-sha256", "Zhang San 110101199003071234").code,
      "invalid-field");
  // A name label is ASCII: a person's name in Chinese is not a label.
  EXPECT_EQ(RefusalWith("evidence.anchor", anchor, "document-name", "张三身份证.jpg").code,
            "invalid-field");
  EXPECT_EQ(RefusalWith("evidence.anchor", anchor, "document-name", "Zhang San.pdf").code,
            "invalid-field");
}

TEST(Fields, MalformedUtf8IsRefused) {
  const Fields anchor = {{"document-sha256", kHex64}};
  const std::vector<std::string> bad = {
      "\xC0\xAF",                  // overlong '/' (two bytes)
      "\xC1\xBF",                  // overlong (two bytes)
      "\xE0\x80\xAF",              // overlong '/' (three bytes)
      "\xE0\x9F\xBF",              // overlong U+07FF
      "\xF0\x80\x80\xAF",          // overlong '/' (four bytes)
      "\xF0\x8F\xBF\xBF",          // overlong U+FFFF
      "\xED\xA0\x80",              // surrogate U+D800
      "\xED\xBF\xBF",              // surrogate U+DFFF
      "\xED\xA0\xBD\xED\xB8\x80",  // a surrogate pair (CESU-8)
      "\xF4\x90\x80\x80",          // above U+10FFFF
      "\xF5\x80\x80\x80",          // no such lead byte
      "\xFF",                      // no such byte
      "\x80",                      // lone continuation byte
      "\xE4\xB8",                  // truncated (U+4E2D without its last byte)
      "\xF0\x9F\x98",              // truncated four-byte sequence
      "\xC3",                      // truncated at the end
      "\xC3(",                     // a continuation byte missing
  };
  for (const std::string& b : bad) {
    Error e = RefusalWith("evidence.anchor", anchor, "document-name", "doc" + b + "x");
    EXPECT_EQ(e.code, "invalid-utf8") << e.message;
    EXPECT_NE(e.message.find("at byte 3"), std::string::npos) << e.message;
  }
  // Well-formed UTF-8 passes the screen (and then meets the field's format: a label is ASCII).
  for (char32_t c : {char32_t{0x7F0}, char32_t{0x4E2D}, char32_t{0xFFFD}, char32_t{0x10FFFF}}) {
    EXPECT_EQ(RefusalWith("evidence.anchor", anchor, "document-name", "doc" + Utf8(c)).code,
              "invalid-field");
  }
}

TEST(Fields, BidiControlsAreRefused) {
  const Fields fund = {{"loan", "L1"}, {"amount-fen", "1"}};
  const char32_t bidi[] = {0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C,
                           0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069};
  for (char32_t c : bidi) {
    Error e = RefusalWith("loan.fund", fund, "ref", "pay" + Utf8(c) + "fdp");
    EXPECT_EQ(e.code, "bidi-control") << std::hex << static_cast<unsigned>(c);
    char name[16];
    std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(c));
    EXPECT_NE(e.message.find(name), std::string::npos) << e.message;
  }
  // Escaped in a JSON value, it is still refused.
  const Fields propose = {{"proposal", "p1"}, {"effective-date", "2027-01-01"}};
  EXPECT_EQ(
      RefusalWith("param.propose", propose, "changes", R"({"models":{"m\u202e1":{"min_score":1}}})")
          .code,
      "bidi-control");
}

TEST(Fields, ControlAndInvisibleCharactersAreRefused) {
  const Fields anchor = {{"document-sha256", kHex64}};
  for (char32_t c : {char32_t{0x00}, char32_t{0x01}, char32_t{0x09}, char32_t{0x0A}, char32_t{0x0D},
                     char32_t{0x1B}, char32_t{0x1F}, char32_t{0x7F}, char32_t{0x80}, char32_t{0x85},
                     char32_t{0x9F}, char32_t{0x2028}, char32_t{0x2029}}) {
    std::string value = "doc" + Utf8(c) + "x";
    EXPECT_EQ(RefusalWith("evidence.anchor", anchor, "document-name", value).code,
              "control-character")
        << std::hex << static_cast<unsigned>(c);
  }
  for (char32_t c : {char32_t{0x00AD}, char32_t{0x200B}, char32_t{0x200C}, char32_t{0x200D},
                     char32_t{0x2060}, char32_t{0x2064}, char32_t{0x3164}, char32_t{0xFE0F},
                     char32_t{0xFEFF}, char32_t{0xE0041}, char32_t{0xE0100}}) {
    EXPECT_EQ(RefusalWith("evidence.anchor", anchor, "document-name", "doc" + Utf8(c) + "x").code,
              "invisible-character")
        << std::hex << static_cast<unsigned>(c);
  }
  // In a new member's name (JSON-escaped, as the CLI sends the member object).
  Fields propose = CliValues().at("member.propose");
  std::string member = propose.at("member");
  member.replace(member.find("New Bank"), 3, "New\\u200b");
  EXPECT_EQ(RefusalWith("member.propose", propose, "member", member).code, "invisible-character");
}

TEST(Fields, UnknownMissingAndOverlongFieldsAreRefused) {
  Fields anchor = {{"document-sha256", kHex64}};
  Error e = RefusalWith("evidence.anchor", anchor, "name", "loan-contract");
  EXPECT_EQ(e.code, "invalid-field");
  EXPECT_NE(e.message.find("unknown field 'name'"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("document-name"), std::string::npos)
      << "lists the fields: " << e.message;
  // The padded transaction of the attack review: fields no contract reads.
  Fields padded = anchor;
  for (int i = 0; i < 14; ++i) padded["pad-" + std::to_string(10 + i)] = std::string(4000, 'p');
  EXPECT_EQ(Code("evidence.anchor", padded), "invalid-field");
  EXPECT_EQ(Code("clock.tick", {{"days", "1"}}), "invalid-field");
  // An unknown key that could itself be personal is not repeated.
  Status withheld = CheckTxFields(
      Body("evidence.anchor", {{"document-sha256", kHex64}, {"zs-110101199003071234", "x"}}));
  ASSERT_FALSE(withheld.ok());
  EXPECT_EQ(withheld.error().code, "invalid-field");
  EXPECT_EQ(withheld.error().message.find("1101011990"), std::string::npos)
      << withheld.error().message;

  EXPECT_EQ(Code("loan.fund", {{"loan", "L1"}, {"amount-fen", "1"}}), "invalid-field");  // no ref
  EXPECT_EQ(Code("evidence.anchor", {{"document-name", "a.pdf"}}), "invalid-field");
  EXPECT_EQ(Code("no.such-type", {}), "unknown-type");

  const Fields fund = {{"loan", "L1"}, {"amount-fen", "1"}};
  EXPECT_EQ(Code("loan.fund", {{"loan", "L1"}, {"amount-fen", "1"}, {"ref", std::string(64, 'r')}}),
            "ok");
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", std::string(65, 'r')).code, "invalid-field");
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", std::string(4000, 'r')).code, "invalid-field");
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", std::string(kFieldValueBytesMax + 1, 'r')).code,
            "invalid-field");
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", "").code, "invalid-field");
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", "-a").code, "invalid-field");
  EXPECT_EQ(RefusalWith("loan.fund", fund, "ref", "a b").code, "invalid-field");
  EXPECT_EQ(RefusalWith("evidence.anchor", anchor, "document-name", std::string(65, 'n')).code,
            "invalid-field");
  EXPECT_EQ(RefusalWith("loan.repay", {{"amount-fen", "1"}}, "loan", std::string(65, 'L')).code,
            "invalid-field");
  Fields evidence = CliValues().at("consensus.evidence");
  EXPECT_EQ(Code("consensus.evidence",
                 [&] {
                   Fields f = evidence;
                   f["first"] = std::string(4096, 'a');
                   return f;
                 }()),
            "ok");
  EXPECT_EQ(RefusalWith("consensus.evidence", evidence, "first", std::string(4098, 'a')).code,
            "invalid-field");
  EXPECT_EQ(RefusalWith("consensus.evidence", evidence, "first", "abc").code,
            "invalid-field");  // odd
  EXPECT_EQ(RefusalWith("consensus.evidence", evidence, "first", "ABCD").code,
            "invalid-field");  // upper
  EXPECT_EQ(RefusalWith("consensus.evidence", evidence, "member", "Partner-Bank").code,
            "invalid-field");
  EXPECT_EQ(RefusalWith("consensus.evidence", evidence, "round", "4294967296").code,
            "invalid-field");
}

TEST(Fields, DatesAmountsNumbersAndLabelsAreStrict) {
  const Fields figures = {{"tier1-capital-fen", "1"}, {"total-loans-fen", "1"}};
  for (const char* date :
       {"2026-02-30", "2027-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "2026-01-1",
        "26-01-01", "2026/01/01", "2026-01-01T00:00", "2026-01-00"}) {
    EXPECT_EQ(RefusalWith("bank.figures", figures, "valid-until", date).code, "invalid-field")
        << date;
  }
  EXPECT_EQ(
      Code("bank.figures",
           {{"tier1-capital-fen", "1"}, {"total-loans-fen", "1"}, {"valid-until", "2028-02-29"}}),
      "ok");

  const Fields repay = {{"loan", "L1"}};
  for (const char* amount : {"0100", "00", "-100", "+100", "1e5", "100.00", "1,000", " 1", "0x10",
                             "10000000000001", "99999999999999999999", "0"}) {
    EXPECT_EQ(RefusalWith("loan.repay", repay, "amount-fen", amount).code, "invalid-field")
        << amount;
  }
  EXPECT_EQ(Code("loan.repay", {{"loan", "L1"}, {"amount-fen", "10000000000000"}}), "ok");
  EXPECT_EQ(Code("loan.settle", {{"loan", "L1"}, {"amount-fen", "0"}}), "ok");
  const Fields bank = {{"total-loans-fen", "1"}, {"valid-until", "2027-01-01"}};
  EXPECT_EQ(Code("bank.figures", {{"tier1-capital-fen", "922337203685477"},
                                  {"total-loans-fen", "1"},
                                  {"valid-until", "2027-01-01"}}),
            "ok");
  EXPECT_EQ(RefusalWith("bank.figures", bank, "tier1-capital-fen", "922337203685478").code,
            "invalid-field");
  EXPECT_EQ(RefusalWith("clock.advance", {}, "days", "401").code, "invalid-field");
  EXPECT_EQ(RefusalWith("clock.advance", {}, "days", "0").code, "invalid-field");
  EXPECT_EQ(RefusalWith("clock.advance", {}, "days", "030").code, "invalid-field");

  Fields spend = CliValues().at("va.spend");
  for (const char* mcc : {"742", "07420", "5a11", "-742"}) {
    EXPECT_EQ(RefusalWith("va.spend", spend, "mcc", mcc).code, "invalid-field") << mcc;
  }
  EXPECT_EQ(RefusalWith("va.spend", spend, "counterparty", "Merchant").code, "invalid-field");
  EXPECT_EQ(RefusalWith("member.propose", {{"proposal", "p5"}}, "change", "rename").code,
            "invalid-field");
  EXPECT_EQ(
      RefusalWith("evidence.attach", CliValues().at("evidence.attach"), "kind", "passport-scan")
          .code,
      "invalid-field");
  EXPECT_EQ(
      RefusalWith("borrower.admit", CliValues().at("borrower.admit"), "blacklist", "Zhang").code,
      "invalid-field");
  EXPECT_EQ(RefusalWith("loan.draw", CliValues().at("loan.draw"), "device-changed", "true").code,
            "invalid-field");

  // JSON values: an object, shallow, its strings screened.
  const Fields propose = {{"proposal", "p1"}, {"effective-date", "2027-01-01"}};
  for (const char* changes : {"[1]", "{", "\"grace_days\"", "{\"grace_days\": 2} x"}) {
    EXPECT_EQ(RefusalWith("param.propose", propose, "changes", changes).code, "invalid-field")
        << changes;
  }
  EXPECT_EQ(Code("param.propose", {{"proposal", "p1"},
                                   {"effective-date", "2027-01-01"},
                                   {"changes", R"({"a":[[[[[[1]]]]]]})"}}),
            "ok");
  EXPECT_EQ(RefusalWith("param.propose", propose, "changes", R"({"a":[[[[[[[[1]]]]]]]]})").code,
            "invalid-field");
  EXPECT_EQ(RefusalWith("param.propose", propose, "changes",
                        R"({"collection_agencies":[{"id":"13800138000"}]})")
                .code,
            "personal-data");
  EXPECT_EQ(
      RefusalWith("member.propose", {{"proposal", "p1"}, {"change", "add"}}, "member", "not json")
          .code,
      "invalid-field");
}

// The executor refuses them at admission (mempool) and in any block (builder, endorser).
class FieldsEnvelopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_unique<crypto::PrivateKey>(*crypto::PrivateKey::Generate(crypto::Suite::kStd));
    rules_.chain_id = "colend-test";
    rules_.members.emplace("lead-bank", MemberRecord{"lead-bank", "lead_bank", key_->Public()});
  }
  Tx Signed(const std::string& type, Fields fields) {
    auto tx = SignTx(Body(type, std::move(fields)), *key_);
    EXPECT_TRUE(tx.ok()) << tx.error().ToString();
    // The wire form decodes: the text form allows these bytes; admission refuses them.
    auto decoded = DecodeTx(tx->Encode());
    EXPECT_TRUE(decoded.ok()) << decoded.error().ToString();
    return *decoded;
  }
  std::string Envelope(const Tx& tx) {
    Executor executor(rules_);
    Status s = executor.CheckEnvelope(tx, state_, 1764316800000);
    return s.ok() ? "ok" : s.error().code;
  }

  std::unique_ptr<crypto::PrivateKey> key_;
  ChainRules rules_;
  StateTree state_;
};

TEST_F(FieldsEnvelopeTest, CheckEnvelopeRefusesMalformedFields) {
  const std::string digest = kHex64;
  auto anchor = [&](const std::string& name) {
    return Signed("evidence.anchor", {{"document-sha256", digest}, {"document-name", name}});
  };
  EXPECT_EQ(Envelope(anchor("contract-1.pdf")), "ok");
  Tx zhang = anchor("Zhang San ID 110101199003071234 phone 13800138000");
  EXPECT_EQ(Envelope(zhang), "personal-data");
  Executor executor(rules_);
  Status refused = executor.CheckEnvelope(zhang, state_, 1764316800000);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().ToString().find("110101199003071234"), std::string::npos);
  EXPECT_EQ(Envelope(anchor("doc\xED\xA0\x80.pdf")), "invalid-utf8");
  EXPECT_EQ(Envelope(anchor("doc\xE2\x80\xAE"
                            "fdp.exe")),
            "bidi-control");
  EXPECT_EQ(Envelope(anchor("doc\xC2\x85")), "control-character");
  EXPECT_EQ(Envelope(anchor("doc\xE2\x80\x8B")), "invisible-character");
  EXPECT_EQ(Envelope(Signed("evidence.anchor",
                            {{"document-sha256", digest}, {"pad-00", std::string(4000, 'x')}})),
            "invalid-field");
  EXPECT_EQ(Envelope(Signed("loan.fund", {{"loan", "L1"}, {"amount-fen", "0100"}, {"ref", "a"}})),
            "invalid-field");
  EXPECT_EQ(Envelope(Signed("loan.steal", {})), "unknown-type");
  // A signature check comes first: a forged transaction is named as such, whatever its fields.
  auto other = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  auto forged = SignTx(zhang.body, *other);
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(Envelope(*forged), "bad-signature");
}

}  // namespace
}  // namespace colend::contracts
