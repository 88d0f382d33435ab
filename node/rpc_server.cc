// JSON-RPC 2.0 server over HTTP/1.1 (Boost.Beast). See rpc.h for the contract.
//
// Limits: the request header is bounded by kHeaderBytesMax and the body by body_bytes_max (413
// beyond it); the header must arrive within header_timeout_ms, the body within idle_timeout_ms;
// at most connections_max connections (connections_per_client_max per source address) are open,
// and a new connection beyond either limit evicts the oldest connection still waiting for its
// request (rpc.h). A body is framed by Content-Length or chunked alone (400 for any other
// transfer coding). Nothing a client sends can throw out
// of the io_context: JSON is parsed without exceptions and a throwing handler becomes -32603.
//
// Invariants: every Session is in Impl::sessions while it exists, except one evicted (erased
// and closed) whose callbacks are still queued; a request read on a closed session is never
// executed; after Stop the handler is not called again.
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "node/dashboard_page.h"
#include "node/json_rpc.h"
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

constexpr std::uint32_t kHeaderBytesMax = 16 * 1024;
// After refusing an oversized body, keep reading and discarding for a while (bounded in time and
// bytes) so the client can finish sending and read the 413 instead of a connection reset.
constexpr std::int64_t kLingerMs = 2000;
constexpr std::size_t kLingerBytesMax = 64u << 20;
constexpr std::size_t kLingerChunkBytes = 64 * 1024;
constexpr std::int64_t kAcceptRetryMs = 100;
// A fresh connection (nothing received yet) is not evicted for this long: time to send its
// request; a newcomer finding every fresh slot within it is refused instead.
constexpr std::int64_t kFreshGraceMs = 100;
}  // namespace

using namespace json_rpc;  // NOLINT: the messages this server carries

json HandleJsonRpc(const std::string& body, const RpcHandler& handler) {
  auto parsed = ParseRequest(body);
  if (auto* reply = std::get_if<json>(&parsed)) return std::move(*reply);
  const ParsedRequest& request = std::get<ParsedRequest>(parsed);
  return CallHandler(handler, request.id, request.method, request.params);
}

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response MakeResponse(http::status status, unsigned version, std::string body,
                      std::string content_type) {
  Response response{status, version};
  response.set(http::field::server, "colend");
  response.set(http::field::content_type, std::move(content_type));
  response.body() = std::move(body);
  return response;
}

Response JsonResponse(http::status status, unsigned version, const json& reply) {
  return MakeResponse(status, version, Dump(reply) + "\n", "application/json");
}

Response NotAllowed(unsigned version, std::string_view allow, const std::string& message) {
  Response response = JsonResponse(http::status::method_not_allowed, version,
                                   ErrorReply(nullptr, kInvalidRequest, message));
  response.set(http::field::allow, allow);
  return response;
}

