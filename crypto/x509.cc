// Consortium X.509 certificates: issuing (always signed by the P-256 CA with SHA-256), parsing,
// and checking one issuer link.
#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "crypto/openssl_util.h"

namespace colend::crypto {
namespace {

using internal::Deleter;
using internal::OpenSslError;
using internal::X509Ptr;

using Asn1TimePtr = std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME_free>>;

Certificate Wrap(X509Ptr cert) {
  return Certificate(std::make_shared<const Certificate::Impl>(Certificate::Impl{std::move(cert)}));
}

// The first entry of `nid` in `name` as UTF-8, or "" when absent or undecodable.
std::string NameEntry(const X509_NAME* name, int nid) {
  const int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) {
    internal::DrainOpenSslErrors();
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

Status CheckSpec(const CertificateSpec& spec) {
  if (spec.common_name.empty()) {
    return MakeError("bad-certificate-spec", "certificate needs a common name");
  }
  if (spec.serial == 0) {
    return MakeError("bad-certificate-spec", "serial must be positive (RFC 5280 4.1.2.2)");
  }
  if (spec.not_after_unix < spec.not_before_unix) {
    return MakeError("bad-certificate-spec", "not_after is before not_before");
  }
  return Status::Ok();
}

Result<NamePtr> BuildName(const CertificateSpec& spec) {
  NamePtr name(X509_NAME_new());
  if (!name) return OpenSslError("bad-certificate-spec", "X509_NAME_new");
  auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.data()),
                                      static_cast<int>(value.size()), -1, 0) == 1;
  };
  if (!spec.organization.empty() && !add("O", spec.organization)) {
    return OpenSslError("bad-certificate-spec", "organization \"" + spec.organization + "\"");
  }
  if (!add("CN", spec.common_name)) {
    return OpenSslError("bad-certificate-spec", "common name \"" + spec.common_name + "\"");
  }
  return name;
}

// Adds an extension whose value is one of our fixed configuration strings (never user input).
Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {  // X509_add_ext copies
    return OpenSslError("bad-certificate-spec", std::string("extension ") + OBJ_nid2sn(nid));
  }
  return Status::Ok();
}

// subjectAltName built as GENERAL_NAMEs, not a config string, so a name containing ',' or ':'
// cannot inject extra entries.
Status AddSubjectAltNames(X509* cert, const CertificateSpec& spec) {
  if (spec.ip_addresses.empty() && spec.dns_names.empty()) return Status::Ok();
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) return OpenSslError("bad-certificate-spec", "sk_GENERAL_NAME_new_null");
  auto push = [&](GeneralNamePtr gn) {
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) <= 0) return false;
    gn.release();  // owned by the stack now
    return true;
  };
  for (const std::string& ip : spec.ip_addresses) {
    if (ip.find('\0') != std::string::npos) {
      return MakeError("bad-certificate-spec", "IP address contains NUL");
    }
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr) return OpenSslError("bad-certificate-spec", "IP address \"" + ip + "\"");
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!gn) {
      ASN1_OCTET_STRING_free(octets);
      return OpenSslError("bad-certificate-spec", "GENERAL_NAME_new");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, octets);
    if (!push(std::move(gn))) return OpenSslError("bad-certificate-spec", "subjectAltName");
  }
  for (const std::string& dns : spec.dns_names) {
    const bool plausible =
        !dns.empty() && dns.find_first_not_of(
                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*") ==
                            std::string::npos;
    if (!plausible) return MakeError("bad-certificate-spec", "DNS name \"" + dns + "\"");
    GeneralNamePtr gn(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || ia5 == nullptr ||
        ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1) {
      ASN1_IA5STRING_free(ia5);
      return OpenSslError("bad-certificate-spec", "DNS name \"" + dns + "\"");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5);
    if (!push(std::move(gn))) return OpenSslError("bad-certificate-spec", "subjectAltName");
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("bad-certificate-spec", "subjectAltName");
  }
  return Status::Ok();
}

Status AddExtensions(X509* cert, X509* issuer_cert, const CertificateSpec& spec) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
  COLEND_RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_basic_constraints,
                                      spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  COLEND_RETURN_IF_ERROR(AddExtension(
      cert, &ctx, NID_key_usage,
      spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyAgreement"));
  if (spec.tls_server_and_client) {
    COLEND_RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth"));
  }
  COLEND_RETURN_IF_ERROR(AddSubjectAltNames(cert, spec));
  // The subject key id must exist before the authority key id: for a self-signed CA the
  // authority key id is copied from it.
  COLEND_RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_subject_key_identifier, "hash"));
  return AddExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always");
}

// Sign of (t - at_unix): -1, 0 or +1; error "bad-certificate" for an undecodable time.
Result<int> CompareTime(const ASN1_TIME* t, std::int64_t at_unix) {
  Asn1TimePtr at(ASN1_TIME_set(nullptr, static_cast<std::time_t>(at_unix)));
  int days = 0;
  int seconds = 0;
  if (!at || ASN1_TIME_diff(&days, &seconds, at.get(), t) != 1) {
    return OpenSslError("bad-certificate", "cannot compare validity time");
  }
  if (days > 0 || seconds > 0) return 1;  // days and seconds never have opposite signs
  if (days < 0 || seconds < 0) return -1;
  return 0;
}

