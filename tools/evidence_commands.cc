// colend evidence attach | export: the loan side of the arbitration evidence chain
// (docs/evidence-bundle.md). `attach` puts a document into the --home node's document store and
// its SHA-256 on chain; `export` writes a loan's evidence bundle, a ZIP an arbitrator verifies
// offline with colend-verify or tools/verify.sh.
#include <iostream>

#include "contracts/contract.h"
#include "contracts/fields.h"
#include "crypto/hash.h"
#include "node/config.h"
#include "node/document_store.h"
#include "tools/cli.h"
#include "tools/evidence/bundle_writer.h"

namespace colend::cli {
namespace {

using json = nlohmann::json;



int Attach(const Args& args) {
  const std::string loan = args.Get("loan"), file = args.Get("file"), kind = args.Get("kind");
  if (loan.empty() || file.empty() || kind.empty()) {
    return std::cerr << "colend: --loan, --file and --kind are required\n" << args.usage, 2;
  }
  if (!contracts::IsDocumentKind(kind)) {
    return std::cerr << "colend: --kind must be contract, notice, repayment-proof or other\n", 2;
  }
  auto timeout_s = WholeOption(args, "timeout", 30, 1, 86400);
  if (!timeout_s.ok()) return std::cerr << "colend: " << timeout_s.error().message << "\n", 2;
  // Everything that can refuse the command is checked before the document is stored: the loan
  // id as the nodes check it, the home and its signing key, the file (not a directory, 1 to
  // kDocumentBytesMax bytes, read no further than one byte past that).
  if (auto s = contracts::CheckField("evidence.attach", "loan", loan); !s.ok()) {
    return std::cerr << "colend: --loan: " << s.error().message << " [" << s.error().code
                     << "]\n", 2;
  }
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  if (auto key = LoadSigningKey(*home); !key.ok()) return Fail(key.error());
  auto content = node::ReadFile(file, contracts::kDocumentBytesMax);
  if (!content.ok()) return Fail(content.error());
  if (content->empty()) {
    return Fail("'" + file + "' is empty; a document must have 1 to " +
                std::to_string(contracts::kDocumentBytesMax) + " bytes");
  }
  const std::int64_t timeout_ms = *timeout_s * 1000;
  node::DocumentStore documents(home->config.StatePath("documents"));
  auto stored = documents.Put(*content);
  if (!stored.ok()) return Fail(stored.error());
  std::map<std::string, std::string> fields = {
      {"loan", loan},
      {"kind", kind},
      {"document-sha256", crypto::ToHex(*stored)},
      {"document-bytes", std::to_string(content->size())}};
  if (args.Has("label")) fields["label-sha256"] = crypto::ToHex(crypto::Sha256(args.Get("label")));
  auto committed = SubmitAndWait(*home, "evidence.attach", fields, timeout_ms);
  if (!committed.ok()) return Fail(committed.error());
  json out = *committed;
  out["document_sha256"] = crypto::ToHex(*stored);
  return ReportReceipt(args, out, "document sha256 " + crypto::ToHex(*stored) + "\n");
}

int Export(const Args& args) {
  const std::string loan = args.Get("loan"), out_path = args.Get("out");
  if (loan.empty() || out_path.empty()) {
    return std::cerr << "colend: --loan and --out are required\n" << args.usage, 2;
  }
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  auto exported = CallNode(home->config, "evidence_export", {{"loan", loan}}, 120000);
  if (!exported.ok()) return Fail(exported.error());
  node::DocumentStore documents(home->config.StatePath("documents"));
  auto bundle = evidence::AssembleBundle(*exported, documents);
  if (!bundle.ok()) return Fail(bundle.error());
  Status written = evidence::WriteZip(out_path, bundle->entries, bundle->exported_at_ms / 1000);
  if (!written.ok()) return Fail(written.error());
  json result = {{"loan", loan},
                 {"out", out_path},
                 {"records", bundle->records},
                 {"documents", bundle->documents},
                 {"anchor_height", bundle->anchor_height},
                 {"files", bundle->entries.size()},
                 {"ca_sha256", crypto::ToHex(home->genesis.ca_certificate.Fingerprint())}};
  Print(args, result,
        "wrote " + out_path + ": loan " + loan + ", " + std::to_string(bundle->records) +
            " records, " + std::to_string(bundle->documents) + " documents, anchored at height " +
            std::to_string(bundle->anchor_height) + "\nverify: colend-verify " + out_path +
            " --root-sha256 <consortium root CA fingerprint from the loan contract's annex>\n");
  return 0;
}

}  // namespace

int RunEvidenceCommand(const Args& args) {
  const std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (sub == "attach") return Attach(args);
  if (sub == "export") return Export(args);
  return -1;  // not ours
}

}  // namespace colend::cli
