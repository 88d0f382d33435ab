#include "node/ledger.h"

#include <filesystem>

#include "contracts/lending/lending.h"
#include "contracts/system/membership.h"
#include "node/state_storage.h"

#include <cstdlib>

namespace colend::node {
namespace {

Error Invalid(std::string message) { return MakeError("invalid-block", std::move(message)); }

}  // namespace

std::string EpochProofKey(std::uint64_t epoch) {
  return "epoch-proof/" + contracts::MembershipEpochKey(epoch);  // named by the key it proves
}

contracts::StateWrites InitialState(const genesis::Genesis& genesis) {
  contracts::StateWrites writes;
  writes["chain/id"] = genesis.chain_id;
  writes["chain/genesis-sha256"] = crypto::ToHex(genesis.hash);
  writes["chain/profile"] = genesis.profile;
  writes["params/current-version"] = "1";
  // nlohmann's object is a std::map: the dump is deterministic (keys sorted, no spaces).
  // The file's parameters over the profile's first table (never over later revisions: a chain's
  // initial state must not change when the code adds a parameter; genesis/genesis.h).
  nlohmann::json params = genesis::ProfileBaseParameters(genesis.profile).value();
  params.update(genesis.parameters);
  params["version"] = 1;
  writes["params/v1"] = params.dump();
  // The business date starts at the genesis time's Asia/Shanghai date (clock.tick moves it).
  writes["clock/business-day"] = std::to_string(contracts::ShanghaiDay(genesis.genesis_time_ms));
  for (const auto& m : genesis.members) writes["member/" + m.id] = m.role;
  // Membership epoch 0 (contracts/system/membership.cc keeps these current).
  writes["membership/epoch"] = "0";
  writes["membership/start-height"] = "1";
  writes["membership/quorum"] = std::string(consensus::QuorumRuleName(genesis.quorum));
  for (const auto& m : genesis.members) {
    nlohmann::json member = {{"id", m.id},
                             {"name", m.name},
                             {"role", m.role},
                             {"tls_certificate", m.tls_certificate.ToPem()},
                             {"signing_certificate", m.signing_certificate.ToPem()}};
    writes["membership/member/" + m.id] = member.dump();
  }
  return writes;
}

Ledger::Ledger(const genesis::Genesis& genesis, Store* store)
    : genesis_(genesis),
      store_(store),
      membership_(genesis.GenesisMembership()),
      validators_(genesis.Validators()),
      executor_(genesis.Rules()) {}

Status Ledger::LoadMembership() {
  auto membership = genesis::MembershipAt(genesis_, *state_, height() + 1);
  if (!membership.ok()) return membership.error();
  if (membership->epoch == membership_.epoch && membership->sha256 == membership_.sha256) {
    return Status::Ok();
  }
  membership_ = std::move(membership).value();
  validators_ = membership_.Validators(genesis_.chain_id);
  executor_.SetMembers(membership_.Records());
  return Status::Ok();
}

Status Ledger::WriteGenesis() {
  contracts::StateWrites writes = InitialState(genesis_);
  contracts::StateTree tree;  // empty: the genesis state's hashes are the same on any storage
  const contracts::StatePrepared prepared = tree.Prepare(writes);
  consensus::BlockHeader header = genesis_.GenesisHeader(prepared.root);
  std::string text = header.ToText();
  crypto::MerkleAccumulator ledger;
  Store::BlockWrite write;
  write.ledger_nodes = ledger.Append(crypto::MerkleLeafHash(text));
  write.height = 0;
  write.block_hash = consensus::BlockHash(text);
  write.block.mutable_block()->set_header(text);
  write.state_writes = &writes;
  write.state_prepared = &prepared;
  write.ledger_accumulator = ledger.Serialize();
  return store_->CommitBlock(write);
}

// A store written before the ledger subtrees were kept has none: they are rebuilt once from the
// stored headers (and checked against the accumulator) so that ledger proofs work for it too.
Status Ledger::RebuildLedgerNodes(std::uint64_t tip_height) {
  if (store_->GetLedgerNode(0, tip_height).ok()) return Status::Ok();
  crypto::MerkleAccumulator rebuilt;
  std::vector<crypto::MerkleSubtree> nodes;
  for (std::uint64_t h = 0; h <= tip_height; ++h) {
    auto stored = store_->GetBlock(h);
    if (!stored.ok()) return MakeError("corrupt-store", "block " + std::to_string(h) + ": " + stored.error().message);
    for (auto& node : rebuilt.Append(crypto::MerkleLeafHash(stored->block().header()))) {
      nodes.push_back(node);
    }
    if (nodes.size() >= 4096 || h == tip_height) {
      COLEND_RETURN_IF_ERROR(store_->PutLedgerNodes(nodes));
      nodes.clear();
    }
  }
  if (rebuilt.Root() != ledger_.Root()) {
    return MakeError("corrupt-store", "the stored headers do not give the ledger accumulator's root");
  }
  return Status::Ok();
}

Status Ledger::Open() {
  try {
    return OpenChecked();
  } catch (const contracts::StateStorageError& e) {
    return StateStorageErrorOf(e);
  }
}

Status Ledger::OpenChecked() {
  auto first = store_->GetTip();
  if (!first.ok()) return first.error();
  if (!*first) COLEND_RETURN_IF_ERROR(WriteGenesis());
  auto read = store_->GetTip();
  if (!read.ok()) return read.error();
  auto corrupt = [](std::string what) { return MakeError("corrupt-store", std::move(what)); };
  if (!*read) return corrupt("no tip after writing the genesis block");
  const Tip* tip = &**read;
  auto stored = store_->GetBlock(tip->height);
  if (!stored.ok()) return corrupt("tip block " + std::to_string(tip->height) + ": " + stored.error().message);
  const std::string& text = stored->block().header();
  if (consensus::BlockHash(text) != tip->block_hash) {
    return corrupt("block " + std::to_string(tip->height) + " does not hash to the recorded tip");
  }
  auto header = consensus::BlockHeader::ParseText(text);
  if (!header.ok()) return corrupt("tip header unreadable: " + header.error().message);
  if (header->chain_id != genesis_.chain_id) return corrupt("tip block belongs to another chain");
  COLEND_RETURN_IF_ERROR(store_->IndexState());
  state_ = std::make_unique<contracts::StateTree>(store_->state_storage());
  if (state_->Root() != header->state_root) {
    return corrupt("state root recomputed from the stored buckets' roots differs from block " +
                   std::to_string(tip->height));
  }
  // The tip was certified by the epoch in force at its height (which may end with it).
  auto tip_membership = genesis::MembershipAt(genesis_, *state_, tip->height);
  if (!tip_membership.ok()) return corrupt("membership: " + tip_membership.error().message);
  if (header->membership_epoch != tip_membership->epoch ||
      header->membership_sha256 != tip_membership->sha256) {
    return corrupt("tip block names membership epoch " + std::to_string(header->membership_epoch) +
                   ", the state says epoch " + std::to_string(tip_membership->epoch));
  }
  if (tip->height > 0) {
    Status cert = consensus::VerifyCommitCertificate(
        tip_membership->Validators(genesis_.chain_id), tip->height, tip->block_hash,
        stored->certificate());
    if (!cert.ok()) return corrupt("tip certificate: " + cert.error().message);
  }
  auto ledger = store_->GetLedgerAccumulator();
  if (!ledger.ok()) return corrupt("ledger accumulator: " + ledger.error().message);
  if (ledger->size() != tip->height + 1) return corrupt("ledger accumulator size mismatch");
  ledger_ = *ledger;
  COLEND_RETURN_IF_ERROR(RebuildLedgerNodes(tip->height));
  last_header_ = *header;
  last_hash_ = tip->block_hash;
  Status membership = LoadMembership();
  if (!membership.ok()) return corrupt("membership: " + membership.error().message);
  return Status::Ok();
}

consensus::proto::Block Ledger::BuildBlock(std::uint64_t height, std::int64_t timestamp_ms,
                                           const std::string& proposer,
                                           const std::vector<std::string>& candidates,
                                           std::vector<Dropped>* dropped,
                                           const std::function<bool()>& out_of_time) {
  assert(height == this->height() + 1);
  contracts::StateOverlay overlay(state_.get());
  contracts::BlockContext context{height, timestamp_ms};
  std::vector<contracts::Tx> txs;
  consensus::proto::Block block;
  // Room for the header (a few hundred bytes) and the protobuf framing of each transaction.
  constexpr std::size_t kHeaderBytesReserve = 4096, kPerTxFramingBytes = 8;
  std::size_t bytes = kHeaderBytesReserve;
  for (const std::string& wire : candidates) {
    if (bytes + wire.size() + kPerTxFramingBytes > kBlockBytesMax) break;  // the rest waits
    auto tx = contracts::DecodeTx(wire);
    if (!tx.ok()) continue;
    Status ok = executor_.CheckEnvelope(*tx, overlay, timestamp_ms);
    if (!ok.ok()) {
      if (dropped) dropped->push_back({tx->id, ok.error()});
      continue;
    }
    executor_.Execute(*tx, context, static_cast<std::uint32_t>(txs.size()), &overlay);
    bytes += wire.size() + kPerTxFramingBytes;
    block.add_txs(wire);
    txs.push_back(std::move(tx).value());
    if (out_of_time && out_of_time()) break;  // the rest waits for the next block
  }
  consensus::BlockHeader header;
  header.chain_id = genesis_.chain_id;
  header.height = height;
  header.prev_block_hash = last_hash_;
  header.timestamp_ms = timestamp_ms;
  header.proposer = proposer;
  header.tx_count = txs.size();
  header.tx_root = contracts::TxRoot(txs);
  contracts::StateTree::Prepared prepared = state_->Prepare(overlay.writes());
  header.state_root = prepared.root;
  header.ledger_size = ledger_.size();
  header.ledger_root = ledger_.Root();
  header.membership_epoch = membership_.epoch;
  header.membership_sha256 = membership_.sha256;
  block.set_header(header.ToText());
  Executed executed{header, std::move(txs), overlay.writes(), std::move(prepared)};
  executed_[consensus::BlockContentDigest(block)] = std::move(executed);
  return block;
}

Result<consensus::BlockHeader> Ledger::CheckHeader(std::uint64_t height,
                                                   const consensus::proto::Block& block,
                                                   std::int64_t now_ms, bool check_timeliness) const {
  auto header = consensus::BlockHeader::ParseText(block.header());
  if (!header.ok()) return header.error();
  const auto& h = *header;
  std::string at = "block " + std::to_string(height) + ": ";
  if (h.chain_id != genesis_.chain_id) return Invalid(at + "chain id " + h.chain_id);
  if (h.height != height || height != this->height() + 1) {
    return Invalid(at + "header height " + std::to_string(h.height) + ", expected " +
                   std::to_string(this->height() + 1));
  }
  if (h.prev_block_hash != last_hash_) return Invalid(at + "previous hash is not our tip");
  if (h.timestamp_ms <= last_header_.timestamp_ms) {
    return Invalid(at + "timestamp does not increase over the parent's");
  }
  if (check_timeliness &&
      std::llabs(h.timestamp_ms - now_ms) > genesis_.consensus.block_time_skew_ms_max) {
    return Invalid(at + "timestamp " + std::to_string(h.timestamp_ms) + " is more than " +
                   std::to_string(genesis_.consensus.block_time_skew_ms_max) +
                   " ms from our clock " + std::to_string(now_ms));
  }
  if (validators_.Find(h.proposer) == nullptr) return Invalid(at + "proposer not a member");
  if (h.membership_epoch != membership_.epoch || h.membership_sha256 != membership_.sha256) {
    return Invalid(at + "membership epoch " + std::to_string(h.membership_epoch) +
                   " or its hash is not the epoch in force (" +
                   std::to_string(membership_.epoch) + ")");
  }
  if (h.ledger_size != ledger_.size() || h.ledger_root != ledger_.Root()) {
    return Invalid(at + "ledger root does not match the chain");
  }
  if (static_cast<std::uint64_t>(block.txs_size()) != h.tx_count ||
      h.tx_count > genesis_.consensus.block_txs_max) {
    return Invalid(at + "tx-count does not match or exceeds block_txs_max");
  }
  if (block.ByteSizeLong() > kBlockBytesMax) {
    return Invalid(at + std::to_string(block.ByteSizeLong()) + " bytes exceeds the block limit of " +
                   std::to_string(kBlockBytesMax));
  }
  return header;
}

Result<Ledger::Executed> Ledger::Execute(std::uint64_t height,
                                         const consensus::proto::Block& block,
                                         std::int64_t now_ms, bool check_timeliness) const {
  auto header = CheckHeader(height, block, now_ms, check_timeliness);
  if (!header.ok()) return header.error();
  const auto& h = *header;
  const std::string at = "block " + std::to_string(height) + ": ";
  contracts::StateOverlay overlay(state_.get());
  contracts::BlockContext context{height, h.timestamp_ms};
  std::vector<contracts::Tx> txs;
  for (int i = 0; i < block.txs_size(); ++i) {
    auto tx = contracts::DecodeTx(block.txs(i));
    if (!tx.ok()) return Invalid(at + "tx " + std::to_string(i) + ": " + tx.error().message);
    Status ok = executor_.CheckEnvelope(*tx, overlay, h.timestamp_ms);
    if (!ok.ok()) return Invalid(at + "tx " + std::to_string(i) + ": " + ok.error().ToString());
    executor_.Execute(*tx, context, static_cast<std::uint32_t>(i), &overlay);
    txs.push_back(std::move(tx).value());
  }
  if (contracts::TxRoot(txs) != h.tx_root) return Invalid(at + "tx-root does not match");
  contracts::StateTree::Prepared prepared = state_->Prepare(overlay.writes());
  if (prepared.root != h.state_root) return Invalid(at + "state-root does not match re-execution");
  Executed executed{h, std::move(txs), overlay.writes(), std::move(prepared)};
  return executed;
}

Status Ledger::ValidateBlock(std::uint64_t height, const consensus::proto::Block& block,
                             std::int64_t now_ms, bool check_timeliness) {
  const crypto::Hash256 digest = consensus::BlockContentDigest(block);
  if (executed_.count(digest) > 0) {
    // This exact content was executed on the state as it is now (executed_ is emptied at each
    // commit): built here by BuildBlock (a proposer validating its own proposal) or validated
    // before at this height (then with the clock check off). Only the header's checks
    // (CheckHeader) run again; of them only the clock check can change before the next commit.
    auto header = CheckHeader(height, block, now_ms, check_timeliness);
    return header.status();
  }
  Result<Executed> executed = MakeError("internal-error", "not executed");
  try {
    executed = Execute(height, block, now_ms, check_timeliness);
  } catch (const contracts::StateStorageError& e) {
    return StateStorageErrorOf(e);
  }
  if (!executed.ok()) return executed.error();
  executed_[digest] = std::move(executed).value();
  return Status::Ok();
}

Status Ledger::CheckBody(const consensus::proto::Block& block) {
  auto header = consensus::BlockHeader::ParseText(block.header());
  if (!header.ok()) return MakeError("body-mismatch", "the header does not parse: " + header.error().OwnText());
  if (static_cast<std::uint64_t>(block.txs_size()) != header->tx_count) {
    return MakeError("body-mismatch", "block " + std::to_string(header->height) + " carries " +
                                          std::to_string(block.txs_size()) +
                                          " transactions, its header says " +
                                          std::to_string(header->tx_count));
  }
  std::vector<contracts::Tx> txs;
  txs.reserve(static_cast<std::size_t>(block.txs_size()));
  for (int i = 0; i < block.txs_size(); ++i) {
    auto tx = contracts::DecodeTx(block.txs(i));
    if (!tx.ok()) {
      return MakeError("body-mismatch", "block " + std::to_string(header->height) + " tx " +
                                            std::to_string(i) + ": " + tx.error().OwnText());
    }
    txs.push_back(std::move(tx).value());
  }
  if (contracts::TxRoot(txs) != header->tx_root) {
    return MakeError("body-mismatch", "block " + std::to_string(header->height) +
                                          ": its transactions do not give the header's tx-root");
  }
  return Status::Ok();
}

Result<proto::StoredBlock> Ledger::ReadBlock(std::uint64_t height) const {
  auto corrupt = [height](const std::string& why) {
    return MakeError("corrupt-store", "stored block " + std::to_string(height) + " " + why);
  };
  if (height > this->height()) {
    return MakeError("block-not-found", "no block at height " + std::to_string(height));
  }
  auto stored = store_->GetBlock(height);
  if (!stored.ok()) {
    if (stored.error().code == "block-not-found") return corrupt("is missing below the tip");
    return stored.error();
  }
  auto header = consensus::BlockHeader::ParseText(stored->block().header());
  if (!header.ok()) return corrupt("has an unreadable header");
  if (header->height != height) return corrupt("has the header of height " + std::to_string(header->height));
  const crypto::Hash256 hash = consensus::BlockHash(stored->block().header());
  crypto::Hash256 expected = last_hash_;
  if (height < this->height()) {
    auto next = store_->GetBlockHeader(height + 1);
    if (!next.ok()) return corrupt("cannot be checked: block " + std::to_string(height + 1) + ": " + next.error().OwnText());
    auto next_header = consensus::BlockHeader::ParseText(next->block().header());
    if (!next_header.ok()) return corrupt("cannot be checked: the next header is unreadable");
    expected = next_header->prev_block_hash;
  }
  if (hash != expected) return corrupt("does not hash to the chain's link to it");
  if (height > 0) {
    Status body = CheckBody(stored->block());
    if (!body.ok()) return corrupt("does not match its header: " + body.error().OwnText());
    if (stored->certificate().block_hash() != std::string(crypto::AsBytes(hash))) {
      return corrupt("has a certificate for another block");
    }
  }
  return stored;
}

Status Ledger::CommitBlock(const consensus::proto::Block& block,
                           const consensus::proto::CommitCertificate& certificate) {
  try {
    return CommitChecked(block, certificate);
  } catch (const contracts::StateStorageError& e) {
    return StateStorageErrorOf(e);
  }
}

Status Ledger::CommitChecked(const consensus::proto::Block& block,
                             const consensus::proto::CommitCertificate& certificate) {
  crypto::Hash256 hash = consensus::BlockHash(block.header());
  std::uint64_t height = this->height() + 1;
  COLEND_RETURN_IF_ERROR(
      consensus::VerifyCommitCertificate(validators_, height, hash, certificate));
  auto cached = executed_.find(consensus::BlockContentDigest(block));
  Executed executed;
  if (cached != executed_.end()) {
    // The same header and transactions, byte for byte, were executed and checked (decoding,
    // count, tx-root, state root) by ValidateBlock.
    executed = std::move(cached->second);
    executed_.erase(cached);  // a commit that fails is retried on a fresh execution
  } else {
    COLEND_RETURN_IF_ERROR(CheckBody(block));
    auto fresh = Execute(height, block, 0, /*check_timeliness=*/false);
    if (!fresh.ok()) return fresh.error();
    executed = std::move(fresh).value();
  }
  if (executed.prepared.version != state_->version()) {
    // Executed on a state that has changed since (never with executed_ cleared at each commit):
    // its hashes are recomputed, and they must still give the certified header's root.
    executed.prepared = state_->Prepare(executed.writes);
    if (executed.prepared.root != executed.header.state_root) {
      return MakeError("internal-error", "block " + std::to_string(height) +
                                             ": its writes, executed on an older state, do not give its state root");
    }
  }
  crypto::MerkleAccumulator ledger = ledger_;
  Store::BlockWrite write;
  write.ledger_nodes = ledger.Append(crypto::MerkleLeafHash(block.header()));
  write.height = height;
  write.block_hash = hash;
  *write.block.mutable_block() = block;
  *write.block.mutable_certificate() = certificate;
  for (const auto& tx : executed.txs) write.tx_ids.push_back(tx.id);
  write.state_writes = &executed.writes;
  write.state_prepared = &executed.prepared;
  write.ledger_accumulator = ledger.Serialize();
  COLEND_RETURN_IF_ERROR(store_->CommitBlock(write));
  // The root of the state after these writes was computed by Execute (Prepare) and checked
  // against the header; Apply installs the hashes Prepare computed instead of computing them a
  // second time (state_test proves Apply + Root == RootAfter, with and without them).
  state_->Apply(executed.writes, executed.prepared);
  ledger_ = std::move(ledger);
  last_header_ = executed.header;
  last_hash_ = hash;
  last_txs_ = std::move(executed.txs);
  executed_.clear();
  if (executed.writes.count("membership/epoch")) {
    // A membership change was approved in this block: the next height belongs to the new epoch.
    Status membership = LoadMembership();
    if (!membership.ok()) {
      return MakeError("corrupt-store", "block " + std::to_string(height) +
                                            " committed a membership the ledger cannot load: " +
                                            membership.error().message);
    }
    // The proof that this block's state (its certified state root) holds the new epoch's
    // document, while the state is this block's: later blocks change the buckets around it.
    auto proof = state_->Prove(contracts::MembershipEpochKey(membership_.epoch));
    if (!proof) {
      return MakeError("corrupt-store", "block " + std::to_string(height) +
                                            " committed membership epoch " +
                                            std::to_string(membership_.epoch) + " without its document");
    }
    // Not part of the block's batch, and not a reason to undo it: the block is committed. A crash
    // just before this write, or a write that fails (the next synced write fails too, and stops
    // the node), leaves this node without the proof; its evidence exports then refuse with
    // epoch-proof-missing, naming it (the other members have it).
    (void)store_->PutAux(EpochProofKey(membership_.epoch), proof->ToText());
  }
  return Status::Ok();
}

Status InitialiseMemberData(const std::string& data_path, const genesis::Genesis& genesis) {
  std::error_code ec;
  if (std::filesystem::exists(data_path, ec) || ec) {
    return MakeError("data-exists", data_path + " exists already");
  }
  auto store = Store::Open(data_path, genesis.hash);
  if (!store.ok()) return store.error();
  return InitialiseMemberStore(store->get(), genesis);
}

Status InitialiseMemberStore(Store* store, const genesis::Genesis& genesis) {
  Ledger ledger(genesis, store);
  COLEND_RETURN_IF_ERROR(ledger.Open());
  // Last: a crash before this line leaves a store without it, which the node treats as wiped.
  return store->PutAux("signing-history", "complete: initialised for a member that has never signed");
}

}  // namespace colend::node
