// Proves the JSON-RPC server's two ways beyond a plain loopback call (rpc.h): TLS with client
// certificates from the consortium CA (a CA-issued client is answered; plain HTTP, a look-alike
// certificate and a server outside the client's CA are refused), and deferred methods (the
// answer is written when the reply comes, the io thread serving others meanwhile; a reply after
// the client left or after Stop does nothing).
#include "rpc_test_server.h"
#include "test_pki.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace colend::node {
namespace {

using namespace rpc_testing;

// Beyond loopback the RPC is TLS with client certificates from the consortium CA (rpc.h).
class RpcTlsTest : public RpcTest {
 protected:
  void StartTlsServer() {
    const testing::Pki& pki = testing::TestPki();
    RpcServerConfig config;
    config.tls = RpcTlsConfig{pki.ca_pem, pki.members[0].cert_pem, pki.members[0].key_pem};
    std::string error;
    ASSERT_TRUE(OnIo([&] {
      tls_server_.emplace(io_, config, TestHandler);
      return tls_server_->Start(&error);
    })) << error;
    tls_port_ = OnIo([&] { return tls_server_->port(); });
  }
  void TearDown() override {
    OnIo([&] { tls_server_.reset(); });
    RpcTest::TearDown();
  }
  std::optional<RpcServer> tls_server_;
  std::uint16_t tls_port_ = 0;
};

TEST_F(RpcTlsTest, AClientWithACaIssuedCertificateIsAnswered) {
  StartTlsServer();
  const testing::Pki& pki = testing::TestPki();
  const RpcTlsConfig client{pki.ca_pem, pki.outsider.cert_pem, pki.outsider.key_pem};
  auto result = RpcCall("127.0.0.1", tls_port_, "add", json::array({2, 3}), kCallTimeoutMs, &client);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(*result, json(5));
}

TEST_F(RpcTlsTest, PlainHttpAndForeignCertificatesAreRefused) {
  StartTlsServer();
  const testing::Pki& pki = testing::TestPki();
  // Plain HTTP to the TLS port: no answer.
  auto plain = RpcCall("127.0.0.1", tls_port_, "add", json::array({2, 3}), 2000);
  EXPECT_FALSE(plain.ok());
  RawClient raw(tls_port_);
  EXPECT_EQ(raw.Exchange(Post(R"({"jsonrpc":"2.0","id":1,"method":"add","params":[2,3]})")).status,
            0);
  // A certificate with the consortium CA's names but another key: refused in the handshake.
  const RpcTlsConfig lookalike{pki.ca_pem, pki.lookalike.cert_pem, pki.lookalike.key_pem};
  auto foreign = RpcCall("127.0.0.1", tls_port_, "add", json::array({2, 3}), kCallTimeoutMs,
                         &lookalike);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().code, "rpc-tls-failed") << foreign.error().ToString();
  // The server still answers a proper client afterwards.
  const RpcTlsConfig client{pki.ca_pem, pki.members[1].cert_pem, pki.members[1].key_pem};
  EXPECT_TRUE(RpcCall("127.0.0.1", tls_port_, "add", json::array({1, 1}), kCallTimeoutMs, &client).ok());
}

