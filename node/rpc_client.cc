// RpcCall: one blocking JSON-RPC call over HTTP/1.1 (Boost.Beast), on its own io_context so it
// can be used from any thread that is not running the node's io_context. One deadline covers
// connect, write and read (beast::tcp_stream::expires_after); name resolution, when the host is
// not a literal address, is guarded by a timer.
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "node/rpc.h"
#include "node/tls_context.h"

namespace colend::node {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;
using nlohmann::json;

// A response larger than this is not one our server sends; refuse to buffer it.
constexpr std::uint32_t kResponseBytesMax = 64u << 20;
constexpr std::int64_t kRequestId = 1;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Turns the HTTP response into the call's result (see rpc.h for the error codes).
Result<json> InterpretResponse(const http::response<http::string_body>& response,
                               std::int64_t request_id = kRequestId) {
  const unsigned status = response.result_int();
  const json reply = json::parse(response.body(), nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return MakeError("rpc-bad-response",
                     "HTTP " + std::to_string(status) + " response is not a JSON-RPC object");
  }
  if (auto error = reply.find("error"); error != reply.end()) {
    if (!error->is_object() || !error->contains("code") || !(*error)["code"].is_number_integer()) {
      return MakeError("rpc-bad-response", "malformed error object in response");
    }
    const auto& message = (*error)["message"];
    std::string text = message.is_string() ? message.get<std::string>() : Dump(message);
    if (auto data = error->find("data"); data != error->end() && data->is_object()) {
      if (auto code = data->find("code"); code != data->end() && code->is_string()) {
        return MakeError(code->get<std::string>(), std::move(text));
      }
    }
    return MakeError("rpc-error-" + std::to_string((*error)["code"].get<std::int64_t>()),
                     std::move(text));
  }
  if (status != 200) {
    return MakeError("rpc-bad-response", "HTTP " + std::to_string(status) + " without an error");
  }
  auto result = reply.find("result");
  auto id = reply.find("id");
  if (result == reply.end() || id == reply.end() || *id != request_id) {
    return MakeError("rpc-bad-response", "response lacks a result for our request id");
  }
  return *result;
}

// The asynchronous exchange, driven to completion by RpcCall's io.run().
class Call {
 public:
  Call(asio::io_context& io, std::string host, std::uint16_t port, std::string body,
       std::int64_t timeout_ms, ssl::context* tls)
      : host_(std::move(host)),
        port_(port),
        where_(host_ + ":" + std::to_string(port)),
        timeout_(std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms, 1))),
        resolver_(io),
        resolve_timer_(io),
        stream_(io),
        request_(http::verb::post, "/", 11) {
    if (tls) tls_stream_.emplace(io, *tls);
    request_.set(http::field::host, where_);
    request_.set(http::field::user_agent, "colend-rpc");
    request_.set(http::field::content_type, "application/json");
    request_.keep_alive(false);
    request_.body() = std::move(body);
    request_.prepare_payload();
    parser_.body_limit(kResponseBytesMax);
  }

  void Begin() {
    deadline_ = std::chrono::steady_clock::now() + timeout_;
    error_code ec;
    const auto address = asio::ip::make_address(host_, ec);
    if (!ec) return Connect({tcp::endpoint(address, port_)});
    resolve_timer_.expires_at(deadline_);
    resolve_timer_.async_wait([this](const error_code& error) {
      if (!error) resolver_.cancel();
    });
    resolver_.async_resolve(
        host_, std::to_string(port_),
        [this](const error_code& error, tcp::resolver::results_type results) {
          resolve_timer_.cancel();
          if (error) {
            const std::string why =
                error == asio::error::operation_aborted ? "timed out" : error.message();
            failure_ = MakeError("rpc-unreachable", "cannot resolve " + host_ + ": " + why);
            return;
          }
          std::vector<tcp::endpoint> endpoints;
          for (const auto& entry : results) endpoints.push_back(entry.endpoint());
          Connect(std::move(endpoints));
        });
  }

  Result<json> Outcome() const {
    if (failure_) return *failure_;
    if (!response_) return MakeError("rpc-bad-response", "no response from " + where_);
    return InterpretResponse(*response_);
  }

 private:
  void Connect(std::vector<tcp::endpoint> endpoints) {
    endpoints_ = std::move(endpoints);
    beast::tcp_stream& lowest = tls_stream_ ? beast::get_lowest_layer(*tls_stream_) : stream_;
    lowest.expires_at(deadline_);
    lowest.async_connect(endpoints_, [this](const error_code& error, const tcp::endpoint&) {
      if (error) {
        const std::string why = error == beast::error::timeout ? "timed out" : error.message();
        failure_ = MakeError("rpc-unreachable", "cannot connect to " + where_ + ": " + why +
                                                    " (is the node running?)");
        return;
      }
      if (!tls_stream_) return Exchange(stream_);
      tls_stream_->async_handshake(ssl::stream_base::client, [this](const error_code& tls_error) {
        if (tls_error == beast::error::timeout) return Fail("the TLS handshake", tls_error);
        if (tls_error) {
          failure_ = Error{"rpc-tls-failed",
                           "TLS with " + where_ +
                               " failed: the node's certificate is not from our CA, or it "
                               "refused ours",
                           tls_error.message()};
          return;
        }
        Exchange(*tls_stream_);
      });
    });
  }

  template <class Stream>
  void Exchange(Stream& stream) {
    http::async_write(stream, request_, [this, &stream](const error_code& write_error,
                                                        std::size_t) {
      if (write_error) return Fail("sending the request", write_error);
      http::async_read(stream, buffer_, parser_,
                       [this, &stream](const error_code& read_error, std::size_t) {
                         if (read_error) return Fail("reading the response", read_error);
                         response_ = parser_.release();
                         error_code ignored;
                         beast::get_lowest_layer(stream).socket().shutdown(
                             tcp::socket::shutdown_both, ignored);
                       });
    });
  }

  void Fail(const std::string& stage, const error_code& error) {
    if (error == beast::error::timeout) {
      failure_ = MakeError("rpc-timeout", "no answer from " + where_ + " within " +
                                              std::to_string(timeout_.count()) + " ms");
      return;
    }
    if (error.category() == asio::error::get_ssl_category()) {
      // TLS 1.3: the server checks our certificate after our side of the handshake, so its
      // refusal (an alert) arrives while we write or read.
      failure_ = Error{"rpc-tls-failed",
                       "TLS with " + where_ + " failed while " + stage +
                           ": the node refused our certificate (is it issued by the node's CA?)",
                       error.message()};
      return;
    }
    failure_ = MakeError("rpc-bad-response",
                         where_ + ": connection failed while " + stage + ": " + error.message());
  }

  const std::string host_;
  const std::uint16_t port_;
  const std::string where_;
  const std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point deadline_;
  tcp::resolver resolver_;
  asio::steady_timer resolve_timer_;
  beast::tcp_stream stream_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;  // instead of stream_ with TLS
  std::vector<tcp::endpoint> endpoints_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
  std::optional<http::response<http::string_body>> response_;
  std::optional<Error> failure_;
};

}  // namespace

