// Peer transport over Boost.Asio + TLS 1.3. See transport.h for the contract.
//
// Admission happens in three steps, each closing the connection with one log line on failure:
//   1. TLS 1.3 with mutual authentication; the consortium CA is the only trust anchor, so a
//      certificate from a look-alike CA (same names, other key) fails the chain check.
//   2. The peer certificate's SHA-256 fingerprint must be one a genesis member registered (an
//      outbound connection must reach exactly the member it dialed): a certificate the CA issued
//      to a non-member is refused.
//   3. The first frame each way is a hello naming the genesis hash and the member id; a node
//      of another chain, or a member presenting someone else's id, is refused.
// Session resumption is disabled so every connection runs the certificate checks.
//
// Invariants: every Connection registered in Impl is open; a closed Connection is unregistered
// exactly once (in Close); after Stop no callback (frame, peer, log) is invoked.
#include "node/transport.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <fstream>
#include <sstream>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "crypto/x509.h"
#include "node/hello.h"
#include "node/tls_context.h"

namespace colend::node {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

constexpr std::int64_t kAcceptRetryMs = 100;
// Peer-controlled text (hello fields) is truncated and made printable before it is logged.
constexpr std::size_t kLogFieldBytesMax = 80;
constexpr std::size_t kFrameHeaderBytes = 4;

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kLogFieldBytesMax)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (text.size() > kLogFieldBytesMax) out += "...";
  return out;
}

// 4-byte big-endian length, then the payload: the bytes as they go on the wire.
std::shared_ptr<const std::string> EncodeFrame(std::string_view payload) {
  auto wire = std::make_shared<std::string>();
  wire->reserve(kFrameHeaderBytes + payload.size());
  const auto length = static_cast<std::uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    wire->push_back(static_cast<char>((length >> shift) & 0xff));
  }
  wire->append(payload);
  return wire;
}

std::string EndpointText(const tcp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

class Connection;

struct PeerState {
  PeerState(asio::io_context& io, PeerAddress address_in, std::int64_t backoff_ms_in)
      : address(std::move(address_in)), reconnect_timer(io), backoff_ms(backoff_ms_in) {}
  PeerAddress address;
  std::shared_ptr<Connection> outbound;  // dialing, handshaking or up
  std::shared_ptr<Connection> inbound;   // authenticated only (pending ones live in Impl)
  asio::steady_timer reconnect_timer;
  std::int64_t backoff_ms;
  bool outbound_up = false;
  // Dial failures (refused, unreachable) are logged once per streak, not on every retry.
  bool dial_failure_logged = false;
};

}  // namespace

struct Transport::Impl : std::enable_shared_from_this<Transport::Impl> {
  Impl(asio::io_context& io_in, TransportConfig config_in, FrameHandler on_frame_in,
       PeerHandler on_peer_in, LogHandler log_in)
      : io(io_in),
        config(std::move(config_in)),
        on_frame(std::move(on_frame_in)),
        on_peer(std::move(on_peer_in)),
        log(std::move(log_in)),
        acceptor(io_in),
        accept_retry_timer(io_in) {}

  bool Start(std::string* error);
  void Stop();
  void Send(const std::string& peer_id, const std::shared_ptr<const std::string>& wire);
  bool FrameFits(const std::string& peer_id, std::size_t bytes) const;

  bool CheckConfig(std::string* error) const;
  bool BuildTlsContext(std::string* error);
  bool Listen(std::string* error);
  void Accept();
  void Dial(PeerState& peer);
  void ScheduleReconnect(PeerState& peer);

  // Called by connections.
  std::optional<std::string> MemberOfCertificate(X509* certificate, std::string* reason) const;
  void OnAuthenticated(const std::shared_ptr<Connection>& connection);
  void OnClosed(const std::shared_ptr<Connection>& connection);
  void OnDialFailed(const std::string& peer_id, const std::string& reason);
  // True when `reason` was not logged in the last minute (and remembers it now).
  bool FirstRejectionInAWhile(const std::string& reason) {
    const auto now = std::chrono::steady_clock::now();
    auto it = rejections_logged.find(reason);
    if (it != rejections_logged.end() && now - it->second < std::chrono::minutes(1)) return false;
    if (rejections_logged.size() > 1024) rejections_logged.clear();
    rejections_logged[reason] = now;
    return true;
  }
  std::map<std::string, std::chrono::steady_clock::time_point> rejections_logged;
  void Log(const std::string& line) const {
    if (!stopped && log) log(line);
  }
  // Test hook: whether frames to / from a peer are currently dropped.
  bool DropOutbound(const std::string& peer_id);
  bool DropInbound(const std::string& peer_id);
  void RefreshFaults();
  std::set<std::string> drop_out;
  std::set<std::string> drop_in;
  std::string fault_text;
  std::chrono::steady_clock::time_point faults_checked{};

