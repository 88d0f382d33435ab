#include "node/evidence_export.h"

#include <cstdio>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "contracts/system/loan_records.h"
#include "contracts/system/membership.h"
#include "contracts/tx.h"
#include "crypto/merkle.h"
#include "genesis/genesis.h"

namespace colend::node {
namespace {

std::string Digits(std::uint64_t n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(n));
  return buf;
}

std::string BlockDir(std::uint64_t height) { return "blocks/" + Digits(height, 12); }
std::string RecordDir(std::uint64_t seq) { return "records/" + Digits(seq, 6); }

std::string InclusionText(std::uint64_t index, std::uint64_t size,
                          const std::vector<crypto::Hash256>& path) {
  std::string out = "colend-inclusion-proof/v1\nindex: " + std::to_string(index) +
                    "\nsize: " + std::to_string(size) + "\n";
  for (const auto& h : path) out += "path: " + crypto::ToHex(h) + "\n";
  return out;
}

Error Corrupt(std::string what) { return MakeError("corrupt-store", std::move(what)); }

class Exporter {
 public:
  Exporter(const Ledger& ledger, LoanEvidence* out) : ledger_(ledger), out_(out) {}

  void Add(std::string path, std::string bytes) {
    out_->files.push_back({std::move(path), std::move(bytes)});
  }

  // A state value and its proof at the anchor (the ledger's current state = the tip's root).
  Status AddStateValue(const std::string& key, const std::string& value_path,
                       const std::string& proof_path) {
    auto value = ledger_.state().Get(key);
    auto proof = ledger_.state().Prove(key);
    if (!value || !proof) return Corrupt("state key " + key + " is missing");
    Add(value_path, *value);
    Add(proof_path, proof->ToText());
    return Status::Ok();
  }

  Result<const proto::StoredBlock*> Block(std::uint64_t height) {
    auto it = blocks_.find(height);
    if (it == blocks_.end()) {
      auto stored = ledger_.store()->GetBlock(height);
      if (!stored.ok()) return stored.error();
      it = blocks_.emplace(height, std::move(stored).value()).first;
    }
    return &it->second;
  }

  Status AddRecord(std::uint64_t seq, const std::string& tx_id_hex) {
    auto id = crypto::Hash256FromHex(tx_id_hex);
    if (!id.ok()) return Corrupt("record " + std::to_string(seq) + " names no transaction id");
    auto location = ledger_.store()->FindTx(*id);
    if (!location) return Corrupt("transaction " + tx_id_hex + " is not indexed");
    auto block = Block(location->height);
    if (!block.ok()) return block.error();
    const auto& txs = (*block)->block().txs();
    if (location->index >= static_cast<std::uint32_t>(txs.size())) {
      return Corrupt("transaction " + tx_id_hex + " index is outside its block");
    }
    std::vector<crypto::Hash256> leaves;
    std::string tx_text, tx_sig, leaf_text;
    for (int i = 0; i < txs.size(); ++i) {
      auto tx = contracts::DecodeTx(txs[i]);
      if (!tx.ok()) return Corrupt("block " + std::to_string(location->height) + " holds an unreadable transaction");
      leaves.push_back(crypto::MerkleLeafHash(tx->LeafText()));
      if (static_cast<std::uint32_t>(i) == location->index) {
        if (tx->id != *id) return Corrupt("transaction index of " + tx_id_hex + " is wrong");
        tx_text = tx->body_text;
        tx_sig = tx->signature;
        leaf_text = tx->LeafText();
        if (tx->body.type == "evidence.attach") attach_record_ = true;
      }
    }
    const std::string dir = RecordDir(seq);
    Add(dir + "/tx.txt", tx_text);
    Add(dir + "/tx.sig", tx_sig);
    Add(dir + "/leaf.txt", leaf_text);
    Add(dir + "/tx-proof.txt",
        InclusionText(location->index, leaves.size(), crypto::MerkleInclusionProof(leaves, location->index)));
    COLEND_RETURN_IF_ERROR(AddStateValue(contracts::ReceiptKey(*id), dir + "/receipt.txt",
                                         dir + "/receipt-proof.txt"));
    heights_.insert(location->height);
    if (attach_record_) {
      attach_record_ = false;
      auto receipt = contracts::Receipt::ParseText(*ledger_.state().Get(contracts::ReceiptKey(*id)));
      auto body = contracts::TxBody::ParseText(tx_text);
      if (receipt.ok() && receipt->accepted && body.ok()) {
        if (const std::string* digest = body->Field("document-sha256")) {
          auto sha = crypto::Hash256FromHex(*digest);
          if (sha.ok()) out_->documents.push_back(*sha);
        }
      }
    }
    return Status::Ok();
  }

