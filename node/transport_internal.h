// The pieces of the peer transport (node/transport.h) shared by its two files: Transport::Impl
// (node/transport.cc: peers, dialing, accepting, identity) and Connection (node/connection.cc:
// one TLS connection's handshake, certificate checks and framing). Included by those two only.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "crypto/hash.h"
#include "node/token_bucket.h"
#include "node/transport.h"

namespace colend::node::transport_detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

constexpr std::int64_t kAcceptRetryMs = 100;
constexpr std::size_t kMemberAddressesMax = 1024;

// An address as text, an IPv4 address mapped into IPv6 (a dual-stack listener's view) as IPv4,
// so that one host is one source whichever way it arrives.
inline std::string AddressText(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}
// Peer-controlled text (hello fields) is truncated and made printable before it is logged.
constexpr std::size_t kLogFieldBytesMax = 80;
constexpr std::size_t kFrameHeaderBytes = 4;

inline std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kLogFieldBytesMax)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (text.size() > kLogFieldBytesMax) out += "...";
  return out;
}

// 4-byte big-endian length, then the payload: the bytes as they go on the wire.
inline std::shared_ptr<const std::string> EncodeFrame(std::string_view payload) {
  auto wire = std::make_shared<std::string>();
  wire->reserve(kFrameHeaderBytes + payload.size());
  const auto length = static_cast<std::uint32_t>(payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    wire->push_back(static_cast<char>((length >> shift) & 0xff));
  }
  wire->append(payload);
  return wire;
}

inline std::string EndpointText(const tcp::endpoint& endpoint) {
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


}  // namespace colend::node::transport_detail

namespace colend::node {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using transport_detail::Connection;
using transport_detail::PeerState;

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
  // Whether a new connection from `address` is within the connection rates (peer_network.h);
  // when not, `reason` says which one it is over.
  bool AdmitConnection(const std::string& address, std::string* reason);
  std::map<std::string, TokenBucket> connections_by_source;
  std::optional<TokenBucket> connections_all;
  // Members' addresses (the peers' configured hosts, and the source of every authenticated inbound
  // connection, at most kMemberAddressesMax): never held to the connection rates, so a flood from
  // elsewhere (or from a shared host: localnet) cannot keep a reconnecting member out.
  std::map<std::string, std::string> member_addresses;  // address -> a member seen there
  void RememberMemberAddress(const std::string& address, const std::string& member) {
    if (member_addresses.size() < transport_detail::kMemberAddressesMax) member_addresses.emplace(address, member);
  }
  // After the peers changed: the addresses of members that left are forgotten.
  void ForgetFormerMembersAddresses() {
    std::erase_if(member_addresses, [this](const auto& entry) { return !peers.count(entry.second); });
    for (const auto& [id, peer] : peers) RememberMemberAddress(peer->address.host, id);
  }
  // Makes room for one more pending connection from `address` (evicting if needed).
  void MakePendingRoom(const std::string& address);
  // Closes the oldest pending connection (of `address`, or of any when empty), silent ones first.
  void EvictPending(const std::string& address);
  bool started = false;
  bool stopped = false;
  std::uint16_t bound_port = 0;
};

}  // namespace colend::node

namespace colend::node::transport_detail {

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

}  // namespace colend::node::transport_detail
