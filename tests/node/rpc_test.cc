// Proves that the JSON-RPC server and RpcCall follow JSON-RPC 2.0 over HTTP/1.1 as rpc.h
// documents: results come back; unknown methods (-32601), bad params (-32602) and application
// errors (-32000 with data.code) map to the documented RpcCall errors; malformed JSON (-32700),
// batches and ill-formed requests (-32600) are answered, not crashed on; a body over the limit
// gets 413 and the server keeps serving; keep-alive works; wrong paths and verbs get 404/405;
// RpcCall reports a closed port as "rpc-unreachable" and a silent server as "rpc-timeout".
//
// The server's io_context runs on a background thread; raw HTTP checks use a small blocking
// Asio client so the server is tested independently of RpcCall.
#include "rpc_test_server.h"

#include "node/json_rpc.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace colend::node {
namespace {

using namespace rpc_testing;

TEST_F(RpcTest, MethodReturnsItsResult) {
  auto echoed =
      RpcCall("127.0.0.1", port_, "echo", {{"loan", "L-1"}, {"fen", 4000000}}, kCallTimeoutMs);
  ASSERT_TRUE(echoed.ok()) << echoed.error().ToString();
  EXPECT_EQ(*echoed, (json{{"loan", "L-1"}, {"fen", 4000000}}));
  auto sum = RpcCall("localhost", port_, "add", json::array({2, 40}), kCallTimeoutMs);
  ASSERT_TRUE(sum.ok()) << sum.error().ToString();
  EXPECT_EQ(*sum, 42);
}

TEST_F(RpcTest, ErrorsMapToTheDocumentedCodes) {
  auto unknown = RpcCall("127.0.0.1", port_, "no.such.method", json::object(), kCallTimeoutMs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "rpc-error--32601");
  EXPECT_EQ(unknown.error().message, "no method no.such.method");

  auto bad_params = RpcCall("127.0.0.1", port_, "add", json::array({1}), kCallTimeoutMs);
  ASSERT_FALSE(bad_params.ok());
  EXPECT_EQ(bad_params.error().code, "rpc-error--32602");

  auto forbidden = RpcCall("127.0.0.1", port_, "forbidden", json(), kCallTimeoutMs);
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, "not-permitted");
  EXPECT_EQ(forbidden.error().message, "only the lead bank may do that");

  // A throwing handler is a -32603 answer, and the server keeps running.
  auto thrown = RpcCall("127.0.0.1", port_, "throws", json(), kCallTimeoutMs);
  ASSERT_FALSE(thrown.ok());
  EXPECT_EQ(thrown.error().code, "rpc-error--32603");
  EXPECT_TRUE(RpcCall("127.0.0.1", port_, "echo", json::array(), kCallTimeoutMs).ok());
}

TEST_F(RpcTest, WireFormatOfErrors) {
  RawClient client(port_);
  HttpReply unknown = client.Exchange(Post(R"({"jsonrpc":"2.0","id":"a","method":"nope"})"));
  EXPECT_EQ(unknown.status, 200);
  EXPECT_NE(unknown.head.find("Content-Type: application/json"), std::string::npos);
  const json reply = json::parse(unknown.body);
  EXPECT_EQ(reply["jsonrpc"], "2.0");
  EXPECT_EQ(reply["id"], "a");
  EXPECT_EQ(reply["error"]["code"], -32601);

  HttpReply forbidden =
      client.Exchange(Post(R"({"jsonrpc":"2.0","id":7,"method":"forbidden","params":[]})"));
  EXPECT_EQ(ErrorOf(forbidden)["code"], -32000);
  EXPECT_EQ(ErrorOf(forbidden)["data"]["code"], "not-permitted");
}

// The extremes of a 64-bit id come back exactly as sent.
TEST_F(RpcTest, WholeNumberIdsUpTo64BitsAreEchoedExactly) {
  RawClient client(port_);
  for (const std::string id : {"18446744073709551615", "-9223372036854775808", "0"}) {
    HttpReply reply = client.Exchange(Post(R"({"jsonrpc":"2.0","id":)" + id + R"(,"method":"echo"})"));
    EXPECT_EQ(reply.status, 200);
    EXPECT_NE(reply.body.find(R"("id":)" + id + ","), std::string::npos) << reply.body;
  }
}

