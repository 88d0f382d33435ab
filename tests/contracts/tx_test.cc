// Proves that transaction bodies have exactly one accepted text form, that the id is the hash of
// the signed bytes (independent of the signature), and that signatures bind the exact body.
#include <gtest/gtest.h>

#include "contracts/contracts.pb.h"
#include "contracts/tx.h"

namespace colend::contracts {
namespace {

TxBody SampleBody() {
  TxBody body;
  body.chain_id = "colend-test";
  body.sender = "lead-bank";
  body.nonce = 7;
  body.timestamp_ms = 1764316800123;
  body.type = "evidence.anchor";
  body.fields["document-sha256"] = std::string(64, 'a');
  body.fields["document-name"] = "loan contract.pdf";
  return body;
}

TEST(TxBody, GoldenText) {
  EXPECT_EQ(SampleBody().ToText(),
            "colend-tx/v1\n"
            "chain-id: colend-test\n"
            "sender: lead-bank\n"
            "nonce: 7\n"
            "timestamp-ms: 1764316800123\n"
            "type: evidence.anchor\n"
            "document-name: loan contract.pdf\n"
            "document-sha256: " + std::string(64, 'a') + "\n");
}

TEST(TxBody, RoundTrip) {
  std::string text = SampleBody().ToText();
  auto parsed = TxBody::ParseText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->ToText(), text);
  ASSERT_NE(parsed->Field("document-name"), nullptr);
  EXPECT_EQ(*parsed->Field("document-name"), "loan contract.pdf");
}

TEST(TxBody, RejectsNonCanonicalForms) {
  std::string good = SampleBody().ToText();
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  const std::vector<std::string> bad = {
      good.substr(0, good.size() - 1),                        // no final LF
      replace("nonce: 7", "nonce: 07"),                       // leading zero
      replace("nonce: 7", "nonce: +7"),                       // sign
      replace("colend-tx/v1", "colend-tx/v2"),                // magic
      replace("sender: lead-bank", "sender: Lead-Bank"),      // case
      replace("document-name: loan", "document-name:  loan"), // leading space in value
      replace("\n", "\r\n"),                                  // CR
      replace("document-name", "zzz-name"),                   // fields out of order
      replace("chain-id: colend-test\nsender: lead-bank",
              "sender: lead-bank\nchain-id: colend-test"),    // header reordered
      replace("timestamp-ms: 1764316800123", "timestamp-ms: -1"),
  };
  for (const auto& text : bad) {
    auto parsed = TxBody::ParseText(text);
    EXPECT_FALSE(parsed.ok()) << "accepted:\n" << text;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, "malformed-transaction");
    }
  }
}

TEST(Tx, IdIsHashOfBodyAndSignatureBindsIt) {
  auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  ASSERT_TRUE(key.ok());
  auto a = SignTx(SampleBody(), *key);
  auto b = SignTx(SampleBody(), *key);  // ECDSA: another signature over the same body
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, crypto::Sha256(a->body_text));
  EXPECT_EQ(a->id, b->id);                 // id independent of the signature
  EXPECT_NE(a->LeafText(), b->LeafText()); // but the committed leaf binds the exact signature

  auto decoded = DecodeTx(a->Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(decoded->id, a->id);
  EXPECT_TRUE(key->Public().Verify(decoded->body_text, decoded->signature).ok());

  proto::SignedTx tampered;
  tampered.set_body(a->body_text);
  tampered.mutable_body()->replace(tampered.body().find("nonce: 7"), 8, "nonce: 8");
  tampered.set_signature(a->signature);
  auto t = DecodeTx(tampered.SerializeAsString());
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(key->Public().Verify(t->body_text, t->signature).ok());
}

TEST(Tx, DecodeRejectsGarbage) {
  EXPECT_FALSE(DecodeTx("not a protobuf \xff\xff").ok());
  proto::SignedTx no_sig;
  no_sig.set_body(SampleBody().ToText());
  auto decoded = DecodeTx(no_sig.SerializeAsString());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, "malformed-transaction");
}

// The wire form is canonical too: a block commits a transaction by its id and its signature's
// hash, so bytes beside those two fields would go uncovered, and a relaying node could change
// them. Each variant is parsed by protobuf (and would have been admitted before), keeps the same
// id and signature, and is refused.
TEST(Tx, DecodeRefusesAWireFormThatIsNotCanonical) {
  auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  ASSERT_TRUE(key.ok());
  auto tx = SignTx(SampleBody(), *key);
  ASSERT_TRUE(tx.ok());
  const std::string wire = tx->Encode();
  ASSERT_TRUE(DecodeTx(wire).ok());
  auto field = [](int number, const std::string& bytes) {  // a length-delimited field, < 128 bytes
    return std::string{static_cast<char>(number << 3 | 2), static_cast<char>(bytes.size())} + bytes;
  };
  const std::pair<std::string, std::string> variants[] = {
      {"an unknown field appended", wire + field(3, std::string(100, 'x'))},
      {"an unknown field first", field(3, "x") + wire},
      {"a stray body before the real one (protobuf keeps the last)", field(1, "abc") + wire},
      {"the signature before the body",
       field(2, tx->signature) + wire.substr(0, wire.size() - tx->signature.size() - 2)},
      {"the signature twice", wire + field(2, tx->signature)},
  };
  for (const auto& [what, bytes] : variants) {
    proto::SignedTx parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes)) << what;
    auto decoded = DecodeTx(bytes);
    ASSERT_FALSE(decoded.ok()) << what << ": accepted";
    EXPECT_EQ(decoded.error().code, "malformed-transaction") << what;
    EXPECT_NE(decoded.error().message.find("not in canonical form"), std::string::npos)
        << what << ": " << decoded.error().message;
  }
}

// A refused value's message says what is wrong with it, without repeating it.
TEST(Tx, AnOverlongValueIsRefusedNamingTheLimit) {
  TxBody body = SampleBody();
  body.fields["note"] = std::string(kFieldValueBytesMax + 1, 'a');
  auto parsed = TxBody::ParseText(body.ToText());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("bad value of field 'note': 4097 bytes, over the 4096"),
            std::string::npos)
      << parsed.error().message;
  EXPECT_EQ(parsed.error().message.find("aaaa"), std::string::npos) << "the value is not repeated";
}

}  // namespace
}  // namespace colend::contracts
