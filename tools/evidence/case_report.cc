// report/case.html: renders one loan's evidence bundle for people (bundle facts, parties, terms,
// the lead/partner split, the schedule, every record with the events it produced, the documents).
// It proves nothing and says so at the top: it only restates the bundle's files and links each
// row to them. Everything that comes from the chain is HTML-escaped; the only links are built
// from record seq numbers and validated lowercase hex hashes; there is no script, no external
// resource, and money, rates and dates use integer arithmetic only.
#include "tools/evidence/case_report.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "tools/evidence/case_report_format.h"

namespace colend::evidence {
namespace {

using json = nlohmann::json;
using case_format::Day;
using case_format::DayOf;
using case_format::EndsWith;
using case_format::Esc;
using case_format::Hundredths;
using case_format::IsHashLike;
using case_format::IsHex64;
using case_format::IsoMs;
using case_format::ParseInt;
using case_format::RateOf;
using case_format::RateText;

constexpr std::string_view kNotice =
    "This page is a rendering for reading convenience. It is not evidence. The evidence is the "
    "signed records and proofs in this bundle; verify them with tools/verify.sh or colend-verify.";

// Only hash values may break anywhere (.h); ids, types, dates, rules, keys and amounts never
// break (.nw, .kv1); free text breaks at spaces, or anywhere only if it cannot fit (.t).
constexpr std::string_view kStyle =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Arial,sans-serif;color:#111;"
    "background:#fff;margin:24px;max-width:1400px}h1{font-size:24px;margin:0 0 12px}h2{"
    "font-size:18px;margin:28px 0 8px;border-bottom:2px solid #333;padding-bottom:2px}.notice{"
    "border:3px solid #a00;background:#fff3f3;color:#600;font-weight:bold;padding:10px 14px;"
    "margin:0 0 16px}table{border-collapse:collapse;width:100%;margin:4px 0 12px}th,td{"
    "border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eee}"
    "td.n{text-align:right;white-space:nowrap}table.kv th{width:230px}code{"
    "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}.nw{white-space:nowrap}"
    ".h{white-space:normal;word-break:break-all}.t{white-space:normal;overflow-wrap:anywhere}"
    "tr.rec td{border-top:2px solid #666}tr.ev td{background:#f7f7f7}.kv1{"
    "display:inline-block;max-width:100%;margin-right:10px;white-space:nowrap}.msg{display:block;"
    "font-style:italic;color:#333;margin-bottom:2px}.sm{font-size:12px}table.tl{font-size:13px}"
    ".rej{color:#a00;font-weight:bold}.ok{color:#060;font-weight:bold}.muted{color:#555}a{"
    "color:#0645ad}@media print{body{margin:0;font-size:10pt;max-width:none}.notice{"
    "background:none}a{color:#000;text-decoration:none}tr{page-break-inside:avoid}h2{"
    "page-break-after:avoid}}@page{size:A4 landscape;margin:12mm}";

bool IsFenKey(std::string_view key) {
  return EndsWith(key, "_fen") || EndsWith(key, "-fen") || key.starts_with("legs.");
}

// The label of an amount shown as CNY: "amount_fen" -> "amount" (it is no longer in fen).
std::string_view CnyLabel(std::string_view key) {
  bool fen = EndsWith(key, "_fen") || EndsWith(key, "-fen");
  return fen && key.size() > 4 ? key.substr(0, key.size() - 4) : key;
}

std::optional<std::int64_t> IntOf(const json& v) {
  if (!v.is_number_integer()) return std::nullopt;
  if (v.is_number_unsigned() &&
      v.get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::nullopt;
  }
  return v.get<std::int64_t>();
}

std::string_view RatePer(std::string_view key) {
  if (key.find("daily") != std::string_view::npos) return "per day";
  if (key.find("period") != std::string_view::npos) return "per period";
  return "";
}

// One JSON value as HTML, its meaning taken from its key's suffix.
std::string Value(std::string_view key, const json& v) {
  if (auto n = IntOf(v)) {
    if (IsFenKey(key)) return FormatFen(*n);
    if (EndsWith(key, "_day")) return *n == 0 ? "&mdash;" : Day(*n);
    if (EndsWith(key, "_ms")) return IsoMs(*n);
    if (EndsWith(key, "_bps")) return Hundredths(*n) + " % (" + std::to_string(*n) + " bps)";
    if (key == "reported") return *n != 0 ? "yes" : "no";
    return std::to_string(*n);
  }
  if (EndsWith(key, "_rate")) {
    if (auto r = RateOf(v)) return Esc(RateText(*r, RatePer(key)));
  }
  if (v.is_string()) return Esc(v.get_ref<const std::string&>());
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_null()) return "&mdash;";
  return Esc(v.dump(-1, ' ', false, json::error_handler_t::replace));
}

// How a text value may break: a hash anywhere, long or spaced text as needed, the rest never.
std::string_view WrapOf(std::string_view raw) {
  if (IsHashLike(raw)) return "h";
  return raw.size() > 24 || raw.find(' ') != std::string_view::npos ? "t" : "";
}

// One key=value: the key never breaks; the value as `wrap` says (see kStyle), hashes in monospace.
std::string Kv(std::string_view key, const std::string& value_html, std::string_view wrap = "") {
  std::string tag = wrap == "h" ? "code" : "span";
  std::string v = wrap.empty() ? value_html
                               : "<" + tag + " class=\"" + std::string(wrap) + "\">" + value_html +
                                     "</" + tag + ">";
  return "<span class=\"kv1\">" + Esc(key) + "=" + v + "</span> ";
}

// Every leaf of a JSON value as key=value, nested keys joined by '.', so nothing is dropped.
void Flatten(const std::string& path, const json& j, std::string* out) {
  if (j.is_object() && !j.empty() && !(EndsWith(path, "_rate") && RateOf(j))) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Flatten(path.empty() ? it.key() : path + "." + it.key(), it.value(), out);
    }
    return;
  }
  bool cny = IsFenKey(path) && IntOf(j);
  std::string_view wrap = j.is_string()                   ? WrapOf(j.get_ref<const std::string&>())
                          : j.is_array() || j.is_object() ? "t"
                                                          : "";
  *out += Kv(cny ? CnyLabel(path) : path, Value(path, j), wrap);
}

