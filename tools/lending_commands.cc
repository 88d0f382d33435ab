// Lending commands of `colend`, acting as the --home node's institution: every step of a joint
// loan, the attestations, parameter governance and the business clock. Each signs one
// transaction, waits for its commit and prints the receipt (rule, reason code, parameter
// version); --json prints the node's answer. Exit 0 when accepted, 1 when rejected or on error,
// 2 on bad usage. Views (loan list/show/events, borrower show, param show, clock show) read the
// committed state and compute with the contracts' own code, so they show what the chain decides.
#include <filesystem>
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

constexpr const char* kLoanUsage = R"(usage: colend [--home NODE_DIR] loan SUBCOMMAND ... [--json]
  schedule --principal CNY --periods N (--daily-rate R% | --annual-rate R%) [--method M]
           [--split 20/80] [--start YYYY-MM-DD]          offline: the repayment schedule
  list [--status S]                                      loans on chain, with their status
  show ID                                                status, amounts, DPD, lenders, schedule
  events ID                                              every decision on the loan, in order
  draw --loan ID --borrower B --amount CNY --periods N [--daily-rate R%]
       [--method equal-installment|equal-principal] [--device-changed] [--phone-changed]
       [--counterparty-new] [--location-level 0-3] [--approval SHA256] [--model M]   (lead bank)
  approve --loan ID [--decline] [--approval SHA256] [--model M]                   (partner bank)
  fund --loan ID --ref PAYMENT_REF [--amount CNY]        confirm this lender's leg (lead/partner)
  payout --loan ID --account VIRTUAL_ACCOUNT [--amount CNY]                         (payee bank)
  repay --loan ID --amount CNY                           a repayment received       (payee bank)
  settle --loan ID [--amount CNY]                        early settlement at today's quote (payee)
  writeoff --loan ID                                     write off this lender's share
Amounts are CNY with at most two decimals (40000.00); the chain stores integer fen.
Ids (--loan) are 1-64 of [A-Za-z0-9._-]. References (--ref, --account) go on chain in clear: 1-64
of [A-Za-z0-9._:/-] with no number of 6 or more digits (no ID, phone or account number), or a
salted SHA-256 of the reference as 64 hex digits. Field formats: docs/transactions.md.
)";

constexpr const char* kOtherUsage = R"(usage: colend --home NODE_DIR COMMAND ... [--json]
  borrower ref --id TEXT --salt SALT        offline: the pseudonymous borrower id (salted SHA-256)
  borrower admit --borrower B --score N --model M --age N --kyc-level N --kyc-date D
                 --consent-date D [--product consumer|business] [--blacklist none|fraud|court]
                                            (lead bank; consent to query and co-lending implied
                                            by --consent-date, refuse with --no-consent)
  borrower change --borrower B --change phone|bound-card|device|id-reverification
  borrower show B | events B                admission record / its decisions (warnings, reviews)
  bureau snapshot --borrower B --institutions N --outstanding CNY --limits CNY
                  --overdue-count N --queries-90d N [--max-dpd N] [--total-loans CNY]
                  [--liquid-assets CNY] [--valid-days N]           (credit bureau)
  auth result --borrower B --level sms|face --result pass|fail --ref R   (lead bank's verifier)
  bank figures --tier1-capital CNY --total-loans CNY [--valid-days N]   (each lending bank:
                                            its own figures for the co-lending caps)
  va spend --loan ID --amount CNY --counterparty merchant|individual|self --mcc NNNN
           --channel pos|online|cash|transfer                            (payee bank)
  use attest --loan ID --amount CNY --counterparty merchant|individual|self --mcc NNNN
             --channel pos|online|cash|transfer --ref R   (payee bank: spending of loan money
                                            it observed; a prohibited use is misuse)
  collection outcome --loan ID --ptp-broken N --no-contact-days N        (lead bank)
  param show [--version N]
  param propose --id P --changes JSON --effective YYYY-MM-DD   (lead or partner bank)
  param approve ID
  clock show | tick | advance --days N      (advance: development genesis only)
References (--ref) are 1-64 of [A-Za-z0-9._:/-] with no number of 6 or more digits (no ID, phone
or account number), or a salted SHA-256 as 64 hex digits; --mcc is 4 digits; dates YYYY-MM-DD.
Field formats: docs/transactions.md.
)";