// A TLS client that has sent the start of its handshake is no longer fresh: silent connections
// opened after its 100 ms grace cannot evict it (fresh_connections_max 4 here).
TEST_F(RpcTlsTest, AClientInItsHandshakeIsNotEvictedBySilentConnections) {
  const testing::Pki& pki = testing::TestPki();
  RpcServerConfig config;
  config.tls = RpcTlsConfig{pki.ca_pem, pki.members[0].cert_pem, pki.members[0].key_pem};
  config.fresh_connections_max = 4;
  std::optional<RpcServer> server;
  const std::uint16_t port = StartServer(&server, config);
  ASSERT_NE(port, 0);
  asio::io_context client_io;
  tcp::socket handshaking(client_io);
  handshaking.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  // The first bytes of a ClientHello record (a handshake record of 512 bytes), then a stall.
  const std::string start("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  asio::write(handshaking, asio::buffer(start));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // read by the server, past its grace
  std::vector<std::unique_ptr<tcp::socket>> silent;
  for (int i = 0; i < 6; ++i) {
    silent.push_back(std::make_unique<tcp::socket>(client_io));
    silent.back()->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  // The server has taken all six: four fill the fresh pool, two more are refused (or evict).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto closed = [&] { return OnIo([&] { return server->stats().refused + server->stats().evicted; }); };
  while (closed() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(closed(), 2u);
  handshaking.non_blocking(true);
  char byte = 0;
  boost::system::error_code error;
  handshaking.read_some(asio::buffer(&byte, 1), error);
  EXPECT_EQ(error, asio::error::would_block) << "the handshaking client was closed: " << error.message();
  EXPECT_EQ(OnIo([&] { return server->stats().evicted; }), 0u);
  OnIo([&] { server.reset(); });
}

TEST_F(RpcTlsTest, TheClientRefusesAServerOutsideItsCa) {
  StartTlsServer();
  const testing::Pki& pki = testing::TestPki();
  // The client trusts only a CA that did not issue the server's certificate.
  const testing::Authority other = testing::MakeCa(99);
  const RpcTlsConfig client{other.certificate.ToPem(), pki.members[1].cert_pem,
                            pki.members[1].key_pem};
  auto result = RpcCall("127.0.0.1", tls_port_, "add", json::array({2, 3}), kCallTimeoutMs, &client);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "rpc-tls-failed") << result.error().ToString();
}

// Deferred methods (rpc.h, RpcDeferredHandler): "later" keeps its reply until the test answers
// it; "now" answers inside the handler; every other method goes to the plain handler.
class RpcDeferredTest : public RpcTest {
 protected:
  void SetUp() override {
    RpcTest::SetUp();
    std::string error;
    ASSERT_TRUE(OnIo([&] {
      deferred_server_.emplace(
          io_, RpcServerConfig{}, TestHandler,
          [this](const std::string& method, const json& params, const std::string& client,
                 RpcReply reply) {
            if (method == "now") {
              reply(json{{"now", params}, {"client", client}});
              return true;
            }
            if (method != "later") return false;
            kept_.push_back(std::move(reply));
            return true;
          });
      return deferred_server_->Start(&error);
    })) << error;
    deferred_port_ = OnIo([&] { return deferred_server_->port(); });
  }
  void TearDown() override {
    OnIo([&] {
      kept_.clear();
      deferred_server_.reset();
    });
    RpcTest::TearDown();
  }
  std::size_t Kept() {
    return OnIo([&] { return kept_.size(); });
  }
  // Waits until `n` replies are kept (the calls reached the server).
  void AwaitKept(std::size_t n) {
    for (int i = 0; i < 500 && Kept() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(Kept(), n);
  }
  std::optional<RpcServer> deferred_server_;
  std::uint16_t deferred_port_ = 0;
  std::vector<RpcReply> kept_;  // touched on the io thread only
};

TEST_F(RpcDeferredTest, AnswerIsWrittenWhenTheReplyComes) {
  auto pending = std::async(std::launch::async, [&] {
    return RpcCall("127.0.0.1", deferred_port_, "later", json{{"x", 1}}, kCallTimeoutMs);
  });
  AwaitKept(1);
  // Nothing is answered until the reply: the io thread is free meanwhile (another call is served).
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  auto sum = RpcCall("127.0.0.1", deferred_port_, "add", json::array({2, 3}), kCallTimeoutMs);
  ASSERT_TRUE(sum.ok()) << sum.error().ToString();
  EXPECT_EQ(*sum, 5);
  OnIo([&] { kept_[0](json{{"done", true}}); });
  auto answer = pending.get();
  ASSERT_TRUE(answer.ok()) << answer.error().ToString();
  EXPECT_EQ(*answer, (json{{"done", true}}));
  // A second reply is ignored.
  OnIo([&] { kept_[0](json{{"again", true}}); });
}

TEST_F(RpcDeferredTest, ErrorsAndImmediateRepliesAndKeepAlive) {
  auto later = std::async(std::launch::async, [&] {
    return RpcCall("127.0.0.1", deferred_port_, "later", json::object(), kCallTimeoutMs);
  });
  AwaitKept(1);
  OnIo([&] { kept_[0](MakeError("too-many-waiters", "try later")); });
  auto refused = later.get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "too-many-waiters");
  // A reply given inside the handler, twice on one kept-alive connection.
  RawClient client(deferred_port_);
  for (int i = 0; i < 2; ++i) {
    HttpReply reply = client.Exchange(Post(R"({"jsonrpc":"2.0","id":7,"method":"now","params":[1]})"));
    EXPECT_EQ(reply.status, 200);
    // The handler is told the caller's source address (what the per-address limits count).
    EXPECT_EQ(json::parse(reply.body)["result"], (json{{"now", {1}}, {"client", "127.0.0.1"}}));
  }
}

TEST_F(RpcDeferredTest, ReplyAfterTheClientLeftOrAfterStopDoesNothing) {
  {
    RawClient gone(deferred_port_);
    gone.Send(Post(R"({"jsonrpc":"2.0","id":1,"method":"later"})"));
    AwaitKept(1);
  }  // the client hangs up before the answer
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  OnIo([&] { kept_[0](json("late")); });
  EXPECT_TRUE(RpcCall("127.0.0.1", deferred_port_, "echo", json::array(), kCallTimeoutMs).ok());
  RawClient waiting(deferred_port_);
  waiting.Send(Post(R"({"jsonrpc":"2.0","id":2,"method":"later"})"));
  AwaitKept(2);
  OnIo([&] {
    deferred_server_->Stop();
    kept_[1](json("after stop"));
  });
  EXPECT_EQ(waiting.ReadReply().status, 0);  // closed without an answer
}

}  // namespace
}  // namespace colend::node