Response Route(const Request& request, const RpcHandler& handler) {
  const unsigned version = request.version();
  // Operators' pages (docs/operations.md, "Metrics and health"): answered by the handler's
  // "health" and "metrics" methods; a server whose handler has neither answers /health "ok".
  const std::string_view target = request.target();
  if (target == "/health" || target == "/health/live" || target == "/health/ready" ||
      target == "/metrics") {
    if (request.method() != http::verb::get) {
      return NotAllowed(version, "GET", "use GET " + std::string(target));
    }
    if (target == "/metrics") {
      auto metrics = handler("metrics", json::object());
      if (!metrics.ok() || !metrics->contains("text") || !(*metrics)["text"].is_string()) {
        return JsonResponse(http::status::not_found, version,
                            ErrorReply(nullptr, kInvalidRequest, "this server has no metrics"));
      }
      return MakeResponse(http::status::ok, version, (*metrics)["text"].get<std::string>(),
                          "text/plain; version=0.0.4; charset=utf-8");
    }
    if (target == "/health/live") return MakeResponse(http::status::ok, version, "ok\n", "text/plain");
    auto health = handler("health", json::object());
    if (!health.ok()) {
      if (target == "/health") return MakeResponse(http::status::ok, version, "ok\n", "text/plain");
      return JsonResponse(http::status::not_found, version,
                          ErrorReply(nullptr, kInvalidRequest, "this server has no readiness"));
    }
    const bool ready = health->value("ready", false);
    // /health answers 200 while the node is live (its body says whether it is ready);
    // /health/ready answers 503 until it is, for load balancers and orchestrators.
    return JsonResponse(target == "/health/ready" && !ready ? http::status::service_unavailable
                                                           : http::status::ok,
                        version, *health);
  }
  if (request.target() == "/" && request.method() == http::verb::post) {
    return JsonResponse(http::status::ok, version, HandleJsonRpc(request.body(), handler));
  }
  // The read-only dashboard (dashboard_page.h): GET /, /dashboard.js, /dashboard.css.
  if (const StaticPage* page = FindStaticPage(target)) {
    if (request.method() != http::verb::get) {
      return NotAllowed(version, target == "/" ? "GET, POST" : "GET",
                        target == "/" ? "use POST / for JSON-RPC, GET / for the dashboard"
                                      : "use GET " + std::string(target));
    }
    Response response = MakeResponse(http::status::ok, version, std::string(page->body),
                                      std::string(page->content_type));
    response.set("Content-Security-Policy", kDashboardCsp);
    response.set("X-Content-Type-Options", "nosniff");
    response.set(http::field::cache_control, "no-store");
    response.set("Referrer-Policy", "no-referrer");
    return response;
  }
  return JsonResponse(http::status::not_found, version,
                      ErrorReply(nullptr, kInvalidRequest, "no such path; use POST /"));
}

// What the server keeps of a session, whatever its stream type.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void Close() = 0;
  // Waiting with part of a request received (a header not finished, or a body not complete): a
  // client that sends its request at once is never seen in this state.
  virtual bool Stalled() const = 0;
  // Accepted, nothing received yet, no request answered yet: it may be a client about to send.
  virtual bool Fresh() const = 0;
};

}  // namespace

struct RpcServer::Impl : std::enable_shared_from_this<RpcServer::Impl> {
  Impl(asio::io_context& io_in, RpcServerConfig config_in, RpcHandler handler_in,
       RpcDeferredHandler deferred_in)
      : io(io_in),
        config(std::move(config_in)),
        handler(std::move(handler_in)),
        deferred(std::move(deferred_in)),
        acceptor(io_in),
        accept_retry_timer(io_in) {}

  bool Start(std::string* error);
  void Stop();
  void Accept();
  // Makes room for a connection from `client`: false if every slot is busy answering.
  bool MakeRoom(const std::string& client);
  // Closes the oldest waiting session that is fresh (or not) of `client` (of anyone when empty);
  // false if there is none.
  bool EvictOldest(const std::string& client, bool fresh);

  struct SessionEntry {
    std::weak_ptr<SessionBase> session;
    std::string client;    // source address
    bool waiting = false;  // reading a request (evictable)
    std::chrono::steady_clock::time_point accepted;
  };

  asio::io_context& io;
  const RpcServerConfig config;
  const RpcHandler handler;
  const RpcDeferredHandler deferred;  // may be empty
  std::optional<ssl::context> tls;  // set when config.tls is
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry_timer;
  std::map<std::uint64_t, SessionEntry> sessions;  // by id: ascending id = oldest first
  std::uint64_t next_session_id = 0;
  std::uint64_t body_bytes_reading = 0;  // claimed by sessions reading a body (rpc.h)
  bool started = false;
  bool stopped = false;
  std::uint16_t bound_port = 0;
  RpcServer::Stats counts;
};

namespace {

// One HTTP connection: read a request, answer it, repeat while keep-alive holds. `Stream` is
// beast::tcp_stream (loopback) or beast::ssl_stream<beast::tcp_stream> (TLS: the handshake, with
// the client certificate check, comes first and counts against the header deadline).
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... TlsContext>
  Session(tcp::socket socket, std::shared_ptr<RpcServer::Impl> server, std::uint64_t id,
          TlsContext&... tls)
      : stream_(std::move(socket), tls...), server_(std::move(server)), id_(id) {}
  ~Session() override {
    ReleaseBodyClaim();
    server_->sessions.erase(id_);
  }

