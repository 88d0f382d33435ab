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
// So raw TCP connections that never speak TLS cannot keep a restarting member out.
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

namespace boost::asio {
class io_context;
}

namespace colend::node {

struct PeerAddress {
  std::string id;    // member id
  std::string host;  // e.g. "127.0.0.1"
  std::uint16_t port = 0;
  crypto::Hash256 tls_fingerprint{};  // SHA-256 of the member's TLS certificate (DER)
};

struct TransportConfig {
  std::string self_id;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;
  std::string ca_pem;        // consortium CA certificate
  std::string cert_pem;      // this node's TLS certificate
  std::string key_pem;       // this node's TLS private key
  crypto::Hash256 genesis_hash{};
  std::vector<PeerAddress> peers;  // every other member
  std::uint32_t frame_bytes_max = 32u << 20;
  std::uint32_t send_queue_frames_max = 4096;
  // At least two largest frames: the one being written and the next (checked by Start).
  std::uint64_t send_queue_bytes_max = 80ull << 20;
  std::int64_t reconnect_ms_min = 100;
  std::int64_t reconnect_ms_max = 5000;
  std::int64_t handshake_timeout_ms = 5000;
  std::int64_t first_byte_timeout_ms = 1000;
  std::uint32_t pending_handshakes_max = 64;
  std::uint32_t pending_handshakes_per_source_max = 16;
  // Test builds only (CMake option COLEND_TEST_HOOKS): a file naming peers whose frames are
  // dropped, to simulate partitions. One entry per line: "<id>" drops frames both ways, "out <id>"
  // only frames to the peer, "in <id>" only frames from it. Re-read at most every 100 ms; a
  // missing file means no faults. Connections stay up: the link silently loses messages.
  // Ignored (and never read) when the hook is not compiled in.
  std::string fault_file;
};

// True if this binary was built with COLEND_TEST_HOOKS (the fault file above is honoured).
bool TransportTestHooksCompiled();

class Transport {
 public:
  // Called for each frame received from an authenticated peer.
  using FrameHandler = std::function<void(const std::string& peer_id, std::string frame)>;
  // Called when an authenticated peer connection (either direction) opens or closes.
  using PeerHandler = std::function<void(const std::string& peer_id, bool connected)>;
  using LogHandler = std::function<void(const std::string& line)>;

  Transport(boost::asio::io_context& io, TransportConfig config, FrameHandler on_frame,
            PeerHandler on_peer, LogHandler log);
  ~Transport();
  // Binds the listener (error if the port is taken) and starts dialing peers.
  bool Start(std::string* error);
  void Stop();
  // Queues a frame to one peer (dropped if no outbound connection to it is up).
  void Send(const std::string& peer_id, std::string frame);
  void Broadcast(const std::string& frame);
  // Replaces the peers (a membership epoch began): peers no longer listed are disconnected and
  // their certificates refused from now on; new ones are admitted and dialed.
  void SetPeers(const std::vector<PeerAddress>& peers);
  // Replaces our TLS certificate and key for every connection made from now on (a key rotation
  // took effect). False with `error` when they do not load or do not match.
  bool SetIdentity(const std::string& cert_pem, const std::string& key_pem, std::string* error);
  // Peers with an authenticated outbound connection, sorted.
  std::vector<std::string> ConnectedPeers() const;
  std::uint16_t listen_port() const;  // the bound port (useful with port 0)

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace colend::node