Result<nlohmann::json> RpcCall(const std::string& host, std::uint16_t port,
                               const std::string& method, const nlohmann::json& params,
                               std::int64_t timeout_ms, const RpcTlsConfig* tls) {
  try {
    json request = {{"jsonrpc", "2.0"}, {"id", kRequestId}, {"method", method}};
    if (!params.is_null()) request["params"] = params;
    std::optional<ssl::context> context;
    if (tls) {
      std::string error;
      context = MakeTlsContext(tls->ca_pem, tls->cert_pem, tls->key_pem, &error);
      if (!context) return MakeError("rpc-tls-failed", "TLS: " + error);
    }
    asio::io_context io;
    Call call(io, host, port, Dump(request), timeout_ms, context ? &*context : nullptr);
    call.Begin();
    io.run();
    return call.Outcome();
  } catch (const std::exception& e) {
    // Not expected (all I/O uses error codes); kept so nothing escapes into the CLI.
    return MakeError("rpc-bad-response", std::string("rpc client failure: ") + e.what());
  }
}

// RpcConnection: the same exchange as Call, on one kept connection, driven by io.run() per step.
struct RpcConnection::Impl {
  Impl(std::string host_in, std::uint16_t port_in)
      : host(std::move(host_in)), port(port_in), where(host + ":" + std::to_string(port)) {}