  void Start() {
    if constexpr (kTls) {
      SetWaiting(true);
      Lowest().expires_after(std::chrono::milliseconds(server_->config.header_timeout_ms));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](const error_code& error) {
                                if (error || self->server_->stopped) return self->Close();
                                self->ReadRequest();
                              });
    } else {
      ReadRequest();
    }
  }
  void SetWaiting(bool waiting) {
    auto it = server_->sessions.find(id_);
    if (it != server_->sessions.end()) it->second.waiting = waiting;
  }
  bool Stalled() const override {
    // Over TLS, a client that has sent any of its handshake (its ClientHello goes at once) is not
    // fresh, during the handshake or after it: a flood of silent connections cannot evict it
    // after the 100 ms grace.
    if constexpr (kTls) {
      SSL* ssl = const_cast<Stream&>(stream_).native_handle();
      if (ssl != nullptr && BIO_number_read(SSL_get_rbio(ssl)) > 0) return true;
    }
    return parser_ && (buffer_.size() > 0 || parser_->is_header_done());
  }
  bool Fresh() const override { return answered_ == 0 && !Stalled(); }
  void Close() override {
    closed_ = true;
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  std::chrono::milliseconds IdleTimeout() const {
    return std::chrono::milliseconds(server_->config.idle_timeout_ms);
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(server_->config.body_bytes_max);
    parser_->header_limit(kHeaderBytesMax);
    SetWaiting(true);
    Lowest().expires_after(std::chrono::milliseconds(server_->config.header_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](const error_code& error, std::size_t) {
                              if (!error && !self->closed_ && !self->TransferCodingIsReadable()) {
                                return self->RefuseTransferCoding();
                              }
                              if (error || self->parser_->is_done()) return self->OnRead(error);
                              if (!self->ClaimBody()) return self->RefuseBusy();
                              self->Lowest().expires_after(self->IdleTimeout());
                              http::async_read(self->stream_, self->buffer_, *self->parser_,
                                               [self](const error_code& body_error, std::size_t) {
                                                 self->OnRead(body_error);
                                               });
                            });
  }

  // A request body is framed by Content-Length or by chunked alone: after any other transfer
  // coding its length cannot be known (RFC 9112 6.3), and Beast would read it as empty.
  bool TransferCodingIsReadable() const {
    const auto& header = parser_->get();
    const auto coding = header.find(http::field::transfer_encoding);
    if (coding == header.end()) return true;
    return beast::iequals(coding->value(), "chunked");
  }

  // Claims the body about to be read against body_bytes_in_flight_max; false when it would go
  // over.
  bool ClaimBody() {
    const auto length = parser_->content_length();
    const std::uint64_t claim = std::min<std::uint64_t>(length.value_or(server_->config.body_bytes_max),
                                                        server_->config.body_bytes_max);
    if (claim <= kRpcSmallBodyBytes) return true;  // not counted (rpc.h)
    if (server_->body_bytes_reading + claim > server_->config.body_bytes_in_flight_max) return false;
    server_->body_bytes_reading += claim;
    body_claim_ = claim;
    return true;
  }
  void ReleaseBodyClaim() {
    server_->body_bytes_reading -= body_claim_;
    body_claim_ = 0;
  }

  void RefuseBusy() {
    SetWaiting(false);
    if (server_->stopped) return Close();
    ++server_->counts.busy;
    json reply = ErrorReply(nullptr, kInvalidRequest,
                            "server busy: " + std::to_string(server_->body_bytes_reading) +
                                " bytes of request bodies are being read (limit " +
                                std::to_string(server_->config.body_bytes_in_flight_max) +
                                "); try again");
    Write(JsonResponse(http::status::service_unavailable, 11, reply), Then::kLinger);
  }

  void RefuseTransferCoding() {
    SetWaiting(false);
    if (server_->stopped) return Close();
    json reply = ErrorReply(nullptr, kInvalidRequest,
                            "malformed HTTP request: Transfer-Encoding must be chunked or absent");
    Write(JsonResponse(http::status::bad_request, 11, reply), Then::kClose);
  }

  void OnRead(const error_code& error) {
    ReleaseBodyClaim();  // read (or failed): what it holds now is the request being answered
    SetWaiting(false);
    // Closed while the read's completion was queued (evicted to make room: a session whose
    // request sits read but not yet handled still counts as waiting): its client gets no answer,
    // so the request is not executed either (docs/operations.md, JSON-RPC server).
    if (closed_) return;
    if (server_->stopped) return Close();
    if (error == http::error::body_limit) {
      json reply = ErrorReply(
          nullptr, kInvalidRequest,
          "request body exceeds " + std::to_string(server_->config.body_bytes_max) + " bytes");
      return Write(JsonResponse(http::status::payload_too_large, 11, reply), Then::kLinger);
    }
    if (error == http::error::header_limit) {
      json reply =
          ErrorReply(nullptr, kInvalidRequest,
                     "request header exceeds " + std::to_string(kHeaderBytesMax) + " bytes");
      return Write(JsonResponse(http::status::request_header_fields_too_large, 11, reply),
                   Then::kLinger);
    }
    if (error && error.category() == http::make_error_code(http::error::bad_method).category() &&
        error != http::error::end_of_stream && error != http::error::partial_message) {
      json reply =
          ErrorReply(nullptr, kInvalidRequest, "malformed HTTP request: " + error.message());
      return Write(JsonResponse(http::status::bad_request, 11, reply), Then::kClose);
    }
    if (error) return Close();  // end of stream, idle timeout, reset
    Request request = parser_->release();
    const bool keep_alive = request.keep_alive();
    ++answered_;
    std::optional<Response> response = Answer(request, keep_alive);
    if (!response) return;  // a deferred method writes its answer when it has one
    response->keep_alive(keep_alive);
    Write(std::move(*response), keep_alive ? Then::kRead : Then::kClose);
  }

  // The answer to `request`, or nothing when a deferred method took it (rpc.h).
  std::optional<Response> Answer(const Request& request, bool keep_alive) {
    if (request.target() != "/" || request.method() != http::verb::post) {
      return Route(request, server_->handler);
    }
    const unsigned version = request.version();
    auto parsed = ParseRequest(request.body());
    if (auto* reply = std::get_if<json>(&parsed)) {
      return JsonResponse(http::status::ok, version, *reply);
    }
    ParsedRequest& call = std::get<ParsedRequest>(parsed);
    if (server_->deferred && Defer(call, version, keep_alive)) return std::nullopt;
    return JsonResponse(http::status::ok, version,
                        CallHandler(server_->handler, call.id, call.method, call.params));
  }

  // Offers the call to the deferred handler; true when it took it (this session then waits for
  // the reply, which holds it alive).
  bool Defer(const ParsedRequest& call, unsigned version, bool keep_alive) {
    auto replied = std::make_shared<bool>(false);
    RpcReply reply = [self = this->shared_from_this(), id = call.id, version, keep_alive,
                      replied](Result<json> result) {
      if (*replied) return;
      *replied = true;
      if (self->server_->stopped) return self->Close();
      Response response = JsonResponse(http::status::ok, version, ResultReply(id, result));
      response.keep_alive(keep_alive);
      self->Write(std::move(response), keep_alive ? Then::kRead : Then::kClose);
    };
    const auto entry = server_->sessions.find(id_);
    const std::string client = entry != server_->sessions.end() ? entry->second.client : "unknown";
    try {
      return server_->deferred(call.method, call.params, client, reply);
    } catch (const std::exception& e) {
      if (!*replied) {
        reply(MakeError("internal-error", std::string("internal error: ") + e.what()));
      }
      return true;
    }
  }

  enum class Then { kRead, kClose, kLinger };

  void Write(Response response, Then then) {
    if (then != Then::kRead) response.keep_alive(false);
    response_ = std::move(response);
    response_.prepare_payload();
    Lowest().expires_after(IdleTimeout());
    http::async_write(stream_, response_,
                      [self = this->shared_from_this(), then](const error_code& error, std::size_t) {
                        if (error || self->server_->stopped) return self->Close();
                        if (then == Then::kRead) return self->ReadRequest();
                        if (then == Then::kLinger) return self->Linger();
                        error_code ignored;
                        self->Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
                        self->Close();
                      });
  }

  // Half-close, then discard what the client is still sending until it closes or a bound hits.
  void Linger() {
    // Its answer is sent: like a session still reading, it may be evicted to make room.
    SetWaiting(true);
    error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    discard_.resize(kLingerChunkBytes);
    Lowest().expires_after(std::chrono::milliseconds(kLingerMs));
    DiscardSome();
  }

  void DiscardSome() {
    stream_.async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](
                                                        const error_code& error, std::size_t n) {
      self->discarded_bytes_ += n;
      if (error || self->server_->stopped || self->discarded_bytes_ > kLingerBytesMax) {
        return self->Close();
      }
      self->DiscardSome();
    });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;  // alive until its write completes
  std::vector<char> discard_;
  std::size_t discarded_bytes_ = 0;
  std::uint64_t body_claim_ = 0;  // of server_->body_bytes_reading
  std::uint64_t answered_ = 0;
  bool closed_ = false;  // Close() was called: no request read on it is executed any more
  const std::shared_ptr<RpcServer::Impl> server_;
  const std::uint64_t id_;
};

}  // namespace

