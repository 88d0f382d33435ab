// The loan book: loading and saving loans with their wake index and counters, events, the
// borrower's used limit and closure (docs/lending-rules.md §1.3, §9).
#include "contracts/lending/call.h"

namespace colend::contracts::lending {
Result<json> LoadJson(Call& c, const std::string& key, const char* what) {
  auto v = c.Get(key);
  if (!v) return MakeError(std::string(what) + "-not-found", std::string(what) + " '" + key.substr(key.find('/') + 1) + "' does not exist");
  json j = json::parse(*v, nullptr, false);
  if (!j.is_object()) return MakeError("corrupt-state", key + " is not a JSON object");
  return j;
}

Result<Loan> LoadLoan(Call& c, const std::string& id) {
  if (!IsLoanId(id)) return MakeError("invalid-field", "loan id '" + id + "' must be 1-64 of [A-Za-z0-9._-]");
  auto v = c.Get("loan/" + id);
  if (!v) return MakeError("loan-not-found", "loan '" + id + "' does not exist");
  return ReadLoanRecord(id, *v);
}

// The first business day the daily rules can change anything for a loan: every day while it is
// overdue, written off or waiting for funding; otherwise its next due date or its use deadline.
std::int64_t WakeDay(const Loan& loan, std::int64_t today) {
  if (loan.status == "active" && loan.Dpd(today) == 0) {
    std::int64_t wake = 0;
    for (const InstallmentState& i : loan.installments) {
      if (!i.Paid()) {
        wake = i.due_day;
        break;
      }
    }
    // The use deadline (R-IN-07) while unused money is still in the virtual account.
    if (loan.use_deadline_day != 0 && loan.use_prompted_day == 0 && loan.va_balance_fen > 0) {
      wake = wake == 0 ? loan.use_deadline_day : std::min(wake, loan.use_deadline_day);
    }
    return wake;
  }
  return 0;
}

// "wake/<day, 10 digits>/<loan id>": the open loans the daily rules must look at on that day.
std::string WakeKey(std::int64_t day, const std::string& id) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010lld", static_cast<long long>(day));
  return "wake/" + std::string(digits) + "/" + id;
}

// Counters of open loans: "count/open-loans/<borrower>" (R-IN-02) and "count/cofunded/<bank>",
// the principal a bank funded and has not been repaid (R-PRE-06). Zero is stored as absent.
void AdjustCounter(Call& c, const std::string& key, std::int64_t delta) {
  if (delta == 0) return;
  std::int64_t value = 0;
  if (auto v = c.state()->Get(key)) value = std::stoll(*v);
  value += delta;
  if (value == 0) {
    c.state()->Erase(key);
  } else {
    c.state()->Put(key, std::to_string(value));
  }
}

std::int64_t Counter(const StateReader& state, const std::string& key) {
  auto v = state.Get(key);
  return v ? std::stoll(*v) : 0;
}

std::int64_t Counter(Call& c, const std::string& key) {
  auto v = c.Get(key);
  return v ? std::stoll(*v) : 0;
}

