// JSON-RPC 2.0 over HTTP/1.1 (Boost.Beast), bound to loopback by default.
// POST / with a JSON-RPC request object (batches are rejected). Errors follow the spec:
//   -32700 parse error (malformed JSON), -32600 invalid request, -32601 method not found,
//   -32602 invalid params, and application errors -32000.. with data.code = stable reason code.
// A body above body_bytes_max gets HTTP 413 and a -32600 error naming the limit; the node keeps
// running. GET /health answers 200 "ok".
//
// Methods may also answer later (RpcDeferredHandler, a long poll).
//
// Thread safety: handlers are called on the io_context's thread, one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "crypto/result.h"

namespace boost::asio {
class io_context;
}

namespace colend::node {

// Connection limits (docs/operations.md, "Resource limits"). A connection is "fresh" from its
// accept until its first bytes are read; fresh connections have their own pool
// (fresh_connections_max, the oldest evicted by a newcomer beyond it). The other connections
// (stalled mid-request, idle keep-alive, being answered) count against connections_max and
// connections_per_client_max: a newcomer beyond either evicts the oldest of them still waiting
// for a request (of its own source first); if all are being answered it is refused. So clients
// that open connections and never finish a request (a local user holding every slot, even one
// that re-opens whatever is closed) cannot lock out a client that sends its request at once.
// TLS for the JSON-RPC (when it is served beyond loopback): TLS 1.3, the consortium CA as the
// only trust anchor, and a certificate on both sides: the server requires a client certificate
// the CA issued; the client requires the server's to chain to the CA too.
struct RpcTlsConfig {
  std::string ca_pem;
  std::string cert_pem;  // this side's CA-issued certificate
  std::string key_pem;
};

inline constexpr std::uint32_t kRpcConnectionsPerClientDefault = 64;
inline constexpr std::uint64_t kRpcSmallBodyBytes = 64u << 10;

struct RpcServerConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::uint32_t body_bytes_max = 8u << 20;
  // Bodies being read, all connections together, by their Content-Length (a chunked body counts
  // as body_bytes_max): a request that would go over is answered 503 and not read. At least
  // body_bytes_max. Bodies of at most kRpcSmallBodyBytes are not counted (every call but a large
  // upload: a few stalled large bodies cannot keep `status`, `submit` or the CLI out; the
  // connection limits bound them, 256 x 64 KiB).
  std::uint64_t body_bytes_in_flight_max = 32u << 20;
  std::uint32_t connections_max = 256;
  std::uint32_t connections_per_client_max = kRpcConnectionsPerClientDefault;
  std::uint32_t fresh_connections_max = 256;
  // The request header must be complete this long after the server starts reading it (also
  // bounds how long an idle keep-alive connection is kept).
  std::int64_t header_timeout_ms = 5000;
  // The body, and writing the response, each within this long.
  std::int64_t idle_timeout_ms = 30000;
  // Set: every connection is TLS with a client certificate from the CA (rpc.h, RpcTlsConfig).
  std::optional<RpcTlsConfig> tls;
};

// A method handler returns the JSON result or an Error (code → data.code, message → message).
using RpcHandler = std::function<Result<nlohmann::json>(const std::string& method,
                                                         const nlohmann::json& params)>;

// Methods that answer later (a long poll such as the node's wait_tx). The server offers every
// well-formed request to the deferred handler first: it returns false when `method` is not one of
// its own (the plain handler then answers), or true after taking `reply`, which it calls once, on
// the io thread, at once or later; the HTTP answer is written then. Until then the connection
// counts as being answered (never evicted). A reply after the client went away or after Stop
// does nothing. The handler must bound how long it keeps a reply (a timeout): a kept reply keeps
// its connection open. `client` is the caller's source address, as connections_per_client_max
// counts it: a handler that keeps replies must also bound how many one address holds, below that
// limit, or waiting calls from one address (every local client shares 127.0.0.1) take every
// connection it may open and lock the others out.
using RpcReply = std::function<void(Result<nlohmann::json>)>;
using RpcDeferredHandler =
    std::function<bool(const std::string& method, const nlohmann::json& params,
                       const std::string& client, RpcReply reply)>;

// One JSON-RPC exchange without HTTP: the request body in, the response object out (errors as
// JSON-RPC error objects; never throws for any body). The server's core, exposed for fuzzing.
nlohmann::json HandleJsonRpc(const std::string& body, const RpcHandler& handler);

class RpcServer {
 public:
  RpcServer(boost::asio::io_context& io, RpcServerConfig config, RpcHandler handler,
            RpcDeferredHandler deferred = nullptr);
  ~RpcServer();
  bool Start(std::string* error);  // binds; error if the port is taken
  void Stop();
  std::uint16_t port() const;
  // Connections closed at the limits (docs/operations.md, JSON-RPC server), since Start: an
  // operator's sign that clients open more connections than the limits allow.
  struct Stats {
    std::uint64_t evicted = 0;  // waiting for a request, closed to make room for a newcomer
    std::uint64_t refused = 0;  // newcomers closed at once: every slot busy or in its grace period
    std::uint64_t busy = 0;     // requests answered 503: their body would go over body_bytes_in_flight_max
    std::uint64_t body_bytes_reading = 0;  // counted bodies being read now
  };
  Stats stats() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Blocking client used by the CLI and tests: one HTTP POST, one JSON-RPC call.
// Errors: "rpc-unreachable" (connect failed: is the node running?), "rpc-timeout",
// "rpc-bad-response", or the server's JSON-RPC error (code = data.code when present, else
// "rpc-error-<number>", message = the server's message).
// With `tls`, the call runs over TLS with that client certificate ("rpc-tls-failed" when the
// handshake fails: a wrong CA or a refused certificate).
Result<nlohmann::json> RpcCall(const std::string& host, std::uint16_t port,
                               const std::string& method, const nlohmann::json& params,
                               std::int64_t timeout_ms, const RpcTlsConfig* tls = nullptr);

// Blocking client that keeps one HTTP/1.1 connection open across calls (keep-alive), for clients
// that make many calls (colend-bench): no connect per call, no TIME_WAIT per call. Loopback
// without TLS only. Connects on the first call; after any failure the connection is dropped and
// the next call connects again. A call on a kept connection that the server had closed meanwhile
// (its idle timeout) is sent once more on a new connection, so a call may reach the server twice
// (submit answers the second with duplicate-transaction). Errors as RpcCall's. One thread at a
// time.
class RpcConnection {
 public:
  RpcConnection(std::string host, std::uint16_t port);
  ~RpcConnection();
  RpcConnection(const RpcConnection&) = delete;
  RpcConnection& operator=(const RpcConnection&) = delete;
  Result<nlohmann::json> Call(const std::string& method, const nlohmann::json& params,
                              std::int64_t timeout_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace colend::node
