// Proves the signature contract of crypto/signature.h: ECDSA P-256 and SM2 sign/verify round
// trips; tampering is caught; only strict-DER, in-range, low-S (std) signatures are accepted, each
// failure with its documented code; keys of the other suite's curve are refused; PEM/DER round
// trips; all Project Wycheproof ECDSA P-256/SHA-256 vectors behave (no invalid one accepted); and
// interop with the `openssl` command-line tool in both directions for both suites.
#include "crypto/signature.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "tests/crypto/test_util.h"

namespace colend::crypto {
namespace {

using test_util::HaveOpensslCli;
using test_util::ReadFile;
using test_util::RunQuiet;
using test_util::TempDir;
using test_util::WriteFile;

constexpr char kP256Order[] = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;

Bn Order() {
  BIGNUM* n = nullptr;
  BN_hex2bn(&n, kP256Order);
  return Bn(n);
}

// (r, s) of a DER signature, via OpenSSL's parser (independent of the code under test).
std::pair<Bn, Bn> ParseSig(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) return {};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::pair<Bn, Bn> out(Bn(BN_dup(r)), Bn(BN_dup(s)));
  ECDSA_SIG_free(sig);
  return out;
}

bool IsHighS(const std::string& der) {
  auto [r, s] = ParseSig(der);
  Bn half(BN_new());
  BN_rshift1(half.get(), Order().get());
  return s && BN_cmp(s.get(), half.get()) > 0;
}

// Big-endian magnitude of `v`, with `extra_zeros` additional leading zero bytes beyond the one
// DER needs when the top bit is set.
std::string Magnitude(const BIGNUM* v, int extra_zeros = 0) {
  std::string out(static_cast<std::size_t>(BN_num_bytes(v)), '\0');
  BN_bn2bin(v, reinterpret_cast<unsigned char*>(out.data()));
  if (out.empty() || (static_cast<unsigned char>(out[0]) & 0x80)) out.insert(0, 1, '\0');
  out.insert(0, static_cast<std::size_t>(extra_zeros), '\0');
  return out;
}

// Hand-made DER pieces (short-form lengths; all our signatures are < 128 bytes).
std::string DerInt(const std::string& content) {
  return std::string("\x02", 1) + static_cast<char>(content.size()) + content;
}
std::string DerSeq(const std::string& content) {
  return std::string("\x30", 1) + static_cast<char>(content.size()) + content;
}

// The same signature with s replaced by n - s (high <-> low S), strict DER.
std::string FlipS(const std::string& der) {
  auto [r, s] = ParseSig(der);
  Bn flipped(BN_new());
  BN_sub(flipped.get(), Order().get(), s.get());
  return DerSeq(DerInt(Magnitude(r.get())) + DerInt(Magnitude(flipped.get())));
}

// Plain OpenSSL ECDSA verification with no policy on top: shows a rejection is ours.
bool RawOpensslVerify(const PublicKey& key, const std::string& msg, const std::string& sig) {
  const std::string spki = key.ToDer();
  const auto* p = reinterpret_cast<const unsigned char*>(spki.data());
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size()));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      pkey != nullptr && ctx != nullptr &&
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

PrivateKey NewKey(Suite suite) {
  Result<PrivateKey> key = PrivateKey::Generate(suite);
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  return std::move(key).value();
}

std::string ErrorCode(const Status& status) { return status.ok() ? "ok" : status.error().code; }

TEST(SignatureTest, SuiteNames) {
  EXPECT_EQ(SuiteName(Suite::kStd), "std");
  EXPECT_EQ(SuiteName(Suite::kSm), "sm");
  EXPECT_EQ(*ParseSuite("std"), Suite::kStd);
  EXPECT_EQ(*ParseSuite("sm"), Suite::kSm);
  EXPECT_EQ(ParseSuite("SM").error().code, "unknown-suite");
  EXPECT_EQ(ParseSuite("").error().code, "unknown-suite");
}

TEST(SignatureTest, EcdsaRoundTripAlwaysLowS) {
  const PrivateKey key = NewKey(Suite::kStd);
  const PublicKey pub = key.Public();
  EXPECT_EQ(pub.suite(), Suite::kStd);
  // About half of raw ECDSA signatures are high-S, so 40 all-low signatures show normalisation.
  for (int i = 0; i < 40; ++i) {
    const std::string msg = "message " + std::to_string(i);
    Result<std::string> sig = key.Sign(msg);
    ASSERT_TRUE(sig.ok()) << sig.error().ToString();
    EXPECT_FALSE(IsHighS(*sig));
    EXPECT_TRUE(pub.Verify(msg, *sig).ok()) << pub.Verify(msg, *sig).ToString();
  }
  EXPECT_TRUE(pub.Verify("", *key.Sign("")).ok());
}

