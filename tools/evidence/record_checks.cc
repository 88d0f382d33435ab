// The record checks of the evidence bundle verifier (verifier.h): each record with its
// inclusion and receipt proofs, the set of blocks, the loan's records, its events and documents.

#include "tools/evidence/verifier.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/signature.h"
#include "crypto/x509.h"
#include "tools/evidence/bundle_text.h"

namespace colend::evidence::verifier {


void Verifier::CheckRecords() {
  std::uint64_t last_height = 0;
  for (std::uint64_t seq = 1;; ++seq) {
    const std::string dir = "records/" + Digits(seq, 6);
    if (!File(dir + "/tx.txt")) {
      // bundle.txt's count is a claim: stop at the first gap rather than walk up to it.
      if (seq <= records_) {
        Fail("record " + std::to_string(seq),
             dir + " is missing" + (seq < records_ ? " (and so are the records after it that bundle.txt's " +
                                                         std::to_string(records_) + " would need)"
                                                   : ""));
      }
      break;
    }
    if (seq > records_) {
      Fail("record " + std::to_string(seq), "bundle.txt claims only " + std::to_string(records_) + " records");
    }
    CheckRecord(seq, dir, &last_height);
  }
}

void Verifier::CheckRecord(std::uint64_t seq, const std::string& dir, std::uint64_t* last_height) {
  const std::string check = "record " + std::to_string(seq);
  const std::string* tx = File(dir + "/tx.txt");
  const std::string* sig = File(dir + "/tx.sig");
  const std::string* leaf = File(dir + "/leaf.txt");
  const std::string* receipt = File(dir + "/receipt.txt");
  const std::string* tx_proof = File(dir + "/tx-proof.txt");
  const std::string* receipt_proof = File(dir + "/receipt-proof.txt");
  if (!sig || !leaf || !receipt || !tx_proof || !receipt_proof) {
    Fail(check, dir + " lacks one of tx.sig, leaf.txt, tx-proof.txt, receipt.txt, receipt-proof.txt");
    return;
  }
  const std::string tx_id = crypto::ToHex(crypto::Sha256(*tx));
  tx_ids_.push_back(tx_id);
  const std::string expected_leaf = "colend-tx-leaf/v1\ntx-id: " + tx_id + "\nsig-sha256: " +
                                    crypto::ToHex(crypto::Sha256(*sig)) + "\n";
  if (*leaf != expected_leaf) {
    Fail(check, "leaf.txt is not the leaf of tx.txt (id " + tx_id + ") and tx.sig");
    return;
  }
  auto body = ParseLines(*tx, "colend-tx/v1");
  if (!body || body->items.size() < 5 || body->items[0].first != "chain-id" ||
      body->items[1].first != "sender" || body->items[2].first != "nonce" ||
      body->items[3].first != "timestamp-ms" || body->items[4].first != "type" ||
      body->items[0].second != chain_id_) {
    Fail(check, "tx.txt is not a transaction of chain " + chain_id_);
    return;
  }
  auto r = ParseLines(*receipt, "colend-receipt/v1");
  const std::uint64_t kNone = UINT64_MAX;
  const std::uint64_t block_height = r ? Decimal(r->Get("height")).value_or(kNone) : kNone;
  const std::uint64_t tx_index = r ? Decimal(r->Get("index")).value_or(kNone) : kNone;
  if (!r || r->Get("tx-id") != tx_id || block_height == kNone || tx_index == kNone ||
      r->Count("tx-id") != 1 || r->Count("height") != 1 || r->Count("index") != 1) {
    Fail(check, "receipt.txt is not the receipt of transaction " + tx_id);
    return;
  }
  const std::uint64_t* height = &block_height;
  const std::uint64_t* index = &tx_index;
  auto header = headers_.find(*height);
  if (header == headers_.end()) {
    Fail(check, "its block " + std::to_string(*height) + " is not a verified block of the bundle");
    return;
  }
  if (*height < *last_height) Fail(check, "records are not in chain order (height " + std::to_string(*height) + ")");
  record_heights_.insert(*height);
  *last_height = *height;
  const Epoch& epoch = EpochOf(*height);
  std::string why;
  auto key = MemberKey(epoch, body->items[1].second, header->second.time_ms, &why);
  if (!key) {
    Fail(check, "sender " + why);
    return;
  }
  Status signed_ok = key->Verify(*tx, *sig);
  if (!signed_ok.ok()) {
    Fail(check, "the signature of " + body->items[1].second + " does not verify over tx.txt (" +
                    signed_ok.error().code + ")");
    return;
  }
  auto proof = ParseInclusion(*tx_proof);
  if (!proof || proof->index != *index || proof->size != header->second.tx_count ||
      !crypto::VerifyMerkleInclusion(crypto::MerkleLeafHash(*leaf), *index, header->second.tx_count,
                                     proof->path, header->second.tx_root)) {
    Fail(check, "tx-proof does not place the leaf at index " + std::to_string(*index) +
                    " of block " + std::to_string(*height) + "'s tx-root");
    return;
  }
  auto time = Decimal(body->items[3].second);
  const std::int64_t block_ms = header->second.time_ms;
  if (!time || static_cast<std::int64_t>(*time) < block_ms - tx_window_ms_ ||
      static_cast<std::int64_t>(*time) > block_ms + tx_window_ms_) {
    Fail(check, "transaction time " + body->items[3].second + " is outside ±" +
                    std::to_string(tx_window_ms_) + " ms of block " + std::to_string(*height) +
                    "'s time " + std::to_string(block_ms));
    return;
  }
  if (!StateProven("tx/" + tx_id, *receipt, *receipt_proof)) {
    Fail(check, "receipt-proof does not prove receipt.txt at key tx/" + tx_id + " under the anchor's state-root");
    return;
  }
  if (body->items[4].second == "evidence.attach" && r->Get("status") == "accepted") {
    attached_.insert(body->Get("document-sha256"));
  }
  Pass(check, body->items[4].second + " by " + body->items[1].second + " (" + r->Get("status") +
                  "), block " + std::to_string(*height) + " index " + std::to_string(*index));
}

bool Verifier::StateProven(const std::string& key, const std::string& value, const std::string& proof) const {
  auto anchor = headers_.find(anchor_);
  if (anchor == headers_.end()) return false;
  auto root = StateRootOf(proof, key, value);
  return root && *root == anchor->second.state_root;
}

// A bundle ships the blocks that hold the loan's records, the last block of each epoch before the
// anchor's (CheckEpochProofs) and the anchor, nothing else.
void Verifier::CheckBlockSet() {
  std::set<std::uint64_t> epoch_blocks;
  for (const Epoch& epoch : epochs_) {
    if (epoch.number > 0) epoch_blocks.insert(epoch.start_height - 1);
  }
  for (const auto& [h, header] : headers_) {
    if (h != anchor_ && !record_heights_.count(h) && !epoch_blocks.count(h)) {
      Fail("block " + std::to_string(h), "holds no record of loan " + loan_ +
                                             " and ends no epoch (a bundle ships only the record "
                                             "blocks, each epoch's last block and the anchor)");
    }
  }
}

void Verifier::CheckLoanRecords() {
  const std::string* text = File("state/loan-records.txt");
  const std::string* proof = File("state/loan-records-proof.txt");
  const std::string* loan = File("state/loan.json");
  const std::string* loan_proof = File("state/loan-proof.txt");
  if (!text || !proof || !StateProven("loan-records/" + loan_, *text, *proof)) {
    Fail("loan-records", "state/loan-records.txt is not proven at key loan-records/" + loan_ + " under the anchor");
    return;
  }
  if (!loan || !loan_proof || !StateProven("loan/" + loan_, *loan, *loan_proof)) {
    Fail("loan-records", "state/loan.json is not proven at key loan/" + loan_ + " under the anchor");
    return;
  }
  auto lines = ParseLines(*text, "colend-loan-records/v1");
  const std::uint64_t count_value =
      lines ? Decimal(lines->Get("count")).value_or(UINT64_MAX) : UINT64_MAX;
  const std::uint64_t events_value =
      lines ? Decimal(lines->Get("events")).value_or(UINT64_MAX) : UINT64_MAX;
  if (!lines || !HasExactKeys(*lines, {"loan", "count", "events", "head"}) ||
      lines->Get("loan") != loan_ || count_value == UINT64_MAX || events_value == UINT64_MAX) {
    Fail("loan-records", "state/loan-records.txt is malformed");
    return;
  }
  const std::uint64_t* count = &count_value;
  events_committed_ = events_value;
  if (*count != records_ || *count != tx_ids_.size()) {
    Fail("loan-records", "the chain holds " + std::to_string(*count) + " records of loan " + loan_ +
                             "; the bundle claims " + std::to_string(records_) + " and ships " +
                             std::to_string(tx_ids_.size()));
    return;
  }
  std::string head(64, '0');
  for (std::size_t k = 0; k < tx_ids_.size(); ++k) {
    head = crypto::ToHex(crypto::Sha256("colend-loan-record/v1\nprev: " + head + "\nseq: " +
                                        std::to_string(k + 1) + "\ntx-id: " + tx_ids_[k] + "\n"));
  }
  if (head != lines->Get("head")) {
    Fail("loan-records", "the records' chain head " + head + " is not the committed head " +
                             lines->Get("head") + ": a record was dropped, added, replaced or reordered");
    return;
  }
  Pass("loan-records", "the chain state at the anchor holds exactly these " + std::to_string(*count) +
                           " records of loan " + loan_ + " in this order (head " + head.substr(0, 16) + "...)");
}

void Verifier::CheckEvents() {
  std::set<std::string> ids(tx_ids_.begin(), tx_ids_.end());
  std::size_t events = 0, failed = 0;
  for (const auto& [name, bytes] : files_) {
    if (!name.starts_with("state/events/") || !name.ends_with(".json")) continue;
    ++events;
    const std::string seq = name.substr(13, 12);
    const std::string* proof = File("state/events/" + seq + "-proof.txt");
    auto event = json::parse(bytes, nullptr, false);
    if (!proof || !StateProven("loan-event/" + loan_ + "/" + seq, bytes, *proof)) {
      ++failed;
      Fail("event " + seq, "not proven at key loan-event/" + loan_ + "/" + seq + " under the anchor");
    } else if (!event.is_object() || !event.contains("tx") || !event["tx"].is_string() ||
               !ids.count(event["tx"].get<std::string>())) {
      ++failed;
      Fail("event " + seq, "does not name a transaction among the bundle's records");
    }
  }
  if (events != events_committed_) {
    ++failed;
    Fail("events", "the chain holds " + std::to_string(events_committed_) + " events of loan " + loan_ +
                       "; the bundle ships " + std::to_string(events));
  }
  if (failed == 0) Pass("events", std::to_string(events) + " events of the loan (all of them), each proven and produced by one of its records");
}

void Verifier::CheckDocuments() {
  std::size_t failed = 0, present = 0;
  for (const auto& [name, bytes] : files_) {
    if (!name.starts_with("documents/")) continue;
    const std::string sha = name.substr(10);
    ++present;
    if (crypto::ToHex(crypto::Sha256(bytes)) != sha) {
      ++failed;
      Fail("document " + sha.substr(0, 16), name + " does not hash to its name: the document was changed");
    } else if (!attached_.count(sha)) {
      ++failed;
      Fail("document " + sha.substr(0, 16), name + " is not attached to the loan by an accepted record");
    }
  }
  for (const auto& sha : attached_) {
    if (!File("documents/" + sha)) {
      ++failed;
      Fail("document " + sha.substr(0, 16), "attached by a record but missing from documents/");
    }
  }
  if (failed == 0) Pass("documents", std::to_string(present) + " documents, each hashing to a value committed by the loan's records");
}

}  // namespace colend::evidence::verifier
