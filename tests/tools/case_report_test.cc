// Proves that report/case.html (tools/evidence/case_report.cc) renders what the bundle holds and
// nothing dangerous: money to the fen with integer arithmetic (negatives and int64 extremes
// included) under labels that do not say "fen", exact rates (approximate ones rounded half up and
// marked, with the exact fraction) and civil dates, every record and every event of a hand-built
// case with links to its record files, each installment's status derived from the schedule and
// the loan's events (early settlement included), and hostile chain text escaped so the page has
// no script, no tag and no link that the renderer did not build from a seq number or a validated
// hash.
#include "tools/evidence/case_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <regex>
#include <string>

#include "tools/evidence/case_report_format.h"

namespace colend::evidence {
namespace {

using json = nlohmann::json;

const std::string kBorrower(64, 'b');
const std::string kDocHash = std::string(63, 'a') + "1";

json Event(const std::string& name, const std::string& rule, json details) {
  details["event"] = name;
  details["rule"] = rule;
  details["date"] = "2024-01-15";
  details["loan"] = "L-0001";
  return details;
}

CaseRecord Record(std::uint64_t seq, std::string type, std::string sender, bool accepted) {
  CaseRecord r;
  r.seq = seq;
  r.dir = "records/00000" + std::to_string(seq);
  r.type = std::move(type);
  r.sender = std::move(sender);
  r.tx_time_ms = 1'705'305'600'000 + static_cast<std::int64_t>(seq) * 1000;
  r.height = 10 + seq;
  r.block_time_ms = 1'705'305'600'123 + static_cast<std::int64_t>(seq) * 1000;  // 08:00:00.123Z
  r.accepted = accepted;
  r.code = accepted ? "ok" : "late-funding";
  r.rule = accepted ? "" : "R-IN-03";
  return r;
}

// A 40,000.00 CNY loan funded 20/80, drawn, repaid once, one leg rejected, one document attached.
CaseData SampleCase() {
  CaseData d;
  d.chain_id = "colend-test";
  d.loan_id = "L-0001";
  d.exported_by = "lead-bank";
  d.exported_at_ms = 1'706'000'000'000;
  d.anchor_height = 42;
  d.anchor_time_ms = 1'705'999'999'000;
  d.anchor_hash = std::string(64, 'c');
  d.members = {{"lead-bank", "Lead Bank Co.", "lead_bank"},
               {"partner-bank", "Partner Bank Co.", "partner_bank"},
               {"payee-bank", "Payee Bank", "payee_bank"},
               {"bureau", "Credit Bureau", "credit_bureau"},
               {"arbitration", "Arbitration Commission", "arbitrator"}};
  json lender = {{"funding_confirmed", true},  {"principal_repaid_fen", 0},
                 {"interest_repaid_fen", 0},   {"penalty_repaid_fen", 0},
                 {"classification", "normal"}, {"written_off", false}};
  json lead = lender, partner = lender;
  lead.update({{"member", "lead-bank"},
               {"role", "lead_bank"},
               {"share_bps", 2000},
               {"funded_fen", 800'000}});
  partner.update({{"member", "partner-bank"},
                  {"role", "partner_bank"},
                  {"share_bps", 8000},
                  {"funded_fen", 3'200'000}});
  d.loan = {{"id", "L-0001"},
            {"borrower", kBorrower},
            {"status", "active"},
            {"principal_fen", 4'000'000},
            {"periods", 2},
            {"terms",
             {{"method", "equal-installment"},
              {"daily_rate", {5, 10000}},
              {"period_rate", {1, 3}},
              {"overdue_daily_rate", {{"num", 75}, {"den", 100000}}}}},
            {"lenders", {lead, partner}},
            {"installment_columns", {"period", "due_day", "principal_fen", "accrual_from_day"}},
            {"installments", {{1, 19768, 2'000'000, -1}, {2, 11016, 2'000'000, 0}}},
            {"collection_stage", "none"},
            {"dpd", 3}};

  CaseRecord draw = Record(1, "loan.drawdown", "lead-bank", true);
  draw.fields = {{"amount-fen", "4000000"}, {"periods", "2"}};
  draw.events = {
      Event("DRAWDOWN_ACCEPTED", "R-IN-02", {{"amount_fen", 4'000'000}, {"periods", 2}}),
      Event("COLEND_ALLOCATED", "R-PRE-06",
            {{"lead", {{"member", "lead-bank"}, {"share_bps", 2000}, {"amount_fen", 800'000}}},
             {"partner",
              {{"member", "partner-bank"}, {"share_bps", 8000}, {"amount_fen", 3'200'000}}}})};
  CaseRecord late = Record(2, "loan.fund", "partner-bank", false);
  late.message = "funding leg after the deadline";
  CaseRecord repay = Record(3, "loan.repay", "payee-bank", true);
  repay.fields = {{"amount-fen", "123456789"}};
  repay.outputs = {{"events", "3"}};
  repay.events = {Event("REPAYMENT_POSTED", "R-IN-05", {{"amount_fen", 123'456'789}}),
                  Event("LENDER_ALLOCATED", "R-IN-05",
                        {{"lender", "lead-bank"},
                         {"principal_fen", 1},
                         {"interest_fen", -1},
                         {"penalty_fen", 0}}),
                  Event("LOAN_SETTLED", "R-IN-06", {{"interest_waived_fen", 5}})};
  d.records = {draw, late, repay};
  d.documents = {{kDocHash, "contract", 1234, 1, true},
                 {std::string(64, 'd'), "notice", 99, 3, false}};
  return d;
}

bool Has(const std::string& html, const std::string& s) {
  return html.find(s) != std::string::npos;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The page's markup is only what the renderer writes: known tags and attributes, no script, and
// every href a record file or a document named by its hash.
void ExpectOnlyRendererMarkup(const std::string& html) {
  static const std::regex kTag(R"(<(/?)([A-Za-z!][A-Za-z0-9]*)([^>]*)>)");
  static const std::regex kQuoted(R"("[^"]*")");
  static const std::regex kAttr(R"(([A-Za-z-]+)\s*=)");
  static const std::regex kHref(R"re(href\s*=\s*"([^"]*)")re", std::regex::icase);
  static const std::regex kAllowedHref(
      R"(records/[0-9]{6,}/(tx|receipt)\.txt|documents/[0-9a-f]{64})");
  static const std::regex kAllowedTag(
      "!DOCTYPE|html|head|meta|title|style|body|h1|h2|p|table|tr|th|td|a|code|span|br|b");
  static const std::regex kAllowedAttr("lang|charset|http-equiv|content|name|class|colspan|href");
  for (std::sregex_iterator it(html.begin(), html.end(), kTag), end; it != end; ++it) {
    EXPECT_TRUE(std::regex_match((*it)[2].str(), kAllowedTag)) << (*it)[0].str();
    std::string attrs = std::regex_replace((*it)[3].str(), kQuoted, "\"\"");
    for (std::sregex_iterator a(attrs.begin(), attrs.end(), kAttr); a != end; ++a) {
      EXPECT_TRUE(std::regex_match((*a)[1].str(), kAllowedAttr)) << (*it)[0].str();
    }
  }
  for (std::sregex_iterator it(html.begin(), html.end(), kHref), end; it != end; ++it) {
    EXPECT_TRUE(std::regex_match((*it)[1].str(), kAllowedHref)) << (*it)[1].str();
  }
  std::string lower = Lower(html);
  EXPECT_FALSE(Has(lower, "<script"));
  EXPECT_FALSE(Has(lower, "url("));
  EXPECT_FALSE(Has(lower, "@import"));
}

TEST(CaseReportTest, FormatsFenExactly) {
  EXPECT_EQ(FormatFen(0), "0.00 CNY");
  EXPECT_EQ(FormatFen(1), "0.01 CNY");
  EXPECT_EQ(FormatFen(-1), "-0.01 CNY");
  EXPECT_EQ(FormatFen(-100), "-1.00 CNY");
  EXPECT_EQ(FormatFen(99'999), "999.99 CNY");
  EXPECT_EQ(FormatFen(100'000), "1,000.00 CNY");
  EXPECT_EQ(FormatFen(4'000'000), "40,000.00 CNY");
  EXPECT_EQ(FormatFen(-123'456'789), "-1,234,567.89 CNY");
  EXPECT_EQ(FormatFen(std::numeric_limits<std::int64_t>::max()), "92,233,720,368,547,758.07 CNY");
  EXPECT_EQ(FormatFen(std::numeric_limits<std::int64_t>::min()), "-92,233,720,368,547,758.08 CNY");
  // In the page: a negative event amount keeps its sign.
  std::string html = RenderCaseHtml(SampleCase());
  EXPECT_TRUE(Has(html, "interest=-0.01 CNY"));
  EXPECT_TRUE(Has(html, "1,234,567.89 CNY"));
}

TEST(CaseReportTest, RendersEveryRecordAndEvent) {
  CaseData d = SampleCase();
  std::string html = RenderCaseHtml(d);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(Has(html, "<h1>Loan L-0001"));
  EXPECT_TRUE(Has(html,
                  "This page is a rendering for reading convenience. It is not evidence. The "
                  "evidence is the signed records and proofs in this bundle; verify them with "
                  "tools/verify.sh or colend-verify."));
  EXPECT_TRUE(Has(html, "colend-test"));
  EXPECT_TRUE(Has(html, std::string(64, 'c')));
  EXPECT_TRUE(Has(html, kBorrower));
  for (const char* role :
       {"Lead bank", "Partner bank", "Payee bank", "Credit bureau", "Arbitration commission"}) {
    EXPECT_TRUE(Has(html, role)) << role;
  }
  EXPECT_TRUE(Has(html, "40,000.00 CNY"));
  EXPECT_TRUE(Has(html, "8,000.00 CNY"));
  EXPECT_TRUE(Has(html, "32,000.00 CNY"));
  EXPECT_TRUE(Has(html, "20.00 %"));
  EXPECT_TRUE(Has(html, "80.00 %"));
  EXPECT_TRUE(Has(html, "0.05 %"));                               // 5/10000 per day
  EXPECT_TRUE(Has(html, "\u2248 33.333333 % (1/3 per period)"));  // not exact at 6 decimals
  EXPECT_TRUE(Has(html, "0.075 %"));                              // {"num":75,"den":100000}
  EXPECT_TRUE(Has(html, "2024-02-15"));
  EXPECT_TRUE(Has(html, "2000-02-29"));
  EXPECT_TRUE(Has(html, "1969-12-31"));
  EXPECT_TRUE(Has(html, "2024-01-15T08:00:01.123Z"));
  for (const CaseRecord& r : d.records) {
    std::string dir = "records/00000" + std::to_string(r.seq);
    EXPECT_TRUE(Has(html, "href=\"" + dir + "/tx.txt\"")) << dir;
    EXPECT_TRUE(Has(html, "href=\"" + dir + "/receipt.txt\"")) << dir;
    EXPECT_TRUE(Has(html, r.type));
    for (const json& ev : r.events) EXPECT_TRUE(Has(html, ev["event"].get<std::string>()));
  }
  EXPECT_TRUE(Has(html, "rejected"));
  EXPECT_TRUE(Has(html, "late-funding"));
  EXPECT_TRUE(Has(html, "funding leg after the deadline"));
  EXPECT_TRUE(Has(html, "href=\"documents/" + kDocHash + "\""));
  EXPECT_TRUE(Has(html, "not included"));
  ExpectOnlyRendererMarkup(html);
}

// A *_fen / *-fen amount shown as CNY is labelled without the suffix; no fen label ever holds CNY.
TEST(CaseReportTest, LabelsConvertedAmountsWithoutFen) {
  CaseData d = SampleCase();
  d.loan["cum_interest_fen"] = 273'660;
  d.records[2].outputs.push_back({"lender.lead-bank.interest-fen", "31251"});
  d.records[2].fields.push_back({"memo-fen", "not a number"});  // not converted: label kept
  std::string html = RenderCaseHtml(d);
  EXPECT_TRUE(Has(html, "amount=40,000.00 CNY"));                      // amount-fen (tx field)
  EXPECT_TRUE(Has(html, "lead.amount=8,000.00 CNY"));                  // nested event key
  EXPECT_TRUE(Has(html, "cum_interest=2,736.60 CNY"));                 // loan "Other fields"
  EXPECT_TRUE(Has(html, "out.lender.lead-bank.interest=312.51 CNY"));  // receipt output
  EXPECT_TRUE(Has(html, "memo-fen=<span class=\"t\">not a number</span>"));
  static const std::regex kFenCny(R"([_-]fen=(<[^>]*>)*-?[0-9][0-9,]*\.[0-9]{2} CNY)");
  EXPECT_FALSE(std::regex_search(html, kFenCny));
}

// Rates that do not end within 6 decimals: ≈, rounded half up at 6 decimals (integers only), the
// exact fraction and its unit next to it; exact ones stay plain percentages.
TEST(CaseReportTest, RendersApproximateRatesWithTheExactFraction) {
  using case_format::RateText;
  EXPECT_EQ(RateText({6, 9125}, "per day"), "\u2248 0.065753 % (6/9125 per day)");
  EXPECT_EQ(RateText({5, 10000}, "per day"), "0.05 %");
  EXPECT_EQ(RateText({3, 200}), "1.5 %");
  EXPECT_EQ(RateText({2, 3}), "\u2248 66.666667 % (2/3)");                   // 66.6666666… up
  EXPECT_EQ(RateText({1, 200'000'000}), "\u2248 0.000001 % (1/200000000)");  // exactly half: up
  EXPECT_EQ(RateText({1, 200'000'001}), "\u2248 0.000000 % (1/200000001)");  // below half: down
  EXPECT_EQ(RateText({-1, 3}), "\u2248 -33.333333 % (-1/3)");
  EXPECT_EQ(RateText({1, 0}), "1/0");
  EXPECT_EQ(RateText({std::numeric_limits<std::int64_t>::max(), 7}, "per day"),
            "9223372036854775807/7 per day");
  CaseData d = SampleCase();
  d.loan["terms"]["overdue_daily_rate"] = {6, 9125};
  d.records[0].events[0]["overdue_daily_rate"] = "6/9125";  // as OVERDUE_STARTED carries it
  std::string html = RenderCaseHtml(d);
  EXPECT_TRUE(Has(html, "<th>Overdue daily rate</th><td>\u2248 0.065753 % (6/9125 per day)</td>"));
  EXPECT_TRUE(Has(html, "overdue_daily_rate=\u2248 0.065753 % (6/9125 per day)"));
  EXPECT_FALSE(Has(html, ">6/9125<"));
}

// The schedule row of `period`, from its first cell to its end.
std::string ScheduleRow(const std::string& html, int period) {
  std::size_t at = html.find("<h2>Schedule</h2>");
  at = html.find("<tr><td class=\"n\">" + std::to_string(period) + "</td>", at);
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</tr>", at) - at);
}

bool EndsWithCell(const std::string& row, const std::string& text) {
  const std::string cell = "<td class=\"nw\">" + text + "</td>";
  return row.size() >= cell.size() && row.compare(row.size() - cell.size(), cell.size(), cell) == 0;
}

// After an early settlement, the periods it closed before their due dates say so (the schedule
// alone looks as if they had been paid on those dates, interest 0.00); the others are derived
// from their own columns and the loan's OVERDUE_STARTED events; nothing is made up.
TEST(CaseReportTest, MarksInstallmentStatusAndEarlySettlement) {
  CaseData d = SampleCase();
  d.loan["status"] = "closed";
  d.loan["closed_day"] = 19828;
  d.loan["installment_columns"] = {"period",
                                   "due_day",
                                   "principal_fen",
                                   "interest_fen",
                                   "principal_paid_fen",
                                   "interest_paid_fen",
                                   "penalty_posted_fen",
                                   "penalty_paid_fen",
                                   "accrual_from_day",
                                   "reminder_day",
                                   "reported"};
  d.loan["installments"] = {{1, 19768, 1000, 60, 1000, 60, 0, 0, 0, 0, 0},
                            {2, 19797, 1000, 55, 1000, 55, 92, 92, 0, 19798, 1},
                            {3, 19828, 1000, 50, 1000, 50, 0, 0, 0, 0, 0},
                            {4, 19858, 1000, 12, 1000, 12, 0, 0, 0, 0, 0},
                            {5, 19889, 1000, 0, 1000, 0, 0, 0, 0, 0, 0}};
  d.records[2].events[2]["date"] = "2024-04-15";  // LOAN_SETTLED
  std::string html = RenderCaseHtml(d);
  EXPECT_TRUE(Has(html, "<th>Due date</th>"));
  EXPECT_TRUE(Has(html, "<th>Principal paid</th>"));
  EXPECT_TRUE(Has(html, "<th>Penalty posted</th>"));
  EXPECT_TRUE(Has(html, "<th>Status <span class=\"muted\">(derived)</span></th>"));
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 1), "paid")) << ScheduleRow(html, 1);
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 2), "paid (was overdue)")) << ScheduleRow(html, 2);
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 3), "paid")) << ScheduleRow(html, 3);  // due that day
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 4), "settled early on 2024-04-15"));
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 5), "settled early on 2024-04-15"));

