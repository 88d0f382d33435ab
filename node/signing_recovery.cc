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
  // Our own tip bounds every certified report and is at least as high: the safer floor.
  progress.floor = std::max(SaturatingAdd(input.our_height, 3), input.lease_floor);
  return progress;
}

}  // namespace colend::node