// A transaction field or receipt output (text): amounts in fen as CNY, the rest escaped.
std::string TextKv(const std::string& key, const std::string& value) {
  if (IsFenKey(key)) {
    if (auto n = ParseInt(value)) return Kv(CnyLabel(key), FormatFen(*n));
  }
  return Kv(key, Esc(value), WrapOf(value));
}

std::string RecordDir(std::uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "records/%06llu", static_cast<unsigned long long>(seq));
  return buf;
}

std::string Link(const std::string& href, const std::string& text_html) {
  return "<a href=\"" + href + "\">" + text_html + "</a>";  // href: digits, hex and '/' only
}

std::string RoleName(std::string_view role) {
  if (role == "lead_bank") return "Lead bank";
  if (role == "partner_bank") return "Partner bank";
  if (role == "payee_bank") return "Payee bank";
  if (role == "credit_bureau") return "Credit bureau";
  if (role == "arbitrator") return "Arbitration commission";
  return Esc(role);
}

// A member as its id and name (its role is shown only in role columns).
std::string Party(const CaseData& data, const std::string& id) {
  std::string s = "<code class=\"nw\">" + Esc(id) + "</code>";
  for (const CaseMember& m : data.members) {
    if (m.id == id && !m.name.empty() && m.name != id) {
      return s + " <span class=\"muted\">" + Esc(m.name) + "</span>";
    }
  }
  return s;
}

