// Drawdown, the partner's approval, funding legs, payout and the use of the money
// (R-IN-01 .. R-IN-04, R-IN-07, R-PRE-06; docs/lending-rules.md §6).
#include <optional>
#include <utility>

#include "contracts/lending/call.h"

namespace colend::contracts {
namespace {

using json = nlohmann::json;
using namespace lending;  // NOLINT: the module's own helpers

// loan.draw (lead bank): R-PRE-05, R-IN-01, R-IN-02, R-PRE-06; the loan waits for the partner's
// independent approval.
void LoanDraw(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-02");
  if (auto s = c.OnlyFields({"loan", "borrower", "amount-fen", "periods", "daily-rate-num",
                             "daily-rate-den", "method", "device-changed", "phone-changed",
                             "counterparty-new", "location-level", "approval-sha256", "model"});
      !s.ok()) {
    return c.Reject(s.error());
  }
  auto id = c.Str("loan");
  auto borrower = c.Str("borrower");
  auto amount = c.Int("amount-fen", 1, kAmountFenMax);
  auto periods = c.Int("periods", 1, 360);
  auto approval = c.Str("approval-sha256");
  auto model = c.Str("model");
  for (auto* r : {&id, &borrower, &approval, &model}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (!amount.ok()) return c.Reject(amount.error());
  if (!periods.ok()) return c.Reject(periods.error());
  if (!IsLoanId(*id)) return c.Reject("", "invalid-field", "loan id must be 1-64 of [A-Za-z0-9._-]");
  if (!IsLowerHex64(*approval)) return c.Reject("", "invalid-field", "approval-sha256 must be 64 lowercase hex digits (the lead bank's approval record)");
  if (state->Get("loan/" + *id)) return c.Reject("", "duplicate-loan", "loan '" + *id + "' already exists");
  Rational rate_min = c.Rate("daily_rate_min"), rate_max = c.Rate("daily_rate_max");
  Rational daily = c.Rate("default_daily_rate");
  if (c.Field("daily-rate-num") || c.Field("daily-rate-den")) {
    auto n = c.Int("daily-rate-num", 0, 1000000);
    auto d = c.Int("daily-rate-den", 1, 1000000000);
    if (!n.ok()) return c.Reject(n.error());
    if (!d.ok()) return c.Reject(d.error());
    daily = Rational::Of(*n, *d);
  }
  if (LessThan(daily, rate_min) || LessThan(rate_max, daily)) {
    return c.Reject("R-IN-02", "rate-out-of-range", "daily rate " + RationalText(daily) + " is outside the allowed range");
  }
  Method method = Method::kEqualInstallment;
  {
    auto m = ParseMethod(c.Field("method") ? *c.Field("method") : c.Text("amortization_method"));
    if (!m.ok()) return c.Reject("", "invalid-field", m.error().message);
    method = *m;
  }
  // R-PRE-05: the borrower must be admitted and not under review.
  auto rec = LoadJson(c, "borrower/" + *borrower, "borrower");
  if (!rec.ok()) return c.Reject("R-PRE-03", "not-admitted", "borrower is not admitted (no whitelist record)");
  if (rec->value("status", "") == "locked") return c.Reject("R-IN-01", "account-locked", "the borrower's account is locked after failed verifications");
  // A review that fell due (periodic, model update) or a review SLA that expired is recorded now,
  // and stands although the drawdown is refused.
  const bool refreshed = RefreshBorrower(c, *rec);
  if (refreshed) state->Put("borrower/" + *borrower, rec->dump());
  auto refuse = [&](const std::string& rule, const std::string& code, const std::string& message) {
    if (refreshed) return c.RejectStanding(rule, code, message);
    return c.Reject(rule, code, message);
  };
  const std::string bstatus = rec->value("status", "");
  const std::string why = rec->value("review_reason", std::string(""));
  if (bstatus == "review") {
    const std::int64_t since = rec->value("review_since_day", c.today());
    return refuse("R-PRE-05", "review-pending", "the borrower is under review (" + why + ") since " + FormatDate(since) + ": drawdowns are blocked until re-admission, which is due by " + FormatDate(since + ReviewSlaDays(c)));
  }
  if (bstatus == "suspended") return refuse("R-PRE-05", "review-suspended", "the borrower's review (" + why + ") was not completed in time: the borrower is suspended and the unused limit frozen until re-admission");
  if (bstatus == "revoked") return refuse("R-PRE-05", "whitelist-revoked", "the borrower failed a review (" + why + "): the whitelist is revoked");
  if (bstatus != "active") return refuse("R-PRE-05", "review-pending", "the borrower is " + bstatus + ": drawdowns are blocked until re-admission");
  if (rec->value("frozen", false)) return c.Reject("R-POST-06", "limit-frozen", "the unused limit is frozen after risk warnings");
  // R-IN-02
  std::int64_t available = rec->value("limit_fen", std::int64_t{0}) - rec->value("used_fen", std::int64_t{0});
  if (*amount < c.Int("min_draw_fen")) return c.Reject("R-IN-02", "amount-below-minimum", Fen(*amount) + " is below the minimum drawdown " + Fen(c.Int("min_draw_fen")));
  if (*amount > c.Int("max_single_draw_fen")) return c.Reject("R-IN-02", "amount-above-single-cap", Fen(*amount) + " is above the single-drawdown cap " + Fen(c.Int("max_single_draw_fen")));
  if (*amount % c.Int("draw_unit_fen") != 0) return c.Reject("R-IN-02", "amount-not-whole-unit", Fen(*amount) + " is not a multiple of " + Fen(c.Int("draw_unit_fen")));
  if (*amount > available) return c.Reject("R-IN-02", "limit-exceeded", Fen(*amount) + " is above the available limit " + Fen(available));
  bool term_ok = false;
  for (const json& t : c.params().at("terms")) term_ok |= t.get<std::int64_t>() == *periods;
  if (!term_ok) return c.Reject("R-IN-02", "term-not-offered", std::to_string(*periods) + " periods is not an offered term " + c.params().at("terms").dump());
  // The borrower's open loans (R-IN-02) and, below, each bank's co-funded principal still
  // outstanding (R-PRE-06): counters kept by SaveLoan, so every open loan counts.
  const std::int64_t active = Counter(c, "count/open-loans/" + *borrower);
  if (active >= c.Int("max_concurrent_loans")) return c.Reject("R-IN-02", "too-many-loans", "the borrower already has " + std::to_string(active) + " open loans");
  // R-IN-01: protection level from the deviation of the drawdown's context.
  auto dev = c.YesNo("device-changed", false);
  auto phone = c.YesNo("phone-changed", false);
  auto cp = c.YesNo("counterparty-new", false);
  auto loc = c.IntOr("location-level", 0, 3, 0);
  if (!dev.ok()) return c.Reject(dev.error());
  if (!phone.ok()) return c.Reject(phone.error());
  if (!cp.ok()) return c.Reject(cp.error());
  if (!loc.ok()) return c.Reject(loc.error());
  std::int64_t score = c.Int("auth_w_device") * *dev + c.Int("auth_w_phone") * *phone +
                       c.Int("auth_w_counterparty") * *cp + c.Int("auth_w_location") * *loc;
  std::string level = score == 0 ? "none" : score < c.Int("auth_t_large") ? "sms" : "face";
  if (*phone) level = "face";
  if (*amount >= c.Int("auth_high_amount_fen") && level == "none") level = "sms";
  c.Out("protection-level", level);
  c.Out("protection-score", score);
  if (level != "none") {
    auto a = c.Get("auth/" + *borrower);
    json auth = a ? json::parse(*a, nullptr, false) : json::object();
    bool valid = a && AuthLevelRank(auth.value("level", "")) >= AuthLevelRank(level) &&
                 auth.value("expires_ms", std::int64_t{0}) >= call.block.timestamp_ms;
    if (!valid) {
      return c.Reject("R-IN-01", "auth-required", level + " verification is required (deviation score " + std::to_string(score) + "): attest a passed " + level + " check first (pending)");
    }
    state->Erase("auth/" + *borrower);  // one verification, one drawdown
  }
  // R-PRE-06: co-lending allocation within the profile's share bounds.
  c.receipt()->rule = "R-PRE-06";
  std::int64_t lead_bps = c.Int("lead_share_bps"), partner_bps = c.Int("partner_share_bps");
  for (std::int64_t s : {lead_bps, partner_bps}) {
    if (s < c.Int("share_min_bps") || s > c.Int("share_max_bps")) {
      return c.Reject("R-PRE-06", "share-out-of-bounds", "a lender share of " + std::to_string(s) + " bps is outside the profile's bounds");
    }
  }
  // One split for funding and repayment (docs/lending-rules.md §2.7): each leg is the lender's
  // split of the whole principal, so principal repaid in full returns exactly what it funded,
  // whatever the split method and the drawdown unit.
  auto split = ParseSplitMethod(c.Text("split_method"));
  assert(split.ok());
  const std::int64_t shared_partner_amt =
      SplitTargets(*split, {static_cast<int>(lead_bps), static_cast<int>(partner_bps)}, *amount)[1];
  // Concentration (银保监办发〔2021〕24号): for a bank, the co-funded balance with its partner after
  // this drawdown ≤ single_partner_cap_bps of its Tier-1 net capital, and all co-funded loans ≤
  // total_colend_cap_bps of its total loans; both from the bank's own attested figures.
  // Returns the refusal (code, message), or nothing when the bank may fund `leg`.
  auto over_cap = [&](const std::string& member, std::int64_t leg) -> std::optional<std::pair<std::string, std::string>> {
    auto figures_text = c.Get("bank-figures/" + member);
    json figures = figures_text ? json::parse(*figures_text, nullptr, false) : json();
    if (!figures.is_object() || figures.value("valid_until_day", std::int64_t{0}) < c.today()) {
      return std::pair{std::string("bank-figures-missing"), member + " has no current attested Tier-1 capital and total loans (bank.figures): the allocation is pending"};
    }
    std::int64_t after = Counter(c, "count/cofunded/" + member) + leg;
    std::int64_t tier1 = figures.value("tier1_capital_fen", std::int64_t{0});
    std::int64_t total = figures.value("total_loans_fen", std::int64_t{0});
    // 128-bit: balances × 10000 can exceed int64 for a large bank.
    if (static_cast<__int128>(after) * 10000 > static_cast<__int128>(c.Int("single_partner_cap_bps")) * tier1) {
      return std::pair{std::string("colend-cap-exceeded"), member + "'s co-funded balance would be " + Fen(after) + ", above " + std::to_string(c.Int("single_partner_cap_bps") / 100) + " % of its Tier-1 net capital " + Fen(tier1)};
    }
    if (static_cast<__int128>(after) * 10000 > static_cast<__int128>(c.Int("total_colend_cap_bps")) * total) {
      return std::pair{std::string("colend-cap-exceeded"), member + "'s co-funded loans would be " + Fen(after) + ", above " + std::to_string(c.Int("total_colend_cap_bps") / 100) + " % of its total loans " + Fen(total)};
    }
    return std::nullopt;
  };
  // The partner (docs/lending-rules.md §5.6): the first partner bank, by member id, that may
  // lend in the borrower's region and whose concentration caps allow its leg. A city or rural
  // commercial bank funds only borrowers inside its licensed area (the region code attested at
  // admission, matched by a 2-digit province, 4-digit city or 6-digit district prefix) unless it
  // is exempt as an online-only lender. When no partner may lend in the region the lead bank
  // funds the whole loan; when some may but every one of them is at its cap, the drawdown is
  // refused with the first one's reason.
  std::string region;
  if (rec->contains("region")) region = std::to_string(rec->at("region").get<std::int64_t>());
  const json registry = c.params().value("partner_registry", json::object());
  auto region_refusal = [&](const std::string& member) -> std::string {
    if (!registry.contains(member)) return "";
    const json& entry = registry.at(member);
    const std::string type = entry.value("type", "national");
    if ((type != "city" && type != "rural") || entry.value("online_exempt", false)) return "";
    for (const json& r : entry.value("regions", json::array())) {
      const std::string prefix = r.get<std::string>();
      if (!region.empty() && region.compare(0, prefix.size(), prefix) == 0) return "";
    }
    return region.empty() ? "region-unknown" : "outside-licensed-regions";
  };
  std::string partner, first_partner, reroute;
  std::optional<std::pair<std::string, std::string>> cap_refusal;
  json skipped = json::array();
  for (const auto& [mid, m] : call.rules.members) {
    if (m.role != "partner_bank") continue;
    if (first_partner.empty()) first_partner = mid;
    if (std::string why = region_refusal(mid); !why.empty()) {
      if (reroute.empty()) reroute = why;
      skipped.push_back({{"member", mid}, {"reason", why}});
      continue;
    }
    if (auto cap = over_cap(mid, shared_partner_amt)) {
      if (!cap_refusal) cap_refusal = cap;
      skipped.push_back({{"member", mid}, {"reason", cap->first}});
      continue;
    }
    partner = mid;
    break;
  }
  if (first_partner.empty()) return c.Reject("R-PRE-06", "no-partner", "the consortium has no partner bank");
  if (partner.empty() && cap_refusal) return c.Reject("R-PRE-06", cap_refusal->first, cap_refusal->second);
  if (!partner.empty()) {
    reroute.clear();  // an eligible partner lends: no reroute to the lead
  } else {
    partner = first_partner;  // named on the loan with a zero share
    lead_bps = 10000;
    partner_bps = 0;
  }
  const std::int64_t partner_amt = reroute.empty() ? shared_partner_amt : 0;
  if (auto cap = over_cap(call.sender.id, *amount - partner_amt)) return c.Reject("R-PRE-06", cap->first, cap->second);
  Loan loan;
  loan.id = *id;
  loan.borrower = *borrower;
  loan.status = "approval";
  loan.principal_fen = *amount;
  loan.periods = static_cast<int>(*periods);
  loan.terms.method = method;
  loan.terms.daily_rate = daily;
  loan.terms.period_rate = c.Text("annuity_rate_rule") == "daily-x365/12" ? daily.Times(365).Over(12) : daily.Times(30);
  Rational penalty = daily;
  {
    Rational mult = c.Rate("penalty_multiplier");
    penalty = Rational::Of(daily.num * mult.num, daily.den * mult.den);
    Rational cap = Rational::Of(c.Int("max_total_annual_cost_bps"), 10000 * c.Int("day_basis"));
    loan.terms.overdue_daily_rate = Min(penalty, cap);
  }
  loan.terms.compound_enabled = c.params().at("compound_enabled").get<bool>();
  loan.terms.grace_days = static_cast<int>(c.Int("grace_days"));
  loan.terms.report_delay_days = static_cast<int>((c.Int("report_delay_hours") + 23) / 24);
  loan.terms.split = *split;
  loan.terms.param_version = c.version();
  auto share = [](std::string member, std::string role, std::int64_t bps, std::int64_t fen) {
    LenderShare l;
    l.member = std::move(member);
    l.role = std::move(role);
    l.share_bps = static_cast<int>(bps);
    l.funded_fen = fen;
    return l;
  };
  loan.lenders.push_back(share(call.sender.id, "lead_bank", lead_bps, *amount - partner_amt));
  loan.lenders.push_back(share(partner, "partner_bank", partner_bps, partner_amt));
  loan.created_day = c.today();
  loan.created_ms = call.block.timestamp_ms;
  // The schedule must be computable before anyone funds (R-IN-04 checks the inputs now).
  ScheduleInput in;
  in.principal_fen = *amount;
  in.periods = loan.periods;
  in.method = method;
  in.period_rate = loan.terms.period_rate;
  in.daily_rate = daily;
  in.has_value_day = true;
  in.value_day = c.today();
  in.lead_share_bps = static_cast<int>(lead_bps);
  in.partner_share_bps = static_cast<int>(partner_bps);
  auto rows = BuildSchedule(in);
  if (!rows.ok()) return c.Reject("R-IN-04", rows.error().code, rows.error().message);
  auto used = AdjustUsed(c, *borrower, *amount);
  assert(used.ok());
  (void)used;
  LoanEvent(c, loan, "R-IN-02", "DRAWDOWN_ACCEPTED", {{"amount_fen", *amount}, {"periods", *periods}, {"protection_level", level}, {"lead_approval", *approval}, {"lead_model", *model}});
  json allocated = {{"lead", {{"member", call.sender.id}, {"share_bps", lead_bps}, {"amount_fen", *amount - partner_amt}}}, {"partner", {{"member", partner}, {"share_bps", partner_bps}, {"amount_fen", partner_amt}}}};
  if (!skipped.empty()) allocated["skipped"] = skipped;  // partners passed over, with the reason
  LoanEvent(c, loan, "R-PRE-06", "COLEND_ALLOCATED", allocated);
  c.Out("loan", *id);
  c.Out("lead-leg-fen", *amount - partner_amt);
  c.Out("partner-leg-fen", partner_amt);
  c.Out("partner", partner);
  if (!skipped.empty()) {
    std::string list;
    for (const json& k : skipped) list += (list.empty() ? "" : ",") + k.at("member").get<std::string>() + ":" + k.at("reason").get<std::string>();
    c.Out("skipped-partners", list);
  }
  if (!reroute.empty()) {
    // The partner takes no part: nothing for it to approve or fund.
    loan.lenders[1].funding_confirmed = true;
    loan.status = "funding";
    LoanEvent(c, loan, "R-PRE-06", "COLEND_REROUTED", {{"partner", partner}, {"reason", reroute}, {"region", region}, {"lead_share_bps", 10000}});
    LoanEvent(c, loan, "R-IN-03", "FUNDING_REQUESTED", {{"legs", {{loan.lenders[0].member, loan.lenders[0].funded_fen}}}});
    SaveLoan(c, loan);
    c.Out("rerouted", reroute);
    return c.Accept("drawdown of " + Fen(*amount) + " accepted; the partner bank may not lend in the borrower's region (" + reroute + "): the lead bank funds 100 %");
  }
  SaveLoan(c, loan);
  c.Accept("drawdown of " + Fen(*amount) + " accepted; waiting for the partner bank's approval");
}

// loan.approve (partner bank): its own, independent credit decision (R-PRE-06).
void LoanApprove(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-PRE-06");
  if (auto s = c.OnlyFields({"loan", "decision", "approval-sha256", "model"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto decision = c.Str("decision");
  auto approval = c.Str("approval-sha256");
  auto model = c.Str("model");
  for (auto* r : {&id, &decision, &approval, &model}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (!IsLowerHex64(*approval)) return c.Reject("", "invalid-field", "approval-sha256 must be 64 lowercase hex digits");
  if (*decision != "approve" && *decision != "decline") return c.Reject("", "invalid-field", "decision must be approve or decline");
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  if (!loan->Lender(call.sender.id)) return c.Reject("", "not-a-lender", call.sender.id + " is not a lender of loan " + *id);
  if (loan->status != "approval") return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status + ", not waiting for approval");
  if (CancelExpiredFunding(c, *loan)) {  // the funding window (§6.3) ran out before the answer
    SaveLoan(c, *loan);
    c.Out("loan-status", "cancelled");
    return c.RejectStanding("R-IN-03", "funding-expired", "the funding window of " + std::to_string(c.Int("funding_timeout_minutes")) + " minutes has passed: the answer is not taken; loan " + *id + " is cancelled");
  }
  if (*decision == "decline") {
    loan->status = "cancelled";
    auto s = AdjustUsed(c, loan->borrower, -loan->principal_fen);
    assert(s.ok());
    (void)s;
    LoanEvent(c, *loan, "R-PRE-06", "COLEND_REJECTED", {{"by", call.sender.id}, {"approval", *approval}, {"model", *model}});
    SaveLoan(c, *loan);
    c.Out("loan-status", "cancelled");
    return c.Accept("the partner bank declined; the loan is cancelled and the limit released");
  }
  loan->status = "funding";
  LoanEvent(c, *loan, "R-PRE-06", "PARTNER_APPROVED", {{"by", call.sender.id}, {"approval", *approval}, {"model", *model}});
  LoanEvent(c, *loan, "R-IN-03", "FUNDING_REQUESTED", {{"legs", {{loan->lenders[0].member, loan->lenders[0].funded_fen}, {loan->lenders[1].member, loan->lenders[1].funded_fen}}}});
  SaveLoan(c, *loan);
  c.Out("loan-status", "funding");
  c.Accept("partner approval recorded; both lenders now fund their legs");
}

// loan.fund (each lender, for its own leg): attested funding confirmation (R-IN-03). When every
// leg is confirmed the schedule is created (R-IN-04) and the payee bank may pay out.
void LoanFund(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-03");
  if (auto s = c.OnlyFields({"loan", "amount-fen", "ref"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto amount = c.Int("amount-fen", 1, kAmountFenMax);
  auto ref = c.Str("ref");
  if (!id.ok()) return c.Reject(id.error());
  if (!amount.ok()) return c.Reject(amount.error());
  if (!ref.ok()) return c.Reject(ref.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  LenderShare* me = loan->Lender(call.sender.id);
  if (!me) return c.Reject("", "not-a-lender", call.sender.id + " is not a lender of loan " + *id);
  if (loan->status != "funding") return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status + ", not waiting for funding");
  if (me->funding_confirmed) return c.Reject("", "already-funded", call.sender.id + " already confirmed its leg of loan " + *id);
  if (CancelExpiredFunding(c, *loan)) {  // too late: cancelled and reversed now
    SaveLoan(c, *loan);
    c.Out("loan-status", "cancelled");
    return c.RejectStanding("R-IN-03", "funding-expired", "the funding window of " + std::to_string(c.Int("funding_timeout_minutes")) + " minutes has passed: this leg is not taken; loan " + *id + " is cancelled and every confirmed leg reversed");
  }
  if (*amount != me->funded_fen) return c.Reject("R-IN-03", "wrong-leg-amount", "the leg of " + call.sender.id + " is " + Fen(me->funded_fen) + ", not " + Fen(*amount));
  me->funding_confirmed = true;
  me->funding_ref = *ref;
  LoanEvent(c, *loan, "R-IN-03", "FUNDED", {{"lender", call.sender.id}, {"amount_fen", *amount}, {"ref", *ref}});
  bool all = std::all_of(loan->lenders.begin(), loan->lenders.end(), [](const LenderShare& l) { return l.funding_confirmed; });
  if (all) {
    std::int64_t sum = 0;
    for (const LenderShare& l : loan->lenders) sum += l.funded_fen;
    assert(sum == loan->principal_fen);  // disbursed = sum of the legs
    loan->status = "funded";
    loan->value_day = c.today();
    ScheduleInput in;
    in.principal_fen = loan->principal_fen;
    in.periods = loan->periods;
    in.method = loan->terms.method;
    in.period_rate = loan->terms.period_rate;
    in.daily_rate = loan->terms.daily_rate;
    in.has_value_day = true;
    in.value_day = loan->value_day;
    in.lead_share_bps = loan->lenders[0].share_bps;
    in.partner_share_bps = loan->lenders[1].share_bps;
    auto rows = BuildSchedule(in);
    assert(rows.ok());  // checked at drawdown with the same inputs
    loan->installments.clear();
    for (const Installment& r : *rows) {
      InstallmentState s;
      s.period = r.period;
      s.due_day = r.due_day;
      s.principal_fen = r.principal_fen;
      s.interest_fen = r.interest_fen;
      loan->installments.push_back(s);
    }
    loan->schedule_sha256 = ScheduleSha256(*rows);
    LoanEvent(c, *loan, "R-IN-04", "SCHEDULE_CREATED", {{"sha256", loan->schedule_sha256}, {"rows", rows->size()}, {"value_date", FormatDate(loan->value_day)}, {"first_due", FormatDate(rows->front().due_day)}, {"installment_fen", rows->front().payment_fen}});
    c.Out("loan-status", "funded");
    c.Out("schedule-sha256", loan->schedule_sha256);
  }
  SaveLoan(c, *loan);
  c.Accept(all ? "all legs funded; schedule created; the payee bank may pay out" : "leg confirmed; waiting for the other lender");
}

// loan.payout (payee bank): the money reached the borrower's restricted virtual account.
void LoanPayout(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-03");
  if (auto s = c.OnlyFields({"loan", "amount-fen", "account"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto amount = c.Int("amount-fen", 1, kAmountFenMax);
  auto account = c.Str("account");
  if (!id.ok()) return c.Reject(id.error());
  if (!amount.ok()) return c.Reject(amount.error());
  if (!account.ok()) return c.Reject(account.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  if (loan->status != "funded") return c.Reject("R-IN-03", "wrong-state", "loan " + *id + " is " + loan->status + ": payout needs every funding leg confirmed first");
  if (CancelExpiredFunding(c, *loan)) {  // not paid out by the end of the next business day
    SaveLoan(c, *loan);
    c.Out("loan-status", "cancelled");
    return c.RejectStanding("R-IN-03", "payout-expired", "loan " + *id + " was funded on " + FormatDate(loan->value_day) + " and not paid out by the end of the next business day: it is cancelled and both legs reversed");
  }
  if (*amount != loan->principal_fen) return c.Reject("R-IN-03", "wrong-payout-amount", "the payout must be the full principal " + Fen(loan->principal_fen) + ", not " + Fen(*amount));
  loan->status = "active";
  loan->virtual_account = *account;
  loan->va_balance_fen = *amount;
  loan->use_deadline_day = loan->value_day + c.params().value("use_deadline_days", kUseDeadlineDaysDefault);  // §6.5: from the value date
  LoanEvent(c, *loan, "R-IN-03", "LOAN_DISBURSED", {{"amount_fen", *amount}, {"virtual_account", *account}, {"value_date", FormatDate(loan->value_day)}, {"payee", call.sender.id}});
  SaveLoan(c, *loan);
  c.Out("loan-status", "active");
  c.Accept(Fen(*amount) + " credited to the restricted virtual account " + *account);
}

// R-IN-07 (docs/lending-rules.md §6.5): loan money goes to merchants only; never cash (cash
// channels or cash-like merchant categories such as money transfer 4829 and quasi-cash
// 6050/6051), never a transfer, never to the borrower or another individual, never a prohibited
// category. The reason, or empty when the use is allowed. One rule for the virtual account's
// payments (va.spend, refused before the money moves) and for attested spending (use.attest,
// misuse detected after it moved).
std::string UseVerdict(const Call& c, const std::string& counterparty, const std::string& mcc,
                       const std::string& channel) {
  if (counterparty != "merchant") {
    return "payments to " + counterparty + " are not allowed (merchants only: no transfers to self or individuals)";
  }
  if (channel == "cash" || channel == "transfer") {
    return "channel '" + channel + "' is not allowed (no cash-out, no transfers)";
  }
  for (const json& m : c.params().at("prohibited_mcc")) {
    if (m.get<std::string>() == mcc) return "merchant category " + mcc + " is prohibited for loan money";
  }
  return "";
}

// va.spend (payee bank): a payment out of the loan's virtual account (R-IN-07).
void VaSpend(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-07");
  if (auto s = c.OnlyFields({"loan", "amount-fen", "counterparty", "mcc", "channel"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto amount = c.Int("amount-fen", 1, kAmountFenMax);
  auto cp = c.Str("counterparty");
  auto mcc = c.Str("mcc");
  auto channel = c.Str("channel");
  for (auto* r : {&id, &cp, &mcc, &channel}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (!amount.ok()) return c.Reject(amount.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  if (loan->status != "active") return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status);
  if (std::string blocked = UseVerdict(c, *cp, *mcc, *channel); !blocked.empty()) {
    c.Out("use", "blocked");
    return c.Reject("R-IN-07", "use-blocked", blocked);
  }
  if (*amount > loan->va_balance_fen) return c.Reject("R-IN-07", "insufficient-balance", "the virtual account holds " + Fen(loan->va_balance_fen));
  loan->va_balance_fen -= *amount;
  loan->va_spent_fen += *amount;
  LoanEvent(c, *loan, "R-IN-07", "USE_PAYMENT_ALLOWED", {{"amount_fen", *amount}, {"mcc", *mcc}, {"channel", *channel}});
  SaveLoan(c, *loan);
  c.Out("use", "allowed");
  c.Accept(Fen(*amount) + " paid to a merchant (" + *mcc + ")");
}

// Acceleration on misuse (R-IN-07, `accelerate_on_misuse`; docs/lending-rules.md §6.5): every
// installment not yet due is replaced by one due today, of the principal not yet billed and the
// interest accrued on it since the last due date (or the value date), as the settlement quote
// counts it. Unpaid, it is overdue from tomorrow like any installment; held credit pays it now.
void Accelerate(Call& c, Loan& loan) {
  const std::int64_t today = c.today();
  std::int64_t unbilled = 0, last_due = loan.value_day;
  int first_period = 0, replaced = 0;
  std::vector<InstallmentState> kept;
  for (const InstallmentState& inst : loan.installments) {
    if (inst.due_day <= today) {
      kept.push_back(inst);
      last_due = std::max(last_due, inst.due_day);
      continue;
    }
    unbilled += inst.PrincipalDue();
    if (first_period == 0) first_period = inst.period;
    ++replaced;
  }
  if (unbilled == 0) return;
  InstallmentState now;
  now.period = first_period;
  now.due_day = today;
  now.principal_fen = unbilled;
  now.interest_fen = AccrueFen(unbilled, loan.terms.daily_rate, std::max<std::int64_t>(0, today - last_due));
  kept.push_back(now);
  loan.installments = std::move(kept);
  LoanEvent(c, loan, "R-IN-07", "LOAN_ACCELERATED",
            {{"principal_fen", now.principal_fen}, {"interest_fen", now.interest_fen},
             {"due", FormatDate(today)}, {"installments_replaced", replaced}});
  if (loan.credit_balance_fen > 0) {
    Allocation a;
    const std::int64_t before = loan.credit_balance_fen;
    loan.credit_balance_fen = ApplyToBilled(loan, today, loan.credit_balance_fen, &a);
    if (before != loan.credit_balance_fen) {
      LoanEvent(c, loan, "R-IN-05", "CREDIT_APPLIED", {{"amount_fen", before - loan.credit_balance_fen}, {"allocation", AllocationJson(a)}});
      WithdrawReportsIfCured(c, loan);
    }
    CloseIfPaid(c, loan);
  }
  c.Out("accelerated-fen", now.principal_fen + now.interest_fen);
}

// use.attest (payee bank): spending of this loan's money that the payee bank observed after it
// left the virtual account (the merchant's settlement, the borrower's account statement). Judged
// by the same rule as va.spend; a prohibited use is misuse (MISUSE_DETECTED): the loan's class is
// never better than special mention from then on (R-POST-04), reclassified at once.
void UseAttest(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-07");
  if (auto s = c.OnlyFields({"loan", "amount-fen", "counterparty", "mcc", "channel", "ref"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto amount = c.Int("amount-fen", 1, kAmountFenMax);
  auto cp = c.Str("counterparty");
  auto mcc = c.Str("mcc");
  auto channel = c.Str("channel");
  auto ref = c.Str("ref");
  for (auto* r : {&id, &cp, &mcc, &channel, &ref}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (!amount.ok()) return c.Reject(amount.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  if (loan->status != "active" && loan->status != "written-off") {
    return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status + ": only the money of a disbursed, open loan can be attested");
  }
  // Attested use, over all attestations of the loan (allowed and misused), never exceeds the
  // money that left the virtual account: a statement attested twice cannot double the misuse.
  const std::int64_t left = loan->principal_fen - loan->va_balance_fen;
  if (*amount > left - loan->attested_fen) {
    return c.Reject("R-IN-07", "amount-above-disbursed", Fen(*amount) + " is more than the " + Fen(left - loan->attested_fen) + " not yet attested of the " + Fen(left) + " that left the virtual account (" + Fen(loan->attested_fen) + " attested)");
  }
  loan->attested_fen += *amount;
  const std::string verdict = UseVerdict(c, *cp, *mcc, *channel);
  if (verdict.empty()) {
    LoanEvent(c, *loan, "R-IN-07", "USE_ATTESTED", {{"amount_fen", *amount}, {"mcc", *mcc}, {"channel", *channel}, {"ref", *ref}});
    SaveLoan(c, *loan);
    c.Out("use", "allowed");
    return c.Accept("attested use of " + Fen(*amount) + " is within the loan's purpose");
  }
  const bool first = loan->misuse_day == 0;
  if (first) loan->misuse_day = c.today();
  PostMisuse(*loan, c.today());  // the surcharge so far on the misused amount known so far
  loan->misused_fen += *amount;
  LoanEvent(c, *loan, "R-IN-07", "MISUSE_DETECTED", {{"amount_fen", *amount}, {"misused_fen", loan->misused_fen}, {"mcc", *mcc}, {"channel", *channel}, {"counterparty", *cp}, {"ref", *ref}, {"reason", verdict}});
  Classify(c, *loan, c.today());
  if (first) {
    // The misuse rate (R-IN-07): from detection, overdue amounts bear the heavier of the penalty
    // rate and misuse_multiplier × the contract rate, never both, within the annual cost cap.
    // What accrued so far is posted at the old rate first.
    const json m = c.params().value("misuse_multiplier", json{{"num", 3}, {"den", 2}});
    const Rational daily = loan->terms.daily_rate;
    const Rational misuse = Rational::Of(daily.num * m.at("num").get<std::int64_t>(), daily.den * m.at("den").get<std::int64_t>());
    const Rational cap = Rational::Of(c.Int("max_total_annual_cost_bps"), 10000 * c.Int("day_basis"));
    const Rational heavier = Min(LessThan(loan->terms.overdue_daily_rate, misuse) ? misuse : loan->terms.overdue_daily_rate, cap);
    if (LessThan(loan->terms.overdue_daily_rate, heavier)) {
      for (InstallmentState& inst : loan->installments) PostPenalty(*loan, inst, c.today());
      loan->terms.overdue_daily_rate = heavier;
      c.Out("overdue-daily-rate", RationalText(heavier));
    }
    // Misused principal not yet due bears the misuse rate too (docs/lending-rules.md §6.5): the
    // contract interest of its periods plus the surcharge min(misuse, cap) − contract rate.
    const Rational surcharge = MinusOrZero(Min(misuse, cap), daily);
    if (surcharge.num != 0) {
      loan->misuse_surcharge_rate = surcharge;
      loan->misuse_from_day = c.today();
      c.Out("misuse-surcharge-daily-rate", RationalText(surcharge));
    }
  }
  const bool accelerate = c.params().value("accelerate_on_misuse", false);
  if (accelerate && first && loan->status == "active") Accelerate(c, *loan);
  SaveLoan(c, *loan);
  c.Out("use", "misuse");
  c.Out("misused-fen", loan->misused_fen);
  c.Accept("misuse of " + Fen(*amount) + " recorded (" + verdict + "); the loan is classified at least special mention" +
           (accelerate && first ? "; the loan is accelerated: everything is due today" : ""));
}

}  // namespace

void RunLoanDraw(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&LoanDraw>(c, s, r); }
void RunLoanApprove(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&LoanApprove>(c, s, r); }
void RunLoanFund(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&LoanFund>(c, s, r); }
void RunLoanPayout(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&LoanPayout>(c, s, r); }
void RunVaSpend(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&VaSpend>(c, s, r); }
void RunUseAttest(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&UseAttest>(c, s, r); }

}  // namespace colend::contracts
