// ECDSA P-256/SHA-256 (suite std) and SM2/SM3 (suite sm) signatures through EVP, with a strict
// DER check before verification so each signed message has exactly one accepted encoding.
#include "crypto/signature.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace colend::crypto {
namespace {

using internal::BnPtr;
using internal::EcdsaSigPtr;
using internal::MdCtxPtr;
using internal::OpenSslError;
using internal::PkeyCtxPtr;
using internal::PkeyPtr;

// Group orders n (SEC 2 secp256r1; GB/T 32918.5 SM2), for the r, s range and low-S checks.
constexpr char kP256OrderHex[] = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
constexpr char kSm2OrderHex[] = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123";

struct SuiteOrder {
  BnPtr n;
  BnPtr half;  // floor(n / 2): a std signature is low-S iff s <= this
};

SuiteOrder MakeOrder(const char* hex) {
  BIGNUM* n = nullptr;
  if (BN_hex2bn(&n, hex) == 0) internal::Fatal("BN_hex2bn");
  SuiteOrder order{BnPtr(n), BnPtr(BN_new())};
  if (!order.half || BN_rshift1(order.half.get(), n) != 1) internal::Fatal("BN_rshift1");
  return order;
}

// Parsed once (every signature checked is compared with them); only read afterwards, by any
// thread.
const SuiteOrder& OrderOf(Suite suite) {
  static const SuiteOrder kStdOrder = MakeOrder(kP256OrderHex);
  static const SuiteOrder kSmOrder = MakeOrder(kSm2OrderHex);
  return suite == Suite::kStd ? kStdOrder : kSmOrder;
}

// A message-digest context ready for sign or verify. The SM2 distinguishing id lives on a
// separate EVP_PKEY_CTX that the EVP_MD_CTX borrows (EVP_MD_CTX_set_pkey_ctx does not take
// ownership), so `pctx` is declared first and therefore destroyed after `mctx`.
struct DigestCtx {
  PkeyCtxPtr pctx;
  MdCtxPtr mctx;
};

Result<DigestCtx> NewDigestCtx(EVP_PKEY* pkey, Suite suite, bool sign) {
  const char* const code = sign ? "sign-failed" : "bad-signature";
  DigestCtx ctx;
  ctx.mctx.reset(EVP_MD_CTX_new());
  if (!ctx.mctx) return OpenSslError(code, "EVP_MD_CTX_new");
  const EVP_MD* md = EVP_sha256();
  if (suite == Suite::kSm) {
    md = EVP_sm3();
    ctx.pctx.reset(EVP_PKEY_CTX_new(pkey, nullptr));
    if (!ctx.pctx) return OpenSslError(code, "EVP_PKEY_CTX_new");
    if (EVP_PKEY_CTX_set1_id(ctx.pctx.get(), kSm2DistinguishingId.data(),
                             kSm2DistinguishingId.size()) <= 0) {
      return OpenSslError(code, "EVP_PKEY_CTX_set1_id");
    }
    EVP_MD_CTX_set_pkey_ctx(ctx.mctx.get(), ctx.pctx.get());
  }
  const int rc = sign ? EVP_DigestSignInit(ctx.mctx.get(), nullptr, md, nullptr, pkey)
                      : EVP_DigestVerifyInit(ctx.mctx.get(), nullptr, md, nullptr, pkey);
  if (rc != 1) return OpenSslError(code, sign ? "EVP_DigestSignInit" : "EVP_DigestVerifyInit");
  return ctx;
}

std::string EncodeSig(const ECDSA_SIG* sig) {
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

// Parses `der` as an ECDSA/SM2 signature and checks it is the one canonical DER encoding of
// (r, s) with r, s in [1, n-1]; in suite std also that s <= n/2.
Status CheckStrictSignature(std::string_view der, Suite suite) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) {
    internal::DrainOpenSslErrors();
    return MakeError("malformed-signature", "not a DER ECDSA-Sig-Value");
  }
  // Re-encoding must reproduce the input byte for byte: rejects trailing bytes, BER lengths,
  // leading zeros and negative integers that the lenient parser accepted.
  if (EncodeSig(sig.get()) != der) {
    return MakeError("malformed-signature", "signature is not strict DER (or has trailing bytes)");
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  const SuiteOrder& order = OrderOf(suite);
  for (const BIGNUM* v : {r, s}) {
    if (BN_is_zero(v) || BN_is_negative(v) || BN_cmp(v, order.n.get()) >= 0) {
      return MakeError("malformed-signature", "r or s outside [1, n-1]");
    }
  }
  if (suite == Suite::kStd && BN_cmp(s, order.half.get()) > 0) {
    return MakeError("non-canonical-signature", "ECDSA signature has high S (s > n/2)");
  }
  return Status::Ok();
}

// Replaces s by n - s when s > n/2 (both verify; we emit only the low one).
Result<std::string> ToLowS(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return OpenSslError("sign-failed", "cannot parse own signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  const SuiteOrder& order = OrderOf(Suite::kStd);
  if (BN_cmp(s, order.half.get()) <= 0) return der;
  BnPtr new_r(BN_dup(r));
  BnPtr new_s(BN_new());
  if (!new_r || !new_s || BN_sub(new_s.get(), order.n.get(), s) != 1) {
    return OpenSslError("sign-failed", "BN_sub");
  }
  if (ECDSA_SIG_set0(sig.get(), new_r.get(), new_s.get()) != 1) {
    return OpenSslError("sign-failed", "ECDSA_SIG_set0");
  }
  new_r.release();  // now owned by sig
  new_s.release();
  std::string out = EncodeSig(sig.get());
  if (out.empty()) return OpenSslError("sign-failed", "i2d_ECDSA_SIG");
  return out;
}

Result<PkeyPtr> ParseSpki(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PkeyPtr pkey(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!pkey) return OpenSslError("bad-key", "not a DER SubjectPublicKeyInfo");
  if (p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return MakeError("bad-key", "trailing bytes after SubjectPublicKeyInfo");
  }
  return pkey;
}

}  // namespace

std::string_view SuiteName(Suite suite) { return suite == Suite::kStd ? "std" : "sm"; }

Result<Suite> ParseSuite(std::string_view name) {
  if (name == "std") return Suite::kStd;
  if (name == "sm") return Suite::kSm;
  return MakeError("unknown-suite", "unknown signature suite \"" + std::string(name) +
                                        "\" (expected \"std\" or \"sm\")");
}

// ---- PublicKey ----

Result<PublicKey> PublicKey::FromDer(std::string_view spki_der, Suite suite) {
  Result<PkeyPtr> pkey = ParseSpki(spki_der);
  if (!pkey.ok()) return pkey.error();
  COLEND_RETURN_IF_ERROR(internal::CheckKeySuite(pkey->get(), suite));
  std::string der = internal::PublicKeyDer(pkey->get());
  if (der.empty()) internal::Fatal("i2d_PUBKEY");
  return PublicKey(std::make_shared<const Impl>(Impl{std::move(*pkey), std::move(der)}), suite);
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem, Suite suite) {
  Result<std::string> der = internal::PemPayload(pem, "PUBLIC KEY");
  if (!der.ok()) return der.error();
  return FromDer(*der, suite);
}

std::string PublicKey::ToPem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get()) != 1) {
    internal::Fatal("PEM_write_bio_PUBKEY");
  }
  return internal::MemBioContents(bio.get());
}

