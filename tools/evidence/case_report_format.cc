// Text formatting for report/case.html: escaping, money, rates, dates; integer arithmetic only.
#include "tools/evidence/case_report_format.h"

#include <charconv>
#include <cstdio>

namespace colend::evidence::case_format {

using json = nlohmann::json;

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

bool IsHashLike(std::string_view s) {
  if (s.size() < 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

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

// Howard Hinnant's civil_from_days.
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

// Howard Hinnant's days_from_civil, for 4-digit years.
std::optional<std::int64_t> DayOf(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = ParseInt(s.substr(0, 4)), m = ParseInt(s.substr(5, 2)), d = ParseInt(s.substr(8, 2));
  if (!y || !m || !d || *y < 0 || *m < 1 || *m > 12 || *d < 1) return std::nullopt;
  constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = *y % 4 == 0 && (*y % 100 != 0 || *y % 400 == 0);
  if (*d > kDays[*m - 1] || (*m == 2 && *d == 29 && !leap)) return std::nullopt;
  const std::int64_t yy = *y - (*m <= 2 ? 1 : 0);
  const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const std::int64_t yoe = yy - era * 400;
  const std::int64_t doy = (153 * (*m > 2 ? *m - 3 : *m + 9) + 2) / 5 + *d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

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

std::optional<Rate> RateOf(const json& v) {
  auto both = [](const json& n, const json& d) -> std::optional<Rate> {
    if (!n.is_number_integer() || !d.is_number_integer()) return std::nullopt;
    if (n.is_number_unsigned() || d.is_number_unsigned()) {
      constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
      if ((n.is_number_unsigned() && n.get<std::uint64_t>() > kMax) ||
          (d.is_number_unsigned() && d.get<std::uint64_t>() > kMax)) {
        return std::nullopt;
      }
    }
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

std::string RateText(Rate r, std::string_view per) {
  auto [num, den] = r;
  std::string frac = std::to_string(num) + "/" + std::to_string(den);
  if (!per.empty()) frac += " " + std::string(per);
  constexpr std::int64_t kMaxNum = 10'000'000'000LL;  // keeps num × 10^8 inside int64
  if (den <= 0 || num > kMaxNum || num < -kMaxNum) return frac;
  std::int64_t scaled = (num < 0 ? -num : num) * 100'000'000;  // percent × 10^6
  std::int64_t q = scaled / den, rem = scaled % den;
  if (rem != 0 && rem >= den - rem) ++q;  // half up (of the magnitude), without overflow
  std::string dec = std::to_string(1'000'000 + q % 1'000'000).substr(1);
  if (rem == 0) {
    while (!dec.empty() && dec.back() == '0') dec.pop_back();
  }
  std::string pct =
      (num < 0 ? "-" : "") + std::to_string(q / 1'000'000) + (dec.empty() ? "" : "." + dec) + " %";
  return rem == 0 ? pct : "\u2248 " + pct + " (" + frac + ")";
}

}  // namespace colend::evidence::case_format
