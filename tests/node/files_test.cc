// Proves that the node's files are written the way keys must be: a private file is 0600 from its
// creation (never readable by others, not even between create and chmod), a write replaces the
// file atomically, a symbolic link planted at the temporary name is not followed (the target is
// untouched), and the document store refuses bytes that do not match their name.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "node/config.h"
#include "node/document_store.h"

namespace colend::node {
namespace {

std::string TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("colend-files-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(NodeFiles, PrivateFilesAre0600AndWritesAreAtomic) {
  const std::string dir = TempDir("mode");
  const mode_t old_umask = ::umask(0);  // a permissive umask must not widen a key file
  ASSERT_TRUE(WriteFile(dir + "/signing.key", "secret", /*private_file=*/true).ok());
  ASSERT_TRUE(WriteFile(dir + "/config.json", "{}", /*private_file=*/false).ok());
  ::umask(old_umask);
  EXPECT_EQ(Mode(dir + "/signing.key"), 0600u);
  EXPECT_EQ(Mode(dir + "/config.json"), 0644u);
  ASSERT_TRUE(WriteFile(dir + "/signing.key", "rotated", true).ok());
  EXPECT_EQ(*ReadFile(dir + "/signing.key"), "rotated");
  EXPECT_FALSE(std::filesystem::exists(dir + "/signing.key.tmp"));
  std::filesystem::remove_all(dir);
}

TEST(NodeFiles, ALinkPlantedAtTheTemporaryNameIsNotFollowed) {
  const std::string dir = TempDir("link");
  { std::ofstream(dir + "/victim") << "untouched"; }
  std::filesystem::create_symlink(dir + "/victim", dir + "/signing.key.tmp");
  ASSERT_TRUE(WriteFile(dir + "/signing.key", "secret", true).ok());
  EXPECT_EQ(*ReadFile(dir + "/victim"), "untouched");
  EXPECT_EQ(*ReadFile(dir + "/signing.key"), "secret");
  EXPECT_EQ(Mode(dir + "/signing.key"), 0600u);
  std::filesystem::remove_all(dir);
}

TEST(DocumentStore, KeepsBytesUnderTheirHashAndRefusesChangedFiles) {
  const std::string dir = TempDir("docs");
  DocumentStore store(dir + "/documents");
  auto sha = store.Put("the signed contract");
  ASSERT_TRUE(sha.ok());
  EXPECT_EQ(*sha, crypto::Sha256("the signed contract"));
  EXPECT_TRUE(store.Has(*sha));
  EXPECT_EQ(*store.Get(*sha), "the signed contract");
  { std::ofstream(store.PathOf(*sha), std::ios::trunc) << "a changed contract"; }
  EXPECT_EQ(store.Get(*sha).error().code, "document-corrupt");
  EXPECT_EQ(store.Get(crypto::Sha256("absent")).error().code, "document-missing");
  EXPECT_EQ(store.Put("").error().code, "document-too-large");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace colend::node

namespace colend::node {
namespace {

// Writes `config_json` as home/config.json and loads it.
Result<NodeConfig> LoadConfigText(const std::string& name, const std::string& config_json) {
  const std::string home = ::testing::TempDir() + "/config-" + name;
  std::filesystem::remove_all(home);
  std::filesystem::create_directories(home);
  std::ofstream(home + "/config.json") << config_json;
  return LoadNodeConfig(home);
}

std::string ConfigJson(const std::string& rpc_host, const std::string& extra = "") {
  return R"({"member_id": "lead-bank", "p2p_host": "127.0.0.1", "p2p_port": 7001,
             "rpc_host": ")" + rpc_host + R"(", "rpc_port": 8001)" + extra +
         R"(, "peers": [{"id": "partner-bank", "host": "127.0.0.1", "port": 7002}]})";
}

TEST(NodeConfig, LoopbackRpcHostsAreAccepted) {
  for (const std::string host : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) {
    auto config = LoadConfigText("loopback", ConfigJson(host));
    ASSERT_TRUE(config.ok()) << host << ": " << config.error().ToString();
    // The node listens on an address: localhost is 127.0.0.1 (the RPC server looks up no names).
    EXPECT_EQ(config->rpc_host, host == "localhost" ? "127.0.0.1" : host);
  }
}

TEST(NodeConfig, AListenHostThatIsNotAnAddressIsRefused) {
  const std::string base = ConfigJson("127.0.0.1");
  for (const std::string host : {"node1.bank.example", "127.0.0.1 ", "fe80::1%nosuchif"}) {
    std::string text = base;
    text.replace(text.find(R"("p2p_host": "127.0.0.1")"), 23, R"("p2p_host": ")" + host + "\"");
    auto config = LoadConfigText("p2p-name", text);
    ASSERT_FALSE(config.ok()) << host;
    EXPECT_NE(config.error().message.find("config.p2p_host must be an IP address"), std::string::npos)
        << config.error().message;
  }
  auto local = LoadConfigText("p2p-localhost", [&] {
    std::string text = base;
    text.replace(text.find(R"("p2p_host": "127.0.0.1")"), 23, R"("p2p_host": "localhost")");
    return text;
  }());
  ASSERT_TRUE(local.ok()) << local.error().ToString();
  EXPECT_EQ(local->p2p_host, "127.0.0.1");
}

TEST(NodeConfig, ANonLoopbackRpcHostIsRefused) {
  for (const std::string host : {"0.0.0.0", "10.0.0.5", "::", "127.0.0", "127.0.0.256",
                                 "127.0.0.1.5", "example.com"}) {
    auto config = LoadConfigText("remote", ConfigJson(host));
    ASSERT_FALSE(config.ok()) << host;
    EXPECT_EQ(config.error().code, "bad-config");
    EXPECT_NE(config.error().message.find("rpc_host"), std::string::npos) << host;
    EXPECT_NE(config.error().message.find("loopback"), std::string::npos) << host;
  }
}

TEST(NodeConfig, RpcBeyondLoopbackNeedsRpcRemote) {
  auto remote = LoadConfigText("rpc-remote", ConfigJson("0.0.0.0", R"(, "rpc_remote": true)"));
  ASSERT_TRUE(remote.ok()) << remote.error().ToString();
  EXPECT_TRUE(remote->rpc_remote);
  EXPECT_NE(remote->ToJson().find("\"rpc_remote\": true"), std::string::npos);
  auto off = LoadConfigText("rpc-remote-off", ConfigJson("0.0.0.0", R"(, "rpc_remote": false)"));
  EXPECT_FALSE(off.ok());
  auto bad = LoadConfigText("rpc-remote-bad", ConfigJson("0.0.0.0", R"(, "rpc_remote": "yes")"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("rpc_remote must be true or false"), std::string::npos);
}

// An operator may set the store's write buffer (docs/configuration.md); outside 4-64 MiB, or not
// a whole number, the node refuses the file and names the key and the range.
TEST(NodeConfig, TheStoreWriteBufferIsAWholeNumberOfMiBInItsRange) {
  auto unset = LoadConfigText("wb-unset", ConfigJson("127.0.0.1"));
  ASSERT_TRUE(unset.ok()) << unset.error().ToString();
  EXPECT_EQ(unset->store_write_buffer_mib, 0u) << "unset: by the member's place";
  EXPECT_EQ(unset->ToJson().find("store_write_buffer_mib"), std::string::npos);
  for (const std::uint32_t mib : {kConfigWriteBufferMibMin, 32u, kConfigWriteBufferMibMax}) {
    auto set = LoadConfigText("wb-" + std::to_string(mib),
                              ConfigJson("127.0.0.1", R"(, "store_write_buffer_mib": )" +
                                                          std::to_string(mib)));
    ASSERT_TRUE(set.ok()) << mib << ": " << set.error().ToString();
    EXPECT_EQ(set->store_write_buffer_mib, mib);
    EXPECT_NE(set->ToJson().find("\"store_write_buffer_mib\": " + std::to_string(mib)),
              std::string::npos);
  }
  for (const std::string bad : {"3", "65", "0", "-16", "16.5", "\"16\"", "true", "null",
                                "18446744073709551632"}) {
    auto refused = LoadConfigText("wb-bad", ConfigJson("127.0.0.1", R"(, "store_write_buffer_mib": )" + bad));
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code, "bad-config") << bad;
    EXPECT_NE(refused.error().message.find("store_write_buffer_mib must be a whole number of MiB "
                                           "from 4 to 64"),
              std::string::npos)
        << bad << ": " << refused.error().message;
  }
}

// An operator may set the mempool's limits (docs/configuration.md): each key alone, the others
// keep their defaults; a value out of its range, not a whole number, a sender's share above the
// whole or an unknown key is refused with the key named; what was read is written back.
TEST(NodeConfig, TheMempoolsLimitsAreReadInTheirRanges) {
  auto unset = LoadConfigText("pool-unset", ConfigJson("127.0.0.1"));
  ASSERT_TRUE(unset.ok()) << unset.error().ToString();
  EXPECT_EQ(unset->mempool, MempoolLimits{});
  EXPECT_EQ(unset->ToJson().find("mempool"), std::string::npos);
  EXPECT_NE(unset->MempoolText().find("200000 transactions and 96 MiB, 50000 and 32 MiB a sender "
                                      "(default)"),
            std::string::npos)
      << unset->MempoolText();

  auto all = LoadConfigText(
      "pool-all", ConfigJson("127.0.0.1", R"(, "mempool": {"txs_max": 1000, "memory_mib": 16,
                                              "sender_txs_max": 300, "sender_memory_mib": 5})"));
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  EXPECT_EQ(all->mempool.txs_max, 1000u);
  EXPECT_EQ(all->mempool.memory_max, std::size_t{16} << 20);
  EXPECT_EQ(all->mempool.sender_txs_max, 300u);
  EXPECT_EQ(all->mempool.sender_memory_max, std::size_t{5} << 20);
  EXPECT_EQ(all->MempoolText(), "1000 transactions and 16 MiB, 300 and 5 MiB a sender (config.json)");
  auto again = LoadConfigText("pool-again", all->ToJson());
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->mempool, all->mempool) << "ToJson writes back what was read";

  auto one = LoadConfigText("pool-one",
                            ConfigJson("127.0.0.1", R"(, "mempool": {"memory_mib": 512})"));
  ASSERT_TRUE(one.ok()) << one.error().ToString();
  EXPECT_EQ(one->mempool.memory_max, std::size_t{512} << 20);
  EXPECT_EQ(one->mempool.txs_max, MempoolLimits{}.txs_max) << "an unset key keeps its default";
  EXPECT_EQ(one->mempool.sender_memory_max, MempoolLimits{}.sender_memory_max);

  // A small pool alone: a sender's share left out shrinks to the whole, never above it.
  auto small = LoadConfigText("pool-small",
                              ConfigJson("127.0.0.1", R"(, "mempool": {"txs_max": 10000,
                                                              "memory_mib": 20})"));
  ASSERT_TRUE(small.ok()) << small.error().ToString();
  EXPECT_EQ(small->mempool.sender_txs_max, 10000u);
  EXPECT_EQ(small->mempool.sender_memory_max, std::size_t{20} << 20);
  auto roomy = LoadConfigText("pool-roomy",
                              ConfigJson("127.0.0.1", R"(, "mempool": {"txs_max": 400000})"));
  ASSERT_TRUE(roomy.ok()) << roomy.error().ToString();
  EXPECT_EQ(roomy->mempool.sender_txs_max, MempoolLimits{}.sender_txs_max)
      << "a larger pool keeps the sender's default";

  const std::pair<std::string, std::string> refused[] = {
      {R"("txs_max": 999)", "config.mempool.txs_max must be a whole number of transactions from "
                            "1000 to 1000000, got 999"},
      {R"("txs_max": 1000001)", "txs_max must be a whole number of transactions"},
      {R"("txs_max": 5000.5)", "txs_max must be a whole number of transactions"},
      {R"("txs_max": 5000.0)", "config.mempool.txs_max must be written without a decimal point "
                               "or exponent (a whole number of transactions from 1000 to 1000000), "
                               "got 5000.0"},
      {R"("memory_mib": 1e2)", "memory_mib must be written without a decimal point or exponent"},
      {R"("txs_max": "5000")", "txs_max must be a whole number of transactions"},
      {R"("txs_max": 18446744073709551615)", "txs_max must be a whole number of transactions"},
      {R"("memory_mib": 15)", "config.mempool.memory_mib must be a whole number of MiB from 16 "
                              "to 1024, got 15"},
      {R"("memory_mib": 1025)", "memory_mib must be a whole number of MiB"},
      {R"("memory_mib": -96)", "memory_mib must be a whole number of MiB"},
      {R"("sender_txs_max": 0)", "sender_txs_max must be a whole number of transactions from 1"},
      {R"("sender_memory_mib": 0)", "sender_memory_mib must be a whole number of MiB from 1"},
      {R"("sender_txs_max": 200001)", "config.mempool.sender_txs_max 200001 is above txs_max "
                                      "200000: one sender's share must fit in the whole pool"},
      {R"("txs_max": 5000, "sender_txs_max": 5001)", "sender_txs_max 5001 is above txs_max 5000"},
      {R"("sender_memory_mib": 97)", "config.mempool.sender_memory_mib 97 is above memory_mib 96"},
      {R"("memory_mib": 20, "sender_memory_mib": 21)", "sender_memory_mib 21 is above memory_mib 20"},
      {R"("tx_max": 5000)", "config.mempool has an unknown key 'tx_max'"},
  };
  for (const auto& [body, needle] : refused) {
    auto bad = LoadConfigText("pool-bad", ConfigJson("127.0.0.1", R"(, "mempool": {)" + body + "}"));
    ASSERT_FALSE(bad.ok()) << body;
    EXPECT_EQ(bad.error().code, "bad-config") << body;
    EXPECT_NE(bad.error().message.find(needle), std::string::npos)
        << body << ": " << bad.error().message;
  }
  auto not_object = LoadConfigText("pool-array", ConfigJson("127.0.0.1", R"(, "mempool": [1000])"));
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(not_object.error().message.find("config.mempool must be an object"), std::string::npos)
      << not_object.error().message;
}

TEST(NodeConfig, UnknownKeysAreRefused) {
  auto top = LoadConfigText("unknown", ConfigJson("127.0.0.1", R"(, "rpc_hots": "0.0.0.0")"));
  ASSERT_FALSE(top.ok());
  EXPECT_NE(top.error().message.find("unknown key 'rpc_hots'"), std::string::npos)
      << top.error().message;
  auto peer = LoadConfigText(
      "unknown-peer",
      R"({"member_id": "a", "p2p_host": "127.0.0.1", "p2p_port": 1, "rpc_host": "127.0.0.1",
          "rpc_port": 2, "peers": [{"id": "b", "host": "127.0.0.1", "port": 3, "tls": "x"}]})");
  ASSERT_FALSE(peer.ok());
  EXPECT_NE(peer.error().message.find("config.peers[0] has an unknown key 'tls'"),
            std::string::npos)
      << peer.error().message;
}

}  // namespace
}  // namespace colend::node
