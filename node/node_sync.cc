// Status announcements, block sync and serving blocks (docs/consensus.md §9); the signing
// recovery that uses the peers' certified heights is in node_recovery.cc.
#include <algorithm>

#include "node/node_impl.h"
#include "node/transport.h"

namespace colend::node::detail {
namespace {

// The errors of this node's own data directory: a damaged record ("corrupt-store") or a
// refused read or write ("storage-error", node/ledger.h). A block's content never causes one
// before it is stored (its certificate and body are checked first); after, only a block a
// quorum certified can, and the consensus path stops on it too.
bool IsOwnStoreFailure(const Error& error) {
  return error.code == "corrupt-store" || error.code == "storage-error";
}

}  // namespace

void Node::AnnounceStatus() {
  proto::PeerMessage message;
  message.mutable_status()->set_height(ledger_.height());
  message.mutable_status()->set_last_block_hash(std::string(crypto::AsBytes(ledger_.last_hash())));
  message.mutable_status()->set_recovering(recovering_);
#ifdef COLEND_TEST_HOOKS
  // Test builds only (the chaos test's lying member): <home>/test-lie-status holds a height this
  // node then claims, with a made-up hash, while it serves no block above its real tip.
  if (auto lie = ReadFile(config_.Path("test-lie-status")); lie.ok()) {
    try {
      message.mutable_status()->set_height(std::stoull(*lie));
      message.mutable_status()->set_last_block_hash(
          std::string(crypto::AsBytes(crypto::Sha256("a lie " + *lie))));
    } catch (const std::exception&) {
    }
  }
#endif
  BroadcastMessage(message);
}

bool Node::SyncIdle() const { return sync_peer_.empty() || SteadyMs() > sync_deadline_ms_; }

void Node::ExpireSyncRequest() {
  if (sync_peer_.empty() || SteadyMs() <= sync_deadline_ms_ || !sync_queue_.empty()) return;
  const std::string slow = std::move(sync_peer_);
  sync_peer_.clear();
  if (++sync_unanswered_[slow] < kSyncUnansweredMax) {
    Log("sync: no answer from " + slow + " in time; asking another peer");
    return;
  }
  if (!peers_.IsUnanswered(slow)) {
    Log("sync: " + slow + " left " + std::to_string(kSyncUnansweredMax) +
        " requests in a row unanswered; its claims do not count as ahead until it answers one");
  }
  peers_.Unanswered(slow);
}

void Node::RequestBlocks(const std::string& peer) {
  ExpireSyncRequest();  // a request replaced after its time counts as unanswered
  const std::uint64_t claim = peers_.ClaimOf(peer);
  if (claim <= ledger_.height()) return;
  const std::uint64_t from = ledger_.height() + 1;
  const std::uint64_t behind = claim - ledger_.height();
  proto::PeerMessage message;
  message.mutable_block_request()->set_from_height(from);
  message.mutable_block_request()->set_count(
      static_cast<std::uint32_t>(std::min<std::uint64_t>(behind, kSyncBlocksPerRequestMax)));
  sync_peer_ = peer;
  sync_deadline_ms_ = SteadyMs() + kSyncRequestTimeoutMs;
  Log("syncing: at height " + std::to_string(ledger_.height()) + ", " + peer + " claims " +
      std::to_string(claim) + " (" + std::to_string(behind) + " blocks behind); requesting from " +
      std::to_string(from));
  SendTo(peer, message);
}

void Node::OnPeerConnection(const std::string& peer, bool up) {
  Log(std::string("peer ") + peer + (up ? " connected" : " disconnected"));
  if (up) {
    AnnounceStatus();
  } else {
    peers_.Forget(peer);  // its next announcement, after it reconnects, counts afresh
    if (sync_peer_ == peer) sync_peer_.clear();
    if (fork_probe_peer_ == peer) fork_probe_peer_.clear();
  }
}

void Node::VerifyPeerClaims() {
  const auto mismatches = peers_.Verify(
      ledger_.height(),
      [this](std::uint64_t height) -> std::optional<crypto::Hash256> {
        if (height == ledger_.height()) return ledger_.last_hash();
        auto header = store_->GetBlockHeader(height);
        if (!header.ok()) return std::nullopt;
        return consensus::BlockHash(header->block().header());
      },
      SteadyMs());
  // Another block at a height we hold: a lie, or a fork (node_fork.cc) that the peer's block
  // and certificate there would show.
  if (!mismatches.empty()) ProbeFork(mismatches.front().first, mismatches.front().second);
}

void Node::OnStatus(const std::string& peer, const proto::StatusAnnounce& status) {
  if (status.last_block_hash().size() != 32) return;
  crypto::Hash256 hash{};
  std::copy(status.last_block_hash().begin(), status.last_block_hash().end(), hash.begin());
  peers_.Claim(peer, status.height(), hash, status.recovering(), SteadyMs());
  VerifyPeerClaims();
  if (recovering_) TryRecoverSigning();
  if (peers_.ClaimOf(peer) > ledger_.height() && SyncIdle()) RequestBlocks(peer);
}

void Node::OnBlockRequest(const std::string& peer, const proto::BlockRequest& request) {
  if (!TakeServeBudget(peer, "block")) return;
  proto::PeerMessage message;
  message.mutable_block_response();  // an answer even when it holds no block
  std::size_t bytes = 0;
  const std::uint32_t count = std::min(request.count(), kSyncBlocksPerRequestMax);
  const std::uint64_t from = request.from_height();
  for (std::uint64_t h = from; h - from < count && h <= ledger_.height() &&
                               bytes < kSyncResponseBytesMax;
       ++h) {
    // Each block is checked before it leaves (Ledger::ReadBlock): a damaged store is never
    // served; the node stops and says which block, so the operator restores or re-syncs it.
    auto block = ledger_.ReadBlock(h);
    if (!block.ok()) {
      if (block.error().code == "corrupt-store") {
        return Fatal(block.error().ToString() +
                     "; the data directory is damaged: restore it or remove it and let the node "
                     "recover (docs/operations.md, Backup and restore)");
      }
      break;
    }
    bytes += block->ByteSizeLong();
    *message.mutable_block_response()->add_blocks() = std::move(block).value();
  }
  serve_budget_.ChargeBytes(peer, static_cast<std::int64_t>(bytes));
  SendTo(peer, message);
}

bool Node::TakeServeBudget(const std::string& peer, const char* what) {
  if (serve_budget_.TakeRequest(peer, SteadyMs())) return true;
  const std::string line = std::string("not answering ") + what + " requests from " + peer +
                           ": over its serving budget";
  if (last_budget_log_[peer] + 60000 <= SteadyMs()) {
    last_budget_log_[peer] = SteadyMs();
    Log(line);
  }
  return false;
}

// Synced blocks are applied one per io event, so RPC (status shows the progress) and consensus
// messages are served between them; the peer stays our sync peer until its batch is applied.
void Node::OnBlockResponse(const std::string& peer, const proto::BlockResponse& response) {
  if (TakeForkProbeAnswer(peer, response)) return;
  if (peer != sync_peer_ || !sync_queue_.empty()) return;  // late or unasked: ignore
  sync_unanswered_.erase(peer);  // it answered (an empty answer is judged below)
  peers_.Answered(peer);
  for (const auto& stored : response.blocks()) sync_queue_.push_back(stored);
  if (sync_queue_.empty()) {
    sync_peer_.clear();
    if (peers_.ClaimOf(peer) > ledger_.height()) {
      // It claimed blocks it does not serve: a liar (or a damaged peer). Its claims are ignored
      // for a while, so it cannot keep this node "syncing" or hold back the clock.
      Log("sync: " + peer + " claimed height " + std::to_string(peers_.ClaimOf(peer)) +
          " but served no block above " + std::to_string(ledger_.height()) +
          "; ignoring its claims for " + std::to_string(kDiscreditMs / 1000) + " s");
      peers_.Discredit(peer, SteadyMs());
    }
    return;
  }
  sync_applied_ = 0;
  sync_deadline_ms_ = SteadyMs() + kSyncRequestTimeoutMs;
  ApplySyncedBlock(peer);
}

void Node::ApplySyncedBlock(const std::string& peer) {
  if (fatal_ || sync_queue_.empty()) return;
  const proto::StoredBlock stored = std::move(sync_queue_.front());
  sync_queue_.pop_front();
  auto header = consensus::BlockHeader::ParseText(stored.block().header());
  if (header.ok() && header->height == ledger_.height() + 1) {
    const StopWatch watch;
    Status committed = ledger_.CommitBlock(stored.block(), stored.certificate());
    if (committed.ok()) metrics_.BlockStepTook(BlockStep::kCommit, watch.Seconds());
    if (!committed.ok() && IsOwnStoreFailure(committed.error())) {
      // Our own data directory failed (a write refused, a damaged record), not the peer's
      // block: stop as the consensus path does, instead of blaming every peer in turn and
      // running on, behind, on a store that cannot take the chain (docs/operations.md, Backup
      // and restore: A failing disk).
      // (A damaged state read has stopped it already, naming the entry: one FATAL line.)
      if (!fatal_) {
        Fatal("cannot commit synced block " + std::to_string(header->height) + " from " + peer +
              ": " + committed.ToString());
      }
      return;
    }
    if (!committed.ok()) {
      Log("sync: block " + std::to_string(header->height) + " from " + peer + " rejected: " +
          committed.ToString() + "; ignoring its claims for " +
          std::to_string(kDiscreditMs / 1000) + " s");
      sync_queue_.clear();
      peers_.Discredit(peer, SteadyMs());
      if (header->prev_block_hash != ledger_.last_hash()) ProbeFork(peer, ledger_.height());
    } else {
      ++sync_applied_;
      AfterCommit(stored.block(), "synced from " + peer, /*decided=*/false);
    }
  }
  if (!sync_queue_.empty()) {
    sync_deadline_ms_ = SteadyMs() + kSyncRequestTimeoutMs;
    host_.post([this, peer] { ApplySyncedBlock(peer); });
    return;
  }
  sync_peer_.clear();
  if (sync_applied_ > 0) {
    const std::uint64_t best = peers_.BestClaim();
    Log("sync: applied " + std::to_string(sync_applied_) + " blocks, now at " +
        std::to_string(ledger_.height()) +
        (best > ledger_.height() ? ", " + std::to_string(best - ledger_.height()) + " to go"
                                 : ", caught up"));
    if (auto next = peers_.SyncPeer(ledger_.height(), "")) RequestBlocks(*next);
  }
}

}  // namespace colend::node::detail