// A body framed by a transfer coding other than chunked has no length the server can know
// (RFC 9112 6.3): 400 and the connection closed, the call not executed.
TEST_F(RpcTest, ATransferCodingOtherThanChunkedIsABadRequest) {
  for (const std::string coding :
       {"gzip", "gzip, chunked, identity", "identity", "chunked\r\nTransfer-Encoding: gzip"}) {
    RawClient client(port_);
    const std::string body = R"({"jsonrpc":"2.0","id":1,"method":"echo"})";
    HttpReply reply = client.Exchange("POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: " +
                                      coding + "\r\n\r\n" + body);
    EXPECT_EQ(reply.status, 400) << coding;
    EXPECT_NE(reply.body.find("Transfer-Encoding"), std::string::npos) << reply.body;
  }
  // Chunked is still read.
  RawClient chunked(port_);
  const std::string body = R"({"jsonrpc":"2.0","id":2,"method":"echo"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  HttpReply reply = chunked.Exchange(std::string("POST / HTTP/1.1\r\nHost: test\r\n") +
                                     "Transfer-Encoding: chunked\r\n\r\n" + size + "\r\n" +
                                     body + "\r\n0\r\n\r\n");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(json::parse(reply.body)["id"], 2) << reply.body;
}

TEST_F(RpcTest, MalformedJsonIsAParseError) {
  RawClient client(port_);
  HttpReply reply = client.Exchange(Post(R"({"jsonrpc":"2.0","id":1,"method":)"));
  EXPECT_EQ(reply.status, 200);
  const json error = ErrorOf(reply);
  EXPECT_EQ(error["code"], -32700);
  EXPECT_TRUE(error["message"].get<std::string>().starts_with("parse error: ")) << error;
  EXPECT_EQ(json::parse(reply.body)["id"], nullptr);
}

TEST_F(RpcTest, InvalidRequestsAreRejected) {
  RawClient client(port_);
  const std::pair<std::string, std::string> cases[] = {
      {R"([{"jsonrpc":"2.0","id":1,"method":"echo"}])", "batch requests are not supported"},
      {R"("echo")", "request must be a JSON object"},
      {R"({"id":1,"method":"echo"})", "jsonrpc must be \"2.0\""},
      {R"({"jsonrpc":"1.0","id":1,"method":"echo"})", "jsonrpc must be \"2.0\""},
      {R"({"jsonrpc":"2.0","id":1,"method":5})", "method must be a string"},
      {R"({"jsonrpc":"2.0","id":1,"method":"echo","params":3})", "params must be an object"},
      {R"({"jsonrpc":"2.0","id":{},"method":"echo"})", "id must be a string, number or null"},
      {R"({"jsonrpc":"2.0","method":"echo"})", "missing id"},
      // Beyond 64 bits or with a fraction, a number id would come back rounded.
      {R"({"jsonrpc":"2.0","id":100000000000000000001,"method":"echo"})",
       "id must be a whole number of at most 64 bits"},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"echo"})", "id must be a whole number"},
      {R"({"jsonrpc":"2.0","id":-1e3,"method":"echo"})", "id must be a whole number"},
  };
  for (const auto& [body, message] : cases) {
    const json error = ErrorOf(client.Exchange(Post(body)));  // one keep-alive connection
    EXPECT_EQ(error["code"], -32600) << body;
    EXPECT_NE(error["message"].get<std::string>().find(message), std::string::npos)
        << body << " → " << error;
  }
}

// 100,000 nested arrays in params (200 KB) used to crash the node (the DOM is copied and destroyed
// recursively): the nesting is refused before a DOM is built, and the server keeps serving.
// Brackets inside strings do not count.
TEST_F(RpcTest, DeeplyNestedJsonIsRefusedWithoutADom) {
  RawClient client(port_);
  const std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":)" +
                           std::string(100000, '[') + std::string(100000, ']') + "}";
  const json error = ErrorOf(client.Exchange(Post(deep)));
  EXPECT_EQ(error["code"], -32600);
  EXPECT_NE(error["message"].get<std::string>().find("nests deeper than 32"), std::string::npos) << error;
  const std::string shallow_in_string =
      R"({"jsonrpc":"2.0","id":2,"method":"echo","params":[")" + std::string(1000, '[') + R"("]})";
  HttpReply ok = client.Exchange(Post(shallow_in_string));
  EXPECT_FALSE(json::parse(ok.body).contains("error")) << ok.body.substr(0, 200);
  auto after = RpcCall("127.0.0.1", port_, "echo", json::array({"still here"}), kCallTimeoutMs);
  ASSERT_TRUE(after.ok()) << after.error().ToString();
}

