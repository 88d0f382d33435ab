// The simulator's event loop and checks (sim_internal.h; see sim.h). Node behaviour mirrors
// node/node.cc and node/node_sync.cc (named where it matters) and calls the node's own
// PeerHeights, ComputeSigningFloor and JudgeSigningHistory.
#include "sim_internal.h"

namespace colend::sim::internal {

// ---------------------------------------------------------------------------------------------
// Event loop

bool Simulation::Step(std::int64_t until) {
  std::int64_t next = queue_.empty() ? kNever : queue_.begin()->first.first;
  for (auto& [id, node] : nodes_) {
    if (node.mode != Node::kRunning) continue;
    next = std::min({next, node.next_housekeeping, node.start_at});
    if (node.active_height != 0 && node.replica) next = std::min(next, node.replica->next_deadline_ms());
  }
  if (next > until) return false;
  now_ = std::max(now_, next);
  if (!queue_.empty() && queue_.begin()->first.first <= now_) {
    auto fn = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    fn();
    return true;
  }
  for (auto& [id, node] : nodes_) {
    if (node.mode != Node::kRunning) continue;
    if (node.next_housekeeping <= now_) Housekeeping(node);
    if (node.mode == Node::kRunning && node.start_at <= now_) StartHeight(node);
    if (node.mode == Node::kRunning && node.active_height != 0 && node.replica &&
        node.replica->next_deadline_ms() <= now_) {
      Handle(node, node.replica->OnTick(Clock(node)));
    }
  }
  return true;
}

SimResult Simulation::Run() {
  for (auto& [id, node] : nodes_) Boot(node);
  const std::int64_t fault_end = kStart + options_.fault_ms;
  const std::int64_t end = fault_end + options_.heal_ms;
  load_until_ = end - std::min<std::int64_t>(options_.heal_ms / 2, 15'000);
  // Recurring drivers, each scheduled through the queue so the order is fixed by the seed.
  std::function<void()> load = [&] {
    SubmitClientTx();
    if (now_ < load_until_) queue_.emplace(std::pair(now_ + Uniform(300, 1'500), seq_++), load);
  };
  std::function<void()> faults = [&] {
    if (now_ >= fault_end) return;
    if (active_faults_ < 2) InjectFault();
    queue_.emplace(std::pair(now_ + Uniform(1'000, 4'000), seq_++), faults);
  };
  std::function<void()> membership = [&] {
    if (now_ >= fault_end) return;
    ProposeMembershipChange();
    queue_.emplace(std::pair(now_ + Uniform(5'000, 15'000), seq_++), membership);
  };
  std::function<void()> chaos = [&] {
    if (chaos_) ReplayOrForge();
    if (now_ < fault_end) queue_.emplace(std::pair(now_ + 97, seq_++), chaos);
  };
  queue_.emplace(std::pair(now_ + 10, seq_++), load);
  queue_.emplace(std::pair(now_ + 2'000, seq_++), faults);
  queue_.emplace(std::pair(now_ + 50, seq_++), chaos);
  if (options_.membership_changes) {
    queue_.emplace(std::pair(now_ + Uniform(3'000, 12'000), seq_++), membership);
  }
  while (Step(fault_end)) {
  }
  now_ = fault_end;
  // Pending fault endings still run (they restart what they stopped); then heal the rest.
  HealAll();
  const std::uint64_t height_at_heal = MaxHeight();
  while (Step(end)) {
  }
  now_ = end;

  // Final invariants.
  for (const std::string& c : sign_log_.conflicts()) Violation("double signature: " + c);
  // The network's final epoch is the furthest node's; its members must converge. A node that is
  // not a member is admitted by no member (node.cc transport): it keeps a prefix of the chain.
  const Node& reference = Leader();
  const Epoch& final_epoch = reference.epoch();
  bool converged = true;
  for (const auto& [id, node] : nodes_) {
    if (node.mode != Node::kRunning) {
      Violation(id + " is not running at the end");
      converged = false;
    }
    if (final_epoch.Has(id) &&
        (node.height() != reference.height() || node.chain.back().hash != reference.chain.back().hash)) {
      converged = false;
    }
    for (std::size_t h = 1; h < node.chain.size(); ++h) {
      auto it = committed_.find(h);
      if ((it == committed_.end() || it->second != node.chain[h].hash) && !forked_) {
        Violation(id + " holds a block at height " + std::to_string(h) + " that differs from the first committed one");
        break;
      }
    }
  }
  if (forked_) {
    Event("forked by an equivocating member in majority mode: convergence, durability and "
          "liveness are not judged");
    converged = true;
  }
  if (!converged) {
    std::string heights;
    for (const auto& [id, node] : nodes_) heights += " " + id + "=" + std::to_string(node.height());
    Violation("convergence: nodes did not reach the same chain within " + Ms(kStart + options_.heal_ms) +
              " of healing:" + heights);
  }
  if (final_epoch.number > 0) {
    Event("final membership epoch " + std::to_string(final_epoch.number) + ": " +
          std::string(consensus::QuorumRuleName(final_epoch.rule)) + ", " +
          std::to_string(final_epoch.members.size()) + " members");
  }
  // Members whose signing history was wiped sign nothing below their floor (F11). If too few
  // others remain to form a quorum the network halts, safely, by design.
  const bool halted_by_design = HaltedByDesign();
  if (halted_by_design) {
    Event("halted safely: too few members may sign at height " +
          std::to_string(MaxHeight() + 1) + " (the others' signing history was wiped)");
  }
  if (MaxHeight() <= height_at_heal && load_until_ > fault_end && !halted_by_design && !forked_) {
    Violation("liveness: no block committed after every fault healed (height " +
              std::to_string(height_at_heal) + ")");
  }
  // Durability: every acknowledged transaction is in the chain exactly once, on every member's
  // node (and at most once on any node).
  for (const auto& [id, node] : nodes_) {
    std::map<std::string, int> count;
    for (const StoredBlock& b : node.chain)
      for (const std::string& tx : b.block.txs()) ++count[tx];
    for (const auto& [tx, n] : count) {
      if (n > 1) Violation(id + ": transaction " + tx.substr(0, 40) + " committed " + std::to_string(n) + " times");
    }
    if (!final_epoch.Has(id)) continue;
    for (const std::string& tx : acknowledged_) {
      if (count[tx] != 1 && !forked_) Violation(id + ": acknowledged transaction " + tx + " is missing");
    }
  }
  // Accountability: every equivocation an honest member detected (and did not lose in a wipe) is
  // committed as evidence. (A detector that is no longer a member cannot reach the others.)
  std::set<std::string> committed_keys;
  for (const StoredBlock& b : reference.chain)
    for (const std::string& tx : b.block.txs())
      if (tx.starts_with("E")) committed_keys.insert(EvidenceKeyOf(tx));
  for (const auto& [key, who] : detected_) {
    std::vector<std::string> members;
    for (const std::string& id : who) {
      if (final_epoch.Has(id)) members.push_back(id);
    }
    if (!members.empty() && !committed_keys.count(key) && !halted_by_design && !forked_) {
      Violation("accountability: equivocation " + key + " detected by " + members.front() +
                " was never committed");
    }
  }
  result_.equivocations_detected = detected_.size();
  result_.evidence_committed = committed_keys.size();
  result_.txs_acknowledged = acknowledged_.size();
  result_.height = converged ? reference.height() : 0;
  return result_;
}

}  // namespace colend::sim::internal

namespace colend::sim {

using internal::Simulation;

std::string SimResult::Summary() const {
  std::ostringstream out;
  out << "height " << height << ", " << faults << " faults, " << txs_acknowledged << "/"
      << txs_submitted << " transactions acknowledged, equivocations " << equivocations_injected
      << " injected / " << equivocations_detected << " detected / " << evidence_committed
      << " committed as evidence, " << lies << " lies, " << forks_with_evidence
      << " forks with evidence, " << messages << " messages, " << violations.size()
      << " violations";
  return out.str();
}

SimResult RunSimulation(const SimOptions& options) {
  Simulation simulation(options);
  return simulation.Run();
}

}  // namespace colend::sim