  asio::io_context& io;
  const TransportConfig config;
  const FrameHandler on_frame;
  const PeerHandler on_peer;
  const LogHandler log;
  std::string genesis_hex;
  // Our certificate and key; replaced by SetIdentity (a key rotation). Each connection keeps the
  // context it was made with.
  std::shared_ptr<ssl::context> tls;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry_timer;
  std::map<std::string, std::unique_ptr<PeerState>> peers;  // by member id
  std::map<crypto::Hash256, std::string> member_by_fingerprint;
  // Inbound connections not yet authenticated, by acceptance order.
  std::map<std::uint64_t, std::shared_ptr<Connection>> pending_inbound;
  std::uint64_t next_inbound_sequence = 0;
  // Makes room for one more pending connection from `address` (evicting if needed).
  void MakePendingRoom(const std::string& address);
  // Closes the oldest pending connection (of `address`, or of any when empty), silent ones first.
  void EvictPending(const std::string& address);
  bool started = false;
  bool stopped = false;
  std::uint16_t bound_port = 0;
};

namespace {

// One TLS connection, either direction. Owned by shared_ptr: the Impl holds it while it is
// registered, and every pending asynchronous operation holds it too.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Direction { kInbound, kOutbound };

  Connection(std::shared_ptr<Transport::Impl> impl, Direction direction, std::string peer_id,
             std::uint64_t sequence = 0)
      : sequence_(sequence),
        impl_(std::move(impl)),
        direction_(direction),
        peer_id_(std::move(peer_id)),
        tls_(impl_->tls),
        stream_(impl_->io, *tls_),
        resolver_(impl_->io),
        handshake_timer_(impl_->io) {}

  Direction direction() const { return direction_; }
  // For outbound connections the member dialed; for inbound the member its certificate names
  // (empty until the TLS handshake identified it).
  const std::string& peer_id() const { return peer_id_; }
  bool authenticated() const { return authenticated_; }
  tcp::socket& socket() { return stream_.next_layer(); }
  // Inbound: the order of acceptance (pending connections are evicted oldest first).
  std::uint64_t sequence() const { return sequence_; }
  // Inbound: the source address, and whether the peer has sent anything yet.
  const std::string& remote_address() const { return remote_address_; }
  bool spoke() const { return spoke_; }

  void Dial(const std::string& host, std::uint16_t port);
  void StartInbound();
  // Queues wire bytes (an encoded frame); while more than `frames_max` frames or `bytes_max`
  // bytes would wait, the oldest frame not yet being written is dropped (0: no bound, for the
  // hello).
  void Send(std::shared_ptr<const std::string> wire, std::size_t frames_max,
            std::uint64_t bytes_max);
  // Idempotent. Logs `reason` when non-empty and unregisters from the Impl.
  void Close(const std::string& reason);
  std::string Describe() const;

 private:
  void StartDeadline(std::int64_t ms);
  void Handshake(ssl::stream_base::handshake_type type);
  bool VerifyCertificate(bool preverified, ssl::verify_context& context);
  void OnTlsUp();
  void ReadHeader();
  void ReadBody();
  void OnFrame(std::string frame);
  void OnHello(const std::string& frame);
  void WriteNext();
  std::string ReadFailure(const error_code& error) const;

  const std::uint64_t sequence_;
  const std::shared_ptr<Transport::Impl> impl_;
  const Direction direction_;
  std::string peer_id_;
  std::string remote_;  // "ip:port", for log lines
  std::string remote_address_;
  bool spoke_ = false;
  std::shared_ptr<ssl::context> tls_;  // the context this connection was made with
  ssl::stream<tcp::socket> stream_;
  tcp::resolver resolver_;
  asio::steady_timer handshake_timer_;
  std::string reject_reason_;  // set by the verify callback when it refuses the certificate
  bool tcp_connected_ = false;
  bool authenticated_ = false;
  bool closed_ = false;
  std::array<unsigned char, kFrameHeaderBytes> read_header_{};
  std::string read_body_;
  std::deque<std::shared_ptr<const std::string>> write_queue_;
  std::uint64_t queued_bytes_ = 0;
  bool writing_ = false;
  bool drop_logged_ = false;  // one log line per episode of a full send queue
};

std::string Connection::Describe() const {
  std::string who = peer_id_.empty() ? remote_ : peer_id_ + " (" + remote_ + ")";
  return (direction_ == Direction::kOutbound ? "outbound to " : "inbound from ") + who;
}