TEST(SignatureTest, EcdsaTamperRejected) {
  const PrivateKey key = NewKey(Suite::kStd);
  const PublicKey pub = key.Public();
  const std::string sig = *key.Sign("pay 100 to alice");
  EXPECT_EQ(ErrorCode(pub.Verify("pay 900 to alice", sig)), "bad-signature");
  std::string flipped = sig;
  flipped.back() ^= 0x01;  // still strict DER and low S, just a wrong s
  EXPECT_EQ(ErrorCode(pub.Verify("pay 100 to alice", flipped)), "bad-signature");
  EXPECT_EQ(ErrorCode(NewKey(Suite::kStd).Public().Verify("pay 100 to alice", sig)),
            "bad-signature");
}

// A peer that gossips transactions under bad signatures must not make a node verify each one
// twice (on the pool, then when admitting it): an answer either way is remembered.
TEST(SignatureTest, EachSignatureIsVerifiedOnceWhateverTheAnswer) {
  for (Suite suite : {Suite::kStd, Suite::kSm}) {
    const PrivateKey key = NewKey(suite);
    const PublicKey pub = key.Public();
    const std::string sig = *key.Sign("repay 100");
    std::uint64_t before = SignatureVerificationsRun();
    EXPECT_TRUE(pub.Verify("repay 100", sig).ok());
    EXPECT_TRUE(pub.Verify("repay 100", sig).ok());
    EXPECT_EQ(SignatureVerificationsRun() - before, 1u) << SuiteName(suite) << ": a valid one";
    before = SignatureVerificationsRun();
    EXPECT_EQ(ErrorCode(pub.Verify("repay 900", sig)), "bad-signature");
    EXPECT_EQ(ErrorCode(pub.Verify("repay 900", sig)), "bad-signature");
    EXPECT_EQ(SignatureVerificationsRun() - before, 1u) << SuiteName(suite) << ": a bad one";
    // The remembered refusal is of those exact bytes: the valid pair still verifies, and the
    // same signature under another key is checked afresh.
    EXPECT_TRUE(pub.Verify("repay 100", sig).ok());
    before = SignatureVerificationsRun();
    EXPECT_EQ(ErrorCode(NewKey(suite).Public().Verify("repay 100", sig)), "bad-signature");
    EXPECT_EQ(SignatureVerificationsRun() - before, 1u);
  }
}

TEST(SignatureTest, EcdsaHighSRejectedAsNonCanonical) {
  const PrivateKey key = NewKey(Suite::kStd);
  const PublicKey pub = key.Public();
  const std::string sig = *key.Sign("hello");
  const std::string high = FlipS(sig);
  ASSERT_TRUE(IsHighS(high));
  ASSERT_TRUE(RawOpensslVerify(pub, "hello", high)) << "n - s must be mathematically valid";
  EXPECT_EQ(ErrorCode(pub.Verify("hello", high)), "non-canonical-signature");
  // A high-S signature that does not verify at all is reported as what it is: a bad signature.
  EXPECT_EQ(ErrorCode(pub.Verify("goodbye", high)), "bad-signature");
  EXPECT_EQ(ErrorCode(NewKey(Suite::kStd).Public().Verify("hello", high)), "bad-signature");
}

TEST(SignatureTest, EcdsaNonStrictDerRejectedAsMalformed) {
  const PrivateKey key = NewKey(Suite::kStd);
  const PublicKey pub = key.Public();
  const std::string sig = *key.Sign("hello");
  auto [r, s] = ParseSig(sig);
  ASSERT_EQ(DerSeq(DerInt(Magnitude(r.get())) + DerInt(Magnitude(s.get()))), sig);

  const std::string trailing = sig + std::string(1, '\0');
  const std::string padded_r = DerSeq(DerInt(Magnitude(r.get(), 1)) + DerInt(Magnitude(s.get())));
  std::string long_form = sig;  // 30 81 LL ...: BER long-form length for a short body
  long_form.insert(1, 1, '\x81');
  const std::string r_zero = DerSeq(DerInt(std::string(1, '\0')) + DerInt(Magnitude(s.get())));
  const std::string s_is_n = DerSeq(DerInt(Magnitude(r.get())) + DerInt(Magnitude(Order().get())));
  for (const std::string& bad : {trailing, padded_r, long_form, r_zero, s_is_n, std::string(),
                                 std::string("\x30\x00", 2), sig.substr(0, sig.size() - 1)}) {
    EXPECT_EQ(ErrorCode(pub.Verify("hello", bad)), "malformed-signature") << ToHex(bad);
  }
  EXPECT_EQ(ERR_peek_error(), 0u) << "failures must not leave errors queued for the next caller";
}

