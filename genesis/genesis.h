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
#include <map>
#include <optional>
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
  // A backlog fills every block to this; 1,000 keeps a node under 200 MiB through a sustained
  // overload at the same throughput as 5,000 (docs/performance.md, the RSS under an overload).
  std::uint32_t block_txs_max = 1000;
  std::int64_t block_interval_ms = 200;         // proposer waits this long to batch transactions
};

// The membership in force during one epoch (docs/consensus.md §7). Epoch 0 is the genesis
// file's; epoch e >= 1 is the document member.approve wrote to the state
// (contracts/system/membership.cc), in force from its start height.
struct Membership {
  std::uint64_t epoch = 0;
  std::uint64_t start_height = 1;
  crypto::Hash256 sha256{};  // the membership-sha256 of the epoch's headers
  crypto::Hash256 previous_sha256{};  // the previous epoch's (epoch >= 1)
  consensus::QuorumRule quorum = consensus::QuorumRule::kMajority;
  std::vector<GenesisMember> members;  // sorted by id

  const GenesisMember* Find(std::string_view id) const;
  consensus::ValidatorSet Validators(const std::string& chain_id) const;
  std::map<std::string, contracts::MemberRecord, std::less<>> Records() const;
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
  Membership GenesisMembership() const;    // epoch 0
  consensus::ValidatorSet Validators() const;  // epoch 0's
  contracts::ChainRules Rules() const;
  // The canonical header of height 0 (certified by the genesis file itself, not by votes).
  consensus::BlockHeader GenesisHeader(const crypto::Hash256& initial_state_root) const;
};

// Parses and validates: every certificate chains to the CA, the TLS certificate is P-256, the
// signing certificate carries a key of the chain's suite, ids are unique, roles are known,
// numbers are in range. Errors ("bad-genesis") name the field that is wrong.
Result<Genesis> ParseGenesis(std::string raw);

// One member object of a genesis file or a membership document, checked: `where` names it in
// errors ("bad-genesis").
// With `at_unix` (seconds), both certificates and the CA must also be valid at that time.
Result<GenesisMember> ParseMember(const nlohmann::json& member, const std::string& where,
                                  const crypto::Certificate& ca, crypto::Suite suite,
                                  std::optional<std::int64_t> at_unix = std::nullopt);

// A membership document (epoch >= 1), checked against the chain: format colend-membership/v1,
// the chain id, members as in a genesis file. Error "bad-membership" names the field.
Result<Membership> ParseMembershipDocument(const Genesis& genesis, std::string_view text);
// Epoch `epoch`'s membership as recorded in `state`; for epoch >= 1 its document must link to the
// previous epoch's (previous_sha256). Error "unknown-epoch" or "bad-membership".
Result<Membership> MembershipOfEpoch(const Genesis& genesis, const contracts::StateReader& state,
                                     std::uint64_t epoch);
// The membership in force at `height` according to `state` (the latest epoch whose start height
// is at or below it).
Result<Membership> MembershipAt(const Genesis& genesis, const contracts::StateReader& state,
                                std::uint64_t height);
// An equivocation verified with the membership of the epoch in force at its height (not the
// current one): what the consensus.evidence contract and a reporting node both use, so evidence
// still verifies after the epoch changed (docs/consensus.md §11).
Result<consensus::EquivocationFacts> VerifyEquivocationInItsEpoch(
    const Genesis& genesis, const contracts::StateReader& state,
    const consensus::proto::ConsensusMessage& first,
    const consensus::proto::ConsensusMessage& second);

// The contract parameters of a profile ("case-study" or "cn-2022") that a new genesis file gets;
// error for others.
Result<nlohmann::json> ProfileParameters(std::string_view profile);
// The profile's table as the first chains had it: a genesis file's "parameters" are read over it
// (parsing, the initial state), so it never changes. ProfileParameters = this + the parameters
// added or revised since (docs/lending-rules.md §3).
Result<nlohmann::json> ProfileBaseParameters(std::string_view profile);

// The default consortium: ids and roles of the five institutions, in order.
struct DefaultMember {
  const char* id;
  const char* name;
  const char* role;
};
const std::vector<DefaultMember>& DefaultConsortium();

}  // namespace colend::genesis