void Connection::StartDeadline(std::int64_t ms) {
  handshake_timer_.expires_after(std::chrono::milliseconds(ms));
  handshake_timer_.async_wait([self = shared_from_this(), ms](const error_code& error) {
    if (error || self->closed_ || self->authenticated_) return;
    if (!self->tcp_connected_) {  // a dial that never connected: retried quietly
      self->impl_->OnDialFailed(self->peer_id_, "connect timed out");
      return self->Close("");
    }
    // Silent or stalled dialers may be a flood: one line a minute per kind, not one each.
    const std::string what = self->spoke_ || self->direction_ == Direction::kOutbound
                                 ? "handshake timed out after "
                                 : "sent nothing within ";
    const std::string line = "connection from " + self->remote_address_ + ": " + what +
                             std::to_string(ms) + " ms; closing";
    if (self->direction_ == Direction::kOutbound) {
      return self->Close(self->Describe() + ": " + what + std::to_string(ms) + " ms");
    }
    self->Close(self->impl_->FirstRejectionInAWhile(line) ? line : "");
  });
}

void Connection::Dial(const std::string& host, std::uint16_t port) {
  remote_ = host + ":" + std::to_string(port);
  StartDeadline(impl_->config.handshake_timeout_ms);
  resolver_.async_resolve(
      host, std::to_string(port),
      [self = shared_from_this()](const error_code& error, tcp::resolver::results_type results) {
        if (self->closed_) return;
        if (error) {
          self->impl_->OnDialFailed(self->peer_id_, "cannot resolve: " + error.message());
          return self->Close("");
        }
        asio::async_connect(self->socket(), results,
                            [self](const error_code& connect_error, const tcp::endpoint& endpoint) {
                              if (self->closed_) return;
                              if (connect_error) {
                                self->impl_->OnDialFailed(self->peer_id_, connect_error.message());
                                return self->Close("");
                              }
                              self->tcp_connected_ = true;
                              self->remote_ = EndpointText(endpoint);
                              self->Handshake(ssl::stream_base::client);
                            });
      });
}

void Connection::StartInbound() {
  error_code error;
  const tcp::endpoint remote = socket().remote_endpoint(error);
  remote_ = error ? "unknown" : EndpointText(remote);
  remote_address_ = error ? "unknown" : remote.address().to_string();
  tcp_connected_ = true;
  // A dialer that speaks TLS sends its ClientHello at once: wait a short while for the first
  // byte, then give the handshake its full time.
  StartDeadline(impl_->config.first_byte_timeout_ms);
  socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& wait) {
    if (self->closed_) return;
    if (wait) return self->Close("");
    self->spoke_ = true;
    self->StartDeadline(self->impl_->config.handshake_timeout_ms);
    self->Handshake(ssl::stream_base::server);
  });
}

void Connection::Handshake(ssl::stream_base::handshake_type type) {
  error_code error;
  socket().set_option(tcp::no_delay(true), error);
  socket().set_option(asio::socket_base::keep_alive(true), error);
  // The callback runs inside the handshake, while `this` is kept alive by the handshake handler.
  stream_.set_verify_callback(
      [this](bool preverified, ssl::verify_context& context) {
        return VerifyCertificate(preverified, context);
      },
      error);
  if (error) return Close(Describe() + ": cannot set verify callback: " + error.message());
  stream_.async_handshake(type, [self = shared_from_this()](const error_code& handshake_error) {
    if (self->closed_) return;
    if (handshake_error) {
      if (!self->reject_reason_.empty()) {
        return self->Close(self->Describe() + " rejected: " + self->reject_reason_);
      }
      return self->Close(self->Describe() + ": TLS handshake failed: " + handshake_error.message());
    }
    self->OnTlsUp();
  });
}

