#include "node/metrics.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace colend::node {
namespace {

// A label value: backslash, double quote and newline escaped (the text format's rule).
std::string Label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void Head(std::string* out, const std::string& name, const char* type, const char* help) {
  *out += "# HELP " + name + " " + help + "\n";
  *out += "# TYPE " + name + " " + type + "\n";
}

void Sample(std::string* out, const std::string& name, std::uint64_t value,
            const std::string& labels = "") {
  *out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
}

void SampleSigned(std::string* out, const std::string& name, std::int64_t value,
                  const std::string& labels = "") {
  *out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::Render(const std::string& name, std::string* out, const std::string& labels) const {
  const std::string before_le = labels.empty() ? "" : labels + ",";
  const std::string own = labels.empty() ? "" : "{" + labels + "}";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    *out += name + "_bucket{" + before_le + "le=\"" + Number(bounds_[i]) + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  cumulative += counts_.back();
  *out += name + "_bucket{" + before_le + "le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  *out += name + "_sum" + own + " " + Number(sum_) + "\n";
  *out += name + "_count" + own + " " + std::to_string(count_) + "\n";
}

NodeMetrics::NodeMetrics()
    : commit_latency_({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}),
      rounds_({1, 2, 3, 5, 10}),
      block_txs_({0, 1, 10, 100, 1000, 10000}),
      block_bytes_({1024, 16384, 131072, 1048576, 8388608, 67108864}),
      synced_(kSyncedWriteKinds,
              Histogram({0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1})),
      block_steps_(kBlockStepKinds,
                   Histogram({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})) {}

void NodeMetrics::Synced(SyncedWrite write, double seconds) {
  synced_[static_cast<std::size_t>(write)].Observe(seconds);
}

void NodeMetrics::BlockStepTook(BlockStep step, double seconds) {
  block_steps_[static_cast<std::size_t>(step)].Observe(seconds);
}

void NodeMetrics::BlockCommitted(std::size_t txs, std::size_t bytes, std::uint32_t round,
                                 std::optional<double> latency_seconds) {
  block_txs_.Observe(static_cast<double>(txs));
  block_bytes_.Observe(static_cast<double>(bytes));
  if (latency_seconds) {
    ++blocks_consensus_;
    commit_latency_.Observe(*latency_seconds);
    rounds_.Observe(static_cast<double>(round) + 1);
  } else {
    ++blocks_sync_;
  }
}

void NodeMetrics::TxCommitted(bool accepted, const std::string& code, const std::string& rule) {
  if (accepted) {
    ++accepted_[rule];
  } else {
    ++rejected_[{code, rule}];
  }
}

void NodeMetrics::RecordRejection(Rejection rejection) {
  if (recent_rejections_.size() == kRecentRejectionsMax) recent_rejections_.pop_front();
  recent_rejections_.push_back(std::move(rejection));
}

std::map<std::string, std::uint64_t> NodeMetrics::RejectionsByRule() const {
  std::map<std::string, std::uint64_t> by_rule;
  for (const auto& [key, n] : rejected_) by_rule[key.second.empty() ? "-" : key.second] += n;
  return by_rule;
}

void NodeMetrics::TxRefused(const std::string& code) { ++refused_[code]; }

void NodeMetrics::EquivocationsSeen(std::size_t count) { equivocations_ += count; }

std::string NodeMetrics::Render(const MetricsGauges& g) const {
  std::string out;
  Head(&out, "colend_height", "gauge", "Height of the last committed block.");
  Sample(&out, "colend_height", g.height);
  Head(&out, "colend_round", "gauge", "Consensus round of the height in progress (0 when idle).");
  Sample(&out, "colend_round", g.round);
  Head(&out, "colend_rounds_per_height", "histogram",
       "Rounds a height took to commit (1 = committed in its first round).");
  rounds_.Render("colend_rounds_per_height", &out);
  Head(&out, "colend_commit_latency_seconds", "histogram",
       "From the start of a height to its commit, for blocks this node committed by consensus.");
  commit_latency_.Render("colend_commit_latency_seconds", &out);
  Head(&out, "colend_block_transactions", "histogram", "Transactions per committed block.");
  block_txs_.Render("colend_block_transactions", &out);
  Head(&out, "colend_block_size_bytes", "histogram", "Serialized size of committed blocks.");
  block_bytes_.Render("colend_block_size_bytes", &out);
  Head(&out, "colend_sync_seconds", "histogram",
       "Time the io thread waited for one synced write, by what it wrote.");
  static constexpr const char* kWrites[kSyncedWriteKinds] = {"block", "vote-state",
                                                             "signing-lease"};
  for (int i = 0; i < kSyncedWriteKinds; ++i) {
    synced_[i].Render("colend_sync_seconds", &out, std::string("write=\"") + kWrites[i] + "\"");
  }
  Head(&out, "colend_block_step_seconds", "histogram",
       "Time the io thread spent on one step of a block: build (proposer), validate (executing a "
       "proposal), commit (checks, execution if not cached, the synced write).");
  static constexpr const char* kSteps[kBlockStepKinds] = {"build", "validate", "commit"};
  for (int i = 0; i < kBlockStepKinds; ++i) {
    block_steps_[i].Render("colend_block_step_seconds", &out,
                           std::string("step=\"") + kSteps[i] + "\"");
  }
  Head(&out, "colend_blocks_committed_total", "counter",
       "Blocks committed, by how: consensus (this node took part) or sync (fetched from a peer).");
  Sample(&out, "colend_blocks_committed_total", blocks_consensus_, "via=\"consensus\"");
  Sample(&out, "colend_blocks_committed_total", blocks_sync_, "via=\"sync\"");
  Head(&out, "colend_transactions_committed_total", "counter",
       "Committed transactions whose contract accepted them, by deciding rule id.");
  for (const auto& [rule, n] : accepted_) {
    Sample(&out, "colend_transactions_committed_total", n, "rule=\"" + Label(rule) + "\"");
  }
  Head(&out, "colend_transactions_rejected_total", "counter",
       "Committed transactions whose contract refused them, by reason code and rule id.");
  for (const auto& [key, n] : rejected_) {
    Sample(&out, "colend_transactions_rejected_total", n,
           "code=\"" + Label(key.first) + "\",rule=\"" + Label(key.second) + "\"");
  }
  Head(&out, "colend_transactions_refused_total", "counter",
       "Transactions refused at admission (never in a block), by reason code.");
  for (const auto& [code, n] : refused_) {
    Sample(&out, "colend_transactions_refused_total", n, "code=\"" + Label(code) + "\"");
  }
  Head(&out, "colend_mempool_transactions", "gauge", "Transactions waiting for a block.");
  Sample(&out, "colend_mempool_transactions", g.mempool_txs);
  Head(&out, "colend_mempool_bytes", "gauge", "Bytes of the transactions waiting for a block.");
  Sample(&out, "colend_mempool_bytes", g.mempool_bytes);
  Head(&out, "colend_mempool_memory_bytes", "gauge",
       "Memory the waiting transactions hold as the mempool counts it, against its limit.");
  Sample(&out, "colend_mempool_memory_bytes", g.mempool_memory_bytes);
  Head(&out, "colend_peers_connected", "gauge", "Peers with an open, authenticated connection.");
  Sample(&out, "colend_peers_connected", g.peers_connected);
  Head(&out, "colend_members", "gauge", "Members of the membership epoch in force.");
  Sample(&out, "colend_members", g.members);
  Head(&out, "colend_quorum", "gauge", "Endorsements a block needs in the epoch in force.");
  Sample(&out, "colend_quorum", g.quorum);
  Head(&out, "colend_membership_epoch", "gauge", "Membership epoch in force.");
  Sample(&out, "colend_membership_epoch", g.membership_epoch);
  Head(&out, "colend_peer_height", "gauge",
       "Each peer's announced height, counted once this node verified it against its own chain.");
  for (const auto& [peer, h] : g.peer_heights) {
    Sample(&out, "colend_peer_height", h, "peer=\"" + Label(peer) + "\"");
  }
  Head(&out, "colend_sync_behind_blocks", "gauge",
       "Blocks between this node and the best verified peer height (0 when synced).");
  Sample(&out, "colend_sync_behind_blocks",
         g.best_peer_height > g.height ? g.best_peer_height - g.height : 0);
  Head(&out, "colend_signing_state", "gauge",
       "1 for the node's signing state: signing, recovering (waiting for its signing floor after "
       "a data loss), not-a-member, or wrong-key (the epoch in force lists this member with "
       "another signing key than signing.key).");
  for (const char* state : {"signing", "recovering", "not-a-member", "wrong-key"}) {
    Sample(&out, "colend_signing_state", g.signing_state == state ? 1 : 0,
           std::string("state=\"") + state + "\"");
  }
  Head(&out, "colend_equivocations_seen_total", "counter",
       "Conflicting signed consensus messages this node detected (each reported on chain).");
  Sample(&out, "colend_equivocations_seen_total", equivocations_);
  Head(&out, "colend_rpc_connections_closed_total", "counter",
       "JSON-RPC connections the node closed at its connection limits: evicted (waiting for a "
       "request, closed for a newcomer; no request left unanswered was executed), refused "
       "(newcomers) or busy (answered 503: the request's body would have gone over the bodies "
       "being read).");
  Sample(&out, "colend_rpc_connections_closed_total", g.rpc_connections_evicted, "reason=\"evicted\"");
  Sample(&out, "colend_rpc_connections_closed_total", g.rpc_connections_refused, "reason=\"refused\"");
  Sample(&out, "colend_rpc_connections_closed_total", g.rpc_connections_busy, "reason=\"busy\"");
  Head(&out, "colend_data_bytes", "gauge", "Size of the node's LevelDB directory.");
  Sample(&out, "colend_data_bytes", g.data_bytes);
  Head(&out, "colend_process_resident_memory_bytes", "gauge", "Resident set size of the node.");
  Sample(&out, "colend_process_resident_memory_bytes", g.rss_bytes);
  Head(&out, "colend_certificate_expiry_seconds", "gauge",
       "Seconds until this member's certificate expires, by kind (negative: expired).");
  for (const auto& [kind, s] : g.certificate_expiry_seconds) {
    SampleSigned(&out, "colend_certificate_expiry_seconds", s, "kind=\"" + Label(kind) + "\"");
  }
  return out;
}

namespace {
std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

StopWatch::StopWatch() : start_ns_(SteadyNs()) {}

double StopWatch::Seconds() const { return static_cast<double>(SteadyNs() - start_ns_) / 1e9; }

std::uint64_t ProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? resident * static_cast<std::uint64_t>(page) : 0;
}

std::uint64_t DirectoryBytes(const std::string& dir) {
  std::error_code ec;
  std::uint64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

}  // namespace colend::node
