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
#include "node/transport_internal.h"

namespace colend::node {

using boost::system::error_code;
using transport_detail::EncodeFrame;
using transport_detail::EndpointText;
using transport_detail::kAcceptRetryMs;
using transport_detail::kFrameHeaderBytes;

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
  if (config.connections_per_source_burst == 0 || config.connections_per_source_per_s == 0 ||
      config.connections_burst < config.connections_per_source_burst ||
      config.connections_per_s < config.connections_per_source_per_s ||
      config.connection_sources_max == 0) {
    return fail(
        "transport: need 0 < connections_per_source_burst <= connections_burst, 0 < "
        "connections_per_source_per_s <= connections_per_s and connection_sources_max > 0");
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
    RememberMemberAddress(peer.host, peer.id);
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

bool Transport::Impl::AdmitConnection(const std::string& address, std::string* reason) {
  if (member_addresses.count(address)) return true;
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
  auto it = connections_by_source.find(address);
  if (it == connections_by_source.end()) {
    if (connections_by_source.size() >= config.connection_sources_max) {
      std::erase_if(connections_by_source,
                    [now_ms](const auto& entry) { return entry.second.FullAt(now_ms); });
    }
    if (connections_by_source.size() >= config.connection_sources_max) {
      *reason = "more than " + std::to_string(config.connection_sources_max) +
                " source addresses are opening connections";
      return false;
    }
    const TokenRate rate{config.connections_per_source_per_s, config.connections_per_source_burst};
    it = connections_by_source.try_emplace(address, rate, now_ms).first;
  }
  if (!it->second.Take(now_ms)) {
    *reason = "over " + std::to_string(config.connections_per_source_per_s) +
              " new connections a second from one address (burst " +
              std::to_string(config.connections_per_source_burst) + ")";
    return false;
  }
  if (!connections_all) connections_all.emplace(TokenRate{config.connections_per_s, config.connections_burst}, now_ms);
  if (!connections_all->Take(now_ms)) {
    *reason = "over " + std::to_string(config.connections_per_s) +
              " new connections a second from all addresses (burst " +
              std::to_string(config.connections_burst) + ")";
    return false;
  }
  return true;
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
        const std::string address = endpoint_error ? "unknown" : transport_detail::AddressText(remote.address());
        std::string refused;
        if (!self->AdmitConnection(address, &refused)) {
          // Closed before any TLS work: a flood costs the io thread an accept and a close. One
          // line a minute per address over its own rate; per reason for the bounds of all
          // sources (a flood from many addresses is one line, not one each).
          const std::string line = "refusing connections from " + address + ": " + refused;
          const bool own_rate = refused.find("from one address") != std::string::npos;
          const bool first = self->FirstRejectionInAWhile(own_rate ? line : "refusing: " + refused);
          connection->Close(first ? line + " (one line a minute)" : "");
          return self->Accept();
        }
        self->MakePendingRoom(address);
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
    RememberMemberAddress(connection->remote_address(), connection->peer_id());
    // The newest inbound wins: the old one is likely half-open after the peer restarted.
    std::shared_ptr<Connection> old = std::exchange(peer.inbound, connection);
    Log("accepted " + connection->peer_id());
    if (old) old->Close(old->Describe() + " replaced by a newer connection");
    return;
  }
  peer.outbound_up = true;
  peer.backoff_ms = config.reconnect_ms_min;
  // Where the member answered from (its host name resolved) is a member's address too.
  error_code endpoint_error;
  const tcp::endpoint remote = connection->socket().remote_endpoint(endpoint_error);
  if (!endpoint_error) RememberMemberAddress(transport_detail::AddressText(remote.address()), connection->peer_id());
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
  impl.ForgetFormerMembersAddresses();
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
