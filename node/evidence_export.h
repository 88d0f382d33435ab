// Gathers a loan's evidence from a node's committed chain: every record of the loan (exact signed
// transaction, signature, leaf, inclusion proof into its block's tx-root, receipt with its state
// proof), the headers and commit certificates of those blocks and of the anchor (the tip), each
// header's ledger proof into the anchor, the loan's record chain and loan record with their state
// proofs, the loan's events, and the membership documents of every epoch up to the anchor's.
// Layout and meaning: docs/evidence-bundle.md. The CLI adds documents, the report and the tools,
// and writes the ZIP.
//
// Cost: O(records × (block size + bucket size + log² height)); independent of how many other
// loans or transactions the chain holds, except through the state's bucket size (entries / 65536).
//
// Thread safety: reads the ledger and the store; call it on the thread that owns them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/result.h"
#include "node/ledger.h"

namespace colend::node {

struct BundleFile {
  std::string path;   // relative, e.g. "records/000001/tx.txt"
  std::string bytes;  // exact contents
};

struct LoanEvidence {
  std::vector<BundleFile> files;
  // Documents the bundle must ship (accepted evidence.attach records), in record order.
  std::vector<crypto::Hash256> documents;
  std::uint64_t records = 0;
  std::uint64_t anchor_height = 0;
};

// Limits: a loan with more than kEvidenceRecordsMax records or events is refused
// ("too-many-records"), and an export whose files exceed kEvidenceExportBytesMax
// ("export-too-large"), rather than exported in part. A record costs about 3 KB of files (its
// hex RPC form twice that, within the RPC client's 64 MiB answer); a loan has tens to a few
// hundred records (every step, and each day the daily rules act on it).
inline constexpr std::uint64_t kEvidenceRecordsMax = 10000;
inline constexpr std::uint64_t kEvidenceExportBytesMax = 28u << 20;

// Error "loan-not-found" when the chain has no record of `loan`.
Result<LoanEvidence> ExportLoanEvidence(const Ledger& ledger, const std::string& loan,
                                        const std::string& exported_by, std::int64_t now_ms);

}  // namespace colend::node