// Called by OpenSSL for each certificate of the peer's chain, root first. The chain check
// (`preverified`) is OpenSSL's against the consortium CA alone; at the leaf we add membership.
bool Connection::VerifyCertificate(bool preverified, ssl::verify_context& context) {
  X509_STORE_CTX* store = context.native_handle();
  if (!preverified) {
    const int error = X509_STORE_CTX_get_error(store);
    reject_reason_ = std::string("certificate does not chain to the consortium CA (") +
                     X509_verify_cert_error_string(error) + ")";
    return false;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
  std::string reason;
  const auto member = impl_->MemberOfCertificate(X509_STORE_CTX_get_current_cert(store), &reason);
  const bool wrong_peer = member && direction_ == Direction::kOutbound && *member != peer_id_;
  if (wrong_peer) reason = "certificate belongs to member " + *member + ", not the member dialed";
  if (!member || wrong_peer) {
    reject_reason_ = reason;
    // Without an error set, OpenSSL would tell the peer "internal error".
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return false;
  }
  return true;
}

// TLS is up. Identify the peer again from the negotiated session (independent of the callback
// having run), then exchange hellos.
void Connection::OnTlsUp() {
  SSL* ssl = stream_.native_handle();
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return Close(Describe() + " rejected: peer certificate not verified");
  }
  X509* certificate = SSL_get1_peer_certificate(ssl);
  std::string reason;
  auto member = impl_->MemberOfCertificate(certificate, &reason);
  X509_free(certificate);
  if (!member) {
    // A removed member's node keeps dialing (with backoff): say so once a minute, not each time.
    return Close(impl_->FirstRejectionInAWhile(reason) ? Describe() + " rejected: " + reason : "");
  }
  if (direction_ == Direction::kOutbound && *member != peer_id_) {
    return Close(Describe() + " rejected: certificate belongs to member " + *member);
  }
  peer_id_ = *member;
  Send(EncodeFrame(EncodeHello(impl_->genesis_hex, impl_->config.self_id)), 0, 0);
  ReadHeader();
}

std::string Connection::ReadFailure(const error_code& error) const {
  if (error == asio::error::eof || error == ssl::error::stream_truncated) {
    return Describe() + " closed by peer";
  }
  if (direction_ == Direction::kOutbound && error.category() == asio::error::get_ssl_category() &&
      error.message().find("handshake failure") != std::string::npos) {
    // TLS 1.3: the peer checks our certificate after our side of the handshake and answers with
    // an alert. It admits only members of the epoch it follows: say so, once a minute.
    const std::string reason = Describe() + ": the peer refused our certificate (" +
                               error.message() + "); is " + impl_->config.self_id +
                               " a member of the peer's current membership epoch?";
    return impl_->FirstRejectionInAWhile(reason) ? reason : "";
  }
  return Describe() + ": read failed: " + error.message();
}

void Connection::ReadHeader() {
  asio::async_read(
      stream_, asio::buffer(read_header_),
      [self = shared_from_this()](const error_code& error, std::size_t) {
        if (self->closed_) return;
        if (error) return self->Close(self->ReadFailure(error));
        std::uint32_t length = 0;
        for (unsigned char byte : self->read_header_) length = (length << 8) | byte;
        const std::uint32_t limit =
            self->authenticated_ ? self->impl_->config.frame_bytes_max : kHelloBytesMax;
        if (length > limit) {
          return self->Close(self->Describe() + ": frame of " + std::to_string(length) +
                             " bytes exceeds the limit of " + std::to_string(limit) + "; closing");
        }
        self->read_body_.assign(length, '\0');
        self->ReadBody();
      });
}

void Connection::ReadBody() {
  asio::async_read(stream_, asio::buffer(read_body_),
                   [self = shared_from_this()](const error_code& error, std::size_t) {
                     if (self->closed_) return;
                     if (error) return self->Close(self->ReadFailure(error));
                     std::string frame = std::move(self->read_body_);
                     self->read_body_.clear();
                     self->OnFrame(std::move(frame));
                     if (!self->closed_) self->ReadHeader();
                   });
}

void Connection::OnFrame(std::string frame) {
  if (!authenticated_) return OnHello(frame);
  // Frames arriving on our outbound connection are delivered too: the peer is authenticated.
  if (impl_->DropInbound(peer_id_)) return;
  if (!impl_->stopped && impl_->on_frame) impl_->on_frame(peer_id_, std::move(frame));
}

void Connection::OnHello(const std::string& frame) {
  auto hello = ParseHello(frame);
  if (!hello) return Close(Describe() + ": malformed hello; closing");
  if (hello->genesis_hex != impl_->genesis_hex) {
    return Close("peer " + peer_id_ + " presented genesis " + Printable(hello->genesis_hex) +
                 ", ours is " + impl_->genesis_hex);
  }
  if (hello->member != peer_id_) {
    return Close(Describe() + ": hello member id does not match certificate (hello says '" +
                 Printable(hello->member) + "')");
  }
  authenticated_ = true;
  handshake_timer_.cancel();
  impl_->OnAuthenticated(shared_from_this());
}

void Connection::Send(std::shared_ptr<const std::string> wire, std::size_t frames_max,
                      std::uint64_t bytes_max) {
  if (closed_) return;
  auto full = [&] {
    return (frames_max > 0 && write_queue_.size() >= frames_max) ||
           (bytes_max > 0 && queued_bytes_ + wire->size() > bytes_max);
  };
  // The front frame may be half written; the oldest droppable one is right behind it.
  const std::size_t oldest = writing_ ? 1 : 0;
  while (full() && oldest < write_queue_.size()) {
    queued_bytes_ -= write_queue_[oldest]->size();
    write_queue_.erase(write_queue_.begin() + static_cast<std::ptrdiff_t>(oldest));
    if (!drop_logged_) {
      drop_logged_ = true;
      impl_->Log(Describe() + ": send queue full (" + std::to_string(frames_max) + " frames or " +
                 std::to_string(bytes_max) + " bytes); dropping oldest");
    }
  }
  queued_bytes_ += wire->size();
  write_queue_.push_back(std::move(wire));
  if (!writing_) WriteNext();
}

