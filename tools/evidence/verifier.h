// The evidence bundle verifier's state and checks (docs/evidence.md): one Verifier runs the
// checks in order over the bundle's files. Private to colend_verifier: the chain checks (the ZIP
// layout, the bundle, trust, membership epochs, blocks and their certificates) are in
// bundle_verifier.cc, the record checks (records and their proofs, the block set, loan records,
// events, documents) in record_checks.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/hash.h"
#include "crypto/signature.h"
#include "crypto/x509.h"
#include "tools/evidence/bundle_text.h"
#include "tools/evidence/bundle_verifier.h"

namespace colend::evidence::verifier {

using Files = std::map<std::string, std::string>;
using crypto::Hash256;
using json = nlohmann::json;
using bundle_text::Decimal;
using bundle_text::Digits;
using bundle_text::HasExactKeys;
using bundle_text::Header;
using bundle_text::Hex32;
using bundle_text::Inclusion;
using bundle_text::Lines;
using bundle_text::NormaliseFingerprint;
using bundle_text::ParseHeader;
using bundle_text::ParseInclusion;
using bundle_text::ParseLines;
using bundle_text::StateRootOf;

struct Epoch {
  std::uint64_t number = 0;
  std::uint64_t start_height = 1;
  Hash256 sha256{};
  std::size_t quorum = 0;
  std::map<std::string, crypto::Certificate> members;  // id -> signing certificate
};

class Verifier {
 public:
  Verifier(const Files& files, std::string first_entry, std::string root, std::string genesis)
      : files_(files), first_entry_(std::move(first_entry)), root_(std::move(root)),
        genesis_(bundle_text::NormaliseFingerprint(std::move(genesis))) {}

  std::vector<CheckLine> Run();

 private:
  void Pass(std::string check, std::string detail);
  bool Fail(std::string check, std::string detail);
  const std::string* File(const std::string& path) const;
  void CheckZip();
  bool LoadBundle();
  bool CheckTrust();
  bool CheckMembership();
  const Epoch& EpochOf(std::uint64_t height) const;
  // A member's signing certificate in `epoch`, issued by the CA and valid at `time_ms`.
  std::optional<crypto::PublicKey> MemberKey(const Epoch& epoch, const std::string& id,
                                             std::int64_t time_ms, std::string* why) const;
  void CheckBlocks();
  void CheckBlock(std::uint64_t h);
  // Each epoch e >= 1 shown in the state of block start_height - 1, certified by epoch e - 1.
  bool CheckEpochProofs();
  void CheckRecords();
  void CheckRecord(std::uint64_t seq, const std::string& dir, std::uint64_t* last_height);
  bool StateProven(const std::string& key, const std::string& value, const std::string& proof) const;
  // A bundle ships the blocks that hold the loan's records and the anchor, nothing else.
  void CheckBlockSet();
  void CheckLoanRecords();
  void CheckEvents();
  void CheckDocuments();

  const Files& files_;
  std::string first_entry_;
  std::string root_;
  std::string genesis_;
  std::vector<CheckLine> lines_;
  std::string chain_id_, loan_;
  std::uint64_t records_ = 0, anchor_ = 0;
  crypto::Suite suite_ = crypto::Suite::kStd;
  crypto::Certificate ca_;
  std::int64_t tx_window_ms_ = 0;
  std::vector<Epoch> epochs_;
  std::map<std::uint64_t, Header> headers_;
  std::vector<std::string> tx_ids_;
  std::set<std::uint64_t> record_heights_;
  std::uint64_t events_committed_ = UINT64_MAX;
  std::set<std::string> attached_;
};

}  // namespace colend::evidence::verifier
