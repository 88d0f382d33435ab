// member.propose / member.approve: changes to the consortium's membership and quorum rule
// (docs/consensus.md §7: a change takes effect only at an epoch boundary and is committed under
// the old rules).
//
// A change is proposed by any member and approved by members of the current epoch; the proposer
// counts as the first approval. When a quorum of the current epoch (by the current rule: the same
// count that commits a block) has approved, the next epoch's membership document is written in
// the same transaction. That block is certified by the current epoch; the new epoch begins at the
// next height, whose header names it (membership-epoch, membership-sha256).
//
// Fields: member.propose  proposal   id, 1-64 of [A-Za-z0-9._-]
//                         change     add | remove | quorum | rotate
//                         member     (add) the new member as a genesis member object, JSON:
//                                    {"id", "name", "role", "tls_certificate", "signing_certificate"}
//                                    (rotate) a current member's object with new certificates: same
//                                    id, name and role; its TLS or signing certificate (or both)
//                                    replaced (docs/consensus.md §7.3, key rotation)
//                         member-id  (remove) the member to remove
//                         quorum     (quorum) majority | two-thirds
//         member.approve  proposal
// State:  membership/epoch                  -> current epoch number (decimal; 0 at genesis)
//         membership/quorum                 -> current quorum rule
//         membership/start-height           -> first height of the current epoch
//         membership/member/<id>            -> member object (canonical JSON), current members
//         member/<id>                       -> role, current members
//         membership/epoch/<epoch 20 digits> -> the epoch's membership document (canonical JSON,
//             "colend-membership/v1"); its SHA-256 is the membership-sha256 of that epoch's
//             headers. Epoch 0's document is the genesis file.
//         membership/proposal/<id>          -> {"id", "base_epoch", "change", "approvals",
//             "proposer", "status": proposed|approved, "epoch" (once approved)}
#include "contracts/system/membership.h"

#include <cctype>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "contracts/decision.h"