// Validity is inclusive at both ends (RFC 5280 4.1.2.5).
Status CheckValidAt(const X509* cert, std::int64_t at_unix, std::string_view which) {
  Result<int> before = CompareTime(X509_get0_notBefore(cert), at_unix);
  if (!before.ok()) return before.error();
  if (*before > 0) {
    return MakeError("certificate-not-yet-valid",
                     std::string(which) + " is not valid before its notBefore");
  }
  Result<int> after = CompareTime(X509_get0_notAfter(cert), at_unix);
  if (!after.ok()) return after.error();
  if (*after < 0) return MakeError("certificate-expired", std::string(which) + " has expired");
  return Status::Ok();
}

}  // namespace

Result<Certificate> Certificate::FromDer(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return OpenSslError("bad-certificate", "not a DER X.509 certificate");
  if (p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return MakeError("bad-certificate", "trailing bytes after certificate");
  }
  return Wrap(std::move(cert));
}

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  Result<std::string> der = internal::PemPayload(pem, "CERTIFICATE");
  if (!der.ok()) return der.error();
  return FromDer(*der);
}

std::string Certificate::ToPem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), impl_->cert.get()) != 1) {
    internal::Fatal("PEM_write_bio_X509");
  }
  return internal::MemBioContents(bio.get());
}

std::string Certificate::ToDer() const {
  unsigned char* der = nullptr;
  const int len = i2d_X509(impl_->cert.get(), &der);
  if (len <= 0) internal::Fatal("i2d_X509");
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

Hash256 Certificate::Fingerprint() const { return Sha256(ToDer()); }

std::string Certificate::CommonName() const {
  return NameEntry(X509_get_subject_name(impl_->cert.get()), NID_commonName);
}

std::string Certificate::Organization() const {
  return NameEntry(X509_get_subject_name(impl_->cert.get()), NID_organizationName);
}

std::int64_t Certificate::NotAfterUnix() const {
  const ASN1_TIME* t = X509_get0_notAfter(impl_->cert.get());
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

Result<PublicKey> Certificate::SubjectKey(Suite suite) const {
  const EVP_PKEY* pkey = X509_get0_pubkey(impl_->cert.get());
  if (pkey == nullptr) return OpenSslError("bad-key", "certificate subject key does not decode");
  return PublicKey::FromDer(internal::PublicKeyDer(pkey), suite);
}

Status Certificate::VerifyIssuedBy(const Certificate& issuer,
                                   std::optional<std::int64_t> at_unix) const {
  X509* cert = impl_->cert.get();
  X509* issuer_cert = issuer.impl_->cert.get();
  if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer_cert)) != 0) {
    return MakeError("bad-certificate-signature",
                     "certificate's issuer name is not the issuer's subject name");
  }
  EVP_PKEY* issuer_key = X509_get0_pubkey(issuer_cert);
  if (issuer_key == nullptr || X509_verify(cert, issuer_key) != 1) {
    internal::DrainOpenSslErrors();
    return MakeError("bad-certificate-signature",
                     "certificate signature does not verify under the issuer's key");
  }
  // 1 means basicConstraints CA:TRUE (and keyCertSign if keyUsage is present); the other
  // non-zero results are legacy v1/Netscape guesses we do not accept.
  if (X509_check_ca(issuer_cert) != 1) {
    return MakeError("issuer-not-ca", "issuer certificate is not a CA (basicConstraints)");
  }
  if (at_unix.has_value()) {
    COLEND_RETURN_IF_ERROR(CheckValidAt(cert, *at_unix, "certificate"));
    COLEND_RETURN_IF_ERROR(CheckValidAt(issuer_cert, *at_unix, "issuer certificate"));
  }
  return Status::Ok();
}

Result<Certificate> IssueCertificate(const CertificateSpec& spec, const PublicKey& subject_key,
                                     const Certificate* issuer, const PrivateKey& issuer_key) {
  COLEND_RETURN_IF_ERROR(CheckSpec(spec));
  EVP_PKEY* subject_pkey = subject_key.impl().pkey.get();
  EVP_PKEY* signing_pkey = issuer_key.impl().pkey.get();
  if (issuer_key.suite() != Suite::kStd) {
    return MakeError("wrong-curve", "the issuing CA key must be P-256 (suite std)");
  }
  if (issuer == nullptr ? EVP_PKEY_eq(subject_pkey, signing_pkey) != 1
                        : X509_check_private_key(issuer->impl().cert.get(), signing_pkey) != 1) {
    internal::DrainOpenSslErrors();
    return MakeError("key-mismatch", issuer == nullptr
                                         ? "self-signed: issuer_key is not the subject key"
                                         : "issuer_key does not belong to the issuer certificate");
  }
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslError("bad-certificate-spec", "X509_new");
  X509* x = cert.get();
  Result<NamePtr> subject = BuildName(spec);
  if (!subject.ok()) return subject.error();
  const X509_NAME* issuer_name =
      issuer == nullptr ? subject->get() : X509_get_subject_name(issuer->impl().cert.get());
  if (X509_set_version(x, X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), spec.serial) != 1 ||
      X509_set_subject_name(x, subject->get()) != 1 || X509_set_issuer_name(x, issuer_name) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(x), static_cast<std::time_t>(spec.not_before_unix)) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x), static_cast<std::time_t>(spec.not_after_unix)) ==
          nullptr ||
      X509_set_pubkey(x, subject_pkey) != 1) {
    return OpenSslError("bad-certificate-spec", "certificate fields");
  }
  COLEND_RETURN_IF_ERROR(AddExtensions(x, issuer == nullptr ? x : issuer->impl().cert.get(), spec));
  if (X509_sign(x, signing_pkey, EVP_sha256()) <= 0) {
    return OpenSslError("sign-failed", "X509_sign");
  }
  return Wrap(std::move(cert));
}

}  // namespace colend::crypto