// 8 MiB of "[{},{},...]" would be millions of objects: refused, counted before any DOM is built.
// One value under the limit is still echoed.
TEST_F(RpcTest, AJsonRequestWithTooManyValuesIsRefusedWithoutADom) {
  RawClient client(port_);
  auto with_params = [](std::size_t count) {
    std::string params = "[0";
    for (std::size_t i = 1; i < count; ++i) params += ",0";
    return R"({"jsonrpc":"2.0","id":1,"method":"echo","params":)" + params + "]}";
  };
  // The request itself holds 4 values besides its params' elements and the params array.
  const json error = ErrorOf(client.Exchange(Post(with_params(json_rpc::kJsonValuesMax))));
  EXPECT_EQ(error["code"], -32600);
  EXPECT_NE(error["message"].get<std::string>().find("more than 100000 values"), std::string::npos)
      << error;
  const json ok = json::parse(client.Exchange(Post(with_params(json_rpc::kJsonValuesMax - 10))).body);
  ASSERT_TRUE(ok.contains("result")) << ok.dump().substr(0, 200);
  EXPECT_EQ(ok["result"].size(), json_rpc::kJsonValuesMax - 10);
}

// Bodies being read by all connections together are bounded: once two 1 MB bodies are half sent
// with a 2 MB bound, a third announced body is answered 503 without being read; a small call
// (at most 64 KiB: not counted) is answered all the while, the bound full.
TEST_F(RpcTest, RequestBodiesBeingReadAreBoundedInAll) {
  RpcServerConfig config;
  config.body_bytes_max = 1u << 20;
  config.body_bytes_in_flight_max = 2000000;  // full with the two bodies below
  std::optional<RpcServer> bounded;
  const std::uint16_t port = StartServer(&bounded, config);
  ASSERT_NE(port, 0);
  const std::string header =
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
  RawClient first(port), second(port), third(port);
  first.Send(header + std::string(500000, ' '));
  second.Send(header + std::string(500000, ' '));
  // Both bodies being read (polled: the machine may be slow).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (OnIo([&] { return bounded->stats().body_bytes_reading; }) < 2000000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(OnIo([&] { return bounded->stats().body_bytes_reading; }), 2000000u);
  third.Send(header);
  HttpReply busy = third.ReadReply();
  EXPECT_EQ(busy.status, 503);
  EXPECT_NE(ErrorOf(busy)["message"].get<std::string>().find("server busy: 2000000 bytes of request "
                                                              "bodies are being read (limit 2000000)"),
            std::string::npos)
      << busy.body;
  auto small = RpcCall("127.0.0.1", port, "echo", json::array({9}), kCallTimeoutMs);
  ASSERT_TRUE(small.ok()) << small.error().ToString();
  EXPECT_EQ(OnIo([&] { return bounded->stats().busy; }), 1u);
  OnIo([&] { bounded.reset(); });
}

TEST_F(RpcTest, OversizedBodyGets413AndTheServerKeepsServing) {
  {
    RawClient client(port_);
    const std::string body(9u << 20, ' ');  // 9 MiB of whitespace: valid JSON padding, too big
    HttpReply reply = client.Exchange(Post(body));
    EXPECT_EQ(reply.status, 413);
    const json error = ErrorOf(reply);
    EXPECT_EQ(error["code"], -32600);
    EXPECT_EQ(error["message"], "request body exceeds 8388608 bytes");
  }
  auto after = RpcCall("127.0.0.1", port_, "echo", json::array({"still here"}), kCallTimeoutMs);
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(*after, json::array({"still here"}));
}

TEST_F(RpcTest, RpcCallSurfacesTheOversizedBodyError) {
  auto big = RpcCall("127.0.0.1", port_, "echo", json::array({std::string(9u << 20, 'a')}),
                     kCallTimeoutMs);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "rpc-error--32600");
  EXPECT_EQ(big.error().message, "request body exceeds 8388608 bytes");
}

