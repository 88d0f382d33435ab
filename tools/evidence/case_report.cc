// report/case.html: renders one loan's evidence bundle for people (bundle facts, parties, terms,
// the lead/partner split, the schedule, every record with the events it produced, the documents).
// It proves nothing and says so at the top: it only restates the bundle's files and links each
// row to them. Everything that comes from the chain is HTML-escaped; the only links are built
// from record seq numbers and validated lowercase hex hashes; there is no script, no external
// resource, and money, rates and dates use integer arithmetic only.
#include "tools/evidence/case_report.h"

#include <charconv>
#include <cstdio>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

namespace colend::evidence {
namespace {

using json = nlohmann::json;
using Rate = std::pair<std::int64_t, std::int64_t>;

constexpr std::string_view kNotice =
    "This page is a rendering for reading convenience. It is not evidence. The evidence is the "
    "signed records and proofs in this bundle; verify them with tools/verify.sh or colend-verify.";

constexpr std::string_view kStyle =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Arial,sans-serif;color:#111;"
    "background:#fff;margin:24px;max-width:1400px}h1{font-size:24px;margin:0 0 12px}h2{"
    "font-size:18px;margin:28px 0 8px;border-bottom:2px solid #333;padding-bottom:2px}.notice{"
    "border:3px solid #a00;background:#fff3f3;color:#600;font-weight:bold;padding:10px 14px;"
    "margin:0 0 16px}table{border-collapse:collapse;width:100%;margin:4px 0 12px}th,td{"
    "border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eee}"
    "td.n{text-align:right;white-space:nowrap}table.kv th{width:230px}code{"
    "font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}"
    "tr.rec td{border-top:2px solid #666}tr.ev td{background:#f7f7f7;font-size:13px}.kv1{"
    "display:inline-block;margin-right:10px}.rej{color:#a00;font-weight:bold}.ok{color:#060;"
    "font-weight:bold}.muted{color:#555}a{color:#0645ad}@media print{body{margin:0;"
    "font-size:10pt;max-width:none}.notice{background:none}a{color:#000;text-decoration:none}tr{"
    "page-break-inside:avoid}h2{page-break-after:avoid}}@page{size:A4 landscape;margin:12mm}";

std::string Esc(std::string_view s) {
  constexpr std::string_view kSpecial = "&<>\"'";
  constexpr std::string_view kEntities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    if (std::size_t k = kSpecial.find(c); k != std::string_view::npos) {
      out += kEntities[k];
    } else if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
      out += "&#xFFFD;";  // control characters (NUL, ESC, CR...) never reach the page
    } else {
      out += c;
    }
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "40,000.00" for 4000000 (fen, or basis points as a percentage).
std::string Hundredths(std::int64_t v) {
  bool neg = v < 0;
  std::uint64_t m = neg ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  std::string digits = std::to_string(m / 100), grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  unsigned cents = static_cast<unsigned>(m % 100);
  return (neg ? "-" : "") + grouped + "." + static_cast<char>('0' + cents / 10) +
         static_cast<char>('0' + cents % 10);
}

// Days since 1970-01-01 -> "YYYY-MM-DD" (Howard Hinnant's civil_from_days).
std::string Day(std::int64_t z) {
  if (z < -100'000'000'000LL || z > 100'000'000'000LL) return "day " + std::to_string(z);
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

// Milliseconds since the epoch -> "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string IsoMs(std::int64_t ms) {
  constexpr std::int64_t kDay = 86'400'000;
  if (ms < -(1LL << 60) || ms > (1LL << 60)) return std::to_string(ms) + " ms";
  std::int64_t days = ms / kDay, rem = ms % kDay;
  if (rem < 0) {
    rem += kDay;
    --days;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(rem / 3'600'000), static_cast<long long>(rem / 60'000 % 60),
                static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
  return Day(days) + buf;
}

// A rate as [num, den], {"num":..,"den":..} or "num/den".
std::optional<Rate> RateOf(const json& v) {
  auto both = [](const json& n, const json& d) -> std::optional<Rate> {
    if (!n.is_number_integer() || !d.is_number_integer()) return std::nullopt;
    return Rate{n.get<std::int64_t>(), d.get<std::int64_t>()};
  };
  if (v.is_array() && v.size() == 2) return both(v[0], v[1]);
  if (v.is_object() && v.size() == 2 && v.contains("num") && v.contains("den")) {
    return both(v["num"], v["den"]);
  }
  if (!v.is_string()) return std::nullopt;
  std::string_view s = v.get_ref<const std::string&>();
  std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto n = ParseInt(s.substr(0, slash)), d = ParseInt(s.substr(slash + 1));
  if (!n || !d) return std::nullopt;
  return Rate{*n, *d};
}

// num/den as an exact percentage with at most 6 decimals ("5/10000" -> "0.05 %"), else "num/den".
std::string RateText(Rate r) {
  auto [num, den] = r;
  std::string frac = std::to_string(num) + "/" + std::to_string(den);
  constexpr std::int64_t kMaxNum = 10'000'000'000LL;  // keeps num × 10^8 inside int64
  if (den <= 0 || num > kMaxNum || num < -kMaxNum) return frac;
  std::int64_t scaled = (num < 0 ? -num : num) * 100'000'000;  // percent × 10^6
  if (scaled % den != 0) return frac;
  std::int64_t q = scaled / den;
  std::string dec = std::to_string(1'000'000 + q % 1'000'000).substr(1);
  while (!dec.empty() && dec.back() == '0') dec.pop_back();
  return (num < 0 ? "-" : "") + std::to_string(q / 1'000'000) + (dec.empty() ? "" : "." + dec) +
         " %";
}

bool IsFenKey(std::string_view key) {
  return EndsWith(key, "_fen") || EndsWith(key, "-fen") || key.starts_with("legs.");
}

// One JSON value as HTML, its meaning taken from its key's suffix.
std::string Value(std::string_view key, const json& v) {
  bool fits = v.is_number_integer() &&
              !(v.is_number_unsigned() &&
                v.get<std::uint64_t>() >
                    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (fits) {
    std::int64_t n = v.get<std::int64_t>();
    if (IsFenKey(key)) return FormatFen(n);
    if (EndsWith(key, "_day")) return n == 0 ? "&mdash;" : Day(n);
    if (EndsWith(key, "_ms")) return IsoMs(n);
    if (EndsWith(key, "_bps")) return Hundredths(n) + " % (" + std::to_string(n) + " bps)";
    if (key == "reported") return n != 0 ? "yes" : "no";
    return std::to_string(n);
  }
  if (EndsWith(key, "_rate")) {
    if (auto r = RateOf(v)) return Esc(RateText(*r));
  }
  if (v.is_string()) return Esc(v.get_ref<const std::string&>());
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_null()) return "&mdash;";
  return Esc(v.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string Kv(std::string_view key, const std::string& value_html) {
  return "<span class=\"kv1\">" + Esc(key) + "=" + value_html + "</span> ";
}

// Every leaf of a JSON value as key=value, nested keys joined by '.', so nothing is dropped.
void Flatten(const std::string& path, const json& j, std::string* out) {
  if (j.is_object() && !j.empty() && !(EndsWith(path, "_rate") && RateOf(j))) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      Flatten(path.empty() ? it.key() : path + "." + it.key(), it.value(), out);
    }
    return;
  }
  *out += Kv(path, Value(path, j));
}

// A transaction field or receipt output (text): amounts in fen as CNY, the rest escaped.
std::string TextKv(const std::string& key, const std::string& value) {
  if (IsFenKey(key)) {
    if (auto n = ParseInt(value)) return Kv(key, FormatFen(*n));
  }
  return Kv(key, Esc(value));
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

std::string Party(const CaseData& data, const std::string& id) {
  for (const CaseMember& m : data.members) {
    if (m.id == id) {
      return "<code>" + Esc(id) + "</code> <span class=\"muted\">(" + Esc(m.name) + ", " +
             RoleName(m.role) + ")</span>";
    }
  }
  return "<code>" + Esc(id) + "</code>";
}

std::string Str(const json& o, const char* key) {
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

std::string Summary(const CaseData& d) {
  std::string s = "<table class=\"kv\">\n";
  s += Row("Chain id", "<code>" + Esc(d.chain_id) + "</code>");
  s += Row("Loan id", "<code>" + Esc(d.loan_id) + "</code>");
  s += Row("Exported by", Party(d, d.exported_by));
  s += Row("Exported at (exporter&#39;s clock)", IsoMs(d.exported_at_ms));
  s += Row("Anchor block height", std::to_string(d.anchor_height));
  s += Row("Anchor block time (UTC)", IsoMs(d.anchor_time_ms));
  s += Row("Anchor block hash", "<code>" + Esc(d.anchor_hash) + "</code>");
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
      s += Row(label, code ? "<code>" + Value(key, *v) + "</code>" : Value(key, *v));
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
      s += std::string("<td class=\"n\">") + (l.contains(c) ? Value(c, l[c]) : "&mdash;") + "</td>";
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

std::string Label(std::string col) {
  if (EndsWith(col, "_fen")) col.resize(col.size() - 4);
  if (EndsWith(col, "_day")) col = col.substr(0, col.size() - 4) + " date";
  for (char& c : col) c = c == '_' ? ' ' : c;
  return Esc(col);
}

std::string ScheduleSection(const json& loan) {
  const json* rows = Find(loan, "installments");
  if (rows == nullptr || !rows->is_array() || rows->empty()) return "";
  std::vector<std::string> cols;
  if (const json* c = Find(loan, "installment_columns"); c != nullptr && c->is_array()) {
    for (const json& x : *c) cols.push_back(x.is_string() ? x.get<std::string>() : x.dump());
  } else if ((*rows)[0].is_object()) {
    for (auto it = (*rows)[0].begin(); it != (*rows)[0].end(); ++it) cols.push_back(it.key());
  }
  std::string s = "<h2>Schedule</h2>\n<table>\n<tr>";
  for (const std::string& c : cols) s += "<th>" + Label(c) + "</th>";
  s += "</tr>\n";
  for (const json& r : *rows) {
    s += "<tr>";
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const json* v = r.is_array() && k < r.size()           ? &r[k]
                      : r.is_object() && r.contains(cols[k]) ? &r[cols[k]]
                                                             : nullptr;
      s += "<td class=\"n\">" + (v ? Value(cols[k], *v) : std::string("&mdash;")) + "</td>";
    }
    s += "</tr>\n";
  }
  return s + "</table>\n";
}

std::string Text(const json& ev, const char* key) {
  auto it = ev.find(key);
  return it == ev.end() ? std::string() : Value(key, *it);
}

std::string EventRow(const CaseData& d, const CaseRecord& r, const json& ev) {
  if (!ev.is_object()) {
    return "<tr class=\"ev\"><td></td><td colspan=\"6\">" + Value("", ev) + "</td></tr>\n";
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
  return "<tr class=\"ev\"><td></td><td>" + Text(ev, "date") + "</td><td colspan=\"2\"><b>" +
         Text(ev, "event") + "</b>" + seq + "</td><td>" + Text(ev, "rule") +
         "</td><td colspan=\"2\">" + details + "</td></tr>\n";
}

std::string RecordRow(const CaseData& d, const CaseRecord& r) {
  const std::string dir = RecordDir(r.seq);
  std::string result =
      r.accepted ? "<span class=\"ok\">accepted</span>" : "<span class=\"rej\">rejected</span>";
  result += "<br>code " + Esc(r.code);
  if (!r.rule.empty()) result += "<br>rule " + Esc(r.rule);
  if (!r.message.empty()) result += "<br><span class=\"muted\">" + Esc(r.message) + "</span>";
  std::string tx;
  for (const auto& [k, v] : r.fields) tx += TextKv(k, v);
  for (const auto& [k, v] : r.outputs) tx += TextKv("out." + k, v);
  std::string s =
      "<tr class=\"rec\"><td class=\"n\">" + Link(dir + "/tx.txt", std::to_string(r.seq)) +
      "</td><td>" + IsoMs(r.block_time_ms) + "<br>block " + std::to_string(r.height) +
      "<br><span class=\"muted\">signed " + IsoMs(r.tx_time_ms) + "</span></td><td><code>" +
      Esc(r.type) + "</code></td><td>" + Party(d, r.sender) + "</td><td>" + result + "</td><td>" +
      tx + "</td><td>" + Link(dir + "/tx.txt", "tx.txt") + "<br>" +
      Link(dir + "/receipt.txt", "receipt.txt") + "</td></tr>\n";
  for (const json& ev : r.events) s += EventRow(d, r, ev);
  return s;
}

std::string Timeline(const CaseData& d) {
  std::string s =
      "<h2>Timeline (one row per record, events below it)</h2>\n<table>\n"
      "<tr><th>Seq</th><th>Block time (UTC) / date</th><th>Type / event</th>"
      "<th>Sender</th><th>Result / rule</th><th>Transaction / event details</th>"
      "<th>Files</th></tr>\n";
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
    s += "<tr><td><code>" + Esc(doc.sha256) + "</code></td><td>" + Esc(doc.kind) +
         "</td><td class=\"n\">" + std::to_string(doc.bytes) + "</td><td class=\"n\">" +
         Link(RecordDir(doc.record_seq) + "/tx.txt", std::to_string(doc.record_seq)) + "</td><td>" +
         file + "</td></tr>\n";
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
       ScheduleSection(data.loan) + Timeline(data) + Documents(data);
  return h + "</body>\n</html>\n";
}

}  // namespace colend::evidence
