// The co-lending contracts: one function per transaction type, plus the daily post-loan rules run
// by the clock transactions. State layout: lending.h; the rules: docs/lending-rules.md.
//
// Every decision fills the receipt with the rule id that decided, a stable reason code, the
// parameter version and a hash of the decision's inputs: h0 = SHA-256(transaction body), then for
// every state record read h = SHA-256(h || "\n--- " || key || "\n" || value). Anyone holding the
// state before the transaction (any node, a regulator, an arbitrator) can replay the decision
// and recompute the hash.
#include "contracts/lending.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

#include "contracts/contract.h"
#include "contracts/fields.h"  // kAmountFenMax, kAdvanceDaysMax (also the admission bounds)
#include "contracts/loan_model.h"
#include "contracts/money.h"
#include "crypto/hash.h"

namespace colend::contracts {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kDayMs = 86400000;
constexpr std::int64_t kShanghaiOffsetMs = 8 * 3600 * 1000;
// No rule scans a capped prefix of the loans (docs/lending-rules.md §1.3): the daily rules find
// the loans due on a day through the wake index, and drawdown reads per-borrower and per-bank
// counters that every SaveLoan keeps current.
constexpr std::size_t kScanAll = std::numeric_limits<std::size_t>::max();

// A decision in progress: the transaction, the state, the receipt and what was read.
class Call {
 public:
  Call(const CallContext& call, StateOverlay* state, Receipt* receipt, std::string rule)
      : call_(call), state_(state), receipt_(receipt) {
    receipt_->rule = std::move(rule);
    today_ = BusinessDay(*state);
    params_ = CurrentParameters(*state);
    version_ = params_.value("version", 0);
    inputs_hash_ = crypto::Sha256(call.tx.body_text);
    receipt_->outputs["param-version"] = std::to_string(version_);
    receipt_->outputs["business-date"] = FormatDate(today_);
    Seal();
  }

  const CallContext& ctx() const { return call_; }
  StateOverlay* state() { return state_; }
  Receipt* receipt() { return receipt_; }
  std::int64_t today() const { return today_; }
  void set_today(std::int64_t day) { today_ = day; }
  const json& params() const { return params_; }
  int version() const { return version_; }
  std::int64_t events() const { return events_; }
  void ReloadParams() {
    params_ = CurrentParameters(*state_);
    version_ = params_.value("version", 0);
  }

  // Records a state value the decision depends on (for the inputs hash): a hash chain,
  // h = SHA-256(h || "\n--- " || key || "\n" || value), starting from SHA-256(tx body).
  void Read(std::string_view key, std::string_view value) {
    std::string link(crypto::AsBytes(inputs_hash_));
    link += "\n--- ";
    link += key;
    link += "\n";
    link += value;
    inputs_hash_ = crypto::Sha256(link);
    Seal();
  }
  std::optional<std::string> Get(const std::string& key) {
    auto v = state_->Get(key);
    if (v) Read(key, *v);
    return v;
  }

  void Reject(std::string rule, std::string code, std::string message) {
    receipt_->accepted = false;
    if (!rule.empty()) receipt_->rule = std::move(rule);
    receipt_->code = std::move(code);
    receipt_->message = std::move(message);
  }
  void Reject(const Error& e) { Reject("", e.code, e.message); }
  // Refused, but what the refusal caused (written before this call) stands.
  void RejectStanding(std::string rule, std::string code, std::string message) {
    Reject(std::move(rule), std::move(code), std::move(message));
    receipt_->keep_writes = true;
  }
  void Accept(std::string message) {
    receipt_->accepted = true;
    receipt_->code = "ok";
    receipt_->message = std::move(message);
  }
  void Out(const std::string& key, std::string value) { receipt_->outputs[key] = std::move(value); }
  void Out(const std::string& key, std::int64_t value) { Out(key, std::to_string(value)); }

  // Appends an event under `prefix`/<seq> (e.g. "loan-event/L1").
  void Event(const std::string& prefix, const std::string& rule, const std::string& name,
             json details = json::object()) {
    std::uint64_t seq = 0;
    if (auto s = state_->Get("event/seq")) seq = std::stoull(*s);
    ++seq;
    state_->Put("event/seq", std::to_string(seq));
    details["seq"] = seq;
    details["rule"] = rule;
    details["event"] = name;
    details["date"] = FormatDate(today_);
    details["height"] = call_.block.height;
    details["tx"] = crypto::ToHex(call_.tx.id);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%012llu", static_cast<unsigned long long>(seq));
    state_->Put(prefix + "/" + buf, details.dump());
    ++events_;
    Out("events", events_);
  }

  // Typed parameters (the set is validated at genesis and on every change).
  std::int64_t Int(const char* key) const { return params_.at(key).get<std::int64_t>(); }
  Rational Rate(const char* key) const {
    const json& r = params_.at(key);
    return Rational::Of(r.at("num").get<std::int64_t>(), r.at("den").get<std::int64_t>());
  }
  std::string Text(const char* key) const { return params_.at(key).get<std::string>(); }

