// The node's peer-to-peer network as its event logic sees it: frames to and from authenticated
// members. colend-node runs it over TLS (node/transport.h); colend-sim runs the same node logic
// over a simulated network (tests/sim/), so this interface is all the node may use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crypto/hash.h"

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
  // New inbound connections a source address may open: a burst, then a rate a second. Checked
  // as each is accepted, before any TLS work; one over is closed at once. Then the same for all
  // sources together, so that many addresses cannot keep the io thread in handshakes either.
  // Members' addresses (peers' hosts, and where authenticated members connected from) are exempt.
  // Sources remembered: at most connection_sources_max (a source whose bucket is full again is
  // forgotten first; a new source past the bound is refused).
  std::uint32_t connections_per_source_burst = 40;
  std::uint32_t connections_per_source_per_s = 10;
  std::uint32_t connections_burst = 400;
  std::uint32_t connections_per_s = 200;
  std::uint32_t connection_sources_max = 4096;
  // Test builds only (CMake option COLEND_TEST_HOOKS): a file naming peers whose frames are
  // dropped, to simulate partitions. One entry per line: "<id>" drops frames both ways, "out <id>"
  // only frames to the peer, "in <id>" only frames from it. Re-read at most every 100 ms; a
  // missing file means no faults. Connections stay up: the link silently loses messages.
  // Ignored (and never read) when the hook is not compiled in.
  std::string fault_file;
};

// True if this binary was built with COLEND_TEST_HOOKS (the fault file above is honoured).
class PeerNetwork {
 public:
  // Called for each frame received from an authenticated peer.
  using FrameHandler = std::function<void(const std::string& peer_id, std::string frame)>;
  // Called when an authenticated peer connection (either direction) opens or closes.
  using PeerHandler = std::function<void(const std::string& peer_id, bool connected)>;
  using LogHandler = std::function<void(const std::string& line)>;

  virtual ~PeerNetwork() = default;
  // Binds the listener (error if the port is taken) and starts dialing peers.
  virtual bool Start(std::string* error) = 0;
  virtual void Stop() = 0;
  // Queues a frame to one peer (dropped if no outbound connection to it is up).
  virtual void Send(const std::string& peer_id, std::string frame) = 0;
  virtual void Broadcast(const std::string& frame) = 0;
  // Replaces the peers (a membership epoch began): peers no longer listed are disconnected and
  // their certificates refused from now on; new ones are admitted and dialed.
  virtual void SetPeers(const std::vector<PeerAddress>& peers) = 0;
  // Replaces our TLS certificate and key for every connection made from now on (a key rotation
  // took effect). False with `error` when they do not load or do not match.
  virtual bool SetIdentity(const std::string& cert_pem, const std::string& key_pem,
                           std::string* error) = 0;
  // Peers with an authenticated outbound connection, sorted.
  virtual std::vector<std::string> ConnectedPeers() const = 0;
  virtual std::uint16_t listen_port() const = 0;  // the bound port (useful with port 0)
};

// Makes the network of a node (colend-node: a Transport on the io_context).
using PeerNetworkFactory = std::function<std::unique_ptr<PeerNetwork>(
    TransportConfig, PeerNetwork::FrameHandler, PeerNetwork::PeerHandler, PeerNetwork::LogHandler)>;

}  // namespace colend::node
