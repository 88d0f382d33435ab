#include "genesis/genesis.h"

#include <algorithm>
#include <initializer_list>
#include <set>
#include <string_view>

#include "contracts/lending/lending.h"
#include "genesis/json_keys.h"
#include "crypto/merkle.h"

namespace colend::genesis {
namespace {

Error Bad(std::string message) { return MakeError("bad-genesis", std::move(message)); }

// Reads a required field of the given JSON type, or fails naming it.
template <typename T>
Result<T> Required(const nlohmann::json& obj, const std::string& key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) return Bad(where + "." + key + " is missing");
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return Bad(where + "." + key + " must be a string");
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return Bad(where + "." + key + " must be true or false");
  } else {
    if (!it->is_number_integer()) return Bad(where + "." + key + " must be an integer");
  }
  return it->get<T>();
}

// Every key of `obj` must be one of `known`: a misspelt key is an error, never a silent default
// (docs/configuration.md lists every key).
Status OnlyKeys(const nlohmann::json& obj, std::initializer_list<std::string_view> known,
                const std::string& where) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Bad(where + " has an unknown key '" + key.substr(0, 64) + "' (known: " + list + ")");
    }
  }
  return Status::Ok();
}

Result<std::int64_t> PositiveMs(const nlohmann::json& obj, const char* key, std::int64_t low,
                                std::int64_t high) {
  auto v = Required<std::int64_t>(obj, key, "consensus");
  if (!v.ok()) return v.error();
  if (*v < low || *v > high) {
    return Bad("consensus." + std::string(key) + " = " + std::to_string(*v) +
               " is outside [" + std::to_string(low) + ", " + std::to_string(high) + "]");
  }
  return *v;
}

Status ParseConsensus(const nlohmann::json& c, ConsensusParams* out) {
  if (!c.is_object()) return Bad("consensus must be an object");
  COLEND_RETURN_IF_ERROR(OnlyKeys(c,
                                  {"timeout_propose_ms", "timeout_prevote_ms", "timeout_precommit_ms",
                                   "timeout_round_increment_ms", "block_time_skew_ms_max",
                                   "tx_time_window_ms", "block_txs_max", "block_interval_ms"},
                                  "consensus"));
  struct Field {
    const char* key;
    std::int64_t* target;
    std::int64_t low, high;
  };
  std::int64_t block_txs_max = 0;
  Field fields[] = {
      {"timeout_propose_ms", &out->timeout_propose_ms, 50, 600000},
      {"timeout_prevote_ms", &out->timeout_prevote_ms, 50, 600000},
      {"timeout_precommit_ms", &out->timeout_precommit_ms, 50, 600000},
      {"timeout_round_increment_ms", &out->timeout_round_increment_ms, 0, 600000},
      {"block_time_skew_ms_max", &out->block_time_skew_ms_max, 100, 3600000},
      {"tx_time_window_ms", &out->tx_time_window_ms, 1000, 86400000},
      {"block_txs_max", &block_txs_max, 1, 100000},
      {"block_interval_ms", &out->block_interval_ms, 0, 60000},
  };
  for (Field& f : fields) {
    auto v = PositiveMs(c, f.key, f.low, f.high);
    if (!v.ok()) return v.error();
    *f.target = *v;
  }
  out->block_txs_max = static_cast<std::uint32_t>(block_txs_max);
  return Status::Ok();
}

}  // namespace

