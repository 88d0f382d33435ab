// Admission (R-PRE-01 .. R-PRE-05) and the attestations it rests on: credit-bureau snapshots,
// bank figures, verification results (docs/lending-rules.md §4, §5).
#include "contracts/lending/call.h"

#include <optional>

namespace colend::contracts::lending {

std::int64_t ReviewSlaDays(const Call& c) {
  const std::int64_t hours = c.params().value("review_sla_hours", kReviewSlaHoursDefault);
  return (hours + 23) / 24;
}

void StartReview(Call& c, json& rec, const std::string& reason, std::int64_t since) {
  // A review already under way keeps its start: another trigger during it does not move the
  // deadline back (docs/lending-rules.md §5.5).
  if (rec.value("status", "") == "review" && rec.contains("review_since_day") &&
      rec.at("review_since_day").is_number_integer()) {
    since = std::min(since, rec.at("review_since_day").get<std::int64_t>());
  }
  rec["status"] = "review";
  rec["review_reason"] = reason;
  rec["review_since_day"] = since;
  BorrowerEvent(c, rec.value("borrower", ""), "R-PRE-05", "REVIEW_TRIGGERED",
                {{"reason", reason}, {"since", FormatDate(since)},
                 {"review_by", FormatDate(since + ReviewSlaDays(c))}});
}

bool RefreshBorrower(Call& c, json& rec) {
  bool changed = false;
  if (rec.value("status", "") == "active") {
    auto epoch_text = c.Get("models/epoch");
    const std::int64_t epoch = epoch_text ? std::stoll(*epoch_text) : 0;
    if (!c.params().at("models").contains(rec.value("model", ""))) {
      StartReview(c, rec, "model-withdrawn", c.today());
      changed = true;
    } else if (rec.value("models_epoch", std::int64_t{0}) < epoch) {
      auto day = c.Get("models/epoch-day");
      StartReview(c, rec, "model-update", day ? std::stoll(*day) : c.today());
      changed = true;
    } else if (c.today() >= rec.value("next_review_day", std::int64_t{0})) {
      StartReview(c, rec, "periodic", rec.value("next_review_day", c.today()));
      changed = true;
    }
  }
  if (rec.value("status", "") == "review") {
    if (!rec.contains("review_since_day")) {  // a review begun before the SLA was recorded
      rec["review_since_day"] = c.today();
      changed = true;
    }
    const std::int64_t since = rec.at("review_since_day").get<std::int64_t>();
    if (c.today() > since + ReviewSlaDays(c)) {
      rec["status"] = "suspended";
      rec["frozen"] = true;
      BorrowerEvent(c, rec.value("borrower", ""), "R-PRE-05", "WHITELIST_SUSPENDED",
                    {{"reason", rec.value("review_reason", "")}, {"since", FormatDate(since)},
                     {"unused_fen", rec.value("limit_fen", std::int64_t{0}) -
                                        rec.value("used_fen", std::int64_t{0})}});
      changed = true;
    }
  }
  return changed;
}

int AuthLevelRank(std::string_view level) {
  return level == "none" ? 0 : level == "sms" ? 1 : level == "face" ? 2 : -1;
}

}  // namespace colend::contracts::lending

