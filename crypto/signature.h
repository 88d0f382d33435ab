// Ledger signatures. Suite `std`: ECDSA over NIST P-256 with SHA-256, DER-encoded, low-S
// enforced (a high-S signature is rejected as "non-canonical-signature": the same signed message
// must have one accepted encoding). Suite `sm`: SM2 with SM3 and the standard distinguishing id
// "1234567812345678" (GB/T 32918.2 / GM/T 0009), DER-encoded.
// Keys are PEM (PKCS#8 private, SubjectPublicKeyInfo public). All OpenSSL calls go through EVP.
//
// Thread safety: PrivateKey/PublicKey are immutable after construction; const methods may be
// called from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "crypto/result.h"

namespace colend::crypto {

enum class Suite { kStd, kSm };

inline constexpr std::string_view kSm2DistinguishingId = "1234567812345678";

std::string_view SuiteName(Suite suite);           // "std" | "sm"
Result<Suite> ParseSuite(std::string_view name);   // error "unknown-suite"

class PublicKey {
 public:
  // Rejects keys on a curve other than the suite's ("wrong-curve").
  static Result<PublicKey> FromPem(std::string_view pem, Suite suite);
  static Result<PublicKey> FromDer(std::string_view spki_der, Suite suite);
  std::string ToPem() const;
  std::string ToDer() const;  // SubjectPublicKeyInfo
  Suite suite() const { return suite_; }
  // Ok, or an error with code "bad-signature" (does not verify), "malformed-signature" (not
  // strict DER, trailing bytes, r or s out of range) or "non-canonical-signature" (std: high S).
  // Remembers the answer (docs/consensus.md §4): the same signature is not verified twice.
  Status Verify(std::string_view message, std::string_view der_signature) const;

  struct Impl;
  PublicKey(std::shared_ptr<const Impl> impl, Suite suite) : impl_(std::move(impl)), suite_(suite) {}
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
  Suite suite_;
};

// How many signature verifications this process has run through OpenSSL (not those answered
// from memory), for tests and metrics.
std::uint64_t SignatureVerificationsRun();

class PrivateKey {
 public:
  static Result<PrivateKey> Generate(Suite suite);
  static Result<PrivateKey> FromPem(std::string_view pem, Suite suite);
  std::string ToPem() const;  // unencrypted PKCS#8
  PublicKey Public() const;
  Suite suite() const { return suite_; }
  // DER signature; in suite std always low-S.
  Result<std::string> Sign(std::string_view message) const;

  struct Impl;
  PrivateKey(std::shared_ptr<const Impl> impl, Suite suite) : impl_(std::move(impl)), suite_(suite) {}
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
  Suite suite_;
};

}  // namespace colend::crypto
