// Lending commands of `colend`, acting as the --home node's institution: every step of a joint
// loan, the attestations, parameter governance and the business clock. Each signs one
// transaction, waits for its commit and prints the receipt (rule, reason code, parameter
// version); --json prints the node's answer. Exit 0 when accepted, 1 when rejected or on error,
// 2 on bad usage. Views (loan list/show/events, borrower show, param show, clock show) read the
// committed state and compute with the contracts' own code, so they show what the chain decides.
#include <filesystem>
#include <iostream>
#include <set>

#include "contracts/fields.h"
#include "contracts/lending/lending.h"
#include "contracts/lending/loan_model.h"
#include "contracts/lending/money.h"
#include "crypto/hash.h"
#include "tools/cli.h"

namespace colend::cli {

using json = nlohmann::json;

Result<json> StateGet(const Home& home, const std::string& key) {
  auto r = CallNode(home.config, "state", json{{"key", key}});
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

namespace {

using Fields = std::map<std::string, std::string>;

int Usage(const std::string& message, const std::string& usage) {
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

// The date --valid-days (default `days`) after the chain's business date: how long an attested
// figure stays usable: 1 to kValidDaysMax days. Error code "usage" for a malformed or
// out-of-range --valid-days, before anything is asked of the node.
inline constexpr std::int64_t kValidDaysMax = 3650;
Result<std::string> ValidUntil(const Args& args, const Home& home, std::int64_t days) {
  auto valid_days = WholeOption(args, "valid-days", days, 1, kValidDaysMax);
  if (!valid_days.ok()) return MakeError("usage", valid_days.error().message);
  auto day = StateGet(home, "clock/business-day");
  if (!day.ok()) return day.error();
  return contracts::FormatDate((*day)["business_day"].get<std::int64_t>() + *valid_days);
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
  auto r = ScanState(home.config, "loan/");
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

int LoanShow(const Args& args, const Home& home, const std::string& usage) {
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
  auto r = ScanState(home.config, prefix);
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

int LoanEvents(const Args& args, const Home& home, const std::string& usage) {
  if (args.words.size() != 3) return Usage("loan events needs ID", usage);
  auto ev = Events(home, "loan-event/" + args.words[2] + "/", "loan");
  if (!ev.ok()) return Fail(ev.error());
  if (ev->first.empty()) return Fail("loan '" + args.words[2] + "' has no events (does it exist?)");
  Print(args, json{{"loan", args.words[2]}, {"events", ev->first}}, ev->second);
  return 0;
}

std::string Sha256Of(const std::string& text) { return crypto::ToHex(crypto::Sha256(text)); }

int LoanCommand(const Args& args) {
  const std::string& usage = args.usage;
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
  if (sub == "schedule") return RunLoanSchedule(args);
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
  const std::string& usage = args.usage;
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
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
    NEED(kyc, "kyc-level");
    NEED(kyc_date, "kyc-date");
    NEED(consent_date, "consent-date");
    // The chain takes the age as a band (docs/lending-rules.md §5.3): --age N is turned into the
    // five-year band holding it, cut at the current parameters' age bounds, before signing.
    std::string band;
    if (args.Has("age") == args.Has("age-band")) return Usage("borrower admit needs --age N or --age-band LO-HI (one of them)", usage);
    if (args.Has("age-band")) {
      band = args.Get("age-band");
    } else {
      std::int64_t age = -1;
      const std::string text = args.Get("age");
      if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos ||
          (age = std::stoll(text)) > contracts::kAgeMax) {
        return Usage("--age must be a whole number of years, 0-150", usage);
      }
      auto v = StateGet(*home, "params/current-version");
      if (!v.ok()) return Fail(v.error());
      auto r = StateGet(*home, "params/v" + (*v)["value"].get<std::string>());
      if (!r.ok()) return Fail(r.error());
      const json params = json::parse((*r)["value"].get<std::string>(), nullptr, false);
      if (!params.is_object() || !params.contains("age_min") || !params.contains("age_max")) {
        return Fail("the chain's parameters have no age_min/age_max");
      }
      auto [lo, hi] = contracts::AgeBandFor(static_cast<int>(age), params["age_min"].get<int>(), params["age_max"].get<int>());
      band = std::to_string(lo) + "-" + std::to_string(hi);
    }
    bool consent = !args.Has("no-consent");
    return Submit(args, *home, "borrower.admit",
                  {{"borrower", *borrower}, {"score", *score}, {"model", *model}, {"age-band", band},
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
  const std::string& usage = args.usage;
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
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
  if (args.Has("lookback-months")) f["lookback-months"] = args.Get("lookback-months");
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
  const std::string& usage = args.usage;
  const std::string& cmd = args.words[0];
  std::string sub = args.words.size() > 1 ? args.words[1] : "";
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
    auto proposals = ScanState(home->config, "proposal/");
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



}  // namespace

int RunLendingCommand(const Args& args) {
  const std::string& cmd = args.words[0];
  if (cmd == "loan") return LoanCommand(args);
  if (cmd == "borrower") return BorrowerCommand(args);
  if (cmd == "bureau") return BureauCommand(args);
  return SimpleCommand(args);
}

}  // namespace colend::cli