int Usage(const std::string& message, const char* usage) {
  std::cerr << "colend: " << message << "\n" << usage;
  return 2;
}

Result<std::string> Need(const Args& args, const std::string& name) {
  std::string v = args.Get(name);
  if (v.empty()) return MakeError("usage", "--" + name + " is required");
  return v;
}

Result<std::string> Fen(const Args& args, const std::string& name) {
  auto v = Need(args, name);
  if (!v.ok()) return v.error();
  auto fen = contracts::ParseCny(*v);
  if (!fen.ok()) return MakeError("invalid-amount", "--" + name + ": " + fen.error().message);
  return std::to_string(*fen);
}

std::string Cny(std::int64_t fen) { return contracts::FormatCny(fen); }

Result<json> StateGet(const Home& home, const std::string& key) {
  auto r = CallNode(home.config, "state", json{{"key", key}});
  if (!r.ok()) return r.error();
  return *r;
}

// The date --valid-days (default `days`) after the chain's business date: how long an attested
// figure stays usable. Error code "usage" for a malformed --valid-days.
Result<std::string> ValidUntil(const Args& args, const Home& home, std::int64_t days) {
  auto day = StateGet(home, "clock/business-day");
  if (!day.ok()) return day.error();
  try {
    days = std::stoll(args.Get("valid-days", std::to_string(days)));
  } catch (...) {
    return MakeError("usage", "--valid-days must be a number of days");
  }
  return contracts::FormatDate((*day)["business_day"].get<std::int64_t>() + days);
}

Result<json> StateScan(const Home& home, const std::string& prefix, std::size_t limit = 10000) {
  auto r = CallNode(home.config, "state", json{{"prefix", prefix}, {"limit", limit}});
  if (!r.ok()) return r.error();
  return *r;
}

Result<contracts::Loan> FetchLoan(const Home& home, const std::string& id, std::int64_t* day) {
  auto r = StateGet(home, "loan/" + id);
  if (!r.ok()) return r.error();
  if ((*r)["value"].is_null()) return MakeError("loan-not-found", "loan '" + id + "' does not exist on chain");
  if (day) *day = (*r)["business_day"].get<std::int64_t>();
  return contracts::Loan::FromText((*r)["value"].get<std::string>());
}

int Submit(const Args& args, const Home& home, const std::string& type, const Fields& fields,
           const std::string& extra = "") {
  auto committed = SubmitAndWait(home, type, fields);
  if (!committed.ok()) return Fail(committed.error());
  return ReportReceipt(args, *committed, extra);
}

#define NEED(var, name)                    \
  auto var = Need(args, name);             \
  if (!var.ok()) return Usage(var.error().message, usage)
#define NEED_FEN(var, name)                                                      \
  auto var = Fen(args, name);                                                    \
  if (!var.ok()) {                                                               \
    if (var.error().code == "usage") return Usage(var.error().message, usage);   \
    return Fail(var.error());                                                    \
  }

// ------------------------------------------------------------------------------------------ loan