  // Fields.
  const std::string* Field(const char* key) const { return call_.tx.body.Field(key); }
  Status OnlyFields(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : call_.tx.body.fields) {
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return MakeError("invalid-field", "unknown field '" + key + "' for " +
                                              call_.tx.body.type);
      }
    }
    return Status::Ok();
  }
  Result<std::string> Str(const char* key) const {
    const std::string* v = Field(key);
    if (v == nullptr || v->empty()) return MakeError("invalid-field", std::string("field '") + key + "' is required");
    return *v;
  }
  Result<std::int64_t> Int(const char* key, std::int64_t low, std::int64_t high) const {
    const std::string* v = Field(key);
    if (v == nullptr) return MakeError("invalid-field", std::string("field '") + key + "' is required");
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size()) {
      return MakeError("invalid-field", std::string("field '") + key + "' must be an integer, not '" + *v + "'");
    }
    if (n < low || n > high) {
      return MakeError("invalid-field", std::string("field '") + key + "' = " + *v + " is outside [" +
                                            std::to_string(low) + ", " + std::to_string(high) + "]");
    }
    return n;
  }
  Result<std::int64_t> IntOr(const char* key, std::int64_t low, std::int64_t high,
                              std::int64_t fallback) const {
    if (Field(key) == nullptr) return fallback;
    return Int(key, low, high);
  }
  Result<std::int64_t> Date(const char* key) const {
    auto s = Str(key);
    if (!s.ok()) return s.error();
    auto d = ParseDate(*s);
    if (!d.ok()) return MakeError("invalid-field", std::string("field '") + key + "': " + d.error().message);
    return *d;
  }
  Result<bool> YesNo(const char* key, bool fallback) const {
    const std::string* v = Field(key);
    if (v == nullptr) return fallback;
    if (*v == "yes") return true;
    if (*v == "no") return false;
    return MakeError("invalid-field", std::string("field '") + key + "' must be yes or no, not '" + *v + "'");
  }

 private:
  void Seal() {
    receipt_->outputs["inputs-sha256"] = crypto::ToHex(inputs_hash_);
  }

  const CallContext& call_;
  StateOverlay* state_;
  Receipt* receipt_;
  json params_;
  int version_ = 0;
  std::int64_t today_ = 0;
  crypto::Hash256 inputs_hash_{};
  std::int64_t events_ = 0;
};

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool IsLoanId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '_' || c == '.';
  });
}

std::string Fen(std::int64_t fen) { return FormatCny(fen) + " CNY"; }

// ---------------------------------------------------------------------------------------------
// Records

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
  return Loan::FromText(*v);
}