bool RpcServer::Impl::Start(std::string* error) {
  auto fail = [this, error](std::string message) {
    if (error) *error = std::move(message);
    error_code ignored;
    acceptor.close(ignored);
    return false;
  };
  if (started || stopped) return fail("rpc: Start called twice or after Stop");
  started = true;
  if (config.body_bytes_max == 0 || config.connections_max == 0 ||
      config.connections_per_client_max == 0 || config.fresh_connections_max == 0 || config.header_timeout_ms <= 0 ||
      config.idle_timeout_ms <= 0) {
    return fail(
        "rpc: body_bytes_max, connections_max, connections_per_client_max, fresh_connections_max, "
        "header_timeout_ms and "
        "idle_timeout_ms must be positive");
  }
  if (config.body_bytes_in_flight_max < config.body_bytes_max) {
    return fail("rpc: body_bytes_in_flight_max (" + std::to_string(config.body_bytes_in_flight_max) +
                ") is below body_bytes_max (" + std::to_string(config.body_bytes_max) + ")");
  }
  if (config.connections_per_client_max > config.connections_max) {
    return fail("rpc: connections_per_client_max (" +
                std::to_string(config.connections_per_client_max) + ") exceeds connections_max (" +
                std::to_string(config.connections_max) + ")");
  }
  if (config.tls) {
    std::string tls_error;
    tls = MakeTlsContext(config.tls->ca_pem, config.tls->cert_pem, config.tls->key_pem,
                         &tls_error);
    if (!tls) return fail("rpc: TLS: " + tls_error);
  }
  error_code ec;
  const auto address = asio::ip::make_address(config.host, ec);
  if (ec) return fail("rpc: bad host " + config.host + ": " + ec.message());
  const tcp::endpoint endpoint(address, config.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  const tcp::endpoint local = ec ? tcp::endpoint() : acceptor.local_endpoint(ec);
  if (ec) {
    return fail("rpc: cannot listen on " + config.host + ":" + std::to_string(config.port) + ": " +
                ec.message());
  }
  bound_port = local.port();
  Accept();
  return true;
}

void RpcServer::Impl::Accept() {
  acceptor.async_accept([self = this->shared_from_this()](const error_code& error, tcp::socket socket) {
    if (self->stopped) return;
    if (error) {
      if (error == asio::error::operation_aborted) return;
      // E.g. out of file descriptors: retry later instead of spinning.
      self->accept_retry_timer.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
      self->accept_retry_timer.async_wait([self](const error_code& wait_error) {
        if (!wait_error && !self->stopped) self->Accept();
      });
      return;
    }
    error_code endpoint_error;
    const tcp::endpoint remote = socket.remote_endpoint(endpoint_error);
    const std::string client = endpoint_error ? "unknown" : remote.address().to_string();
    if (!self->MakeRoom(client)) {
      ++self->counts.refused;
      error_code ignored;
      socket.close(ignored);  // every slot is answering a request: refuse rather than queue
    } else {
      const std::uint64_t id = self->next_session_id++;
      if (self->tls) {
        auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            std::move(socket), self, id, *self->tls);
        self->sessions.emplace(id, SessionEntry{session, client, false, std::chrono::steady_clock::now()});
        session->Start();
      } else {
        auto session = std::make_shared<Session<beast::tcp_stream>>(std::move(socket), self, id);
        self->sessions.emplace(id, SessionEntry{session, client, false, std::chrono::steady_clock::now()});
        session->Start();
      }
    }
    self->Accept();
  });
}

