// The business clock and the daily post-loan rules (R-POST-01 .. R-POST-05, R-IN-03 timeouts):
// clock.tick and clock.advance run every day's rules in order (docs/lending-rules.md §8).
#include "contracts/lending/call.h"

namespace colend::contracts::lending {

LoanClass ClassFor(const Call& c, const std::string& role, std::int64_t dpd) {
  const json& p = c.params();
  std::int64_t substd = p.at("substandard_dpd").value(role, std::int64_t{90});
  if (dpd > p.at("loss_dpd").get<std::int64_t>()) return LoanClass::kLoss;
  if (dpd > p.at("doubtful_dpd").get<std::int64_t>()) return LoanClass::kDoubtful;
  if (dpd > substd) return LoanClass::kSubstandard;
  if (dpd >= p.at("special_mention_dpd").get<std::int64_t>()) return LoanClass::kSpecialMention;
  return LoanClass::kNormal;
}

void Classify(Call& c, Loan& loan, std::int64_t day) {
  std::int64_t dpd = loan.Dpd(day);
  for (LenderShare& l : loan.lenders) {
    if (l.funded_fen == 0) continue;  // not a lender of this loan (rerouted)
    LoanClass next = ClassFor(c, l.role, dpd);
    // An NPL class moves up only when every overdue amount is cleared.
    if (next < l.classification && l.classification >= LoanClass::kSubstandard && dpd > 0) continue;
    // Attested misuse (R-IN-07): never better than special mention while the loan is open.
    if (loan.misuse_day != 0 && next < LoanClass::kSpecialMention) next = LoanClass::kSpecialMention;
    if (next == l.classification) continue;
    LoanEvent(c, loan, "R-POST-04", "CLASSIFICATION_CHANGED",
              {{"lender", l.member}, {"from", ClassName(l.classification)}, {"to", ClassName(next)}, {"dpd", dpd}});
    l.classification = next;
  }
}

void RouteCollection(Call& c, Loan& loan, std::int64_t day) {
  const json& p = c.params();
  std::int64_t dpd = loan.Dpd(day);
  std::string stage = loan.collection_stage;
  std::string next = stage;
  if (dpd == 0) {
    next = "none";  // cured: the only way back
    // The AI-collection outcome belonged to that episode: a later one starts from nothing
    // (docs/lending-rules.md §8.5), or a cured borrower who misses again would go straight to
    // outsourced collection.
    loan.ptp_broken = 0;
    loan.no_contact_days = 0;
  } else {
    std::int64_t overdue = loan.OverdueTotal(day);
    bool ai_failed = loan.ptp_broken >= p.at("ai_fail_ptp_broken").get<std::int64_t>() ||
                     loan.no_contact_days >= p.at("ai_fail_no_contact_days").get<std::int64_t>();
    if (stage == "outsourced" &&
        (dpd > p.at("litigation_min_dpd").get<std::int64_t>() ||
         day - loan.collection_since_day >= p.at("litigation_after_days").get<std::int64_t>()) &&
        overdue >= p.at("litigation_min_amount_fen").get<std::int64_t>()) {
      next = "litigation";
    } else if (stage != "litigation" &&
               (dpd > p.at("ai_collection_max_dpd").get<std::int64_t>() ||
                overdue >= p.at("outsourced_min_amount_fen").get<std::int64_t>() || ai_failed)) {
      next = "outsourced";
    } else if (stage == "none") {
      next = "ai";
    }
  }
  if (next == stage) return;
  std::string agency;
  if (next == "outsourced" || next == "litigation") {
    // First approved agency (the registry excludes any with a violent-collection record).
    const json& agencies = p.at("collection_agencies");
    for (const json& a : agencies) {
      if (a.value("stage", "") == next && !a.value("violent_record", false)) {
        agency = a.value("id", "");
        break;
      }
    }
  }
  LoanEvent(c, loan, "R-POST-05", "COLLECTION_ROUTED",
            {{"from", stage}, {"to", next}, {"dpd", dpd}, {"agency", agency},
             {"overdue_fen", dpd > 0 ? loan.OverdueTotal(day) : 0}});
  loan.collection_stage = next;
  loan.collection_since_day = day;
}

void DailyRules(Call& c, Loan& loan, std::int64_t day) {
  if (loan.status != "active" && loan.status != "written-off") return;
  // R-IN-07: loan money still unused at the use deadline: the borrower is prompted to return it
  // (through the payee bank) or to prepay; once.
  if (loan.status == "active" && loan.use_deadline_day != 0 && day >= loan.use_deadline_day &&
      loan.use_prompted_day == 0 && loan.va_balance_fen > 0) {
    loan.use_prompted_day = day;
    LoanEvent(c, loan, "R-IN-07", "USE_DEADLINE_PASSED",
              {{"unused_fen", loan.va_balance_fen}, {"deadline", FormatDate(loan.use_deadline_day)},
               {"prompt", "return the unused money or prepay"}});
  }
  // Credit held from earlier payments settles what falls due (auto-debit on the due date).
  if (loan.credit_balance_fen > 0) {
    Allocation a;
    std::int64_t before = loan.credit_balance_fen;
    loan.credit_balance_fen = ApplyToBilled(loan, day, loan.credit_balance_fen, &a);
    if (before != loan.credit_balance_fen) {
      LoanEvent(c, loan, "R-IN-05", "CREDIT_APPLIED", {{"amount_fen", before - loan.credit_balance_fen}, {"allocation", AllocationJson(a)}});
      WithdrawReportsIfCured(c, loan);
      // Credit that paid the last installment settles the loan (R-POST-07): closed, limit back.
      CloseIfPaid(c, loan);
      if (loan.status == "closed") return;
    }
  }
  for (InstallmentState& inst : loan.installments) {
    if (inst.Paid() || inst.due_day >= day) continue;
    // R-POST-01: the due date ended unpaid: grace, and the AI reminder (the Art. 15 notice).
    if (inst.reminder_day == 0) {
      inst.reminder_day = day;
      LoanEvent(c, loan, "R-POST-01", "AI_REMINDER_SENT",
                {{"period", inst.period}, {"due_date", FormatDate(inst.due_day)},
                 {"amount_due_fen", inst.PrincipalDue() + inst.InterestDue()},
                 {"grace_until", FormatDate(inst.due_day + loan.terms.grace_days)}});
    }
    // Grace over: overdue, penalty accrues from the day after the due date (R-POST-02).
    // (Not when only posted penalty is left: penalty never accrues on penalty.)
    if (day - inst.due_day > loan.terms.grace_days && inst.accrual_from_day == 0 &&
        (inst.PrincipalDue() > 0 || inst.InterestDue() > 0)) {
      inst.accrual_from_day = inst.due_day + 1;
      LoanEvent(c, loan, "R-POST-02", "OVERDUE_STARTED",
                {{"period", inst.period},
                 {"overdue_principal_fen", inst.PrincipalDue()},
                 {"overdue_interest_fen", inst.InterestDue()},
                 {"penalty_from", FormatDate(inst.accrual_from_day)},
                 {"overdue_daily_rate", RationalText(loan.terms.overdue_daily_rate)}});
    }
    // R-POST-03: still overdue a full report delay after the reminder, grace passed.
    if (!inst.reported && inst.reminder_day > 0 &&
        day >= inst.reminder_day + loan.terms.report_delay_days &&
        day - inst.due_day > loan.terms.grace_days) {
      inst.reported = true;
      std::int64_t dpd = loan.Dpd(day);
      std::int64_t overdue = loan.OverdueTotal(day);
      std::vector<std::int64_t> parts = SplitTargets(loan.terms.split, Shares(loan), overdue);
      for (std::size_t k = 0; k < loan.lenders.size(); ++k) {
        LenderShare& l = loan.lenders[k];
        if (l.funded_fen == 0) continue;  // not a lender of this loan (rerouted)
        json report = {{"loan", loan.id}, {"borrower", loan.borrower}, {"lender", l.member},
                       {"amount_fen", parts[k]}, {"dpd", dpd}, {"date", FormatDate(day)},
                       {"reminder_date", FormatDate(inst.reminder_day)}};
        c.state()->Put("credit-report/" + loan.id + "/" + l.member, report.dump());
        l.reported = true;
        LoanEvent(c, loan, "R-POST-03", "CREDIT_REPORT_NEGATIVE",
                  {{"lender", l.member}, {"amount_fen", parts[k]}, {"dpd", dpd},
                   {"period", inst.period}});
      }
    }
  }
  Classify(c, loan, day);
  RouteCollection(c, loan, day);
}

// R-IN-03 (docs/lending-rules.md §6.3): a loan not funded within funding_timeout_minutes of its
// drawdown, or funded but not paid out by the end of the business day after its funding, is
// cancelled and every confirmed leg reversed. Runs in the daily pass, and at once when a late
// leg or a late payout arrives. True if it cancelled the loan.
bool CancelExpiredFunding(Call& c, Loan& loan) {
  std::string reason;
  if (loan.status == "approval" || loan.status == "funding") {
    const std::int64_t deadline = loan.created_ms + c.Int("funding_timeout_minutes") * 60000;
    if (c.ctx().block.timestamp_ms <= deadline) return false;
    reason = "funding-timeout";
  } else if (loan.status == "funded") {
    if (c.today() <= loan.value_day + 1) return false;
    reason = "payout-timeout";
  } else {
    return false;
  }
  for (const LenderShare& l : loan.lenders) {
    if (l.funding_confirmed && l.funded_fen > 0) {
      LoanEvent(c, loan, "R-IN-03", "FUNDING_REVERSED", {{"lender", l.member}, {"amount_fen", l.funded_fen}, {"ref", l.funding_ref}});
    }
  }
  loan.status = "cancelled";
  LoanEvent(c, loan, "R-IN-03", "LOAN_CANCELLED", {{"reason", reason}});
  Status s = AdjustUsed(c, loan.borrower, -loan.principal_fen);
  assert(s.ok());
  (void)s;
  return true;
}

// Moves the business date forward to `target`, running every day's rules in order: day by day,
// and within a day the loans due that day (the wake index) in ascending id. Each loan is saved
// (and re-indexed for the next day it needs) before the next one, so the contract holds one loan
// at a time. A transaction's writes stay in its block until commit, so a long advance is cut
// into transactions (docs/lending-rules.md §1.2): once clock_loans_per_tx loans have been looked
// at, no new day is begun; the day reached is the business date, and the next clock.tick (the
// lead bank's node sends one at once) continues to the target. A day is never split, so every
// transaction sees the rules of each day either wholly run or not at all.
std::int64_t AdvanceTo(Call& c, std::int64_t target) {
  const std::int64_t start = c.today();
  const std::int64_t budget = c.params().value("clock_loans_per_tx", kClockLoansPerTxDefault);
  std::int64_t day = start, looked_at = 0;
  while (day < target) {
    if (day > start && looked_at >= budget) break;
    ++day;
    c.set_today(day);
    ActivateParams(c, day);
    const std::string prefix = WakeKey(day, "");
    for (auto& [key, unused] : c.state()->Scan(prefix, kScanAll)) {
      auto loaded = LoadLoan(c, key.substr(prefix.size()));
      assert(loaded.ok());
      Loan& loan = *loaded;
      (void)CancelExpiredFunding(c, loan);
      DailyRules(c, loan, day);
      AssertConserved(loan);
      SaveLoan(c, loan);
      ++looked_at;
    }
  }
  c.state()->Put("clock/business-day", std::to_string(day));
  c.Out("business-date", FormatDate(day));
  c.Out("loans-looked-at", looked_at);
  if (day < target) c.Out("pending-until", FormatDate(target));
  return day;
}

}  // namespace colend::contracts::lending