Result<GenesisMember> ParseMember(const nlohmann::json& m, const std::string& where,
                                  const crypto::Certificate& ca, crypto::Suite suite,
                                  std::optional<std::int64_t> at_unix) {
  if (!m.is_object()) return Bad(where + " must be an object");
  COLEND_RETURN_IF_ERROR(
      OnlyKeys(m, {"id", "name", "role", "tls_certificate", "signing_certificate"}, where));
  auto id = Required<std::string>(m, "id", where);
  auto name = Required<std::string>(m, "name", where);
  auto role = Required<std::string>(m, "role", where);
  auto tls = Required<std::string>(m, "tls_certificate", where);
  auto signing = Required<std::string>(m, "signing_certificate", where);
  for (const auto* r : {&id, &name, &role, &tls, &signing}) {
    if (!r->ok()) return r->error();
  }
  if (id->empty() || id->size() > 64 ||
      !std::all_of(id->begin(), id->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    return Bad(where + ".id '" + *id + "' must be 1-64 characters of [a-z0-9-]");
  }
  if (!contracts::IsValidRole(*role)) return Bad(where + ".role '" + *role + "' is not a role");
  auto tls_cert = crypto::Certificate::FromPem(*tls);
  if (!tls_cert.ok()) return Bad(where + ".tls_certificate: " + tls_cert.error().message);
  auto sign_cert = crypto::Certificate::FromPem(*signing);
  if (!sign_cert.ok()) return Bad(where + ".signing_certificate: " + sign_cert.error().message);
  for (const auto* cert : {&*tls_cert, &*sign_cert}) {
    Status s = cert->VerifyIssuedBy(ca, at_unix);
    if (!s.ok()) {
      const bool time = s.error().code == "certificate-expired" ||
                        s.error().code == "certificate-not-yet-valid";
      return Bad(where + " (" + *id + "): " +
                 (time ? "certificate not valid at " + std::to_string(*at_unix) + " (Unix s): "
                       : "certificate not issued by the consortium CA: ") +
                 s.error().message);
    }
  }
  if (!tls_cert->SubjectKey(crypto::Suite::kStd).ok()) {
    return Bad(where + ".tls_certificate must carry a P-256 key");
  }
  auto key = sign_cert->SubjectKey(suite);
  if (!key.ok()) {
    return Bad(where + ".signing_certificate must carry a key of suite '" +
               std::string(crypto::SuiteName(suite)) + "': " + key.error().message);
  }
  return GenesisMember{*id, *name, *role, *tls_cert, *sign_cert, *key};
}

Result<Genesis> ParseGenesis(std::string raw) {
  std::optional<std::string> twice;
  auto json = ParseJsonNoDuplicateKeys(raw, &twice);
  if (json.is_discarded()) return Bad("the genesis file is not valid JSON");
  // A reviewer reading the first of two values would see another than every node uses.
  if (twice) return Bad("the genesis file has the key '" + *twice + "' twice in one object");
  if (!json.is_object()) return Bad("the genesis file must be a JSON object");
  auto format = Required<std::string>(json, "format", "genesis");
  if (!format.ok()) return format.error();
  if (*format != "colend-genesis/v1") return Bad("format must be colend-genesis/v1");
  COLEND_RETURN_IF_ERROR(OnlyKeys(json,
                                  {"format", "chain_id", "genesis_time_ms", "suite", "quorum",
                                   "dev_clock", "ca_certificate", "profile", "consensus", "members",
                                   "parameters"},
                                  "genesis"));
  Genesis g;
  auto chain_id = Required<std::string>(json, "chain_id", "genesis");
  auto time = Required<std::int64_t>(json, "genesis_time_ms", "genesis");
  auto suite = Required<std::string>(json, "suite", "genesis");
  auto quorum = Required<std::string>(json, "quorum", "genesis");
  auto dev_clock = Required<bool>(json, "dev_clock", "genesis");
  auto ca = Required<std::string>(json, "ca_certificate", "genesis");
  auto profile = Required<std::string>(json, "profile", "genesis");
  if (!chain_id.ok()) return chain_id.error();
  if (!time.ok()) return time.error();
  if (!suite.ok()) return suite.error();
  if (!quorum.ok()) return quorum.error();
  if (!dev_clock.ok()) return dev_clock.error();
  if (!ca.ok()) return ca.error();
  if (!profile.ok()) return profile.error();
  if (chain_id->empty() || chain_id->size() > 64) return Bad("chain_id must be 1-64 characters");
  g.chain_id = *chain_id;
  g.genesis_time_ms = *time;
  auto parsed_suite = crypto::ParseSuite(*suite);
  if (!parsed_suite.ok()) return Bad("suite '" + *suite + "' must be 'std' or 'sm'");
  g.suite = *parsed_suite;
  auto rule = consensus::ParseQuorumRule(*quorum);
  if (!rule.ok()) return Bad("quorum '" + *quorum + "' must be 'majority' or 'two-thirds'");
  g.quorum = *rule;
  g.dev_clock = *dev_clock;
  auto ca_cert = crypto::Certificate::FromPem(*ca);
  if (!ca_cert.ok()) return Bad("ca_certificate: " + ca_cert.error().message);
  Status self_signed = ca_cert->VerifyIssuedBy(*ca_cert, std::nullopt);
  if (!self_signed.ok()) return Bad("ca_certificate is not a self-signed CA certificate");
  g.ca_certificate = *ca_cert;
  if (!json.contains("consensus")) return Bad("consensus is missing");
  COLEND_RETURN_IF_ERROR(ParseConsensus(json["consensus"], &g.consensus));
  auto members = json.find("members");
  if (members == json.end() || !members->is_array() || members->empty()) {
    return Bad("members must be a non-empty array");
  }
  if (members->size() > 64) return Bad("at most 64 members");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < members->size(); ++i) {
    auto m = ParseMember((*members)[i], "members[" + std::to_string(i) + "]", g.ca_certificate,
                         g.suite);
    if (!m.ok()) return m.error();
    if (!ids.insert(m->id).second) return Bad("member id '" + m->id + "' appears twice");
    g.members.push_back(std::move(m).value());
  }
  std::sort(g.members.begin(), g.members.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  auto defaults = ProfileParameters(*profile);
  if (!defaults.ok()) return Bad("profile '" + *profile + "' must be 'case-study' or 'cn-2022'");
  g.profile = *profile;
  g.parameters = json.value("parameters", nlohmann::json::object());
  if (!g.parameters.is_object()) return Bad("parameters must be an object");
  {
    // The profile's table with the file's parameters over it must be a complete, in-bounds set.
    nlohmann::json merged = *ProfileBaseParameters(*profile);
    for (auto& [key, value] : g.parameters.items()) {
      if (!defaults->contains(key)) return Bad("parameters." + key + " is not a parameter of the profile");
      if (key == "bounds" && value != merged[key]) {
        return Bad("parameters.bounds must be the profile's hard bounds; they are not negotiable");
      }
      merged[key] = value;
    }
    Status valid = contracts::ValidateParameters(merged);
    if (!valid.ok()) return Bad("parameters: " + valid.error().message);
  }
  g.raw = std::move(raw);
  g.hash = crypto::Sha256(g.raw);
  return g;
}

const GenesisMember* Genesis::FindMember(std::string_view id) const {
  for (const auto& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

consensus::ValidatorSet Genesis::Validators() const {
  return GenesisMembership().Validators(chain_id);
}

Result<consensus::EquivocationFacts> VerifyEquivocationInItsEpoch(
    const Genesis& genesis, const contracts::StateReader& state,
    const consensus::proto::ConsensusMessage& first,
    const consensus::proto::ConsensusMessage& second) {
  // The signatures bind the epoch: verify with the membership in force at their height.
  const std::uint64_t height =
      first.has_proposal() ? first.proposal().height() : first.vote().height();
  auto membership = MembershipAt(genesis, state, height);
  if (!membership.ok()) return membership.error();
  return consensus::VerifyEquivocation(membership->Validators(genesis.chain_id), first, second);
}

contracts::ChainRules Genesis::Rules() const {
  contracts::ChainRules rules;
  rules.chain_id = chain_id;
  rules.tx_time_window_ms = consensus.tx_time_window_ms;
  rules.dev_clock = dev_clock;
  rules.members = GenesisMembership().Records();
  // The hooks outlive this object (the executor keeps them): they hold their own copy.
  auto self = std::make_shared<const Genesis>(*this);
  rules.verify_equivocation = [self](std::string_view first_bytes, std::string_view second_bytes,
                                     const contracts::StateReader& state)
      -> Result<contracts::EquivocationClaim> {
    consensus::proto::ConsensusMessage first, second;
    if (!first.ParseFromArray(first_bytes.data(), static_cast<int>(first_bytes.size())) ||
        !second.ParseFromArray(second_bytes.data(), static_cast<int>(second_bytes.size()))) {
      return MakeError("not-an-equivocation",
                       "a message does not parse as colend.consensus.proto.ConsensusMessage");
    }
    auto facts = VerifyEquivocationInItsEpoch(*self, state, first, second);
    if (!facts.ok()) return facts.error();
    return contracts::EquivocationClaim{facts->member, facts->height, facts->round, facts->kind,
                                        facts->Key()};
  };
  rules.check_member = [self](std::string_view member_json,
                              std::int64_t at_ms) -> Result<contracts::MemberRecord> {
    auto json = nlohmann::json::parse(member_json, nullptr, /*allow_exceptions=*/false);
    // Floor division: the block time in whole seconds, also before 1970.
    const std::int64_t at_unix = at_ms >= 0 ? at_ms / 1000 : -((-at_ms + 999) / 1000);
    auto member = ParseMember(json, "member", self->ca_certificate, self->suite, at_unix);
    if (!member.ok()) return member.error();
    return contracts::MemberRecord{member->id, member->role, member->signing_key};
  };
  return rules;
}

consensus::BlockHeader Genesis::GenesisHeader(const crypto::Hash256& initial_state_root) const {
  consensus::BlockHeader h;
  h.chain_id = chain_id;
  h.height = 0;
  h.timestamp_ms = genesis_time_ms;
  h.proposer = "genesis";
  h.tx_count = 0;
  h.tx_root = crypto::MerkleRoot({});
  h.state_root = initial_state_root;
  h.ledger_size = 0;
  h.ledger_root = crypto::MerkleRoot({});
  h.membership_epoch = 0;
  h.membership_sha256 = hash;
  return h;
}

const std::vector<DefaultMember>& DefaultConsortium() {
  static const std::vector<DefaultMember> kMembers = {
      {"lead-bank", "Lead Bank (originates, funds 20%)", "lead_bank"},
      {"partner-bank", "Partner Bank (funds 80%)", "partner_bank"},
      {"payee-bank", "Payee Bank (borrower's account)", "payee_bank"},
      {"credit-bureau", "Credit Bureau", "credit_bureau"},
      {"arbitration", "Arbitration Commission", "arbitrator"},
  };
  return kMembers;
}

}  // namespace colend::genesis