bool RpcServer::Impl::EvictOldest(const std::string& client, bool fresh) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = sessions.begin(); it != sessions.end(); ++it) {
    if (!it->second.waiting || (!client.empty() && it->second.client != client)) continue;
    std::shared_ptr<SessionBase> session = it->second.session.lock();
    if (session && session->Fresh() != fresh) continue;
    // A fresh connection gets kFreshGraceMs to send its request before it can be evicted.
    if (fresh && now - it->second.accepted < std::chrono::milliseconds(kFreshGraceMs)) break;
    sessions.erase(it);  // the slot is free now; the session's own erase finds nothing
    ++counts.evicted;
    if (session) session->Close();
    return true;
  }
  return false;
}

bool RpcServer::Impl::MakeRoom(const std::string& client) {
  // Fresh connections (nothing received yet) have their own pool: a client that connects and
  // sends its request at once is served before a flood that re-opens whatever is closed can
  // cycle through to it. The limits apply to the others: stalled mid-request, idle keep-alive,
  // being answered (docs/operations.md).
  std::size_t fresh = 0, from_client = 0, others = 0;
  for (const auto& [id, entry] : sessions) {
    std::shared_ptr<SessionBase> session = entry.session.lock();
    if (entry.waiting && session && session->Fresh()) {
      ++fresh;
    } else {
      ++others;
      from_client += entry.client == client ? 1 : 0;
    }
  }
  if (fresh >= config.fresh_connections_max && !EvictOldest("", /*fresh=*/true)) {
    return false;  // every fresh connection is in its grace period: refuse the newcomer
  }
  while (from_client >= config.connections_per_client_max && EvictOldest(client, false)) {
    --from_client;
    --others;
  }
  while (others >= config.connections_max && EvictOldest("", false)) --others;
  // Every slot busy answering a request: refuse rather than queue.
  return from_client < config.connections_per_client_max && others < config.connections_max;
}

void RpcServer::Impl::Stop() {
  if (stopped) return;
  stopped = true;
  error_code ignored;
  acceptor.close(ignored);
  accept_retry_timer.cancel();
  std::vector<std::shared_ptr<SessionBase>> open;
  for (auto& [id, entry] : sessions) {
    if (auto session = entry.session.lock()) open.push_back(std::move(session));
  }
  for (auto& session : open) session->Close();
}

RpcServer::RpcServer(boost::asio::io_context& io, RpcServerConfig config, RpcHandler handler,
                     RpcDeferredHandler deferred)
    : impl_(std::make_shared<Impl>(io, std::move(config), std::move(handler),
                                   std::move(deferred))) {}

RpcServer::~RpcServer() { impl_->Stop(); }

bool RpcServer::Start(std::string* error) { return impl_->Start(error); }

void RpcServer::Stop() { impl_->Stop(); }

std::uint16_t RpcServer::port() const { return impl_->bound_port; }

RpcServer::Stats RpcServer::stats() const {
  Stats stats = impl_->counts;
  stats.body_bytes_reading = impl_->body_bytes_reading;
  return stats;
}

}  // namespace colend::node
