// The fixture the JSON-RPC server's tests share (rpc_test.cc: the wire format, limits and
// connections; rpc_session_test.cc: TLS and deferred replies): a test handler, a small blocking
// Asio client for raw HTTP (so the server is tested independently of RpcCall), and RpcTest, which
// runs a server's io_context on a background thread.
#pragma once

#include "node/rpc.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace colend::node::rpc_testing {

namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;
using nlohmann::json;

inline constexpr std::int64_t kCallTimeoutMs = 5000;

// Numbers the "execute" method was called with (the handler runs on the server's io thread).
inline std::mutex executed_mutex;
inline std::set<std::int64_t> executed;

inline Result<json> TestHandler(const std::string& method, const json& params) {
  if (method == "echo") return params;
  if (method == "execute" && params.is_array() && params.size() == 1 && params[0].is_number_integer()) {
    std::lock_guard lock(executed_mutex);
    executed.insert(params[0].get<std::int64_t>());
    return params[0];
  }
  if (method == "add") {
    if (!params.is_array() || params.size() != 2 || !params[0].is_number_integer() ||
        !params[1].is_number_integer()) {
      return MakeError("invalid-params", "add takes two integers");
    }
    return json(params[0].get<std::int64_t>() + params[1].get<std::int64_t>());
  }
  if (method == "forbidden") return MakeError("not-permitted", "only the lead bank may do that");
  if (method == "throws") return json::array().at(3);  // a handler bug: throws out_of_range
  return MakeError("method-not-found", "no method " + method);
}

struct HttpReply {
  int status = 0;
  std::string head;
  std::string body;
};

// A minimal blocking HTTP/1.1 client over one connection: writes raw request bytes, reads one
// response framed by Content-Length. A connection the server closed (or never accepted) gives
// status 0, never an exception.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : socket_(io_) {
    boost::system::error_code ignored;  // a failed connect shows as status 0 on the exchange
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ignored);
  }

  void Send(const std::string& bytes) {
    boost::system::error_code ignored;  // a closed connection shows as status 0 on the reply
    asio::write(socket_, asio::buffer(bytes), ignored);
  }

  HttpReply Exchange(const std::string& request) {
    boost::system::error_code error;
    asio::write(socket_, asio::buffer(request), error);
    if (error) return HttpReply{};
    return ReadReply();
  }

  HttpReply ReadReply() {
    HttpReply reply;
    boost::system::error_code error;
    const std::size_t head_bytes = asio::read_until(socket_, buffer_, "\r\n\r\n", error);
    if (error) return reply;
    reply.head.assign(asio::buffers_begin(buffer_.data()),
                      asio::buffers_begin(buffer_.data()) + head_bytes);
    buffer_.consume(head_bytes);
    reply.status = std::stoi(reply.head.substr(9, 3));
    std::size_t length = 0;
    if (auto at = reply.head.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(reply.head.substr(at + 16));
    }
    if (buffer_.size() < length)
      asio::read(socket_, buffer_, asio::transfer_exactly(length - buffer_.size()), error);
    if (error) return HttpReply{};  // closed before the whole answer came
    reply.body.assign(asio::buffers_begin(buffer_.data()),
                      asio::buffers_begin(buffer_.data()) + length);
    buffer_.consume(length);
    return reply;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  asio::streambuf buffer_;
};

inline std::string Post(const std::string& body, const std::string& extra_headers = "") {
  return "POST / HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

class RpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
    std::string error;
    ASSERT_TRUE(OnIo([&] {
      server_.emplace(io_, RpcServerConfig{}, TestHandler);
      return server_->Start(&error);
    })) << error;
    port_ = OnIo([&] { return server_->port(); });
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    OnIo([&] { server_.reset(); });
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  // Starts a second server with `config` (and `handler`) on the io thread into `server`; its port
  // (0 on failure).
  std::uint16_t StartServer(std::optional<RpcServer>* server, const RpcServerConfig& config,
                            RpcHandler handler = TestHandler) {
    std::string error;
    const bool started = OnIo([&] {
      server->emplace(io_, config, std::move(handler));
      return (*server)->Start(&error);
    });
    EXPECT_TRUE(started) << error;
    return started ? OnIo([&] { return (*server)->port(); }) : 0;
  }

  template <typename F>
  auto OnIo(F function) -> decltype(function()) {
    std::packaged_task<decltype(function())()> task(std::move(function));
    auto result = task.get_future();
    asio::post(io_, [&task] { task(); });
    return result.get();
  }

  // The JSON-RPC error object of a raw response.
  static json ErrorOf(const HttpReply& reply) {
    const json parsed = json::parse(reply.body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("error")) return json();
    return parsed["error"];
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::thread thread_;
  std::optional<RpcServer> server_;
  std::uint16_t port_ = 0;
};

}  // namespace colend::node::rpc_testing
