// Blocks, votes and commit certificates: the canonical texts that members sign and that an
// arbitrator checks with `sha256sum` and `openssl dgst -verify`.
//
// Block header text (UTF-8, LF line ends, fixed key order, lowercase hex, trailing LF):
//   colend-block-header/v1
//   chain-id: <chain id>
//   height: <decimal>
//   prev-block-hash: <hex sha256 of the previous header text; zeros at height 0>
//   timestamp-ms: <decimal unix milliseconds, proposer's clock>
//   proposer: <member id; "genesis" at height 0>
//   tx-count: <decimal>
//   tx-root: <RFC 6962 root over the transaction leaves of this block>
//   state-root: <state root after applying this block>
//   ledger-size: <decimal, = height>
//   ledger-root: <RFC 6962 root over the header texts of heights 0 .. height-1>
//   membership-epoch: <decimal>
//   membership-sha256: <hex sha256 of the epoch's membership document (epoch 0: genesis file)>
// block hash = SHA-256(header text).
//
// Vote text (what a prevote or a precommit signs; a commit certificate is q precommits):
//   colend-vote/v1
//   chain-id: ..  epoch: ..  height: ..  round: ..  phase: prevote|precommit
//   block-hash: <hex, or "nil">
// Members sign this vote text, not the header text, on purpose: docs/consensus.md §6 requires the
// signed bytes to bind round and phase (so an equivocation is provable), and the header is bound
// through its hash, which the arbitrator checks with sha256sum.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/consensus.pb.h"
#include "crypto/hash.h"
#include "crypto/result.h"
#include "crypto/signature.h"

namespace colend::consensus {

using crypto::Hash256;

struct BlockHeader {
  std::string chain_id;
  std::uint64_t height = 0;
  Hash256 prev_block_hash{};
  std::int64_t timestamp_ms = 0;
  std::string proposer;
  std::uint64_t tx_count = 0;
  Hash256 tx_root{};
  Hash256 state_root{};
  std::uint64_t ledger_size = 0;
  Hash256 ledger_root{};
  std::uint64_t membership_epoch = 0;
  Hash256 membership_sha256{};

  std::string ToText() const;
  // Strict: rejects unknown/missing/reordered keys, non-canonical numbers or hex, CR, missing
  // trailing LF; ParseText(t)->ToText() == t for every accepted t. Error "bad-header".
  static Result<BlockHeader> ParseText(std::string_view text);
};

Hash256 BlockHash(std::string_view header_text);
// A digest of a block's whole content (header and every transaction, each length-prefixed): the
// key of caches of validated or executed blocks, which must never hand one body's result to
// another body under the same header.
Hash256 BlockContentDigest(const proto::Block& block);

enum class QuorumRule { kMajority, kTwoThirds };
std::string_view QuorumRuleName(QuorumRule rule);       // "majority" | "two-thirds"
Result<QuorumRule> ParseQuorumRule(std::string_view name);  // error "unknown-quorum-rule"
// majority: floor(n/2)+1; two-thirds: floor(2n/3)+1.
std::size_t QuorumSize(std::size_t members, QuorumRule rule);

struct Member {
  std::string id;
  crypto::PublicKey key;
};

// The members of one epoch, sorted by id. Invariants: ids unique, non-empty.
class ValidatorSet {
 public:
  ValidatorSet(std::string chain_id, std::uint64_t epoch, std::vector<Member> members,
               QuorumRule rule);
  const std::string& chain_id() const { return chain_id_; }
  std::uint64_t epoch() const { return epoch_; }
  QuorumRule rule() const { return rule_; }
  const std::vector<Member>& members() const { return members_; }
  std::size_t size() const { return members_.size(); }
  std::size_t quorum() const { return QuorumSize(members_.size(), rule_); }
  const Member* Find(std::string_view id) const;
  // Rotating proposer: members[(height + round) % n].
  const std::string& ProposerFor(std::uint64_t height, std::uint32_t round) const;

 private:
  std::string chain_id_;
  std::uint64_t epoch_;
  std::vector<Member> members_;
  QuorumRule rule_;
};

enum class Phase { kPrevote, kPrecommit };

std::string VoteText(std::string_view chain_id, std::uint64_t epoch, std::uint64_t height,
                     std::uint32_t round, Phase phase, const std::optional<Hash256>& block_hash);
// colend-proposal/v1 with chain-id, epoch, height, round, valid-round (decimal or -1),
// block-hash.
std::string ProposalText(std::string_view chain_id, std::uint64_t epoch, std::uint64_t height,
                         std::uint32_t round, std::int64_t valid_round, const Hash256& block_hash);

// Ok iff the certificate is for (height, block_hash) and holds at least quorum() endorsements of
// distinct members of `validators`, each a valid precommit signature at the certificate's round.
// Errors: "bad-certificate" (wrong height/hash/length), "unknown-member", "duplicate-endorsement",
// "bad-endorsement-signature", "insufficient-endorsements".
Status VerifyCommitCertificate(const ValidatorSet& validators, std::uint64_t height,
                               const Hash256& block_hash, const proto::CommitCertificate& cert);

// What a verified equivocation proves: `member` signed two different messages of `kind`
// ("proposal", "prevote" or "precommit") at (height, round) of this chain and epoch.
struct EquivocationFacts {
  std::string member;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  std::string kind;
  std::string Key() const;  // "<member>/<height>/<round>/<kind>", height and round zero-padded
};

// Checks that two signed consensus messages prove an equivocation: same kind, member, height and
// round, different signed content, both signatures valid under the member's key in `validators`.
// Errors "not-an-equivocation" (they do not conflict, or differ in slot), "unknown-member",
// "bad-signature" (naming which message).
Result<EquivocationFacts> VerifyEquivocation(const ValidatorSet& validators,
                                             const proto::ConsensusMessage& first,
                                             const proto::ConsensusMessage& second);

}  // namespace colend::consensus