std::string PublicKey::ToDer() const { return impl_->der; }

namespace {

// Signatures already checked, by SHA-256 of (suite, key, message, signature): a vote is checked
// when it arrives and again inside every commit certificate, and rebroadcasts repeat it; a
// transaction is checked on the verification pool before admission and again in CheckEnvelope.
// Two of these: the signatures that verified, and those that did not (a peer's gossip of
// transactions under bad signatures would otherwise be verified on the pool, then again on the
// io thread when admitted; docs/consensus.md §4). Verification is a pure function of what is
// hashed, so either answer stays true. Bounded, oldest first out; safe from any thread. A hash table
// (the key is already a SHA-256, so its first 8 bytes are its hash): an ordered set of 65,536
// cost about sixteen cache misses a lookup. Never iterated, so nothing depends on its order.
class VerifiedSignatures {
 public:
  bool Contains(const Hash256& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    return known_.count(key) != 0;
  }
  void Insert(const Hash256& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!known_.insert(key).second) return;
    order_.push_back(key);
    if (order_.size() > kMax) {
      known_.erase(order_.front());
      order_.pop_front();
    }
  }

 private:
  static constexpr std::size_t kMax = 1 << 16;
  std::mutex mutex_;
  struct KeyHash {
    std::size_t operator()(const Hash256& key) const {
      std::uint64_t h = 0;
      std::memcpy(&h, key.data(), sizeof h);
      return static_cast<std::size_t>(h);
    }
  };
  std::unordered_set<Hash256, KeyHash> known_;
  std::deque<Hash256> order_;
};

VerifiedSignatures& VerifiedCache() {
  static VerifiedSignatures cache;
  return cache;
}

VerifiedSignatures& RefusedCache() {
  static VerifiedSignatures cache;
  return cache;
}

std::atomic<std::uint64_t> g_verifications{0};

