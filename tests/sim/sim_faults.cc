// Faults F1-F12 and load (sim_internal.h): what the simulation injects, the client
// transactions, membership changes, replays and forgeries, liveness checks and healing.
#include "sim_internal.h"

namespace colend::sim::internal {

// ---------------------------------------------------------------------------------------------
// Faults and load

void Simulation::InjectFault() {
  static constexpr const char* kNames[] = {"F1", "F2", "F3",  "F4",  "F5",  "F6",   "F7",
                                           "F8", "F9", "F10", "F11", "F12", "liar", "hold"};
  const auto fault = static_cast<Fault>(Uniform(0, 13));
  const std::int64_t duration = Uniform(2'000, 10'000);
  const std::string name = kNames[static_cast<int>(fault)];
  ++result_.faults;
  ++active_faults_;
  auto later = [&](std::int64_t delay, std::function<void()> fn) {
    queue_.emplace(std::pair(now_ + delay, seq_++), [this, fn = std::move(fn)] {
      fn();
      --active_faults_;
      if (active_faults_ == 0) ScheduleLivenessCheck();
    });
  };
  auto pick = [&](std::size_t count, std::optional<std::string> first = std::nullopt) {
    std::vector<std::string> chosen;
    if (first) chosen.push_back(*first);
    while (chosen.size() < count) {
      const std::string& id = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
      if (std::find(chosen.begin(), chosen.end(), id) == chosen.end()) chosen.push_back(id);
    }
    return chosen;
  };
  auto crash_for = [&](const std::vector<std::string>& ids, std::int64_t ms, const std::string& why) {
    std::vector<std::string> crashed;
    for (const std::string& id : ids) {
      Node& node = nodes_.at(id);
      if (node.mode == Node::kRunning) {
        Crash(node, why);
        crashed.push_back(id);
        // The operator copies data/ while the node is down: a later F11 may restore it.
        if (Chance(400)) node.backup = Node::Backup{node.chain, node.replica_state, node.history_complete};
      }
    }
    later(ms, [this, crashed] {
      for (const std::string& id : crashed) {
        Node& node = nodes_.at(id);
        if (node.mode != Node::kCrashed) continue;
        Boot(node);
        Event(id + " restarted at height " + std::to_string(node.height()));
      }
    });
  };
  // A running member loses its data (key and lease kept) and restarts a little later.
  auto wipe_and_restart = [&](const std::string& id, const std::string& how, std::int64_t lo,
                              std::int64_t hi) {
    Node& node = nodes_.at(id);
    if (node.mode != Node::kRunning) return;
    Crash(node, "");
    Event(id + " crashed" + how);
    node.chain.resize(1);
    node.replica_state.clear();
    node.history_complete = false;
    node.pending_evidence.clear();
    for (auto& [key, who] : detected_) who.erase(id);
    ++active_faults_;
    later(Uniform(lo, hi), [this, id] {
      Node& n = nodes_.at(id);
      if (n.mode == Node::kCrashed) Boot(n);
    });
  };
  const std::string proposer = Leader().epoch().set->ProposerFor(MaxHeight() + 1, 0);
  switch (fault) {
    case Fault::kF1: {
      std::string id;
      do id = pick(1)[0]; while (id == proposer);
      crash_for({id}, duration, "(F1 follower kill -9)");
      break;
    }
    case Fault::kF2: {
      Node& node = nodes_.at(proposer);
      if (Chance(500) && node.mode == Node::kRunning) {
        node.mode = Node::kPaused;
        Event(proposer + " paused (F2 SIGSTOP of the proposer of height " +
              std::to_string(MaxHeight() + 1) + ") for " + Ms(kStart + duration));
        later(duration, [this, proposer] {
          Node& n = nodes_.at(proposer);
          if (n.mode != Node::kPaused) return;
          n.mode = Node::kRunning;
          Event(proposer + " resumed (SIGCONT) with " + std::to_string(n.inbox.size()) + " queued messages");
          auto inbox = std::move(n.inbox);
          n.inbox.clear();
          for (auto& [from, msg] : inbox) {
            if (n.mode != Node::kRunning) break;
            ++result_.messages;
            Receive(n, from, msg);
          }
        });
      } else {
        crash_for({proposer}, duration, "(F2 kill -9 of the proposer)");
      }
      break;
    }
    case Fault::kF3:
      crash_for(pick(2), duration, "(F3 two members down)");
      break;
    case Fault::kF4:
      crash_for(pick(3), duration, "(F4 three members down)");
      break;
    case Fault::kF5: {
      const auto minority = pick(ids_.size() / 2);
      std::set<std::string> a(minority.begin(), minority.end());
      for (const std::string& x : ids_) {
        for (const std::string& y : ids_) {
          if (a.count(x) != a.count(y)) blocked_.insert({x, y});
        }
      }
      std::string left, right;
      for (const std::string& x : ids_) (a.count(x) ? left : right) += x + " ";
      Event("partition (F5) { " + left + "} | { " + right + "} for " + Ms(kStart + duration));
      later(duration, [this, a] {
        for (const std::string& x : ids_)
          for (const std::string& y : ids_)
            if (a.count(x) != a.count(y)) blocked_.erase({x, y});
        Event("partition healed");
      });
      break;
    }
    case Fault::kF6: {
      const auto two = pick(2);
      blocked_.insert({two[0], two[1]});
      Event("one-way link loss (F6) " + two[0] + " -> " + two[1] + " for " + Ms(kStart + duration));
      later(duration, [this, two] {
        blocked_.erase({two[0], two[1]});
        Event("link " + two[0] + " -> " + two[1] + " restored");
      });
      break;
    }
    case Fault::kF7: {
      const std::string id = pick(1)[0];
      Node& node = nodes_.at(id);
      if (node.mode != Node::kRunning) {
        --active_faults_;
        break;
      }
      node.crash_point = static_cast<int>(Uniform(0, 3));
      Event(id + " will crash at write step " + std::to_string(node.crash_point) + " (F7)");
      later(duration, [this, id] {
        Node& n = nodes_.at(id);
        n.crash_point = -1;
        if (n.mode != Node::kCrashed) return;
        Boot(n);
        Event(id + " restarted at height " + std::to_string(n.height()));
      });
      break;
    }
    case Fault::kF8: {
      drop_per_mille_ = static_cast<int>(Uniform(50, 300));
      duplicate_per_mille_ = static_cast<int>(Uniform(50, 200));
      latency_min_ = 1;
      latency_max_ = Uniform(100, 600);
      chaos_ = true;
      Event("lossy network (F8): drop " + std::to_string(drop_per_mille_) + "/1000, duplicate " +
            std::to_string(duplicate_per_mille_) + "/1000, latency 1.." +
            std::to_string(latency_max_) + " ms, replays and foreign-chain messages, for " +
            Ms(kStart + duration));
      later(duration, [this] {
        drop_per_mille_ = duplicate_per_mille_ = 0;
        latency_min_ = 2;
        latency_max_ = 12;
        chaos_ = false;
        Event("network clean again");
      });
      break;
    }
    case Fault::kF9: {
      const std::string id = pick(1)[0];
      const std::int64_t skew = (Chance(500) ? 1 : -1) * Uniform(kClockSkewMaxMs + 1'000, 30'000);
      nodes_.at(id).clock_offset = skew;
      Event(id + " clock skewed by " + std::to_string(skew) + " ms (F9) for " + Ms(kStart + duration));
      later(duration, [this, id] {
        nodes_.at(id).clock_offset = 0;
        Event(id + " clock corrected");
      });
      break;
    }
    case Fault::kF10:
    case Fault::kF11: {
      const std::string id = pick(1)[0];
      Node& node = nodes_.at(id);
      if (node.mode == Node::kCrashed) {
        --active_faults_;
        break;
      }
      Crash(node, "");
      if (fault == Fault::kF10) {
        const std::size_t keep = static_cast<std::size_t>(
            Uniform(1, static_cast<std::int64_t>(node.chain.size())));
        Event(id + " crashed; block store truncated from height " + std::to_string(node.height()) +
              " to " + std::to_string(keep - 1) + " (F10)");
        node.chain.resize(keep);
      } else {
        // F11: the signing history is lost, the key and the lease (outside data/) are kept:
        // data/ removed or emptied, or killed right after a fresh store was made (all three
        // leave a store without the "history complete" record), or replaced by an older copy.
        const bool restore = node.backup.has_value() && Chance(500);
        if (restore) {
          Event(id + " crashed; data/ restored from a copy at height " +
                std::to_string(node.backup->chain.size() - 1) + " (F11; it was at " +
                std::to_string(node.height()) + ")");
          node.chain = node.backup->chain;
          node.replica_state = node.backup->replica_state;
          node.history_complete = node.backup->history_complete;
        } else {
          static constexpr const char* kHow[] = {"removed", "emptied", "killed after a fresh store was made"};
          Event(id + " crashed; data/ " + kHow[Uniform(0, 2)] + ", key kept (F11) at height " +
                std::to_string(node.height()));
          node.chain.resize(1);
          node.replica_state.clear();
          node.history_complete = false;
        }
        node.pending_evidence.clear();
        for (auto& [key, who] : detected_) who.erase(id);
        // Sometimes a second member at once (the chain may then halt, safely, until one recovers),
        // while fewer than a quorum lose their data: a block a quorum committed keeps one copy
        // (losing it on a whole quorum is outside the fault model, docs/consensus.md §12).
        if (Chance(250) && Leader().epoch().set->quorum() > 2) {
          wipe_and_restart(pick(2, id)[1], "too; data/ removed, key kept (F11, two at once)", 500, 3'000);
        }
      }
      later(Uniform(500, 3'000), [this, id] {
        Node& n = nodes_.at(id);
        if (n.mode != Node::kCrashed) return;
        Boot(n);
        Event(id + " restarted at height " + std::to_string(n.height()) +
              (n.recovering ? ", recovering its signing floor" : ""));
      });
      break;
    }
    case Fault::kLiar: {
      if (!byzantine_ever_) byzantine_ = pick(1)[0];
      byzantine_ever_ = true;
      const std::string liar = *byzantine_;
      nodes_.at(liar).liar = true;
      Event(liar + " lies (forged heights in status, substituted bodies in sync answers and relayed "
            "proposals) for " + Ms(kStart + duration));
      // Named scenario: a member wiped while another lies (the recovery must not believe it).
      if (Chance(600)) {
        wipe_and_restart(pick(2, liar)[1], "; data/ removed, key kept, while " + liar + " lies (F11)", 200, 1'000);
      }
      later(duration, [this, liar] {
        nodes_.at(liar).liar = false;
        Event(liar + " stops lying");
      });
      break;
    }
    case Fault::kHold: {
      hold_per_mille_ = static_cast<int>(Uniform(20, 150));
      Event("messages held (" + std::to_string(hold_per_mille_) +
            "/1000 of them for 1-30 s, then delivered) for " + Ms(kStart + duration));
      later(duration, [this] {
        hold_per_mille_ = 0;
        Event("no more messages held (those held are still delivered late)");
      });
      break;
    }
    case Fault::kF12: {
      if (!byzantine_ever_) byzantine_ = pick(1)[0];
      byzantine_ever_ = true;
      nodes_.at(*byzantine_).byzantine = true;
      Event(*byzantine_ + " equivocates (F12) for " + Ms(kStart + duration));
      later(duration, [this] {
        nodes_.at(*byzantine_).byzantine = false;
        Event(*byzantine_ + " stops equivocating");
      });
      break;
    }
  }
}

void Simulation::SubmitClientTx() {
  const std::string& id = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
  Node& node = nodes_.at(id);
  const std::string tx = "C" + std::to_string(++client_seq_);
  ++result_.txs_submitted;
  if (node.mode != Node::kRunning) return;  // the client sees an error: not acknowledged
  submitted_to_[tx] = id;
  SubmitAndGossip(node, tx);
}

// docs/consensus.md §7: a member proposes a membership change (committed once in a block): re-add
// a removed member, remove one (while more than three remain) or switch the quorum rule.
void Simulation::ProposeMembershipChange() {
  const Epoch& current = Leader().epoch();
  std::vector<std::string> removed;
  for (const std::string& id : ids_) {
    if (!current.Has(id)) removed.push_back(id);
  }
  const std::int64_t choice = Uniform(0, 2);
  std::string change;
  if (choice == 0 && !removed.empty()) {
    change = "add:" + removed[Uniform(0, static_cast<std::int64_t>(removed.size()) - 1)];
  } else if (choice == 1 && current.members.size() > 3) {
    change = "remove:" + current.members[Uniform(0, static_cast<std::int64_t>(current.members.size()) - 1)];
  } else {
    change = std::string("quorum:") +
             (current.rule == consensus::QuorumRule::kMajority ? "two-thirds" : "majority");
  }
  const std::string tx = "M" + std::to_string(++membership_seq_) + ":" + change;
  const std::string& via = current.members[Uniform(0, static_cast<std::int64_t>(current.members.size()) - 1)];
  Node& node = nodes_.at(via);
  if (node.mode != Node::kRunning) {
    Event("membership change " + change + " not proposed: " + via + " is down");
    return;
  }
  Event("membership change " + change + " proposed via " + via);
  SubmitAndGossip(node, tx);
}

// F8: an old message replayed, or a vote signed for another chain; both must change nothing.
void Simulation::ReplayOrForge() {
  const std::string& to = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
  auto msg = std::make_shared<Msg>();
  if (!recent_.empty() && Chance(500)) {
    msg->consensus = recent_[Uniform(0, static_cast<std::int64_t>(recent_.size()) - 1)];
  } else {
    const std::size_t signer = static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1));
    const std::uint64_t height = nodes_.at(to).height() + 1;
    const Hash256 hash = crypto::Sha256("foreign block " + std::to_string(height));
    auto signature = SimKey(signer).Sign(
        consensus::VoteText("colend-other-chain", 0, height, 0, consensus::Phase::kPrevote, hash));
    if (!signature.ok()) return;
    cproto::Vote& v = *msg->consensus.mutable_vote();
    v.set_height(height);
    v.set_round(0);
    v.set_phase(cproto::PHASE_PREVOTE);
    v.set_block_hash(std::string(crypto::AsBytes(hash)));
    v.set_member(ids_[signer]);
    v.set_signature(*signature);
  }
  const std::string& from = ids_[Uniform(0, static_cast<std::int64_t>(ids_.size()) - 1)];
  if (from == to) return;
  queue_.emplace(std::pair(now_ + Uniform(1, 50), seq_++), [this, to, from, msg] { Deliver(to, from, msg); });
}

bool Simulation::HaltedByDesign() const {
  const Node& reference = Leader();
  const Epoch& epoch = reference.epoch();
  std::size_t may_sign = 0;
  for (const auto& [id, node] : nodes_) {
    if (epoch.Has(id) && node.mode == Node::kRunning && !node.recovering && node.replica &&
        node.replica->sign_floor() <= MaxHeight() + 1) {
      ++may_sign;
    }
  }
  return may_sign < epoch.set->quorum();
}

void Simulation::ScheduleLivenessCheck() {
  const std::uint64_t token = ++heal_token_;
  const std::uint64_t height = MaxHeight();
  queue_.emplace(std::pair(now_ + kLivenessMs, seq_++), [this, token, height] {
    if (token != heal_token_ || active_faults_ != 0) return;  // another fault came meanwhile
    bool pending = false, all_up = true;
    for (const auto& [id, node] : nodes_) {
      pending = pending || std::any_of(node.mempool.begin(), node.mempool.end(),
                                       [](const auto& e) { return e.second.starts_with("C"); });
      all_up = all_up && node.mode == Node::kRunning;
    }
    if (!pending || !all_up || MaxHeight() > height || HaltedByDesign() || forked_) return;
    Violation("liveness: every fault had healed at " + Ms(now_ - kLivenessMs) +
              ", transactions were pending, and no block committed in " + Ms(kStart + kLivenessMs));
  });
}

void Simulation::HealAll() {
  blocked_.clear();
  drop_per_mille_ = duplicate_per_mille_ = 0;
  latency_min_ = 2;
  latency_max_ = 12;
  chaos_ = false;
  hold_per_mille_ = 0;
  for (auto& [id, node] : nodes_) {
    node.clock_offset = 0;
    node.byzantine = false;
    node.liar = false;
    node.crash_point = -1;
    if (node.mode == Node::kPaused) {
      node.mode = Node::kRunning;
      auto inbox = std::move(node.inbox);
      node.inbox.clear();
      for (auto& [from, msg] : inbox) {
        if (node.mode != Node::kRunning) break;
        Receive(node, from, msg);
      }
    }
    if (node.mode == Node::kCrashed) Boot(node);
  }
  Event("all faults healed; heights:" + [&] {
    std::string s;
    for (const auto& [id, node] : nodes_) s += " " + std::to_string(node.height());
    return s;
  }());
}

}  // namespace colend::sim::internal