TEST_F(RpcTest, HealthPathsAndVerbs) {
  RawClient client(port_);
  HttpReply health = client.Exchange("GET /health HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  // GET / is the dashboard: self-contained, served with a policy that allows this origin only.
  HttpReply get_root = client.Exchange("GET / HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_EQ(get_root.status, 200);
  EXPECT_NE(get_root.head.find("Content-Type: text/html"), std::string::npos);
  EXPECT_NE(get_root.head.find("Content-Security-Policy: default-src 'none'; script-src 'self'"),
            std::string::npos);
  EXPECT_NE(get_root.body.find("<script src=\"/dashboard.js\""), std::string::npos);
  EXPECT_EQ(get_root.body.find("http"), std::string::npos) << "the page loads nothing from elsewhere";
  HttpReply script = client.Exchange("GET /dashboard.js HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_EQ(script.status, 200);
  EXPECT_NE(script.head.find("Content-Type: text/javascript"), std::string::npos);
  EXPECT_EQ(script.body.find("innerHTML"), std::string::npos) << "chain text is never markup";
  HttpReply delete_root = client.Exchange("DELETE / HTTP/1.1\r\nHost: test\r\n\r\n");
  EXPECT_EQ(delete_root.status, 405);
  EXPECT_NE(delete_root.head.find("Allow: GET, POST"), std::string::npos);
  EXPECT_EQ(ErrorOf(delete_root)["code"], -32600);
  HttpReply elsewhere =
      client.Exchange("POST /admin HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(elsewhere.status, 404);
  EXPECT_EQ(ErrorOf(elsewhere)["code"], -32600);
  // Still the same keep-alive connection.
  HttpReply echo =
      client.Exchange(Post(R"({"jsonrpc":"2.0","id":2,"method":"echo","params":[1]})"));
  EXPECT_EQ(json::parse(echo.body)["result"], json::array({1}));
}

TEST_F(RpcTest, ClosedPortIsUnreachable) {
  std::uint16_t closed_port = 0;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  auto result = RpcCall("127.0.0.1", closed_port, "echo", json(), kCallTimeoutMs);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "rpc-unreachable");
}

TEST_F(RpcTest, SilentServerTimesOut) {
  // A listener that never accepts: the kernel completes the TCP handshake, nobody answers.
  asio::io_context io;
  tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto started = std::chrono::steady_clock::now();
  auto result = RpcCall("127.0.0.1", silent.local_endpoint().port(), "echo", json(), 200);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "rpc-timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(RpcTest, AWaitingConnectionIsEvictedForANewClient) {
  RpcServerConfig config;
  config.connections_max = 1;
  config.connections_per_client_max = 1;
  std::optional<RpcServer> limited;
  const std::uint16_t port = StartServer(&limited, config);
  ASSERT_NE(port, 0);
  const std::string ping = Post(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[]})");
  RawClient first(port);
  EXPECT_EQ(first.Exchange(ping).status, 200);  // holds the only slot (keep-alive, waiting)
  RawClient second(port);
  EXPECT_EQ(second.Exchange(ping).status, 200);  // evicts the idle first connection
  EXPECT_EQ(first.Exchange(ping).status, 0);     // the first was closed
  // Counted for the operator (colend_rpc_connections_closed_total): one evicted; the first's
  // attempt above found its connection closed, nothing refused.
  EXPECT_EQ(OnIo([&] { return limited->stats().evicted; }), 1u);
  EXPECT_EQ(OnIo([&] { return limited->stats().refused; }), 0u);
  OnIo([&] { limited.reset(); });
}

TEST_F(RpcTest, ANewcomerRefusedWhileEveryFreshSlotIsInItsGraceIsCounted) {
  RpcServerConfig config;
  config.fresh_connections_max = 1;
  std::optional<RpcServer> limited;
  const std::uint16_t port = StartServer(&limited, config);
  ASSERT_NE(port, 0);
  const auto connected = std::chrono::steady_clock::now();
  RawClient early(port);  // fresh, within its grace period (kFreshGraceMs, 100 ms)
  RawClient late(port);   // finds the only fresh slot taken: closed at once
  const bool in_grace = std::chrono::steady_clock::now() - connected < std::chrono::milliseconds(50);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const std::string ping = Post(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[]})");
  const int late_status = late.Exchange(ping).status;
  const auto refused = OnIo([&] { return limited->stats().refused; });
  const auto evicted = OnIo([&] { return limited->stats().evicted; });
  EXPECT_EQ(refused + evicted, 1u);  // one newcomer over the limit: one connection closed
  if (late_status == 0) {
    EXPECT_EQ(refused, 1u);  // the newcomer was the one closed
    EXPECT_EQ(early.Exchange(ping).status, 200);
  } else {
    // Only if this machine stalled the server past the early one's grace period: then the early
    // one is evicted instead, and counted as such.
    EXPECT_FALSE(in_grace) << "the newcomer was answered although the fresh slot was in its grace";
    EXPECT_EQ(evicted, 1u);
  }
  OnIo([&] { limited.reset(); });
}

// Clients over the per-address limit keep re-connecting, so the server keeps closing the oldest
// connections waiting for a request, some with a request already read and not yet handled. A
// connection closed without an answer must have had nothing executed: a client that resends
// after a lost connection must not find its first request executed behind its back.
TEST_F(RpcTest, AConnectionClosedWithoutAnAnswerHadNothingExecuted) {
  RpcServerConfig config;
  config.connections_max = 4;
  config.connections_per_client_max = 4;
  std::optional<RpcServer> limited;
  const std::uint16_t port = StartServer(&limited, config);
  ASSERT_NE(port, 0);
  {
    std::lock_guard lock(executed_mutex);
    executed.clear();
  }
  constexpr int kClients = 16;
  std::vector<std::vector<std::int64_t>> answered(kClients);
  std::vector<int> unanswered(kClients, 0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::int64_t next = static_cast<std::int64_t>(c) << 32;
      while (std::chrono::steady_clock::now() < until) {
        RawClient client(port);
        while (std::chrono::steady_clock::now() < until) {
          const std::int64_t n = next++;
          const std::string request = Post(R"({"jsonrpc":"2.0","id":1,"method":"execute","params":[)" +
                                           std::to_string(n) + "]}");
          if (client.Exchange(request).status == 0) {  // closed without an answer
            ++unanswered[c];
            break;
          }
          answered[c].push_back(n);
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  OnIo([&] { limited.reset(); });
  std::set<std::int64_t> all_answered;
  int closed = 0;
  for (int c = 0; c < kClients; ++c) {
    all_answered.insert(answered[c].begin(), answered[c].end());
    closed += unanswered[c];
  }
  std::lock_guard lock(executed_mutex);
  EXPECT_GT(closed, 20) << "the limit should have closed many connections";
  EXPECT_GT(all_answered.size(), 20u);
  int executed_unanswered = 0;
  for (std::int64_t n : executed) executed_unanswered += all_answered.count(n) == 0 ? 1 : 0;
  EXPECT_EQ(executed_unanswered, 0) << "of " << closed << " requests whose connection was closed "
                                    << "without an answer, " << executed_unanswered << " were executed";
}

// A flood that re-opens whatever is closed cycles through the evictable connections; the ones
// stalled mid-request go first, so a client that has connected but not yet sent its request
// (behind 63 newer flood connections, or slow to send) is not evicted while stalled ones remain.
TEST_F(RpcTest, StalledConnectionsAreEvictedBeforeAFreshOne) {
  RpcServerConfig config;
  config.connections_max = 3;
  config.connections_per_client_max = 3;
  std::optional<RpcServer> limited;
  const std::uint16_t port = StartServer(&limited, config);
  ASSERT_NE(port, 0);
  const std::string half = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n";
  RawClient stalled_old(port);
  stalled_old.Send(half);
  RawClient fresh(port);  // connected, request not sent yet
  RawClient stalled_new(port);
  stalled_new.Send(half);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server has read them
  RawClient newcomer1(port);  // evicts stalled_old
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  RawClient newcomer2(port);  // evicts stalled_new, not the older fresh connection
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(fresh.Exchange(Post(R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[]})")).status,
            200);
  OnIo([&] { limited.reset(); });
}

TEST_F(RpcTest, HalfSentRequestsDoNotLockOutAClient) {
  // 300 connections that send half a header and stop: more than connections_max (256).
  const std::uint16_t port = OnIo([&] { return server_->port(); });
  std::vector<std::unique_ptr<RawClient>> stuck;
  for (int i = 0; i < 300; ++i) {
    stuck.push_back(std::make_unique<RawClient>(port));
    stuck.back()->Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server has read them
  const auto started = std::chrono::steady_clock::now();
  auto result = RpcCall("127.0.0.1", port, "echo", json::array({7}), kCallTimeoutMs);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(*result, json::array({7}));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

// A request whose announced body is over the limit is answered 413, then its connection lingers
// (up to 2 s) to drain what the client still sends. Such lingering connections, more than the
// per-client limit (64), must not keep a client's next call out.
TEST_F(RpcTest, OversizedRequestsDoNotLockOutAClient) {
  const std::uint16_t port = OnIo([&] { return server_->port(); });
  std::vector<std::unique_ptr<RawClient>> oversized;
  for (int i = 0; i < 70; ++i) {
    oversized.push_back(std::make_unique<RawClient>(port));
    oversized.back()->Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n");
  }
  // Each answered 413 (now lingering), or closed to make room: read, not slept on.
  int answered = 0;
  for (auto& client : oversized) answered += client->ReadReply().status == 413 ? 1 : 0;
  EXPECT_GE(answered, 64);
  auto result = RpcCall("127.0.0.1", port, "echo", json::array({8}), kCallTimeoutMs);
  ASSERT_TRUE(result.ok()) << result.error().ToString();
  EXPECT_EQ(*result, json::array({8}));
}

TEST_F(RpcTest, AHalfSentHeaderTimesOut) {
  RpcServerConfig config;
  config.header_timeout_ms = 200;
  std::optional<RpcServer> impatient;
  const std::uint16_t port = StartServer(&impatient, config);
  ASSERT_NE(port, 0);
  RawClient client(port);
  client.Send("POST / HTTP/1.1\r\nHost: x\r\n");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(client.ReadReply().status, 0);  // closed, not kept for idle_timeout_ms (30 s)
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  OnIo([&] { impatient.reset(); });
}

TEST_F(RpcTest, PerClientLimitAboveTotalIsRefusedAtStart) {
  RpcServerConfig config;
  config.connections_max = 4;
  config.connections_per_client_max = 5;
  std::string error;
  const bool started = OnIo([&] {
    RpcServer server(io_, config, TestHandler);
    return server.Start(&error);
  });
  EXPECT_FALSE(started);
  EXPECT_NE(error.find("connections_per_client_max"), std::string::npos) << error;
}

TEST_F(RpcTest, IdleConnectionIsClosed) {
  RpcServerConfig config;
  config.header_timeout_ms = 100;  // an idle connection waits for a request header
  std::optional<RpcServer> impatient;
  const std::uint16_t port = StartServer(&impatient, config);
  ASSERT_NE(port, 0);
  RawClient client(port);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(client.ReadReply().status, 0);  // the server hangs up; nothing was asked
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  OnIo([&] { impatient.reset(); });
}

// RpcConnection keeps one connection across calls and reconnects after the server closed it.
TEST_F(RpcTest, KeptConnectionAnswersAndReconnects) {
  RpcServerConfig config;
  config.header_timeout_ms = 100;  // closes an idle kept connection quickly
  std::optional<RpcServer> impatient;
  const std::uint16_t port = StartServer(&impatient, config);
  ASSERT_NE(port, 0);
  RpcConnection connection("127.0.0.1", port);
  for (int i = 0; i < 3; ++i) {
    auto sum = connection.Call("add", json::array({i, 1}), kCallTimeoutMs);
    ASSERT_TRUE(sum.ok()) << sum.error().ToString();
    EXPECT_EQ(*sum, i + 1);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server hung up meanwhile
  auto again = connection.Call("echo", json{{"a", 1}}, kCallTimeoutMs);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, (json{{"a", 1}}));
  auto unknown = connection.Call("nope", json::object(), kCallTimeoutMs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, "rpc-error--32601");
  OnIo([&] { impatient.reset(); });
  RpcConnection closed("127.0.0.1", port);
  auto unreachable = closed.Call("echo", json::array(), kCallTimeoutMs);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.error().code, "rpc-unreachable");
}

TEST_F(RpcTest, StartFailsWhenThePortIsTaken) {
  std::string error;
  RpcServerConfig config;
  config.port = port_;
  const bool started = OnIo([&] {
    RpcServer second(io_, config, TestHandler);
    return second.Start(&error);
  });
  EXPECT_FALSE(started);
  EXPECT_NE(error.find("cannot listen"), std::string::npos) << error;
}

}  // namespace
}  // namespace colend::node
