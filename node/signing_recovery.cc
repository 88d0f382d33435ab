#include "node/signing_recovery.h"

#include <algorithm>

namespace colend::node {

RecoveryProgress ComputeSigningFloor(const RecoveryInput& input) {
  RecoveryProgress progress;
  const consensus::ValidatorSet& epoch = *input.epoch;
  // n counts this member when it is one; the reports needed are n - q + 1 others.
  progress.needed = epoch.size() >= epoch.quorum() ? epoch.size() - epoch.quorum() + 1 : 1;
  for (const auto& [peer, report] : input.reports) {
    if (peer == input.self || report.recovering || epoch.Find(peer) == nullptr) continue;
    ++progress.counted;
    progress.top = std::max(progress.top, std::min(report.certified_height, input.our_height));
  }
  progress.caught_up = SaturatingAdd(input.our_height, kRecoveryLagMax) >= input.best_claim;
  if (progress.counted < progress.needed || !progress.caught_up) return progress;
  // A signing lease that survived bounds exactly what this member may have signed (it is written
  // before anything is signed): the next height, or the first the lease leaves free. Without one
  // only the quorum argument does: tip + 3, from our own tip, which bounds every certified report
  // and is at least as high. (tip + 3 with a lease was safe too, but two such members of five in
  // two-thirds mode then left tip + 1 without a quorum for ever.)
  progress.floor = input.lease_floor > 0
                       ? std::max(SaturatingAdd(input.our_height, 1), input.lease_floor)
                       : SaturatingAdd(input.our_height, 3);
  return progress;
}

}  // namespace colend::node
