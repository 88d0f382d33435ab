// The signing lease: a small file outside data/ (<home>/signing-lease) naming the highest
// (height, round, step) of the replica's vote state: every signature moves one of them forward
// (a proposal and the prevote that follows it, a prevote, a precommit), so a vote state with the
// same mark holds every signature made. It is written (synced) before the replica persists and
// sends anything for a later mark, so it is never behind the vote state in data/.
//
// At start the vote state in data/ is compared with it: a data directory whose vote state is
// behind the lease was restored from an older backup (or lost writes), and one without the
// "signing history complete" marker was wiped, emptied, or never finished `colend-node --init`.
// Either way the member's signing history is unknown: it recovers (node/signing_recovery.h)
// and never signs at or below the leased height again (docs/consensus.md §10, F11;
// docs/operations.md "Backup and restore").
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "crypto/result.h"

namespace colend::node {

struct LeaseMark {
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  std::uint32_t step = 0;  // the replica's step: propose, prevote, precommit
  auto operator<=>(const LeaseMark&) const = default;
};

// The mark of a persisted replica state (consensus.proto ReplicaState); nullopt if the bytes do
// not parse.
std::optional<LeaseMark> LeaseMarkOf(const std::string& replica_state_bytes);

// Reads <path>; nullopt if the file does not exist, an error if it exists but is not a lease of
// this chain and member.
Result<std::optional<LeaseMark>> ReadSigningLease(const std::string& path,
                                                  const std::string& chain_genesis_hex,
                                                  const std::string& member);
// A lease of this length or less fits one 512-byte sector, the unit a disk writes whole, so an
// overwrite in place leaves either the old lease or the new one (the sha256 line refuses
// anything else); a longer one (a very long member id) is always written through a new file.
inline constexpr std::size_t kSigningLeaseInPlaceMaxBytes = 512;

// Writes the lease (v2: fixed-width fields and a sha256 line) and syncs it. A v2 lease of the same
// member and chain is overwritten in place (one pwrite, one fdatasync); otherwise (no lease, a
// v1 lease) a new file is synced and renamed over it. Reads accept v1 and v2.
Status WriteSigningLease(const std::string& path, const std::string& chain_genesis_hex,
                         const std::string& member, LeaseMark mark);

// What the data directory says about this member's signing history.
struct DataHistory {
  bool complete_marker = false;        // "signing-history" aux record present
  bool legacy_recovering = false;      // the older "recovering" aux record present
  LeaseMark stored;                    // max of the vote state's mark and (tip+1, 0, 0)
};

struct HistoryVerdict {
  bool recovering = false;
  std::string why;            // for the log when recovering
  std::uint64_t lease_floor = 0;  // the lowest height the member may sign at (0: none)
};

// Pure: the decision at start from the data directory and the lease file.
HistoryVerdict JudgeSigningHistory(const DataHistory& data, const std::optional<LeaseMark>& lease);

}  // namespace colend::node