// Writes the loan and keeps its index entries and its share of the counters current. The
// "open-loan/<id>" record holds what the loan last contributed: its wake day, its borrower and
// each bank's outstanding co-funded principal, so the change is applied exactly once.
void SaveLoan(Call& c, const Loan& loan) {
  const std::string key = "open-loan/" + loan.id;
  if (auto old_text = c.state()->Get(key)) {
    json old = json::parse(*old_text, nullptr, false);
    // A record written before the index and the counters holds only a wake day: it added
    // nothing to them, so there is nothing to take back.
    if (old.is_object()) {
      c.state()->Erase(WakeKey(old.at("wake").get<std::int64_t>(), loan.id));
      AdjustCounter(c, "count/open-loans/" + old.at("borrower").get<std::string>(), -1);
      for (const auto& [member, fen] : old.at("cofunded").items()) {
        AdjustCounter(c, "count/cofunded/" + member, -fen.get<std::int64_t>());
      }
    }
  }
  c.state()->Put("loan/" + loan.id, WriteLoanRecord(loan));
  const bool open = loan.status != "closed" && loan.status != "cancelled";
  if (!open) {
    c.state()->Erase(key);
    return;
  }
  // The daily rules of today have run (or run in this transaction): the next look is tomorrow at
  // the earliest.
  const std::int64_t wake = std::max(WakeDay(loan, c.today()), c.today() + 1);
  json record = {{"wake", wake}, {"borrower", loan.borrower}, {"cofunded", json::object()}};
  AdjustCounter(c, "count/open-loans/" + loan.borrower, 1);
  for (const LenderShare& l : loan.lenders) {
    const std::int64_t outstanding = l.funded_fen - l.principal_repaid_fen;
    if (outstanding == 0) continue;
    record["cofunded"][l.member] = outstanding;
    AdjustCounter(c, "count/cofunded/" + l.member, outstanding);
  }
  c.state()->Put(key, record.dump());
  c.state()->Put(WakeKey(wake, loan.id), "");
}

void LoanEvent(Call& c, const Loan& loan, const std::string& rule, const std::string& name,
               json details) {
  details["loan"] = loan.id;
  c.Event("loan-event/" + loan.id, rule, name, std::move(details));
}

void BorrowerEvent(Call& c, const std::string& borrower, const std::string& rule,
                   const std::string& name, json details) {
  details["borrower"] = borrower;
  c.Event("borrower-event/" + borrower, rule, name, std::move(details));
}

std::vector<int> Shares(const Loan& loan) {
  std::vector<int> s;
  for (const LenderShare& l : loan.lenders) s.push_back(l.share_bps);
  return s;
}

Status AdjustUsed(Call& c, const std::string& borrower, std::int64_t delta) {
  auto b = LoadJson(c, "borrower/" + borrower, "borrower");
  if (!b.ok()) return b.error();
  std::int64_t used = b->value("used_fen", std::int64_t{0}) + delta;
  assert(used >= 0);
  (*b)["used_fen"] = used;
  c.state()->Put("borrower/" + borrower, b->dump());
  return Status::Ok();
}

void WithdrawReportsIfCured(Call& c, Loan& loan) {
  if (loan.Dpd(c.today()) != 0) return;
  for (LenderShare& l : loan.lenders) {
    if (l.reported) {
      l.reported = false;
      c.state()->Erase("credit-report/" + loan.id + "/" + l.member);
      LoanEvent(c, loan, "R-POST-03", "CREDIT_REPORT_UPDATE", {{"lender", l.member}, {"status", "cured"}});
    }
  }
}

// Closure (R-POST-07): every installment paid.
void CloseIfPaid(Call& c, Loan& loan) {
  for (const InstallmentState& i : loan.installments) {
    if (!i.Paid()) return;
  }
  loan.status = "closed";
  loan.closed_day = c.today();
  loan.collection_stage = "none";
  for (LenderShare& l : loan.lenders) {
    l.classification = LoanClass::kNormal;
    if (l.reported) {
      l.reported = false;
      c.state()->Erase("credit-report/" + loan.id + "/" + l.member);
      LoanEvent(c, loan, "R-POST-03", "CREDIT_REPORT_UPDATE", {{"lender", l.member}, {"status", "settled"}});
    }
  }
  Status s = AdjustUsed(c, loan.borrower, -loan.principal_fen);
  assert(s.ok());
  (void)s;
  LoanEvent(c, loan, "R-POST-07", "LOAN_CLOSED", {{"received_fen", loan.received_fen}});
  LoanEvent(c, loan, "R-POST-07", "LIMIT_RESTORED", {{"borrower", loan.borrower}, {"amount_fen", loan.principal_fen}});
  c.Out("loan-status", "closed");
}

}  // namespace colend::contracts::lending