namespace colend::contracts {
namespace {

using json = nlohmann::json;
using namespace lending;  // NOLINT: the module's own helpers

// bureau.snapshot (credit bureau): the borrower's borrowing at other institutions, attested.
// For an admitted borrower it also runs the behaviour warnings (R-POST-06).
void BureauSnapshot(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-PRE-02");
  if (auto s = c.OnlyFields({"borrower", "institutions", "outstanding-fen", "limits-fen",
                             "overdue-count", "queries-90d", "max-dpd", "total-loans-fen",
                             "liquid-assets-fen", "valid-until", "lookback-months"});
      !s.ok()) {
    return c.Reject(s.error());
  }
  auto borrower = c.BorrowerId();
  if (!borrower.ok()) return c.Reject(borrower.error());
  auto inst = c.Int("institutions", 0, 1000);
  auto outstanding = c.Int("outstanding-fen", 0, kAmountFenMax);
  auto limits = c.Int("limits-fen", 0, kAmountFenMax);
  auto overdue = c.Int("overdue-count", 0, 100000);
  auto queries = c.Int("queries-90d", 0, 100000);
  auto max_dpd = c.IntOr("max-dpd", 0, 100000, 0);
  auto total = c.IntOr("total-loans-fen", 0, kAmountFenMax, 0);
  auto liquid = c.IntOr("liquid-assets-fen", 0, kAmountFenMax, 0);
  auto valid = c.Date("valid-until");
  auto lookback = c.IntOr("lookback-months", 1, 120, 0);  // 0: not stated
  for (auto* r : {&inst, &outstanding, &limits, &overdue, &queries, &max_dpd, &total, &liquid, &valid, &lookback}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (*valid < c.today()) return c.Reject("", "invalid-field", "valid-until is before the business date " + FormatDate(c.today()));
  json snap = {{"borrower", *borrower}, {"institutions", *inst}, {"outstanding_fen", *outstanding},
               {"limits_fen", *limits}, {"overdue_count", *overdue}, {"queries_90d", *queries},
               {"max_dpd", *max_dpd}, {"total_loans_fen", *total}, {"liquid_assets_fen", *liquid},
               {"taken_day", c.today()}, {"valid_until_day", *valid},
               {"tx", crypto::ToHex(call.tx.id)}};
  if (*lookback != 0) snap["lookback_months"] = *lookback;  // stored only when stated
  state->Put("bureau/" + *borrower, snap.dump());
  c.Accept("credit-bureau snapshot recorded, valid until " + FormatDate(*valid));
  // R-POST-06 for a borrower already admitted.
  auto b = state->Get("borrower/" + *borrower);
  if (!b) return;
  c.Read("borrower/" + *borrower, *b);
  json rec = json::parse(*b, nullptr, false);
  std::vector<std::pair<std::string, std::string>> warnings;  // type, severity
  if (*inst > rec.value("institutions_at_admission", std::int64_t{0})) warnings.push_back({"NEW_MULTI_LENDER", "medium"});
  if (*max_dpd >= c.Int("ext_overdue_min_dpd")) warnings.push_back({"EXTERNAL_OVERDUE", *max_dpd >= 30 ? "high" : "medium"});
  if (*total * 10000 > *liquid * c.Int("leverage_max_bps")) warnings.push_back({"OVERLEVERAGE", "medium"});
  bool high = false;
  for (auto& [type, sev] : warnings) {
    high |= sev == "high";
    BorrowerEvent(c, *borrower, "R-POST-06", "RISK_WARNING", {{"type", type}, {"severity", sev}});
  }
  c.receipt()->rule = "R-POST-06";
  c.Out("warnings", static_cast<std::int64_t>(warnings.size()));
  if (high || warnings.size() >= 2) {
    rec["frozen"] = true;
    rec["risk_tier"] = "high";
    BorrowerEvent(c, *borrower, "R-POST-06", "LIMIT_FROZEN", {{"unused_fen", rec.value("limit_fen", std::int64_t{0}) - rec.value("used_fen", std::int64_t{0})}});
    RefreshBorrower(c, rec);
    if (rec.value("status", "") == "active" || rec.value("status", "") == "review") {
      StartReview(c, rec, "risk-warnings", c.today());
    }
    state->Put("borrower/" + *borrower, rec.dump());
    c.Out("limit", "frozen");
  }
}

// bank.figures (each lending bank): its Tier-1 net capital and total loans, attested for the
// co-lending concentration limits (R-PRE-06).
void BankFigures(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-PRE-06");
  if (auto s = c.OnlyFields({"tier1-capital-fen", "total-loans-fen", "valid-until"}); !s.ok()) return c.Reject(s.error());
  auto tier1 = c.Int("tier1-capital-fen", 1, std::numeric_limits<std::int64_t>::max() / 10000);
  auto total = c.Int("total-loans-fen", 1, std::numeric_limits<std::int64_t>::max() / 10000);
  auto valid = c.Date("valid-until");
  if (!tier1.ok()) return c.Reject(tier1.error());
  if (!total.ok()) return c.Reject(total.error());
  if (!valid.ok()) return c.Reject(valid.error());
  if (*valid < c.today()) return c.Reject("", "invalid-field", "valid-until is before the business date " + FormatDate(c.today()));
  json f = {{"member", call.sender.id}, {"tier1_capital_fen", *tier1}, {"total_loans_fen", *total},
            {"valid_until_day", *valid}, {"taken_day", c.today()}, {"tx", crypto::ToHex(call.tx.id)}};
  state->Put("bank-figures/" + call.sender.id, f.dump());
  c.Accept("figures of " + call.sender.id + " recorded, valid until " + FormatDate(*valid));
}

// borrower.admit (lead bank): R-PRE-01 consent and KYC, R-PRE-02 multi-lender borrowing,
// R-PRE-03 whitelist by model score, R-PRE-04 credit limit. Also completes a review (R-PRE-05).
void BorrowerAdmit(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-PRE-01");
  if (auto s = c.OnlyFields({"borrower", "kyc-level", "kyc-date", "consent-credit-query",
                             "consent-colending", "consent-date", "score", "model", "age",
                             "age-band", "blacklist", "product", "region"});
      !s.ok()) {
    return c.Reject(s.error());
  }
  auto borrower = c.BorrowerId();
  if (!borrower.ok()) return c.Reject(borrower.error());
  auto kyc = c.Int("kyc-level", 0, 9);
  auto kyc_date = c.Date("kyc-date");
  auto consent_date = c.Date("consent-date");
  auto query = c.YesNo("consent-credit-query", false);
  auto colending = c.YesNo("consent-colending", false);
  auto score = c.Int("score", 0, 1000);
  auto model = c.Str("model");
  for (auto* r : {&kyc, &kyc_date, &consent_date, &score}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  // The age as a band (docs/lending-rules.md §5.3): `age-band` LO-HI; an exact `age` is personal
  // data and is refused (the node refuses it before a block, CheckTxFields; this is the same rule
  // for a block that carries one).
  int age_low = 0, age_high = 0;
  if (c.Field("age")) {
    return c.Reject("", "invalid-field", "an exact age is personal data and never goes on chain: send age-band LO-HI (at most " + std::to_string(kAgeBandYearsMax) + " years wide)");
  }
  if (!c.Field("age-band")) return c.Reject("", "invalid-field", "age-band (LO-HI in years) is required");
  if (!ParseAgeBand(*c.Field("age-band"), &age_low, &age_high)) {
    return c.Reject("", "invalid-field", "age-band must be LO-HI in years, at most " + std::to_string(kAgeBandYearsMax) + " years wide");
  }
  if (!query.ok()) return c.Reject(query.error());
  if (!colending.ok()) return c.Reject(colending.error());
  if (!model.ok()) return c.Reject(model.error());
  std::string blacklist = c.Field("blacklist") ? *c.Field("blacklist") : "none";
  std::string product = c.Field("product") ? *c.Field("product") : "consumer";
  if (product != "consumer" && product != "business") {
    return c.Reject("", "invalid-field", "product must be consumer or business, not '" + product + "'");
  }
  auto region = c.IntOr("region", 100000, 999999, 0);
  if (!region.ok()) return c.Reject(region.error());
  // An admission of a borrower already on the whitelist completes its review (R-PRE-05); one in
  // review (or suspended) that fails R-PRE-02 or R-PRE-03 revokes the whitelist and freezes the
  // unused limit, and that refusal stands.
  std::optional<json> existing;
  if (auto e = c.Get("borrower/" + *borrower)) existing = json::parse(*e, nullptr, false);
  if (existing && existing->value("status", "") == "locked") {
    return c.Reject("R-IN-01", "account-locked", "the borrower's account is locked after failed verifications");
  }
  bool in_review = false;
  if (existing) {
    RefreshBorrower(c, *existing);
    const std::string st = existing->value("status", "");
    in_review = st == "review" || st == "suspended";
  }
  // A refusal on the borrower's credit (R-PRE-02, R-PRE-03) stands with its event, so that the
  // borrower's events show it (docs/lending-rules.md §5.2).
  auto refuse = [&](const std::string& rule, const std::string& code, const std::string& message) {
    BorrowerEvent(c, *borrower, rule, "ADMISSION_REJECTED", {{"reason", code}});
    if (!in_review) return c.RejectStanding(rule, code, message);
    (*existing)["status"] = "revoked";
    (*existing)["frozen"] = true;
    state->Put("borrower/" + *borrower, existing->dump());
    BorrowerEvent(c, *borrower, "R-PRE-05", "WHITELIST_REVOKED",
                  {{"reason", code}, {"review_reason", existing->value("review_reason", "")}});
    return c.RejectStanding(rule, code, message + "; the review failed: the whitelist is revoked and the unused limit frozen");
  };
  // R-PRE-01
  if (*kyc < c.Int("kyc_min_level")) {
    return c.Reject("R-PRE-01", "kyc-insufficient", "KYC level " + std::to_string(*kyc) + " is below the required " + std::to_string(c.Int("kyc_min_level")));
  }
  std::int64_t validity = c.Int("consent_validity_days");
  if (!*query || !*colending) {
    return c.Reject("R-PRE-01", "consent-missing", "the borrower's consent to the credit query and to co-lending data sharing is required");
  }
  if (*consent_date > c.today() || c.today() - *consent_date > validity || *kyc_date > c.today() || c.today() - *kyc_date > validity) {
    return c.Reject("R-PRE-01", "consent-stale", "consent and KYC must be dated within " + std::to_string(validity) + " days before the business date " + FormatDate(c.today()));
  }
  // R-PRE-02
  c.receipt()->rule = "R-PRE-02";
  auto snap_text = c.Get("bureau/" + *borrower);
  if (!snap_text) {
    return c.Reject("R-PRE-02", "bureau-snapshot-missing", "no credit-bureau snapshot for this borrower: the credit bureau must attest one first (pending)");
  }
  json snap = json::parse(*snap_text, nullptr, false);
  if (c.today() - snap.value("taken_day", std::int64_t{0}) > c.Int("snapshot_max_age_days") || snap.value("valid_until_day", std::int64_t{0}) < c.today()) {
    return c.Reject("R-PRE-02", "bureau-snapshot-stale", "the credit-bureau snapshot is out of date: retry with a fresh one (pending)");
  }
  std::int64_t n_inst = snap.value("institutions", std::int64_t{0});
  bool multi = n_inst >= c.Int("multi_lender_min_institutions");
  if (multi) {
    // The overdue count must cover multi_lender_lookback_months (docs/lending-rules.md §5.2): a
    // snapshot that states a shorter window cannot show a clean record; one that states none
    // attests over the rules' window.
    const std::int64_t window = c.Int("multi_lender_lookback_months");
    const std::int64_t covered = snap.value("lookback_months", window);
    if (covered < window) {
      return c.Reject("R-PRE-02", "bureau-lookback-short",
                      "the credit-bureau snapshot counts overdue loans over " + std::to_string(covered) +
                          " months; borrowing at several institutions is judged over " + std::to_string(window) +
                          " (multi_lender_lookback_months): the credit bureau must attest over the full window (pending)");
    }
    bool ok = snap.value("overdue_count", std::int64_t{0}) == 0 &&
              snap.value("outstanding_fen", std::int64_t{0}) * 10000 <= c.Int("multi_lender_utilisation_max_bps") * snap.value("limits_fen", std::int64_t{0}) &&
              n_inst <= c.Int("multi_lender_max_institutions") &&
              snap.value("queries_90d", std::int64_t{0}) <= c.Int("multi_lender_max_queries_90d");
    if (!ok) {
      return refuse("R-PRE-02", "multi-lender-rejected", "borrowing at " + std::to_string(n_inst) + " institutions without a clean record (overdue " + std::to_string(snap.value("overdue_count", 0)) + ", utilisation or enquiries above the limits)");
    }
  }
  // R-PRE-03
  const json& models = c.params().at("models");
  if (!models.contains(*model)) {
    return c.Reject("R-PRE-03", "model-not-registered", "model version '" + *model + "' is not registered in the parameters");
  }
  std::int64_t min_score = models.at(*model).at("min_score").get<std::int64_t>();
  if (*score < min_score) return refuse("R-PRE-03", "score-below-threshold", "score " + std::to_string(*score) + " is below " + std::to_string(min_score) + " for model " + *model);
  if (blacklist != "none") return refuse("R-PRE-03", "blacklisted", "blacklist hit: " + blacklist);
  {
    const std::int64_t age_min = c.Int("age_min"), age_max = c.Int("age_max");
    const std::string band = age_low == age_high ? "age " + std::to_string(age_low) : "age band " + std::to_string(age_low) + "-" + std::to_string(age_high);
    const std::string bounds = "[" + std::to_string(age_min) + ", " + std::to_string(age_max) + "]";
    if (age_high < age_min || age_low > age_max) return refuse("R-PRE-03", "age-out-of-range", band + " is outside " + bounds);
    if (age_low < age_min || age_high > age_max) {
      return c.Reject("R-PRE-03", "age-band-crosses-bound", band + " lies partly outside " + bounds + ": attest a band wholly inside or wholly outside it");
    }
  }
  // R-PRE-04
  std::int64_t limit = 0;
  for (const json& band : c.params().at("limit_bands")) {
    if (*score >= band.at("min_score").get<std::int64_t>()) limit = std::max(limit, band.at("limit_fen").get<std::int64_t>());
  }
  if (multi) limit = limit * (10000 - c.Int("multi_lender_haircut_bps")) / 10000;
  std::int64_t unit = c.Int("limit_unit_fen");
  limit = limit / unit * unit;
  std::int64_t cap = product == "consumer" ? c.Int("max_credit_limit_fen") : c.Int("max_business_limit_fen");
  limit = std::clamp(limit, c.Int("min_limit_fen"), cap);
  const std::int64_t used = existing ? existing->value("used_fen", std::int64_t{0}) : 0;
  auto epoch_text = c.Get("models/epoch");
  json rec = {{"borrower", *borrower}, {"status", "active"}, {"limit_fen", limit}, {"used_fen", used},
         {"frozen", false}, {"risk_tier", "normal"}, {"multi_lender", multi}, {"model", *model},
         {"score", *score}, {"product", product}, {"institutions_at_admission", n_inst},
         {"admitted_day", c.today()},
         {"next_review_day", c.today() + c.Int("review_period_days")}, {"review_reason", ""},
         {"auth_failures", 0}, {"models_epoch", epoch_text ? std::stoll(*epoch_text) : 0}};
  if (*region != 0) rec["region"] = *region;
  state->Put("borrower/" + *borrower, rec.dump());
  c.receipt()->rule = "R-PRE-04";
  BorrowerEvent(c, *borrower, "R-PRE-03", "WHITELIST_ADDED", {{"score", *score}, {"model", *model}, {"multi_lender", multi}});
  BorrowerEvent(c, *borrower, "R-PRE-04", "CREDIT_LIMIT_SET", {{"limit_fen", limit}});
  c.Out("limit-fen", limit);
  c.Out("multi-lender", multi ? "flagged" : "no");
  c.Accept("admitted with a credit limit of " + Fen(limit) + (multi ? " (multi-lender borrowing flagged, limit reduced)" : ""));
}

// borrower.change (lead or payee bank): a major account change triggers a review (R-PRE-05).
void BorrowerChange(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-PRE-05");
  if (auto s = c.OnlyFields({"borrower", "change"}); !s.ok()) return c.Reject(s.error());
  auto borrower = c.Str("borrower");
  auto change = c.Str("change");
  if (!borrower.ok()) return c.Reject(borrower.error());
  if (!change.ok()) return c.Reject(change.error());
  static const std::set<std::string> kMajor = {"phone", "bound-card", "device", "id-reverification"};
  if (!kMajor.count(*change)) return c.Reject("", "invalid-field", "change must be one of phone, bound-card, device, id-reverification");
  auto rec = LoadJson(c, "borrower/" + *borrower, "borrower");
  if (!rec.ok()) return c.Reject(rec.error());
  RefreshBorrower(c, *rec);
  if (rec->value("status", "") == "active" || rec->value("status", "") == "review") {
    StartReview(c, *rec, "major-change:" + *change, c.today());
  }
  state->Put("borrower/" + *borrower, rec->dump());
  c.Accept("review triggered: new drawdowns are blocked until the borrower is re-admitted");
}

// auth.result (lead bank's verifier): the attested outcome of an SMS or face/voice check.
void AuthResult(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-01");
  if (auto s = c.OnlyFields({"borrower", "level", "result", "ref"}); !s.ok()) return c.Reject(s.error());
  auto borrower = c.Str("borrower");
  auto level = c.Str("level");
  auto result = c.Str("result");
  auto ref = c.Str("ref");
  for (auto* r : {&borrower, &level, &result, &ref}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (*level != "sms" && *level != "face") return c.Reject("", "invalid-field", "level must be sms or face");
  if (*result != "pass" && *result != "fail") return c.Reject("", "invalid-field", "result must be pass or fail");
  auto rec = LoadJson(c, "borrower/" + *borrower, "borrower");
  if (!rec.ok()) return c.Reject(rec.error());
  if (*result == "fail") {
    int failures = rec->value("auth_failures", 0) + 1;
    (*rec)["auth_failures"] = failures;
    if (failures >= c.Int("max_auth_failures")) {
      (*rec)["status"] = "locked";
      BorrowerEvent(c, *borrower, "R-IN-01", "ACCOUNT_LOCKED", {{"failures", failures}});
    }
    state->Put("borrower/" + *borrower, rec->dump());
    state->Erase("auth/" + *borrower);
    c.Out("failures", failures);
    return c.Accept("verification failed (" + std::to_string(failures) + " of " + std::to_string(c.Int("max_auth_failures")) + " allowed)");
  }
  (*rec)["auth_failures"] = 0;
  state->Put("borrower/" + *borrower, rec->dump());
  json a = {{"level", *level}, {"ref", *ref},
            {"expires_ms", call.block.timestamp_ms + c.Int("auth_validity_minutes") * 60000}};
  state->Put("auth/" + *borrower, a.dump());
  BorrowerEvent(c, *borrower, "R-IN-01", "AUTH_RESULT", {{"level", *level}, {"result", "pass"}, {"ref", *ref}});
  c.Accept(*level + " verification passed; valid for one drawdown within " + std::to_string(c.Int("auth_validity_minutes")) + " minutes");
}

}  // namespace

void RunBureauSnapshot(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&BureauSnapshot>(c, s, r); }
void RunBankFigures(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&BankFigures>(c, s, r); }
void RunBorrowerAdmit(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&BorrowerAdmit>(c, s, r); }
void RunBorrowerChange(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&BorrowerChange>(c, s, r); }
void RunAuthResult(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&AuthResult>(c, s, r); }

}  // namespace colend::contracts