void Connection::WriteNext() {
  writing_ = true;
  asio::async_write(stream_, asio::buffer(*write_queue_.front()),
                    [self = shared_from_this()](const error_code& error, std::size_t) {
                      if (self->closed_) return;
                      if (error) {
                        return self->Close(self->Describe() + ": write failed: " + error.message());
                      }
                      self->queued_bytes_ -= self->write_queue_.front()->size();
                      self->write_queue_.pop_front();
                      if (self->write_queue_.empty()) {
                        self->writing_ = false;
                        self->drop_logged_ = false;
                        return;
                      }
                      self->WriteNext();
                    });
}

void Connection::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  if (!reason.empty()) impl_->Log(reason);
  handshake_timer_.cancel();
  resolver_.cancel();
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  write_queue_.clear();
  queued_bytes_ = 0;
  impl_->OnClosed(shared_from_this());
}

}  // namespace

bool Transport::Impl::CheckConfig(std::string* error) const {
  auto fail = [error](std::string message) {
    if (error) *error = std::move(message);
    return false;
  };
  if (config.self_id.empty()) return fail("transport: self_id is empty");
  if (config.frame_bytes_max == 0) return fail("transport: frame_bytes_max is 0");
  if (config.send_queue_frames_max == 0) return fail("transport: send_queue_frames_max is 0");
  if (config.reconnect_ms_min <= 0 || config.reconnect_ms_max < config.reconnect_ms_min) {
    return fail("transport: need 0 < reconnect_ms_min <= reconnect_ms_max");
  }
  if (config.handshake_timeout_ms <= 0) return fail("transport: handshake_timeout_ms <= 0");
  if (config.first_byte_timeout_ms <= 0 ||
      config.first_byte_timeout_ms > config.handshake_timeout_ms) {
    return fail("transport: need 0 < first_byte_timeout_ms <= handshake_timeout_ms");
  }
  if (config.pending_handshakes_per_source_max == 0 ||
      config.pending_handshakes_per_source_max > config.pending_handshakes_max) {
    return fail("transport: need 0 < pending_handshakes_per_source_max <= pending_handshakes_max");
  }
  const std::uint64_t two_frames = 2 * (std::uint64_t{config.frame_bytes_max} + kFrameHeaderBytes);
  if (config.send_queue_bytes_max < two_frames) {
    return fail("transport: send_queue_bytes_max " + std::to_string(config.send_queue_bytes_max) +
                " is below two largest frames (" + std::to_string(two_frames) + " bytes)");
  }
  std::set<std::string> ids;
  std::set<crypto::Hash256> fingerprints;
  for (const PeerAddress& peer : config.peers) {
    if (peer.id.empty() || peer.id == config.self_id) {
      return fail("transport: peer id '" + peer.id + "' is empty or our own");
    }
    if (!ids.insert(peer.id).second) return fail("transport: duplicate peer id " + peer.id);
    if (!fingerprints.insert(peer.tls_fingerprint).second) {
      return fail("transport: peers share a TLS fingerprint (" + peer.id + ")");
    }
  }
  return true;
}

bool Transport::Impl::BuildTlsContext(std::string* error) {
  std::string why;
  auto made = MakeTlsContext(config.ca_pem, config.cert_pem, config.key_pem, &why);
  if (!made) {
    if (error) *error = "transport: " + why;
    return false;
  }
  tls = std::make_shared<ssl::context>(std::move(*made));
  return true;
}

