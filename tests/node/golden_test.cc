// Golden vectors for a genesis (tests/golden/README.md): for the fixed genesis file
// tests/golden/genesis.json, the genesis hash, the initial state root (parameters and members as
// the node writes them before block 1) and the genesis header's hash, pinned as literals. A
// change here is a change of chain format: every member must compute the same values.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "contracts/state.h"
#include "genesis/genesis.h"
#include "node/ledger.h"

namespace colend::node {
namespace {

constexpr const char* kGoldenGenesisHash = "8acdb4a028d3271e469581ce224d920cb58af37d40d6dcfacdc28dd106e66cc4";
constexpr const char* kGoldenInitialStateRoot = "c6709aaf7f132c1ec9fc8d3badb8153c292f022218ac519b6ac095f4ae5e6d05";
constexpr const char* kGoldenGenesisHeaderHash = "84f53b8638cc25b783f8c963491327e5246fd679ef9f48a0383d3f23b70caeb8";

TEST(Golden, GenesisHashInitialStateRootAndHeader) {
  std::ifstream in(std::string(COLEND_SOURCE_DIR) + "/tests/golden/genesis.json",
                   std::ios::binary);
  ASSERT_TRUE(in) << "tests/golden/genesis.json is missing";
  std::ostringstream raw;
  raw << in.rdbuf();
  auto genesis = genesis::ParseGenesis(raw.str());
  ASSERT_TRUE(genesis.ok()) << genesis.error().ToString();
  contracts::StateTree tree;
  const crypto::Hash256 root = tree.RootAfter(InitialState(*genesis));
  const consensus::BlockHeader header = genesis->GenesisHeader(root);
  EXPECT_EQ(crypto::ToHex(genesis->hash), kGoldenGenesisHash);
  EXPECT_EQ(crypto::ToHex(root), kGoldenInitialStateRoot);
  EXPECT_EQ(crypto::ToHex(consensus::BlockHash(header.ToText())), kGoldenGenesisHeaderHash);
}

// docs/configuration.md: a genesis file with a key the format does not have (a misspelt
// consensus timeout, a member field) is refused naming the key, never read with a default.
TEST(GenesisKeys, UnknownKeysAreRefusedAtEveryLevel) {
  std::ifstream in(std::string(COLEND_SOURCE_DIR) + "/tests/golden/genesis.json",
                   std::ios::binary);
  ASSERT_TRUE(in);
  std::ostringstream raw;
  raw << in.rdbuf();
  const nlohmann::json golden = nlohmann::json::parse(raw.str());
  struct Case {
    const char* where;
    nlohmann::json::json_pointer at;
    const char* key;
    const char* message;
  };
  const Case cases[] = {
      {"top level", nlohmann::json::json_pointer(""), "quorom", "genesis has an unknown key 'quorom'"},
      {"consensus", nlohmann::json::json_pointer("/consensus"), "timeout_propse_ms",
       "consensus has an unknown key 'timeout_propse_ms'"},
      {"member", nlohmann::json::json_pointer("/members/1"), "tls_cert",
       "members[1] has an unknown key 'tls_cert'"},
  };
  for (const Case& c : cases) {
    nlohmann::json changed = golden;
    changed[c.at][c.key] = 1;
    auto parsed = genesis::ParseGenesis(changed.dump(2));
    ASSERT_FALSE(parsed.ok()) << c.where;
    EXPECT_NE(parsed.error().message.find(c.message), std::string::npos)
        << c.where << ": " << parsed.error().message;
  }
  EXPECT_TRUE(genesis::ParseGenesis(golden.dump(2)).ok()) << "the unchanged file still parses";
}

// A key given twice would be read as its last value while a reviewer reads the first: refused by
// name, at the top level and inside the parameters.
TEST(GenesisKeys, AKeyGivenTwiceIsRefused) {
  std::ifstream in(std::string(COLEND_SOURCE_DIR) + "/tests/golden/genesis.json",
                   std::ios::binary);
  ASSERT_TRUE(in);
  std::ostringstream raw;
  raw << in.rdbuf();
  const std::string text = raw.str();
  ASSERT_TRUE(genesis::ParseGenesis(text).ok());
  for (const std::string key : {"\"dev_clock\": ", "\"day_basis\": "}) {
    const std::size_t at = text.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    const std::size_t end = text.find_first_of(",\n}", at);
    std::string doubled = text;
    doubled.insert(end, ", " + text.substr(at, end - at));  // the same key and value again
    auto parsed = genesis::ParseGenesis(doubled);
    ASSERT_FALSE(parsed.ok()) << key;
    EXPECT_NE(parsed.error().message.find("the key '" + key.substr(1, key.size() - 4) + "' twice"),
              std::string::npos)
        << parsed.error().message;
  }
}

}  // namespace
}  // namespace colend::node