  // Without a LOAN_SETTLED event, a closed loan's closed_day still tells what was paid early.
  d.records[2].events.pop_back();
  html = RenderCaseHtml(d);
  EXPECT_FALSE(Has(html, "settled early"));
  EXPECT_TRUE(
      EndsWithCell(ScheduleRow(html, 5), "paid before the due date (loan closed on 2024-04-15)"));

  // An active loan: overdue (penalty accruing or OVERDUE_STARTED), due by the newest business
  // date in the records, not yet due after it; part payments noted.
  d = SampleCase();
  d.loan["installment_columns"] = {"period",
                                   "due_day",
                                   "principal_fen",
                                   "interest_fen",
                                   "principal_paid_fen",
                                   "interest_paid_fen",
                                   "accrual_from_day"};
  d.loan["installments"] = {{1, 19700, 1000, 60, 1000, 60, 0},
                            {2, 19730, 1000, 60, 0, 0, 19731},  // penalty accruing
                            {3, 19737, 1000, 60, 0, 30, 0},     // due 2024-01-15: today
                            {4, 19768, 1000, 60, 0, 0, 0}};
  d.records[2].events.pop_back();  // no settlement
  d.records[2].events.push_back(Event("OVERDUE_STARTED", "R-POST-02", {{"period", 1}}));
  html = RenderCaseHtml(d);
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 1), "paid (was overdue)"));
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 2), "overdue"));
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 3), "due (part paid)"));
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 4), "not yet due"));

  // Columns that do not say what was paid: the status is left blank, never guessed.
  html = RenderCaseHtml(SampleCase());
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 1), ""));
  EXPECT_TRUE(EndsWithCell(ScheduleRow(html, 2), ""));
  EXPECT_FALSE(Has(html, "settled early"));
}