bool Transport::Impl::Listen(std::string* error) {
  error_code ec;
  const auto address = asio::ip::make_address(config.listen_host, ec);
  const std::string where = config.listen_host + ":" + std::to_string(config.listen_port);
  if (ec) {
    if (error) *error = "transport: bad listen_host " + config.listen_host + ": " + ec.message();
    return false;
  }
  const tcp::endpoint endpoint(address, config.listen_port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  const tcp::endpoint local = ec ? tcp::endpoint() : acceptor.local_endpoint(ec);
  if (ec) {
    if (error) *error = "transport: cannot listen on " + where + ": " + ec.message();
    error_code ignored;
    acceptor.close(ignored);
    return false;
  }
  bound_port = local.port();
  return true;
}

bool Transport::Impl::Start(std::string* error) {
  if (started || stopped) {
    if (error) *error = "transport: Start called twice or after Stop";
    return false;
  }
  started = true;
  if (!CheckConfig(error) || !BuildTlsContext(error)) return false;
  genesis_hex = crypto::ToHex(config.genesis_hash);
  for (const PeerAddress& peer : config.peers) {
    peers.emplace(peer.id, std::make_unique<PeerState>(io, peer, config.reconnect_ms_min));
    member_by_fingerprint.emplace(peer.tls_fingerprint, peer.id);
  }
  if (!Listen(error)) return false;
  Log("listening on " + config.listen_host + ":" + std::to_string(bound_port) + " as " +
      config.self_id);
  Accept();
  for (auto& [id, peer] : peers) Dial(*peer);
  return true;
}

void Transport::Impl::Stop() {
  if (stopped) return;
  stopped = true;  // from here on OnClosed does nothing and no callback runs
  error_code ignored;
  acceptor.close(ignored);
  accept_retry_timer.cancel();
  for (const auto& [sequence, connection] : std::map(pending_inbound)) connection->Close("");
  pending_inbound.clear();
  for (auto& [id, peer] : peers) {
    peer->reconnect_timer.cancel();
    if (peer->outbound) peer->outbound->Close("");
    if (peer->inbound) peer->inbound->Close("");
    peer->outbound.reset();
    peer->inbound.reset();
    peer->outbound_up = false;
  }
}

void Transport::Impl::EvictPending(const std::string& address) {
  std::shared_ptr<Connection> victim;
  for (const auto& [sequence, connection] : pending_inbound) {
    if (!address.empty() && connection->remote_address() != address) continue;
    if (!victim || (victim->spoke() && !connection->spoke())) victim = connection;
    if (!victim->spoke()) break;  // the oldest silent one
  }
  if (!victim) return;
  const std::string line = "evicting the oldest pending inbound connection" +
                           (address.empty() ? std::string() : " from " + address) + " (" +
                           std::to_string(pending_inbound.size()) + " handshakes pending)";
  victim->Close(FirstRejectionInAWhile(line) ? line : "");
}

void Transport::Impl::MakePendingRoom(const std::string& address) {
  std::size_t from_address = 0;
  for (const auto& [sequence, connection] : pending_inbound) {
    from_address += connection->remote_address() == address ? 1 : 0;
  }
  if (from_address >= config.pending_handshakes_per_source_max) EvictPending(address);
  if (pending_inbound.size() >= config.pending_handshakes_max) EvictPending("");
}

void Transport::Impl::Accept() {
  auto connection = std::make_shared<Connection>(
      shared_from_this(), Connection::Direction::kInbound, "", next_inbound_sequence++);
  acceptor.async_accept(
      connection->socket(), [self = shared_from_this(), connection](const error_code& error) {
        if (self->stopped) return;
        if (error) {
          if (error == asio::error::operation_aborted) return;
          // E.g. out of file descriptors: retry later instead of spinning.
          self->Log("accept failed: " + error.message());
          self->accept_retry_timer.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
          self->accept_retry_timer.async_wait([self](const error_code& wait_error) {
            if (!wait_error && !self->stopped) self->Accept();
          });
          return;
        }
        error_code endpoint_error;
        const tcp::endpoint remote = connection->socket().remote_endpoint(endpoint_error);
        self->MakePendingRoom(endpoint_error ? "unknown" : remote.address().to_string());
        self->pending_inbound.emplace(connection->sequence(), connection);
        connection->StartInbound();
        self->Accept();
      });
}

void Transport::Impl::Dial(PeerState& peer) {
  if (stopped || peer.outbound) return;
  peer.outbound = std::make_shared<Connection>(shared_from_this(), Connection::Direction::kOutbound,
                                               peer.address.id);
  std::shared_ptr<Connection> connection = peer.outbound;  // Dial may close it synchronously
  connection->Dial(peer.address.host, peer.address.port);
}

void Transport::Impl::ScheduleReconnect(PeerState& peer) {
  const std::int64_t delay_ms = peer.backoff_ms;
  peer.backoff_ms = std::min(peer.backoff_ms * 2, config.reconnect_ms_max);
  peer.reconnect_timer.expires_after(std::chrono::milliseconds(delay_ms));
  peer.reconnect_timer.async_wait(
      [self = shared_from_this(), id = peer.address.id](const error_code& error) {
        if (error || self->stopped) return;
        auto it = self->peers.find(id);
        if (it != self->peers.end()) self->Dial(*it->second);
      });
}

std::optional<std::string> Transport::Impl::MemberOfCertificate(X509* certificate,
                                                                std::string* reason) const {
  if (certificate == nullptr) {
    *reason = "no peer certificate";
    return std::nullopt;
  }
  const int length = i2d_X509(certificate, nullptr);
  if (length <= 0) {
    *reason = "cannot encode peer certificate";
    return std::nullopt;
  }
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_X509(certificate, &out) != length) {
    *reason = "cannot encode peer certificate";
    return std::nullopt;
  }
  auto parsed = crypto::Certificate::FromDer(der);
  if (!parsed.ok()) {
    *reason = "unreadable peer certificate: " + parsed.error().ToString();
    return std::nullopt;
  }
  const crypto::Hash256 fingerprint = parsed->Fingerprint();
  auto it = member_by_fingerprint.find(fingerprint);
  if (it == member_by_fingerprint.end()) {
    *reason = "certificate fingerprint not a member (sha256 " + crypto::ToHex(fingerprint) + ")";
    return std::nullopt;
  }
  return it->second;
}

