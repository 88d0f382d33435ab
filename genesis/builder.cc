#include "genesis/builder.h"

namespace colend::genesis {
namespace {

struct Plan {
  std::string id, name, role;
};

std::vector<Plan> PlanMembers(int n) {
  std::vector<Plan> plan;
  const auto& defaults = DefaultConsortium();
  for (int i = 0; i < n; ++i) {
    if (i < static_cast<int>(defaults.size())) {
      plan.push_back({defaults[i].id, defaults[i].name, defaults[i].role});
    } else {
      std::string k = std::to_string(i + 1);
      plan.push_back({"partner-bank-" + k, "Partner Bank " + k, "partner_bank"});
    }
  }
  return plan;
}

Result<BuiltMember> BuildMember(const Plan& plan, int index, const ConsortiumOptions& options,
                                const crypto::Certificate& ca, const crypto::PrivateKey& ca_key) {
  return IssueMemberKeys(plan.id, plan.name, plan.role, options.suite, ca, ca_key, options.now_ms,
                         100 + 2 * static_cast<std::uint64_t>(index));
}

}  // namespace

Result<BuiltMember> IssueMemberKeys(const std::string& id, const std::string& name,
                                    const std::string& role, crypto::Suite suite,
                                    const crypto::Certificate& ca, const crypto::PrivateKey& ca_key,
                                    std::int64_t now_ms, std::uint64_t serial) {
  auto tls_key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  if (!tls_key.ok()) return tls_key.error();
  auto signing_key = crypto::PrivateKey::Generate(suite);
  if (!signing_key.ok()) return signing_key.error();
  std::int64_t now_s = now_ms / 1000;
  crypto::CertificateSpec spec;
  spec.organization = name;
  spec.not_before_unix = now_s - 3600;
  spec.not_after_unix = now_s + 5LL * 365 * 86400;
  spec.serial = serial;
  spec.common_name = id + " node";
  spec.tls_server_and_client = true;
  spec.ip_addresses = {"127.0.0.1"};
  spec.dns_names = {"localhost"};
  auto tls_cert = crypto::IssueCertificate(spec, tls_key->Public(), &ca, ca_key);
  if (!tls_cert.ok()) return tls_cert.error();
  crypto::CertificateSpec sign_spec = spec;
  sign_spec.common_name = id + " signing";
  sign_spec.serial = spec.serial + 1;
  sign_spec.tls_server_and_client = false;
  sign_spec.ip_addresses.clear();
  sign_spec.dns_names.clear();
  auto sign_cert = crypto::IssueCertificate(sign_spec, signing_key->Public(), &ca, ca_key);
  if (!sign_cert.ok()) return sign_cert.error();
  return BuiltMember{id,   name,    role, *tls_key,
                     *signing_key, *tls_cert, *sign_cert};
}

nlohmann::json MemberJson(const BuiltMember& member) {
  return {{"id", member.id},
          {"name", member.name},
          {"role", member.role},
          {"tls_certificate", member.tls_certificate.ToPem()},
          {"signing_certificate", member.signing_certificate.ToPem()}};
}

Result<BuiltConsortium> BuildConsortium(const ConsortiumOptions& options) {
  if (options.members < 1 || options.members > 64) {
    return MakeError("bad-options", "members must be 1 to 64");
  }
  if (options.spare_members < 0 || options.members + options.spare_members > 64) {
    return MakeError("bad-options", "members plus spare members must be at most 64");
  }
  std::int64_t now_s = options.now_ms / 1000;
  auto ca_key = crypto::PrivateKey::Generate(crypto::Suite::kStd);
  if (!ca_key.ok()) return ca_key.error();
  crypto::CertificateSpec ca_spec;
  ca_spec.common_name = "colend consortium root CA";
  ca_spec.organization = "colend consortium";
  ca_spec.not_before_unix = now_s - 3600;
  ca_spec.not_after_unix = now_s + 10LL * 365 * 86400;
  ca_spec.is_ca = true;
  auto ca = crypto::IssueCertificate(ca_spec, ca_key->Public(), nullptr, *ca_key);
  if (!ca.ok()) return ca.error();
  BuiltConsortium out{*ca_key, *ca, {}, {}, {}};
  nlohmann::json members = nlohmann::json::array();
  auto plan = PlanMembers(options.members + options.spare_members);
  for (int i = 0; i < options.members + options.spare_members; ++i) {
    auto member = BuildMember(plan[i], i, options, *ca, *ca_key);
    if (!member.ok()) return member.error();
    if (i >= options.members) {
      out.spares.push_back(std::move(member).value());
      continue;
    }
    members.push_back(MemberJson(*member));
    out.members.push_back(std::move(member).value());
  }
  const ConsensusParams& c = options.consensus;
  nlohmann::json genesis = {
      {"format", "colend-genesis/v1"},
      {"chain_id", options.chain_id},
      {"genesis_time_ms", options.now_ms},
      {"suite", std::string(crypto::SuiteName(options.suite))},
      {"quorum", options.quorum},
      {"dev_clock", options.dev_clock},
      {"ca_certificate", ca->ToPem()},
      {"members", members},
      {"consensus",
       {{"timeout_propose_ms", c.timeout_propose_ms},
        {"timeout_prevote_ms", c.timeout_prevote_ms},
        {"timeout_precommit_ms", c.timeout_precommit_ms},
        {"timeout_round_increment_ms", c.timeout_round_increment_ms},
        {"block_time_skew_ms_max", c.block_time_skew_ms_max},
        {"tx_time_window_ms", c.tx_time_window_ms},
        {"block_txs_max", c.block_txs_max},
        {"block_interval_ms", c.block_interval_ms}}},
      {"profile", options.profile},
      // The profile's full parameter table, so the genesis file itself states every rule value.
      {"parameters", ProfileParameters(options.profile).ok() ? *ProfileParameters(options.profile)
                                                             : nlohmann::json::object()},
  };
  out.genesis_text = genesis.dump(2) + "\n";
  auto parsed = ParseGenesis(out.genesis_text);
  if (!parsed.ok()) return parsed.error();  // options out of range: named by the parser
  return out;
}

}  // namespace colend::genesis
