// Civil dates: days since 1970-01-01 (the business date, Asia/Shanghai), parsing and formatting
// YYYY-MM-DD and due dates a number of months on, clamped to the month's end
// (docs/lending-rules.md §2.6).
#include <algorithm>
#include <cassert>
#include <string>

#include "contracts/lending/money.h"

namespace colend::contracts {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
std::int64_t DaysFromCivil(int year, int month, int day) {
  std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2 ? 1 : 0);
  std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  std::int64_t yoe = y - era * 400;                                             // [0, 399]
  std::int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;  // [0, 365]
  std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                     // [0, 146096]
  return era * 146097 + doe - 719468;
}

void CivilFromDays(std::int64_t days, int* year, int* month, int* day) {
  days += 719468;
  std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  std::int64_t doe = days - era * 146097;                                    // [0, 146096]
  std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  std::int64_t y = yoe + era * 400;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  std::int64_t mp = (5 * doy + 2) / 153;                       // [0, 11]
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(y + (*month <= 2 ? 1 : 0));
}

namespace {

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

}  // namespace

Result<std::int64_t> ParseDate(std::string_view text) {
  auto invalid = [&] {
    return MakeError("invalid-date",
                     "'" + std::string(text) + "' is not a calendar date YYYY-MM-DD");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return invalid();
  auto number = [&](std::size_t from, std::size_t count, int* out) {
    *out = 0;
    for (std::size_t i = from; i < from + count; ++i) {
      if (!IsDigit(text[i])) return false;
      *out = *out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0, day = 0;
  if (!number(0, 4, &year) || !number(5, 2, &month) || !number(8, 2, &day)) return invalid();
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return invalid();
  return DaysFromCivil(year, month, day);
}

std::string FormatDate(std::int64_t days) {
  int year = 0, month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  assert(year >= 0 && year <= 9999);
  char buf[11];
  buf[0] = static_cast<char>('0' + year / 1000);
  buf[1] = static_cast<char>('0' + year / 100 % 10);
  buf[2] = static_cast<char>('0' + year / 10 % 10);
  buf[3] = static_cast<char>('0' + year % 10);
  buf[4] = '-';
  buf[5] = static_cast<char>('0' + month / 10);
  buf[6] = static_cast<char>('0' + month % 10);
  buf[7] = '-';
  buf[8] = static_cast<char>('0' + day / 10);
  buf[9] = static_cast<char>('0' + day % 10);
  buf[10] = '\0';
  return buf;
}

std::int64_t AddMonthsClamped(std::int64_t value_day, int months) {
  int year = 0, month = 0, day = 0;
  CivilFromDays(value_day, &year, &month, &day);
  std::int64_t index = static_cast<std::int64_t>(year) * 12 + (month - 1) + months;
  std::int64_t new_year = index >= 0 ? index / 12 : (index - 11) / 12;
  int new_month = static_cast<int>(index - new_year * 12) + 1;
  int last = DaysInMonth(static_cast<int>(new_year), new_month);
  return DaysFromCivil(static_cast<int>(new_year), new_month, std::min(day, last));
}

}  // namespace colend::contracts
