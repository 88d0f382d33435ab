// Assembles an evidence bundle (docs/evidence-bundle.md) from what a node exported
// (node/evidence_export.h, over the evidence_export RPC) and the documents it holds: adds the
// documents, report/case.html, VERIFY.md, tools/verify.sh, README.txt and MANIFEST.sha256, and
// puts `mimetype` first, stored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/result.h"
#include "node/document_store.h"
#include "tools/evidence/zip_archive.h"

namespace colend::evidence {

// The bytes of tools/evidence/verify.sh and VERIFY.md (embedded at build time).
extern const std::string_view kVerifyScript;
extern const std::string_view kVerifyGuide;

inline constexpr std::string_view kBundleMimetype = "application/vnd.etsi.asic-e+zip";

struct AssembledBundle {
  std::vector<ZipEntry> entries;
  std::string loan;
  std::uint64_t records = 0;
  std::uint64_t anchor_height = 0;
  std::uint64_t documents = 0;
  std::int64_t exported_at_ms = 0;
};

// `exported` is the evidence_export RPC result. Error "document-missing" names a document this
// node does not hold yet (it fetches it from peers; retry), "bad-export" a malformed answer.
Result<AssembledBundle> AssembleBundle(const nlohmann::json& exported,
                                       const node::DocumentStore& documents);

}  // namespace colend::evidence
