// The dashboard's data (docs/operations.md, "Dashboard"): one read-only JSON-RPC method,
// `dashboard`, that the page at GET / renders. Everything shown is what the node already holds:
// the committed chain, the loans in the state (viewed with the contracts' own code), the peers'
// certified heights, and the refusals of the blocks this process has committed.
#include <set>

#include "contracts/executor.h"
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "node/node_impl.h"
#include "node/transport.h"

namespace colend::node::detail {
namespace {

// Named limits of the page: it shows the latest blocks and the first loans by id, and says when
// there are more (the CLI's `loan list` and the `block` method show everything).
constexpr std::uint64_t kDashboardBlocksMax = 10;
constexpr std::size_t kDashboardLoansMax = 100;

}  // namespace

json Node::RpcDashboard() {
  const std::uint64_t height = ledger_.height();
  const std::int64_t day = contracts::BusinessDay(ledger_.state());
  json out = {{"chain_id", genesis_.chain_id},
              {"member", config_.member_id},
              {"height", height},
              {"business_date", day > 0 ? contracts::FormatDate(day) : ""},
              {"last_block_time", height > 0 ? IsoTime(ledger_.last_header().timestamp_ms) : ""},
              {"epoch", ledger_.membership().epoch},
              {"quorum_rule", std::string(consensus::QuorumRuleName(ledger_.validators().rule()))},
              {"quorum", ledger_.validators().quorum()}};

  // Recent blocks with their endorsements, newest first.
  json blocks = json::array();
  std::set<std::string> signed_last;
  for (std::uint64_t h = height; h >= 1 && height - h < kDashboardBlocksMax; --h) {
    auto stored = ledger_.ReadBlock(h);
    if (!stored.ok()) {
      blocks.push_back({{"height", h}, {"error", stored.error().message}});
      continue;
    }
    auto header = consensus::BlockHeader::ParseText(stored->block().header());
    json endorsements = json::array();
    for (const auto& e : stored->certificate().endorsements()) {
      endorsements.push_back(e.member());
      if (h == height) signed_last.insert(e.member());
    }
    blocks.push_back({{"height", h},
                      {"time", header.ok() ? IsoTime(header->timestamp_ms) : ""},
                      {"proposer", header.ok() ? header->proposer : ""},
                      {"txs", stored->block().txs_size()},
                      {"round", stored->certificate().round()},
                      {"endorsements", endorsements}});
  }
  out["blocks"] = blocks;

  // Each member of the current epoch: this node's own state, the others as this node sees them.
  const MetricsGauges gauges = Gauges(GaugeScope::kChain);
  std::set<std::string> connected;
  if (transport_) {
    for (const auto& peer : transport_->ConnectedPeers()) connected.insert(peer);
  }
  json members = json::array();
  for (const auto& m : ledger_.membership().members) {
    json entry = {{"id", m.id},
                  {"name", m.name},
                  {"role", m.role},
                  {"this_node", m.id == config_.member_id},
                  {"signed_last_block", signed_last.count(m.id) > 0}};
    if (m.id == config_.member_id) {
      entry["state"] = gauges.signing_state;
      entry["height"] = height;
    } else {
      entry["state"] = connected.count(m.id) ? "connected" : "not connected";
      auto it = gauges.peer_heights.find(m.id);
      entry["height"] = it != gauges.peer_heights.end() ? json(it->second) : json(nullptr);
    }
    members.push_back(entry);
  }
  out["members"] = members;

  // Loans, viewed on the committed business day as `colend loan show` views them.
  json loans = json::array();
  auto entries = ledger_.state().Scan("loan/", kDashboardLoansMax + 1);
  for (std::size_t i = 0; i < entries.size() && i < kDashboardLoansMax; ++i) {
    auto loan = contracts::Loan::FromText(entries[i].second);
    if (!loan.ok()) {
      loans.push_back({{"id", entries[i].first.substr(5)}, {"error", loan.error().message}});
      continue;
    }
    json v = loan->View(day);
    std::string classes;
    std::set<std::string> seen;
    for (const auto& l : v["lenders"]) {
      std::string c = l["classification"].get<std::string>();
      if (seen.insert(c).second) classes += (classes.empty() ? "" : "/") + c;
    }
    loans.push_back({{"id", loan->id},
                     {"borrower", loan->borrower},
                     {"status", loan->status},
                     {"principal_fen", loan->principal_fen},
                     {"outstanding_fen", v["outstanding_fen"]},
                     {"dpd", v["dpd"]},
                     {"class", classes},
                     {"collection_stage", loan->collection_stage}});
  }
  out["loans"] = loans;
  out["loans_limit"] = kDashboardLoansMax;
  out["loans_more"] = entries.size() > kDashboardLoansMax;

  // Refusals in committed blocks: the latest ones, and every one counted by rule.
  json recent = json::array();
  const auto& rejections = metrics_.recent_rejections();
  for (auto it = rejections.rbegin(); it != rejections.rend(); ++it) {
    recent.push_back({{"height", it->height},
                      {"tx", it->tx},
                      {"type", it->type},
                      {"code", it->code},
                      {"rule", it->rule},
                      {"message", it->message}});
  }
  out["rejections"] = {{"recent", recent},
                       {"recent_limit", NodeMetrics::kRecentRejectionsMax},
                       {"by_rule", metrics_.RejectionsByRule()},
                       {"since", "this node's start"}};
  return out;
}

}  // namespace colend::node::detail
