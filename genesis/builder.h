// Creates a new consortium: the CA, each member's TLS and signing keys and certificates, and the
// genesis file. Used by `colend localnet init` and by tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/signature.h"
#include "crypto/x509.h"
#include "genesis/genesis.h"

namespace colend::genesis {

struct ConsortiumOptions {
  int members = 5;  // the default five first; more are extra partner banks
  // Members issued keys and CA certificates but left out of the genesis file: institutions that
  // may join later by a membership change (member.propose change=add).
  int spare_members = 0;
  crypto::Suite suite = crypto::Suite::kStd;
  std::string quorum = "majority";
  std::string profile = "case-study";
  bool dev_clock = false;
  std::string chain_id;
  std::int64_t now_ms = 0;  // genesis time and certificate validity start
  ConsensusParams consensus;
};

struct BuiltMember {
  std::string id, name, role;
  crypto::PrivateKey tls_key, signing_key;
  crypto::Certificate tls_certificate, signing_certificate;
};

struct BuiltConsortium {
  crypto::PrivateKey ca_key;
  crypto::Certificate ca_certificate;
  std::vector<BuiltMember> members;  // in the order of DefaultConsortium()
  std::vector<BuiltMember> spares;   // not in the genesis file
  std::string genesis_text;
};

Result<BuiltConsortium> BuildConsortium(const ConsortiumOptions& options);

// New TLS and signing keys for an existing member, with certificates issued by the consortium
// CA (valid from an hour before `now_ms` for five years; `serial` must be new for this CA): what
// `colend localnet rekey` stages for a key rotation (member.propose change=rotate).
Result<BuiltMember> IssueMemberKeys(const std::string& id, const std::string& name,
                                    const std::string& role, crypto::Suite suite,
                                    const crypto::Certificate& ca, const crypto::PrivateKey& ca_key,
                                    std::int64_t now_ms, std::uint64_t serial);

// The member object of a genesis file (and of member.propose change=add): id, name, role and
// both certificates in PEM.
nlohmann::json MemberJson(const BuiltMember& member);

}  // namespace colend::genesis