std::string LoanText(const json& v) {
  std::string t = "loan " + v["id"].get<std::string>() + "  " + v["status"].get<std::string>() +
                  "  business date " + v["business_date"].get<std::string>() + "\n";
  t += "  principal " + Cny(v["principal_fen"]) + " CNY over " + v["periods"].dump() + " periods (" +
       v["method"].get<std::string>() + ", daily rate " + v["daily_rate"].get<std::string>() +
       ", overdue rate " + v["overdue_daily_rate"].get<std::string>() + "/day)\n";
  t += "  outstanding " + Cny(v["outstanding_fen"]) + " CNY (principal " +
       Cny(v["principal_outstanding_fen"]) + ", interest due " + Cny(v["interest_due_fen"]) +
       ", penalty " + Cny(v["penalty_due_fen"]) + ")\n";
  t += "  dpd " + v["dpd"].dump() + "  overdue " + Cny(v["overdue_fen"]) + " CNY  collection " +
       v["collection_stage"].get<std::string>() + "  next due " +
       v["next_due_date"].get<std::string>() + "  settlement quote " +
       Cny(v["settlement_quote_fen"]) + " CNY\n";
  for (const json& l : v["lenders"]) {
    t += "  " + l["role"].get<std::string>() + " " + l["member"].get<std::string>() + " " +
         std::to_string(l["share_bps"].get<int>() / 100) + "%: funded " + Cny(l["funded_fen"]) +
         ", repaid principal " + Cny(l["principal_repaid_fen"]) + " interest " +
         Cny(l["interest_repaid_fen"]) + " penalty " + Cny(l["penalty_repaid_fen"]) + ", class " +
         l["classification"].get<std::string>() + (l["credit_reported"].get<bool>() ? ", reported to the credit bureau" : "") + "\n";
  }
  return t;
}

int LoanList(const Args& args, const Home& home) {
  auto r = StateScan(home, "loan/");
  if (!r.ok()) return Fail(r.error());
  std::int64_t day = (*r)["business_day"].get<std::int64_t>();
  json loans = json::array();
  std::string text;
  std::string want = args.Get("status");
  for (const json& e : (*r)["entries"]) {
    auto loan = contracts::Loan::FromText(e["value"].get<std::string>());
    if (!loan.ok()) return Fail(loan.error());
    if (!want.empty() && loan->status != want) continue;
    json v = loan->View(day);
    loans.push_back({{"id", loan->id}, {"status", loan->status}, {"borrower", loan->borrower},
                     {"principal_fen", loan->principal_fen}, {"outstanding_fen", v["outstanding_fen"]},
                     {"dpd", v["dpd"]}, {"collection_stage", loan->collection_stage}});
    text += loan->id + "  " + loan->status + "  principal " + Cny(loan->principal_fen) +
            "  outstanding " + Cny(v["outstanding_fen"]) + "  dpd " + v["dpd"].dump() + "\n";
  }
  if (text.empty()) text = "no loans\n";
  Print(args, json{{"loans", loans}, {"business_date", contracts::FormatDate(day)}}, text);
  return 0;
}

int LoanShow(const Args& args, const Home& home, const char* usage) {
  if (args.words.size() != 3) return Usage("loan show needs ID", usage);
  std::int64_t day = 0;
  auto loan = FetchLoan(home, args.words[2], &day);
  if (!loan.ok()) return Fail(loan.error());
  json v = loan->View(day);
  Print(args, v, LoanText(v));
  return 0;
}

// Events under `prefix` in order, as JSON and as one line each ("date  rule  EVENT  k=v ..."),
// leaving out the keys every event has and the subject's own key.
Result<std::pair<json, std::string>> Events(const Home& home, const std::string& prefix,
                                            const std::string& subject_key) {
  auto r = StateScan(home, prefix);
  if (!r.ok()) return r.error();
  json events = json::array();
  std::string text;
  for (const json& e : (*r)["entries"]) {
    json ev = json::parse(e["value"].get<std::string>());
    text += ev.value("date", "") + "  " + ev.value("rule", "") + "  " + ev.value("event", "");
    for (auto& [k, val] : ev.items()) {
      if (k == "date" || k == "rule" || k == "event" || k == "seq" || k == "tx" || k == "height" || k == subject_key) continue;
      text += "  " + k + "=" + (val.is_string() ? val.get<std::string>() : val.dump());
    }
    text += "\n";
    events.push_back(std::move(ev));
  }
  return std::pair{events, text};
}

int LoanEvents(const Args& args, const Home& home, const char* usage) {
  if (args.words.size() != 3) return Usage("loan events needs ID", usage);
  auto ev = Events(home, "loan-event/" + args.words[2] + "/", "loan");
  if (!ev.ok()) return Fail(ev.error());
  if (ev->first.empty()) return Fail("loan '" + args.words[2] + "' has no events (does it exist?)");
  Print(args, json{{"loan", args.words[2]}, {"events", ev->first}}, ev->second);
  return 0;
}

