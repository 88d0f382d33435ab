// `colend member`: the consortium's membership and quorum rule (docs/consensus.md §7). A
// change is proposed and approved by members; once a quorum of the current epoch approved, the
// next membership epoch begins at the height after the approving block.
#include <iostream>

#include "contracts/system/membership.h"
#include "tools/cli.h"

namespace colend::cli {
namespace {

using json = nlohmann::json;


Result<json> State(const Home& home, const json& params) {
  return CallNode(home.config, "state", params);
}

int List(const Args& args, const Home& home) {
  auto epoch = State(home, {{"key", "membership/epoch"}});
  auto rule = State(home, {{"key", "membership/quorum"}});
  auto start = State(home, {{"key", "membership/start-height"}});
  auto members = ScanState(home.config, "member/");
  auto proposals = ScanState(home.config, "membership/proposal/");
  for (const auto* r : {&epoch, &rule, &start, &members, &proposals}) {
    if (!r->ok()) return Fail(r->error());
  }
  json out = {{"epoch", std::stoull((*epoch)["value"].get<std::string>())},
              {"start_height", std::stoull((*start)["value"].get<std::string>())},
              {"quorum_rule", (*rule)["value"]},
              {"height", (*epoch)["height"]},
              {"members", json::array()},
              {"proposals", json::array()}};
  std::string text = "epoch " + out["epoch"].dump() + " (from height " + out["start_height"].dump() +
                     "), quorum rule " + (*rule)["value"].get<std::string>() + ":\n";
  for (const json& e : (*members)["entries"]) {
    const std::string id = e["key"].get<std::string>().substr(7);
    out["members"].push_back({{"id", id}, {"role", e["value"]}});
    text += "  " + id + " (" + e["value"].get<std::string>() + ")\n";
  }
  const std::size_t n = out["members"].size();
  out["quorum"] = contracts::MembershipQuorum(n, out["quorum_rule"].get<std::string>());
  text += "quorum " + out["quorum"].dump() + " of " + std::to_string(n) + "\n";
  for (const json& e : (*proposals)["entries"]) {
    json p = json::parse(e["value"].get<std::string>());
    out["proposals"].push_back(p);
    text += "proposal " + p["id"].get<std::string>() + ": " + p["change"].dump() + ", " +
            p["status"].get<std::string>() + ", approvals " + p["approvals"].dump() + "\n";
  }
  Print(args, out, text);
  return 0;
}

int Epochs(const Args& args, const Home& home) {
  auto docs = ScanState(home.config, "membership/epoch/");
  if (!docs.ok()) return Fail(docs.error());
  json list = json::array();
  json ids = json::array();
  for (const auto& m : home.genesis.members) ids.push_back(m.id);
  list.push_back({{"epoch", 0},
                  {"start_height", 1},
                  {"quorum_rule", std::string(consensus::QuorumRuleName(home.genesis.quorum))},
                  {"members", ids},
                  {"sha256", crypto::ToHex(home.genesis.hash)},
                  {"document", "genesis.json"}});
  for (const json& e : (*docs)["entries"]) {
    const std::string text = e["value"].get<std::string>();
    json doc = json::parse(text);
    json members = json::array();
    for (const json& m : doc["members"]) members.push_back(m["id"]);
    list.push_back({{"epoch", doc["epoch"]},
                    {"start_height", doc["start_height"]},
                    {"quorum_rule", doc["quorum"]},
                    {"members", members},
                    {"sha256", crypto::ToHex(crypto::Sha256(text))},
                    {"previous_sha256", doc["previous_sha256"]},
                    {"proposal", doc["proposal"]},
                    {"approvals", doc["approvals"]},
                    // The exact bytes: sha256sum of them is the membership-sha256 in headers.
                    {"document", text}});
  }
  std::string text;
  for (const json& e : list) {
    text += "epoch " + e["epoch"].dump() + " from height " + e["start_height"].dump() + ": " +
            e["quorum_rule"].get<std::string>() + " of " + e["members"].dump() + "\n  sha256 " +
            e["sha256"].get<std::string>() + "\n";
  }
  Print(args, json{{"epochs", list}}, text);
  return 0;
}

int Report(const Args& args, const Result<json>& tx) {
  if (!tx.ok()) return Fail(tx.error());
  const json outputs = tx->value("outputs", json::object());
  std::string extra;
  if (outputs.value("proposal-status", "") == "approved") {
    extra = "membership epoch " + outputs.value("epoch", "?") + " begins at height " +
            outputs.value("start-height", "?") + ": " + outputs.value("members", "?") +
            " members, " + outputs.value("quorum-rule", "?") + "\n";
  } else if (outputs.contains("approvals")) {
    extra = "approvals " + outputs.value("approvals", "?") + " of " + outputs.value("needed", "?") +
            " needed\n";
  }
  return ReportReceipt(args, *tx, extra);
}

}  // namespace

int RunMemberCommand(const Args& args) {
  auto home = LoadHome(args);
  if (!home.ok()) return Fail(home.error());
  const std::string& sub = args.words[1];
  if (sub == "list") return List(args, *home);
  if (sub == "epochs") return Epochs(args, *home);
  if (sub == "approve") {
    if (args.words.size() != 3) {
      std::cerr << "colend: member approve needs the proposal id\n" << args.usage;
      return 2;
    }
    return Report(args, SubmitAndWait(*home, "member.approve", {{"proposal", args.words[2]}}));
  }
  if (sub == "propose") {
    const std::string id = args.Get("id");
    const int kinds = args.Has("remove") + args.Has("add") + args.Has("quorum") + args.Has("rotate");
    if (id.empty() || kinds != 1) {
      std::cerr << "colend: member propose needs --id and one of --remove, --add, --quorum, "
                   "--rotate\n"
                << args.usage;
      return 2;
    }
    std::map<std::string, std::string> fields = {{"proposal", id}};
    if (args.Has("remove")) {
      fields["change"] = "remove";
      fields["member-id"] = args.Get("remove");
    } else if (args.Has("quorum")) {
      fields["change"] = "quorum";
      fields["quorum"] = args.Get("quorum");
    } else {
      const std::string option = args.Has("add") ? "add" : "rotate";
      // A member's JSON is a few KiB (its certificate and keys); the file is read no further
      // than kMemberFileBytesMax.
      constexpr std::uint64_t kMemberFileBytesMax = 1u << 20;
      auto text = node::ReadFile(args.Get(option), kMemberFileBytesMax);
      if (!text.ok()) return Fail("--" + option + ": " + text.error().message);
      json member = json::parse(*text, nullptr, false);
      if (!member.is_object()) {
        return Fail("--" + option + ": " + args.Get(option) + " is not a JSON object");
      }
      fields["change"] = option;
      fields["member"] = member.dump();
    }
    return Report(args, SubmitAndWait(*home, "member.propose", fields));
  }
  std::cerr << "colend: unknown member subcommand '" << sub << "'\n" << args.usage;
  return 2;
}

}  // namespace colend::cli
