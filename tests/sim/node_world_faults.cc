// colend-sim: the faults, the load and the Byzantine member (node_world.h).
#include <algorithm>

#include "consensus/block.h"
#include "consensus/consensus.pb.h"
#include "node/node.pb.h"
#include "node_world.h"

namespace colend::sim::world {

const Scenario kScenarios[] = {
    {"crash", 0, "", "members crash and restart, one to three at once (F1-F4)"},
    {"wipe", 1, "", "a member loses its data directory; its signing lease survives (F11)"},
    {"wipe-two", 1, "", "two members lose their data directories at once (F11)", Scenario::kTwoAtOnce},
    {"wipe-two-rule-switch", 1, "", "two members at once lose their data while the quorum rule switches (F11, §7)",
     Scenario::kTwoAtOnce | Scenario::kRuleSwitch},
    {"pause", 2, "", "a member's process stalls for up to 10 s (F2)"},
    {"partition", 3, "", "one or two members cut off, both ways or one way (F5, F6)"},
    {"loss", 4, "", "the network loses 5-30 % of frames (F8)"},
    {"hold", 5, "", "a member's frames are held 1-30 s, then delivered"},
    {"power-loss", 6, "", "a member loses power: its unsynced writes are lost"},
    {"corrupt-store", 7, "", "a byte of a stopped member's store is flipped (F10)"},
    {"truncated-store", 7, "", "a file of a stopped member's store is cut short (F10)", Scenario::kTruncate},
    {"older-copy", 8, "", "data/ is replaced by an older copy while the lease is kept (F11)"},
    {"half-made-store", 9, "", "a member is killed between making a fresh store and its record (F11)"},
    {"clock", 10, "", "a member's clock runs 6-30 s off (F9)"},
    {"kill-at-write", 11, "", "a member is killed at one of its next store writes (F7)"},
    {"replay", 12, "", "old frames replayed, votes signed for another chain (F8)"},
    {"failing-disk", 13, "", "a member comes back from a partition on a disk that fails every write"},
    {"liar-status", -1, "status", "the Byzantine member announces forged heights"},
    {"liar-sync", -1, "sync", "the Byzantine member serves blocks with a transaction cut"},
    {"liar-relay", -1, "relay", "the Byzantine member sends proposals with a transaction cut"},
    {"double-vote", -1, "votes", "the Byzantine member signs some votes twice (F12)"},
    {"split", -1, "split", "the Byzantine member shows some members a second real block (F12)"},
};

const Scenario* FindScenario(const std::string& name) {
  for (const Scenario& scenario : kScenarios) {
    if (name == scenario.name) return &scenario;
  }
  return nullptr;
}

bool World::Lies(const char* kind) const {
  return scenario_ == nullptr || std::string(scenario_->lie) == kind;
}

void World::InjectFault() {
  ++result_->faults;
  Member& member = Random();
  const std::int64_t heal = Uniform(1'000, 10'000);
  std::int64_t kind = Uniform(0, 12);
  if (scenario_ != nullptr) {
    if (scenario_->kind < 0) return;  // only the Byzantine member's lies
    kind = scenario_->kind;
  }
  // Faults that lose a member's signing history (1, 8, 9, and 7: a damaged store is moved
  // aside): at most n - q members per run, so that a quorum can always sign again once the
  // faults end and liveness is judged; one seed in ten may go one further (the chain may then
  // halt, safely, by design: docs/consensus.md §10.6).
  const bool loses_history = kind == 1 || kind == 7 || kind == 8 || kind == 9;
  if (loses_history && history_lost_.count(member.id) == 0 &&
      history_lost_.size() >= history_loss_max_) {
    kind = 0;
  }
  if (loses_history && kind != 0 && member.up) history_lost_.insert(member.id);
  switch (kind) {
    case 0: {  // crash, restart later; one time in five two or three members at once (F3, F4)
      if (!member.up) break;
      Crash(member, "crashes for " + std::to_string(heal) + " ms");
      RestartAt(member, now_ + heal, "restarts");
      const std::int64_t more = Chance(0.2) ? Uniform(1, 2) : 0;
      for (std::int64_t i = 0; i < more; ++i) {
        Member& other = Random();
        if (!other.up) continue;
        Crash(other, "crashes with it");
        RestartAt(other, now_ + heal, "restarts");
      }
      break;
    }
    case 1: {  // the data directory is lost; the signing lease outside it survives (F11)
      if (!member.up) break;
      Crash(member, "crashes and loses its data directory");
      member.env = std::make_unique<FaultEnv>();
      RestartAt(member, now_ + heal, "restarts with an empty data directory");
      if (Variant(Scenario::kTwoAtOnce)) {
        Member& other = Random();
        if (!other.up || (history_lost_.count(other.id) == 0 && history_lost_.size() >= history_loss_max_)) break;
        history_lost_.insert(other.id);
        Crash(other, "crashes with it and loses its data directory too");
        other.env = std::make_unique<FaultEnv>();
        RestartAt(other, now_ + heal, "restarts with an empty data directory");
      }
      break;
    }
    case 2: {  // a pause (a stalled process or VM)
      if (!member.up) break;
      member.paused_until = std::max(member.paused_until, now_ + heal);
      Event(member.id + " pauses for " + std::to_string(heal) + " ms");
      break;
    }
    case 3: {  // a partition: one or two members apart (F5), both ways or only outgoing (F6)
      std::set<std::string> side = {member.id};
      if (Chance(0.5)) side.insert(Random().id);
      const bool one_way = Chance(0.3);
      std::string names;
      for (const std::string& id : side) names += (names.empty() ? "" : " and ") + id;
      Event(names + (one_way ? " cannot send to the others for " : side.size() == 1 ? " is cut off for " : " are cut off for ") + std::to_string(heal) +
            " ms" + (one_way ? " (one-way)" : ""));
      std::vector<std::pair<std::string, std::string>> links;
      for (const std::string& id : side) {
        for (auto& other : members_) {
          if (side.count(other->id) != 0) continue;
          links.push_back({id, other->id});
          if (!one_way) links.push_back({other->id, id});
        }
      }
      for (const auto& link : links) cut_.insert(link);
      At(now_ + heal, [this, links] {
        for (const auto& link : links) cut_.erase(link);
      });
      break;
    }
    case 4: {  // lossy network
      loss_ = 0.05 * static_cast<double>(Uniform(1, 6));
      Event("the network loses " + std::to_string(static_cast<int>(loss_ * 100)) + "% of frames");
      At(now_ + heal, [this] { loss_ = 0; });
      break;
    }
    case 6: {  // a power loss: the crash also loses what was written but not synced
      if (!member.up) break;
      Crash(member, "loses power for " + std::to_string(heal) + " ms");
      const std::uint64_t lost = member.env->LoseUnsyncedWrites();
      Event(member.id + "'s store lost " + std::to_string(lost) + " unsynced bytes");
      RestartAt(member, now_ + heal, "restarts after the power loss");
      break;
    }
    case 7: {  // a damaged store: one byte of a file flipped, or a file cut short (F10), while
               // the node is down
      if (!member.up) break;
      Crash(member, "crashes");
      std::string what;
      const bool truncate = scenario_ != nullptr ? Variant(Scenario::kTruncate) : Chance(0.5);
      if (truncate ? member.env->Truncate("/data", rng_, &what) : member.env->Corrupt("/data", rng_, &what)) {
        member.corrupted = true;
        Event(member.id + "'s store is damaged: " + what);
      }
      RestartAt(member, now_ + heal, "restarts");
      break;
    }
    case 8: {  // F11: data/ replaced by an older copy (the lease, outside it, is newer)
      if (!member.up) break;
      const std::uint64_t height = member.checked_height;
      Crash(member, "crashes");
      if (member.backup == nullptr || Chance(0.5)) {
        // The operator copies data/ while the node is down; a later fault may restore it.
        auto copy = std::make_unique<FaultEnv>();
        if (copy->CopyFrom(*member.env, "/data")) {
          member.backup = std::move(copy);
          member.backup_height = height;
          Event(member.id + "'s data/ is copied while it is down (at height " + std::to_string(height) + ")");
        }
      } else {
        auto restored = std::make_unique<FaultEnv>();
        if (restored->CopyFrom(*member.backup, "/data")) {
          member.env = std::move(restored);
          Event(member.id + "'s data/ is replaced by the copy from height " +
                std::to_string(member.backup_height) + " (F11)");
        }
      }
      RestartAt(member, now_ + heal, "restarts");
      break;
    }
    case 9: {  // F11: killed between creating a fresh store and writing its history record
      if (!member.up) break;
      Crash(member, "loses data/; the operator starts it and it is killed right after the store is made");
      member.env = std::make_unique<FaultEnv>();
      if (auto store = node::Store::Open("/data", genesis_.hash, member.env.get()); !store.ok()) {
        Violation(member.id + ": a fresh store does not open: " + store.error().ToString());
      }
      RestartAt(member, now_ + heal, "restarts on the half-made store");
      break;
    }
    case 10: {  // F9: the clock runs far off (beyond the genesis skew bound) for a while; one
                // member at a time (a quorum of wrong clocks is beyond the fault model, §12)
      if (now_ < clock_fault_until_) break;
      clock_fault_until_ = now_ + heal;
      const std::int64_t skew = (Chance(0.5) ? 1 : -1) * Uniform(6'000, 30'000);
      member.skew_ms = skew;
      Event(member.id + "'s clock is off by " + std::to_string(skew) + " ms for " + std::to_string(heal) + " ms (F9)");
      At(now_ + heal, [&member] { member.skew_ms = member.base_skew_ms; });
      break;
    }
    case 11: {  // F7: the process is killed at one of its next writes
      if (!member.up) break;
      const std::uint64_t writes = static_cast<std::uint64_t>(Uniform(0, 30));
      member.env->CrashAfterWrites(writes);
      Event(member.id + " will be killed at its store's write " + std::to_string(writes + 1) + " from now (F7)");
      break;
    }
    case 12: {  // F8
      ReplayOrForge();
      break;
    }
    case 13: {  // a failing disk (full, I/O errors) under a member that is behind: cut off
                // first, so that what it missed comes by sync once every write fails
      // One cut at a time (a second member's disk may fail while the first's still does), cut
      // off 1-2.5 s so that the others go on; the disk fails and is judged before the window
      // heals (HealAll replaces a failing disk without judging it), or nothing is injected.
      if (!member.up || member.disk_failing || !cut_.empty()) break;
      const std::int64_t period = kFaultWindowMs + kHealPeriodMs;
      const std::int64_t window_heals = kStartMs + (now_ - kStartMs) / period * period + kFaultWindowMs;
      const std::int64_t away = std::min<std::int64_t>(Uniform(1'000, 2'500),
                                                       window_heals - now_ - kFailingDiskStopMs - 1);
      if (away < 500) {
        Event(member.id + "'s disk would fail too close to the healing to be judged: no fault");
        break;
      }
      std::vector<std::pair<std::string, std::string>> links;
      for (auto& other : members_) {
        if (other->id == member.id) continue;
        links.push_back({member.id, other->id});
        links.push_back({other->id, member.id});
      }
      for (const auto& link : links) cut_.insert(link);
      Event(member.id + " is cut off for " + std::to_string(away) +
            " ms, then comes back on a disk that fails every write");
      At(now_ + away, [this, &member, links, incarnation = member.incarnation] {
        for (const auto& link : links) cut_.erase(link);
        if (!faults_on_ || !member.up || member.incarnation != incarnation) return;
        member.env->FailDisk();
        member.disk_failing = true;
        Event(member.id + "'s disk fails every write from now on");
        At(now_ + kFailingDiskStopMs, [this, &member, incarnation] {
          if (member.incarnation == incarnation) ReplaceFailingDisk(member, /*judge=*/true);
        });
      });
      break;
    }
    default: {  // frames from this member are held 1-30 s
      holding_.insert(member.id);
      Event("frames from " + member.id + " are held 1-30 s for " + std::to_string(heal) + " ms");
      At(now_ + heal, [this, id = member.id] { holding_.erase(id); });
      break;
    }
  }
}

void World::ReplaceFailingDisk(Member& member, bool judge) {
  if (!member.disk_failing) return;
  // Stopped in an event at this very time (host.stop; the world's crash of it is still queued):
  // it did what it must.
  if (member.up && member.node != nullptr && member.node->fatal()) judge = false;
  if (member.up) {
    auto status = Call(member, "status", json::object());
    // The highest of the others, and whether it counts `member` in its epoch (a removed member
    // hears from nobody: it stays behind without any write).
    std::uint64_t top = 0;
    bool in_epoch = false;
    for (auto& other : members_) {
      auto seen = other.get() == &member ? status : Call(*other, "status", json::object());
      if (!seen.ok() || (*seen)["height"].get<std::uint64_t>() < top) continue;
      top = (*seen)["height"].get<std::uint64_t>();
      const json& ids = (*seen)["membership"]["members"];
      in_epoch = std::find(ids.begin(), ids.end(), json(member.id)) != ids.end();
    }
    if (judge && in_epoch && status.ok() && (*status)["height"].get<std::uint64_t>() < top) {
      Violation(member.id + " runs on at height " +
                std::to_string((*status)["height"].get<std::uint64_t>()) + ", behind the others (" +
                std::to_string(top) + "), " + std::to_string(kFailingDiskStopMs) +
                " ms after its disk began to fail every write: it must stop (storage-error)");
    }
    Crash(member, "is stopped by its operator to replace its failing disk");
  }
  member.env->RepairDisk();
  member.disk_failing = false;
  RestartAt(member, now_ + 1'000, "restarts on a replaced disk, with the same data");
}

void World::KillAtCrashPoints() {
  for (auto& member : members_) {
    if (!member->up || !member->env->CrashPointReached()) continue;
    Member& dying = *member;
    Crash(dying, "is killed at a write (F7)");
    const std::uint64_t lost = dying.env->LoseUnsyncedWrites();
    dying.env->ClearCrashPoint();
    if (lost > 0) Event(dying.id + "'s store lost " + std::to_string(lost) + " unsynced bytes");
    RestartAt(dying, now_ + Uniform(500, 3'000), "restarts after being killed at a write");
  }
}

// F8: an old consensus frame delivered again from its sender, or a vote for the next height
// signed by a member for another chain: neither may change anything.
void World::ReplayOrForge() {
  Member& to = Random();
  if (!to.up || to.net == nullptr) return;
  if (!recent_.empty() && Chance(0.5)) {
    const auto& [from, frame] = recent_[static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(recent_.size()) - 1))];
    Event("an old frame of " + from + " is replayed to " + to.id + " (F8)");
    to.net->Deliver(from, frame);
    return;
  }
  Member& signer = Random();
  auto status = Call(to, "status", json::object());
  if (!status.ok()) return;
  const std::uint64_t height = (*status)["height"].get<std::uint64_t>() + 1;
  const crypto::Hash256 hash = crypto::Sha256("foreign block " + std::to_string(height));
  auto signature = signer.keys.signing_key.Sign(
      consensus::VoteText("another-chain", epoch_, height, 0, consensus::Phase::kPrecommit, hash));
  if (!signature.ok()) return;
  node::proto::PeerMessage message;
  consensus::proto::Vote* vote = message.mutable_consensus()->mutable_vote();
  vote->set_height(height);
  vote->set_round(0);
  vote->set_phase(consensus::proto::PHASE_PRECOMMIT);
  vote->set_block_hash(std::string(crypto::AsBytes(hash)));
  vote->set_member(signer.id);
  vote->set_signature(*signature);
  Event(signer.id + "'s precommit for another chain reaches " + to.id + " (F8)");
  to.net->Deliver(signer.id, message.SerializeAsString());
}

Result<crypto::Hash256> World::SubmitTx(Member& member, const std::string& type,
                                         std::map<std::string, std::string> fields) {
  if (!member.up || member.paused_until > now_) return MakeError("down", member.id + " is down");
  contracts::TxBody body;
  body.chain_id = genesis_.chain_id;
  body.sender = member.id;
  body.nonce = ++member.nonce + (member.incarnation << 32);
  body.timestamp_ms = now_ + member.skew_ms;
  body.type = type;
  body.fields = std::move(fields);
  auto tx = contracts::SignTx(body, member.keys.signing_key);
  if (!tx.ok()) {
    Violation("cannot sign: " + tx.error().ToString());
    return tx.error();
  }
  auto answer = Call(member, "submit", json{{"tx", crypto::ToHex(tx->Encode())}});
  if (!answer.ok()) return answer.error();
  return tx->id;
}

void World::Submit() {
  Member& member = Random();
  if (!member.up || member.paused_until > now_) return;
  const std::string n = std::to_string(result_->txs_submitted++);
  auto id = SubmitTx(member, "evidence.anchor",
                     {{"document-sha256", crypto::ToHex(crypto::Sha256("colend-sim " + std::to_string(options_.seed) + " " + n))},
                      {"document-bytes", std::to_string(1000 + result_->txs_submitted)}});
  if (id.ok()) acknowledged_[crypto::ToHex(*id)] = Admission{now_, member.id, member.incarnation};
}

// docs/consensus.md §7, with real member.propose and member.approve transactions: re-add a
// removed member, remove one (while more than three remain) or switch the quorum rule. The
// proposer counts as the first approval; every other member of the epoch approves 0.2-3 s later
// if it is up then (under faults the change may stay pending).
void World::ProposeMembershipChange() {
  json membership;
  for (auto& member : members_) {
    if (!member->up) continue;
    auto status = Call(*member, "status", json::object());
    if (status.ok() && (membership.is_null() || (*status)["membership"]["epoch"] > membership["epoch"])) {
      membership = (*status)["membership"];
      membership["rule"] = (*status)["quorum_rule"];
    }
  }
  if (membership.is_null()) return;
  std::vector<std::string> current, removed;
  for (const json& id : membership["members"]) current.push_back(id.get<std::string>());
  for (auto& member : members_) {
    if (std::find(current.begin(), current.end(), member->id) == current.end()) removed.push_back(member->id);
  }
  const std::string proposal = "sim-change-" + std::to_string(++membership_changes_);
  std::map<std::string, std::string> fields = {{"proposal", proposal}};
  std::int64_t choice = Uniform(0, 2);
  if (Variant(Scenario::kRuleSwitch)) choice = 2;
  std::string what;
  if (choice == 0 && !removed.empty()) {
    const Member& back = *by_id_.at(removed[static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(removed.size()) - 1))]);
    fields["change"] = "add";
    fields["member"] = genesis::MemberJson(back.keys).dump();
    what = "re-add " + back.id;
  } else if (choice == 1 && current.size() > 3) {
    const std::string& gone = current[static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(current.size()) - 1))];
    fields["change"] = "remove";
    fields["member-id"] = gone;
    what = "remove " + gone;
  } else {
    const std::string rule = membership["rule"] == "majority" ? "two-thirds" : "majority";
    fields["change"] = "quorum";
    fields["quorum"] = rule;
    what = "switch to " + rule;
  }
  Member& proposer = *by_id_.at(current[static_cast<std::size_t>(Uniform(0, static_cast<std::int64_t>(current.size()) - 1))]);
  auto id = SubmitTx(proposer, "member.propose", fields);
  Event("membership change " + proposal + " (" + what + ") proposed by " + proposer.id +
        (id.ok() ? "" : ": not admitted (" + id.error().code + ")"));
  if (!id.ok()) return;
  for (const std::string& approver : current) {
    if (approver == proposer.id) continue;
    At(now_ + Uniform(200, 3'000), [this, approver, proposal] {
      auto approved = SubmitTx(*by_id_.at(approver), "member.approve", {{"proposal", proposal}});
      if (approved.ok()) Event(approver + " approves " + proposal);
    });
  }
}