TEST(SignatureTest, Sm2RoundTripAndTamper) {
  const PrivateKey key = NewKey(Suite::kSm);
  const PublicKey pub = key.Public();
  EXPECT_EQ(pub.suite(), Suite::kSm);
  for (int i = 0; i < 10; ++i) {
    const std::string msg = "sm message " + std::to_string(i);
    Result<std::string> sig = key.Sign(msg);
    ASSERT_TRUE(sig.ok()) << sig.error().ToString();
    EXPECT_TRUE(pub.Verify(msg, *sig).ok()) << pub.Verify(msg, *sig).ToString();
    EXPECT_EQ(ErrorCode(pub.Verify(msg + "!", *sig)), "bad-signature");
    EXPECT_EQ(ErrorCode(pub.Verify(msg, *sig + std::string(1, '\0'))), "malformed-signature");
  }
  const std::string sig = *key.Sign("x");
  std::string flipped = sig;
  flipped.back() ^= 0x01;
  EXPECT_EQ(ErrorCode(pub.Verify("x", flipped)), "bad-signature");
  EXPECT_EQ(ErrorCode(NewKey(Suite::kSm).Public().Verify("x", sig)), "bad-signature");
}

TEST(SignatureTest, WrongCurveRejected) {
  const PrivateKey p256 = NewKey(Suite::kStd);
  const PrivateKey sm2 = NewKey(Suite::kSm);
  EXPECT_EQ(PrivateKey::FromPem(p256.ToPem(), Suite::kSm).error().code, "wrong-curve");
  EXPECT_EQ(PrivateKey::FromPem(sm2.ToPem(), Suite::kStd).error().code, "wrong-curve");
  EXPECT_EQ(PublicKey::FromPem(p256.Public().ToPem(), Suite::kSm).error().code, "wrong-curve");
  EXPECT_EQ(PublicKey::FromPem(sm2.Public().ToPem(), Suite::kStd).error().code, "wrong-curve");
  EXPECT_EQ(PublicKey::FromDer(p256.Public().ToDer(), Suite::kSm).error().code, "wrong-curve");
  EXPECT_EQ(PublicKey::FromDer(sm2.Public().ToDer(), Suite::kStd).error().code, "wrong-curve");
}

TEST(SignatureTest, PemAndDerRoundTrip) {
  for (Suite suite : {Suite::kStd, Suite::kSm}) {
    const PrivateKey key = NewKey(suite);
    const std::string pem = key.ToPem();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u) << pem;
    Result<PrivateKey> loaded = PrivateKey::FromPem(pem, suite);
    ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
    EXPECT_EQ(loaded->ToPem(), pem);
    EXPECT_TRUE(key.Public().Verify("m", *loaded->Sign("m")).ok());

    const std::string pub_pem = key.Public().ToPem();
    EXPECT_EQ(pub_pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u) << pub_pem;
    Result<PublicKey> pub = PublicKey::FromPem(pub_pem, suite);
    ASSERT_TRUE(pub.ok()) << pub.error().ToString();
    EXPECT_EQ(pub->ToDer(), key.Public().ToDer());
    Result<PublicKey> from_der = PublicKey::FromDer(pub->ToDer(), suite);
    ASSERT_TRUE(from_der.ok());
    EXPECT_EQ(from_der->ToPem(), pub_pem);
    EXPECT_TRUE(from_der->Verify("m", *key.Sign("m")).ok());
  }
}

