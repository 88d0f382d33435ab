// `colend loan schedule`: the repayment schedule of a loan, computed offline with the same code
// the contracts use (contracts/lending/money.h), so a lender or borrower can check a plan before drawdown.
#include <iostream>
#include <set>

#include "contracts/lending/money.h"
#include "tools/cli.h"

namespace colend::cli {
namespace {

using json = nlohmann::json;
namespace money = colend::contracts;

int Usage(const Args& args, const std::string& message) {
  std::cerr << "colend: " << message << "\n" << args.usage;
  return 2;
}

Result<int> ParsePeriods(const std::string& text) {
  int periods = 0;
  bool digits = !text.empty() && text.size() <= 3;
  for (char c : text) {
    if (c < '0' || c > '9') digits = false;
  }
  if (digits) periods = std::stoi(text);
  if (!digits || periods < 1 || periods > money::kSchedulePeriodsMax) {
    return MakeError("invalid-periods", "--periods must be an integer 1.." +
                                            std::to_string(money::kSchedulePeriodsMax) + ", not '" + text + "'");
  }
  return periods;
}

// "20/80" -> {2000, 8000} basis points.
Result<std::pair<int, int>> ParseSplit(const std::string& text) {
  auto invalid = [&] {
    return MakeError("invalid-split",
                     "--split must be LEAD/PARTNER in percent, two positive integers summing to "
                     "100 (20/80), not '" +
                         text + "'");
  };
  auto slash = text.find('/');
  if (slash == std::string::npos) return invalid();
  auto percent = [](const std::string& part) {
    if (part.empty() || part.size() > 3) return -1;
    for (char c : part) {
      if (c < '0' || c > '9') return -1;
    }
    return std::stoi(part);
  };
  int lead = percent(text.substr(0, slash));
  int partner = percent(text.substr(slash + 1));
  if (lead <= 0 || partner <= 0 || lead + partner != 100) return invalid();
  return std::make_pair(lead * 100, partner * 100);
}

std::string PadLeft(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

struct Totals {
  std::int64_t payment = 0, principal = 0, interest = 0;
  std::int64_t lead_principal = 0, partner_principal = 0, lead_interest = 0, partner_interest = 0;
};

Totals Sum(const std::vector<money::Installment>& rows) {
  Totals t;
  for (const auto& row : rows) {
    t.payment += row.payment_fen;
    t.principal += row.principal_fen;
    t.interest += row.interest_fen;
    t.lead_principal += row.lead_principal_fen;
    t.partner_principal += row.partner_principal_fen;
    t.lead_interest += row.lead_interest_fen;
    t.partner_interest += row.partner_interest_fen;
  }
  return t;
}

json ToJson(const money::ScheduleInput& input, const std::vector<money::Installment>& rows) {
  json installments = json::array();
  for (const auto& row : rows) {
    json item = {{"period", row.period}};
    if (input.has_value_day) item["due_date"] = money::FormatDate(row.due_day);
    item["days"] = row.days;
    item["payment_fen"] = row.payment_fen;
    item["principal_fen"] = row.principal_fen;
    item["interest_fen"] = row.interest_fen;
    item["balance_fen"] = row.balance_fen;
    item["lead_principal_fen"] = row.lead_principal_fen;
    item["partner_principal_fen"] = row.partner_principal_fen;
    item["lead_interest_fen"] = row.lead_interest_fen;
    item["partner_interest_fen"] = row.partner_interest_fen;
    installments.push_back(item);
  }
  Totals t = Sum(rows);
  return json{
      {"principal_fen", input.principal_fen},
      {"periods", input.periods},
      {"method", std::string(money::MethodName(input.method))},
      {"period_rate", money::RationalText(input.period_rate)},
      {"daily_rate", money::RationalText(input.daily_rate)},
      {"split", {{"lead_bps", input.lead_share_bps}, {"partner_bps", input.partner_share_bps}}},
      {"installments", installments},
      {"totals",
       {{"payment_fen", t.payment},
        {"principal_fen", t.principal},
        {"interest_fen", t.interest},
        {"lead_principal_fen", t.lead_principal},
        {"partner_principal_fen", t.partner_principal},
        {"lead_interest_fen", t.lead_interest},
        {"partner_interest_fen", t.partner_interest}}},
      {"schedule_sha256", money::ScheduleSha256(rows)}};
}

std::string ToText(const money::ScheduleInput& input, const std::string& rate_text,
                   const std::vector<money::Installment>& rows) {
  std::string text = "principal  " + money::FormatCny(input.principal_fen) + " CNY over " +
                     std::to_string(input.periods) + " periods, " +
                     std::string(money::MethodName(input.method)) + "\n";
  text += "rate       " + rate_text + " (period rate " + money::RationalText(input.period_rate) +
          ", daily rate " + money::RationalText(input.daily_rate) + ")\n";
  text += "split      lead " + std::to_string(input.lead_share_bps / 100) + "% / partner " +
          std::to_string(input.partner_share_bps / 100) + "%\n\n";
  const bool dated = input.has_value_day;
  auto line = [&](const std::vector<std::string>& cells) {
    static constexpr std::size_t kWidths[] = {6, 11, 5, 14, 14, 12, 14, 13, 11, 13, 11};
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i == 1 && !dated) continue;
      out += PadLeft(cells[i], kWidths[i]) + (i + 1 < cells.size() ? " " : "");
    }
    return out + "\n";
  };
  text += line({"period", "due date", "days", "payment", "principal", "interest", "balance",
                "lead P", "lead I", "partner P", "partner I"});
  for (const auto& row : rows) {
    text +=
        line({std::to_string(row.period), dated ? money::FormatDate(row.due_day) : "",
              std::to_string(row.days), money::FormatCny(row.payment_fen),
              money::FormatCny(row.principal_fen), money::FormatCny(row.interest_fen),
              money::FormatCny(row.balance_fen), money::FormatCny(row.lead_principal_fen),
              money::FormatCny(row.lead_interest_fen), money::FormatCny(row.partner_principal_fen),
              money::FormatCny(row.partner_interest_fen)});
  }
  Totals t = Sum(rows);
  text += line({"total", "", "", money::FormatCny(t.payment), money::FormatCny(t.principal),
                money::FormatCny(t.interest), "", money::FormatCny(t.lead_principal),
                money::FormatCny(t.lead_interest), money::FormatCny(t.partner_principal),
                money::FormatCny(t.partner_interest)});
  text += "\nschedule sha256 " + money::ScheduleSha256(rows) + "\n";
  return text;
}

}  // namespace