  Status AddBlocks(std::uint64_t anchor) {
    heights_.insert(anchor);
    auto subtree = [this](int level, std::uint64_t index) {
      return ledger_.store()->GetLedgerNode(level, index);
    };
    for (std::uint64_t h : heights_) {
      // Record blocks are read whole (for their tx-root proofs); the anchor only needs its header.
      auto cached = blocks_.find(h);
      auto header_only = cached == blocks_.end() ? ledger_.store()->GetBlockHeader(h)
                                                 : Result<proto::StoredBlock>(cached->second);
      if (!header_only.ok()) return header_only.error();
      const proto::StoredBlock& block = *header_only;
      const std::string dir = BlockDir(h);
      Add(dir + "/header.txt", block.block().header());
      const auto& cert = block.certificate();
      Add(dir + "/round.txt", std::to_string(cert.round()) + "\n");
      for (const auto& e : cert.endorsements()) {
        Add(dir + "/endorsements/" + e.member() + ".der", e.signature());
      }
      if (h < anchor) {
        auto path = crypto::MerkleInclusionProofFromSubtrees(subtree, h, anchor);
        if (!path.ok()) return Corrupt("ledger proof of block " + std::to_string(h) + ": " + path.error().message);
        Add(dir + "/ledger-proof.txt", InclusionText(h, anchor, *path));
      }
    }
    return Status::Ok();
  }

  // For each epoch e in 1..last, the proof that the last block of epoch e - 1 (start_height - 1,
  // certified by that epoch's quorum) holds e's document in its state: without it a bundle's
  // later epochs would rest on nothing but their own previous_sha256 (docs/evidence-bundle.md §6
  // step 3). That block joins the bundle's blocks. Before AddBlocks.
  Status AddEpochProofs(std::uint64_t last_epoch) {
    for (std::uint64_t e = 1; e <= last_epoch; ++e) {
      auto stored = ledger_.state().Get(contracts::MembershipEpochKey(e));
      auto doc = stored ? nlohmann::json::parse(*stored, nullptr, /*allow_exceptions=*/false)
                        : nlohmann::json();
      if (!doc.is_object() || !doc.contains("start_height") ||
          !doc["start_height"].is_number_unsigned() || doc["start_height"].get<std::uint64_t>() < 2) {
        return Corrupt("membership document of epoch " + std::to_string(e) + " is missing or has no start_height");
      }
      const std::uint64_t block = doc["start_height"].get<std::uint64_t>() - 1;
      auto proof = ledger_.store()->GetAux(EpochProofKey(e));
      if (!proof.ok()) return proof.error();
      if (!*proof) {
        return MakeError("epoch-proof-missing",
                         "this node holds no proof that block " + std::to_string(block) +
                             " holds the document of membership epoch " + std::to_string(e) +
                             " (a node makes it when it commits that block; one that crashed at that "
                             "moment, or whose data was restored from before it, lacks it): export "
                             "from another member");
      }
      heights_.insert(block);
      Add("consortium/epoch-" + Digits(e, 6) + "-proof.txt", **proof);
    }
    return Status::Ok();
  }

  // Documents of epochs 0..last with each member's signing certificate as the document has it.
  Status AddMembership(std::uint64_t last_epoch) {
    const genesis::Genesis& genesis = ledger_.genesis();
    for (std::uint64_t e = 0; e <= last_epoch; ++e) {
      std::string text = genesis.raw;
      if (e > 0) {
        auto stored = ledger_.state().Get(contracts::MembershipEpochKey(e));
        if (!stored) return Corrupt("membership document of epoch " + std::to_string(e) + " is missing");
        text = *stored;
      }
      auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded() || !doc.contains("members") || !doc["members"].is_array()) {
        return Corrupt("membership document of epoch " + std::to_string(e) + " is unreadable");
      }
      const std::string dir = "consortium/epoch-" + Digits(e, 6);
      Add(dir + ".json", text);
      std::set<std::string> ids;
      for (const auto& m : doc["members"]) {
        if (!m.is_object() || !m.contains("id") || !m["id"].is_string() ||
            !m.contains("signing_certificate") || !m["signing_certificate"].is_string()) {
          return Corrupt("a member of epoch " + std::to_string(e) + " is unreadable");
        }
        const std::string id = m["id"].get<std::string>();
        ids.insert(id);
        Add(dir + "/" + id + ".pem", m["signing_certificate"].get<std::string>());
      }
      std::string list;
      for (const auto& id : ids) list += id + "\n";
      Add(dir + "/members.txt", list);
      if (e == 0) {
        if (!doc.contains("ca_certificate") || !doc["ca_certificate"].is_string()) {
          return Corrupt("the genesis file has no CA certificate");
        }
        Add("trust/ca.pem", doc["ca_certificate"].get<std::string>());
      }
    }
    return Status::Ok();
  }