TEST(SignatureTest, BadPemAndBadKey) {
  const PrivateKey key = NewKey(Suite::kStd);
  EXPECT_EQ(PrivateKey::FromPem("not pem", Suite::kStd).error().code, "bad-pem");
  EXPECT_EQ(PublicKey::FromPem("", Suite::kStd).error().code, "bad-pem");
  // A public key block where a private key is expected, and vice versa.
  EXPECT_EQ(PrivateKey::FromPem(key.Public().ToPem(), Suite::kStd).error().code, "bad-pem");
  EXPECT_EQ(PublicKey::FromPem(key.ToPem(), Suite::kStd).error().code, "bad-pem");
  const std::string garbage_pem =
      "-----BEGIN PUBLIC KEY-----\nAAECAwQFBgcICQ==\n-----END PUBLIC KEY-----\n";
  EXPECT_EQ(PublicKey::FromPem(garbage_pem, Suite::kStd).error().code, "bad-key");
  const std::string garbage_key =
      "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n";
  EXPECT_EQ(PrivateKey::FromPem(garbage_key, Suite::kStd).error().code, "bad-key");
  EXPECT_EQ(PublicKey::FromDer(key.Public().ToDer() + "x", Suite::kStd).error().code, "bad-key");
  EXPECT_EQ(PublicKey::FromDer("", Suite::kStd).error().code, "bad-key");
  EXPECT_EQ(ERR_peek_error(), 0u) << "failures must not leave errors queued for the next caller";
}

// Project Wycheproof ECDSA P-256/SHA-256 verification vectors, under our low-S policy.
TEST(SignatureTest, Wycheproof) {
  const std::string path =
      std::string(COLEND_TESTDATA) + "/wycheproof/ecdsa_secp256r1_sha256_test.json";
  ASSERT_TRUE(std::filesystem::exists(path)) << "Wycheproof vectors not found at " << path;
  std::ifstream in(path);
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(doc.is_discarded()) << "cannot parse " << path;
  ASSERT_EQ(doc.value("algorithm", ""), "ECDSA");

  int total = 0, valid_accepted = 0, valid_high_s_rejected = 0, invalid_rejected = 0,
      acceptable = 0;
  std::map<std::string, int> invalid_by_code;
  for (const auto& group : doc.at("testGroups")) {
    ASSERT_EQ(group.value("sha", ""), "SHA-256");
    Result<std::string> spki = FromHex(group.at("publicKeyDer").get<std::string>());
    ASSERT_TRUE(spki.ok());
    Result<PublicKey> key = PublicKey::FromDer(*spki, Suite::kStd);
    ASSERT_TRUE(key.ok()) << key.error().ToString();
    for (const auto& test : group.at("tests")) {
      ++total;
      const int id = test.at("tcId").get<int>();
      const std::string result = test.at("result").get<std::string>();
      const std::string msg = *FromHex(test.at("msg").get<std::string>());
      const std::string sig = *FromHex(test.at("sig").get<std::string>());
      const Status status = key->Verify(msg, sig);
      if (result == "valid") {
        if (IsHighS(sig)) {
          EXPECT_EQ(ErrorCode(status), "non-canonical-signature") << "tcId " << id;
          ++valid_high_s_rejected;
        } else {
          EXPECT_TRUE(status.ok()) << "tcId " << id << ": " << status.ToString();
          ++valid_accepted;
        }
      } else if (result == "invalid") {
        EXPECT_FALSE(status.ok()) << "invalid tcId " << id
                                  << " accepted: " << test.value("comment", "");
        if (!status.ok()) {
          ++invalid_rejected;
          ++invalid_by_code[status.error().code];
        }
      } else {
        ++acceptable;  // either outcome is allowed; reaching here means no crash
      }
    }
  }
  std::cout << "Wycheproof: " << total << " vectors; valid accepted " << valid_accepted
            << ", valid rejected as high-S " << valid_high_s_rejected << "; invalid rejected "
            << invalid_rejected << " (";
  const char* sep = "";
  for (const auto& [code, n] : invalid_by_code) {
    std::cout << sep << code << " " << n;
    sep = ", ";
  }
  std::cout << "); acceptable " << acceptable << "\n";
  EXPECT_EQ(total, doc.at("numberOfTests").get<int>());
  EXPECT_EQ(valid_accepted + valid_high_s_rejected + invalid_rejected + acceptable, total);
  EXPECT_GT(valid_accepted, 0);
  EXPECT_GT(valid_high_s_rejected, 0);
}

class OpensslCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveOpensslCli()) GTEST_SKIP() << "`openssl` command-line tool not on PATH";
  }
  TempDir dir_;
};