namespace colend::contracts {

std::size_t MembershipQuorum(std::size_t members, std::string_view rule) {
  return rule == "two-thirds" ? members * 2 / 3 + 1 : members / 2 + 1;
}

std::string MembershipEpochKey(std::uint64_t epoch) {
  std::string digits = std::to_string(epoch);
  return "membership/epoch/" + std::string(20 - digits.size(), '0') + digits;
}

std::uint64_t MembershipEpoch(const StateReader& state) {
  auto value = state.Get("membership/epoch");
  return value ? std::stoull(*value) : 0;
}

namespace {

using json = nlohmann::json;

// Fewer than three members tolerate no failed member under either rule.
constexpr std::size_t kMinMembers = 3;
constexpr std::size_t kMaxMembers = 64;  // as in a genesis file


bool IsProposalId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

std::string CurrentRule(const StateReader& state) {
  auto rule = state.Get("membership/quorum");
  return rule ? *rule : "majority";
}

// The current members' objects, by id (ordered).
std::map<std::string, json> CurrentMembers(const StateReader& state) {
  std::map<std::string, json> members;
  for (auto& [key, value] : state.Scan("membership/member/", kMaxMembers + 1)) {
    members.emplace(key.substr(std::string("membership/member/").size()), json::parse(value));
  }
  return members;
}

// Writes the next epoch: member records, rule, and the document whose hash the headers carry.
void ApplyChange(const CallContext& call, const json& proposal, StateOverlay* state,
                 Receipt* receipt) {
  const std::uint64_t epoch = MembershipEpoch(*state);
  std::map<std::string, json> members = CurrentMembers(*state);
  std::string rule = CurrentRule(*state);
  const json& change = proposal["change"];
  const std::string kind = change["kind"].get<std::string>();
  if (kind == "add" || kind == "rotate") {
    const json& member = change["member"];
    const std::string id = member["id"].get<std::string>();
    members[id] = member;
    state->Put("membership/member/" + id, member.dump());
    state->Put("member/" + id, member["role"].get<std::string>());
  } else if (kind == "remove") {
    const std::string id = change["member_id"].get<std::string>();
    members.erase(id);
    state->Erase("membership/member/" + id);
    state->Erase("member/" + id);
  } else {
    rule = change["quorum"].get<std::string>();
    state->Put("membership/quorum", rule);
  }
  std::string previous;
  if (epoch == 0) {
    previous = state->Get("chain/genesis-sha256").value_or("");
  } else {
    previous = crypto::ToHex(crypto::Sha256(state->Get(MembershipEpochKey(epoch)).value_or("")));
  }
  json list = json::array();
  for (auto& [id, member] : members) list.push_back(member);
  json doc = {{"format", "colend-membership/v1"},
              {"chain_id", call.rules.chain_id},
              {"epoch", epoch + 1},
              {"start_height", call.block.height + 1},
              {"previous_sha256", previous},
              {"quorum", rule},
              {"members", list},
              {"proposal", proposal["id"]},
              {"approvals", proposal["approvals"]}};
  const std::string text = doc.dump();
  state->Put(MembershipEpochKey(epoch + 1), text);
  state->Put("membership/epoch", std::to_string(epoch + 1));
  state->Put("membership/start-height", std::to_string(call.block.height + 1));
  receipt->outputs["epoch"] = std::to_string(epoch + 1);
  receipt->outputs["start-height"] = std::to_string(call.block.height + 1);
  receipt->outputs["membership-sha256"] = crypto::ToHex(crypto::Sha256(text));
  receipt->outputs["members"] = std::to_string(members.size());
  receipt->outputs["quorum-rule"] = rule;
}

// A change approved earlier in this block takes effect at the next height; until then this
// block's senders are still checked against the old epoch, so no further change is counted.
bool EpochPending(const CallContext& call, const StateReader& state, Receipt* receipt) {
  auto start = state.Get("membership/start-height");
  if (!start || std::stoull(*start) <= call.block.height) return false;
  Reject(receipt, "epoch-pending",
         "membership epoch " + std::to_string(MembershipEpoch(state)) + " begins at height " +
             *start + "; send membership transactions again from then");
  return true;
}

// Records one more approval and applies the change once a quorum of the current epoch approved.
void Approve(const CallContext& call, json proposal, StateOverlay* state, Receipt* receipt) {
  const std::string id = proposal["id"].get<std::string>();
  const std::uint64_t epoch = MembershipEpoch(*state);
  if (proposal["base_epoch"].get<std::uint64_t>() != epoch) {
    return Reject(receipt, "stale-proposal",
                  "proposal " + id + " changes epoch " + proposal["base_epoch"].dump() +
                      "; the membership is at epoch " + std::to_string(epoch) +
                      " now: propose the change again");
  }
  std::set<std::string> approvals = proposal["approvals"].get<std::set<std::string>>();
  if (!approvals.insert(call.sender.id).second) {
    return Reject(receipt, "already-approved", call.sender.id + " already approved " + id);
  }
  proposal["approvals"] = approvals;
  const std::size_t needed = MembershipQuorum(CurrentMembers(*state).size(), CurrentRule(*state));
  receipt->accepted = true;
  receipt->code = "ok";
  receipt->outputs["proposal"] = id;
  receipt->outputs["approvals"] = std::to_string(approvals.size());
  receipt->outputs["needed"] = std::to_string(needed);
  if (approvals.size() < needed) {
    state->Put("membership/proposal/" + id, proposal.dump());
    receipt->outputs["proposal-status"] = "proposed";
    receipt->message = "approval recorded (" + std::to_string(approvals.size()) + " of " +
                       std::to_string(needed) + " needed)";
    return;
  }
  proposal["status"] = "approved";
  proposal["epoch"] = epoch + 1;
  state->Put("membership/proposal/" + id, proposal.dump());
  ApplyChange(call, proposal, state, receipt);
  receipt->outputs["proposal-status"] = "approved";
  receipt->message = "membership epoch " + std::to_string(epoch + 1) + " begins at height " +
                     std::to_string(call.block.height + 1);
}

}  // namespace

void RunMemberPropose(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Decision d(call, state, receipt, "MEMBERSHIP");
  for (const auto& [key, value] : call.tx.body.fields) {
    if (key != "proposal" && key != "change" && key != "member" && key != "member-id" &&
        key != "quorum") {
      return d.Reject("", "invalid-field", "unknown field '" + key + "'");
    }
  }
  const std::string* id = call.tx.body.Field("proposal");
  const std::string* kind = call.tx.body.Field("change");
  if (id == nullptr || !IsProposalId(*id)) {
    return d.Reject("", "invalid-field", "proposal must be an id of 1-64 [A-Za-z0-9._-]");
  }
  if (state->Get("membership/proposal/" + *id)) {
    return d.Reject("", "duplicate-proposal", "membership proposal '" + *id + "' exists");
  }
  if (kind == nullptr ||
      (*kind != "add" && *kind != "remove" && *kind != "quorum" && *kind != "rotate")) {
    return d.Reject("", "invalid-field", "change must be add, remove, quorum or rotate");
  }
  auto only = [&](const char* field) -> bool {
    for (const char* f : {"member", "member-id", "quorum"}) {
      if (std::string_view(f) != field && call.tx.body.Field(f) != nullptr) {
        d.Reject("", "invalid-field",
               "field '" + std::string(f) + "' does not belong to change " + *kind);
        return false;
      }
    }
    if (call.tx.body.Field(field) == nullptr) {
      d.Reject("", "invalid-field", "change " + *kind + " needs field '" + field + "'");
      return false;
    }
    return true;
  };
  if (EpochPending(call, *state, receipt)) return;
  std::map<std::string, json> members = CurrentMembers(*state);
  json change = {{"kind", *kind}};
  if (*kind == "add" || *kind == "rotate") {
    // add: a new member; rotate (key rotation): the member stays, its certificates change from
    // the next epoch on, and blocks and transactions before it keep verifying with the keys of
    // their own epoch's document. Either way the object is checked as a genesis member's.
    if (!only("member")) return;
    json member = json::parse(*call.tx.body.Field("member"), nullptr, false);
    if (!member.is_object() || member.size() != 5) {
      return d.Reject("", "invalid-field",
                      "member must be a JSON object with exactly id, name, role, tls_certificate "
                      "and signing_certificate");
    }
    if (!call.rules.check_member) {
      return d.Reject("", "not-supported", "this chain cannot check new members");
    }
    auto record = call.rules.check_member(member.dump(), call.block.timestamp_ms);
    if (!record.ok()) return d.Reject("", "invalid-member", record.error().message);
    if (*kind == "add") {
      if (members.count(record->id)) {
        return d.Reject("", "already-member", "'" + record->id + "' is a member already");
      }
      if (members.size() + 1 > kMaxMembers) {
        return d.Reject("", "too-many-members", "a consortium has at most 64 members");
      }
    } else {
      auto current = members.find(record->id);
      if (current == members.end()) {
        return d.Reject("", "not-a-member",
                        "'" + record->id + "' is not a current member; add it with change add");
      }
      const json& old = current->second;
      if (member["name"] != old["name"] || member["role"] != old["role"]) {
        return d.Reject("", "invalid-member",
                        "a rotation keeps the member's name and role; it changes certificates only");
      }
      const bool new_tls = member["tls_certificate"] != old["tls_certificate"];
      const bool new_signing = member["signing_certificate"] != old["signing_certificate"];
      if (!new_tls && !new_signing) {
        return d.Reject("", "no-change", "both certificates are the member's current ones");
      }
      // A certificate moved from another member would make two members one identity.
      for (const auto& [other_id, other] : members) {
        if (other_id == record->id) continue;
        if (other["tls_certificate"] == member["tls_certificate"] ||
            other["signing_certificate"] == member["signing_certificate"]) {
          return d.Reject("", "invalid-member",
                          "a certificate of the rotation belongs to member '" + other_id + "'");
        }
      }
      receipt->outputs["rotates"] =
          new_tls && new_signing ? "tls,signing" : new_tls ? "tls" : "signing";
    }
    change["member"] = member;
    receipt->outputs["member"] = record->id;
  } else if (*kind == "remove") {
    if (!only("member-id")) return;
    const std::string& member_id = *call.tx.body.Field("member-id");
    if (!members.count(member_id)) {
      return d.Reject("", "not-a-member", "'" + member_id + "' is not a current member");
    }
    if (members.size() - 1 < kMinMembers) {
      return d.Reject("", "too-few-members",
                    "removing '" + member_id + "' would leave " +
                        std::to_string(members.size() - 1) +
                        " members; at least 3 are needed to tolerate a failed member");
    }
    change["member_id"] = member_id;
    receipt->outputs["member"] = member_id;
  } else {
    if (!only("quorum")) return;
    const std::string& rule = *call.tx.body.Field("quorum");
    if (rule != "majority" && rule != "two-thirds") {
      return d.Reject("", "invalid-field", "quorum must be majority or two-thirds");
    }
    if (rule == CurrentRule(*state)) {
      return d.Reject("", "no-change", "the quorum rule is " + rule + " already");
    }
    change["quorum"] = rule;
    receipt->outputs["quorum-rule"] = rule;
  }
  json proposal = {{"id", *id},
                   {"base_epoch", MembershipEpoch(*state)},
                   {"change", change},
                   {"proposer", call.sender.id},
                   {"approvals", json::array()},
                   {"status", "proposed"},
                   {"proposed_height", call.block.height}};
  Approve(call, std::move(proposal), state, receipt);
}

void RunMemberApprove(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Decision d(call, state, receipt, "MEMBERSHIP");
  for (const auto& [key, value] : call.tx.body.fields) {
    if (key != "proposal") return d.Reject("", "invalid-field", "unknown field '" + key + "'");
  }
  const std::string* id = call.tx.body.Field("proposal");
  if (id == nullptr) return d.Reject("", "invalid-field", "field 'proposal' is required");
  auto stored = d.Get("membership/proposal/" + *id);
  if (!stored) return d.Reject("", "unknown-proposal", "no membership proposal '" + *id + "'");
  if (EpochPending(call, *state, receipt)) return;
  json proposal = json::parse(*stored);
  if (proposal["status"] != "proposed") {
    return d.Reject("", "wrong-state",
                  "membership proposal " + *id + " is " + proposal["status"].get<std::string>());
  }
  Approve(call, std::move(proposal), state, receipt);
}

}  // namespace colend::contracts