std::string Sha256Of(const std::string& text) { return crypto::ToHex(crypto::Sha256(text)); }

int LoanCommand(const Args& args) {
  const char* usage = kLoanUsage;
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (sub == "schedule") return RunLoanSchedule(args);
  if (args.Has("help") || sub.empty()) return std::cout << kLoanUsage, sub.empty() && !args.Has("help") ? 2 : 0;
  auto home = LoadHome(args);
  if (!home.ok()) return home.error().code == "usage" ? Usage(home.error().message, usage) : Fail(home.error());
  if (sub == "list") return LoanList(args, *home);
  if (sub == "show") return LoanShow(args, *home, usage);
  if (sub == "events") return LoanEvents(args, *home, usage);
  Fields f;
  if (sub == "draw") {
    NEED(loan, "loan");
    NEED(borrower, "borrower");
    NEED_FEN(amount, "amount");
    NEED(periods, "periods");
    f = {{"loan", *loan}, {"borrower", *borrower}, {"amount-fen", *amount}, {"periods", *periods}};
    if (args.Has("daily-rate")) {
      auto rate = contracts::ParsePercent(args.Get("daily-rate"));
      if (!rate.ok()) return Fail("--daily-rate: " + rate.error().message);
      f["daily-rate-num"] = std::to_string(rate->num);
      f["daily-rate-den"] = std::to_string(rate->den);
    }
    if (args.Has("method")) f["method"] = args.Get("method");
    for (const char* flag : {"device-changed", "phone-changed", "counterparty-new"}) {
      if (args.Has(flag)) f[flag] = "yes";
    }
    if (args.Has("location-level")) f["location-level"] = args.Get("location-level");
    f["approval-sha256"] = args.Get("approval", Sha256Of("approval " + *loan + " by " + home->config.member_id));
    f["model"] = args.Get("model", "wb-risk-2026.1");
    return Submit(args, *home, "loan.draw", f);
  }
  if (sub == "approve") {
    NEED(loan, "loan");
    f = {{"loan", *loan}, {"decision", args.Has("decline") ? "decline" : "approve"}};
    f["approval-sha256"] = args.Get("approval", Sha256Of("approval " + *loan + " by " + home->config.member_id));
    f["model"] = args.Get("model", "partner-risk-2026.1");
    return Submit(args, *home, "loan.approve", f);
  }
  if (sub == "fund") {
    NEED(loan, "loan");
    NEED(ref, "ref");
    std::string amount;
    if (args.Has("amount")) {
      NEED_FEN(a, "amount");
      amount = *a;
    } else {
      auto l = FetchLoan(*home, *loan, nullptr);
      if (!l.ok()) return Fail(l.error());
      const contracts::LenderShare* me = l->Lender(home->config.member_id);
      if (!me) return Fail(home->config.member_id + " is not a lender of loan " + *loan);
      amount = std::to_string(me->funded_fen);
    }
    return Submit(args, *home, "loan.fund", {{"loan", *loan}, {"amount-fen", amount}, {"ref", *ref}});
  }
  if (sub == "payout") {
    NEED(loan, "loan");
    NEED(account, "account");
    std::string amount;
    if (args.Has("amount")) {
      NEED_FEN(a, "amount");
      amount = *a;
    } else {
      auto l = FetchLoan(*home, *loan, nullptr);
      if (!l.ok()) return Fail(l.error());
      amount = std::to_string(l->principal_fen);
    }
    return Submit(args, *home, "loan.payout", {{"loan", *loan}, {"amount-fen", amount}, {"account", *account}});
  }
  if (sub == "repay") {
    NEED(loan, "loan");
    NEED_FEN(amount, "amount");
    return Submit(args, *home, "loan.repay", {{"loan", *loan}, {"amount-fen", *amount}});
  }
  if (sub == "settle") {
    NEED(loan, "loan");
    std::string amount;
    if (args.Has("amount")) {
      NEED_FEN(a, "amount");
      amount = *a;
    } else {
      std::int64_t day = 0;
      auto l = FetchLoan(*home, *loan, &day);
      if (!l.ok()) return Fail(l.error());
      amount = std::to_string(l->SettlementQuote(day) - l->credit_balance_fen);
    }
    return Submit(args, *home, "loan.settle", {{"loan", *loan}, {"amount-fen", amount}});
  }
  if (sub == "writeoff") {
    NEED(loan, "loan");
    return Submit(args, *home, "loan.writeoff", {{"loan", *loan}});
  }
  return Usage("unknown loan subcommand '" + sub + "'", usage);
}

