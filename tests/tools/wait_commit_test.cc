// What `colend` says when a transaction it submitted is not committed within its wait
// (tools/node_commands.cc, WaitForCommit): it repeats what the node last said, against a stub node
// whose answers the test sets: still pending, unknown to the node (its pool lost it), or no answer.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "node/config.h"
#include "tests/node/rpc_test_server.h"
#include "tools/cli.h"

namespace colend::cli {
namespace {

using json = nlohmann::json;

const std::string kId(64, 'a');

class WaitForCommitTest : public node::rpc_testing::RpcTest {
 protected:
  void TearDown() override {
    OnIo([&] { stub_.reset(); });
    RpcTest::TearDown();
  }
  // A node whose wait_tx answers at once that the transaction is `status` (and timed out).
  node::NodeConfig StubNode(const std::string& status) {
    node::NodeConfig config;
    config.member_id = "lead-bank";
    config.rpc_host = "127.0.0.1";
    config.rpc_port = StartServer(&stub_, node::RpcServerConfig{},
                                  [status](const std::string& method, const json&) -> Result<json> {
                                    if (method == "wait_tx") {
                                      return json{{"tx", kId}, {"status", status}, {"timed_out", true}};
                                    }
                                    if (method == "status") {
                                      return json{{"peers", json::array({"m2"})}, {"members", 5}, {"quorum", 3}};
                                    }
                                    return MakeError("method-not-found", method);
                                  });
    return config;
  }

  std::optional<node::RpcServer> stub_;
};

TEST_F(WaitForCommitTest, APendingTransactionIsSaidToBePending) {
  auto result = WaitForCommit(StubNode("pending"), kId, 600);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "not-committed");
  EXPECT_NE(result.error().message.find("still pending (1 of 5 members connected, quorum 3)"),
            std::string::npos)
      << result.error().message;
}

TEST_F(WaitForCommitTest, ATransactionTheNodeNoLongerHoldsIsNotSaidToBePending) {
  auto result = WaitForCommit(StubNode("unknown"), kId, 600);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "not-committed");
  EXPECT_EQ(result.error().message.find("still pending"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("no longer holds it (status unknown"), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("colend tx " + kId), std::string::npos);
}

TEST_F(WaitForCommitTest, ANodeThatDoesNotAnswerIsNotSaidToHoldItPending) {
  node::NodeConfig config = StubNode("pending");
  OnIo([&] { stub_.reset(); });  // the port no longer answers
  auto result = WaitForCommit(config, kId, 600);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "not-committed");
  EXPECT_EQ(result.error().message.find("still pending"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("is not answering"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("whether it is committed is not known"), std::string::npos);
}

}  // namespace
}  // namespace colend::cli
