// `colend localnet demo`: the sample joint loan, end to end, on a running local network (the
// README's main job). Every step is a signed transaction committed by the consortium; the story
// is printed with amounts in CNY, and every node must end with the same state root.
#include <iostream>
#include <set>

#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"
#include "crypto/hash.h"
#include "tools/cli.h"

namespace colend::cli {
namespace {

using json = nlohmann::json;
using Fields = std::map<std::string, std::string>;

struct DemoNet {
  std::map<std::string, Home> by_role;  // role -> home
  std::vector<Home> all;
};

class Demo {
 public:
  Demo(DemoNet net, bool json_out) : net_(std::move(net)), json_(json_out) {}

  void Say(const std::string& line) {
    if (!json_) std::cout << line << std::endl;
    story_.push_back(line);
  }
  const Home& As(const std::string& role) const { return net_.by_role.at(role); }

  // Submits and expects `want_accepted`; returns the receipt or an error naming the step.
  Result<json> Step(const std::string& role, const std::string& type, const Fields& f,
                    bool want_accepted = true) {
    auto r = SubmitAndWait(As(role), type, f, 60000);
    if (!r.ok()) return r.error();
    bool accepted = r->value("accepted", false);
    if (accepted != want_accepted) {
      return MakeError("demo-failed", type + " by " + As(role).config.member_id + " was " +
                                          (accepted ? "accepted" : "rejected") + " unexpectedly: " +
                                          DescribeReceipt(*r));
    }
    ++txs_;
    return *r;
  }
  Result<json> Show(const std::string& loan) {
    std::int64_t day = 0;
    auto l = FetchLoan(As("lead_bank"), loan, &day);
    if (!l.ok()) return l.error();
    return l->View(day);
  }
  Result<std::int64_t> Today() {
    auto r = StateGet(As("lead_bank"), "clock/business-day");
    if (!r.ok()) return r.error();
    return (*r)["business_day"].get<std::int64_t>();
  }
  Status AdvanceTo(std::int64_t day) {
    auto today = Today();
    if (!today.ok()) return today.error();
    if (day <= *today) return Status::Ok();
    auto r = Step("lead_bank", "clock.advance", {{"days", std::to_string(day - *today)}});
    if (!r.ok()) return r.error();
    Say("   business date " + contracts::FormatDate(*today) + " -> " + contracts::FormatDate(day) +
        " (daily rules ran for " + std::to_string(day - *today) + " days)");
    return Status::Ok();
  }
  int txs() const { return txs_; }
  const std::vector<std::string>& story() const { return story_; }
  const DemoNet& net() const { return net_; }

