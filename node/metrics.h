// The node's metrics in the Prometheus text exposition format (version 0.0.4), served at
// GET /metrics on the RPC address (docs/operations.md, "Metrics"). Counters and histograms are
// updated as the node runs; gauges are read when scraped. Names follow Prometheus conventions:
// colend_ prefix, _total for counters, base units (_seconds, _bytes).
//
// Not consensus code: figures here never reach a block or a state root (doubles are fine).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace colend::node {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  // The histogram's lines under `name` (…_bucket{le=…}, …_sum, …_count); `labels` (already
  // escaped, e.g. `write="block"`) go before `le` and on _sum and _count.
  void Render(const std::string& name, std::string* out, const std::string& labels = "") const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// What the io thread waits for in one synced write (docs/operations.md, "Metrics and health"):
// the block's batch (blocks, state, indexes), the replica's vote state before it sends a vote or
// proposal, and the signing lease file ahead of it.
enum class SyncedWrite { kBlock, kVoteState, kSigningLease };
inline constexpr int kSyncedWriteKinds = 3;
// The io thread's work on one block: building it (proposer), validating a proposal (executing
// it), committing it (by consensus or sync: checks, execution if not cached, the synced write).
enum class BlockStep { kBuild, kValidate, kCommit };
inline constexpr int kBlockStepKinds = 3;

// Read at scrape time.
struct MetricsGauges {
  std::uint64_t height = 0;
  std::uint32_t round = 0;             // of the height in progress (0 when idle)
  std::uint64_t mempool_txs = 0;
  std::uint64_t mempool_bytes = 0;
  std::uint64_t mempool_memory_bytes = 0;
  std::uint64_t peers_connected = 0;
  std::uint64_t members = 0;
  std::uint64_t quorum = 0;
  std::uint64_t best_peer_height = 0;  // highest certified claim of a peer
  std::map<std::string, std::uint64_t> peer_heights;  // certified claims, by member id
  std::string signing_state;           // signing | recovering | not-a-member
  std::uint64_t membership_epoch = 0;
  std::uint64_t data_bytes = 0;        // the LevelDB directory's files
  std::uint64_t rss_bytes = 0;
  // Seconds until each certificate of this member expires, by kind (tls, signing).
  std::map<std::string, std::int64_t> certificate_expiry_seconds;
  // JSON-RPC connections closed at its limits since start (RpcServer::Stats).
  std::uint64_t rpc_connections_evicted = 0;
  std::uint64_t rpc_connections_refused = 0;
  std::uint64_t rpc_connections_busy = 0;
};

class NodeMetrics {
 public:
  NodeMetrics();

  // A block committed by consensus (`latency_seconds`: from the start of its height) or by sync
  // (no latency).
  void BlockCommitted(std::size_t txs, std::size_t bytes, std::uint32_t round,
                      std::optional<double> latency_seconds);
  // The receipt of a committed transaction.
  void TxCommitted(bool accepted, const std::string& code, const std::string& rule);
  // A transaction refused before any block (mempool admission), by reason code.
  void TxRefused(const std::string& code);
  void EquivocationsSeen(std::size_t count);
  // How long a synced write, or a step of a block, kept the io thread (seconds, steady clock).
  void Synced(SyncedWrite write, double seconds);
  void BlockStepTook(BlockStep step, double seconds);

  // The latest refusals in committed blocks, newest last (at most kRecentRejectionsMax: the
  // dashboard's list; the counters above keep every one), and the refusal counts by rule id.
  struct Rejection {
    std::uint64_t height = 0;
    std::string tx;  // id, hex
    std::string type;
    std::string code;
    std::string rule;
    std::string message;
  };
  static constexpr std::size_t kRecentRejectionsMax = 50;
  void RecordRejection(Rejection rejection);
  const std::deque<Rejection>& recent_rejections() const { return recent_rejections_; }
  std::map<std::string, std::uint64_t> RejectionsByRule() const;

  std::string Render(const MetricsGauges& gauges) const;

 private:
  Histogram commit_latency_;
  Histogram rounds_;
  Histogram block_txs_;
  Histogram block_bytes_;
  std::vector<Histogram> synced_;       // by SyncedWrite
  std::vector<Histogram> block_steps_;  // by BlockStep
  std::uint64_t blocks_consensus_ = 0;
  std::uint64_t blocks_sync_ = 0;
  std::map<std::string, std::uint64_t> accepted_;                          // rule
  std::map<std::pair<std::string, std::string>, std::uint64_t> rejected_;  // (code, rule)
  std::map<std::string, std::uint64_t> refused_;                           // code
  std::uint64_t equivocations_ = 0;
  std::deque<Rejection> recent_rejections_;
};

// Seconds since construction on the steady clock, for the histograms above (never for a
// decision: the simulator's nodes run on simulated time).
class StopWatch {
 public:
  StopWatch();
  double Seconds() const;

 private:
  std::int64_t start_ns_;
};

// This process's resident set size, from /proc/self/statm; 0 if unreadable.
std::uint64_t ProcessRssBytes();
// The total size of the regular files under `dir` (not following links); 0 if unreadable.
std::uint64_t DirectoryBytes(const std::string& dir);

}  // namespace colend::node
