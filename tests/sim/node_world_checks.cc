// colend-sim: the invariants (node_world.h).
#include "consensus/block.h"
#include "consensus/consensus.pb.h"
#include "node/node.pb.h"
#include "node_world.h"

namespace colend::sim::world {

// Every vote and proposal on the wire, by (member, height, round, kind): a second one with other
// content is a double signature, whoever receives it. The Byzantine member's are counted.
void World::ObserveSigned(const std::string& frame) {
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
    epoch_ = std::max(epoch_, (*status)["membership"]["epoch"].get<std::uint64_t>());
    // A recovered floor comes from the member's own synced tip (+3) or its lease, never from a
    // claimed height: far above the chain anyone has committed, it was forged (docs/consensus.md
    // §10), and the member would never sign again.
    const std::uint64_t floor = (*status)["consensus"]["sign_floor"].get<std::uint64_t>();
    const std::uint64_t top = chain_.empty() ? 0 : chain_.rbegin()->first;
    if (floor > top + kFloorSlack && forged_floor_reported_.insert(member->id).second) {
      Violation(member->id + " has the signing floor " + std::to_string(floor) + ", far above the top of the chain (" +
                std::to_string(top) + "): a forged height counted");
    }
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
      if (inserted) first_blocks_[h] = *block;
      std::string why;
      if (!inserted && it->second != hash) {
        if (ForkHasEvidence(h, first_blocks_.at(h), *block, &why)) {
          if (!forked_) {
            Event("FORK at height " + std::to_string(h) + " (majority mode): " + member->id +
                  " committed the second block of " + byzantine_ + ", whose precommits for both "
                  "blocks are in the two certificates: signed evidence of its double signature");
          }
          forked_ = true;
          // Evidence is owed only for a same-round pair: precommits of two rounds are no
          // same-slot equivocation (docs/consensus.md §13).
          if (first_blocks_.at(h)["certificate_round"] == (*block)["certificate_round"]) fork_heights_.insert(h);
          ++result_->forks_with_evidence;
        } else {
          Violation("fork at height " + std::to_string(h) + ": " + member->id + " has " +
                    hash.substr(0, 16) + ", another member " + it->second.substr(0, 16) + " (" + why + ")");
        }
      }
      const std::int64_t time = (*block)["timestamp"].get<std::int64_t>();
      // Endorsers refuse a header more than block_time_skew_ms_max off their own clock, and
      // every quorum holds one whose clock is within kSkewMaxMs of true time: no block is
      // dated further ahead than the sum (docs/consensus.md §12, Time).
      const std::int64_t slack = kSkewMaxMs + genesis_.consensus.block_time_skew_ms_max;
      if (inserted && time > now_ + slack) {
        Violation("block " + std::to_string(h) + " is dated " + std::to_string(time - now_) +
                  " ms ahead of true time");
      }
      member->checked_height = h;
    }
  }
}

bool World::ForkHasEvidence(std::uint64_t height, const json& a, const json& b, std::string* why) {
  std::map<std::string, std::string> signed_a;
  for (const json& e : a["endorsements"]) signed_a[e["member"].get<std::string>()] = e["signature"].get<std::string>();
  std::set<std::string> both;
  for (const json& e : b["endorsements"]) {
    if (signed_a.count(e["member"].get<std::string>()) != 0) both.insert(e["member"].get<std::string>());
  }
  if (both.empty()) {
    *why = "no member endorsed both";
    return false;
  }
  for (const std::string& member : both) {
    if (member != byzantine_) {
      *why = member + ", which is honest, endorsed both";
      return false;
    }
  }
  // Its two precommits, verified: the signed evidence an arbitrator would be shown.
  const crypto::PublicKey key = by_id_.at(byzantine_)->keys.signing_key.Public();
  for (const json* block : {&a, &b}) {
    auto header = consensus::BlockHeader::ParseText((*block)["header"].get<std::string>());
    auto hash = crypto::Hash256FromHex((*block)["hash"].get<std::string>());
    std::string signature_hex;
    for (const json& e : (*block)["endorsements"]) {
      if (e["member"] == byzantine_) signature_hex = e["signature"].get<std::string>();
    }
    auto signature = crypto::FromHex(signature_hex);
    if (!header.ok() || !hash.ok() || !signature.ok()) {
      *why = "unreadable block or certificate";
      return false;
    }
    const std::string text = consensus::VoteText(genesis_.chain_id, header->membership_epoch, height,
                                                 (*block)["certificate_round"].get<std::uint32_t>(),
                                                 consensus::Phase::kPrecommit, *hash);
    if (!key.Verify(text, *signature).ok()) {
      *why = "the precommit of " + byzantine_ + " in a certificate does not verify";
      return false;
    }
  }
  return true;
}