 private:
  const Ledger& ledger_;
  LoanEvidence* out_;
  std::map<std::uint64_t, proto::StoredBlock> blocks_;
  std::set<std::uint64_t> heights_;
  bool attach_record_ = false;
};

}  // namespace

Result<LoanEvidence> ExportLoanEvidence(const Ledger& ledger, const std::string& loan,
                                        const std::string& exported_by, std::int64_t now_ms) {
  const contracts::StateTree& state = ledger.state();
  auto records_text = state.Get(contracts::LoanRecordsKey(loan));
  if (!records_text) {
    return MakeError("loan-not-found", "the chain has no record of loan '" + loan + "'");
  }
  auto records = contracts::LoanRecords::Parse(*records_text);
  if (!records) return Corrupt("loan-records/" + loan + " is unreadable");
  if (records->count > kEvidenceRecordsMax) {
    return MakeError("too-many-records", "loan " + loan + " has " + std::to_string(records->count) +
                                             " records; an export holds at most " +
                                             std::to_string(kEvidenceRecordsMax));
  }
  LoanEvidence out;
  Exporter exporter(ledger, &out);
  const std::uint64_t anchor = ledger.height();
  for (std::uint64_t seq = 1; seq <= records->count; ++seq) {
    auto id = state.Get(contracts::LoanRecordKey(loan, seq));
    if (!id) return Corrupt("record " + std::to_string(seq) + " of loan " + loan + " is missing");
    COLEND_RETURN_IF_ERROR(exporter.AddRecord(seq, *id));
  }
  COLEND_RETURN_IF_ERROR(exporter.AddEpochProofs(ledger.last_header().membership_epoch));
  COLEND_RETURN_IF_ERROR(exporter.AddBlocks(anchor));
  COLEND_RETURN_IF_ERROR(exporter.AddStateValue(contracts::LoanRecordsKey(loan),
                                                "state/loan-records.txt",
                                                "state/loan-records-proof.txt"));
  COLEND_RETURN_IF_ERROR(
      exporter.AddStateValue("loan/" + loan, "state/loan.json", "state/loan-proof.txt"));
  // The loan's events: the chain's own decisions (reminders, penalties, reports...), each naming
  // the transaction that produced it.
  auto events = state.Scan("loan-event/" + loan + "/", kEvidenceRecordsMax + 1);
  if (events.size() > kEvidenceRecordsMax) {
    return MakeError("too-many-records", "loan " + loan + " has more than " +
                                             std::to_string(kEvidenceRecordsMax) + " events");
  }
  for (const auto& [key, value] : events) {
    const std::string seq = key.substr(key.rfind('/') + 1);
    COLEND_RETURN_IF_ERROR(exporter.AddStateValue(key, "state/events/" + seq + ".json",
                                                  "state/events/" + seq + "-proof.txt"));
  }
  COLEND_RETURN_IF_ERROR(exporter.AddMembership(ledger.last_header().membership_epoch));
  const genesis::Genesis& genesis = ledger.genesis();
  exporter.Add("bundle.txt", "colend-evidence-bundle/v1\nchain-id: " + genesis.chain_id +
                                 "\nsuite: " + std::string(crypto::SuiteName(genesis.suite)) +
                                 "\nloan: " + loan + "\nrecords: " + std::to_string(records->count) +
                                 "\nanchor-height: " + std::to_string(anchor) +
                                 "\nexported-by: " + exported_by +
                                 "\nexported-at-ms: " + std::to_string(now_ms) + "\n");
  std::uint64_t bytes = 0;
  for (const auto& f : out.files) bytes += f.bytes.size();
  if (bytes > kEvidenceExportBytesMax) {
    return MakeError("export-too-large", "the evidence of loan " + loan + " has " +
                                             std::to_string(bytes) + " bytes; an export holds at most " +
                                             std::to_string(kEvidenceExportBytesMax));
  }
  out.records = records->count;
  out.anchor_height = anchor;
  return out;
}

}  // namespace colend::node
