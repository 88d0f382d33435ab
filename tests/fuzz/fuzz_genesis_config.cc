// The files a node reads at start-up and the membership documents the chain adopts. Every input
// goes to all three parsers:
//   genesis::ParseGenesis             ok => raw and hash are the input's, members sorted by id
//                                     and unique, the epoch-0 validator set, chain rules and
//                                     genesis header build, the header text round-trips, and
//                                     parsing again gives the same genesis hash
//   genesis::ParseMembershipDocument  (against the fixture genesis) ok => sha256 is the input's,
//                                     members sorted and unique, the validator set builds
//   node::LoadNodeConfig              (the input as <home>/config.json, in a private temporary
//                                     directory) ok => ToJson() loads back to the same config
// Errors have their documented code ("bad-genesis", "bad-membership", "bad-config").
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "consensus/block.h"
#include "genesis/genesis.h"
#include "node/config.h"
#include "tests/fuzz/fixture.h"

namespace {

using namespace colend;  // NOLINT

template <typename Members>
void CheckMembers(const Members& members) {
  FUZZ_CHECK(!members.empty());
  for (std::size_t i = 1; i < members.size(); ++i) FUZZ_CHECK(members[i - 1].id < members[i].id);
}

void Genesis(const std::string& input) {
  const auto g = genesis::ParseGenesis(input);
  if (!g.ok()) {
    FUZZ_CHECK(g.error().code == "bad-genesis");
    return;
  }
  FUZZ_CHECK(g->raw == input && g->hash == crypto::Sha256(input));
  CheckMembers(g->members);
  for (const auto& m : g->members) FUZZ_CHECK(g->FindMember(m.id) == &m);
  const consensus::ValidatorSet validators = g->Validators();
  FUZZ_CHECK(validators.size() == g->members.size());
  FUZZ_CHECK(validators.quorum() >= 1 && validators.quorum() <= validators.size());
  const contracts::ChainRules rules = g->Rules();
  FUZZ_CHECK(rules.chain_id == g->chain_id && rules.members.size() == g->members.size());
  const std::string header = g->GenesisHeader(crypto::Hash256{}).ToText();
  const auto parsed = consensus::BlockHeader::ParseText(header);
  FUZZ_CHECK(parsed.ok() && parsed->ToText() == header);
  const auto again = genesis::ParseGenesis(input);
  FUZZ_CHECK(again.ok() && again->hash == g->hash);
}

void Membership(const std::string& input) {
  const fuzz::Fixture& f = fuzz::GetFixture();
  const auto m = genesis::ParseMembershipDocument(f.genesis, input);
  if (!m.ok()) {
    FUZZ_CHECK(m.error().code == "bad-membership");
    return;
  }
  FUZZ_CHECK(m->sha256 == crypto::Sha256(input));
  FUZZ_CHECK(m->epoch >= 1 && m->start_height >= 1);
  CheckMembers(m->members);
  const consensus::ValidatorSet validators = m->Validators(f.genesis.chain_id);
  FUZZ_CHECK(validators.size() == m->members.size());
  FUZZ_CHECK(m->Records().size() == m->members.size());
}

void Config(const std::string& input) {
  const std::string home = fuzz::ProcessTempDir() + "/home";
  static const bool made = [&] {
    std::filesystem::create_directories(home);
    return true;
  }();
  (void)made;
  {
    std::ofstream out(home + "/config.json", std::ios::binary | std::ios::trunc);
    out << input;
  }
  const auto config = node::LoadNodeConfig(home);
  if (!config.ok()) {
    FUZZ_CHECK(config.error().code == "bad-config");
    return;
  }
  FUZZ_CHECK(config->home == home);
  FUZZ_CHECK(!config->member_id.empty() && !config->p2p_host.empty() && !config->rpc_host.empty());
  const std::string printed = config->ToJson();
  {
    std::ofstream out(home + "/config.json", std::ios::binary | std::ios::trunc);
    out << printed;
  }
  const auto again = node::LoadNodeConfig(home);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->ToJson() == printed);
  FUZZ_CHECK(again->member_id == config->member_id && again->p2p_port == config->p2p_port &&
             again->rpc_port == config->rpc_port && again->peers.size() == config->peers.size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::GetFixture();
  (void)fuzz::ProcessTempDir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  Genesis(input);
  Membership(input);
  Config(input);
  return 0;
}
