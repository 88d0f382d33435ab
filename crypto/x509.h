// X.509 certificates of the consortium: a self-signed consortium CA (always ECDSA P-256, in both
// suites, because OpenSSL 3.0 has no SM2 TLS) issues each member's TLS certificate (P-256) and
// signing certificate (key of the chain's suite: P-256 or SM2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/signature.h"

namespace colend::crypto {

struct CertificateSpec {
  std::string common_name;
  std::string organization;
  std::int64_t not_before_unix = 0;  // seconds
  std::int64_t not_after_unix = 0;   // seconds
  std::uint64_t serial = 1;
  bool is_ca = false;
  bool tls_server_and_client = false;  // extendedKeyUsage serverAuth+clientAuth
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, e.g. "127.0.0.1"
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
};

class Certificate {
 public:
  static Result<Certificate> FromPem(std::string_view pem);
  static Result<Certificate> FromDer(std::string_view der);
  std::string ToPem() const;
  std::string ToDer() const;
  Hash256 Fingerprint() const;  // SHA-256 of the DER encoding
  std::string CommonName() const;
  std::string Organization() const;
  // The end of the validity period, seconds since the epoch (0 if it cannot be read).
  std::int64_t NotAfterUnix() const;
  // The subject key, interpreted in `suite` (error "wrong-curve" if it is not that suite's curve).
  Result<PublicKey> SubjectKey(Suite suite) const;
  // Checks that `issuer` signed this certificate, that issuer is a CA, and, when `at_unix` is
  // given, that both are valid at that time. Error codes: "bad-certificate-signature",
  // "issuer-not-ca", "certificate-expired", "certificate-not-yet-valid".
  Status VerifyIssuedBy(const Certificate& issuer, std::optional<std::int64_t> at_unix) const;

  struct Impl;
  explicit Certificate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  Certificate() = default;  // empty: only to be assigned to; other methods need a value
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

// Issues a certificate for `subject_key` signed by `issuer_key`. For a self-signed CA pass
// issuer == nullptr (the subject is its own issuer and issuer_key must match subject_key).
Result<Certificate> IssueCertificate(const CertificateSpec& spec, const PublicKey& subject_key,
                                     const Certificate* issuer, const PrivateKey& issuer_key);

}  // namespace colend::crypto
