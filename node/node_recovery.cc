// A member whose signing history is unknown (docs/consensus.md §10): judging the data directory
// against the signing lease at start-up, covering every signature with the lease, and recovering
// the signing floor from the certified reports of the epoch at the tip (signing_recovery.h).
#include <algorithm>

#include "node/node_impl.h"
#include "node/signing_recovery.h"
#include "node/transport.h"

namespace colend::node::detail {

// docs/consensus.md §10 (F11). The data directory knows this member's signing history only if
// it says so (kSigningHistoryKey, written by --init and at the end of a recovery) and its vote
// state is not behind the signing lease kept outside it (node/signing_lease.h). Otherwise the
// member may have signed at heights the chain has not decided yet: it syncs and signs nothing
// until it knows a floor (TryRecoverSigning).
Status Node::JudgeHistory() {
  DataHistory data;
  auto marker = store_->GetAux(kSigningHistoryKey);
  if (!marker.ok()) return marker.error();
  data.complete_marker = marker->has_value();
  auto legacy = store_->GetAux("recovering");
  if (!legacy.ok()) return legacy.error();
  data.legacy_recovering = legacy->has_value();
  data.stored = LeaseMark{ledger_.height() + 1, 0, 0};
  auto saved = store_->LoadReplicaState();
  if (!saved.ok()) return saved.error();
  if (*saved) {
    const std::optional<LeaseMark> mark = LeaseMarkOf(**saved);
    if (!mark) return MakeError("corrupt-store", "the replica (vote) state does not parse");
    data.stored = std::max(data.stored, *mark);
  }
  const std::string lease_path = config_.StatePath("signing-lease");
  auto lease = ReadSigningLease(lease_path, crypto::ToHex(genesis_.hash), config_.member_id);
  if (!lease.ok()) return lease.error();
  const HistoryVerdict verdict = JudgeSigningHistory(data, *lease);
  lease_ = lease->value_or(LeaseMark{});
  if (verdict.recovering) {
    recovering_ = true;
    recovering_why_ = verdict.why;
    lease_floor_ = verdict.lease_floor;
    // Durable before anything else happens: a crash from here on still finds it recovering.
    if (data.complete_marker) COLEND_RETURN_IF_ERROR(store_->DeleteAux(kSigningHistoryKey));
    Log("signing history unknown: " + verdict.why + ". Syncing and signing nothing until " +
        std::to_string(ledger_.validators().size() - ledger_.validators().quorum() + 1) +
        " members report tips this node has verified" +
        (lease_floor_ > 0 ? "; never signing below height " + std::to_string(lease_floor_) : ""));
    return Status::Ok();
  }
  if (!*lease || *lease < data.stored) {
    // No lease yet (a new member, or one that predates leases), or one behind the data: the
    // data directory is the authority; the lease starts from it.
    lease_ = std::max(lease_, data.stored);
    COLEND_RETURN_IF_ERROR(WriteSigningLease(lease_path, crypto::ToHex(genesis_.hash),
                                             config_.member_id, lease_));
  }
  return Status::Ok();
}

bool Node::CoverWithLease(const std::string& persist) {
  const std::optional<LeaseMark> mark = LeaseMarkOf(persist);
  assert(mark.has_value());  // the replica's own serialisation
  const LeaseMark now = *mark;
  if (now <= lease_) return true;
  const StopWatch watch;
  Status written = WriteSigningLease(config_.StatePath("signing-lease"), crypto::ToHex(genesis_.hash),
                                     config_.member_id, now);
  if (written.ok()) metrics_.Synced(SyncedWrite::kSigningLease, watch.Seconds());
  if (!written.ok()) {
    Fatal("cannot extend the signing lease to height " + std::to_string(now.height) + " round " +
          std::to_string(now.round) + " step " + std::to_string(now.step) + ": " +
          written.ToString());
    return false;
  }
  lease_ = now;
  return true;
}

RecoveryProgress Node::SigningRecoveryProgress() {
  RecoveryInput input;
  input.self = config_.member_id;
  input.our_height = ledger_.height();
  input.epoch = &ledger_.validators();
  input.best_claim = peers_.BestClaim();
  input.reports = peers_.CertifiedReports();
  input.lease_floor = lease_floor_;
  return ComputeSigningFloor(input);
}

void Node::TryRecoverSigning() {
  const RecoveryProgress progress = SigningRecoveryProgress();
  if (!progress.floor) return;
  if (!replica_) return;  // not a member now: the floor is raised when it is one again
  const std::uint64_t floor = *progress.floor;
  Handle(replica_->RaiseSignFloor(floor, ClockNow()));
  if (fatal_) return;
  // The raised floor is durable in the vote state now: the history is complete again.
  Status marked = store_->PutAux(kSigningHistoryKey, "complete: recovered, signing from height " +
                                                         std::to_string(floor));
  if (!marked.ok()) return Fatal("cannot record the end of the recovery: " + marked.ToString());
  if (Status cleared = store_->DeleteAux("recovering"); !cleared.ok()) {
    Warn("warning: " + cleared.ToString());
  }
  recovering_ = false;
  Log("signing floor recovered: " + std::to_string(progress.counted) + " of the " +
      std::to_string(ledger_.validators().size()) + " members of epoch " +
      std::to_string(ledger_.membership().epoch) + " report certified tips at most " +
      std::to_string(progress.top) + "; this node is at " + std::to_string(ledger_.height()) +
      "; signing from height " + std::to_string(floor));
  AnnounceStatus();
  ScheduleStartHeight();
}

}  // namespace colend::node::detail
