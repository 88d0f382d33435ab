// Servicing: repayment, early settlement, collection outcomes and write-off
// (R-IN-05, R-IN-06, R-POST-05, R-POST-08; docs/lending-rules.md §7, §8).
#include "contracts/lending/call.h"

namespace colend::contracts {
namespace {

using json = nlohmann::json;
using namespace lending;  // NOLINT: the module's own helpers

// loan.repay (payee bank): a repayment received from the borrower (R-IN-05). Overdue periods
// oldest first (penalty → interest → principal), then the period due today; anything more is
// held as a credit balance and settles the next installment on its due date.
void LoanRepay(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-05");
  if (auto s = c.OnlyFields({"loan", "amount-fen"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto amount = c.Int("amount-fen", 1, kAmountFenMax);
  if (!id.ok()) return c.Reject(id.error());
  if (!amount.ok()) return c.Reject(amount.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  if (loan->status != "active" && loan->status != "written-off") {
    return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status + ": nothing to repay");
  }
  // Credit may be held for coming installments, but never more than settles the whole loan
  // today: beyond that the borrower should settle (interest only to date, R-IN-06).
  std::int64_t quote = loan->SettlementQuote(c.today());
  const bool unbilled = std::any_of(loan->installments.begin(), loan->installments.end(),
                                    [&](const InstallmentState& i) { return !i.Paid() && i.due_day > c.today(); });
  // docs/lending-rules.md §7.1: a payment that reaches today's settlement quote while
  // installments are still to come would be held as credit, and credit pays installments that
  // charge full-period interest: it could never settle the loan and would end in a default.
  // Such a payment is an early settlement: it is refused here, pointing to loan.settle.
  if (unbilled && *amount + loan->credit_balance_fen >= quote) {
    return c.Reject("R-IN-05", "settle-instead",
                    Fen(*amount) + (loan->credit_balance_fen ? " with the credit held (" + Fen(loan->credit_balance_fen) + ")" : std::string()) +
                        " reaches today's settlement quote " + Fen(quote) +
                        ": settle the loan early with loan.settle (interest to date only, no fee)");
  }
  if (*amount + loan->credit_balance_fen > quote) {
    return c.Reject("R-IN-05", "overpayment", Fen(*amount) + " is more than settles the whole loan today (" + Fen(quote - loan->credit_balance_fen) + "); use loan.settle to repay early");
  }
  Allocation a;
  loan->received_fen += *amount;
  std::int64_t left = ApplyToBilled(*loan, c.today(), *amount, &a);
  loan->credit_balance_fen += left;
  OutputAllocation(c, a);
  c.Out("credit-held-fen", left);
  LoanEvent(c, *loan, "R-IN-05", "REPAYMENT_POSTED", {{"amount_fen", *amount}, {"allocation", AllocationJson(a)}, {"credit_held_fen", left}});
  for (const auto& [member, parts] : a.per_lender) {
    LoanEvent(c, *loan, "R-IN-05", "LENDER_ALLOCATED", {{"lender", member}, {"principal_fen", parts[0]}, {"interest_fen", parts[1]}, {"penalty_fen", parts[2]}});
  }
  // Cured: update the reports and the collection stage, reclassify.
  WithdrawReportsIfCured(c, *loan);
  Classify(c, *loan, c.today());
  if (loan->collection_stage != "none") RouteCollection(c, *loan, c.today());
  CloseIfPaid(c, *loan);
  AssertConserved(*loan);
  SaveLoan(c, *loan);
  c.Out("dpd", loan->Dpd(c.today()));
  c.Accept("repayment of " + Fen(*amount) + " posted: principal " + Fen(a.principal) + ", interest " + Fen(a.interest) + ", penalty " + Fen(a.penalty) + (left ? ", held " + Fen(left) : ""));
}

// loan.settle (payee bank): full early settlement, no fee (R-IN-06). The amount must equal the
// quote for the business date.
void LoanSettle(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-IN-06");
  if (auto s = c.OnlyFields({"loan", "amount-fen"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto amount = c.Int("amount-fen", 0, kAmountFenMax);  // 0 when held credit covers the quote
  if (!id.ok()) return c.Reject(id.error());
  if (!amount.ok()) return c.Reject(amount.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  if (loan->status != "active" && loan->status != "written-off") return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status);
  std::int64_t day = c.today();
  std::int64_t quote = loan->SettlementQuote(day) - loan->credit_balance_fen;
  c.Out("quote-fen", quote);
  if (*amount != quote) {
    return c.Reject("R-IN-06", "settlement-amount-mismatch", "settling on " + FormatDate(day) + " takes exactly " + Fen(quote) + " (" + std::to_string(quote) + " fen), not " + Fen(*amount));
  }
  Allocation a;
  loan->received_fen += *amount;
  PostMisuse(*loan, day);  // the surcharge of the period not yet due is in the quote (§2.8)
  std::int64_t left = ApplyToBilled(*loan, day, *amount + loan->credit_balance_fen, &a);
  loan->credit_balance_fen = 0;
  // Unbilled periods: interest only for the days since the last due date, then the principal.
  std::int64_t last_due = loan->value_day, unbilled = 0;
  for (const InstallmentState& i : loan->installments) {
    if (i.due_day <= day) last_due = std::max(last_due, i.due_day);
    else unbilled += i.PrincipalDue();
  }
  std::int64_t accrued = AccrueFen(unbilled, loan->terms.daily_rate, day - last_due);
  std::int64_t waived = 0;
  bool first = true;
  for (InstallmentState& i : loan->installments) {
    if (i.due_day <= day) continue;
    waived += i.InterestDue();
    i.interest_fen = i.interest_paid_fen;
    if (first) {
      i.interest_fen += accrued;
      waived -= accrued;
      first = false;
    }
    PayInstallment(*loan, i, day, &left, &a);
  }
  assert(left == 0);
  OutputAllocation(c, a);
  c.Out("interest-waived-fen", waived);
  LoanEvent(c, *loan, "R-IN-06", "LOAN_SETTLED", {{"amount_fen", *amount}, {"accrued_interest_fen", accrued}, {"interest_waived_fen", waived}, {"allocation", AllocationJson(a)}});
  CloseIfPaid(c, *loan);
  assert(loan->status == "closed");
  AssertConserved(*loan);
  SaveLoan(c, *loan);
  c.Accept("loan settled early with " + Fen(*amount) + " (no fee); closed and limit restored");
}

// collection.outcome (lead bank): the AI collector's results feed the routing (R-POST-05).
void CollectionOutcome(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-POST-05");
  if (auto s = c.OnlyFields({"loan", "ptp-broken", "no-contact-days"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  auto ptp = c.Int("ptp-broken", 0, 1000);
  auto nc = c.Int("no-contact-days", 0, 10000);
  if (!id.ok()) return c.Reject(id.error());
  if (!ptp.ok()) return c.Reject(ptp.error());
  if (!nc.ok()) return c.Reject(nc.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  if (loan->status != "active" && loan->status != "written-off") return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status);
  loan->ptp_broken = static_cast<int>(*ptp);
  loan->no_contact_days = static_cast<int>(*nc);
  std::string before = loan->collection_stage;
  RouteCollection(c, *loan, c.today());
  SaveLoan(c, *loan);
  c.Out("collection-stage", loan->collection_stage);
  c.Accept("collection outcome recorded; stage " + before + " -> " + loan->collection_stage);
}

// loan.writeoff (a lender, for its own share): only at the lowest class (R-POST-07).
void LoanWriteoff(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-POST-07");
  if (auto s = c.OnlyFields({"loan"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("loan");
  if (!id.ok()) return c.Reject(id.error());
  auto loan = LoadLoan(c, *id);
  if (!loan.ok()) return c.Reject(loan.error());
  LenderShare* me = loan->Lender(call.sender.id);
  if (!me) return c.Reject("", "not-a-lender", call.sender.id + " is not a lender of loan " + *id);
  if (me->funded_fen == 0) return c.Reject("", "not-a-lender", call.sender.id + " holds no share of loan " + *id + " (the lead funded it alone)");
  if (loan->status != "active" && loan->status != "written-off") return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status);
  if (me->written_off) return c.Reject("", "already-written-off", "already written off by " + call.sender.id);
  auto min_class = ParseClass(c.Text("writeoff_min_class"));
  assert(min_class.ok());
  if (me->classification < *min_class) {
    return c.Reject("R-POST-07", "class-too-high", call.sender.id + "'s share is " + std::string(ClassName(me->classification)) + "; write-off needs " + std::string(ClassName(*min_class)));
  }
  me->written_off = true;
  // Every share written off: a lender without a share (a loan the lead funded alone) has none.
  bool all = std::all_of(loan->lenders.begin(), loan->lenders.end(), [](const LenderShare& l) { return l.written_off || l.funded_fen == 0; });
  if (all) loan->status = "written-off";
  LoanEvent(c, *loan, "R-POST-07", "LOAN_WRITTEN_OFF", {{"lender", call.sender.id}, {"principal_outstanding_fen", loan->PrincipalOutstanding()}});
  SaveLoan(c, *loan);
  c.Accept("share written off by " + call.sender.id + "; later recoveries still go through the cumulative split");
}

}  // namespace

void RunLoanRepay(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&LoanRepay>(c, s, r); }
void RunLoanSettle(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&LoanSettle>(c, s, r); }
void RunCollectionOutcome(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&CollectionOutcome>(c, s, r); }
void RunLoanWriteoff(const CallContext& c, StateOverlay* s, Receipt* r) { lending::Guarded<&LoanWriteoff>(c, s, r); }

}  // namespace colend::contracts
