// The genesis file: the consortium's founding document. Its exact bytes are hashed (SHA-256) to
// the genesis hash, which identifies the chain: nodes refuse peers with another genesis hash, and
// every block header names it as the membership hash of epoch 0.
//
// JSON layout (see genesis/README.md for every field):
// {
//   "format": "colend-genesis/v1", "chain_id": "...", "genesis_time_ms": 0,
//   "suite": "std"|"sm", "quorum": "majority"|"two-thirds", "dev_clock": false,
//   "ca_certificate": "<PEM>",
//   "members": [{"id", "name", "role", "tls_certificate": PEM, "signing_certificate": PEM}],
//   "consensus": {"timeout_propose_ms", "timeout_prevote_ms", "timeout_precommit_ms",
//                 "timeout_round_increment_ms", "block_time_skew_ms_max", "tx_time_window_ms",
//                 "block_txs_max", "block_interval_ms"},
//   "profile": "case-study"|"cn-2022", "parameters": { ...contract parameters... }
// }
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "consensus/block.h"
#include "contracts/executor.h"
#include "crypto/hash.h"
#include "crypto/signature.h"
#include "crypto/x509.h"

namespace colend::genesis {

struct GenesisMember {
  std::string id;
  std::string name;
  std::string role;
  crypto::Certificate tls_certificate;
  crypto::Certificate signing_certificate;
  crypto::PublicKey signing_key;
};

struct ConsensusParams {
  std::int64_t timeout_propose_ms = 1500;
  std::int64_t timeout_prevote_ms = 1000;
  std::int64_t timeout_precommit_ms = 1000;
  std::int64_t timeout_round_increment_ms = 1000;
  std::int64_t block_time_skew_ms_max = 5000;   // endorsers reject headers further off their clock
  std::int64_t tx_time_window_ms = 600000;      // |tx time - block time| bound
  std::uint32_t block_txs_max = 5000;
  std::int64_t block_interval_ms = 200;         // proposer waits this long to batch transactions
};

struct Genesis {
  std::string raw;  // the exact file bytes
  crypto::Hash256 hash{};
  std::string chain_id;
  std::int64_t genesis_time_ms = 0;
  crypto::Suite suite = crypto::Suite::kStd;
  consensus::QuorumRule quorum = consensus::QuorumRule::kMajority;
  bool dev_clock = false;
  crypto::Certificate ca_certificate;
  std::vector<GenesisMember> members;  // sorted by id
  ConsensusParams consensus;
  std::string profile;
  nlohmann::json parameters;

  const GenesisMember* FindMember(std::string_view id) const;
  consensus::ValidatorSet Validators() const;
  contracts::ChainRules Rules() const;
  // The canonical header of height 0 (certified by the genesis file itself, not by votes).
  consensus::BlockHeader GenesisHeader(const crypto::Hash256& initial_state_root) const;
};

// Parses and validates: every certificate chains to the CA, the TLS certificate is P-256, the
// signing certificate carries a key of the chain's suite, ids are unique, roles are known,
// numbers are in range. Errors ("bad-genesis") name the field that is wrong.
Result<Genesis> ParseGenesis(std::string raw);

// The default contract parameters of a profile ("case-study" or "cn-2022"); error for others.
Result<nlohmann::json> ProfileParameters(std::string_view profile);

// The default consortium: ids and roles of the five institutions, in order.
struct DefaultMember {
  const char* id;
  const char* name;
  const char* role;
};
const std::vector<DefaultMember>& DefaultConsortium();

}  // namespace colend::genesis