TEST_F(OpensslCliTest, EcdsaOurSignatureVerifiesInOpenssl) {
  const PrivateKey key = NewKey(Suite::kStd);
  WriteFile(dir_.File("pub.pem"), key.Public().ToPem());
  WriteFile(dir_.File("msg"), "ledger block 7");
  WriteFile(dir_.File("sig"), *key.Sign("ledger block 7"));
  const std::string verify = "openssl dgst -sha256 -verify " + dir_.File("pub.pem") +
                             " -signature " + dir_.File("sig") + " " + dir_.File("msg");
  EXPECT_TRUE(RunQuiet(verify));
  WriteFile(dir_.File("msg"), "ledger block 8");
  EXPECT_FALSE(RunQuiet(verify)) << "the CLI check must be able to fail";
}

TEST_F(OpensslCliTest, EcdsaOpensslSignatureVerifiesHere) {
  ASSERT_TRUE(RunQuiet("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
                       dir_.File("key.pem")));
  Result<PrivateKey> key = PrivateKey::FromPem(ReadFile(dir_.File("key.pem")), Suite::kStd);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  const PublicKey pub = key->Public();
  int high_s = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string msg = "openssl message " + std::to_string(i);
    WriteFile(dir_.File("msg"), msg);
    ASSERT_TRUE(RunQuiet("openssl dgst -sha256 -sign " + dir_.File("key.pem") + " -out " +
                         dir_.File("sig") + " " + dir_.File("msg")));
    const std::string sig = ReadFile(dir_.File("sig"));
    if (IsHighS(sig)) {
      // OpenSSL does not normalise S; its high-S form is refused by policy, the low form passes.
      ++high_s;
      EXPECT_EQ(ErrorCode(pub.Verify(msg, sig)), "non-canonical-signature");
      EXPECT_TRUE(pub.Verify(msg, FlipS(sig)).ok());
    } else {
      EXPECT_TRUE(pub.Verify(msg, sig).ok()) << pub.Verify(msg, sig).ToString();
    }
  }
  std::cout << "openssl produced " << high_s << "/6 high-S signatures\n";
}

TEST_F(OpensslCliTest, Sm2OurSignatureVerifiesInOpenssl) {
  const PrivateKey key = NewKey(Suite::kSm);
  WriteFile(dir_.File("pub.pem"), key.Public().ToPem());
  WriteFile(dir_.File("msg"), "sm ledger block 7");
  WriteFile(dir_.File("sig"), *key.Sign("sm ledger block 7"));
  const std::string verify_cmd = "openssl pkeyutl -verify -pubin -inkey " + dir_.File("pub.pem") +
                                 " -rawin -digest sm3 -in " + dir_.File("msg") + " -sigfile " +
                                 dir_.File("sig") + " -pkeyopt distid:";
  EXPECT_TRUE(RunQuiet(verify_cmd + std::string(kSm2DistinguishingId)));
  EXPECT_FALSE(RunQuiet(verify_cmd + "1234567812345679")) << "the distinguishing id must matter";
}

TEST_F(OpensslCliTest, Sm2OpensslSignatureVerifiesHere) {
  ASSERT_TRUE(RunQuiet("openssl genpkey -algorithm SM2 -out " + dir_.File("key.pem")));
  Result<PrivateKey> key = PrivateKey::FromPem(ReadFile(dir_.File("key.pem")), Suite::kSm);
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  const std::string msg = "signed by the openssl tool";
  WriteFile(dir_.File("msg"), msg);
  ASSERT_TRUE(RunQuiet("openssl pkeyutl -sign -inkey " + dir_.File("key.pem") +
                       " -rawin -digest sm3 -pkeyopt distid:" + std::string(kSm2DistinguishingId) +
                       " -in " + dir_.File("msg") + " -out " + dir_.File("sig")));
  const std::string sig = ReadFile(dir_.File("sig"));
  EXPECT_TRUE(key->Public().Verify(msg, sig).ok()) << key->Public().Verify(msg, sig).ToString();
  EXPECT_EQ(ErrorCode(key->Public().Verify(msg + ".", sig)), "bad-signature");
  // Signed under another distinguishing id: must not verify under the standard one.
  ASSERT_TRUE(RunQuiet("openssl pkeyutl -sign -inkey " + dir_.File("key.pem") +
                       " -rawin -digest sm3 -pkeyopt distid:ALICE123@YAHOO.COM -in " +
                       dir_.File("msg") + " -out " + dir_.File("sig2")));
  EXPECT_EQ(ErrorCode(key->Public().Verify(msg, ReadFile(dir_.File("sig2")))), "bad-signature");
}

}  // namespace
}  // namespace colend::crypto
