// Shared OpenSSL helpers for crypto/ (see openssl_util.h).
#include "crypto/openssl_util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace colend::crypto::internal {
namespace {

// OPENSSL_free is a macro; these give the deleters a function to point at.
void FreeOpenSslString(char* p) { OPENSSL_free(p); }
void FreeOpenSslBytes(unsigned char* p) { OPENSSL_free(p); }

}  // namespace

std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

Error OpenSslError(std::string code, std::string_view what) {
  return Error{std::move(code), std::string(what), DrainOpenSslErrors()};
}

void Fatal(std::string_view what) {
  std::fprintf(stderr, "colend crypto fatal: %.*s: %s\n", static_cast<int>(what.size()),
               what.data(), DrainOpenSslErrors().c_str());
  std::abort();
}

BioPtr MemBioOver(std::string_view data) {
  // BIO_new_mem_buf takes an int length; callers never pass gigabytes, but do not truncate.
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
  // An empty view may have a null data(), which BIO_new_mem_buf refuses.
  return BioPtr(BIO_new_mem_buf(data.empty() ? "" : data.data(), static_cast<int>(data.size())));
}

std::string MemBioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<std::size_t>(len));
}

Result<std::string> PemPayload(std::string_view pem, std::string_view label) {
  BioPtr bio = MemBioOver(pem);
  if (!bio) return OpenSslError("bad-pem", "cannot read PEM input");
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    return OpenSslError("bad-pem", "no PEM block found");
  }
  // Take ownership at once so every path below frees them.
  std::unique_ptr<char, Deleter<FreeOpenSslString>> name_owner(name);
  std::unique_ptr<char, Deleter<FreeOpenSslString>> header_owner(header);
  std::unique_ptr<unsigned char, Deleter<FreeOpenSslBytes>> data_owner(data);
  if (label != name) {
    return MakeError("bad-pem",
                     "expected a PEM block \"" + std::string(label) + "\", got \"" + name + "\"");
  }
  if (header != nullptr && header[0] != '\0') {
    return MakeError("bad-pem",
                     "PEM block \"" + std::string(label) + "\" has headers (encrypted?)");
  }
  return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
}

std::string PublicKeyDer(const EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

Status CheckKeySuite(const EVP_PKEY* pkey, Suite suite) {
  // OpenSSL 3 decodes a key on the SM2 curve as key type "SM2", never "EC"; an "EC" key on any
  // other curve reports its group name.
  const bool is_sm2 = EVP_PKEY_is_a(pkey, "SM2");
  const bool is_ec = EVP_PKEY_is_a(pkey, "EC");
  if (!is_sm2 && !is_ec) {
    return MakeError(
        "bad-key", std::string("not an elliptic-curve key (type ") +
                       (EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?") + ")");
  }
  char group[64] = {0};
  size_t group_len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &group_len) != 1) {
    return OpenSslError("bad-key", "key has no named curve");
  }
  const std::string group_name(group, group_len);
  if (suite == Suite::kStd) {
    if (is_ec && group_name == "prime256v1") return Status::Ok();
    return MakeError("wrong-curve", "suite std needs a P-256 key, got curve " + group_name);
  }
  if (is_sm2 && group_name == "SM2") return Status::Ok();
  return MakeError("wrong-curve", "suite sm needs an SM2 key, got curve " + group_name);
}

}  // namespace colend::crypto::internal
