// What `colend` says when a transaction it submitted is not committed within its wait
// (tools/node_commands.cc, WaitForCommit): it repeats what the node last said, against a stub node
// whose answers the test sets: still pending, unknown to the node (its pool lost it), or no answer.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "node/config.h"
#include "node/rpc.h"
#include "tools/cli.h"

namespace colend::cli {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;

const std::string kId(64, 'a');

class WaitForCommitTest : public ::testing::Test {
 protected:
  void SetUp() override { thread_ = std::thread([this] { io_.run(); }); }
  void TearDown() override {
    OnIo([&] {
      server_.reset();
      return 0;
    });
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  template <typename F>
  auto OnIo(F function) -> decltype(function()) {
    std::packaged_task<decltype(function())()> task(std::move(function));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }
  // A node whose wait_tx answers at once that the transaction is `status` (and timed out).
  node::NodeConfig StubNode(const std::string& status) {
    const std::uint16_t port = OnIo([&] {
      server_.emplace(io_, node::RpcServerConfig{}, [status](const std::string& method, const json&) -> Result<json> {
        if (method == "wait_tx") return json{{"tx", kId}, {"status", status}, {"timed_out", true}};
        if (method == "status") return json{{"peers", json::array({"m2"})}, {"members", 5}, {"quorum", 3}};
        return MakeError("method-not-found", method);
      });
      std::string error;
      return server_->Start(&error) ? server_->port() : std::uint16_t{0};
    });
    node::NodeConfig config;
    config.member_id = "lead-bank";
    config.rpc_host = "127.0.0.1";
    config.rpc_port = port;
    return config;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::thread thread_;
  std::optional<node::RpcServer> server_;
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
  OnIo([&] {
    server_.reset();  // the port no longer answers
    return 0;
  });
  auto result = WaitForCommit(config, kId, 600);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "not-committed");
  EXPECT_EQ(result.error().message.find("still pending"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("is not answering"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("whether it is committed is not known"), std::string::npos);
}

}  // namespace
}  // namespace colend::cli