namespace colend::contracts {
namespace {

constexpr std::int64_t kDayMs = 86400000;
constexpr std::int64_t kShanghaiOffsetMs = 8 * 3600 * 1000;

using json = nlohmann::json;
using namespace lending;  // NOLINT: the module's own helpers

// The receipt's note when a clock transaction stopped short of its target (§1.2).
std::string Pending(std::int64_t reached, std::int64_t target) {
  if (reached >= target) return "";
  return "; " + std::to_string(target - reached) + " more day(s) to " + FormatDate(target) +
         " follow in the next clock.tick (at most clock_loans_per_tx loans a transaction)";
}

// clock.tick: moves the business date to the Asia/Shanghai date of the block (plus any
// development offset). Any member may send it; the lead bank's node does so after midnight.
void ClockTick(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "CLOCK-TICK");
  if (auto s = c.OnlyFields({}); !s.ok()) return c.Reject(s.error());
  std::int64_t offset = 0;
  if (auto o = state->Get("clock/offset-days")) offset = std::stoll(*o);
  std::int64_t target = ShanghaiDay(call.block.timestamp_ms) + offset;
  if (target <= c.today()) {
    return c.Reject("", "clock-current", "the business date " + FormatDate(c.today()) +
                                             " is already current for this block");
  }
  if (target - c.today() > kAdvanceDaysMax) target = c.today() + kAdvanceDaysMax;
  const std::int64_t reached = AdvanceTo(c, target);
  c.Accept("business date is now " + FormatDate(reached) + Pending(reached, target));
}

// clock.advance (development genesis only): moves the business date N days forward.
void ClockAdvance(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "CLOCK-ADVANCE");
  if (!call.rules.dev_clock) {
    return c.Reject("", "dev-clock-disabled",
                    "this chain's genesis does not allow clock advance (dev_clock is false)");
  }
  if (auto s = c.OnlyFields({"days"}); !s.ok()) return c.Reject(s.error());
  auto days = c.Int("days", 1, kAdvanceDaysMax);
  if (!days.ok()) return c.Reject(days.error());
  std::int64_t offset = 0;
  if (auto o = state->Get("clock/offset-days")) offset = std::stoll(*o);
  state->Put("clock/offset-days", std::to_string(offset + *days));
  std::int64_t from = c.today();
  const std::int64_t reached = AdvanceTo(c, from + *days);
  c.Accept("business date advanced " + std::to_string(reached - from) + " days from " + FormatDate(from) +
           " to " + FormatDate(reached) + Pending(reached, from + *days));
}

}  // namespace

std::int64_t ShanghaiDay(std::int64_t unix_ms) {
  std::int64_t t = unix_ms + kShanghaiOffsetMs;
  return t >= 0 ? t / kDayMs : -((-t + kDayMs - 1) / kDayMs);
}

std::int64_t BusinessDay(const StateReader& state) {
  auto v = state.Get("clock/business-day");
  return v ? std::stoll(*v) : 0;
}

void RunClockTick(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&ClockTick>(c, s, r); }
void RunClockAdvance(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&ClockAdvance>(c, s, r); }

}  // namespace colend::contracts