 private:
  DemoNet net_;
  bool json_;
  int txs_ = 0;
  std::vector<std::string> story_;
};

#define DEMO_TRY(var, expr)                 \
  auto var = (expr);                        \
  if (!var.ok()) return Fail(var.error())

std::string C(std::int64_t fen) { return contracts::FormatCny(fen) + " CNY"; }

std::string Sha256Of(const std::string& text) { return crypto::ToHex(crypto::Sha256(text)); }

}  // namespace

int RunLocalnetDemo(const Args& args) {
  std::string dir = args.Get("dir");
  if (dir.empty()) return Fail("--dir is required");
  DemoNet net;
  for (int k = 1; k <= 64; ++k) {
    std::string home_dir = dir + "/node" + std::to_string(k);
    if (!std::filesystem::exists(home_dir + "/config.json")) break;
    auto home = LoadHome(home_dir);
    if (!home.ok()) return Fail(home.error());
    const genesis::GenesisMember* m = home->genesis.FindMember(home->config.member_id);
    if (m && !net.by_role.count(m->role)) net.by_role.emplace(m->role, *home);
    net.all.push_back(*home);
  }
  if (net.all.empty()) return Fail("no local network in " + dir + " (run colend localnet init --dir " + dir + " --dev-clock)");
  for (const char* role : {"lead_bank", "partner_bank", "payee_bank", "credit_bureau"}) {
    if (!net.by_role.count(role)) return Fail(std::string("the network in ") + dir + " has no " + role);
  }
  if (!net.all[0].genesis.dev_clock) {
    return Fail("the demo moves the business date forward with clock advance, which only a development genesis allows: run colend localnet init --dir " + dir + " --dev-clock");
  }
  bool json_out = args.Has("json");
  Demo d(net, json_out);
  // The loan id, and the references made from it (otp-, LB-, PB-, VA-), hold no long number: a
  // reference with a number of 6 or more digits is refused as possible personal data
  // (docs/transactions.md §3). The current second in letters: L-bcdfghj.
  std::string letters;
  for (std::int64_t s = NowMs() / 1000; s > 0; s /= 26) {
    letters.insert(letters.begin(), static_cast<char>('a' + s % 26));
  }
  const std::string loan = "L-" + letters;
  const std::string borrower = Sha256Of("colend-borrower/v1\ndemo-salt\n" + loan);
  auto name = [&](const char* role) { return d.As(role).config.member_id; };

  DEMO_TRY(today0, d.Today());
  d.Say("== The sample joint loan " + loan + ", business date " + contracts::FormatDate(*today0));
  d.Say("   institutions: lead " + name("lead_bank") + ", partner " + name("partner_bank") + ", payee " + name("payee_bank") + ", bureau " + name("credit_bureau"));
  d.Say("   borrower (pseudonymous, salted SHA-256; no name or ID number on chain): " + borrower.substr(0, 16) + "...");
  d.Say("");
  d.Say("1. Admission (R-PRE-01..04)");
  DEMO_TRY(snap, d.Step("credit_bureau", "bureau.snapshot",
                        {{"borrower", borrower}, {"institutions", "1"}, {"outstanding-fen", "0"},
                         {"limits-fen", "5000000"}, {"overdue-count", "0"}, {"queries-90d", "1"},
                         {"max-dpd", "0"}, {"total-loans-fen", "0"}, {"liquid-assets-fen", "10000000"},
                         {"valid-until", contracts::FormatDate(*today0 + 30)}}));
  d.Say("   " + name("credit_bureau") + " attests a snapshot: borrows at 1 other institution, nothing overdue");
  std::string today_s = contracts::FormatDate(*today0);
  DEMO_TRY(admit, d.Step("lead_bank", "borrower.admit",
                         {{"borrower", borrower}, {"score", "720"}, {"model", "wb-risk-2026.1"}, {"age-band", "30-34"},
                          {"kyc-level", "3"}, {"kyc-date", today_s}, {"consent-date", today_s},
                          {"consent-credit-query", "yes"}, {"consent-colending", "yes"}, {"product", "consumer"}}));
  d.Say("   " + name("lead_bank") + " admits the borrower: " + (*admit)["message"].get<std::string>());
  for (const char* bank : {"lead_bank", "partner_bank"}) {
    DEMO_TRY(fig, d.Step(bank, "bank.figures", {{"tier1-capital-fen", "2000000000000"}, {"total-loans-fen", "50000000000000"}, {"valid-until", contracts::FormatDate(*today0 + 400)}}));
  }
  d.Say("   both banks attest their Tier-1 capital and total loans (for the co-lending concentration caps)");
  d.Say("");
  d.Say("2. Drawdown of 40,000.00 CNY over 20 periods at 0.05 %/day (R-IN-01, R-IN-02, R-PRE-06)");
  Fields draw = {{"loan", loan}, {"borrower", borrower}, {"amount-fen", "4000000"}, {"periods", "20"},
                 {"daily-rate-num", "5"}, {"daily-rate-den", "10000"}, {"device-changed", "yes"},
                 {"approval-sha256", Sha256Of("lead approval " + loan)}, {"model", "wb-risk-2026.1"}};
  DEMO_TRY(wrong, d.Step("partner_bank", "loan.draw", draw, false));
  d.Say("   the partner bank tries to originate it: " + DescribeReceipt(*wrong));
  DEMO_TRY(pending, d.Step("lead_bank", "loan.draw", draw, false));
  d.Say("   new device: " + DescribeReceipt(*pending));
  DEMO_TRY(auth, d.Step("lead_bank", "auth.result", {{"borrower", borrower}, {"level", "sms"}, {"result", "pass"}, {"ref", "otp-" + loan}}));
  d.Say("   the lead bank's verifier attests a passed SMS check");
  DEMO_TRY(drawn, d.Step("lead_bank", "loan.draw", draw));
  d.Say("   " + (*drawn)["message"].get<std::string>() + " (lead leg " + C(std::stoll((*drawn)["outputs"]["lead-leg-fen"].get<std::string>())) + ", partner leg " + C(std::stoll((*drawn)["outputs"]["partner-leg-fen"].get<std::string>())) + ")");
  DEMO_TRY(approved, d.Step("partner_bank", "loan.approve", {{"loan", loan}, {"decision", "approve"}, {"approval-sha256", Sha256Of("partner approval " + loan)}, {"model", "partner-risk-2026.1"}}));
  d.Say("   " + name("partner_bank") + " approves independently with its own model");
  d.Say("");
  d.Say("3. Funding 20/80 and payout (R-IN-03, R-IN-04)");
  DEMO_TRY(l0, FetchLoan(d.As("lead_bank"), loan, nullptr));
  DEMO_TRY(f1, d.Step("lead_bank", "loan.fund", {{"loan", loan}, {"amount-fen", std::to_string(l0->lenders[0].funded_fen)}, {"ref", "LB-" + loan}}));
  DEMO_TRY(f2, d.Step("partner_bank", "loan.fund", {{"loan", loan}, {"amount-fen", std::to_string(l0->lenders[1].funded_fen)}, {"ref", "PB-" + loan}}));
  d.Say("   " + name("lead_bank") + " funds " + C(l0->lenders[0].funded_fen) + ", " + name("partner_bank") + " funds " + C(l0->lenders[1].funded_fen) + "; " + (*f2)["message"].get<std::string>());
  DEMO_TRY(paid, d.Step("payee_bank", "loan.payout", {{"loan", loan}, {"amount-fen", "4000000"}, {"account", "VA-" + loan}}));
  d.Say("   " + name("payee_bank") + ": " + (*paid)["message"].get<std::string>());
  DEMO_TRY(v1, d.Show(loan));
  d.Say("   schedule sha256 " + (*v1)["schedule_sha256"].get<std::string>().substr(0, 16) + "..., installment " + C((*v1)["installments"][0]["principal_fen"].get<std::int64_t>() + (*v1)["installments"][0]["interest_fen"].get<std::int64_t>()) + ", first due " + (*v1)["installments"][0]["due_date"].get<std::string>());
  DEMO_TRY(spend, d.Step("payee_bank", "va.spend", {{"loan", loan}, {"amount-fen", "1200000"}, {"counterparty", "merchant"}, {"mcc", "5712"}, {"channel", "pos"}}));
  d.Say("   loan use (R-IN-07): 12,000.00 CNY to a furniture merchant: allowed");
  DEMO_TRY(cash, d.Step("payee_bank", "va.spend", {{"loan", loan}, {"amount-fen", "500000"}, {"counterparty", "merchant"}, {"mcc", "6011"}, {"channel", "cash"}}, false));
  d.Say("   loan use: 5,000.00 CNY cash withdrawal: " + DescribeReceipt(*cash));
  d.Say("");
  d.Say("4. Two repayments (R-IN-05: penalty -> interest -> principal, cumulative 20/80 split)");
  for (int k = 0; k < 2; ++k) {
    DEMO_TRY(v, d.Show(loan));
    const json& inst = (*v)["installments"][k];
    DEMO_TRY(due, contracts::ParseDate(inst["due_date"].get<std::string>()));
    if (Status s = d.AdvanceTo(*due); !s.ok()) return Fail(s.error());
    std::int64_t amount = inst["principal_fen"].get<std::int64_t>() + inst["interest_fen"].get<std::int64_t>();
    DEMO_TRY(r, d.Step("payee_bank", "loan.repay", {{"loan", loan}, {"amount-fen", std::to_string(amount)}}));
    const json& o = (*r)["outputs"];
    d.Say("   installment " + std::to_string(k + 1) + " paid on its due date: " + C(amount) + " = principal " + C(std::stoll(o["allocated.principal-fen"].get<std::string>())) + " + interest " + C(std::stoll(o["allocated.interest-fen"].get<std::string>())) +
          "; lead gets " + C(std::stoll(o["lender." + name("lead_bank") + ".principal-fen"].get<std::string>()) + std::stoll(o["lender." + name("lead_bank") + ".interest-fen"].get<std::string>())) +
          ", partner " + C(std::stoll(o["lender." + name("partner_bank") + ".principal-fen"].get<std::string>()) + std::stoll(o["lender." + name("partner_bank") + ".interest-fen"].get<std::string>())));
  }
  d.Say("");
  d.Say("5. Installment 3 is missed (R-POST-01..05)");
  DEMO_TRY(v3, d.Show(loan));
  DEMO_TRY(due3, contracts::ParseDate((*v3)["installments"][2]["due_date"].get<std::string>()));
  if (Status s = d.AdvanceTo(*due3 + 1); !s.ok()) return Fail(s.error());
  DEMO_TRY(g, d.Show(loan));
  d.Say("   day after the due date: dpd " + (*g)["dpd"].dump() + ", grace day, AI reminder sent, no penalty yet (" + C((*g)["penalty_due_fen"]) + "), collection " + (*g)["collection_stage"].get<std::string>());
  if (Status s = d.AdvanceTo(*due3 + 2); !s.ok()) return Fail(s.error());
  DEMO_TRY(o2, d.Show(loan));
  d.Say("   grace over, still unpaid 24 h after the reminder: overdue " + C((*o2)["overdue_fen"]) + ", reported to the credit bureau per lender share; classes: lead " + (*o2)["lenders"][0]["classification"].get<std::string>() + ", partner " + (*o2)["lenders"][1]["classification"].get<std::string>());
  DEMO_TRY(co, d.Step("lead_bank", "collection.outcome", {{"loan", loan}, {"ptp-broken", "2"}, {"no-contact-days", "3"}}));
  d.Say("   the AI collector reports 2 broken promises to pay: " + (*co)["message"].get<std::string>());
  if (Status s = d.AdvanceTo(*due3 + 61); !s.ok()) return Fail(s.error());
  DEMO_TRY(o3, d.Show(loan));
  d.Say("   " + (*o3)["dpd"].dump() + " days past due: penalty " + C((*o3)["penalty_due_fen"]) + " at the capped overdue rate " + (*o3)["overdue_daily_rate"].get<std::string>() + "/day (min of 1.5 x contract, 24 %/365); classes: lead " + (*o3)["lenders"][0]["classification"].get<std::string>() + ", partner " + (*o3)["lenders"][1]["classification"].get<std::string>() + "; collection " + (*o3)["collection_stage"].get<std::string>());
  d.Say("");
  d.Say("6. Early settlement of everything (R-IN-06, R-POST-07)");
  std::int64_t quote = (*o3)["settlement_quote_fen"].get<std::int64_t>();
  DEMO_TRY(settled, d.Step("payee_bank", "loan.settle", {{"loan", loan}, {"amount-fen", std::to_string(quote)}}));
  d.Say("   " + name("payee_bank") + " passes on " + C(quote) + ": " + (*settled)["message"].get<std::string>());
  DEMO_TRY(fin, d.Show(loan));
  std::int64_t received = 0;
  for (const json& l : (*fin)["lenders"]) {
    std::int64_t total = l["principal_repaid_fen"].get<std::int64_t>() + l["interest_repaid_fen"].get<std::int64_t>() + l["penalty_repaid_fen"].get<std::int64_t>();
    received += total;
    d.Say("   " + l["role"].get<std::string>() + " " + l["member"].get<std::string>() + ": funded " + C(l["funded_fen"]) + ", got back principal " + C(l["principal_repaid_fen"]) + " + interest " + C(l["interest_repaid_fen"]) + " + penalty " + C(l["penalty_repaid_fen"]) + " = " + C(total) + "; class " + l["classification"].get<std::string>());
    if (l["principal_repaid_fen"] != l["funded_fen"]) return Fail("a lender did not get back exactly the principal it funded");
  }
  if (received != (*fin)["received_fen"].get<std::int64_t>()) return Fail("the lenders' totals do not add up to what the borrower paid");
  d.Say("   status " + (*fin)["status"].get<std::string>() + "; borrower paid " + C((*fin)["received_fen"]) + " in total, every fen allocated");
  d.Say("");
  // Every node: the settlement committed (each node is asked with wait_tx, which answers at the
  // commit: no polling), then the state root at that height, which every node holds.
  const std::string last_tx = (*settled)["tx"].get<std::string>();
  std::uint64_t height = 0;
  std::map<std::string, std::string> roots;
  for (const Home& h : d.net().all) {
    auto committed = WaitForCommit(h.config, last_tx, 20000);
    if (!committed.ok()) {
      return Fail("the nodes did not reach the same height within 20 s: " + h.config.member_id +
                  ": " + committed.error().message);
    }
    height = std::max<std::uint64_t>(height, (*committed)["height"].get<std::uint64_t>());
  }
  if (height == 0) return Fail("the nodes did not reach the same height within 20 s");
  std::set<std::string> distinct;
  for (const Home& h : d.net().all) {
    auto b = CallNode(h.config, "block", json{{"height", height}}, 3000);
    if (!b.ok()) return Fail(b.error());
    roots[h.config.member_id] = (*b)["state_root"].get<std::string>();
    distinct.insert(roots[h.config.member_id]);
  }
  d.Say("7. " + std::to_string(d.net().all.size()) + " nodes at height " + std::to_string(height) + ", state root " + roots.begin()->second.substr(0, 16) + "... on " + (distinct.size() == 1 ? "every node" : "NOT every node"));
  if (json_out) {
    json out = {{"loan", loan}, {"borrower", borrower}, {"transactions", d.txs()}, {"height", height},
                {"state_roots", roots}, {"same_state_root", distinct.size() == 1},
                {"final", *fin}, {"story", d.story()}};
    std::cout << out.dump(2) << std::endl;
  }
  if (distinct.size() != 1) return Fail("the nodes hold different state roots at height " + std::to_string(height));
  if (!json_out) std::cout << "Try: colend --home " << d.net().by_role.at("lead_bank").config.home << " loan show " << loan << std::endl;
  return 0;
}

}  // namespace colend::cli
