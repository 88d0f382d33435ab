// colend-sim --real-node: the invariants (node_world.h).
#include "consensus/consensus.pb.h"
#include "node/node.pb.h"
#include "node_world.h"

namespace colend::sim::world {

// Every vote and proposal on the wire, by (member, height, round, kind): a second one with other
// content is a double signature, whoever receives it. The Byzantine member's are counted.
void World::ObserveSigned(const std::string& from, const std::string& frame) {
  node::proto::PeerMessage message;
  if (!message.ParseFromString(frame) || !message.has_consensus()) return;
  const auto& c = message.consensus();
  std::string member, content;
  std::uint64_t height = 0;
  std::uint32_t round = 0;
  int kind = 0;
  if (c.has_vote()) {
    member = c.vote().member();
    height = c.vote().height();
    round = c.vote().round();
    kind = static_cast<int>(c.vote().phase());
    content = c.vote().block_hash();
  } else if (c.has_proposal()) {
    member = c.proposal().proposer();
    height = c.proposal().height();
    round = c.proposal().round();
    kind = -1;
    content = c.proposal().block().header() + "/" + std::to_string(c.proposal().valid_round());
  } else {
    return;
  }
  auto [it, inserted] = signed_.emplace(std::make_tuple(member, height, round, kind), content);
  if (!inserted && it->second != content) {
    if (member == byzantine_) {
      ++result_->equivocations_injected;
      it->second = content;
      return;
    }
    (void)from;
    Violation(member + " signed twice at height " + std::to_string(height) + " round " +
              std::to_string(round) + (kind < 0 ? " (proposal)" : " (vote phase " + std::to_string(kind) + ")"));
    it->second = content;
  }
}

void World::Check() {
  for (auto& member : members_) {
    if (!member->up) continue;
    auto status = Call(*member, "status", json::object());
    if (!status.ok()) continue;
    const std::uint64_t height = (*status)["height"].get<std::uint64_t>();
    for (std::uint64_t h = member->checked_height + 1; h <= height; ++h) {
      auto block = Call(*member, "block", json{{"height", h}});
      if (!block.ok()) {
        if (!member->corrupted) {
          Violation(member->id + " cannot read its block " + std::to_string(h) + ": " +
                    block.error().ToString());
          break;
        }
        // Refused, never served: what a damaged store must do. The operator moves it aside.
        Event(member->id + " refuses to serve its damaged block " + std::to_string(h) + ": " +
              block.error().code);
        Member& damaged = *member;
        At(now_, [this, &damaged] {
          Crash(damaged, "is stopped by its operator");
          OperatorMovesDataAside(damaged);
        });
        break;
      }
      // The header hash and the body (transaction ids): a body substituted under a genuine
      // header and certificate would keep the hash.
      std::string hash = (*block)["hash"].get<std::string>();
      for (const json& tx : (*block)["txs"]) hash += " " + tx.get<std::string>();
      auto [it, inserted] = chain_.emplace(h, hash);
      if (!inserted && it->second != hash) {
        Violation("fork at height " + std::to_string(h) + ": " + member->id + " has " +
                  hash.substr(0, 16) + ", another member " + it->second.substr(0, 16));
      }
      const std::int64_t time = (*block)["timestamp"].get<std::int64_t>();
      if (inserted && time > now_ + kBlockTimeSlackMs) {
        Violation("block " + std::to_string(h) + " is dated " + std::to_string(time - now_) +
                  " ms ahead of true time");
      }
      member->checked_height = h;
    }
  }
}

void World::FinalChecks() {
  std::set<std::uint64_t> heights;
  for (auto& member : members_) {
    auto status = Call(*member, "status", json::object());
    if (!status.ok()) {
      Violation(member->id + " is not running at the end");
      continue;
    }
    heights.insert((*status)["height"].get<std::uint64_t>());
  }
  if (heights.size() != 1) {
    std::string list;
    for (auto& member : members_) list += " " + member->id + "@" + std::to_string(member->checked_height);
    Violation("no convergence after the quiet phase:" + list);
    return;
  }
  result_->height = *heights.begin();
  // Evidence on chain (docs/consensus.md §11): it may name only the member that signed twice.
  auto faults = Call(*members_.front(), "faults", json::object());
  if (faults.ok()) {
    std::set<std::string> kinds;
    for (const json& fault : (*faults)["faults"]) {
      const std::string member = fault.value("member", "");
      if (member != byzantine_) {
        Violation("evidence names " + member + ", which never signed twice");
      } else {
        kinds.insert(std::to_string(fault.value("height", 0)) + "/" + std::to_string(fault.value("round", 0)) +
                     "/" + fault.value("kind", ""));
      }
    }
    result_->evidence_committed = kinds.size();
  }
  // Members whose signing history was lost sign nothing below their floor (docs/consensus.md
  // §10): when fewer than a quorum may sign the next height, the chain halts, safely, by design.
  std::size_t may_sign = 0, quorum = 0;
  for (auto& member : members_) {
    auto status = Call(*member, "status", json::object());
    quorum = (*status)["quorum"].get<std::size_t>();
    const json& consensus = (*status)["consensus"];
    if (!status->contains("recovery") && consensus["signing"].get<std::string>().rfind("no:", 0) != 0 &&
        consensus["sign_floor"].get<std::uint64_t>() <= result_->height + 1) {
      ++may_sign;
    }
  }
  if (may_sign < quorum) {
    Event("halted safely: " + std::to_string(may_sign) + " members may sign at height " +
          std::to_string(result_->height + 1) + ", fewer than the quorum of " +
          std::to_string(quorum) + " (the others' signing history was lost)");
    return;
  }
  Member& reader = *members_.front();
  std::size_t lost = 0;
  std::string first_lost;
  for (const auto& [id, admitted] : acknowledged_) {
    auto answer = Call(reader, "tx", json{{"id", id}});
    if (answer.ok() && answer->value("status", "") == "committed") {
      ++result_->txs_acknowledged;
    } else if (admitted >= fault_end_) {
      // Admitted while nothing failed: the network must commit it. (One admitted during the
      // faults may be lost with the mempool of a member that crashed before gossiping it.)
      if (lost++ == 0) first_lost = id;
    }
  }
  if (lost > 0) {
    Violation(std::to_string(lost) + " transactions admitted in the quiet phase never committed (" +
              first_lost.substr(0, 16) + "...)");
  }
}

}  // namespace colend::sim::world
