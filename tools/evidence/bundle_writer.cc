#include "tools/evidence/bundle_writer.h"

#include <map>

#include "consensus/block.h"
#include "contracts/executor.h"
#include "contracts/tx.h"
#include "crypto/hash.h"
#include "tools/evidence/case_report.h"

namespace colend::evidence {
namespace {

using json = nlohmann::json;
using Files = std::map<std::string, std::string>;

constexpr std::string_view kReadme =
    "This ZIP is an evidence bundle of the colend co-lending ledger (colend-evidence-bundle/v1).\n"
    "It holds every signed record of one loan, the blocks that commit them with the endorsement\n"
    "signatures of the consortium's members, and the proofs that tie them to the newest block\n"
    "(the anchor) and to the chain's record count for the loan.\n\n"
    "Verify it before relying on it, with the SHA-256 fingerprint of the consortium root CA taken\n"
    "from the loan contract's annex (never from this bundle):\n"
    "  unzip BUNDLE.zip -d case && cd case && bash tools/verify.sh --root-sha256 FINGERPRINT\n"
    "or: colend-verify BUNDLE.zip --root-sha256 FINGERPRINT\n"
    "VERIFY.md explains every step. report/case.html is a rendering for reading, not evidence.\n";

std::string Value(std::string_view text, std::string_view key) {
  const std::string prefix = "\n" + std::string(key) + ": ";
  std::size_t at = text.find(prefix);
  if (at == std::string_view::npos) return "";
  at += prefix.size();
  return std::string(text.substr(at, text.find('\n', at) - at));
}

std::int64_t Number(const std::string& s) {
  std::int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

// The report's data, read back from the bundle's own files (so it renders what is shipped).
CaseData ReadCase(const Files& files) {
  const std::string& bundle = files.at("bundle.txt");
  CaseData data;
  data.chain_id = Value(bundle, "chain-id");
  data.loan_id = Value(bundle, "loan");
  data.exported_by = Value(bundle, "exported-by");
  data.exported_at_ms = Number(Value(bundle, "exported-at-ms"));
  data.anchor_height = static_cast<std::uint64_t>(Number(Value(bundle, "anchor-height")));
  std::map<std::uint64_t, std::int64_t> block_times;
  std::uint64_t last_epoch = 0;
  for (const auto& [path, bytes] : files) {
    if (!path.starts_with("blocks/") || !path.ends_with("/header.txt")) continue;
    auto header = consensus::BlockHeader::ParseText(bytes);
    if (!header.ok()) continue;
    block_times[header->height] = header->timestamp_ms;
    if (header->height == data.anchor_height) {
      data.anchor_time_ms = header->timestamp_ms;
      data.anchor_hash = crypto::ToHex(consensus::BlockHash(bytes));
      last_epoch = header->membership_epoch;
    }
  }
  char epoch_name[64];
  std::snprintf(epoch_name, sizeof epoch_name, "consortium/epoch-%06llu.json",
                static_cast<unsigned long long>(last_epoch));
  if (auto doc = files.find(epoch_name); doc != files.end()) {
    auto members = json::parse(doc->second, nullptr, false);
    if (members.is_object() && members.contains("members") && members["members"].is_array()) {
      for (const auto& m : members["members"]) {
        data.members.push_back({m.value("id", ""), m.value("name", ""), m.value("role", "")});
      }
    }
  }
  if (auto loan = files.find("state/loan.json"); loan != files.end()) {
    data.loan = json::parse(loan->second, nullptr, false);
    if (data.loan.is_discarded()) data.loan = json::object();
  }
  std::map<std::string, std::vector<json>> events_by_tx;
  for (const auto& [path, bytes] : files) {
    if (!path.starts_with("state/events/") || !path.ends_with(".json")) continue;
    auto event = json::parse(bytes, nullptr, false);
    if (event.is_object() && event.contains("tx") && event["tx"].is_string()) {
      events_by_tx[event["tx"].get<std::string>()].push_back(event);
    }
  }
  for (std::uint64_t seq = 1;; ++seq) {
    char dir[32];
    std::snprintf(dir, sizeof dir, "records/%06llu", static_cast<unsigned long long>(seq));
    auto tx_file = files.find(std::string(dir) + "/tx.txt");
    auto receipt_file = files.find(std::string(dir) + "/receipt.txt");
    if (tx_file == files.end() || receipt_file == files.end()) break;
    auto body = contracts::TxBody::ParseText(tx_file->second);
    auto receipt = contracts::Receipt::ParseText(receipt_file->second);
    if (!body.ok() || !receipt.ok()) continue;
    CaseRecord r;
    r.seq = seq;
    r.dir = dir;
    r.type = body->type;
    r.sender = body->sender;
    r.tx_time_ms = body->timestamp_ms;
    r.height = receipt->height;
    r.block_time_ms = block_times.count(r.height) ? block_times[r.height] : 0;
    r.accepted = receipt->accepted;
    r.code = receipt->code;
    r.rule = receipt->rule;
    r.message = receipt->message;
    for (const auto& kv : body->fields) r.fields.push_back(kv);
    for (const auto& kv : receipt->outputs) r.outputs.push_back(kv);
    r.events = events_by_tx[crypto::ToHex(crypto::Sha256(tx_file->second))];
    if (r.type == "evidence.attach" && r.accepted) {
      CaseDocument d;
      d.sha256 = body->Field("document-sha256") ? *body->Field("document-sha256") : "";
      d.kind = body->Field("kind") ? *body->Field("kind") : "";
      d.bytes = static_cast<std::uint64_t>(
          Number(body->Field("document-bytes") ? *body->Field("document-bytes") : ""));
      d.record_seq = seq;
      d.present = files.count("documents/" + d.sha256) > 0;
      data.documents.push_back(d);
    }
    data.records.push_back(std::move(r));
  }
  return data;
}

}  // namespace

Result<AssembledBundle> AssembleBundle(const json& exported, const node::DocumentStore& documents) {
  auto bad = [](const std::string& what) { return MakeError("bad-export", what); };
  if (!exported.is_object() || !exported.contains("files") || !exported["files"].is_array()) {
    return bad("the node's answer has no files");
  }
  Files files;
  for (const auto& f : exported["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("hex") ||
        !f["hex"].is_string()) {
      return bad("a file entry is malformed");
    }
    auto bytes = crypto::FromHex(f["hex"].get<std::string>());
    if (!bytes.ok()) return bad("a file is not hex");
    const std::string path = f["path"].get<std::string>();
    COLEND_RETURN_IF_ERROR(CheckEntryName(path));
    if (!files.emplace(path, std::move(bytes).value()).second) return bad(path + " twice");
  }
  if (!files.count("bundle.txt")) return bad("no bundle.txt");
  AssembledBundle out;
  if (exported.contains("documents") && exported["documents"].is_array()) {
    for (const auto& d : exported["documents"]) {
      auto sha = crypto::Hash256FromHex(d.value("sha256", ""));
      if (!sha.ok()) return bad("a document hash is malformed");
      auto bytes = documents.Get(*sha);
      if (!bytes.ok()) {
        return MakeError("document-missing",
                         "document " + crypto::ToHex(*sha) + " of this loan is not held by this " +
                             "node yet (" + bytes.error().message +
                             "); nodes fetch attached documents from their peers: retry shortly");
      }
      files["documents/" + crypto::ToHex(*sha)] = std::move(bytes).value();
      ++out.documents;
    }
  }
  out.loan = Value(files["bundle.txt"], "loan");
  out.exported_at_ms = Number(Value(files["bundle.txt"], "exported-at-ms"));
  files["report/case.html"] = RenderCaseHtml(ReadCase(files));
  files["VERIFY.md"] = std::string(kVerifyGuide);
  files["tools/verify.sh"] = std::string(kVerifyScript);
  files["README.txt"] = std::string(kReadme);
  std::string manifest;
  files["mimetype"] = std::string(kBundleMimetype);
  for (const auto& [path, bytes] : files) {
    manifest += crypto::ToHex(crypto::Sha256(bytes)) + "  " + path + "\n";
  }
  files["MANIFEST.sha256"] = manifest;
  out.entries.push_back({"mimetype", files["mimetype"], /*store=*/true});
  for (auto& [path, bytes] : files) {
    if (path != "mimetype") out.entries.push_back({path, std::move(bytes), false});
  }
  out.records = exported.value("records", std::uint64_t{0});
  out.anchor_height = exported.value("anchor_height", std::uint64_t{0});
  return out;
}

}  // namespace colend::evidence
