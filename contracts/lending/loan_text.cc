// The stored text of a loan record ("loan/<id>", loan_model.h), written directly: the same bytes as nlohmann's dump() of Loan::ToJson() — objects with their keys in
// byte order, no spaces, integers in decimal, strings escaped as nlohmann escapes them — without
// building the JSON tree first. Every lending transaction writes the record of its loan, and
// building the tree was a quarter of a drawdown's execution (the profile in docs/performance.md).
//
// Only ASCII strings are written here. A record with a byte >= 0x80 in any string is written by
// nlohmann itself, so its UTF-8 checks (and their refusal of invalid text) stay exactly as they
// were. tests/contracts/loan_text_test.cc checks the bytes against nlohmann's on many records.
#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "contracts/lending/loan_model.h"

namespace colend::contracts {
namespace {

bool Ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool AllAscii(const Loan& l) {
  for (std::string_view s : {std::string_view(l.id), std::string_view(l.borrower), std::string_view(l.status),
                             std::string_view(l.schedule_sha256), std::string_view(l.virtual_account),
                             std::string_view(l.collection_stage)}) {
    if (!Ascii(s)) return false;
  }
  for (const LenderShare& s : l.lenders) {
    if (!Ascii(s.member) || !Ascii(s.role) || !Ascii(s.funding_ref)) return false;
  }
  return true;
}

// Appends JSON values to one string.
class Out {
 public:
  explicit Out(std::string* s) : s_(s) {}
  void Raw(std::string_view v) { s_->append(v); }
  void Char(char c) { s_->push_back(c); }
  template <typename Integer>
  void Int(Integer v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    s_->append(buf, r.ptr);
  }
  void Bool(bool v) { s_->append(v ? "true" : "false"); }
  // An ASCII string, escaped as nlohmann's serializer escapes it (ensure_ascii off).
  void Str(std::string_view v) {
    s_->push_back('"');
    for (char c : v) {
      switch (c) {
        case '"': s_->append("\\\""); break;
        case '\\': s_->append("\\\\"); break;
        case '\b': s_->append("\\b"); break;
        case '\f': s_->append("\\f"); break;
        case '\n': s_->append("\\n"); break;
        case '\r': s_->append("\\r"); break;
        case '\t': s_->append("\\t"); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            s_->append("\\u00");
            s_->push_back(kHex[(c >> 4) & 0xf]);
            s_->push_back(kHex[c & 0xf]);
          } else {
            s_->push_back(c);
          }
      }
    }
    s_->push_back('"');
  }
  void Rate(const Rational& r) {
    Char('[');
    Int(r.num);
    Char(',');
    Int(r.den);
    Char(']');
  }

