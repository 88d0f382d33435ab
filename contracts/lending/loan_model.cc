#include "contracts/lending/loan_model.h"

#include <algorithm>
#include <cassert>

namespace colend::contracts {
namespace {

using json = nlohmann::json;

const json kInstallmentColumns = json::array(
    {"period", "due_day", "principal_fen", "interest_fen", "principal_paid_fen",
     "interest_paid_fen", "penalty_posted_fen", "penalty_paid_fen", "accrual_from_day",
     "reminder_day", "reported"});

constexpr std::string_view kClassNames[] = {"normal", "special-mention", "substandard", "doubtful",
                                            "loss"};

json RateJson(const Rational& r) { return json::array({r.num, r.den}); }

// A loan record holds integers only. A float where an integer belongs would reach get<int>()
// and be converted with undefined behaviour, so it makes the record corrupt like a wrong type.
bool HasFloat(const json& root) {
  std::vector<const json*> todo = {&root};  // iterative: a corrupt record may nest deeply
  while (!todo.empty()) {
    const json* j = todo.back();
    todo.pop_back();
    if (j->is_number_float()) return true;
    if (j->is_structured()) {
      for (const json& x : *j) todo.push_back(&x);
    }
  }
  return false;
}

Result<Rational> RateFrom(const json& j) {
  if (!j.is_array() || j.size() != 2 || !j[0].is_number_integer() || !j[1].is_number_integer() ||
      j[1].get<std::int64_t>() <= 0 || j[0].get<std::int64_t>() < 0) {
    return MakeError("corrupt-loan", "a rate is not [num, den]");
  }
  return Rational::Of(j[0].get<std::int64_t>(), j[1].get<std::int64_t>());
}

}  // namespace

std::string_view ClassName(LoanClass c) { return kClassNames[static_cast<int>(c)]; }

Result<LoanClass> ParseClass(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (kClassNames[i] == name) return static_cast<LoanClass>(i);
  }
  return MakeError("invalid-class", "'" + std::string(name) + "' is not a loan class");
}

json Loan::ToJson() const {
  json lenders_json = json::array();
  for (const LenderShare& l : lenders) {
    lenders_json.push_back({{"member", l.member},
                            {"role", l.role},
                            {"share_bps", l.share_bps},
                            {"funded_fen", l.funded_fen},
                            {"funding_confirmed", l.funding_confirmed},
                            {"funding_ref", l.funding_ref},
                            {"principal_repaid_fen", l.principal_repaid_fen},
                            {"interest_repaid_fen", l.interest_repaid_fen},
                            {"penalty_repaid_fen", l.penalty_repaid_fen},
                            {"classification", ClassName(l.classification)},
                            {"written_off", l.written_off},
                            {"reported", l.reported}});
  }
  // Installments as rows of integers (compact and fast to parse); columns in kInstallmentColumns.
  json inst_json = json::array();
  for (const InstallmentState& i : installments) {
    inst_json.push_back(json::array({i.period, i.due_day, i.principal_fen, i.interest_fen,
                                     i.principal_paid_fen, i.interest_paid_fen,
                                     i.penalty_posted_fen, i.penalty_paid_fen, i.accrual_from_day,
                                     i.reminder_day, i.reported ? 1 : 0}));
  }
  json j = {{"id", id},
          {"borrower", borrower},
          {"status", status},
          {"principal_fen", principal_fen},
          {"periods", periods},
          {"terms",
           {{"method", MethodName(terms.method)},
            {"daily_rate", RateJson(terms.daily_rate)},
            {"period_rate", RateJson(terms.period_rate)},
            {"overdue_daily_rate", RateJson(terms.overdue_daily_rate)},
            {"compound_enabled", terms.compound_enabled},
            {"grace_days", terms.grace_days},
            {"report_delay_days", terms.report_delay_days},
            {"split_method", SplitMethodName(terms.split)},
            {"param_version", terms.param_version}}},
          {"lenders", lenders_json},
          {"installment_columns", kInstallmentColumns},
          {"installments", inst_json},
          {"schedule_sha256", schedule_sha256},
          {"created_day", created_day},
          {"created_ms", created_ms},
          {"value_day", value_day},
          {"closed_day", closed_day},
          {"virtual_account", virtual_account},
          {"va_balance_fen", va_balance_fen},
          {"va_spent_fen", va_spent_fen},
          {"credit_balance_fen", credit_balance_fen},
          {"received_fen", received_fen},
          {"cum_principal_fen", cum_principal_fen},
          {"cum_interest_fen", cum_interest_fen},
          {"cum_penalty_fen", cum_penalty_fen},
          {"collection_stage", collection_stage},
          {"collection_since_day", collection_since_day},
          {"ptp_broken", ptp_broken},
          {"no_contact_days", no_contact_days},
          {"event_seq", event_seq}};
  if (use_deadline_day != 0) j["use_deadline_day"] = use_deadline_day;
  if (use_prompted_day != 0) j["use_prompted_day"] = use_prompted_day;
  if (misuse_day != 0) j["misuse_day"] = misuse_day;
  if (misused_fen != 0) j["misused_fen"] = misused_fen;
  if (attested_fen != 0) j["attested_fen"] = attested_fen;
  if (misuse_from_day != 0) {
    j["misuse_from_day"] = misuse_from_day;
    j["misuse_surcharge_rate"] = RateJson(misuse_surcharge_rate);
  }
  return j;
}