std::string Str(const json& o, const char* key) {
  if (!o.is_object()) return "";
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* Find(const json& loan, const char* key) {
  if (!loan.is_object()) return nullptr;
  if (auto it = loan.find(key); it != loan.end()) return &*it;
  if (auto t = loan.find("terms"); t != loan.end() && t->is_object()) {
    if (auto it = t->find(key); it != t->end()) return &*it;
  }
  return nullptr;
}

std::string Row(std::string_view label, const std::string& value_html) {
  return "<tr><th>" + std::string(label) + "</th><td>" + value_html + "</td></tr>\n";
}

std::string Hash(const std::string& s) { return "<code class=\"h\">" + Esc(s) + "</code>"; }

std::string Summary(const CaseData& d) {
  std::string s = "<table class=\"kv\">\n";
  s += Row("Chain id", "<code>" + Esc(d.chain_id) + "</code>");
  s += Row("Loan id", "<code>" + Esc(d.loan_id) + "</code>");
  s += Row("Exported by", Party(d, d.exported_by));
  s += Row("Exported at",
           IsoMs(d.exported_at_ms) + " <span class=\"muted\">(the exporter&#39;s clock)</span>");
  s += Row("Anchor block height", std::to_string(d.anchor_height));
  s += Row("Anchor block time (UTC)", IsoMs(d.anchor_time_ms));
  s += Row("Anchor block hash", Hash(d.anchor_hash));
  s += Row("Records / documents",
           std::to_string(d.records.size()) + " / " + std::to_string(d.documents.size()));
  return s + "</table>\n";
}

std::string Parties(const CaseData& d) {
  std::string s =
      "<h2>Parties (members at the anchor)</h2>\n<table>\n"
      "<tr><th>Member id</th><th>Name</th><th>Role</th></tr>\n";
  for (const CaseMember& m : d.members) {
    s += "<tr><td><code>" + Esc(m.id) + "</code></td><td>" + Esc(m.name) + "</td><td>" +
         RoleName(m.role) + " <span class=\"muted\">(" + Esc(m.role) + ")</span></td></tr>\n";
  }
  return s + "</table>\n";
}

// clang-format off
constexpr std::pair<const char*, const char*> kLoanRows[] = {
    {"id", "Loan id"}, {"borrower", "Borrower (pseudonymous id)"}, {"status", "Status"},
    {"principal_fen", "Principal"}, {"periods", "Periods"}, {"method", "Repayment method"},
    {"daily_rate", "Daily interest rate"}, {"period_rate", "Period interest rate"},
    {"overdue_daily_rate", "Overdue daily rate"}, {"split_method", "Split method"},
    {"collection_stage", "Collection stage"}, {"dpd", "Days past due"},
    {"value_day", "Value date"}, {"value_date", "Value date"}, {"received_fen", "Received"},
    {"credit_balance_fen", "Credit held"}, {"schedule_sha256", "Schedule SHA-256"}};
// clang-format on

bool Curated(std::string_view key) {
  for (const auto& [k, label] : kLoanRows) {
    if (key == k) return true;
  }
  return key == "lenders" || key == "installments" || key == "installment_columns";
}

std::string LoanSection(const json& loan) {
  std::string s = "<h2>Loan (state/loan.json at the anchor)</h2>\n";
  if (!loan.is_object()) return s + "<p>state/loan.json is not available.</p>\n";
  s += "<table class=\"kv\">\n";
  for (const auto& [key, label] : kLoanRows) {
    if (const json* v = Find(loan, key)) {
      bool code = std::string_view(key) == "borrower" || EndsWith(key, "sha256");
      s += Row(label, code ? "<code class=\"h\">" + Value(key, *v) + "</code>" : Value(key, *v));
    }
  }
  std::string other;
  for (auto it = loan.begin(); it != loan.end(); ++it) {
    if (it.key() == "terms" && it->is_object()) {
      for (auto t = it->begin(); t != it->end(); ++t) {
        if (!Curated(t.key())) Flatten("terms." + t.key(), t.value(), &other);
      }
    } else if (!Curated(it.key())) {
      Flatten(it.key(), it.value(), &other);
    }
  }
  return s + (other.empty() ? "" : Row("Other fields", other)) + "</table>\n";
}

std::string LenderSection(const CaseData& d, const json& loan) {
  const json* lenders = Find(loan, "lenders");
  if (lenders == nullptr || !lenders->is_array()) return "";
  std::string s =
      "<h2>Joint lending split</h2>\n<table>\n<tr><th>Lender</th><th>Role</th>"
      "<th>Share</th><th>Funded</th><th>Principal repaid</th><th>Interest repaid</th>"
      "<th>Penalty repaid</th><th>Classification</th><th>Other</th></tr>\n";
  constexpr const char* kCols[] = {
      "share_bps",           "funded_fen",         "principal_repaid_fen",
      "interest_repaid_fen", "penalty_repaid_fen", "classification"};
  for (const json& l : *lenders) {
    if (!l.is_object()) continue;
    s += "<tr><td>" + Party(d, Str(l, "member")) + "</td><td>" + RoleName(Str(l, "role")) + "</td>";
    for (const char* c : kCols) {
      bool number = l.contains(c) && IntOf(l[c]);  // numbers right-aligned, text left
      s += std::string(number ? "<td class=\"n\">" : "<td>") +
           (l.contains(c) ? Value(c, l[c]) : "&mdash;") + "</td>";
    }
    std::string other;
    for (auto it = l.begin(); it != l.end(); ++it) {
      bool shown = it.key() == "member" || it.key() == "role";
      for (const char* c : kCols) shown = shown || it.key() == c;
      if (!shown) Flatten(it.key(), it.value(), &other);
    }
    s += "<td>" + other + "</td></tr>\n";
  }
  return s + "</table>\n";
}

// A schedule column as a heading: "principal_paid_fen" -> "Principal paid", "due_day" ->
// "Due date".
std::string Label(std::string col) {
  if (EndsWith(col, "_fen")) col.resize(col.size() - 4);
  if (EndsWith(col, "_day")) col = col.substr(0, col.size() - 4) + " date";
  for (char& c : col) c = c == '_' ? ' ' : c;
  if (!col.empty() && col[0] >= 'a' && col[0] <= 'z') col[0] = static_cast<char>(col[0] - 32);
  return Esc(col);
}

// What the bundle says about the loan's course, for the schedule's status column.
struct Course {
  std::optional<std::int64_t> settled_day;    // the date of its LOAN_SETTLED event
  std::optional<std::int64_t> closed_day;     // closed_day of a closed loan
  std::optional<std::int64_t> business_day;   // the newest business date in its records
  std::vector<std::int64_t> overdue_periods;  // periods of its OVERDUE_STARTED events
};

Course CourseOf(const CaseData& d) {
  Course c;
  auto later = [](std::optional<std::int64_t>* at, std::optional<std::int64_t> day) {
    if (day && (!*at || *day > **at)) *at = day;
  };
  for (const CaseRecord& r : d.records) {
    if (!r.accepted) continue;
    for (const auto& [k, v] : r.outputs) {
      if (k == "business-date") later(&c.business_day, DayOf(v));
    }
    for (const json& ev : r.events) {
      std::optional<std::int64_t> day = DayOf(Str(ev, "date"));
      later(&c.business_day, day);
      if (Str(ev, "event") == "LOAN_SETTLED" && day) c.settled_day = day;
      if (Str(ev, "event") == "OVERDUE_STARTED" && ev.contains("period")) {
        if (auto p = IntOf(ev["period"])) c.overdue_periods.push_back(*p);
      }
    }
  }
  if (Str(d.loan, "status") == "closed") {
    if (const json* day = Find(d.loan, "closed_day"); day && IntOf(*day) && *IntOf(*day) != 0) {
      c.closed_day = IntOf(*day);
    }
  }
  return c;
}

const json* Cell(const json& row, const std::vector<std::string>& cols, std::string_view name) {
  for (std::size_t k = 0; k < cols.size(); ++k) {
    if (cols[k] != name) continue;
    if (row.is_array()) return k < row.size() ? &row[k] : nullptr;
    return row.is_object() && row.contains(cols[k]) ? &row[cols[k]] : nullptr;
  }
  return nullptr;
}

// An installment's status, derived from its columns and the loan's events only; blank when the
// columns needed are missing. "settled early" marks what the early settlement closed before the
// due date (such rows show the interest left after the settlement waived the rest).
std::string Status(const json& row, const std::vector<std::string>& cols, const Course& c) {
  auto num = [&](std::string_view name) -> std::optional<std::int64_t> {
    const json* v = Cell(row, cols, name);
    return v ? IntOf(*v) : std::nullopt;
  };
  auto due = num("due_day"), principal = num("principal_fen"), interest = num("interest_fen");
  auto principal_paid = num("principal_paid_fen"), interest_paid = num("interest_paid_fen");
  if (!due || !principal || !interest || !principal_paid || !interest_paid) return "";
  std::int64_t posted = num("penalty_posted_fen").value_or(0);
  bool accruing = num("accrual_from_day").value_or(0) != 0;  // overdue penalty running
  bool paid = *principal_paid >= *principal && *interest_paid >= *interest &&
              num("penalty_paid_fen").value_or(0) >= posted && !accruing;
  auto period = num("period");
  bool was_overdue = accruing || posted > 0 ||
                     (period && std::find(c.overdue_periods.begin(), c.overdue_periods.end(),
                                          *period) != c.overdue_periods.end());
  if (paid) {
    if (c.settled_day && *due > *c.settled_day) return "settled early on " + Day(*c.settled_day);
    if (!c.settled_day && c.closed_day && *due > *c.closed_day) {
      return "paid before the due date (loan closed on " + Day(*c.closed_day) + ")";
    }
    return was_overdue ? "paid (was overdue)" : "paid";
  }
  std::string s = was_overdue               ? "overdue"
                  : !c.business_day         ? "unpaid"
                  : *due <= *c.business_day ? "due"
                                            : "not yet due";
  return *principal_paid > 0 || *interest_paid > 0 ? s + " (part paid)" : s;
}

std::string ScheduleSection(const CaseData& d, const json& loan) {
  const json* rows = Find(loan, "installments");
  if (rows == nullptr || !rows->is_array() || rows->empty()) return "";
  std::vector<std::string> cols;
  if (const json* c = Find(loan, "installment_columns"); c != nullptr && c->is_array()) {
    for (const json& x : *c) cols.push_back(x.is_string() ? x.get<std::string>() : x.dump());
  } else if ((*rows)[0].is_object()) {
    for (auto it = (*rows)[0].begin(); it != (*rows)[0].end(); ++it) cols.push_back(it.key());
  }
  const Course course = CourseOf(d);
  std::string s = "<h2>Schedule</h2>\n<table>\n<tr>";
  for (const std::string& c : cols) s += "<th>" + Label(c) + "</th>";
  s += "<th>Status <span class=\"muted\">(derived)</span></th></tr>\n";
  for (const json& r : *rows) {
    s += "<tr>";
    for (const std::string& c : cols) {
      const json* v = Cell(r, cols, c);
      bool number = v && IntOf(*v) && c != "reported";
      s += std::string(number ? "<td class=\"n\">" : "<td>") +
           (v ? Value(c, *v) : std::string("&mdash;")) + "</td>";
    }
    s += "<td class=\"nw\">" + Esc(Status(r, cols, course)) + "</td></tr>\n";
  }
  return s + "</table>\n";
}

std::string Text(const json& ev, const char* key) {
  auto it = ev.find(key);
  return it == ev.end() ? std::string() : Value(key, *it);
}

std::string EventRow(const CaseData& d, const CaseRecord& r, const json& ev) {
  if (!ev.is_object()) {
    return "<tr class=\"ev\"><td></td><td colspan=\"4\">" + Value("", ev) + "</td></tr>\n";
  }
  std::string details;
  for (auto it = ev.begin(); it != ev.end(); ++it) {
    const std::string& k = it.key();
    if (k == "event" || k == "rule" || k == "date" || k == "seq") continue;
    if (k == "loan" && *it == json(d.loan_id)) continue;
    if (k == "height" && *it == json(r.height)) continue;
    Flatten(k, *it, &details);
  }
  std::string seq =
      ev.contains("seq") ? " <span class=\"muted\">#" + Text(ev, "seq") + "</span>" : "";
  return "<tr class=\"ev\"><td></td><td class=\"nw\">" + Text(ev, "date") +
         "</td><td><b class=\"nw\">" + Text(ev, "event") + "</b>" + seq + "</td><td class=\"nw\">" +
         Text(ev, "rule") + "</td><td>" + details + "</td></tr>\n";
}

// Result / rule holds only short tokens; the receipt's explanation opens the details cell.
std::string RecordRow(const CaseData& d, const CaseRecord& r) {
  const std::string dir = RecordDir(r.seq);
  std::string result =
      r.accepted ? "<span class=\"ok\">accepted</span>" : "<span class=\"rej\">rejected</span>";
  result += "<br>code <span class=\"t\">" + Esc(r.code) + "</span>";
  if (!r.rule.empty()) result += "<br><span class=\"nw\">rule " + Esc(r.rule) + "</span>";
  std::string tx;
  if (!r.message.empty()) tx += "<span class=\"msg\">" + Esc(r.message) + "</span>";
  for (const auto& [k, v] : r.fields) tx += TextKv(k, v);
  for (const auto& [k, v] : r.outputs) tx += TextKv("out." + k, v);
  std::string s =
      "<tr class=\"rec\"><td class=\"nw\">" + Link(dir + "/tx.txt", std::to_string(r.seq)) +
      "<br><span class=\"sm\">" + Link(dir + "/tx.txt", "tx.txt") + "<br>" +
      Link(dir + "/receipt.txt", "receipt.txt") + "</span></td><td><span class=\"nw\">" +
      IsoMs(r.block_time_ms) + "</span><br>block " + std::to_string(r.height) +
      " <span class=\"muted\">&middot; signed</span><br><span class=\"muted sm nw\">" +
      IsoMs(r.tx_time_ms) + "</span></td><td><code class=\"nw\">" + Esc(r.type) + "</code><br>" +
      Party(d, r.sender) + "</td><td>" + result + "</td><td>" + tx + "</td></tr>\n";
  for (const json& ev : r.events) s += EventRow(d, r, ev);
  return s;
}

std::string Timeline(const CaseData& d) {
  std::string s =
      "<h2>Timeline (one row per record, events below it)</h2>\n<table class=\"tl\">\n"
      "<tr><th>Record</th><th>Block time (UTC) / date</th><th>Type, sender / event</th>"
      "<th>Result / rule</th><th>Transaction / event details</th></tr>\n";
  for (const CaseRecord& r : d.records) s += RecordRow(d, r);
  return s + "</table>\n";
}

std::string Documents(const CaseData& d) {
  std::string s = "<h2>Documents</h2>\n";
  if (d.documents.empty()) return s + "<p>No document is attached to this loan.</p>\n";
  s += "<table>\n<tr><th>SHA-256</th><th>Kind</th><th>Bytes</th><th>Anchored by record</th>"
       "<th>File</th></tr>\n";
  for (const CaseDocument& doc : d.documents) {
    std::string file =
        doc.present && IsHex64(doc.sha256)
            ? Link("documents/" + doc.sha256, "documents/" + doc.sha256.substr(0, 12) + "&hellip;")
            : std::string("not included");
    s += "<tr><td>" + Hash(doc.sha256) + "</td><td>" + Esc(doc.kind) + "</td><td class=\"n\">" +
         std::to_string(doc.bytes) + "</td><td class=\"n\">" +
         Link(RecordDir(doc.record_seq) + "/tx.txt", std::to_string(doc.record_seq)) +
         "</td><td class=\"nw\">" + file + "</td></tr>\n";
  }
  return s + "</table>\n";
}

}  // namespace

std::string FormatFen(std::int64_t fen) { return Hundredths(fen) + " CNY"; }

std::string RenderCaseHtml(const CaseData& data) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n<meta name=\"viewport\" content=\"width=device-width\">\n"
      "<title>Loan " +
      Esc(data.loan_id) + " &mdash; case report (not evidence)</title>\n<style>" +
      std::string(kStyle) + "</style>\n</head>\n<body>\n";
  h += "<h1>Loan " + Esc(data.loan_id) + " &mdash; case report</h1>\n";
  h += "<p class=\"notice\">" + std::string(kNotice) + "</p>\n";
  h += Summary(data) + Parties(data) + LoanSection(data.loan) + LenderSection(data, data.loan) +
       ScheduleSection(data, data.loan) + Timeline(data) + Documents(data);
  return h + "</body>\n</html>\n";
}

}  // namespace colend::evidence
