// Proves the certificate contract of crypto/x509.h: a self-signed P-256 CA issues TLS (P-256) and
// signing (SM2 or P-256) certificates with the documented extensions; VerifyIssuedBy accepts the
// real chain and rejects a look-alike CA of the same name, a non-CA issuer and times outside the
// validity window (inclusive bounds); fingerprint, names and PEM/DER round trips; and
// `openssl verify` agrees with the chains we build.
#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "tests/crypto/test_util.h"

namespace colend::crypto {
namespace {

using test_util::HaveOpensslCli;
using test_util::RunQuiet;
using test_util::TempDir;
using test_util::WriteFile;

constexpr std::int64_t kNotBefore = 1700000000;  // 2023-11-14
constexpr std::int64_t kNotAfter = 2000000000;   // 2033-05-18
constexpr std::int64_t kDuring = 1800000000;

std::string ErrorCode(const Status& status) { return status.ok() ? "ok" : status.error().code; }

PrivateKey NewKey(Suite suite) {
  Result<PrivateKey> key = PrivateKey::Generate(suite);
  EXPECT_TRUE(key.ok()) << key.error().ToString();
  return std::move(key).value();
}

CertificateSpec CaSpec() {
  CertificateSpec spec;
  spec.common_name = "Colend Consortium CA";
  spec.organization = "Colend Consortium";
  spec.not_before_unix = kNotBefore;
  spec.not_after_unix = kNotAfter;
  spec.serial = 1;
  spec.is_ca = true;
  return spec;
}

CertificateSpec LeafSpec(std::string cn, bool tls) {
  CertificateSpec spec;
  spec.common_name = std::move(cn);
  spec.organization = "Bank A";
  spec.not_before_unix = kNotBefore + 100;
  spec.not_after_unix = kNotAfter - 100;
  spec.serial = 2;
  spec.tls_server_and_client = tls;
  if (tls) {
    spec.ip_addresses = {"127.0.0.1", "::1"};
    spec.dns_names = {"node1.bank-a.example"};
  }
  return spec;
}

Certificate Issue(const CertificateSpec& spec, const PublicKey& subject, const Certificate* issuer,
                  const PrivateKey& issuer_key) {
  Result<Certificate> cert = IssueCertificate(spec, subject, issuer, issuer_key);
  EXPECT_TRUE(cert.ok()) << cert.error().ToString();
  return std::move(cert).value();
}

// The certificate parsed by OpenSSL directly, to inspect extensions independently.
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
std::unique_ptr<X509, X509Free> Parse(const Certificate& cert) {
  const std::string der = cert.ToDer();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return std::unique_ptr<X509, X509Free>(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

class X509Test : public ::testing::Test {
 protected:
  X509Test()
      : ca_key_(NewKey(Suite::kStd)),
        ca_(Issue(CaSpec(), ca_key_.Public(), nullptr, ca_key_)),
        tls_key_(NewKey(Suite::kStd)),
        tls_(Issue(LeafSpec("node1", true), tls_key_.Public(), &ca_, ca_key_)),
        sm2_key_(NewKey(Suite::kSm)),
        sm2_(Issue(LeafSpec("node1-signing", false), sm2_key_.Public(), &ca_, ca_key_)) {}

  PrivateKey ca_key_;
  Certificate ca_;
  PrivateKey tls_key_;
  Certificate tls_;
  PrivateKey sm2_key_;
  Certificate sm2_;
};

TEST_F(X509Test, ChainVerifies) {
  EXPECT_TRUE(ca_.VerifyIssuedBy(ca_, kDuring).ok()) << ca_.VerifyIssuedBy(ca_, kDuring).ToString();
  EXPECT_TRUE(tls_.VerifyIssuedBy(ca_, kDuring).ok())
      << tls_.VerifyIssuedBy(ca_, kDuring).ToString();
  EXPECT_TRUE(sm2_.VerifyIssuedBy(ca_, kDuring).ok())
      << sm2_.VerifyIssuedBy(ca_, kDuring).ToString();
  EXPECT_TRUE(tls_.VerifyIssuedBy(ca_, std::nullopt).ok());
}

TEST_F(X509Test, Extensions) {
  auto ca = Parse(ca_);
  auto tls = Parse(tls_);
  auto sm2 = Parse(sm2_);
  ASSERT_TRUE(ca && tls && sm2);
  EXPECT_EQ(X509_get_version(ca.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_check_ca(tls.get()), 0);
  EXPECT_EQ(X509_get_key_usage(ca.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_EQ(X509_get_key_usage(tls.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_AGREEMENT));
  EXPECT_EQ(X509_get_extended_key_usage(tls.get()),
            static_cast<uint32_t>(XKU_SSL_SERVER | XKU_SSL_CLIENT));
  EXPECT_FALSE(X509_get_extension_flags(sm2.get()) & EXFLAG_XKUSAGE);
  EXPECT_EQ(X509_check_ip_asc(tls.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(tls.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(tls.get(), "127.0.0.2", 0), 0);
  EXPECT_EQ(X509_check_host(tls.get(), "node1.bank-a.example", 0, 0, nullptr), 1);
  // The leaf's authority key id is the CA's subject key id.
  ASSERT_NE(X509_get0_subject_key_id(ca.get()), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(tls.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(ca.get()),
                                  X509_get0_authority_key_id(tls.get())),
            0);
  EXPECT_EQ(ASN1_INTEGER_get(X509_get0_serialNumber(tls.get())), 2);
}

TEST_F(X509Test, SubjectKeysBySuite) {
  Result<PublicKey> sm2 = sm2_.SubjectKey(Suite::kSm);
  ASSERT_TRUE(sm2.ok()) << sm2.error().ToString();
  EXPECT_EQ(sm2->ToDer(), sm2_key_.Public().ToDer());
  EXPECT_TRUE(sm2->Verify("block", *sm2_key_.Sign("block")).ok());
  EXPECT_EQ(sm2_.SubjectKey(Suite::kStd).error().code, "wrong-curve");

  Result<PublicKey> tls = tls_.SubjectKey(Suite::kStd);
  ASSERT_TRUE(tls.ok()) << tls.error().ToString();
  EXPECT_TRUE(tls->Verify("hello", *tls_key_.Sign("hello")).ok());
  EXPECT_EQ(tls_.SubjectKey(Suite::kSm).error().code, "wrong-curve");
}

TEST_F(X509Test, LookAlikeCaRejected) {
  // Same name, same spec, different key: only the signature tells them apart.
  const PrivateKey fake_key = NewKey(Suite::kStd);
  const Certificate fake_ca = Issue(CaSpec(), fake_key.Public(), nullptr, fake_key);
  EXPECT_TRUE(fake_ca.VerifyIssuedBy(fake_ca, kDuring).ok());
  const Certificate forged = Issue(LeafSpec("node1", true), tls_key_.Public(), &fake_ca, fake_key);
  EXPECT_EQ(ErrorCode(forged.VerifyIssuedBy(ca_, kDuring)), "bad-certificate-signature");
  EXPECT_EQ(ErrorCode(tls_.VerifyIssuedBy(fake_ca, kDuring)), "bad-certificate-signature");
  EXPECT_EQ(ErrorCode(fake_ca.VerifyIssuedBy(ca_, kDuring)), "bad-certificate-signature");
}

TEST_F(X509Test, OtherIssuerNameRejected) {
  CertificateSpec other = CaSpec();
  other.common_name = "Other CA";
  const PrivateKey other_key = NewKey(Suite::kStd);
  const Certificate other_ca = Issue(other, other_key.Public(), nullptr, other_key);
  EXPECT_EQ(ErrorCode(tls_.VerifyIssuedBy(other_ca, kDuring)), "bad-certificate-signature");
}

TEST_F(X509Test, NonCaIssuerRejected) {
  // Correctly signed by the TLS leaf's key, but the leaf has CA:FALSE.
  const PrivateKey key = NewKey(Suite::kStd);
  const Certificate cert = Issue(LeafSpec("sub", false), key.Public(), &tls_, tls_key_);
  EXPECT_EQ(ErrorCode(cert.VerifyIssuedBy(tls_, kDuring)), "issuer-not-ca");
}

TEST_F(X509Test, ValidityWindowIsInclusive) {
  const CertificateSpec spec = LeafSpec("node1", true);
  EXPECT_TRUE(tls_.VerifyIssuedBy(ca_, spec.not_before_unix).ok());
  EXPECT_TRUE(tls_.VerifyIssuedBy(ca_, spec.not_after_unix).ok());
  EXPECT_EQ(ErrorCode(tls_.VerifyIssuedBy(ca_, spec.not_before_unix - 1)),
            "certificate-not-yet-valid");
  EXPECT_EQ(ErrorCode(tls_.VerifyIssuedBy(ca_, spec.not_after_unix + 1)), "certificate-expired");
  // The issuer's validity counts too: a leaf outliving its CA is expired after the CA is.
  CertificateSpec long_leaf = spec;
  long_leaf.not_after_unix = kNotAfter + 1000;
  const Certificate leaf = Issue(long_leaf, tls_key_.Public(), &ca_, ca_key_);
  EXPECT_TRUE(leaf.VerifyIssuedBy(ca_, kNotAfter).ok());
  EXPECT_EQ(ErrorCode(leaf.VerifyIssuedBy(ca_, kNotAfter + 1)), "certificate-expired");
  // Times past 2049 are GeneralizedTime in X.509; they must compare the same way.
  CertificateSpec far = CaSpec();
  far.not_after_unix = 4102444800;  // 2100-01-01
  const Certificate far_ca = Issue(far, ca_key_.Public(), nullptr, ca_key_);
  EXPECT_TRUE(far_ca.VerifyIssuedBy(far_ca, 4102444800).ok());
  EXPECT_EQ(ErrorCode(far_ca.VerifyIssuedBy(far_ca, 4102444801)), "certificate-expired");
}

TEST_F(X509Test, FingerprintAndNames) {
  EXPECT_EQ(tls_.Fingerprint(), Sha256(tls_.ToDer()));
  EXPECT_NE(tls_.Fingerprint(), sm2_.Fingerprint());
  EXPECT_EQ(tls_.CommonName(), "node1");
  EXPECT_EQ(tls_.Organization(), "Bank A");
  EXPECT_EQ(ca_.CommonName(), "Colend Consortium CA");
  EXPECT_EQ(ca_.Organization(), "Colend Consortium");
  CertificateSpec no_org = LeafSpec("名前", false);  // UTF-8 survives
  no_org.organization.clear();
  const Certificate cert = Issue(no_org, tls_key_.Public(), &ca_, ca_key_);
  EXPECT_EQ(cert.CommonName(), "名前");
  EXPECT_EQ(cert.Organization(), "");
}

TEST_F(X509Test, PemAndDerRoundTrip) {
  const std::string pem = sm2_.ToPem();
  EXPECT_EQ(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  Result<Certificate> back = Certificate::FromPem(pem);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->ToDer(), sm2_.ToDer());
  EXPECT_TRUE(back->VerifyIssuedBy(ca_, kDuring).ok());
  Result<Certificate> from_der = Certificate::FromDer(sm2_.ToDer());
  ASSERT_TRUE(from_der.ok());
  EXPECT_EQ(from_der->Fingerprint(), sm2_.Fingerprint());

  EXPECT_EQ(Certificate::FromPem("junk").error().code, "bad-pem");
  EXPECT_EQ(Certificate::FromPem(ca_key_.Public().ToPem()).error().code, "bad-pem");
  EXPECT_EQ(Certificate::FromDer(sm2_.ToDer() + "x").error().code, "bad-certificate");
  EXPECT_EQ(Certificate::FromDer("").error().code, "bad-certificate");
  std::string tampered = tls_.ToDer();
  tampered[tampered.size() / 2] ^= 0x01;
  Result<Certificate> t = Certificate::FromDer(tampered);
  if (t.ok()) {
    EXPECT_FALSE(t->VerifyIssuedBy(ca_, kDuring).ok());
  }
}

TEST_F(X509Test, BadSpecsAndKeysRejected) {
  CertificateSpec spec = LeafSpec("x", true);
  spec.common_name.clear();
  EXPECT_EQ(IssueCertificate(spec, tls_key_.Public(), &ca_, ca_key_).error().code,
            "bad-certificate-spec");
  spec = LeafSpec("x", true);
  spec.ip_addresses = {"300.1.1.1"};
  EXPECT_EQ(IssueCertificate(spec, tls_key_.Public(), &ca_, ca_key_).error().code,
            "bad-certificate-spec");
  spec = LeafSpec("x", true);
  spec.dns_names = {"a.example,IP:1.2.3.4"};  // no injection through the config syntax
  EXPECT_EQ(IssueCertificate(spec, tls_key_.Public(), &ca_, ca_key_).error().code,
            "bad-certificate-spec");
  spec = LeafSpec("x", true);
  spec.serial = 0;
  EXPECT_EQ(IssueCertificate(spec, tls_key_.Public(), &ca_, ca_key_).error().code,
            "bad-certificate-spec");
  spec = LeafSpec("x", true);
  spec.not_after_unix = spec.not_before_unix - 1;
  EXPECT_EQ(IssueCertificate(spec, tls_key_.Public(), &ca_, ca_key_).error().code,
            "bad-certificate-spec");
  // Self-signed with someone else's key; issuer certificate with the wrong key; SM2 CA key.
  EXPECT_EQ(IssueCertificate(CaSpec(), tls_key_.Public(), nullptr, ca_key_).error().code,
            "key-mismatch");
  EXPECT_EQ(IssueCertificate(LeafSpec("x", true), tls_key_.Public(), &ca_, tls_key_).error().code,
            "key-mismatch");
  EXPECT_EQ(IssueCertificate(CaSpec(), sm2_key_.Public(), nullptr, sm2_key_).error().code,
            "wrong-curve");
}

TEST_F(X509Test, OpensslVerifyAgrees) {
  if (!HaveOpensslCli()) GTEST_SKIP() << "`openssl` command-line tool not on PATH";
  TempDir dir;
  WriteFile(dir.File("ca.pem"), ca_.ToPem());
  WriteFile(dir.File("tls.pem"), tls_.ToPem());
  WriteFile(dir.File("sm2.pem"), sm2_.ToPem());
  const std::string verify = "openssl verify -x509_strict -attime " + std::to_string(kDuring) +
                             " -CAfile " + dir.File("ca.pem") + " ";
  EXPECT_TRUE(RunQuiet(verify + "-purpose sslserver " + dir.File("tls.pem")));
  EXPECT_TRUE(RunQuiet(verify + "-purpose sslclient " + dir.File("tls.pem")));
  EXPECT_TRUE(RunQuiet(verify + dir.File("sm2.pem")));
  EXPECT_FALSE(RunQuiet("openssl verify -attime " + std::to_string(kNotAfter + 1) + " -CAfile " +
                        dir.File("ca.pem") + " " + dir.File("tls.pem")));

  const PrivateKey fake_key = NewKey(Suite::kStd);
  const Certificate fake_ca = Issue(CaSpec(), fake_key.Public(), nullptr, fake_key);
  WriteFile(dir.File("forged.pem"),
            Issue(LeafSpec("node1", true), tls_key_.Public(), &fake_ca, fake_key).ToPem());
  EXPECT_FALSE(RunQuiet(verify + dir.File("forged.pem")));
}

}  // namespace
}  // namespace colend::crypto