// The first business day the daily rules can change anything for a loan: every day while it is
// overdue, written off or waiting for funding; otherwise its next due date.
std::int64_t WakeDay(const Loan& loan, std::int64_t today) {
  if (loan.status == "active" && loan.Dpd(today) == 0) {
    for (const InstallmentState& i : loan.installments) {
      if (!i.Paid()) return i.due_day;
    }
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
  c.state()->Put("loan/" + loan.id, loan.ToText());
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
               json details = json::object()) {
  details["loan"] = loan.id;
  c.Event("loan-event/" + loan.id, rule, name, std::move(details));
}

void BorrowerEvent(Call& c, const std::string& borrower, const std::string& rule,
                   const std::string& name, json details = json::object()) {
  details["borrower"] = borrower;
  c.Event("borrower-event/" + borrower, rule, name, std::move(details));
}

std::vector<int> Shares(const Loan& loan) {
  std::vector<int> s;
  for (const LenderShare& l : loan.lenders) s.push_back(l.share_bps);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Repayment allocation (R-IN-05): the waterfall and the cumulative split per component.

struct Allocation {
  std::int64_t principal = 0, interest = 0, penalty = 0;
  std::map<std::string, std::array<std::int64_t, 3>> per_lender;  // principal, interest, penalty
};

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

// ---------------------------------------------------------------------------------------------
// Borrower limit bookkeeping

Status AdjustUsed(Call& c, const std::string& borrower, std::int64_t delta) {
  auto b = LoadJson(c, "borrower/" + borrower, "borrower");
  if (!b.ok()) return b.error();
  std::int64_t used = b->value("used_fen", std::int64_t{0}) + delta;
  assert(used >= 0);
  (*b)["used_fen"] = used;
  c.state()->Put("borrower/" + borrower, b->dump());
  return Status::Ok();
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

// ---------------------------------------------------------------------------------------------
// Post-loan rules for one loan on one business day (R-POST-01 .. R-POST-05), idempotent per day.

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
    LoanClass next = ClassFor(c, l.role, dpd);
    // An NPL class moves up only when every overdue amount is cleared.
    if (next < l.classification && l.classification >= LoanClass::kSubstandard && dpd > 0) continue;
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
    bool ai_failed = loan.ptp_broken >= p.at("ai_fail_ptp_broken").get<int>() ||
                     loan.no_contact_days >= p.at("ai_fail_no_contact_days").get<int>();
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
  // Credit held from earlier payments settles what falls due (auto-debit on the due date).
  if (loan.credit_balance_fen > 0) {
    Allocation a;
    std::int64_t before = loan.credit_balance_fen;
    loan.credit_balance_fen = ApplyToBilled(loan, day, loan.credit_balance_fen, &a);
    if (before != loan.credit_balance_fen) {
      LoanEvent(c, loan, "R-IN-05", "CREDIT_APPLIED", {{"amount_fen", before - loan.credit_balance_fen}, {"allocation", AllocationJson(a)}});
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
    if (day - inst.due_day > loan.terms.grace_days && inst.accrual_from_day == 0 &&
        inst.penalty_posted_fen == inst.penalty_paid_fen) {
      inst.accrual_from_day = inst.due_day + 1;
      LoanEvent(c, loan, "R-POST-02", "OVERDUE_STARTED",
                {{"period", inst.period},
                 {"overdue_principal_fen", inst.PrincipalDue()},
                 {"overdue_interest_fen", inst.InterestDue()},
                 {"penalty_from", FormatDate(inst.accrual_from_day)},
                 {"overdue_daily_rate", std::to_string(loan.terms.overdue_daily_rate.num) + "/" +
                                            std::to_string(loan.terms.overdue_daily_rate.den)}});
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

// Activates approved parameter changes whose effective date has come (R-GOV-01).
// Approved proposals are indexed under "param-due/<effective day, 10 digits>/<proposal id>".
void ActivateParams(Call& c, std::int64_t day) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010lld", static_cast<long long>(day));
  const std::string prefix = "param-due/" + std::string(digits) + "/";
  for (auto& [due_key, unused] : c.state()->Scan(prefix, kScanAll)) {
    c.state()->Erase(due_key);
    const std::string key = "proposal/" + due_key.substr(prefix.size());
    auto text = c.state()->Get(key);
    if (!text) continue;
    json p = json::parse(*text, nullptr, false);
    if (!p.is_object() || p.value("status", "") != "approved") continue;
    json params = CurrentParameters(*c.state());
    int version = params.value("version", 1) + 1;
    for (auto& [k, v] : p.at("changes").items()) params[k] = v;
    // Other changes may have taken effect since this one was proposed: the merged set is checked
    // again, and a set that no longer holds together does not take effect.
    if (Status merged = ValidateParameters(params); !merged.ok()) {
      p["status"] = "rejected";
      p["rejected_reason"] = merged.error().message;
      c.state()->Put(key, p.dump());
      c.Event("param-event", "R-GOV-01", "PARAM_REJECTED",
              {{"proposal", p.value("id", "")}, {"reason", merged.error().message}});
      continue;
    }
    params["version"] = version;
    c.state()->Put("params/v" + std::to_string(version), params.dump());
    c.state()->Put("params/current-version", std::to_string(version));
    p["status"] = "active";
    p["version"] = version;
    c.state()->Put(key, p.dump());
    c.Event("param-event", "R-GOV-01", "PARAM_CHANGED",
            {{"version", version}, {"proposal", p.value("id", "")}, {"changes", p.at("changes")}});
    c.ReloadParams();
  }
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
    if (l.funding_confirmed) {
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
// (and re-indexed for the next day it needs) before the next one, so a multi-day advance holds
// only one loan in memory, never the whole book.
void AdvanceTo(Call& c, std::int64_t target) {
  std::int64_t day = c.today();
  while (day < target) {
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
    }
  }
  c.state()->Put("clock/business-day", std::to_string(target));
  c.Out("business-date", FormatDate(target));
}

// ---------------------------------------------------------------------------------------------
// Transactions

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
  AdvanceTo(c, target);
  c.Accept("business date is now " + FormatDate(target));
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
  AdvanceTo(c, from + *days);
  c.Accept("business date advanced " + std::to_string(*days) + " days from " + FormatDate(from) +
           " to " + FormatDate(from + *days));
}

// bureau.snapshot (credit bureau): the borrower's borrowing at other institutions, attested.
// For an admitted borrower it also runs the behaviour warnings (R-POST-06).
void BureauSnapshot(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-PRE-02");
  if (auto s = c.OnlyFields({"borrower", "institutions", "outstanding-fen", "limits-fen",
                             "overdue-count", "queries-90d", "max-dpd", "total-loans-fen",
                             "liquid-assets-fen", "valid-until"});
      !s.ok()) {
    return c.Reject(s.error());
  }
  auto borrower = c.Str("borrower");
  if (!borrower.ok()) return c.Reject(borrower.error());
  if (!IsLowerHex64(*borrower)) {
    return c.Reject("", "invalid-field", "borrower must be a pseudonymous id: 64 lowercase hex digits (a salted SHA-256), never a name or an ID number");
  }
  auto inst = c.Int("institutions", 0, 1000);
  auto outstanding = c.Int("outstanding-fen", 0, kAmountFenMax);
  auto limits = c.Int("limits-fen", 0, kAmountFenMax);
  auto overdue = c.Int("overdue-count", 0, 100000);
  auto queries = c.Int("queries-90d", 0, 100000);
  auto max_dpd = c.IntOr("max-dpd", 0, 100000, 0);
  auto total = c.IntOr("total-loans-fen", 0, kAmountFenMax, 0);
  auto liquid = c.IntOr("liquid-assets-fen", 0, kAmountFenMax, 0);
  auto valid = c.Date("valid-until");
  for (auto* r : {&inst, &outstanding, &limits, &overdue, &queries, &max_dpd, &total, &liquid, &valid}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (*valid < c.today()) return c.Reject("", "invalid-field", "valid-until is before the business date " + FormatDate(c.today()));
  json snap = {{"borrower", *borrower}, {"institutions", *inst}, {"outstanding_fen", *outstanding},
               {"limits_fen", *limits}, {"overdue_count", *overdue}, {"queries_90d", *queries},
               {"max_dpd", *max_dpd}, {"total_loans_fen", *total}, {"liquid_assets_fen", *liquid},
               {"taken_day", c.today()}, {"valid_until_day", *valid},
               {"tx", crypto::ToHex(call.tx.id)}};
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
    rec["status"] = "review";
    rec["review_reason"] = "risk-warnings";
    state->Put("borrower/" + *borrower, rec.dump());
    BorrowerEvent(c, *borrower, "R-POST-06", "LIMIT_FROZEN", {{"unused_fen", rec.value("limit_fen", std::int64_t{0}) - rec.value("used_fen", std::int64_t{0})}});
    BorrowerEvent(c, *borrower, "R-PRE-05", "REVIEW_TRIGGERED", {{"reason", "risk-warnings"}});
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
                             "blacklist", "product"});
      !s.ok()) {
    return c.Reject(s.error());
  }
  auto borrower = c.Str("borrower");
  if (!borrower.ok()) return c.Reject(borrower.error());
  if (!IsLowerHex64(*borrower)) {
    return c.Reject("", "invalid-field", "borrower must be a pseudonymous id: 64 lowercase hex digits (a salted SHA-256), never a name or an ID number");
  }
  auto kyc = c.Int("kyc-level", 0, 9);
  auto kyc_date = c.Date("kyc-date");
  auto consent_date = c.Date("consent-date");
  auto query = c.YesNo("consent-credit-query", false);
  auto colending = c.YesNo("consent-colending", false);
  auto score = c.Int("score", 0, 1000);
  auto age = c.Int("age", 0, 150);
  auto model = c.Str("model");
  for (auto* r : {&kyc, &kyc_date, &consent_date, &score, &age}) {
    if (!r->ok()) return c.Reject(r->error());
  }
  if (!query.ok()) return c.Reject(query.error());
  if (!colending.ok()) return c.Reject(colending.error());
  if (!model.ok()) return c.Reject(model.error());
  std::string blacklist = c.Field("blacklist") ? *c.Field("blacklist") : "none";
  std::string product = c.Field("product") ? *c.Field("product") : "consumer";
  if (product != "consumer" && product != "business") {
    return c.Reject("", "invalid-field", "product must be consumer or business, not '" + product + "'");
  }
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
    bool ok = snap.value("overdue_count", std::int64_t{0}) == 0 &&
              snap.value("outstanding_fen", std::int64_t{0}) * 10000 <= c.Int("multi_lender_utilisation_max_bps") * snap.value("limits_fen", std::int64_t{0}) &&
              n_inst <= c.Int("multi_lender_max_institutions") &&
              snap.value("queries_90d", std::int64_t{0}) <= c.Int("multi_lender_max_queries_90d");
    if (!ok) {
      BorrowerEvent(c, *borrower, "R-PRE-02", "ADMISSION_REJECTED", {{"reason", "multi-lender"}});
      return c.Reject("R-PRE-02", "multi-lender-rejected", "borrowing at " + std::to_string(n_inst) + " institutions without a clean record (overdue " + std::to_string(snap.value("overdue_count", 0)) + ", utilisation or enquiries above the limits)");
    }
  }
  // R-PRE-03
  const json& models = c.params().at("models");
  if (!models.contains(*model)) {
    return c.Reject("R-PRE-03", "model-not-registered", "model version '" + *model + "' is not registered in the parameters");
  }
  std::int64_t min_score = models.at(*model).at("min_score").get<std::int64_t>();
  if (*score < min_score) return c.Reject("R-PRE-03", "score-below-threshold", "score " + std::to_string(*score) + " is below " + std::to_string(min_score) + " for model " + *model);
  if (blacklist != "none") return c.Reject("R-PRE-03", "blacklisted", "blacklist hit: " + blacklist);
  if (*age < c.Int("age_min") || *age > c.Int("age_max")) {
    return c.Reject("R-PRE-03", "age-out-of-range", "age " + std::to_string(*age) + " is outside [" + std::to_string(c.Int("age_min")) + ", " + std::to_string(c.Int("age_max")) + "]");
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
  json rec = json::object();
  std::int64_t used = 0;
  if (auto existing = c.Get("borrower/" + *borrower)) {
    json old = json::parse(*existing, nullptr, false);
    used = old.value("used_fen", std::int64_t{0});
    if (old.value("status", "") == "locked") return c.Reject("R-IN-01", "account-locked", "the borrower's account is locked after failed verifications");
  }
  rec = {{"borrower", *borrower}, {"status", "active"}, {"limit_fen", limit}, {"used_fen", used},
         {"frozen", false}, {"risk_tier", "normal"}, {"multi_lender", multi}, {"model", *model},
         {"score", *score}, {"product", product}, {"institutions_at_admission", n_inst},
         {"admitted_day", c.today()},
         {"next_review_day", c.today() + c.Int("review_period_days")}, {"review_reason", ""},
         {"auth_failures", 0}};
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
  (*rec)["status"] = "review";
  (*rec)["review_reason"] = "major-change:" + *change;
  state->Put("borrower/" + *borrower, rec->dump());
  BorrowerEvent(c, *borrower, "R-PRE-05", "REVIEW_TRIGGERED", {{"reason", "major-change:" + *change}});
  c.Accept("review triggered: new drawdowns are blocked until the borrower is re-admitted");
}

int AuthLevelRank(std::string_view level) {
  return level == "none" ? 0 : level == "sms" ? 1 : level == "face" ? 2 : -1;
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
    return c.Reject("R-IN-02", "rate-out-of-range", "daily rate " + std::to_string(daily.num) + "/" + std::to_string(daily.den) + " is outside the allowed range");
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
  std::string bstatus = rec->value("status", "");
  if (bstatus == "locked") return c.Reject("R-IN-01", "account-locked", "the borrower's account is locked after failed verifications");
  if (bstatus != "active") return c.Reject("R-PRE-05", "review-pending", "the borrower is under review (" + rec->value("review_reason", std::string("")) + "): drawdowns are blocked until re-admission");
  if (c.today() >= rec->value("next_review_day", std::int64_t{0})) return c.Reject("R-PRE-05", "review-due", "the periodic review date has passed: re-admit the borrower first");
  if (!c.params().at("models").contains(rec->value("model", ""))) return c.Reject("R-PRE-05", "review-due", "the borrower's model version is no longer registered: re-admit with the current model");
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
  const std::int64_t active = Counter(*state, "count/open-loans/" + *borrower);
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
  std::string partner;
  for (const auto& [mid, m] : call.rules.members) {
    if (m.role == "partner_bank") {
      partner = mid;
      break;
    }
  }
  if (partner.empty()) return c.Reject("R-PRE-06", "no-partner", "the consortium has no partner bank");
  // Concentration (银保监办发〔2021〕24号): for each bank, the co-funded balance with its partner
  // after this drawdown ≤ single_partner_cap_bps of its Tier-1 net capital, and all co-funded
  // loans ≤ total_colend_cap_bps of its total loans; both from the bank's own attested figures.
  // One split for funding and repayment (docs/lending-rules.md §2.7): each leg is the lender's
  // split of the whole principal, so principal repaid in full returns exactly what it funded,
  // whatever the split method and the drawdown unit.
  auto split = ParseSplitMethod(c.Text("split_method"));
  assert(split.ok());
  const std::vector<std::int64_t> legs =
      SplitTargets(*split, {static_cast<int>(lead_bps), static_cast<int>(partner_bps)}, *amount);
  const std::int64_t partner_amt = legs[1];
  for (const auto& [member, leg] : {std::pair{call.sender.id, *amount - partner_amt}, std::pair{partner, partner_amt}}) {
    auto figures_text = c.Get("bank-figures/" + member);
    json figures = figures_text ? json::parse(*figures_text, nullptr, false) : json();
    if (!figures.is_object() || figures.value("valid_until_day", std::int64_t{0}) < c.today()) {
      return c.Reject("R-PRE-06", "bank-figures-missing", member + " has no current attested Tier-1 capital and total loans (bank.figures): the allocation is pending");
    }
    std::int64_t after = Counter(*state, "count/cofunded/" + member) + leg;
    std::int64_t tier1 = figures.value("tier1_capital_fen", std::int64_t{0});
    std::int64_t total = figures.value("total_loans_fen", std::int64_t{0});
    // 128-bit: balances × 10000 can exceed int64 for a large bank.
    if (static_cast<__int128>(after) * 10000 > static_cast<__int128>(c.Int("single_partner_cap_bps")) * tier1) {
      return c.Reject("R-PRE-06", "colend-cap-exceeded", member + "'s co-funded balance would be " + Fen(after) + ", above " + std::to_string(c.Int("single_partner_cap_bps") / 100) + " % of its Tier-1 net capital " + Fen(tier1));
    }
    if (static_cast<__int128>(after) * 10000 > static_cast<__int128>(c.Int("total_colend_cap_bps")) * total) {
      return c.Reject("R-PRE-06", "colend-cap-exceeded", member + "'s co-funded loans would be " + Fen(after) + ", above " + std::to_string(c.Int("total_colend_cap_bps") / 100) + " % of its total loans " + Fen(total));
    }
  }
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
  LoanEvent(c, loan, "R-PRE-06", "COLEND_ALLOCATED", {{"lead", {{"member", call.sender.id}, {"share_bps", lead_bps}, {"amount_fen", *amount - partner_amt}}}, {"partner", {{"member", partner}, {"share_bps", partner_bps}, {"amount_fen", partner_amt}}}});
  SaveLoan(c, loan);
  c.Out("loan", *id);
  c.Out("lead-leg-fen", *amount - partner_amt);
  c.Out("partner-leg-fen", partner_amt);
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
  LoanEvent(c, *loan, "R-IN-03", "LOAN_DISBURSED", {{"amount_fen", *amount}, {"virtual_account", *account}, {"value_date", FormatDate(loan->value_day)}, {"payee", call.sender.id}});
  SaveLoan(c, *loan);
  c.Out("loan-status", "active");
  c.Accept(Fen(*amount) + " credited to the restricted virtual account " + *account);
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
  std::string blocked;
  if (*cp != "merchant") blocked = "payments to " + *cp + " are not allowed (merchants only: no transfers to self or individuals)";
  else if (*channel == "cash" || *channel == "transfer") blocked = "channel '" + *channel + "' is not allowed (no cash-out, no transfers)";
  else {
    for (const json& m : c.params().at("prohibited_mcc")) {
      if (m.get<std::string>() == *mcc) blocked = "merchant category " + *mcc + " is prohibited for loan money";
    }
  }
  if (!blocked.empty()) {
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
  if (loan->Dpd(c.today()) == 0) {
    for (LenderShare& l : loan->lenders) {
      if (l.reported) {
        l.reported = false;
        state->Erase("credit-report/" + loan->id + "/" + l.member);
        LoanEvent(c, *loan, "R-POST-03", "CREDIT_REPORT_UPDATE", {{"lender", l.member}, {"status", "cured"}});
      }
    }
  }
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
  if (loan->status != "active" && loan->status != "written-off") return c.Reject("", "wrong-state", "loan " + *id + " is " + loan->status);
  if (me->written_off) return c.Reject("", "already-written-off", "already written off by " + call.sender.id);
  auto min_class = ParseClass(c.Text("writeoff_min_class"));
  assert(min_class.ok());
  if (me->classification < *min_class) {
    return c.Reject("R-POST-07", "class-too-high", call.sender.id + "'s share is " + std::string(ClassName(me->classification)) + "; write-off needs " + std::string(ClassName(*min_class)));
  }
  me->written_off = true;
  bool all = std::all_of(loan->lenders.begin(), loan->lenders.end(), [](const LenderShare& l) { return l.written_off; });
  if (all) loan->status = "written-off";
  LoanEvent(c, *loan, "R-POST-07", "LOAN_WRITTEN_OFF", {{"lender", call.sender.id}, {"principal_outstanding_fen", loan->PrincipalOutstanding()}});
  SaveLoan(c, *loan);
  c.Accept("share written off by " + call.sender.id + "; later recoveries still go through the cumulative split");
}

// ---------------------------------------------------------------------------------------------
// Parameter governance (R-GOV-01)

// R-GOV-01: a change of a money term needs every lending bank's approval. The lists are explicit
// (docs/lending-rules.md §9): a name that is in neither list is a money term, so a new parameter
// never slips through as operational.
constexpr std::string_view kOperationalTerms[] = {
    "age_min", "age_max", "ai_collection_max_dpd", "ai_fail_no_contact_days", "ai_fail_ptp_broken",
    "auth_high_amount_fen", "auth_t_large", "auth_validity_minutes", "auth_w_counterparty",
    "auth_w_device", "auth_w_location", "auth_w_phone", "collection_agencies",
    "consent_validity_days", "ext_overdue_min_dpd", "funding_timeout_minutes", "kyc_min_level",
    "litigation_after_days", "litigation_min_amount_fen", "litigation_min_dpd",
    "max_auth_failures", "models", "outsourced_min_amount_fen", "prohibited_mcc",
    "report_delay_hours", "review_period_days", "snapshot_max_age_days"};

bool IsMoneyTerm(const std::string& key) {
  for (std::string_view op : kOperationalTerms) {
    if (key == op) return false;
  }
  return true;  // rates, fees, shares, limits, caps, day basis, compounding, grace, method, ...
}

// Checks a changed parameter set against the hard bounds of the profile.
Status CheckBounds(const json& params) {
  const json& bounds = params.at("bounds");
  for (auto& [key, range] : bounds.items()) {
    if (!params.contains(key)) continue;
    const json& v = params.at(key);
    // range is a structured binding: named in an init-capture for clang < 16 (the fuzz build).
    auto check_int = [&, &range = range](std::int64_t x, const std::string& what) -> Status {
      if (x < range[0].get<std::int64_t>() || x > range[1].get<std::int64_t>()) {
        return MakeError("out-of-bounds", what + " = " + std::to_string(x) + " is outside the hard bounds [" + range[0].dump() + ", " + range[1].dump() + "]");
      }
      return Status::Ok();
    };
    if (v.is_number_integer()) {
      COLEND_RETURN_IF_ERROR(check_int(v.get<std::int64_t>(), key));
    } else if (v.is_object() && v.contains("num")) {
      Rational x = Rational::Of(v.at("num").get<std::int64_t>(), v.at("den").get<std::int64_t>());
      Rational lo = Rational::Of(range[0].at("num").get<std::int64_t>(), range[0].at("den").get<std::int64_t>());
      Rational hi = Rational::Of(range[1].at("num").get<std::int64_t>(), range[1].at("den").get<std::int64_t>());
      if (LessThan(x, lo) || LessThan(hi, x)) {
        return MakeError("out-of-bounds", key + " = " + std::to_string(x.num) + "/" + std::to_string(x.den) + " is outside the hard bounds");
      }
    } else if (v.is_object()) {  // per-role integers, e.g. substandard_dpd
      for (auto& [role, x] : v.items()) {
        if (!x.is_number_integer()) return MakeError("invalid-parameter", key + "." + role + " must be an integer");
        COLEND_RETURN_IF_ERROR(check_int(x.get<std::int64_t>(), key + "." + role));
      }
    }
  }
  if (params.at("lead_share_bps").get<std::int64_t>() + params.at("partner_share_bps").get<std::int64_t>() != 10000) {
    return MakeError("out-of-bounds", "lead_share_bps + partner_share_bps must be 10000");
  }
  return Status::Ok();
}

void ParamPropose(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-GOV-01");
  if (auto s = c.OnlyFields({"proposal", "changes", "effective-date"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("proposal");
  auto changes_text = c.Str("changes");
  auto effective = c.Date("effective-date");
  if (!id.ok()) return c.Reject(id.error());
  if (!changes_text.ok()) return c.Reject(changes_text.error());
  if (!effective.ok()) return c.Reject(effective.error());
  if (!IsLoanId(*id)) return c.Reject("", "invalid-field", "proposal id must be 1-64 of [A-Za-z0-9._-]");
  if (state->Get("proposal/" + *id)) return c.Reject("", "duplicate-proposal", "proposal '" + *id + "' exists");
  json changes = json::parse(*changes_text, nullptr, false);
  if (!changes.is_object() || changes.empty()) return c.Reject("", "invalid-field", "changes must be a non-empty JSON object of parameter: value");
  if (*effective <= c.today()) return c.Reject("R-GOV-01", "effective-date-not-future", "changes take effect only from a future business date (after " + FormatDate(c.today()) + ")");
  json next = c.params();
  bool money = false;
  for (auto& [key, value] : changes.items()) {
    if (key == "version" || key == "bounds") return c.Reject("R-GOV-01", "not-changeable", "'" + key + "' cannot be changed by a proposal");
    if (!next.contains(key)) return c.Reject("R-GOV-01", "unknown-parameter", "'" + key + "' is not a parameter");
    if (next.at(key).type() != value.type() && !(next.at(key).is_number_integer() && value.is_number_integer())) {
      return c.Reject("R-GOV-01", "invalid-parameter", "'" + key + "' must keep its type (" + std::string(next.at(key).type_name()) + ")");
    }
    if (value.is_number_float()) return c.Reject("R-GOV-01", "invalid-parameter", "no floating point: use integers or {num, den}");
    next[key] = value;
    money |= IsMoneyTerm(key);
  }
  Status valid = ValidateParameters(next);
  if (!valid.ok()) return c.Reject("R-GOV-01", "out-of-bounds", valid.error().message);
  json p = {{"id", *id}, {"changes", changes}, {"effective_day", *effective},
            {"effective_date", FormatDate(*effective)}, {"proposer", call.sender.id},
            {"approvals", json::array({call.sender.id})}, {"money_terms", money},
            {"status", "proposed"}, {"proposed_day", c.today()}};
  state->Put("proposal/" + *id, p.dump());
  c.Event("param-event", "R-GOV-01", "PARAM_PROPOSED", {{"proposal", *id}, {"changes", changes}, {"effective_date", FormatDate(*effective)}});
  c.Out("proposal", *id);
  c.Accept("proposal " + *id + " recorded with 1 approval; needs a majority of members" + std::string(money ? " including every lending bank (money terms)" : ""));
}

void ParamApprove(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  Call c(call, state, receipt, "R-GOV-01");
  if (auto s = c.OnlyFields({"proposal"}); !s.ok()) return c.Reject(s.error());
  auto id = c.Str("proposal");
  if (!id.ok()) return c.Reject(id.error());
  auto p = LoadJson(c, "proposal/" + *id, "proposal");
  if (!p.ok()) return c.Reject(p.error());
  if ((*p)["status"] != "proposed") return c.Reject("", "wrong-state", "proposal " + *id + " is " + (*p)["status"].get<std::string>());
  std::set<std::string> approvals = (*p)["approvals"].get<std::set<std::string>>();
  if (!approvals.insert(call.sender.id).second) return c.Reject("", "already-approved", call.sender.id + " already approved " + *id);
  (*p)["approvals"] = approvals;
  std::size_t needed = call.rules.members.size() / 2 + 1;
  bool lenders_ok = true;
  if ((*p)["money_terms"].get<bool>()) {
    for (const auto& [mid, m] : call.rules.members) {
      if ((m.role == "lead_bank" || m.role == "partner_bank") && !approvals.count(mid)) lenders_ok = false;
    }
  }
  bool approved = approvals.size() >= needed && lenders_ok;
  if (approved) {
    if ((*p)["effective_day"].get<std::int64_t>() <= c.today()) {
      return c.Reject("R-GOV-01", "effective-date-passed", "the effective date has passed before the proposal was approved; propose again");
    }
    (*p)["status"] = "approved";
    char digits[24];
    std::snprintf(digits, sizeof digits, "%010lld",
                  static_cast<long long>((*p)["effective_day"].get<std::int64_t>()));
    state->Put("param-due/" + std::string(digits) + "/" + *id, "");
    c.Event("param-event", "R-GOV-01", "PARAM_APPROVED", {{"proposal", *id}, {"approvals", approvals}, {"effective_date", (*p)["effective_date"]}});
  }
  state->Put("proposal/" + *id, p->dump());
  c.Out("approvals", static_cast<std::int64_t>(approvals.size()));
  c.Out("proposal-status", (*p)["status"].get<std::string>());
  c.Accept(approved ? "proposal approved; takes effect on " + (*p)["effective_date"].get<std::string>()
                    : "approval recorded (" + std::to_string(approvals.size()) + " of " + std::to_string(needed) + " needed" + (lenders_ok ? "" : ", and every lending bank") + ")");
}

}  // namespace

Status ValidateParameters(const nlohmann::json& params) {
  auto bad = [](std::string m) { return MakeError("invalid-parameter", std::move(m)); };
  if (!params.is_object()) return bad("the parameters must be a JSON object");
  static const char* kInts[] = {
      "min_limit_fen", "min_draw_fen", "draw_unit_fen", "max_concurrent_loans", "grace_days",
      "max_total_annual_cost_bps", "report_delay_hours", "special_mention_dpd", "doubtful_dpd",
      "loss_dpd", "ai_collection_max_dpd", "multi_lender_min_institutions",
      "multi_lender_lookback_months", "multi_lender_utilisation_max_bps",
      "multi_lender_max_institutions", "multi_lender_max_queries_90d", "multi_lender_haircut_bps",
      "lead_share_bps", "partner_share_bps", "share_min_bps", "share_max_bps",
      "max_credit_limit_fen", "max_business_limit_fen", "max_single_draw_fen", "kyc_min_level",
      "consent_validity_days", "snapshot_max_age_days", "limit_unit_fen", "age_min", "age_max",
      "review_period_days", "auth_w_device", "auth_w_phone", "auth_w_counterparty",
      "auth_w_location", "auth_t_large", "auth_high_amount_fen", "max_auth_failures",
      "auth_validity_minutes", "funding_timeout_minutes", "day_basis", "ai_fail_ptp_broken",
      "ai_fail_no_contact_days", "litigation_min_dpd", "litigation_after_days",
      "litigation_min_amount_fen", "outsourced_min_amount_fen", "ext_overdue_min_dpd",
      "leverage_max_bps", "single_partner_cap_bps", "total_colend_cap_bps"};
  for (const char* k : kInts) {
    if (!params.contains(k) || !params[k].is_number_integer() || params[k].get<std::int64_t>() < 0) {
      return bad(std::string(k) + " must be a non-negative integer");
    }
  }
  for (const char* k : {"daily_rate_min", "daily_rate_max", "default_daily_rate", "penalty_multiplier"}) {
    const json* r = params.contains(k) ? &params[k] : nullptr;
    if (!r || !r->is_object() || !r->contains("num") || !r->contains("den") ||
        !(*r)["num"].is_number_integer() || !(*r)["den"].is_number_integer() ||
        (*r)["num"].get<std::int64_t>() < 0 || (*r)["den"].get<std::int64_t>() <= 0) {
      return bad(std::string(k) + " must be {\"num\": n, \"den\": d} with n >= 0, d > 0");
    }
  }
  auto one_of = [&](const char* k, std::initializer_list<std::string_view> allowed) -> Status {
    if (!params.contains(k) || !params[k].is_string()) return bad(std::string(k) + " must be a string");
    std::string v = params[k].get<std::string>();
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      return bad(std::string(k) + " = '" + v + "' is not an allowed value");
    }
    return Status::Ok();
  };
  COLEND_RETURN_IF_ERROR(one_of("amortization_method", {"equal-installment", "equal-principal"}));
  COLEND_RETURN_IF_ERROR(one_of("rounding", {"half-up"}));
  COLEND_RETURN_IF_ERROR(one_of("split_method", {"cumulative-floor-lead-remainder", "largest-remainder"}));
  COLEND_RETURN_IF_ERROR(one_of("annuity_rate_rule", {"daily-x30", "daily-x365/12"}));
  COLEND_RETURN_IF_ERROR(one_of("writeoff_min_class", {"special-mention", "substandard", "doubtful", "loss"}));
  if (!params.contains("compound_enabled") || !params["compound_enabled"].is_boolean()) return bad("compound_enabled must be true or false");
  if (!params.contains("terms") || !params["terms"].is_array() || params["terms"].empty()) return bad("terms must be a non-empty array");
  for (const json& t : params["terms"]) {
    if (!t.is_number_integer() || t.get<std::int64_t>() < 1 || t.get<std::int64_t>() > 360) return bad("terms must be integers in 1..360");
  }
  const json* sub = params.contains("substandard_dpd") ? &params["substandard_dpd"] : nullptr;
  if (!sub || !sub->is_object() || !sub->contains("lead_bank") || !sub->contains("partner_bank")) {
    return bad("substandard_dpd must give lead_bank and partner_bank");
  }
  if (!params.contains("models") || !params["models"].is_object() || params["models"].empty()) return bad("models must name at least one model version");
  for (auto& [name, m] : params["models"].items()) {
    if (!m.is_object() || !m.contains("min_score") || !m["min_score"].is_number_integer()) return bad("models." + name + ".min_score must be an integer");
  }
  if (!params.contains("limit_bands") || !params["limit_bands"].is_array()) return bad("limit_bands must be an array");
  for (const json& b : params["limit_bands"]) {
    if (!b.is_object() || !b.contains("min_score") || !b["min_score"].is_number_integer() ||
        !b.contains("limit_fen") || !b["limit_fen"].is_number_integer()) {
      return bad("limit_bands entries must be {min_score, limit_fen}");
    }
  }
  if (!params.contains("prohibited_mcc") || !params["prohibited_mcc"].is_array()) return bad("prohibited_mcc must be an array");
  for (const json& m : params["prohibited_mcc"]) {
    if (!m.is_string()) return bad("prohibited_mcc entries must be strings");
  }
  if (!params.contains("collection_agencies") || !params["collection_agencies"].is_array()) return bad("collection_agencies must be an array");
  for (const json& a : params["collection_agencies"]) {
    if (!a.is_object() || !a.contains("id") || !a["id"].is_string() || !a.contains("stage") ||
        !a["stage"].is_string() || !a.contains("violent_record") || !a["violent_record"].is_boolean()) {
      return bad("collection_agencies entries must be {id, stage, violent_record}");
    }
  }
  if (!params.contains("bounds") || !params["bounds"].is_object()) return bad("bounds must be an object");
  for (auto& [key, range] : params["bounds"].items()) {
    if (!range.is_array() || range.size() != 2) return bad("bounds." + key + " must be [low, high]");
  }
  if (params["day_basis"] != 360 && params["day_basis"] != 365) return bad("day_basis must be 360 or 365");
  // Relations between parameters (each bound alone is not enough): a lower bound above its upper
  // bound would make admission's clamp undefined and every drawdown impossible.
  auto le = [&](const char* low, const char* high) -> Status {
    if (params[low].get<std::int64_t>() > params[high].get<std::int64_t>()) {
      return bad(std::string(low) + " (" + params[low].dump() + ") must not exceed " + high + " (" +
                 params[high].dump() + ")");
    }
    return Status::Ok();
  };
  COLEND_RETURN_IF_ERROR(le("min_limit_fen", "max_credit_limit_fen"));
  COLEND_RETURN_IF_ERROR(le("min_limit_fen", "max_business_limit_fen"));
  COLEND_RETURN_IF_ERROR(le("min_draw_fen", "max_single_draw_fen"));
  COLEND_RETURN_IF_ERROR(le("share_min_bps", "share_max_bps"));
  COLEND_RETURN_IF_ERROR(le("age_min", "age_max"));
  COLEND_RETURN_IF_ERROR(le("special_mention_dpd", "doubtful_dpd"));
  COLEND_RETURN_IF_ERROR(le("doubtful_dpd", "loss_dpd"));
  COLEND_RETURN_IF_ERROR(le("multi_lender_min_institutions", "multi_lender_max_institutions"));
  for (const char* unit : {"draw_unit_fen", "limit_unit_fen"}) {
    if (params[unit].get<std::int64_t>() < 1) return bad(std::string(unit) + " must be at least 1");
  }
  {
    const json& lo = params["daily_rate_min"];
    const json& hi = params["daily_rate_max"];
    const json& def = params["default_daily_rate"];
    auto r = [](const json& j) { return Rational::Of(j["num"].get<std::int64_t>(), j["den"].get<std::int64_t>()); };
    if (LessThan(r(hi), r(lo))) return bad("daily_rate_min must not exceed daily_rate_max");
    if (LessThan(r(def), r(lo)) || LessThan(r(hi), r(def))) {
      return bad("default_daily_rate must lie within [daily_rate_min, daily_rate_max]");
    }
  }
  try {
    Status s = CheckBounds(params);
    if (!s.ok()) return bad(s.error().message);
  } catch (const json::exception&) {
    return bad("bounds: each bound must be a pair of numbers of the parameter's type");
  }
  return Status::Ok();
}

std::int64_t ShanghaiDay(std::int64_t unix_ms) {
  std::int64_t t = unix_ms + kShanghaiOffsetMs;
  return t >= 0 ? t / kDayMs : -((-t + kDayMs - 1) / kDayMs);
}

std::int64_t BusinessDay(const StateReader& state) {
  auto v = state.Get("clock/business-day");
  return v ? std::stoll(*v) : 0;
}

nlohmann::json CurrentParameters(const StateReader& state) {
  auto version = state.Get("params/current-version");
  if (!version) return json::object();
  auto text = state.Get("params/v" + *version);
  if (!text) return json::object();
  json p = json::parse(*text, nullptr, false);
  if (!p.is_object()) return json::object();
  p["version"] = std::stoi(*version);
  return p;
}

// A parameter set that passed ValidateParameters cannot make these throw; should a malformed
// value slip through anyway, every node rejects the transaction the same way instead of crashing.
template <ContractFn fn>
void Guarded(const CallContext& call, StateOverlay* state, Receipt* receipt) {
  try {
    fn(call, state, receipt);
  } catch (const nlohmann::json::exception&) {
    // The library's exception text stays out of the receipt (it is consensus state).
    receipt->accepted = false;
    receipt->code = "bad-parameters";
    receipt->message = "the parameter set or a stored record is malformed";
  }
}

void RunClockTick(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&ClockTick>(c, s, r); }
void RunClockAdvance(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&ClockAdvance>(c, s, r); }
void RunBureauSnapshot(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&BureauSnapshot>(c, s, r); }
void RunBankFigures(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&BankFigures>(c, s, r); }
void RunBorrowerAdmit(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&BorrowerAdmit>(c, s, r); }
void RunBorrowerChange(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&BorrowerChange>(c, s, r); }
void RunAuthResult(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&AuthResult>(c, s, r); }
void RunLoanDraw(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&LoanDraw>(c, s, r); }
void RunLoanApprove(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&LoanApprove>(c, s, r); }
void RunLoanFund(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&LoanFund>(c, s, r); }
void RunLoanPayout(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&LoanPayout>(c, s, r); }
void RunVaSpend(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&VaSpend>(c, s, r); }
void RunLoanRepay(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&LoanRepay>(c, s, r); }
void RunLoanSettle(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&LoanSettle>(c, s, r); }
void RunCollectionOutcome(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&CollectionOutcome>(c, s, r); }
void RunLoanWriteoff(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&LoanWriteoff>(c, s, r); }
void RunParamPropose(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&ParamPropose>(c, s, r); }
void RunParamApprove(const CallContext& c, StateOverlay* s, Receipt* r) { Guarded<&ParamApprove>(c, s, r); }

}  // namespace colend::contracts