Result<Loan> Loan::FromText(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return MakeError("corrupt-loan", "loan record is not a JSON object");
  if (HasFloat(j)) return MakeError("corrupt-loan", "loan record holds a non-integer number");
  try {
    Loan l;
    l.id = j.at("id").get<std::string>();
    l.borrower = j.at("borrower").get<std::string>();
    l.status = j.at("status").get<std::string>();
    l.principal_fen = j.at("principal_fen").get<std::int64_t>();
    l.periods = j.at("periods").get<int>();
    const json& t = j.at("terms");
    auto method = ParseMethod(t.at("method").get<std::string>());
    if (!method.ok()) return method.error();
    l.terms.method = *method;
    for (auto [key, target] : {std::pair{"daily_rate", &l.terms.daily_rate},
                               std::pair{"period_rate", &l.terms.period_rate},
                               std::pair{"overdue_daily_rate", &l.terms.overdue_daily_rate}}) {
      auto r = RateFrom(t.at(key));
      if (!r.ok()) return r.error();
      *target = *r;
    }
    l.terms.compound_enabled = t.at("compound_enabled").get<bool>();
    l.terms.grace_days = t.at("grace_days").get<int>();
    l.terms.report_delay_days = t.at("report_delay_days").get<int>();
    auto split = ParseSplitMethod(t.at("split_method").get<std::string>());
    if (!split.ok()) return split.error();
    l.terms.split = *split;
    l.terms.param_version = t.at("param_version").get<int>();
    for (const json& x : j.at("lenders")) {
      LenderShare s;
      s.member = x.at("member").get<std::string>();
      s.role = x.at("role").get<std::string>();
      s.share_bps = x.at("share_bps").get<int>();
      s.funded_fen = x.at("funded_fen").get<std::int64_t>();
      s.funding_confirmed = x.at("funding_confirmed").get<bool>();
      s.funding_ref = x.at("funding_ref").get<std::string>();
      s.principal_repaid_fen = x.at("principal_repaid_fen").get<std::int64_t>();
      s.interest_repaid_fen = x.at("interest_repaid_fen").get<std::int64_t>();
      s.penalty_repaid_fen = x.at("penalty_repaid_fen").get<std::int64_t>();
      auto c = ParseClass(x.at("classification").get<std::string>());
      if (!c.ok()) return c.error();
      s.classification = *c;
      s.written_off = x.at("written_off").get<bool>();
      s.reported = x.at("reported").get<bool>();
      l.lenders.push_back(std::move(s));
    }
    if (j.at("installment_columns") != kInstallmentColumns) {
      return MakeError("corrupt-loan", "unknown installment columns");
    }
    for (const json& x : j.at("installments")) {
      if (!x.is_array() || x.size() != 11) return MakeError("corrupt-loan", "an installment row is not 11 integers");
      InstallmentState i;
      i.period = x[0].get<int>();
      i.due_day = x[1].get<std::int64_t>();
      i.principal_fen = x[2].get<std::int64_t>();
      i.interest_fen = x[3].get<std::int64_t>();
      i.principal_paid_fen = x[4].get<std::int64_t>();
      i.interest_paid_fen = x[5].get<std::int64_t>();
      i.penalty_posted_fen = x[6].get<std::int64_t>();
      i.penalty_paid_fen = x[7].get<std::int64_t>();
      i.accrual_from_day = x[8].get<std::int64_t>();
      i.reminder_day = x[9].get<std::int64_t>();
      i.reported = x[10].get<int>() != 0;
      l.installments.push_back(i);
    }
    l.schedule_sha256 = j.at("schedule_sha256").get<std::string>();
    l.created_day = j.at("created_day").get<std::int64_t>();
    l.created_ms = j.at("created_ms").get<std::int64_t>();
    l.value_day = j.at("value_day").get<std::int64_t>();
    l.closed_day = j.at("closed_day").get<std::int64_t>();
    l.virtual_account = j.at("virtual_account").get<std::string>();
    l.va_balance_fen = j.at("va_balance_fen").get<std::int64_t>();
    l.va_spent_fen = j.at("va_spent_fen").get<std::int64_t>();
    l.credit_balance_fen = j.at("credit_balance_fen").get<std::int64_t>();
    l.received_fen = j.at("received_fen").get<std::int64_t>();
    l.cum_principal_fen = j.at("cum_principal_fen").get<std::int64_t>();
    l.cum_interest_fen = j.at("cum_interest_fen").get<std::int64_t>();
    l.cum_penalty_fen = j.at("cum_penalty_fen").get<std::int64_t>();
    l.collection_stage = j.at("collection_stage").get<std::string>();
    l.collection_since_day = j.at("collection_since_day").get<std::int64_t>();
    l.ptp_broken = j.at("ptp_broken").get<int>();
    l.no_contact_days = j.at("no_contact_days").get<int>();
    l.event_seq = j.at("event_seq").get<std::uint64_t>();
    l.use_deadline_day = j.value("use_deadline_day", std::int64_t{0});
    l.use_prompted_day = j.value("use_prompted_day", std::int64_t{0});
    l.misuse_day = j.value("misuse_day", std::int64_t{0});
    l.misused_fen = j.value("misused_fen", std::int64_t{0});
    l.attested_fen = j.value("attested_fen", std::int64_t{0});
    l.misuse_from_day = j.value("misuse_from_day", std::int64_t{0});
    if (l.misuse_from_day != 0) {
      auto r = RateFrom(j.at("misuse_surcharge_rate"));
      if (!r.ok()) return r.error();
      l.misuse_surcharge_rate = *r;
    }
    return l;
  } catch (const json::exception& e) {
    // The library's text goes to `detail`: it must not reach a receipt.
    return Error{"corrupt-loan", "loan record: a field is missing or has the wrong type", e.what()};
  }
}

