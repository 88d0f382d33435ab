// Membership epochs: epoch 0 from the genesis file, later epochs from the documents that
// member.approve writes to the state (contracts/system/membership.cc).
#include <algorithm>
#include <set>

#include "contracts/system/membership.h"
#include "genesis/genesis.h"

namespace colend::genesis {
namespace {

Error Bad(std::string message) { return MakeError("bad-membership", std::move(message)); }

}  // namespace

const GenesisMember* Membership::Find(std::string_view id) const {
  for (const auto& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

consensus::ValidatorSet Membership::Validators(const std::string& chain_id) const {
  std::vector<consensus::Member> list;
  for (const auto& m : members) list.push_back({m.id, m.signing_key});
  return consensus::ValidatorSet(chain_id, epoch, std::move(list), quorum);
}

std::map<std::string, contracts::MemberRecord, std::less<>> Membership::Records() const {
  std::map<std::string, contracts::MemberRecord, std::less<>> records;
  for (const auto& m : members) records.emplace(m.id, contracts::MemberRecord{m.id, m.role, m.signing_key});
  return records;
}

Membership Genesis::GenesisMembership() const {
  Membership m;
  m.epoch = 0;
  m.start_height = 1;
  m.sha256 = hash;
  m.quorum = quorum;
  m.members = members;
  return m;
}

Result<Membership> ParseMembershipDocument(const Genesis& genesis, std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Bad("the document is not a JSON object");
  auto string_field = [&](const char* key) -> Result<std::string> {
    if (!doc.contains(key) || !doc[key].is_string()) return Bad(std::string(key) + " must be a string");
    return doc[key].get<std::string>();
  };
  auto number_field = [&](const char* key) -> Result<std::uint64_t> {
    if (!doc.contains(key) || !doc[key].is_number_unsigned()) {
      return Bad(std::string(key) + " must be a non-negative integer");
    }
    return doc[key].get<std::uint64_t>();
  };
  auto format = string_field("format");
  auto chain_id = string_field("chain_id");
  auto quorum = string_field("quorum");
  auto previous = string_field("previous_sha256");
  auto epoch = number_field("epoch");
  auto start = number_field("start_height");
  for (const auto* r : {&format, &chain_id, &quorum, &previous}) {
    if (!r->ok()) return r->error();
  }
  if (!epoch.ok()) return epoch.error();
  if (!start.ok()) return start.error();
  if (*format != "colend-membership/v1") return Bad("format must be colend-membership/v1");
  if (*chain_id != genesis.chain_id) return Bad("chain_id '" + *chain_id + "' is not this chain's");
  if (*epoch == 0) return Bad("epoch 0 is the genesis file's; a document has epoch >= 1");
  if (*start == 0) return Bad("start_height must be at least 1");
  auto previous_hash = crypto::Hash256FromHex(*previous);
  if (!previous_hash.ok()) return Bad("previous_sha256 must be 64 hex digits");
  auto rule = consensus::ParseQuorumRule(*quorum);
  if (!rule.ok()) return Bad("quorum '" + *quorum + "' must be 'majority' or 'two-thirds'");
  if (!doc.contains("members") || !doc["members"].is_array() || doc["members"].empty() ||
      doc["members"].size() > 64) {
    return Bad("members must be an array of 1 to 64 members");
  }
  Membership m;
  m.epoch = *epoch;
  m.start_height = *start;
  m.sha256 = crypto::Sha256(text);
  m.previous_sha256 = *previous_hash;
  m.quorum = *rule;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < doc["members"].size(); ++i) {
    auto member = ParseMember(doc["members"][i], "members[" + std::to_string(i) + "]",
                              genesis.ca_certificate, genesis.suite);
    if (!member.ok()) return Bad(member.error().message);
    if (!ids.insert(member->id).second) return Bad("member id '" + member->id + "' appears twice");
    m.members.push_back(std::move(member).value());
  }
  std::sort(m.members.begin(), m.members.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return m;
}

Result<Membership> MembershipOfEpoch(const Genesis& genesis, const contracts::StateReader& state,
                                     std::uint64_t epoch) {
  if (epoch == 0) return genesis.GenesisMembership();
  auto text = state.Get(contracts::MembershipEpochKey(epoch));
  if (!text) return MakeError("unknown-epoch", "no membership epoch " + std::to_string(epoch) + " on this chain");
  auto m = ParseMembershipDocument(genesis, *text);
  if (!m.ok()) return Bad("epoch " + std::to_string(epoch) + ": " + m.error().message);
  if (m->epoch != epoch) return Bad("the document stored for epoch " + std::to_string(epoch) + " names another epoch");
  // The chain of documents: each names the hash of the one before (epoch 0: the genesis file).
  crypto::Hash256 previous = genesis.hash;
  if (epoch > 1) {
    auto before = state.Get(contracts::MembershipEpochKey(epoch - 1));
    if (!before) return Bad("epoch " + std::to_string(epoch - 1) + " is missing");
    previous = crypto::Sha256(*before);
  }
  if (m->previous_sha256 != previous) {
    return Bad("epoch " + std::to_string(epoch) + " does not follow epoch " + std::to_string(epoch - 1));
  }
  return m;
}

Result<Membership> MembershipAt(const Genesis& genesis, const contracts::StateReader& state,
                                std::uint64_t height) {
  for (std::uint64_t e = contracts::MembershipEpoch(state); e > 0; --e) {
    auto m = MembershipOfEpoch(genesis, state, e);
    if (!m.ok()) return m.error();
    if (m->start_height <= height) return m;
  }
  return genesis.GenesisMembership();
}

}  // namespace colend::genesis
