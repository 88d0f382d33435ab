// Text formatting for report/case.html (tools/evidence/case_report.cc): HTML escaping, money,
// rates, civil dates and times. Integer arithmetic only (no floating point anywhere).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace colend::evidence::case_format {

using Rate = std::pair<std::int64_t, std::int64_t>;  // num / den

// HTML-escapes & < > " ' and replaces control characters (other than \n and \t) with U+FFFD.
std::string Esc(std::string_view s);

bool EndsWith(std::string_view s, std::string_view suffix);

// Exactly 64 lowercase hex digits (a SHA-256 as the chain writes it; safe inside an href).
bool IsHex64(std::string_view s);

// A hash-like token: at least 32 hex digits, nothing else (shown with line breaks allowed).
bool IsHashLike(std::string_view s);

std::optional<std::int64_t> ParseInt(std::string_view s);

// "40,000.00" for 4000000 (fen, or basis points as a percentage); every int64 value.
std::string Hundredths(std::int64_t v);

// Days since 1970-01-01 -> "YYYY-MM-DD".
std::string Day(std::int64_t days);

// "YYYY-MM-DD" -> days since 1970-01-01 (a valid civil date only), else nullopt.
std::optional<std::int64_t> DayOf(std::string_view date);

// Milliseconds since the epoch -> "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string IsoMs(std::int64_t ms);

// A rate as [num, den], {"num":..,"den":..} or "num/den".
std::optional<Rate> RateOf(const nlohmann::json& v);

// num/den as a percentage: exact if it ends within 6 decimals ("5/10000" -> "0.05 %"), else
// rounded half up at 6 decimals, marked with ≈ and followed by the exact fraction and `per`
// ("6/9125", "per day" -> "≈ 0.065753 % (6/9125 per day)"). Plain text, not yet escaped.
std::string RateText(Rate r, std::string_view per = "");

}  // namespace colend::evidence::case_format