std::int64_t Loan::Dpd(std::int64_t day) const {
  for (const InstallmentState& i : installments) {  // in due order
    if (i.due_day < day && !i.Paid()) return day - i.due_day;
  }
  return 0;
}

std::int64_t Loan::UnpostedPenalty(const InstallmentState& inst, std::int64_t day) const {
  if (inst.accrual_from_day == 0 || day <= inst.accrual_from_day) return 0;
  std::int64_t days = day - inst.accrual_from_day;
  std::int64_t p = AccrueFen(inst.PrincipalDue(), terms.overdue_daily_rate, days);
  if (terms.compound_enabled) p += AccrueFen(inst.InterestDue(), terms.overdue_daily_rate, days);
  return p;
}

std::int64_t Loan::UnpostedMisuse(const InstallmentState& inst, std::int64_t day) const {
  if (misuse_from_day == 0 || installments.empty()) return 0;
  const std::size_t k = static_cast<std::size_t>(&inst - installments.data());
  assert(k < installments.size());
  const std::int64_t period_start = k == 0 ? value_day : installments[k - 1].due_day;
  const std::int64_t from = std::max(period_start, misuse_from_day);
  const std::int64_t to = std::min(inst.due_day, day);
  if (to <= from) return 0;
  // The principal outstanding during this period (this installment's and every later one's, as
  // scheduled); of it, the misused money bears the surcharge (docs/lending-rules.md §6.5).
  std::int64_t outstanding = 0;
  for (std::size_t i = k; i < installments.size(); ++i) outstanding += installments[i].principal_fen;
  return AccrueFen(std::min(misused_fen, outstanding), misuse_surcharge_rate, to - from);
}

std::int64_t Loan::PenaltyDue(const InstallmentState& inst, std::int64_t day) const {
  return inst.penalty_posted_fen - inst.penalty_paid_fen + UnpostedPenalty(inst, day) + UnpostedMisuse(inst, day);
}

std::int64_t Loan::PrincipalOutstanding() const {
  std::int64_t total = 0;
  for (const InstallmentState& i : installments) total += i.PrincipalDue();
  return total;
}

std::int64_t Loan::OverdueTotal(std::int64_t day) const {
  std::int64_t total = 0;
  for (const InstallmentState& i : installments) {
    if (i.due_day < day) total += i.PrincipalDue() + i.InterestDue() + PenaltyDue(i, day);
  }
  return total;
}

std::int64_t Loan::SettlementQuote(std::int64_t day) const {
  std::int64_t billed = 0, unbilled_principal = 0, last_due = value_day;
  for (const InstallmentState& i : installments) {
    if (i.due_day <= day) {
      billed += i.PrincipalDue() + i.InterestDue() + PenaltyDue(i, day);
      last_due = std::max(last_due, i.due_day);
    } else {
      // A period not yet due owes no penalty, only the misuse surcharge accrued in it so far.
      unbilled_principal += i.PrincipalDue();
      billed += PenaltyDue(i, day);
    }
  }
  std::int64_t accrued = AccrueFen(unbilled_principal, terms.daily_rate, std::max<std::int64_t>(0, day - last_due));
  return billed + unbilled_principal + accrued;
}