// Layout: only hash values may break anywhere; types, rules and timestamps never break; members
// are shown as id and name without their role; text columns are left-aligned.
TEST(CaseReportTest, BreaksOnlyHashesAndShowsMembersOnce) {
  CaseData d = SampleCase();
  d.records[0].fields.push_back({"approval-sha256", std::string(64, 'e')});
  std::string html = RenderCaseHtml(d);
  std::size_t first = html.find("word-break");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(html.find("word-break", first + 1), std::string::npos);
  EXPECT_TRUE(Has(html, ".h{white-space:normal;word-break:break-all}"));
  EXPECT_TRUE(Has(html, "approval-sha256=<code class=\"h\">" + std::string(64, 'e') + "</code>"));
  EXPECT_TRUE(Has(html, "<code class=\"h\">" + kBorrower + "</code>"));
  EXPECT_TRUE(Has(html, "<code class=\"nw\">loan.drawdown</code>"));
  EXPECT_TRUE(Has(html, "<span class=\"nw\">rule R-IN-03</span>"));
  EXPECT_TRUE(Has(html, "<span class=\"nw\">2024-01-15T08:00:01.123Z</span>"));
  EXPECT_TRUE(Has(html, "<td class=\"nw\">2024-01-15</td>"));
  EXPECT_TRUE(Has(html, "<span class=\"msg\">funding leg after the deadline</span>"));
  EXPECT_TRUE(Has(html, "<th>Exported at</th>"));
  EXPECT_TRUE(Has(html,
                  "<code class=\"nw\">lead-bank</code> <span class=\"muted\">Lead Bank "
                  "Co.</span></td><td>Lead bank</td>"));
  EXPECT_TRUE(Has(html, "<td>normal</td>"));  // classification: text, left-aligned
  for (const CaseMember& m : d.members) {
    EXPECT_FALSE(Has(html, m.name + ", ")) << m.name;  // no "Name, Role" after an id
  }
}