int RunLoanSchedule(const Args& args) {
  // Unknown options, stray words and missing --principal/--periods are refused by the parser
  // (tools/cli_spec.cc).
  if (args.Has("daily-rate") == args.Has("annual-rate")) {
    return Usage(args, "give exactly one of --daily-rate and --annual-rate");
  }

  money::ScheduleInput input;
  auto principal = money::ParseCny(args.Get("principal"));
  if (!principal.ok()) return Fail("--principal: " + principal.error().message);
  if (*principal == 0) return Fail("--principal must be more than 0");
  input.principal_fen = *principal;
  auto periods = ParsePeriods(args.Get("periods"));
  if (!periods.ok()) return Fail(periods.error());
  input.periods = *periods;
  auto method = money::ParseMethod(args.Get("method", "equal-installment"));
  if (!method.ok()) return Fail("--method: " + method.error().message);
  input.method = *method;

  std::string rate_text;
  if (args.Has("daily-rate")) {
    auto daily = money::ParsePercent(args.Get("daily-rate"));
    if (!daily.ok()) return Fail("--daily-rate: " + daily.error().message);
    input.daily_rate = *daily;
    input.period_rate = daily->Times(30);
    rate_text = args.Get("daily-rate") + " a day";
  } else {
    auto annual = money::ParsePercent(args.Get("annual-rate"));
    if (!annual.ok()) return Fail("--annual-rate: " + annual.error().message);
    input.period_rate = annual->Over(12);
    input.daily_rate = annual->Over(360);
    rate_text = args.Get("annual-rate") + " a year";
  }

  // Checked here too (BuildSchedule rejects it as well) to name the option the user gave.
  const money::Rational& used =
      input.method == money::Method::kEqualInstallment ? input.period_rate : input.daily_rate;
  if (money::LessThan(money::Rational{1, 1}, used)) {
    return Fail(std::string(args.Has("daily-rate") ? "--daily-rate " : "--annual-rate ") +
                rate_text + " gives a " +
                (input.method == money::Method::kEqualInstallment ? "period" : "daily") +
                " rate of " + money::RationalText(used) + ", above 100 %");
  }

  auto split = ParseSplit(args.Get("split", "20/80"));
  if (!split.ok()) return Fail(split.error());
  input.lead_share_bps = split->first;
  input.partner_share_bps = split->second;

  if (args.Has("start")) {
    auto start = money::ParseDate(args.Get("start"));
    if (!start.ok()) return Fail("--start: " + start.error().message);
    input.has_value_day = true;
    input.value_day = *start;
  }

  auto rows = money::BuildSchedule(input);
  if (!rows.ok()) return Fail(rows.error());
  Print(args, ToJson(input, *rows), ToText(input, rate_text, *rows));
  return 0;
}

}  // namespace colend::cli