Hash256 VerificationKey(Suite suite, const std::string& key_der, std::string_view message,
                        std::string_view signature) {
  std::string input;
  input.reserve(key_der.size() + message.size() + signature.size() + 32);
  input += SuiteName(suite);
  input += '\n' + std::to_string(key_der.size()) + '\n' + key_der;
  input += '\n' + std::to_string(message.size()) + '\n';
  input += message;
  input += signature;
  return Sha256(input);
}

}  // namespace

std::uint64_t SignatureVerificationsRun() {
  return g_verifications.load(std::memory_order_relaxed);
}

Status PublicKey::Verify(std::string_view message, std::string_view der_signature) const {
  // A high-S signature is still checked, so that a signature by the wrong key is reported as
  // "bad-signature" and "non-canonical-signature" means: valid, but not in the accepted form.
  Status strict = CheckStrictSignature(der_signature, suite_);
  if (!strict.ok() && strict.error().code != "non-canonical-signature") return strict;
  const Hash256 cache_key = VerificationKey(suite_, impl_->der, message, der_signature);
  auto bad = [&] {
    return MakeError("bad-signature",
                     std::string(SuiteName(suite_)) + " signature does not verify under this key");
  };
  // A valid high-S signature is not remembered (it is refused as non-canonical anyway).
  if (strict.ok() && VerifiedCache().Contains(cache_key)) return strict;
  if (RefusedCache().Contains(cache_key)) return bad();
  Result<DigestCtx> ctx = NewDigestCtx(impl_->pkey.get(), suite_, /*sign=*/false);
  if (!ctx.ok()) return ctx.error();
  g_verifications.fetch_add(1, std::memory_order_relaxed);
  const int rc = EVP_DigestVerify(
      ctx->mctx.get(), reinterpret_cast<const unsigned char*>(der_signature.data()),
      der_signature.size(), reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (rc != 1) {
    internal::DrainOpenSslErrors();  // a failed verify queues errors; do not leak them
    RefusedCache().Insert(cache_key);
    return bad();
  }
  if (strict.ok()) VerifiedCache().Insert(cache_key);
  return strict;
}

// ---- PrivateKey ----

Result<PrivateKey> PrivateKey::Generate(Suite suite) {
  PkeyPtr pkey(suite == Suite::kStd ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, "SM2"));
  if (!pkey) return OpenSslError("keygen-failed", "EVP_PKEY_Q_keygen");
  COLEND_RETURN_IF_ERROR(internal::CheckKeySuite(pkey.get(), suite));
  return PrivateKey(std::make_shared<const Impl>(Impl{std::move(pkey)}), suite);
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem, Suite suite) {
  Result<std::string> der = internal::PemPayload(pem, "PRIVATE KEY");
  if (!der.ok()) return der.error();
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, internal::Deleter<PKCS8_PRIV_KEY_INFO_free>> p8(
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der->size())));
  if (!p8) return OpenSslError("bad-key", "not a DER PKCS#8 PrivateKeyInfo");
  PkeyPtr pkey(EVP_PKCS82PKEY(p8.get()));
  if (!pkey) return OpenSslError("bad-key", "unsupported or invalid PKCS#8 private key");
  COLEND_RETURN_IF_ERROR(internal::CheckKeySuite(pkey.get(), suite));
  return PrivateKey(std::make_shared<const Impl>(Impl{std::move(pkey)}), suite);
}

std::string PrivateKey::ToPem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  // No cipher: unencrypted PKCS#8 ("PRIVATE KEY"); OpenSSL 3 writes PKCS#8 for every key type.
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    internal::Fatal("PEM_write_bio_PrivateKey");
  }
  return internal::MemBioContents(bio.get());
}

PublicKey PrivateKey::Public() const {
  // Through SPKI DER, so the PublicKey holds no private scalar.
  Result<PublicKey> key = PublicKey::FromDer(internal::PublicKeyDer(impl_->pkey.get()), suite_);
  if (!key.ok()) internal::Fatal("public part of a private key: " + key.error().ToString());
  return std::move(key).value();
}

Result<std::string> PrivateKey::Sign(std::string_view message) const {
  Result<DigestCtx> ctx = NewDigestCtx(impl_->pkey.get(), suite_, /*sign=*/true);
  if (!ctx.ok()) return ctx.error();
  std::string sig(static_cast<std::size_t>(EVP_PKEY_get_size(impl_->pkey.get())), '\0');
  std::size_t len = sig.size();
  if (sig.empty() ||
      EVP_DigestSign(ctx->mctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1) {
    return OpenSslError("sign-failed", "EVP_DigestSign");
  }
  sig.resize(len);
  if (suite_ == Suite::kStd) return ToLowS(sig);
  return sig;
}

}  // namespace colend::crypto
