// colend-verify's checks of an evidence bundle (docs/evidence-bundle.md section 6), written from
// the format document alone: it parses the texts itself and uses only the project's crypto module
// (hashes, signatures, certificates, RFC 6962 Merkle trees) and OpenSSL underneath, so it shares
// no code with the node that produced the bundle beyond those primitives.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace colend::evidence {

struct CheckLine {
  bool pass = false;
  std::string check;   // e.g. "trust", "block 12", "record 3"
  std::string detail;  // what was checked, or what failed and what was expected
};

// Runs every check on the bundle's files (entry name -> bytes). `first_entry` is the archive's
// first entry name (must be "mimetype"). `root_sha256` is the fingerprint the arbitrator trusts
// (64 hex digits, colons allowed). Every check is reported; the bundle verifies when none failed.
// `genesis_sha256` (optional, empty if not given): the chain's genesis hash, as the loan contract's
// annex states it. Without it, members who can make CA-issued certificates of their own could
// present a genesis file of their own; with it, epoch 0 is the genesis the parties agreed on.
// Every detail quotes bundle bytes through Printable.
std::vector<CheckLine> VerifyBundle(const std::map<std::string, std::string>& files,
                                    const std::string& first_entry, const std::string& root_sha256,
                                    const std::string& genesis_sha256 = "");

// Bytes from a bundle made safe to show: well-formed UTF-8 without control characters (C0, DEL,
// C1); anything else becomes '?'. So a hostile bundle can neither send escape sequences to the
// arbitrator's terminal nor make `--json` output (strict UTF-8) fail.
std::string Printable(std::string_view text);

}  // namespace colend::evidence
