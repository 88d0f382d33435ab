#include "node/signing_lease.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "consensus/consensus.pb.h"
#include "crypto/hash.h"
#include "node/config.h"
#include "node/signing_recovery.h"

namespace colend::node {
namespace {

// v1 (written until 2026-12): the mark in plain decimal, rewritten through a new file and a
// rename. Still read, so that an upgraded node keeps its lease; the next write replaces it by v2.
constexpr std::string_view kLeaseMagicV1 = "colend-signing-lease/v1";
constexpr std::string_view kLeaseMagic = "colend-signing-lease/v2";

std::string LeaseTextV1(const std::string& chain, const std::string& member, LeaseMark mark) {
  return std::string(kLeaseMagicV1) + "\nchain-genesis " + chain + "\nmember " + member +
         "\nheight " + std::to_string(mark.height) + "\nround " + std::to_string(mark.round) +
         "\nstep " + std::to_string(mark.step) + "\n";
}

std::string ZeroPadded(std::uint64_t value, std::size_t width) {
  const std::string digits = std::to_string(value);
  return std::string(width - std::min(width, digits.size()), '0') + digits;
}

// v2: the mark in fixed-width decimal (20 digits for the height, 10 for round and step), so that
// every lease of one member on one chain has the same length, then the SHA-256 of the lines above
// it. WriteSigningLease overwrites such a file in place.
std::string LeaseText(const std::string& chain, const std::string& member, LeaseMark mark) {
  const std::string body = std::string(kLeaseMagic) + "\nchain-genesis " + chain + "\nmember " +
                           member + "\nheight " + ZeroPadded(mark.height, 20) + "\nround " +
                           ZeroPadded(mark.round, 10) + "\nstep " + ZeroPadded(mark.step, 10) +
                           "\n";
  return body + "sha256 " + crypto::ToHex(crypto::Sha256(body)) + "\n";
}

// Overwrites `path` with `text` in place, with one pwrite at offset 0 and one fdatasync, if it is
// a regular file of exactly text.size() bytes (a v2 lease of this member and chain). No metadata
// changes, so the sync does not wait for a file-system journal commit. false: not such a file
// (nothing written). An error: the write or the sync failed.
Result<bool> OverwriteInPlace(const std::string& path, const std::string& text) {
  if (text.size() > kSigningLeaseInPlaceMaxBytes) return false;
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) != text.size()) {
    ::close(fd);
    return false;
  }
  const bool ok = ::pwrite(fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()) &&
                  ::fdatasync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (!ok || !closed) return MakeError("write-failed", "cannot overwrite " + path + " in place");
  return true;
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
  if (!std::getline(in, magic) || (magic != kLeaseMagic && magic != kLeaseMagicV1) ||
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
  const std::string canonical =
      magic == kLeaseMagic ? LeaseText(chain, who, mark) : LeaseTextV1(chain, who, mark);
  if (canonical != *text) {
    return MakeError("bad-signing-lease",
                     path + " is not in its canonical form or its sha256 line does not match (an "
                            "edit, or a write torn by a crash); it must not be edited "
                            "(docs/operations.md)");
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
  const std::string text = LeaseText(chain_genesis_hex, member, mark);
  Result<bool> overwritten = OverwriteInPlace(path, text);
  if (!overwritten.ok()) return overwritten.status();
  if (*overwritten) return Status::Ok();
  // No lease yet, or a v1 one: a new file, synced, renamed over it, and the directory synced.
  return WriteFile(path, text);
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
