// The ledger: committed blocks and state, and the deterministic rules that build, validate and
// commit a block (the consensus Application). Everything a block header claims is recomputed
// here by every endorser: height, parent, time, transaction root, state root, ledger root.
//
// Thread safety: none; the node's io thread owns the ledger.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "consensus/block.h"
#include "consensus/consensus.pb.h"
#include "contracts/executor.h"
#include "contracts/state.h"
#include "crypto/merkle.h"
#include "genesis/genesis.h"
#include "node/store.h"

namespace colend::node {

// The largest block (serialised transactions and header) a proposer builds and an endorser
// accepts: a bigger one is invalid. It must fit in one transport frame with the proposal around
// it and in one sync answer (the node checks these relations at start-up), or a proposer could
// build a block no peer can receive and stall the chain.
inline constexpr std::size_t kBlockBytesMax = 8u << 20;

class Ledger {
 public:
  Ledger(const genesis::Genesis& genesis, Store* store);

  // Loads the committed chain, writing the genesis block on first start, and checks the tip:
  // its header hash, its certificate and the state root recomputed from the stored buckets'
  // roots (each bucket's entries are checked against its root when first read; see
  // node/state_storage.h). A mismatch is "corrupt-store": the node must not serve or build on
  // bad data. Costs the same whatever the chain's length.
  Status Open();

  std::uint64_t height() const { return last_header_.height; }
  const consensus::BlockHeader& last_header() const { return last_header_; }
  const crypto::Hash256& last_hash() const { return last_hash_; }
  // The transactions of the last block committed since Open, as decoded when it was executed
  // (what the node does after a commit reads them here instead of decoding them again).
  const std::vector<contracts::Tx>& last_txs() const { return last_txs_; }
  const contracts::Executor& executor() const { return executor_; }
  // The committed state (valid after a successful Open).
  const contracts::StateTree& state() const { return *state_; }
  const genesis::Genesis& genesis() const { return genesis_; }
  Store* store() const { return store_; }
  // The membership epoch in force for the next block (height() + 1) and its validator set. A
  // block that approves a membership change is certified by the old epoch; the new one is in
  // force from the following height (docs/consensus.md §7).
  const genesis::Membership& membership() const { return membership_; }
  const consensus::ValidatorSet& validators() const { return validators_; }
  // A committed block read for serving or exporting, checked on the way out: LevelDB checksums,
  // the header's height, the header hash against the next block's parent (or the tip), and the
  // body against the header. Damage is "corrupt-store", never a block.
  Result<proto::StoredBlock> ReadBlock(std::uint64_t height) const;

  struct Dropped {
    crypto::Hash256 tx_id;
    Error error;
  };
  // A block for `height` (= height()+1) of the candidates (wire bytes, in order) that pass the
  // envelope checks; the others are reported in `dropped`. `out_of_time`, when given, is asked
  // after each transaction executed: true ends the block there (the rest waits, in order), so a
  // proposer under load sends its proposal well within the others' propose timeout.
  consensus::proto::Block BuildBlock(std::uint64_t height, std::int64_t timestamp_ms,
                                     const std::string& proposer,
                                     const std::vector<std::string>& candidates,
                                     std::vector<Dropped>* dropped,
                                     const std::function<bool()>& out_of_time = {});
  Status ValidateBlock(std::uint64_t height, const consensus::proto::Block& block,
                       std::int64_t now_ms, bool check_timeliness);
  // The body is the one the header commits to: transaction count and transaction root
  // ("body-mismatch" otherwise). Stateless; no signature is checked.
  static Status CheckBody(const consensus::proto::Block& block);
  // Verifies the certificate, checks the body against the header, executes (or takes the cached
  // execution of this exact content) and stores the block. A damaged state store is
  // "corrupt-store" or "storage-error" (Open, ValidateBlock and CommitBlock return it; BuildBlock
  // raises contracts::StateStorageError).
  Status CommitBlock(const consensus::proto::Block& block,
                     const consensus::proto::CommitCertificate& certificate);

 private:
  struct Executed {
    consensus::BlockHeader header;
    std::vector<contracts::Tx> txs;
    contracts::StateWrites writes;
    contracts::StateTree::Prepared prepared;  // the hashes of `writes` on the state it ran on
  };
  // The header's checks against the chain, the clock and the limits (no transaction executed).
  Result<consensus::BlockHeader> CheckHeader(std::uint64_t height, const consensus::proto::Block& block,
                                             std::int64_t now_ms, bool check_timeliness) const;
  // CheckHeader, then the transactions executed on the current state and the roots compared.
  Result<Executed> Execute(std::uint64_t height, const consensus::proto::Block& block,
                           std::int64_t now_ms, bool check_timeliness) const;
  Status WriteGenesis();
  Status OpenChecked();
  Status CommitChecked(const consensus::proto::Block& block,
                       const consensus::proto::CommitCertificate& certificate);
  Status RebuildLedgerNodes(std::uint64_t tip_height);
  // Takes the membership in force at height() + 1 from the state.
  Status LoadMembership();

  const genesis::Genesis& genesis_;
  Store* store_;
  genesis::Membership membership_;
  consensus::ValidatorSet validators_;
  contracts::Executor executor_;
  // Over the store's state (node/state_storage.h); made by Open.
  std::unique_ptr<contracts::StateTree> state_;
  consensus::BlockHeader last_header_;
  crypto::Hash256 last_hash_{};
  std::vector<contracts::Tx> last_txs_;
  crypto::MerkleAccumulator ledger_;  // over header texts 0..height()
  // Validated blocks of the next height, by consensus::BlockContentDigest: a body other than the
  // one validated never takes its result, even under the same header.
  std::map<crypto::Hash256, Executed> executed_;
};

// Creates the data directory of a member that has never signed on this chain: the store, the
// genesis block, and the record that its signing history is complete (so it may vote at once;
// docs/consensus.md §10). Refuses ("data-exists") a directory that exists.
Status InitialiseMemberData(const std::string& data_path, const genesis::Genesis& genesis);
// The same on a store already opened (empty, for `genesis`): what InitialiseMemberData writes.
Status InitialiseMemberStore(Store* store, const genesis::Genesis& genesis);

// The store's record (aux) of the state proof that block start_height - 1 of membership epoch
// `epoch` (>= 1) holds that epoch's document at contracts::MembershipEpochKey(epoch): made when the
// block is committed, the only time its state is at hand; an evidence bundle ships it under that
// block's certificate, by the quorum of the epoch before (docs/evidence-bundle.md §6 step 3).
std::string EpochProofKey(std::uint64_t epoch);

// The state a genesis file sets up before any block: members, roles and contract parameters.
contracts::StateWrites InitialState(const genesis::Genesis& genesis);

}  // namespace colend::node