  // Runs the io_context until the pending operation completes; returns its error.
  error_code Run(error_code* slot) {
    io.restart();
    io.run();
    return *slot;
  }

  Result<json> Connect(std::chrono::milliseconds timeout) {
    error_code ec;
    std::vector<tcp::endpoint> endpoints;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      endpoints.emplace_back(address, port);
    } else {
      tcp::resolver resolver(io);
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec) return MakeError("rpc-unreachable", "cannot resolve " + host + ": " + ec.message());
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    stream.emplace(io);
    stream->expires_after(timeout);
    error_code result;
    stream->async_connect(endpoints, [&result](const error_code& e, const tcp::endpoint&) {
      result = e;
    });
    if (Run(&result)) {
      stream.reset();
      const std::string why = result == beast::error::timeout ? "timed out" : result.message();
      return MakeError("rpc-unreachable",
                       "cannot connect to " + where + ": " + why + " (is the node running?)");
    }
    error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    buffer.clear();
    return json();
  }

  // One request and its response on the open connection. `transport_failed` tells a broken
  // connection (worth one retry on a fresh one) from an answer or a timeout.
  Result<json> Exchange(http::request<http::string_body>& request, std::int64_t id,
                        std::chrono::milliseconds timeout, bool* transport_failed) {
    *transport_failed = false;
    stream->expires_after(timeout);
    error_code result;
    http::async_write(*stream, request, [&result](const error_code& e, std::size_t) {
      result = e;
    });
    if (!Run(&result)) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(kResponseBytesMax);
      http::async_read(*stream, buffer, parser, [&result](const error_code& e, std::size_t) {
        result = e;
      });
      if (!Run(&result)) {
        auto response = parser.release();
        const bool keep = response.keep_alive();
        Result<json> outcome = InterpretResponse(response, id);
        if (!keep) Drop();
        return outcome;
      }
    }
    Drop();
    if (result == beast::error::timeout) {
      return MakeError("rpc-timeout", "no answer from " + where + " within " +
                                          std::to_string(timeout.count()) + " ms");
    }
    *transport_failed = true;
    return MakeError("rpc-bad-response", where + ": connection failed: " + result.message());
  }

  void Drop() {
    if (!stream) return;
    error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream->close();
    stream.reset();
    buffer.clear();
  }

  const std::string host;
  const std::uint16_t port;
  const std::string where;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::int64_t next_id = 1;
};

RpcConnection::RpcConnection(std::string host, std::uint16_t port)
    : impl_(std::make_unique<Impl>(std::move(host), port)) {}

RpcConnection::~RpcConnection() {
  if (impl_) impl_->Drop();
}

Result<json> RpcConnection::Call(const std::string& method, const json& params,
                                 std::int64_t timeout_ms) {
  try {
    const std::int64_t id = impl_->next_id++;
    json body = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) body["params"] = params;
    http::request<http::string_body> request(http::verb::post, "/", 11);
    request.set(http::field::host, impl_->where);
    request.set(http::field::user_agent, "colend-rpc");
    request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
    request.body() = Dump(body);
    request.prepare_payload();
    const auto timeout = std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms, 1));
    // A kept connection may have been closed by the server's idle timeout: one more try on a
    // new connection then.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = impl_->stream.has_value();
      if (!reused) {
        auto connected = impl_->Connect(timeout);
        if (!connected.ok()) return connected.error();
      }
      bool transport_failed = false;
      Result<json> outcome = impl_->Exchange(request, id, timeout, &transport_failed);
      if (!transport_failed || !reused) return outcome;
    }
    return MakeError("rpc-bad-response", "no answer from " + impl_->where);
  } catch (const std::exception& e) {
    impl_->Drop();
    return MakeError("rpc-bad-response", std::string("rpc client failure: ") + e.what());
  }
}

}  // namespace colend::node
