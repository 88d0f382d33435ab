// Membership epochs in the contract state (see membership.cc for the keys and the rules).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "contracts/state.h"

namespace colend::contracts {

// Endorsements needed among `members` under `rule` ("majority" | "two-thirds"): the same count
// as consensus::QuorumSize (contracts do not depend on consensus; a test checks they agree).
std::size_t MembershipQuorum(std::size_t members, std::string_view rule);
// "membership/epoch/<epoch, 20 digits>": the epoch's membership document (epoch >= 1).
std::string MembershipEpochKey(std::uint64_t epoch);
// The latest epoch written to `state` (0 at genesis). It is in force from the height in
// "membership/start-height".
std::uint64_t MembershipEpoch(const StateReader& state);

}  // namespace colend::contracts
