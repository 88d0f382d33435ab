// colend-bench: the clients. Each submits its stream on a kept connection (RpcConnection) and
// has a waiter that waits for its transactions on the same node with wait_tx {"ids"}: the node
// answers as soon as one of them is committed, and the waiter asks again for the rest. A
// transaction's commit time is the first moment this client saw its block's height committed.
// See tools/bench.h.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "node/rpc.h"
#include "tools/bench.h"

namespace colend::bench {
namespace {

using json = nlohmann::json;

constexpr std::size_t kWaitIdsMax = 1024;         // node/node_impl.h kWaitIdsMax
constexpr std::int64_t kWaitTimeoutMs = 1000;     // one wait_tx call
constexpr std::int64_t kSubmitTimeoutMs = 10000;
constexpr std::int64_t kRetryPauseMs = 50;

struct Client {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::size_t> outstanding;  // submitted, not yet seen committed (outcome indices)
  bool submitting_done = false;
};

void SleepUntilUs(std::int64_t when_us) {
  const std::int64_t now = MonoUs();
  if (when_us > now) std::this_thread::sleep_for(std::chrono::microseconds(when_us - now));
}

void Submitter(const Endpoint& endpoint, const std::vector<PlannedTx>& stream, std::size_t base,
               std::size_t client, std::size_t clients, const LoadOptions& options,
               std::int64_t start_us, std::vector<TxOutcome>* outcomes, Client* state,
               bool* exhausted) {
  node::RpcConnection connection(endpoint.host, endpoint.port);
  const std::int64_t end_us = start_us + static_cast<std::int64_t>(options.duration_s * 1e6);
  const std::size_t inflight_max =
      std::max<std::size_t>(1, options.inflight_max / std::max<std::size_t>(1, clients));
  std::size_t k = 0;
  for (; k < stream.size(); ++k) {
    TxOutcome& outcome = (*outcomes)[base + k];
    if (options.rate > 0) {
      // Transaction k of client c is number k·C + c of the whole schedule.
      const double due = start_us + (static_cast<double>(k * clients + client) * 1e6 / options.rate);
      const auto due_us = static_cast<std::int64_t>(due);
      if (due_us >= end_us) break;
      SleepUntilUs(due_us);
      outcome.lag_us = std::max<std::int64_t>(0, MonoUs() - due_us);
    } else {
      std::unique_lock<std::mutex> lock(state->mutex);
      state->changed.wait_until(lock, std::chrono::steady_clock::time_point(
                                          std::chrono::microseconds(end_us)),
                                [&] { return state->outstanding.size() < inflight_max; });
      if (MonoUs() >= end_us) break;
    }
    outcome.submit_us = MonoUs();
    auto submitted = connection.Call("submit", json{{"tx", stream[k].wire_hex}}, kSubmitTimeoutMs);
    // A kept connection closed by the node is retried once: the second copy is a duplicate.
    if (!submitted.ok() && submitted.error().code != "duplicate-transaction") {
      outcome.submit_error = submitted.error().code;
      continue;
    }
    std::lock_guard<std::mutex> lock(state->mutex);
    state->outstanding.push_back(base + k);
    state->changed.notify_all();
  }
  if (k == stream.size()) {
    // Out of transactions while the schedule (or the duration) still wanted more.
    const double next_due =
        start_us + static_cast<double>(k * clients + client) * 1e6 / std::max(options.rate, 1e-9);
    *exhausted = options.rate > 0 ? next_due < static_cast<double>(end_us) : MonoUs() < end_us;
  }
  std::lock_guard<std::mutex> lock(state->mutex);
  state->submitting_done = true;
  state->changed.notify_all();
}

void Waiter(const Endpoint& endpoint, const std::vector<PlannedTx>& stream, std::size_t base,
            const LoadOptions& options, std::int64_t start_us, std::vector<TxOutcome>* outcomes,
            Client* state) {
  node::RpcConnection connection(endpoint.host, endpoint.port);
  const std::int64_t give_up_us = start_us + static_cast<std::int64_t>(options.duration_s * 1e6) +
                                  options.drain_ms * 1000;
  std::unordered_map<std::string, std::size_t> index_of;  // tx id → outcome index
  std::unordered_map<std::uint64_t, std::int64_t> height_seen_us;
  for (std::size_t k = 0; k < stream.size(); ++k) index_of.emplace(stream[k].id_hex, base + k);
  while (MonoUs() < give_up_us) {
    json ids = json::array();
    {
      std::unique_lock<std::mutex> lock(state->mutex);
      state->changed.wait_for(lock, std::chrono::milliseconds(kRetryPauseMs), [&] {
        return !state->outstanding.empty() || state->submitting_done;
      });
      if (state->outstanding.empty()) {
        if (state->submitting_done) return;
        continue;
      }
      for (std::size_t i = 0; i < state->outstanding.size() && ids.size() < kWaitIdsMax; ++i) {
        ids.push_back(stream[state->outstanding[i] - base].id_hex);
      }
    }
    auto answer = connection.Call("wait_tx", json{{"ids", ids}, {"timeout_ms", kWaitTimeoutMs}},
                                  kWaitTimeoutMs + 5000);
    const std::int64_t now = MonoUs();
    if (!answer.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kRetryPauseMs));
      continue;
    }
    bool any = false;
    for (const json& tx : (*answer)["committed"]) {
      auto it = index_of.find(tx.value("tx", ""));
      if (it == index_of.end()) continue;
      TxOutcome& outcome = (*outcomes)[it->second];
      const std::uint64_t height = tx.value("height", std::uint64_t{0});
      const std::int64_t seen = height_seen_us.try_emplace(height, now).first->second;
      outcome.commit_us = std::max(seen, outcome.submit_us);
      outcome.height = height;
      outcome.accepted = tx.value("accepted", false);
      outcome.code = tx.value("code", std::string("no-receipt"));
      any = true;
    }
    if (!any) continue;
    std::lock_guard<std::mutex> lock(state->mutex);
    std::deque<std::size_t> left;
    for (std::size_t index : state->outstanding) {
      if ((*outcomes)[index].commit_us < 0) left.push_back(index);
    }
    state->outstanding.swap(left);
    state->changed.notify_all();
  }
}

}  // namespace

