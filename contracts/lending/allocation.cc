// Repayment allocation (R-IN-05): the waterfall penalty → interest → principal, and the
// cumulative split of every component between the lenders (docs/lending-rules.md §7).
#include "contracts/lending/call.h"

namespace colend::contracts::lending {
void Split(Loan& loan, int component, std::int64_t amount, Allocation* a) {
  if (amount == 0) return;
  std::int64_t* cum = component == 0 ? &loan.cum_principal_fen
                      : component == 1 ? &loan.cum_interest_fen
                                       : &loan.cum_penalty_fen;
  std::vector<std::int64_t> parts = SplitIncrement(loan.terms.split, Shares(loan), *cum, amount);
  *cum += amount;
  std::int64_t sum = 0;
  for (std::size_t k = 0; k < loan.lenders.size(); ++k) {
    assert(parts[k] >= 0);
    sum += parts[k];
    LenderShare& l = loan.lenders[k];
    (component == 0 ? l.principal_repaid_fen : component == 1 ? l.interest_repaid_fen : l.penalty_repaid_fen) += parts[k];
    a->per_lender[l.member][component] += parts[k];
  }
  assert(sum == amount);
  (component == 0 ? a->principal : component == 1 ? a->interest : a->penalty) += amount;
}

// Posts the penalty accrued on `inst` up to `day` (one rounding per posting) and restarts the
// accrual from `day` (算头不算尾: the posting day is counted in the next segment).
void PostPenalty(Loan& loan, InstallmentState& inst, std::int64_t day) {
  if (inst.accrual_from_day == 0) return;
  inst.penalty_posted_fen += loan.UnpostedPenalty(inst, day);
  inst.accrual_from_day = day;
}

// Posts the misuse surcharge accrued up to `day` in every period (docs/lending-rules.md §6.5) as
// penalty of that period's installment, and restarts the accrual from `day`. Called when money
// is about to reach an installment (a payment, held credit on a billed installment, a
// settlement) and at each detection, so that a period's surcharge is posted before it can be
// paid; those events alone split the accrual (one rounding per posting, as penalty).
void PostMisuse(Loan& loan, std::int64_t day) {
  if (loan.misuse_from_day == 0 || day <= loan.misuse_from_day) return;
  for (InstallmentState& inst : loan.installments) inst.penalty_posted_fen += loan.UnpostedMisuse(inst, day);
  loan.misuse_from_day = day;
}

// Pays as much of `inst` as `*amount` allows, in the order penalty → interest → principal.
void PayInstallment(Loan& loan, InstallmentState& inst, std::int64_t day, std::int64_t* amount,
                    Allocation* a) {
  PostPenalty(loan, inst, day);
  std::int64_t pen = std::min(*amount, inst.penalty_posted_fen - inst.penalty_paid_fen);
  inst.penalty_paid_fen += pen;
  *amount -= pen;
  Split(loan, 2, pen, a);
  std::int64_t in = std::min(*amount, inst.InterestDue());
  inst.interest_paid_fen += in;
  *amount -= in;
  Split(loan, 1, in, a);
  std::int64_t pr = std::min(*amount, inst.PrincipalDue());
  inst.principal_paid_fen += pr;
  *amount -= pr;
  Split(loan, 0, pr, a);
  if (inst.PrincipalDue() == 0 && inst.InterestDue() == 0) inst.accrual_from_day = 0;
}

// Applies `amount` to everything billed on or before `day` (overdue periods oldest first, then
// the period due today); returns what is left over.
std::int64_t ApplyToBilled(Loan& loan, std::int64_t day, std::int64_t amount, Allocation* a) {
  const bool reaches = amount > 0 && std::any_of(loan.installments.begin(), loan.installments.end(), [day](const InstallmentState& i) {
    return i.due_day <= day && !i.Paid();
  });
  if (reaches) PostMisuse(loan, day);
  for (InstallmentState& inst : loan.installments) {
    if (amount == 0) break;
    if (inst.due_day > day || inst.Paid()) continue;
    PayInstallment(loan, inst, day, &amount, a);
  }
  return amount;
}

void OutputAllocation(Call& c, const Allocation& a) {
  c.Out("allocated.principal-fen", a.principal);
  c.Out("allocated.interest-fen", a.interest);
  c.Out("allocated.penalty-fen", a.penalty);
  for (const auto& [member, parts] : a.per_lender) {
    c.Out("lender." + member + ".principal-fen", parts[0]);
    c.Out("lender." + member + ".interest-fen", parts[1]);
    c.Out("lender." + member + ".penalty-fen", parts[2]);
  }
}

json AllocationJson(const Allocation& a) {
  json per = json::object();
  for (const auto& [member, parts] : a.per_lender) {
    per[member] = {{"principal_fen", parts[0]}, {"interest_fen", parts[1]}, {"penalty_fen", parts[2]}};
  }
  return {{"principal_fen", a.principal}, {"interest_fen", a.interest}, {"penalty_fen", a.penalty}, {"lenders", per}};
}

// Every fen received is with a lender or held as credit (checked after every posting).
void AssertConserved(const Loan& loan) {
  std::int64_t with_lenders = 0;
  for (const LenderShare& l : loan.lenders) {
    assert(l.principal_repaid_fen >= 0 && l.interest_repaid_fen >= 0 && l.penalty_repaid_fen >= 0);
    with_lenders += l.principal_repaid_fen + l.interest_repaid_fen + l.penalty_repaid_fen;
  }
  assert(loan.credit_balance_fen >= 0);
  assert(with_lenders + loan.credit_balance_fen == loan.received_fen);
  assert(with_lenders == loan.cum_principal_fen + loan.cum_interest_fen + loan.cum_penalty_fen);
  (void)with_lenders;
}

}  // namespace colend::contracts::lending