void Transport::Impl::OnAuthenticated(const std::shared_ptr<Connection>& connection) {
  auto it = peers.find(connection->peer_id());
  if (it == peers.end()) return connection->Close("");  // unreachable: identified by fingerprint
  PeerState& peer = *it->second;
  if (connection->direction() == Connection::Direction::kInbound) {
    pending_inbound.erase(connection->sequence());
    // The newest inbound wins: the old one is likely half-open after the peer restarted.
    std::shared_ptr<Connection> old = std::exchange(peer.inbound, connection);
    Log("accepted " + connection->peer_id());
    if (old) old->Close(old->Describe() + " replaced by a newer connection");
    return;
  }
  peer.outbound_up = true;
  peer.backoff_ms = config.reconnect_ms_min;
  peer.dial_failure_logged = false;
  Log("connected to " + connection->peer_id());
  if (on_peer) on_peer(connection->peer_id(), true);
}

void Transport::Impl::OnClosed(const std::shared_ptr<Connection>& connection) {
  if (stopped) return;
  if (connection->direction() == Connection::Direction::kInbound) {
    pending_inbound.erase(connection->sequence());
    auto it = peers.find(connection->peer_id());
    if (it != peers.end() && it->second->inbound == connection) it->second->inbound.reset();
    return;
  }
  auto it = peers.find(connection->peer_id());
  if (it == peers.end() || it->second->outbound != connection) return;
  PeerState& peer = *it->second;
  peer.outbound.reset();
  const bool was_up = std::exchange(peer.outbound_up, false);
  ScheduleReconnect(peer);
  if (was_up && on_peer) on_peer(peer.address.id, false);
}

void Transport::Impl::OnDialFailed(const std::string& peer_id, const std::string& reason) {
  auto it = peers.find(peer_id);
  if (it == peers.end() || it->second->dial_failure_logged) return;
  it->second->dial_failure_logged = true;
  const PeerAddress& address = it->second->address;
  Log("cannot reach " + peer_id + " at " + address.host + ":" + std::to_string(address.port) +
      ": " + reason + " (retrying quietly)");
}

bool Transport::Impl::FrameFits(const std::string& peer_id, std::size_t bytes) const {
  if (bytes <= config.frame_bytes_max) return true;
  Log("dropping frame of " + std::to_string(bytes) + " bytes to " + peer_id +
      ": exceeds frame_bytes_max " + std::to_string(config.frame_bytes_max));
  return false;
}

void Transport::Impl::Send(const std::string& peer_id,
                           const std::shared_ptr<const std::string>& wire) {
  if (stopped) return;
  auto it = peers.find(peer_id);
  if (it == peers.end() || !it->second->outbound_up) return;
  if (DropOutbound(peer_id)) return;
  it->second->outbound->Send(wire, config.send_queue_frames_max, config.send_queue_bytes_max);
}

#ifdef COLEND_TEST_HOOKS
bool TransportTestHooksCompiled() { return true; }

void Transport::Impl::RefreshFaults() {
  if (config.fault_file.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - faults_checked < std::chrono::milliseconds(100)) return;
  faults_checked = now;
  std::string text;
  if (std::ifstream in(config.fault_file); in) {
    std::ostringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  if (text == fault_text) return;
  fault_text = text;
  drop_out.clear();
  drop_in.clear();
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string first, second;
    words >> first >> second;
    if (first.empty()) continue;
    if (first == "out" && !second.empty()) {
      drop_out.insert(second);
    } else if (first == "in" && !second.empty()) {
      drop_in.insert(second);
    } else {
      drop_out.insert(first);
      drop_in.insert(first);
    }
  }
  auto join = [](const std::set<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
    return out.empty() ? std::string("none") : out;
  };
  Log("test hook: dropping frames to " + join(drop_out) + "; from " + join(drop_in));
}