TEST(CaseReportTest, EscapesHostileText) {
  CaseData d = SampleCase();
  d.loan_id = "<script>alert(1)</script>";
  d.members[0].name = "Bank\"><img src=x onerror=alert(1)>";
  d.records[0].fields.push_back({"note", "<script>alert('x')</script>"});
  d.records[0].fields.push_back({"link", "javascript:alert(1)"});
  d.records[1].message = "it's <b>bold</b> & \"quoted\"";
  d.records[2].events.push_back(Event("<script>EVIL</script>", "R-X", {{"k<>", "v'\""}}));
  d.documents.push_back({"javascript:alert(1)", "<other>", 1, 2, true});  // not a hash: no link
  d.documents.push_back({std::string(64, 'A'), "other", 1, 2, true});     // uppercase: no link
  std::string html = RenderCaseHtml(d);
  EXPECT_TRUE(Has(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_TRUE(Has(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_TRUE(Has(html, "Bank&quot;&gt;&lt;img"));
  EXPECT_TRUE(Has(html, "it&#39;s &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"));
  EXPECT_TRUE(Has(html, "&lt;script&gt;EVIL&lt;/script&gt;"));
  EXPECT_TRUE(Has(html, "k&lt;&gt;=v&#39;&quot;"));
  EXPECT_FALSE(Has(html, "<img"));
  EXPECT_FALSE(Has(html, "<b>bold"));
  EXPECT_FALSE(Has(html, "href=\"documents/" + std::string(64, 'A')));
  // "javascript:alert(1)" as field text is harmless; as an href it must never appear.
  EXPECT_FALSE(Has(Lower(html), "href=\"javascript"));
  ExpectOnlyRendererMarkup(html);
}

}  // namespace
}  // namespace colend::evidence