bool World::HaltedByDesign(std::string* why) {
  std::map<std::string, json> statuses;
  json top;
  for (auto& member : members_) {
    auto status = Call(*member, "status", json::object());
    if (!status.ok()) continue;
    if (top.is_null() || (*status)["height"] > top["height"]) top = *status;
    statuses[member->id] = std::move(status).value();
  }
  if (top.is_null()) return false;
  std::set<std::string> members;
  for (const json& id : top["membership"]["members"]) members.insert(id.get<std::string>());
  const std::uint64_t next = top["height"].get<std::uint64_t>() + 1;
  // Members whose signing history was lost sign nothing below their floor (docs/consensus.md
  // §10): when fewer than a quorum may sign the next height, the chain halts, safely, by design.
  std::size_t may_sign = 0;
  const std::size_t quorum = top["quorum"].get<std::size_t>();
  for (const auto& [id, status] : statuses) {
    const json& consensus = status["consensus"];
    if (members.count(id) != 0 && !status.contains("recovery") &&
        consensus["signing"].get<std::string>().rfind("no:", 0) != 0 &&
        consensus["sign_floor"].get<std::uint64_t>() <= next) {
      ++may_sign;
    }
  }
  if (may_sign >= quorum) return false;
  *why = std::to_string(may_sign) + " members may sign at height " + std::to_string(next) +
         ", fewer than the quorum of " + std::to_string(quorum) + " (the others' signing history was lost)";
  return true;
}

void World::FinalChecks() {
  // The final epoch: the one in force at the highest member. Members it does not list (removed)
  // are refused by the others and may stay behind; their blocks were still compared above.
  std::map<std::string, json> statuses;
  json final_status;
  for (auto& member : members_) {
    auto status = Call(*member, "status", json::object());
    if (!status.ok()) {
      Violation(member->id + " is not running at the end");
      continue;
    }
    if (final_status.is_null() || (*status)["height"] > final_status["height"]) final_status = *status;
    statuses[member->id] = std::move(status).value();
  }
  if (final_status.is_null()) return;
  std::set<std::string> final_members;
  for (const json& id : final_status["membership"]["members"]) final_members.insert(id.get<std::string>());
  if (final_status["membership"]["epoch"].get<std::uint64_t>() > 0) {
    Event("final membership epoch " + final_status["membership"]["epoch"].dump() + ": " +
          final_status["quorum_rule"].get<std::string>() + ", " + std::to_string(final_members.size()) +
          " members");
  }
  std::set<std::uint64_t> heights;
  for (const auto& [id, status] : statuses) {
    if (final_members.count(id) != 0) heights.insert(status["height"].get<std::uint64_t>());
  }
  if (heights.size() != 1 && !forked_) {
    std::string list;
    for (const auto& [id, status] : statuses) list += " " + id + "@" + status["height"].dump();
    Violation("no convergence after the quiet phase:" + list);
    return;
  }
  result_->height = *heights.rbegin();
  // The reader: a member of the final epoch at the top (after a fork, on the longer chain).
  Member* reader_member = nullptr;
  for (auto& member : members_) {
    if (final_members.count(member->id) != 0 && statuses.count(member->id) != 0 &&
        statuses[member->id]["height"].get<std::uint64_t>() == result_->height) {
      reader_member = member.get();
      break;
    }
  }
  if (reader_member == nullptr) return;
  // Evidence on chain (docs/consensus.md §11): it may name only the member that signed twice.
  auto faults = Call(*reader_member, "faults", json::object());
  std::set<std::string> kinds;
  if (faults.ok()) {
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
  for (std::uint64_t h : fork_heights_) {
    bool committed = false;
    for (const std::string& kind : kinds) {
      committed = committed || (kind.rfind(std::to_string(h) + "/", 0) == 0 && kind.ends_with("/precommit"));
    }
    // The members on the other branch find the fork when they try to sync this one and submit
    // the two precommits (node/node_fork.cc): a branch that went on for kForkEvidenceHeights
    // must hold that evidence, unless it halted by design.
    Event("the fork at height " + std::to_string(h) + (committed ? " is" : " is not") +
          " in the committed evidence of the branch at height " + std::to_string(result_->height));
    std::string halted;
    if (!committed && result_->height >= h + kForkEvidenceHeights && !HaltedByDesign(&halted)) {
      Violation("the fork at height " + std::to_string(h) + " is not in the committed evidence of the branch " +
                "that went on to height " + std::to_string(result_->height));
    }
  }
  if (forked_) {
    // The members on the other branch cannot join this one (its blocks do not follow theirs):
    // liveness and durability are not judged after a fork (docs/consensus.md §12 F12).
    Event("forked by " + byzantine_ + " in majority mode: convergence and the quiet-phase "
          "commitments are not judged");
    return;
  }
  std::string halted;
  if (HaltedByDesign(&halted)) {
    Event("halted safely: " + halted);
    return;
  }
  Member& reader = *reader_member;
  std::size_t lost = 0;
  std::string first_lost;
  for (const auto& [id, admission] : acknowledged_) {
    auto answer = Call(reader, "tx", json{{"id", id}});
    if (answer.ok() && answer->value("status", "") == "committed") {
      ++result_->txs_acknowledged;
    } else if (admission.at >= fault_end_ && final_members.count(admission.by) != 0 &&
               by_id_.at(admission.by)->incarnation == admission.incarnation) {
      // Admitted while nothing failed, by a member's node that is still the same process: the
      // network must commit it. (One admitted by a node that crashed or was stopped since, before
      // gossiping it, is lost with its mempool: the client saw only "pending". A removed member's
      // node is refused by the others and cannot pass it on.)
      if (lost++ == 0) first_lost = id;
    }
  }
  if (lost > 0) {
    Violation(std::to_string(lost) + " transactions admitted in the quiet phase never committed (" +
              first_lost.substr(0, 16) + "...)");
  }
}

}  // namespace colend::sim::world