// ------------------------------------------------------------------------- other institutions

int BorrowerCommand(const Args& args) {
  const char* usage = kOtherUsage;
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (args.Has("help")) return std::cout << usage, 0;
  if (sub == "ref") {
    NEED(id, "id");
    NEED(salt, "salt");
    std::string ref = Sha256Of("colend-borrower/v1\n" + *salt + "\n" + *id);
    Print(args, json{{"borrower", ref}}, ref + "\n");
    return 0;
  }
  auto home = LoadHome(args);
  if (!home.ok()) return home.error().code == "usage" ? Usage(home.error().message, usage) : Fail(home.error());
  if (sub == "show") {
    if (args.words.size() != 3) return Usage("borrower show needs B", usage);
    auto r = StateGet(*home, "borrower/" + args.words[2]);
    if (!r.ok()) return Fail(r.error());
    if ((*r)["value"].is_null()) return Fail("borrower " + args.words[2] + " is not admitted");
    json b = json::parse((*r)["value"].get<std::string>());
    auto snap = StateGet(*home, "bureau/" + args.words[2]);
    if (snap.ok() && !(*snap)["value"].is_null()) b["bureau_snapshot"] = json::parse((*snap)["value"].get<std::string>());
    std::string text = "borrower " + args.words[2] + "\n  status " + b.value("status", "") +
                       "  limit " + Cny(b.value("limit_fen", std::int64_t{0})) + "  used " +
                       Cny(b.value("used_fen", std::int64_t{0})) + "  risk " + b.value("risk_tier", "") +
                       (b.value("frozen", false) ? "  (unused limit frozen)" : "") + "\n";
    Print(args, b, text);
    return 0;
  }
  if (sub == "events") {
    if (args.words.size() != 3) return Usage("borrower events needs B", usage);
    auto ev = Events(*home, "borrower-event/" + args.words[2] + "/", "borrower");
    if (!ev.ok()) return Fail(ev.error());
    if (ev->first.empty()) return Fail("borrower " + args.words[2] + " has no events (is the id right?)");
    Print(args, json{{"borrower", args.words[2]}, {"events", ev->first}}, ev->second);
    return 0;
  }
  if (sub == "admit") {
    NEED(borrower, "borrower");
    NEED(score, "score");
    NEED(model, "model");
    NEED(age, "age");
    NEED(kyc, "kyc-level");
    NEED(kyc_date, "kyc-date");
    NEED(consent_date, "consent-date");
    bool consent = !args.Has("no-consent");
    return Submit(args, *home, "borrower.admit",
                  {{"borrower", *borrower}, {"score", *score}, {"model", *model}, {"age", *age},
                   {"kyc-level", *kyc}, {"kyc-date", *kyc_date}, {"consent-date", *consent_date},
                   {"consent-credit-query", consent ? "yes" : "no"},
                   {"consent-colending", consent ? "yes" : "no"},
                   {"product", args.Get("product", "consumer")},
                   {"blacklist", args.Get("blacklist", "none")}});
  }
  if (sub == "change") {
    NEED(borrower, "borrower");
    NEED(change, "change");
    return Submit(args, *home, "borrower.change", {{"borrower", *borrower}, {"change", *change}});
  }
  return Usage("unknown borrower subcommand '" + sub + "'", usage);
}