 private:
  std::string* s_;
};

// An object's members are rendered in the order the code lists them, then put in byte order of
// their keys, as nlohmann's std::map-backed object holds them.
class Object {
 public:
  template <typename Render>
  void Add(std::string_view key, Render render) {
    std::string value;
    Out out(&value);
    render(out);
    members_.emplace_back(key, std::move(value));
  }
  void WriteTo(Out& out) {
    std::sort(members_.begin(), members_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out.Char('{');
    bool first = true;
    for (const auto& [key, value] : members_) {
      if (!first) out.Char(',');
      first = false;
      out.Str(key);
      out.Char(':');
      out.Raw(value);
    }
    out.Char('}');
  }

 private:
  std::vector<std::pair<std::string_view, std::string>> members_;
};

// The memo of ReadLoanRecord / WriteLoanRecord: loan id -> (exact text, the record it parses to).
struct MemoEntry {
  std::string text;
  Loan loan;
};
std::map<std::string, MemoEntry, std::less<>>& Memo() {
  thread_local std::map<std::string, MemoEntry, std::less<>> memo;
  return memo;
}

void Remember(const std::string& id, std::string text, Loan loan) {
  auto& memo = Memo();
  if (memo.size() >= kLoanMemoEntries && memo.find(id) == memo.end()) memo.clear();
  memo.insert_or_assign(id, MemoEntry{std::move(text), std::move(loan)});
}

bool StorableRate(const Rational& r) { return r.den > 0 && r.num >= 0; }

}  // namespace

Result<Loan> ReadLoanRecord(const std::string& id, const std::string& text) {
  auto& memo = Memo();
  auto it = memo.find(id);
  if (it != memo.end() && it->second.text == text) return it->second.loan;
  auto loan = Loan::FromText(text);
  if (loan.ok()) {
    Remember(id, text, *loan);
  } else if (it != memo.end()) {
    memo.erase(it);
  }
  return loan;
}

std::string WriteLoanRecord(const Loan& loan) {
  std::string text = loan.ToText();
  // What FromText gives back for this text: rates reduced, and the misuse surcharge rate only
  // when misuse_from_day is set (it is stored only then). A rate FromText would refuse is not
  // remembered, so reading the text back parses it and refuses it.
  Loan back = loan;
  bool storable = true;
  for (Rational* r : {&back.terms.daily_rate, &back.terms.period_rate, &back.terms.overdue_daily_rate,
                      &back.misuse_surcharge_rate}) {
    if (r == &back.misuse_surcharge_rate && back.misuse_from_day == 0) {
      *r = Rational{};
    } else if (StorableRate(*r)) {
      *r = Rational::Of(r->num, r->den);
    } else {
      storable = false;
    }
  }
  if (storable) {
    Remember(loan.id, text, std::move(back));
  } else {
    Memo().erase(loan.id);
  }
  return text;
}

std::string Loan::ToText() const {
  if (!AllAscii(*this)) return ToJson().dump();
  auto integer = [](auto v) { return [v](Out& o) { o.Int(v); }; };
  auto str = [](std::string_view v) { return [v](Out& o) { o.Str(v); }; };
  auto boolean = [](bool v) { return [v](Out& o) { o.Bool(v); }; };
  auto rate = [](const Rational& r) { return [&r](Out& o) { o.Rate(r); }; };

  Object root;
  root.Add("id", str(id));
  root.Add("borrower", str(borrower));
  root.Add("status", str(status));
  root.Add("principal_fen", integer(principal_fen));
  root.Add("periods", integer(periods));
  root.Add("terms", [this, &integer, &str, &boolean, &rate](Out& o) {
    Object t;
    t.Add("method", str(MethodName(terms.method)));
    t.Add("daily_rate", rate(terms.daily_rate));
    t.Add("period_rate", rate(terms.period_rate));
    t.Add("overdue_daily_rate", rate(terms.overdue_daily_rate));
    t.Add("compound_enabled", boolean(terms.compound_enabled));
    t.Add("grace_days", integer(terms.grace_days));
    t.Add("report_delay_days", integer(terms.report_delay_days));
    t.Add("split_method", str(SplitMethodName(terms.split)));
    t.Add("param_version", integer(terms.param_version));
    t.WriteTo(o);
  });
  root.Add("lenders", [this, &integer, &str, &boolean](Out& o) {
    o.Char('[');
    for (std::size_t k = 0; k < lenders.size(); ++k) {
      const LenderShare& l = lenders[k];
      if (k > 0) o.Char(',');
      Object x;
      x.Add("member", str(l.member));
      x.Add("role", str(l.role));
      x.Add("share_bps", integer(l.share_bps));
      x.Add("funded_fen", integer(l.funded_fen));
      x.Add("funding_confirmed", boolean(l.funding_confirmed));
      x.Add("funding_ref", str(l.funding_ref));
      x.Add("principal_repaid_fen", integer(l.principal_repaid_fen));
      x.Add("interest_repaid_fen", integer(l.interest_repaid_fen));
      x.Add("penalty_repaid_fen", integer(l.penalty_repaid_fen));
      x.Add("classification", str(ClassName(l.classification)));
      x.Add("written_off", boolean(l.written_off));
      x.Add("reported", boolean(l.reported));
      x.WriteTo(o);
    }
    o.Char(']');
  });
  root.Add("installment_columns", [](Out& o) {
    o.Raw("[\"period\",\"due_day\",\"principal_fen\",\"interest_fen\",\"principal_paid_fen\","
          "\"interest_paid_fen\",\"penalty_posted_fen\",\"penalty_paid_fen\",\"accrual_from_day\","
          "\"reminder_day\",\"reported\"]");
  });
  root.Add("installments", [this](Out& o) {
    o.Char('[');
    for (std::size_t k = 0; k < installments.size(); ++k) {
      const InstallmentState& i = installments[k];
      if (k > 0) o.Char(',');
      o.Char('[');
      const std::int64_t row[] = {i.period, i.due_day, i.principal_fen, i.interest_fen,
                                  i.principal_paid_fen, i.interest_paid_fen, i.penalty_posted_fen,
                                  i.penalty_paid_fen, i.accrual_from_day, i.reminder_day,
                                  i.reported ? 1 : 0};
      for (std::size_t c = 0; c < std::size(row); ++c) {
        if (c > 0) o.Char(',');
        o.Int(row[c]);
      }
      o.Char(']');
    }
    o.Char(']');
  });
  root.Add("schedule_sha256", str(schedule_sha256));
  root.Add("created_day", integer(created_day));
  root.Add("created_ms", integer(created_ms));
  root.Add("value_day", integer(value_day));
  root.Add("closed_day", integer(closed_day));
  root.Add("virtual_account", str(virtual_account));
  root.Add("va_balance_fen", integer(va_balance_fen));
  root.Add("va_spent_fen", integer(va_spent_fen));
  root.Add("credit_balance_fen", integer(credit_balance_fen));
  root.Add("received_fen", integer(received_fen));
  root.Add("cum_principal_fen", integer(cum_principal_fen));
  root.Add("cum_interest_fen", integer(cum_interest_fen));
  root.Add("cum_penalty_fen", integer(cum_penalty_fen));
  root.Add("collection_stage", str(collection_stage));
  root.Add("collection_since_day", integer(collection_since_day));
  root.Add("ptp_broken", integer(ptp_broken));
  root.Add("no_contact_days", integer(no_contact_days));
  root.Add("event_seq", integer(event_seq));
  // Stored only when not zero, so loans without them keep their bytes (loan_model.h).
  if (use_deadline_day != 0) root.Add("use_deadline_day", integer(use_deadline_day));
  if (use_prompted_day != 0) root.Add("use_prompted_day", integer(use_prompted_day));
  if (misuse_day != 0) root.Add("misuse_day", integer(misuse_day));
  if (misused_fen != 0) root.Add("misused_fen", integer(misused_fen));
  if (attested_fen != 0) root.Add("attested_fen", integer(attested_fen));
  if (misuse_from_day != 0) {
    root.Add("misuse_from_day", integer(misuse_from_day));
    root.Add("misuse_surcharge_rate", rate(misuse_surcharge_rate));
  }
  std::string text;
  text.reserve(1024 + 64 * installments.size());
  Out out(&text);
  root.WriteTo(out);
  return text;
}

}  // namespace colend::contracts
