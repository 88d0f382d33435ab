// Private to crypto/: RAII wrappers for OpenSSL handles, the Impl structs behind the public key
// and certificate classes (x509.cc needs the EVP_PKEY of a PublicKey/PrivateKey), and small
// helpers shared by the .cc files. Other modules must not include this header.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "crypto/result.h"
#include "crypto/signature.h"
#include "crypto/x509.h"

namespace colend::crypto::internal {

template <auto kFree>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;

// Drains this thread's OpenSSL error queue into one line (so a later call does not report a
// stale error) and returns it, or "no OpenSSL error queued".
std::string DrainOpenSslErrors();

// Error{code, what + ": " + drained OpenSSL errors}.
Error OpenSslError(std::string code, std::string_view what);

// For failures that a function without an error channel cannot report (allocation failure,
// missing default provider): prints and aborts. A ledger must not go on with a wrong hash.
[[noreturn]] void Fatal(std::string_view what);

// A read-only memory BIO over `data` (which must outlive the BIO).
BioPtr MemBioOver(std::string_view data);
// Everything written to a memory BIO.
std::string MemBioContents(BIO* bio);

// The DER payload of the first PEM block in `pem`, which must be labelled `label` (e.g.
// "PUBLIC KEY") and carry no headers (so an encrypted legacy block is refused). Error "bad-pem".
Result<std::string> PemPayload(std::string_view pem, std::string_view label);

// The SubjectPublicKeyInfo DER of `pkey` (public part only); empty on failure.
std::string PublicKeyDer(const EVP_PKEY* pkey);

// Ok if `pkey` is a key of `suite`'s curve: P-256 ("EC", group prime256v1) for std, SM2 (key type
// "SM2") for sm. Errors: "wrong-curve" (an EC key on another curve), "bad-key" (not EC at all).
Status CheckKeySuite(const EVP_PKEY* pkey, Suite suite);

}  // namespace colend::crypto::internal

namespace colend::crypto {

struct PublicKey::Impl {
  internal::PkeyPtr pkey;  // public part only
  // Its SubjectPublicKeyInfo DER, encoded once: Verify keys its cache by it, and encoding on
  // every call cost OpenSSL 3 an encoder lookup under locks (half the verify rate, issue 15).
  std::string der;
};

struct PrivateKey::Impl {
  internal::PkeyPtr pkey;
};

struct Certificate::Impl {
  internal::X509Ptr cert;
};

}  // namespace colend::crypto
