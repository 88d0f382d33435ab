// The chain checks of the evidence bundle verifier (verifier.h): the ZIP layout, the bundle
// file, trust, membership epochs, blocks and their commit certificates; Printable and the entry.
#include "tools/evidence/bundle_verifier.h"

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
#include "tools/evidence/verifier.h"

namespace colend::evidence::verifier {
namespace {

// doc[key] when it is a string, else "" (a number or an object where text belongs is then
// refused as the wrong value, never an exception).
std::string Text(const json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<CheckLine> Verifier::Run() {
  CheckZip();
  if (!LoadBundle()) return lines_;
  if (!CheckTrust()) return lines_;
  if (!CheckMembership()) return lines_;
  CheckBlocks();
  if (!CheckEpochProofs()) return lines_;
  CheckRecords();
  CheckBlockSet();
  CheckLoanRecords();
  CheckEvents();
  CheckDocuments();
  return lines_;
}

void Verifier::Pass(std::string check, std::string detail) { lines_.push_back({true, Printable(check), Printable(detail)}); }

bool Verifier::Fail(std::string check, std::string detail) {
  lines_.push_back({false, Printable(check), Printable(detail)});
  return false;
}

const std::string* Verifier::File(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

void Verifier::CheckZip() {
  static const std::regex kLayout(
      "mimetype|README\\.txt|VERIFY\\.md|MANIFEST\\.sha256|bundle\\.txt|trust/ca\\.pem|"
      "consortium/epoch-[0-9]{6}(\\.json|-proof\\.txt)|"
      "consortium/epoch-[0-9]{6}/(members\\.txt|[a-z0-9-]{1,64}\\.pem)|"
      "blocks/[0-9]{12}/(header\\.txt|round\\.txt|ledger-proof\\.txt|endorsements/[a-z0-9-]{1,64}\\.der)|"
      "records/[0-9]{6}/(tx\\.txt|tx\\.sig|leaf\\.txt|tx-proof\\.txt|receipt\\.txt|receipt-proof\\.txt)|"
      "state/(loan-records\\.txt|loan-records-proof\\.txt|loan\\.json|loan-proof\\.txt)|"
      "state/events/[0-9]{12}(\\.json|-proof\\.txt)|documents/[0-9a-f]{64}|report/case\\.html|"
      "tools/verify\\.sh");
  std::size_t outside = 0;
  for (const auto& [name, bytes] : files_) {
    if (!std::regex_match(name, kLayout)) {
      Fail("zip", "entry '" + name + "' is not part of the bundle layout");
      ++outside;
    }
  }
  if (first_entry_ != "mimetype" || !File("mimetype") ||
      *File("mimetype") != "application/vnd.etsi.asic-e+zip") {
    Fail("zip", "the first entry must be mimetype with application/vnd.etsi.asic-e+zip");
    ++outside;
  }
  if (outside == 0) Pass("zip", std::to_string(files_.size()) + " entries, all within the layout");
}

bool Verifier::LoadBundle() {
  const std::string* text = File("bundle.txt");
  auto lines = text ? ParseLines(*text, "colend-evidence-bundle/v1") : std::nullopt;
  if (!lines || !HasExactKeys(*lines, {"chain-id", "suite", "loan", "records", "anchor-height",
                                       "exported-by", "exported-at-ms"})) {
    return Fail("bundle", "bundle.txt is missing or malformed");
  }
  chain_id_ = lines->Get("chain-id");
  loan_ = lines->Get("loan");
  auto records = Decimal(lines->Get("records"));
  auto anchor = Decimal(lines->Get("anchor-height"));
  auto suite = crypto::ParseSuite(lines->Get("suite"));
  if (!records || !anchor || !suite.ok() || loan_.empty()) {
    return Fail("bundle", "bundle.txt has a malformed records, anchor-height, suite or loan");
  }
  records_ = *records;
  anchor_ = *anchor;
  suite_ = *suite;
  Pass("bundle", "loan " + loan_ + ", " + std::to_string(records_) + " records, anchor height " +
                     std::to_string(anchor_) + " (claims, checked below)");
  return true;
}

bool Verifier::CheckTrust() {
  const std::string* pem = File("trust/ca.pem");
  auto ca = pem ? crypto::Certificate::FromPem(*pem) : Result<crypto::Certificate>(MakeError("", ""));
  if (!ca.ok()) return Fail("trust", "trust/ca.pem is missing or not a certificate");
  const std::string fp = crypto::ToHex(ca->Fingerprint());
  if (fp != NormaliseFingerprint(root_)) {
    return Fail("trust", "trust/ca.pem has SHA-256 fingerprint " + fp +
                             ", not the trusted " + NormaliseFingerprint(root_));
  }
  ca_ = *ca;
  Pass("trust", "consortium root CA " + ca_.CommonName() + " has the trusted fingerprint " + fp);
  return true;
}

bool Verifier::CheckMembership() {
  Hash256 previous{};
  for (std::uint64_t e = 0;; ++e) {
    const std::string path = "consortium/epoch-" + Digits(e, 6);
    const std::string* text = File(path + ".json");
    if (!text) {
      if (e == 0) return Fail("membership", "consortium/epoch-000000.json (the genesis file) is missing");
      break;
    }
    auto doc = json::parse(*text, nullptr, false);
    const std::string check = "membership epoch " + std::to_string(e);
    if (!doc.is_object() || !doc.contains("members") || !doc["members"].is_array() ||
        !doc.contains("quorum") || !doc["quorum"].is_string() || Text(doc, "chain_id") != chain_id_) {
      return Fail(check, "the document is not a membership of chain " + chain_id_);
    }
    Epoch epoch;
    epoch.number = e;
    epoch.sha256 = crypto::Sha256(*text);
    if (e == 0 && !genesis_.empty() && crypto::ToHex(epoch.sha256) != genesis_) {
      return Fail(check, "the genesis file has SHA-256 " + crypto::ToHex(epoch.sha256) +
                             ", not the pinned genesis " + genesis_);
    }
    if (e == 0) {
      if (Text(doc, "ca_certificate") != *File("trust/ca.pem")) {
        return Fail(check, "the genesis file's ca_certificate is not trust/ca.pem");
      }
      if (Text(doc, "suite") != crypto::SuiteName(suite_)) {
        return Fail(check, "the genesis file's suite is not bundle.txt's " + std::string(crypto::SuiteName(suite_)));
      }
      if (!doc.contains("consensus") || !doc["consensus"].is_object() ||
          !doc["consensus"].contains("tx_time_window_ms") ||
          !doc["consensus"]["tx_time_window_ms"].is_number_unsigned()) {
        return Fail(check, "the genesis file has no consensus.tx_time_window_ms");
      }
      // The bounds a node accepts (genesis.cc: 1 s to 1 day); a larger value would overflow
      // the time-window arithmetic below.
      if (doc["consensus"]["tx_time_window_ms"].get<std::uint64_t>() < 1000 ||
          doc["consensus"]["tx_time_window_ms"].get<std::uint64_t>() > 86400000) {
        return Fail(check, "the genesis file's consensus.tx_time_window_ms is outside 1000..86400000");
      }
      tx_window_ms_ = doc["consensus"]["tx_time_window_ms"].get<std::int64_t>();
    } else {
      if (Text(doc, "format") != "colend-membership/v1" || !doc.contains("epoch") ||
          !doc["epoch"].is_number_unsigned() || doc["epoch"].get<std::uint64_t>() != e ||
          !doc.contains("start_height") || !doc["start_height"].is_number_unsigned() ||
          Text(doc, "previous_sha256") != crypto::ToHex(previous)) {
        return Fail(check, "format, epoch number or previous_sha256 (expected " +
                               crypto::ToHex(previous) + ") is wrong");
      }
      epoch.start_height = doc["start_height"].get<std::uint64_t>();
      if (epoch.start_height < 2 || epoch.start_height <= epochs_.back().start_height) {
        return Fail(check, "start_height does not increase over the previous epoch's");
      }
    }
    const std::string rule = doc["quorum"].get<std::string>();
    const std::size_t n = doc["members"].size();
    if (rule == "majority") {
      epoch.quorum = n / 2 + 1;
    } else if (rule == "two-thirds") {
      epoch.quorum = 2 * n / 3 + 1;
    } else {
      return Fail(check, "unknown quorum rule '" + rule + "'");
    }
    std::string listed;
    for (const auto& m : doc["members"]) {
      if (!m.is_object() || !m.contains("id") || !m["id"].is_string() ||
          !m.contains("signing_certificate") || !m["signing_certificate"].is_string()) {
        return Fail(check, "a member entry is malformed");
      }
      const std::string id = m["id"].get<std::string>();
      auto cert = crypto::Certificate::FromPem(m["signing_certificate"].get<std::string>());
      if (!cert.ok() || !epoch.members.emplace(id, *cert).second) {
        return Fail(check, "member " + id + " has an unreadable certificate or appears twice");
      }
      const std::string* pem = File(path + "/" + id + ".pem");
      if (!pem || *pem != m["signing_certificate"].get<std::string>()) {
        return Fail(check, path + "/" + id + ".pem is not member " + id + "'s signing certificate");
      }
    }
    for (const auto& [id, cert] : epoch.members) listed += id + "\n";
    const std::string* members_txt = File(path + "/members.txt");
    if (!members_txt || *members_txt != listed) {
      return Fail(check, path + "/members.txt does not list exactly the document's members");
    }
    for (const auto& [name, bytes] : files_) {
      if (name.starts_with(path + "/") && name.ends_with(".pem") &&
          !epoch.members.count(name.substr(path.size() + 1, name.size() - path.size() - 5))) {
        return Fail(check, name + " is not a member of the epoch");
      }
    }
    Pass(check, std::to_string(n) + " members, quorum " + std::to_string(epoch.quorum) + " (" +
                    rule + "), from height " + std::to_string(epoch.start_height) + ", sha256 " +
                    crypto::ToHex(epoch.sha256));
    previous = epoch.sha256;
    epochs_.push_back(std::move(epoch));
  }
  return true;
}

// docs/evidence-bundle.md §6 step 3. A document of epoch e >= 1 is evidence only once a block
// certified by epoch e - 1 holds it: block start_height - 1, the last of epoch e - 1, whose state
// root (under that epoch's quorum, checked by CheckBlock) must lead to the document's exact bytes
// at membership/epoch/<e, 20 digits>. By induction from the pinned genesis file, every epoch's
// members are then those the chain adopted, not whatever the bundle's author wrote.
bool Verifier::CheckEpochProofs() {
  bool all = true;
  for (const Epoch& epoch : epochs_) {
    if (epoch.number == 0) continue;
    const std::string check = "membership epoch " + std::to_string(epoch.number) + " adopted";
    const std::string path = "consortium/epoch-" + Digits(epoch.number, 6);
    const std::uint64_t block = epoch.start_height - 1;
    auto header = headers_.find(block);
    const std::string* proof = File(path + "-proof.txt");
    if (header == headers_.end()) {
      all = Fail(check, "block " + std::to_string(block) + " (the last of epoch " +
                            std::to_string(epoch.number - 1) +
                            ", which must hold this document) is not a verified block of the bundle");
      continue;
    }
    auto root = proof ? StateRootOf(*proof, "membership/epoch/" + Digits(epoch.number, 20), *File(path + ".json"))
                      : std::nullopt;
    if (!root || *root != header->second.state_root) {
      all = Fail(check, path + "-proof.txt does not prove " + path + ".json at membership/epoch/" +
                            Digits(epoch.number, 20) + " under block " + std::to_string(block) +
                            "'s state-root");
      continue;
    }
    Pass(check, "its document is in the state of block " + std::to_string(block) +
                    ", endorsed by a quorum of epoch " + std::to_string(epoch.number - 1));
  }
  return all;
}

const Epoch& Verifier::EpochOf(std::uint64_t height) const {
  const Epoch* found = &epochs_.front();
  for (const Epoch& e : epochs_) {
    if (e.number == 0 || e.start_height <= height) found = &e;
  }
  return *found;
}

// A member's signing certificate in `epoch`, issued by the CA and valid at `time_ms`.
std::optional<crypto::PublicKey> Verifier::MemberKey(const Epoch& epoch, const std::string& id,
                                           std::int64_t time_ms, std::string* why) const {
  auto it = epoch.members.find(id);
  if (it == epoch.members.end()) {
    *why = id + " is not a member of epoch " + std::to_string(epoch.number);
    return std::nullopt;
  }
  Status issued = it->second.VerifyIssuedBy(ca_, time_ms / 1000);
  if (!issued.ok()) {
    *why = id + "'s certificate is not valid at the block time: " + issued.error().code;
    return std::nullopt;
  }
  auto key = it->second.SubjectKey(suite_);
  if (!key.ok()) {
    *why = id + "'s certificate does not carry a key of suite " + std::string(crypto::SuiteName(suite_));
    return std::nullopt;
  }
  return *key;
}

void Verifier::CheckBlocks() {
  std::set<std::uint64_t> heights;
  for (const auto& [name, bytes] : files_) {
    if (!name.starts_with("blocks/") || name.size() < 20) continue;
    std::uint64_t h = 0;
    const char* digits = name.data() + 7;
    auto [p, ec] = std::from_chars(digits, digits + 12, h);
    if (ec == std::errc() && p == digits + 12) heights.insert(h);
  }
  if (heights.empty() || *heights.rbegin() != anchor_) {
    Fail("anchor", "the newest block in the bundle is not bundle.txt's anchor height " + std::to_string(anchor_));
    return;
  }
  // Epochs 0 to the anchor's, no later one (docs/evidence-bundle.md §2): a document that governs
  // no block of the bundle is not evidence of anything.
  if (epochs_.back().number > 0 && epochs_.back().start_height > anchor_) {
    Fail("membership epoch " + std::to_string(epochs_.back().number),
         "starts at height " + std::to_string(epochs_.back().start_height) + ", after the anchor " +
             std::to_string(anchor_) + ": a bundle ships the epochs up to the anchor's only");
  }
  // The anchor first: every other block is proven into its ledger root.
  std::vector<std::uint64_t> order(heights.rbegin(), heights.rend());
  std::int64_t later_time = INT64_MAX;
  for (std::uint64_t h : order) {
    CheckBlock(h);
    auto it = headers_.find(h);
    if (it == headers_.end()) continue;
    if (it->second.time_ms >= later_time) {
      Fail("block " + std::to_string(h), "timestamp does not increase with height");
    }
    later_time = it->second.time_ms;
  }
}

void Verifier::CheckBlock(std::uint64_t h) {
  const std::string check = "block " + std::to_string(h);
  const std::string dir = "blocks/" + Digits(h, 12);
  const std::string* text = File(dir + "/header.txt");
  auto header = text ? ParseHeader(*text) : std::nullopt;
  if (!header || header->height != h || header->chain_id != chain_id_) {
    Fail(check, dir + "/header.txt is missing, malformed, or not height " + std::to_string(h) +
                    " of chain " + chain_id_);
    return;
  }
  const Epoch& epoch = EpochOf(h);
  if (header->epoch != epoch.number || header->membership_sha256 != epoch.sha256) {
    Fail(check, "names membership epoch " + std::to_string(header->epoch) +
                    "; height " + std::to_string(h) + " belongs to epoch " +
                    std::to_string(epoch.number) + " (document sha256 " + crypto::ToHex(epoch.sha256) + ")");
    return;
  }
  const std::string* round_text = File(dir + "/round.txt");
  auto round = round_text && !round_text->empty() && round_text->back() == '\n'
                   ? Decimal(std::string_view(*round_text).substr(0, round_text->size() - 1))
                   : std::nullopt;
  if (!round || *round > UINT32_MAX) {
    Fail(check, dir + "/round.txt is missing or malformed");
    return;
  }
  const std::string vote = "colend-vote/v1\nchain-id: " + chain_id_ + "\nepoch: " +
                           std::to_string(epoch.number) + "\nheight: " + std::to_string(h) +
                           "\nround: " + std::to_string(*round) +
                           "\nphase: precommit\nblock-hash: " + crypto::ToHex(header->hash) + "\n";
  std::size_t valid = 0;
  std::set<std::string> distinct_keys;
  const std::string prefix = dir + "/endorsements/";
  for (const auto& [name, sig] : files_) {
    if (!name.starts_with(prefix)) continue;
    const std::string member = name.substr(prefix.size(), name.size() - prefix.size() - 4);
    std::string why;
    auto key = MemberKey(epoch, member, header->time_ms, &why);
    if (!key) {
      Fail(check, "endorsement by " + why);
      continue;
    }
    Status ok = key->Verify(vote, sig);
    if (!ok.ok()) {
      Fail(check, "endorsement of " + member + " does not verify over the precommit of this header (" +
                      ok.error().code + ")");
      continue;
    }
    if (distinct_keys.insert(key->ToDer()).second) ++valid;
  }
  if (valid < epoch.quorum) {
    Fail(check, std::to_string(valid) + " valid endorsements of distinct members; epoch " +
                    std::to_string(epoch.number) + " needs " + std::to_string(epoch.quorum));
    return;
  }
  if (h < anchor_) {
    if (!headers_.count(anchor_)) {
      Fail(check, "cannot be linked: the anchor block did not verify");
      return;
    }
    const Header& anchor = headers_.at(anchor_);
    const std::string* proof_text = File(dir + "/ledger-proof.txt");
    auto proof = proof_text ? ParseInclusion(*proof_text) : std::nullopt;
    if (!proof || proof->index != h || proof->size != anchor.ledger_size ||
        !crypto::VerifyMerkleInclusion(crypto::MerkleLeafHash(*text), h, anchor.ledger_size,
                                       proof->path, anchor.ledger_root)) {
      Fail(check, "ledger proof does not place this header at index " + std::to_string(h) +
                      " under the anchor's ledger-root (size " + std::to_string(anchor.ledger_size) + ")");
      return;
    }
  }
  Pass(check, "hash " + crypto::ToHex(header->hash).substr(0, 16) + "..., " + std::to_string(valid) +
                  " of quorum " + std::to_string(epoch.quorum) + " endorsements (epoch " +
                  std::to_string(epoch.number) + ")" + (h < anchor_ ? ", in the anchor's history" : ", the anchor"));
  headers_.emplace(h, std::move(*header));
}

}  // namespace colend::evidence::verifier

namespace colend::evidence {

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80) {
      out += c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c);
      ++i;
      continue;
    }
    // Unicode table 3-7: the lead byte fixes the length and the range of the second byte (no
    // overlong forms, no surrogates, nothing above U+10FFFF); C2 80..C2 9F are C1 controls.
    std::size_t n = 0;
    unsigned char low = 0x80, high = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      if (c == 0xc2) low = 0xa0;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) low = 0xa0;
      if (c == 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    }
    bool ok = n != 0 && text.size() - i >= n && byte(i + 1) >= low && byte(i + 1) <= high;
    for (std::size_t k = 2; ok && k < n; ++k) ok = byte(i + k) >= 0x80 && byte(i + k) <= 0xbf;
    if (ok) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::vector<CheckLine> VerifyBundle(const verifier::Files& files, const std::string& first_entry,
                                    const std::string& root_sha256,
                                    const std::string& genesis_sha256) {
  return verifier::Verifier(files, first_entry, root_sha256, genesis_sha256).Run();
}

}  // namespace colend::evidence
