// A consortium CA and CA-issued TLS identities, generated once in memory, for the transport and
// RPC tests (one test binary: node_net_test).
#pragma once

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/signature.h"
#include "crypto/x509.h"

namespace colend::node::testing {

struct Identity {
  std::string cert_pem;
  std::string key_pem;
  crypto::Hash256 fingerprint{};
};

struct Authority {
  crypto::PrivateKey key;
  crypto::Certificate certificate;
};

inline std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

inline Authority MakeCa(std::uint64_t serial) {
  auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  EXPECT_TRUE(key.ok());
  crypto::CertificateSpec spec;
  spec.common_name = "colend consortium CA";  // the look-alike uses the very same names
  spec.organization = "colend consortium";
  spec.not_before_unix = Now() - 3600;
  spec.not_after_unix = Now() + 86400;
  spec.serial = serial;
  spec.is_ca = true;
  auto certificate = crypto::IssueCertificate(spec, key->Public(), nullptr, *key);
  EXPECT_TRUE(certificate.ok()) << certificate.error().ToString();
  return {*key, *certificate};
}

inline Identity Issue(const Authority& ca, const std::string& name, std::uint64_t serial) {
  auto key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  EXPECT_TRUE(key.ok());
  crypto::CertificateSpec spec;
  spec.common_name = name;
  spec.organization = name + " bank";
  spec.not_before_unix = Now() - 3600;
  spec.not_after_unix = Now() + 86400;
  spec.serial = serial;
  spec.tls_server_and_client = true;
  spec.ip_addresses = {"127.0.0.1"};
  auto certificate = crypto::IssueCertificate(spec, key->Public(), &ca.certificate, ca.key);
  EXPECT_TRUE(certificate.ok()) << certificate.error().ToString();
  return {certificate->ToPem(), key->ToPem(), certificate->Fingerprint()};
}

// Certificates for every test, generated once in memory.
struct Pki {
  std::string ca_pem;
  std::vector<Identity> members;  // m1, m2, m3
  Identity outsider;              // issued by the consortium CA, not a member
  Identity lookalike;             // CN "m3", issued by a CA with the consortium CA's names
};

inline const Pki& TestPki() {
  static const Pki pki = [] {
    Pki result;
    const Authority ca = MakeCa(1);
    const Authority fake_ca = MakeCa(1);
    result.ca_pem = ca.certificate.ToPem();
    for (int i = 1; i <= 3; ++i)
      result.members.push_back(Issue(ca, "m" + std::to_string(i), 10 + i));
    result.outsider = Issue(ca, "outsider", 20);
    result.lookalike = Issue(fake_ca, "m3", 13);
    return result;
  }();
  return pki;
}

}  // namespace colend::node::testing