const LenderShare* Loan::Lender(std::string_view member) const {
  for (const LenderShare& l : lenders) {
    if (l.member == member) return &l;
  }
  return nullptr;
}

LenderShare* Loan::Lender(std::string_view member) {
  for (LenderShare& l : lenders) {
    if (l.member == member) return &l;
  }
  return nullptr;
}

json Loan::View(std::int64_t day) const {
  json v;
  v["id"] = id;
  v["borrower"] = borrower;
  v["status"] = status;
  v["principal_fen"] = principal_fen;
  v["periods"] = periods;
  v["method"] = MethodName(terms.method);
  v["daily_rate"] = RationalText(terms.daily_rate);
  v["period_rate"] = RationalText(terms.period_rate);
  v["overdue_daily_rate"] = RationalText(terms.overdue_daily_rate);
  v["param_version"] = terms.param_version;
  v["business_date"] = FormatDate(day);
  bool live = status == "active" || status == "written-off";
  std::int64_t dpd = live ? Dpd(day) : 0;
  v["dpd"] = dpd;
  std::int64_t penalty = 0, interest_due = 0;
  for (const InstallmentState& i : installments) {
    penalty += PenaltyDue(i, day);  // not yet due: the misuse surcharge accrued so far, if any
    if (i.due_day <= day) interest_due += i.InterestDue();
  }
  v["principal_outstanding_fen"] = PrincipalOutstanding();
  v["interest_due_fen"] = interest_due;
  v["penalty_due_fen"] = penalty;
  v["outstanding_fen"] = (status == "closed" || status == "cancelled")
                             ? 0
                             : PrincipalOutstanding() + interest_due + penalty;
  v["overdue_fen"] = live ? OverdueTotal(day) : 0;
  v["settlement_quote_fen"] = live ? SettlementQuote(day) : 0;
  v["collection_stage"] = collection_stage;
  v["value_date"] = value_day > 0 ? FormatDate(value_day) : "";
  v["virtual_account"] = virtual_account;
  v["virtual_account_balance_fen"] = va_balance_fen;
  v["credit_balance_fen"] = credit_balance_fen;
  v["received_fen"] = received_fen;
  if (attested_fen != 0) v["attested_fen"] = attested_fen;  // use.attest's total (§6.5)
  if (misuse_day != 0) {  // R-IN-07 (docs/lending-rules.md §6.5)
    v["misuse_date"] = FormatDate(misuse_day);
    v["misused_fen"] = misused_fen;
    v["misuse_surcharge_daily_rate"] = RationalText(misuse_surcharge_rate);
  }
  v["schedule_sha256"] = schedule_sha256;
  std::int64_t next_due = 0;
  for (const InstallmentState& i : installments) {
    if (!i.Paid()) {
      next_due = i.due_day;
      break;
    }
  }
  v["next_due_date"] = next_due > 0 ? FormatDate(next_due) : "";
  json lenders_json = json::array();
  for (const LenderShare& l : lenders) {
    lenders_json.push_back({{"member", l.member},
                            {"role", l.role},
                            {"share_bps", l.share_bps},
                            {"funded_fen", l.funded_fen},
                            {"funding_confirmed", l.funding_confirmed},
                            {"principal_repaid_fen", l.principal_repaid_fen},
                            {"interest_repaid_fen", l.interest_repaid_fen},
                            {"penalty_repaid_fen", l.penalty_repaid_fen},
                            {"classification", ClassName(l.classification)},
                            {"credit_reported", l.reported},
                            {"written_off", l.written_off}});
  }
  v["lenders"] = lenders_json;
  json rows = json::array();
  for (const InstallmentState& i : installments) {
    std::string state = i.Paid() ? "paid" : i.due_day < day ? (dpd > terms.grace_days ? "overdue" : "grace") : "open";
    if (!i.Paid() && i.due_day < day && i.accrual_from_day == 0 && day - i.due_day <= terms.grace_days) state = "grace";
    else if (!i.Paid() && i.due_day < day) state = "overdue";
    rows.push_back({{"period", i.period},
                    {"due_date", FormatDate(i.due_day)},
                    {"principal_fen", i.principal_fen},
                    {"interest_fen", i.interest_fen},
                    {"principal_paid_fen", i.principal_paid_fen},
                    {"interest_paid_fen", i.interest_paid_fen},
                    {"penalty_fen", i.penalty_posted_fen + UnpostedPenalty(i, day) + UnpostedMisuse(i, day)},
                    {"penalty_paid_fen", i.penalty_paid_fen},
                    {"state", state}});
  }
  v["installments"] = rows;
  return v;
}

}  // namespace colend::contracts