int BureauCommand(const Args& args) {
  const char* usage = kOtherUsage;
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (args.Has("help")) return std::cout << usage, 0;
  if (sub != "snapshot") return Usage("bureau needs the subcommand snapshot", usage);
  auto home = LoadHome(args);
  if (!home.ok()) return home.error().code == "usage" ? Usage(home.error().message, usage) : Fail(home.error());
  NEED(borrower, "borrower");
  NEED(inst, "institutions");
  NEED_FEN(outstanding, "outstanding");
  NEED_FEN(limits, "limits");
  NEED(overdue, "overdue-count");
  NEED(queries, "queries-90d");
  Fields f = {{"borrower", *borrower}, {"institutions", *inst}, {"outstanding-fen", *outstanding},
              {"limits-fen", *limits}, {"overdue-count", *overdue}, {"queries-90d", *queries},
              {"max-dpd", args.Get("max-dpd", "0")}};
  if (args.Has("total-loans")) {
    NEED_FEN(t, "total-loans");
    f["total-loans-fen"] = *t;
  }
  if (args.Has("liquid-assets")) {
    NEED_FEN(l, "liquid-assets");
    f["liquid-assets-fen"] = *l;
  }
  auto until = ValidUntil(args, *home, 30);
  if (!until.ok()) {
    return until.error().code == "usage" ? Usage(until.error().message, usage) : Fail(until.error());
  }
  f["valid-until"] = *until;
  return Submit(args, *home, "bureau.snapshot", f);
}

int SimpleCommand(const Args& args) {
  const char* usage = kOtherUsage;
  const std::string& cmd = args.words[0];
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (args.Has("help")) return std::cout << usage, 0;
  auto home = LoadHome(args);
  if (!home.ok()) return home.error().code == "usage" ? Usage(home.error().message, usage) : Fail(home.error());
  if (cmd == "auth" && sub == "result") {
    NEED(borrower, "borrower");
    NEED(level, "level");
    NEED(result, "result");
    NEED(ref, "ref");
    return Submit(args, *home, "auth.result", {{"borrower", *borrower}, {"level", *level}, {"result", *result}, {"ref", *ref}});
  }
  if (cmd == "bank" && sub == "figures") {
    NEED_FEN(tier1, "tier1-capital");
    NEED_FEN(total, "total-loans");
    auto until = ValidUntil(args, *home, 90);
    if (!until.ok()) {
      return until.error().code == "usage" ? Usage(until.error().message, usage) : Fail(until.error());
    }
    return Submit(args, *home, "bank.figures", {{"tier1-capital-fen", *tier1}, {"total-loans-fen", *total}, {"valid-until", *until}});
  }
  if (cmd == "va" && sub == "spend") {
    NEED(loan, "loan");
    NEED_FEN(amount, "amount");
    NEED(cp, "counterparty");
    NEED(mcc, "mcc");
    NEED(channel, "channel");
    return Submit(args, *home, "va.spend", {{"loan", *loan}, {"amount-fen", *amount}, {"counterparty", *cp}, {"mcc", *mcc}, {"channel", *channel}});
  }
  if (cmd == "use" && sub == "attest") {
    NEED(loan, "loan");
    NEED_FEN(amount, "amount");
    NEED(cp, "counterparty");
    NEED(mcc, "mcc");
    NEED(channel, "channel");
    NEED(ref, "ref");
    return Submit(args, *home, "use.attest", {{"loan", *loan}, {"amount-fen", *amount}, {"counterparty", *cp}, {"mcc", *mcc}, {"channel", *channel}, {"ref", *ref}});
  }
  if (cmd == "collection" && sub == "outcome") {
    NEED(loan, "loan");
    NEED(ptp, "ptp-broken");
    NEED(nc, "no-contact-days");
    return Submit(args, *home, "collection.outcome", {{"loan", *loan}, {"ptp-broken", *ptp}, {"no-contact-days", *nc}});
  }
  if (cmd == "param" && sub == "show") {
    json params;
    if (args.Has("version")) {
      auto r = StateGet(*home, "params/v" + args.Get("version"));
      if (!r.ok()) return Fail(r.error());
      if ((*r)["value"].is_null()) return Fail("no parameter version " + args.Get("version"));
      params = json::parse((*r)["value"].get<std::string>());
    } else {
      auto v = StateGet(*home, "params/current-version");
      if (!v.ok()) return Fail(v.error());
      auto r = StateGet(*home, "params/v" + (*v)["value"].get<std::string>());
      if (!r.ok()) return Fail(r.error());
      params = json::parse((*r)["value"].get<std::string>());
    }
    auto proposals = StateScan(*home, "proposal/");
    json out = {{"parameters", params}, {"proposals", json::array()}};
    if (proposals.ok()) {
      for (const json& e : (*proposals)["entries"]) out["proposals"].push_back(json::parse(e["value"].get<std::string>()));
    }
    Print(args, out, out.dump(2) + "\n");
    return 0;
  }
  if (cmd == "param" && sub == "propose") {
    NEED(id, "id");
    NEED(changes, "changes");
    NEED(effective, "effective");
    json parsed = json::parse(*changes, nullptr, false);
    if (!parsed.is_object()) return Fail("--changes must be a JSON object, e.g. '{\"grace_days\": 2}'");
    return Submit(args, *home, "param.propose", {{"proposal", *id}, {"changes", parsed.dump()}, {"effective-date", *effective}});
  }
  if (cmd == "param" && sub == "approve") {
    if (args.words.size() != 3) return Usage("param approve needs the proposal id", usage);
    return Submit(args, *home, "param.approve", {{"proposal", args.words[2]}});
  }
  if (cmd == "clock" && sub == "show") {
    auto r = StateGet(*home, "clock/offset-days");
    if (!r.ok()) return Fail(r.error());
    std::int64_t day = (*r)["business_day"].get<std::int64_t>();
    json out = {{"business_date", contracts::FormatDate(day)}, {"business_day", day},
                {"offset_days", (*r)["value"].is_null() ? 0 : std::stoll((*r)["value"].get<std::string>())},
                {"dev_clock", home->genesis.dev_clock}, {"height", (*r)["height"]}};
    Print(args, out, "business date " + contracts::FormatDate(day) + (home->genesis.dev_clock ? " (development clock)" : "") + "\n");
    return 0;
  }
  if (cmd == "clock" && sub == "tick") return Submit(args, *home, "clock.tick", {});
  if (cmd == "clock" && sub == "advance") {
    NEED(days, "days");
    return Submit(args, *home, "clock.advance", {{"days", *days}});
  }
  return Usage("unknown command '" + cmd + " " + sub + "'", usage);
}


