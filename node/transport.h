// Peer-to-peer transport: mutually authenticated TLS between genesis members, carrying opaque
// length-prefixed frames. The transport knows nothing of consensus; the node gives it bytes.
//
// Each node dials every peer (outbound connection, used for sending) and accepts peers' dials
// (inbound, used for receiving). A connection is admitted only if
//   - the TLS peer certificate chains to the consortium CA, and its SHA-256 fingerprint is the
//     TLS certificate fingerprint a genesis member registered, and
//   - the first frame each way is a hello naming the same genesis hash (chain identity) and the
//     member id that owns that certificate.
// Frames: 4-byte big-endian length, then the payload; a length above frame_bytes_max closes the
// connection (the peer is misbehaving). Outbound connections reconnect with exponential backoff
// (reconnect_ms_min doubling to reconnect_ms_max). Per-peer send queues are bounded in frames
// (send_queue_frames_max) and bytes (send_queue_bytes_max); when full, the oldest frame not yet
// being written is dropped (consensus rebroadcasts, sync and document requests are retried).
//
// Unauthenticated inbound connections (TLS handshake or hello not finished) are bounded: at most
// pending_handshakes_max in all and pending_handshakes_per_source_max per source address. A new
// connection beyond either bound evicts the oldest pending one (of that source first), preferring
// connections that have not sent a byte; a connection that sends nothing within
// first_byte_timeout_ms is closed, and one that has not finished within handshake_timeout_ms too.
// So raw TCP connections that never speak TLS cannot keep a restarting member out. How fast new
// connections are accepted is bounded too, per source address and for all together
// (connections_per_source_* and connections_*): one over a rate is closed before any TLS work.
// Refused inbound handshakes are logged once a minute per address and reason.
//
// Thread safety: all calls and callbacks happen on the io_context's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "node/peer_network.h"

namespace boost::asio {
class io_context;
}

namespace colend::node {

bool TransportTestHooksCompiled();

class Transport final : public PeerNetwork {
 public:
  Transport(boost::asio::io_context& io, TransportConfig config, FrameHandler on_frame,
            PeerHandler on_peer, LogHandler log);
  ~Transport() override;
  // PeerNetwork (node/peer_network.h).
  bool Start(std::string* error) override;
  void Stop() override;
  void Send(const std::string& peer_id, std::string frame) override;
  void Broadcast(const std::string& frame) override;
  void SetPeers(const std::vector<PeerAddress>& peers) override;
  bool SetIdentity(const std::string& cert_pem, const std::string& key_pem, std::string* error) override;
  std::vector<std::string> ConnectedPeers() const override;
  std::uint16_t listen_port() const override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace colend::node