std::int64_t MonoUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

LoadResult RunLoad(const std::vector<Endpoint>& endpoints,
                   const std::vector<std::vector<PlannedTx>>& streams, const LoadOptions& options) {
  LoadResult result;
  std::vector<std::size_t> bases;
  std::size_t total = 0;
  for (const auto& stream : streams) {
    bases.push_back(total);
    total += stream.size();
  }
  result.outcomes.assign(total, TxOutcome{});
  std::vector<Client> clients(streams.size());
  std::vector<char> exhausted(streams.size(), 0);
  result.start_us = MonoUs();
  std::vector<std::thread> threads;
  for (std::size_t c = 0; c < streams.size(); ++c) {
    const Endpoint& endpoint = endpoints[c % endpoints.size()];
    threads.emplace_back([&, c, endpoint] {
      bool ran_out = false;
      Submitter(endpoint, streams[c], bases[c], c, streams.size(), options, result.start_us,
                &result.outcomes, &clients[c], &ran_out);
      exhausted[c] = ran_out;
    });
    threads.emplace_back([&, c, endpoint] {
      Waiter(endpoint, streams[c], bases[c], options, result.start_us, &result.outcomes,
             &clients[c]);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const TxOutcome& o : result.outcomes) {
    result.last_submit_us = std::max(result.last_submit_us, o.submit_us);
  }
  result.streams_exhausted = std::any_of(exhausted.begin(), exhausted.end(),
                                         [](char e) { return e != 0; });
  return result;
}

Status CommitAll(const Endpoint& endpoint, const std::vector<PlannedTx>& txs) {
  if (txs.empty()) return Status::Ok();
  node::RpcConnection connection(endpoint.host, endpoint.port);
  json ids = json::array();
  for (const PlannedTx& tx : txs) {
    auto submitted = connection.Call("submit", json{{"tx", tx.wire_hex}}, kSubmitTimeoutMs);
    if (!submitted.ok() && submitted.error().code != "duplicate-transaction") {
      return Error{submitted.error().code, "setup " + tx.type + ": " + submitted.error().message,
                   ""};
    }
    ids.push_back(tx.id_hex);
  }
  const std::int64_t deadline = MonoUs() + 60 * 1000000;
  while (!ids.empty()) {
    if (MonoUs() > deadline) {
      return MakeError("not-committed", "the setup transactions were not committed within 60 s "
                                        "(is a quorum of the network running?)");
    }
    auto answer = connection.Call("wait_tx", json{{"ids", ids}, {"timeout_ms", 10000}}, 15000);
    if (!answer.ok()) return answer.error();
    for (const json& tx : (*answer)["committed"]) {
      if (!tx.value("accepted", false)) {
        return MakeError("bench-setup-rejected", "setup " + tx.value("type", std::string()) +
                                                     " was rejected: " +
                                                     tx.value("code", std::string()) + ": " +
                                                     tx.value("message", std::string()));
      }
    }
    ids = (*answer)["pending"];
  }
  return Status::Ok();
}

}  // namespace colend::bench
