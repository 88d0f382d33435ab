#include "node/signing_lease.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "consensus/consensus.pb.h"
#include "node/config.h"
#include "node/signing_recovery.h"

namespace colend::node {
namespace {

constexpr std::string_view kLeaseMagic = "colend-signing-lease/v1";

std::string LeaseText(const std::string& chain, const std::string& member, LeaseMark mark) {
  return std::string(kLeaseMagic) + "\nchain-genesis " + chain + "\nmember " + member +
         "\nheight " + std::to_string(mark.height) + "\nround " + std::to_string(mark.round) +
         "\nstep " + std::to_string(mark.step) + "\n";
}

}  // namespace

Result<std::optional<LeaseMark>> ReadSigningLease(const std::string& path,
                                                  const std::string& chain_genesis_hex,
                                                  const std::string& member) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return MakeError("bad-signing-lease", "cannot look for " + path);
    return std::optional<LeaseMark>();
  }
  auto text = ReadFile(path);
  if (!text.ok()) return MakeError("bad-signing-lease", "cannot read " + path);
  std::istringstream in(*text);
  std::string magic, k1, chain, k2, who, k3, k4, k5;
  std::uint64_t height = 0, round = 0, step = 0;
  if (!std::getline(in, magic) || magic != kLeaseMagic ||
      !(in >> k1 >> chain >> k2 >> who >> k3 >> height >> k4 >> round >> k5 >> step) ||
      k1 != "chain-genesis" || k2 != "member" || k3 != "height" || k4 != "round" ||
      k5 != "step" || round > UINT32_MAX || step > UINT32_MAX) {
    return MakeError("bad-signing-lease", path + " is not a signing lease; it must not be edited "
                                                 "(docs/operations.md)");
  }
  if (chain != chain_genesis_hex || who != member) {
    return MakeError("bad-signing-lease", path + " is the lease of " + who + " on chain " + chain +
                                              ", not of " + member + " on " + chain_genesis_hex);
  }
  const LeaseMark mark{height, static_cast<std::uint32_t>(round), static_cast<std::uint32_t>(step)};
  if (LeaseText(chain, who, mark) != *text) {
    return MakeError("bad-signing-lease", path + " is not in its canonical form; it must not be "
                                                 "edited (docs/operations.md)");
  }
  return std::optional<LeaseMark>(mark);
}

std::optional<LeaseMark> LeaseMarkOf(const std::string& replica_state_bytes) {
  consensus::proto::ReplicaState state;
  if (!state.ParseFromString(replica_state_bytes)) return std::nullopt;
  return LeaseMark{state.height(), state.round(), state.step()};
}

Status WriteSigningLease(const std::string& path, const std::string& chain_genesis_hex,
                         const std::string& member, LeaseMark mark) {
  return WriteFile(path, LeaseText(chain_genesis_hex, member, mark));
}

HistoryVerdict JudgeSigningHistory(const DataHistory& data, const std::optional<LeaseMark>& lease) {
  HistoryVerdict verdict;
  if (lease && *lease >= LeaseMark{1, 0, 0} && *lease > data.stored) {
    verdict.recovering = true;
    verdict.lease_floor = SaturatingAdd(lease->height, 1);
    verdict.why = "the data directory's vote state (height " + std::to_string(data.stored.height) +
                  " round " + std::to_string(data.stored.round) + " step " +
                  std::to_string(data.stored.step) + ") is behind the signing lease (height " +
                  std::to_string(lease->height) + " round " + std::to_string(lease->round) +
                  " step " + std::to_string(lease->step) +
                  "): restored from an older backup, or writes were lost";
  }
  if (!data.complete_marker || data.legacy_recovering) {
    verdict.recovering = true;
    const std::string why =
        data.legacy_recovering
            ? "the data directory is marked as recovering"
            : "the data directory has no record that its signing history is complete (wiped, "
              "emptied, or created without colend-node --init)";
    verdict.why = verdict.why.empty() ? why : verdict.why + "; " + why;
    if (lease) verdict.lease_floor = std::max(verdict.lease_floor, SaturatingAdd(lease->height, 1));
  }
  return verdict;
}

}  // namespace colend::node