// ---------------------------------------------------------------------------------- localnet demo

constexpr const char* kDemoUsage = R"(usage: colend localnet demo --dir D [--json]
Runs the sample joint loan on the running local network in D (made with
`colend localnet init --dev-clock`): a borrower is admitted, draws 40,000.00 CNY over 20
periods, the lead bank funds 20 % and the partner bank 80 %, the payee bank pays out to a
restricted virtual account, two installments are repaid, the third goes overdue (reminder,
penalty, credit-bureau report, classification, collection routing) and the loan is settled.
Every step is a signed transaction committed by the consortium; the story is printed with
amounts in CNY. At the end every node must hold the same state root. Exit 0 on success.
)";

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

std::string C(std::int64_t fen) { return Cny(fen) + " CNY"; }

}  // namespace

int RunLocalnetDemo(const Args& args) {
  if (args.Has("help")) return std::cout << kDemoUsage, 0;
  std::string dir = args.Get("dir");
  if (dir.empty()) return Usage("--dir is required", kDemoUsage);
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
                         {{"borrower", borrower}, {"score", "720"}, {"model", "wb-risk-2026.1"}, {"age", "32"},
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

namespace {
}  // namespace

int RunLendingCommand(const Args& args) {
  const std::string& cmd = args.words[0];
  if (cmd == "loan") return LoanCommand(args);
  if (cmd == "borrower") return BorrowerCommand(args);
  if (cmd == "bureau") return BureauCommand(args);
  return SimpleCommand(args);
}

}  // namespace colend::cli