bool Transport::Impl::DropOutbound(const std::string& peer_id) {
  RefreshFaults();
  return drop_out.count(peer_id) != 0;
}

bool Transport::Impl::DropInbound(const std::string& peer_id) {
  RefreshFaults();
  return drop_in.count(peer_id) != 0;
}
#else
bool TransportTestHooksCompiled() { return false; }
void Transport::Impl::RefreshFaults() {}
bool Transport::Impl::DropOutbound(const std::string&) { return false; }
bool Transport::Impl::DropInbound(const std::string&) { return false; }
#endif

Transport::Transport(boost::asio::io_context& io, TransportConfig config, FrameHandler on_frame,
                     PeerHandler on_peer, LogHandler log)
    : impl_(std::make_shared<Impl>(io, std::move(config), std::move(on_frame), std::move(on_peer),
                                   std::move(log))) {}

Transport::~Transport() { impl_->Stop(); }

bool Transport::Start(std::string* error) { return impl_->Start(error); }

void Transport::Stop() { impl_->Stop(); }

void Transport::Send(const std::string& peer_id, std::string frame) {
  if (!impl_->FrameFits(peer_id, frame.size())) return;
  impl_->Send(peer_id, EncodeFrame(frame));
}

void Transport::Broadcast(const std::string& frame) {
  if (!impl_->FrameFits("all peers", frame.size())) return;
  const auto wire = EncodeFrame(frame);  // encoded once, shared by every peer's queue
  for (const auto& [id, peer] : impl_->peers) impl_->Send(id, wire);
}

void Transport::SetPeers(const std::vector<PeerAddress>& peers) {
  Impl& impl = *impl_;
  if (impl.stopped) return;
  std::map<std::string, const PeerAddress*> wanted;
  for (const PeerAddress& peer : peers) {
    if (peer.id != impl.config.self_id) wanted.emplace(peer.id, &peer);
  }
  // Members that left (or whose TLS certificate changed): their connections close, their
  // certificate is no longer admitted.
  for (auto it = impl.peers.begin(); it != impl.peers.end();) {
    auto keep = wanted.find(it->first);
    if (keep != wanted.end() && keep->second->tls_fingerprint == it->second->address.tls_fingerprint &&
        keep->second->host == it->second->address.host && keep->second->port == it->second->address.port) {
      ++it;
      continue;
    }
    PeerState& peer = *it->second;
    const std::string id = it->first;
    impl.member_by_fingerprint.erase(peer.address.tls_fingerprint);
    peer.reconnect_timer.cancel();
    const bool was_up = peer.outbound_up;
    std::shared_ptr<Connection> outbound = std::move(peer.outbound);
    std::shared_ptr<Connection> inbound = std::move(peer.inbound);
    it = impl.peers.erase(it);  // OnClosed finds no peer state from here on
    if (outbound) outbound->Close("");
    if (inbound) inbound->Close("");
    impl.Log("peer " + id + (wanted.count(id) ? " changed its TLS certificate or address" : " is no longer a member") + ": disconnected");
    if (was_up && impl.on_peer) impl.on_peer(id, false);
  }
  for (const auto& [id, address] : wanted) {
    if (impl.peers.count(id)) continue;
    auto state = std::make_unique<PeerState>(impl.io, *address, impl.config.reconnect_ms_min);
    PeerState& peer = *state;
    impl.peers.emplace(id, std::move(state));
    impl.member_by_fingerprint[address->tls_fingerprint] = id;
    impl.Log("peer " + id + " is a member: admitted");
    if (impl.started) impl.Dial(peer);
  }
}

bool Transport::SetIdentity(const std::string& cert_pem, const std::string& key_pem,
                            std::string* error) {
  Impl& impl = *impl_;
  std::string why;
  auto made = MakeTlsContext(impl.config.ca_pem, cert_pem, key_pem, &why);
  if (!made) {
    if (error) *error = "transport: " + why;
    return false;
  }
  impl.tls = std::make_shared<ssl::context>(std::move(*made));
  // Open connections keep the certificate they were made with; peers that took up the same
  // epoch close theirs (our fingerprint changed) and meet the new certificate when they dial.
  impl.Log("TLS identity replaced: new connections present the rotated certificate");
  return true;
}

std::vector<std::string> Transport::ConnectedPeers() const {
  std::vector<std::string> ids;
  for (const auto& [id, peer] : impl_->peers) {
    if (peer->outbound_up) ids.push_back(id);
  }
  return ids;  // std::map iterates in sorted order
}

std::uint16_t Transport::listen_port() const { return impl_->bound_port; }

}  // namespace colend::node