// F12 split: a second real block for the height of the Byzantine member's fresh proposal (its
// own node builds it, 1-50 ms later than the first), shown instead of the first to up to
// (n - 1) / 2 of the others; its votes for the first block reach them as votes for the second
// (Tamper). In majority mode that can fork the chain: two quorums of three of five share only
// the member that signed both (docs/consensus.md §12 F12).
void World::MaybeSplit(const Member& from, const node::proto::PeerMessage& message) {
  const consensus::proto::Proposal& p = message.consensus().proposal();
  Split& split = splits_[{p.height(), p.round()}];
  // Rare in majority mode, where a split may fork the chain and end what the seed can judge;
  // frequent in two-thirds mode, where it must never fork.
  const double chance = scenario_ != nullptr ? 0.5 : options_.rule == consensus::QuorumRule::kMajority ? 0.05 : 0.25;
  if (p.valid_round() >= 0 || p.proposer() != from.id || from.node == nullptr || !Chance(chance)) return;
  auto header = consensus::BlockHeader::ParseText(p.block().header());
  if (!header.ok()) return;
  consensus::proto::Block second = from.node->ProposeBlock(p.height(), header->timestamp_ms + Uniform(1, 50));
  const crypto::Hash256 hash_a = consensus::BlockHash(p.block().header());
  const crypto::Hash256 hash_b = consensus::BlockHash(second.header());
  if (hash_a == hash_b) return;
  auto signature = from.keys.signing_key.Sign(consensus::ProposalText(
      genesis_.chain_id, header->membership_epoch, p.height(), p.round(), -1, hash_b));
  if (!signature.ok()) return;
  node::proto::PeerMessage other = message;
  consensus::proto::Proposal* q = other.mutable_consensus()->mutable_proposal();
  *q->mutable_block() = std::move(second);
  q->set_signature(*signature);
  for (const auto& member : members_) {
    if (member->id != from.id && split.side_b.size() < (members_.size() - 1) / 2 && Chance(0.6)) {
      split.side_b.insert(member->id);
    }
  }
  if (split.side_b.empty()) return;
  split.hash_a = std::string(crypto::AsBytes(hash_a));
  split.hash_b = hash_b;
  split.epoch = header->membership_epoch;
  split.frame_b = other.SerializeAsString();
  ++result_->equivocations_injected;
  std::string side;
  for (const std::string& id : split.side_b) side += " " + id;
  Event(from.id + " splits height " + std::to_string(p.height()) + " round " + std::to_string(p.round()) +
        ": a second block for" + side + " (F12)");
}

// The Byzantine member's network during the faults (docs/consensus.md §12, liar): forged
// heights in its status (2^64 - 3, 10^15, or a little ahead with a made-up hash), a transaction
// dropped from a block it serves at sync or from a proposal it sends (the header and its
// signatures stay genuine), a second block for some peers (MaybeSplit), and a vote sent to this
// peer for another value, signed with its key.
std::string World::Tamper(const Member& from, const std::string& to, const std::string& frame) {
  node::proto::PeerMessage message;
  if (!message.ParseFromString(frame)) return frame;
  if (message.has_consensus() && Lies("split")) {
    const auto& c = message.consensus();
    const bool proposal = c.has_proposal();
    const std::uint64_t height = proposal ? c.proposal().height() : c.vote().height();
    const std::uint32_t round = proposal ? c.proposal().round() : c.vote().round();
    if (proposal && splits_.count({height, round}) == 0) MaybeSplit(from, message);
    auto split = splits_.find({height, round});
    if (split != splits_.end() && split->second.side_b.count(to) != 0) {
      if (proposal && c.proposal().proposer() == from.id) return split->second.frame_b;
      if (c.has_vote() && c.vote().member() == from.id && c.vote().block_hash() == split->second.hash_a) {
        const consensus::Phase phase = c.vote().phase() == consensus::proto::PHASE_PREVOTE
                                           ? consensus::Phase::kPrevote
                                           : consensus::Phase::kPrecommit;
        auto signature = from.keys.signing_key.Sign(consensus::VoteText(
            genesis_.chain_id, split->second.epoch, height, round, phase, split->second.hash_b));
        if (!signature.ok()) return frame;
        consensus::proto::Vote* vote = message.mutable_consensus()->mutable_vote();
        vote->set_block_hash(std::string(crypto::AsBytes(split->second.hash_b)));
        vote->set_signature(*signature);
        return message.SerializeAsString();
      }
    }
  }
  if (message.has_status() && Lies("status") && Chance(0.5)) {
    const std::uint64_t height = message.status().height();
    const std::uint64_t forged[] = {UINT64_MAX - 2, 1'000'000'000'000'000ull,
                                    height + static_cast<std::uint64_t>(Uniform(1, 3))};
    message.mutable_status()->set_height(forged[Uniform(0, 2)]);
    message.mutable_status()->set_last_block_hash(std::string(crypto::AsBytes(crypto::Sha256(std::to_string(rng_())))));
    ++result_->lies;
    return message.SerializeAsString();
  }
  if (message.has_block_response() && Lies("sync") && Chance(0.5)) {
    for (auto& stored : *message.mutable_block_response()->mutable_blocks()) {
      if (stored.block().txs_size() == 0) continue;
      stored.mutable_block()->mutable_txs()->RemoveLast();
      ++result_->lies;
      return message.SerializeAsString();
    }
    return frame;
  }
  if (!message.has_consensus()) return frame;
  auto* consensus = message.mutable_consensus();
  if (consensus->has_proposal() && Lies("relay") && consensus->proposal().block().txs_size() > 0 && Chance(0.3)) {
    consensus->mutable_proposal()->mutable_block()->mutable_txs()->RemoveLast();
    ++result_->lies;
    return message.SerializeAsString();
  }
  if (consensus->has_vote() && Lies("votes") && consensus->vote().member() == from.id && Chance(0.3)) {
    consensus::proto::Vote* vote = consensus->mutable_vote();
    // The other value: nil for a block, a block no one proposed for nil.
    std::optional<crypto::Hash256> other;
    if (vote->block_hash().empty()) other = crypto::Sha256("colend-sim other block " + std::to_string(rng_()));
    const consensus::Phase phase =
        vote->phase() == consensus::proto::PHASE_PREVOTE ? consensus::Phase::kPrevote : consensus::Phase::kPrecommit;
    auto signature = from.keys.signing_key.Sign(
        consensus::VoteText(genesis_.chain_id, epoch_, vote->height(), vote->round(), phase, other));
    if (!signature.ok()) return frame;
    vote->set_block_hash(other ? std::string(crypto::AsBytes(*other)) : std::string());
    vote->set_signature(*signature);
    return message.SerializeAsString();
  }
  return frame;
}

}  // namespace colend::sim::world

namespace colend::sim {

std::vector<std::pair<std::string, std::string>> ScenarioNames() {
  std::vector<std::pair<std::string, std::string>> names;
  for (const world::Scenario& scenario : world::kScenarios) names.emplace_back(scenario.name, scenario.what);
  return names;
}

}  // namespace colend::sim
